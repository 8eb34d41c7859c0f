/**
 * Every failure of the seed guide, provoked for real over HTTP, then read back the way an operator reads it: the
 * explanation on the Activity page (and the CLI's API on the same data folder) and the diagnose report.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { connect } from '../../src/cli/admin-api';
import { DiagnoseReport, Finding, diagnose } from '../../src/ops/diagnose';
import { ActivityEntry, activity } from '../../src/ops/admin-service';
import { s256 } from '../../src/oauth/pkce';
import { ALEXA_REDIRECT, CLIENT_SECRET, testOptions } from '../helpers/test-server';
import {
  TokenBody,
  alexaAuthorize,
  attemptLogin,
  authorizeUrl,
  basicAuth,
  exchangeCode,
  issueCode,
  linkAccount,
  linkPublic,
  pkcePair,
  rawTokenRequest,
  refresh,
  refreshPublic,
  tokenRequest,
} from '../helpers/alexa-client';
import { AdminServer, rawRequest, startWithAdmin } from './admin-helpers';

const PITANGUI = 'https://pitangui.amazon.com/api/skill/link/M2TESTVENDOR';
let server: AdminServer;
let offset = 0;

beforeAll(async () => {
  server = await startWithAdmin({ now: () => Date.now() + offset });
});
afterAll(async () => server?.stop());

/** The CLI's API on the server's data folder, as `oauth-admin` uses it while the server runs. */
async function withCli<T>(s: AdminServer, use: (api: Awaited<ReturnType<typeof connect>>) => Promise<T>): Promise<T> {
  await s.deps.trace.flush(); // the server appends to the trace in the background; the CLI reads the file
  const api = await connect(s.dataDir, {});
  try {
    return await use(api);
  } finally {
    await api.close();
  }
}

/** What the admin page's Activity shows: the running server's own view. */
async function failures(s: AdminServer = server): Promise<ActivityEntry[]> {
  return activity(s.admin.context, { failuresOnly: true, limit: 200 });
}

/** The newest recorded failure of this kind, with its explanation. */
async function explained(
  kind: string,
  s: AdminServer = server,
): Promise<ActivityEntry & { explanation: NonNullable<ActivityEntry['explanation']> }> {
  const entry = (await failures(s)).find((e) => e.kind === kind);
  if (!entry?.explanation)
    throw new Error(`no explained ${kind} failure in:\n${JSON.stringify(await failures(s), null, 1).slice(0, 3000)}`);
  return entry as ActivityEntry & { explanation: NonNullable<ActivityEntry['explanation']> };
}

/** The diagnose report as the admin page builds it inside the server (which knows its clock baseline and listeners). */
async function diagnoseReport(s: AdminServer = server): Promise<DiagnoseReport> {
  return diagnose(s.admin.context, { serverRunning: true });
}

const finding = (report: DiagnoseReport, area: string, title: RegExp): Finding | undefined =>
  report.findings.find((f) => f.area === area && title.test(f.title));

describe('redirect_uri mismatch', () => {
  it('at authorize: names the URI Alexa asked for, the closest registered one, the difference and the fix', async () => {
    const asked = 'https://layla.amazon.com/api/skill/link/M2OTHER';
    expect((await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: asked }))}`)).status).toBe(400);
    const { explanation: x, step } = await explained('redirect_uri_mismatch');
    expect(step).toBe('authorize');
    expect(x.problem).toBe(
      `Alexa asked for ${asked}, which is not a registered redirect URI of amazon-alexa. The closest registered one is ${ALEXA_REDIRECT} (the vendor id differs: M2OTHER instead of M2TESTVENDOR).`,
    );
    expect(x.fix).toMatch(/^Add it under Configuration → clients → redirect_uris\./);
  });

  it('at authorize, another host: says which host differs', async () => {
    const asked = 'https://layla.amazon.com.example.net/api/skill/link/M2TESTVENDOR';
    await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: asked }))}`);
    const { explanation: x } = await explained('redirect_uri_mismatch');
    expect(x.problem).toContain(`Alexa asked for ${asked}`);
    expect(x.problem).toContain('(the host differs: layla.amazon.com.example.net instead of layla.amazon.com)');
  });

  it('at the token endpoint: names both URIs', async () => {
    const { code, verifier } = await issueCode(server.url);
    const res = await exchangeCode(server.url, code, verifier, { redirect_uri: PITANGUI });
    expect(res.status).toBe(400);
    const { explanation: x, step } = await explained('redirect_uri_mismatch');
    expect(step).toBe('token');
    expect(x.problem).toBe(
      `Alexa exchanged a code with redirect_uri ${PITANGUI}, but linking was started with ${ALEXA_REDIRECT}. Both must be identical, byte for byte.`,
    );
    expect(x.fix).toContain('reverse proxy');
  });
});

it('PKCE mismatch: the stored challenge next to S256 of the verifier received', async () => {
  const { code, verifier } = await issueCode(server.url);
  const wrong = pkcePair().verifier;
  expect((await exchangeCode(server.url, code, wrong)).status).toBe(400);
  const { explanation: x } = await explained('pkce_mismatch');
  expect(x.title).toBe('PKCE verification failed');
  expect(x.problem).toBe(
    `The code_verifier does not belong to this code: the code_challenge stored when linking started is ${s256(verifier!)}, but S256 of the verifier sent now is ${s256(wrong)}.`,
  );
  expect(x.fix).toContain('a proxy rewriting it');
  expect(x.fix).not.toContain('oauth-admin'); // the operator has no shell in the add-on
  expect(JSON.stringify(await failures())).not.toContain(wrong); // the verifier itself is never shown
});

describe('expired code', () => {
  afterEach(() => {
    offset = 0;
  });

  it('gives its age and the configured lifetime', async () => {
    const { code, verifier } = await issueCode(server.url);
    offset = 301_000;
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(400);
    const { explanation: x } = await explained('code_expired');
    expect(x.problem).toBe(
      "The code was redeemed 301 s after it was issued, but codes live 300 s (auth_code_lifetime). The code is made when Approve is pressed and Alexa redeems it within seconds, so the time was not the user's: this machine's clock moved between the two steps, or Alexa's token request reached the add-on late.",
    );
    // Never the user's slowness, and no command the operator cannot run in the add-on.
    expect(x.fix).toContain("the admin page's checks");
    expect(x.fix).toContain('reverse proxy');
    expect(`${x.problem} ${x.fix}`).not.toMatch(/took too long|oauth-admin/);
  });

  it('an age no person takes points at the clock, and diagnose reports the jump', async () => {
    const { code, verifier } = await issueCode(server.url);
    offset = 6 * 3600_000; // the wall clock jumps six hours between approval and redemption
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(400);
    const { explanation: x } = await explained('code_expired');
    expect(x.problem).toContain('The code was redeemed 21600 s after it was issued, but codes live 300 s');
    expect(x.problem).toContain("this machine's clock almost certainly jumped");
    expect(x.fix).not.toContain('oauth-admin');
    const jump = finding(await diagnoseReport(), 'clock', /jumped/);
    expect(jump).toMatchObject({ level: 'warn', title: 'The wall clock jumped forward 21600 s since the server started' });
    expect(jump!.fix).toContain('NTP');
  });
});

describe('client identification and authentication', () => {
  it('unknown client at the token endpoint: the id received and the ones configured', async () => {
    expect((await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'Amazon-Alexa')).status).toBe(401);
    const { explanation: x } = await explained('unknown_client');
    expect(x.problem).toBe(
      'The token request came with client ID "Amazon-Alexa", which is not configured here (configured: amazon-alexa, public-app). Client IDs are case-sensitive.',
    );
    expect(x.fix).toContain('"Your Client ID"');
  });

  it('unknown client at authorize', async () => {
    await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ client_id: 'alexa' }))}`);
    const { explanation: x, step } = await explained('unknown_client');
    expect(step).toBe('authorize');
    expect(x.problem).toContain('Linking was started with client ID "alexa"');
  });

  it.each([
    ['basic', 'HTTP Basic'],
    ['body', 'credentials in request body'],
  ] as const)('wrong secret sent by %s: fingerprints of both and the scheme', async (style, words) => {
    expect(
      (await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, style, 'amazon-alexa', 'wrong-secret-123'))
        .status,
    ).toBe(401);
    const { explanation: x } = await explained('client_secret_mismatch');
    expect(x.problem).toMatch(new RegExp(`received #[0-9a-f]{8}, configured #[0-9a-f]{8}, sent by ${words};`));
    expect(x.fix).toContain('"Your Secret"');
    expect(JSON.stringify(x)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(x)).not.toContain('wrong-secret-123');
  });

  it('no secret from a confidential client', async () => {
    expect((await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'none')).status).toBe(401);
    const { explanation: x } = await explained('client_secret_missing');
    expect(x.problem).toBe('Alexa sent only the client ID, no secret, but amazon-alexa is a confidential client.');
  });

  it("a secret sent to a public client (the old guide's client_type advice)", async () => {
    expect(
      (await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'public-app', 'some-secret')).status,
    ).toBe(401);
    const { explanation: x } = await explained('public_client_secret');
    expect(x.problem).toContain('public-app is configured as a public client');
    expect(x.fix).toContain('set clients → client_type to confidential');
  });

  it('a wrong authentication scheme (Bearer instead of Basic)', async () => {
    const res = await rawTokenRequest(server.url, 'grant_type=refresh_token&refresh_token=x', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: 'Bearer abc.def',
    });
    expect(res.status).toBe(401);
    const { explanation: x } = await explained('client_auth_malformed');
    expect(x.problem).toContain('is not HTTP Basic');
    expect(x.fix).toContain('Authentication Scheme');
  });

  it('two authentication schemes at once', async () => {
    const res = await rawTokenRequest(server.url, `grant_type=refresh_token&refresh_token=x&client_secret=${CLIENT_SECRET}`, {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basicAuth('amazon-alexa', CLIENT_SECRET),
    });
    expect(res.status).toBe(400);
    const { explanation: x } = await explained('client_auth_multiple');
    expect(x.fix).toContain('Pick one Authentication Scheme');
  });
});

it('code replay: the link it created is revoked, and the explanation names it', async () => {
  const { code, verifier } = await issueCode(server.url);
  expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
  expect((await exchangeCode(server.url, code, verifier)).status).toBe(400);
  const entry = await explained('code_replay');
  expect(entry.outcome).toBe('security');
  expect(entry.explanation.severity).toBe('security');
  expect(entry.explanation.problem).toMatch(
    /^An authorization code was presented again \d+ s after it had been redeemed\. A code works once; as a precaution the link it created \(grant [\w-]{22}\) and all its tokens were revoked\.$/,
  );
});

it('refresh-token reuse by a public client: the link is revoked, and the explanation names the grant and the user', async () => {
  const publicRefresh = (token: string) => refreshPublic(server.url, token);
  const linked = await linkPublic(server.url);
  const first = (await (await publicRefresh(linked.refresh_token)).json()) as TokenBody;
  expect((await publicRefresh(first.refresh_token)).status).toBe(200); // first was rotated: linked is two generations back
  expect((await publicRefresh(linked.refresh_token)).status).toBe(400);
  const entry = await explained('refresh_reuse');
  expect(entry.outcome).toBe('security');
  expect(entry.explanation.problem).toMatch(/\(grant [\w-]{22} of owner\)/);
  expect(entry.explanation.title).toBe('Refresh token reused: link revoked');
});

it("a revoked link's token: what Alexa was told and why", async () => {
  const linked = await linkAccount(server.url);
  await withCli(server, async (api) => {
    const grants = await api.grants(false);
    await api.revoke([grants[0]!.id]);
  });
  expect((await refresh(server.url, linked.refresh_token)).status).toBe(400);
  const { explanation: x } = await explained('grant_revoked');
  expect(x.problem).toMatch(/\(revoked by (\S+ via )?oauth-admin\)/);
});

it('a wrong login password', async () => {
  const res = await attemptLogin(server.url, { username: 'owner', password: 'not the password' });
  expect(res.status).toBe(401);
  const { explanation: x } = await explained('login_failed');
  expect(x.problem).toBe('Someone tried to log in as "owner" with a wrong password while linking.');
});

it('rate limiting: who is limited, for how long, and what to fix first', async () => {
  const limited = await startWithAdmin({ rateLimits: { tokenFailuresPerIp: 3, tokenFailuresPerClient: 1000 } });
  try {
    let last = 0;
    for (let i = 0; i < 6 && last !== 429; i++) {
      last = (await tokenRequest(limited.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'amazon-alexa', 'wrong-secret'))
        .status;
    }
    expect(last).toBe(429);
    const entry = await explained('rate_limited', limited);
    expect(entry.outcome).toBe('security');
    expect(entry.explanation.problem).toMatch(
      /^Too many failed token requests from 127\.0\.0\.1: its failing requests are answered 429 \(too many requests\) for \d+ s; requests with valid credentials still succeed\.$/,
    );
    expect(entry.explanation.fix).toContain('trusted_proxies');
    // the failures that led to it are explained too, and diagnose counts them
    expect((await failures(limited)).filter((e) => e.kind === 'client_secret_mismatch').length).toBeGreaterThanOrEqual(3);
    expect(finding(await diagnoseReport(limited), 'recent failures', /^Rate limited: 1× \(rate_limited\)/)).toMatchObject({
      level: 'error',
    });
  } finally {
    await limited.stop();
  }
});

it('the Activity page shows every explained failure above, in plain words with its fix', async () => {
  const all = await failures();
  const page = await rawRequest(`${server.adminUrl}/activity?failures=1`, { localAddress: '127.0.0.2' });
  expect(page.status).toBe(200);
  const decoded = page.body
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
  const kinds = new Set(all.map((e) => e.kind));
  for (const k of [
    'redirect_uri_mismatch',
    'pkce_mismatch',
    'code_expired',
    'unknown_client',
    'client_secret_mismatch',
    'client_secret_missing',
    'public_client_secret',
    'client_auth_malformed',
    'code_replay',
    'refresh_reuse',
    'login_failed',
  ]) {
    expect({ k, recorded: kinds.has(k) }).toEqual({ k, recorded: true });
    const x = all.find((e) => e.kind === k)!.explanation!;
    expect({ k, title: decoded.includes(x.title), problem: decoded.includes(x.problem), fix: decoded.includes(x.fix) }).toEqual({
      k,
      title: true,
      problem: true,
      fix: true,
    });
  }
});

describe('the diagnose report', () => {
  it('on a healthy server: configuration, public URL, store integrity, listeners and clock pass; recent failures are listed with fixes', async () => {
    const report = await diagnoseReport();
    expect(finding(report, 'configuration', /^options\.json is valid: 2 client\(s\)/)).toMatchObject({ level: 'ok' });
    expect(finding(report, 'store', /^Database readable and writable/)).toMatchObject({ level: 'ok' });
    expect(finding(report, 'store', /^Database integrity check passed$/)).toMatchObject({ level: 'ok' });
    expect(finding(report, 'listeners', /^OAuth endpoints listening on http:\/\/127\.0\.0\.1:\d+$/)).toMatchObject({ level: 'ok' });
    expect(finding(report, 'listeners', /^Admin page listening on/)).toMatchObject({
      level: 'ok',
      detail: 'Connections accepted only from 127.0.0.2.',
    });
    expect(finding(report, 'public URL', /^public_url is not set$/)).toMatchObject({ level: 'warn' });
    const pkce = finding(report, 'recent failures', /^PKCE verification failed: \d+× \(pkce_mismatch\)/);
    expect(pkce).toMatchObject({ level: 'warn' });
    expect(pkce!.fix).toContain('a proxy rewriting it');
    expect(finding(report, 'recent failures', /\(refresh_reuse\)/)).toMatchObject({ level: 'error' });
    expect(report.ok).toBe(false);
  });

  it('configuration mistakes of the seed guide: placeholder vendor ids, a public Alexa client, a missing region', async () => {
    const options = testOptions({ public_url: 'http://homeassistant.local:8123' });
    const clients = options.clients as Array<Record<string, unknown>>;
    clients[0] = {
      ...clients[0],
      redirect_uris: [
        'https://pitangui.amazon.com/api/skill/link/M2XXXXXXXXXXXX',
        'https://layla.amazon.com/api/skill/link/M2XXXXXXXXXXXX',
      ],
    };
    clients[1] = { client_id: 'alexa-public', client_type: 'public', redirect_uris: [ALEXA_REDIRECT], scopes: ['music.read'] };
    const misconfigured = await startWithAdmin({ options });
    try {
      const report = await diagnoseReport(misconfigured);
      expect(finding(report, 'configuration', /amazon-alexa: redirect_uris still hold the placeholder vendor id/)).toMatchObject({
        level: 'error',
      });
      expect(finding(report, 'configuration', /alexa-public is public, but Alexa always sends a client secret/)).toMatchObject({
        level: 'error',
      });
      expect(finding(report, 'configuration', /amazon-alexa: no redirect URI for alexa\.amazon\.co\.jp/)).toMatchObject({ level: 'warn' });
      expect(finding(report, 'public URL', /is not https$/)).toMatchObject({ level: 'error' });
      expect(finding(report, 'public URL', /uses port 8123$/)).toMatchObject({ level: 'error' });
      expect(finding(report, 'public URL', /^homeassistant\.local is not a public DNS name$/)).toMatchObject({ level: 'error' });
      expect(report.ok).toBe(false);
      // and the first link attempt fails the way the finding predicts
      await fetch(`${misconfigured.url}${authorizeUrl(alexaAuthorize())}`);
      const { explanation } = await explained('redirect_uri_mismatch', misconfigured);
      expect(explanation.problem).toContain('which is still the placeholder of the default configuration');
    } finally {
      await misconfigured.stop();
    }
  });

  it('a database deleted while the server runs: the fix is a backup, never a restart, and nothing calls it damaged', async () => {
    const gone = await startWithAdmin();
    try {
      rmSync(path.join(gone.dataDir, 'oauth.sqlite'));
      const report = await diagnoseReport(gone);
      const store = report.findings.filter((f) => f.area === 'store');
      expect(store[0]).toMatchObject({ level: 'error', title: 'The database cannot be read or written' });
      expect(store[0]!.detail).toMatch(/oauth\.sqlite was deleted or moved/);
      expect(store[0]!.fix).toMatch(/^Restore the add-on from a Home Assistant backup/);
      expect(store.some((f) => /damaged|integrity/.test(f.title))).toBe(false);
      expect(finding(report, 'listeners', /^OAuth endpoints listening on .*; \/health reports the database fault/)).toMatchObject({
        level: 'warn',
      });
      expect(report.findings.filter((f) => /restart/i.test(f.fix ?? '')).map((f) => f.title)).toEqual([]);
    } finally {
      await gone.stop();
    }
  });

  it('a well-formed public URL passes', async () => {
    const good = await startWithAdmin({ options: testOptions({ public_url: 'https://music.example.com' }) });
    try {
      expect(
        finding(await diagnoseReport(good), 'public URL', /^https:\/\/music\.example\.com: https on port 443 with a public host name$/),
      ).toMatchObject({ level: 'ok' });
    } finally {
      await good.stop();
    }
  });
});
