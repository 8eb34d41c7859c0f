/**
 * Brute force, throttled by client IP and by target, without handing attackers a way to lock anyone out:
 * - login: a hard lock per IP and per username; the per-username limit is a multiple of the per-IP one, so one
 *   abusive address never locks the owner out, only a distributed attack does;
 * - token, revocation, introspection: a soft lock per IP and per configured client_id. A locked request is
 *   answered normally only when it succeeds outright (valid secret and valid grant), otherwise 429 whatever was
 *   wrong (no oracle for the secret); so Alexa's refreshes and a fresh link go through during an attack;
 * - behind a trusted proxy the real client IP (X-Forwarded-For) is the key;
 * - a failure counts once it is decided, before the next request is read: a burst sent at once gets exactly the
 *   limit's worth of answers, and unreadable bodies count against the address too;
 * - a database outage (5xx) never counts as a failure;
 * - every lockout is in the flow trace (kind rate_limited, read by the admin page) and in the log, once per lock
 *   rather than once per refused request.
 */
import { expect } from '@jest/globals';
import { connect } from 'node:net';
import { RateLimitSettings } from '../../src/http/rate-limits';
import { RunningServer } from '../../src/main';
import {
  ALEXA,
  Browser,
  TokenBody,
  attemptLogin,
  exchangeCode,
  introspectAsClient,
  issueCode,
  linkAccount,
  openLoginPage,
  submitLogin,
  tokenRequest,
} from '../helpers/alexa-client';
import { FlowEntry } from '../../src/log/flow-trace';
import {
  CLIENT_SECRET,
  OWNER,
  RESOURCE_SERVER,
  ServerProcess,
  readFlowTrace,
  spawnServer,
  startInProcess,
  tempDataDir,
  testOptions,
  waitForOutput,
  waitForTrace,
} from '../helpers/test-server';
import { holdWriteLock } from '../helpers/sqlite';
import { stopGracefully } from './helpers';

jest.setTimeout(120_000);

/** Behind the trusted proxy (loopback): the client address the limits key on. */
const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });

async function outcome(res: Promise<Response>): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await res;
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

/** Alexa's client id with a secret (right or wrong) over Basic, from `ip`. */
const token = (url: string, ip: string, form: Record<string, string>, secret = CLIENT_SECRET) =>
  outcome(tokenRequest(url, form, 'basic', ALEXA.clientId, secret, from(ip)));
const guessSecret = (url: string, ip: string, guess = 'guess') =>
  token(url, ip, { grant_type: 'refresh_token', refresh_token: 'r'.repeat(43) }, guess);
const refreshAs = (url: string, ip: string, refreshToken: string) =>
  token(url, ip, { grant_type: 'refresh_token', refresh_token: refreshToken });

async function failLogin(url: string, ip: string, username: string, password = 'wrong password'): Promise<number> {
  return (await attemptLogin(url, { username, password }, from(ip).headers)).status;
}

/** POSTs to /alexa/token written at once on one connection, from `ip` (X-Forwarded-For): their statuses in order. */
function pipelined(port: number, ip: string, bodies: readonly string[]): Promise<number[]> {
  const requests = bodies.map(
    (body) =>
      `POST /alexa/token HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: ${ip}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return new Promise((resolve, reject) => {
    let received = '';
    const statuses = () => [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    const socket = connect(port, '127.0.0.1', () => socket.write(requests.join('')));
    socket.setTimeout(20_000, () => socket.destroy(new Error(`timed out after ${statuses().length} answers`)));
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (statuses().length === bodies.length) {
        socket.end();
        resolve(statuses());
      }
    });
    socket.on('error', reject);
  });
}

/** A server of its own behind the trusted proxy (loopback), with these limits, for one test. */
async function withServer(rateLimits: Partial<RateLimitSettings>, test: (server: RunningServer) => Promise<void>): Promise<void> {
  const server = await startInProcess({ options: testOptions({ trusted_proxies: ['loopback'] }), rateLimits });
  try {
    await test(server);
  } finally {
    await server.stop();
  }
}

/** Behind a trusted proxy (loopback), with login locks that come quickly: 3 failures per address, 9 per username. */
const startLoginLimited = () =>
  startInProcess({
    options: testOptions({ trusted_proxies: ['loopback'] }),
    rateLimits: { loginFailuresPerIp: 3, loginFailuresPerUser: 9 },
  });

const rateLimited = (dataDir: string) => readFlowTrace(dataDir).filter((e) => e.kind === 'rate_limited');

describe('password guessing at the login form', () => {
  let server: RunningServer & { dataDir: string };
  beforeAll(async () => {
    server = await startLoginLimited();
  });
  afterAll(async () => server.stop());

  it('one address is locked after its failures; it cannot lock the owner out for anyone else', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 15; i++) statuses.push(await failLogin(server.url, '198.51.100.1', 'owner'));
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(new Set(statuses.slice(3))).toEqual(new Set([429]));
    // The owner, from their own address, logs in: the attacker's 15 attempts put only 3 on the username.
    const ok = await attemptLogin(server.url, OWNER, from('203.0.113.50').headers);
    expect(ok.status).toBe(303);

    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'rate_limited' && e.facts?.limiter === 'login-ip');
    expect(entry).toEqual(expect.objectContaining({ step: 'login', outcome: 'security', cause: expect.stringContaining('198.51.100.1') }));
    // Reported once per lock, not once per refused attempt.
    expect(rateLimited(server.dataDir).filter((e) => e.facts?.limiter === 'login-ip' && e.facts?.target === '198.51.100.1')).toHaveLength(
      1,
    );
  });

  it('a distributed attack (many addresses) locks the username, for every address, and only that username', async () => {
    let ip = 10;
    for (let i = 0; i < 9; i++) expect(await failLogin(server.url, `192.0.2.${ip++}`, 'victim')).toBe(401);
    expect(await failLogin(server.url, `192.0.2.${ip}`, 'victim')).toBe(429);
    expect(await failLogin(server.url, '203.0.113.77', 'Victim', 'even the right one')).toBe(429); // any case, any address
    expect(await failLogin(server.url, '203.0.113.78', 'someone-else')).toBe(401);
    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'rate_limited' && e.facts?.limiter === 'login-user');
    expect(entry.cause).toMatch(/victim/);
    expect(entry.username).toBe('victim');
  });
});

describe('the owner cannot be locked out by strangers', () => {
  let server: RunningServer & { dataDir: string };
  beforeAll(async () => {
    server = await startLoginLimited();
  });
  afterAll(async () => server.stop());

  it('login POSTs without a link request, flow cookie or CSRF token test no password: any number of them locks nothing', async () => {
    const bare = (ip: string, body: Record<string, string>) =>
      fetch(`${server.url}/alexa/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...from(ip).headers },
        body: new URLSearchParams(body).toString(),
      }).then((r) => r.status);
    const form = await openLoginPage(new Browser(server.url));
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) {
      const ip = `198.51.100.${20 + (i % 5)}`;
      statuses.push(await bare(ip, { username: 'Owner ', password: 'x' }));
      // A real request id and CSRF token, but not this browser's flow cookie.
      statuses.push(await bare(ip, { request_id: form.requestId, csrf: form.csrf, username: 'owner', password: 'x' }));
    }
    expect(new Set(statuses)).toEqual(new Set([400, 403]));
    // From one of those addresses too: neither it nor the username was locked.
    expect((await attemptLogin(server.url, OWNER, from('198.51.100.20').headers)).status).toBe(303);
  });

  it('a distributed guesser locks the username for new browsers, but not for the browser the owner logged in with before', async () => {
    const phone = new Browser(server.url);
    expect((await submitLogin(phone, await openLoginPage(phone), OWNER, from('203.0.113.9').headers)).status).toBe(303);
    for (let i = 0; i < 9; i++) expect(await failLogin(server.url, `192.0.2.${100 + i}`, 'owner')).toBe(401);
    expect(await failLogin(server.url, '192.0.2.120', 'owner', OWNER.password)).toBe(429);
    // The owner's phone, its 12-hour login session over: the username's lock does not hold it, its own address's would.
    phone.forgetCookie('maoauth_session');
    expect((await submitLogin(phone, await openLoginPage(phone), OWNER, from('203.0.113.9').headers)).status).toBe(303);
    // A device cookie made for another username, or copied into a browser under another name, proves nothing.
    const other = new Browser(server.url);
    const cookie = phone.cookie('maoauth_device');
    expect(cookie).toMatch(/^[\w-]{43}$/);
    const form = await openLoginPage(other);
    const res = await other.request('/alexa/login', {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: `maoauth_flow=${other.cookie('maoauth_flow')}; maoauth_device=${cookie}x`,
        ...from('192.0.2.121').headers,
      },
      body: new URLSearchParams({
        request_id: form.requestId,
        csrf: form.csrf,
        username: OWNER.username,
        password: OWNER.password,
      }).toString(),
    });
    expect(res.status).toBe(429);
  });
});

describe('client secret guessing at the token endpoint', () => {
  let server: RunningServer & { dataDir: string };
  let alexa: TokenBody;
  beforeAll(async () => {
    server = await startInProcess({
      options: testOptions({ trusted_proxies: ['loopback'] }),
      rateLimits: { tokenFailuresPerIp: 4, tokenFailuresPerClient: 12 },
    });
    alexa = await linkAccount(server.url);
  });
  afterAll(async () => server.stop());

  it('per IP: failures from one address become 429 (a right secret with a made-up token too: no oracle); Alexa behind the same address still refreshes', async () => {
    const attacker = '198.51.100.9';
    for (let i = 0; i < 4; i++) expect((await guessSecret(server.url, attacker)).status).toBe(401);
    const locked = await guessSecret(server.url, attacker);
    expect(locked.status).toBe(429);
    expect(locked.body.error).toBe('invalid_request');
    const rightSecretWrongToken = await token(server.url, attacker, { grant_type: 'refresh_token', refresh_token: 'made-up' });
    expect(rightSecretWrongToken.status).toBe(429);
    // Nor does the timing tell them apart: every refusal is answered at the same fixed delay.
    for (const guess of ['wrong', CLIENT_SECRET]) {
      const started = Date.now();
      expect((await token(server.url, attacker, { grant_type: 'refresh_token', refresh_token: 'made-up' }, guess)).status).toBe(429);
      expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    }
    // Alexa's request succeeds outright, so even from the locked address it is answered.
    const res = await refreshAs(server.url, attacker, alexa.refresh_token);
    expect(res.status).toBe(200);
    alexa = res.body as unknown as TokenBody;
    // Another address is not affected by this one's lock.
    expect((await guessSecret(server.url, '198.51.100.10')).status).toBe(401);
  });

  it('per client_id: a distributed guesser locks failing requests naming the client from every address; Alexa, a new link and other clients go on', async () => {
    let n = 0;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) statuses.push((await guessSecret(server.url, `203.0.113.${100 + (n++ % 50)}`)).status);
    expect(statuses).toContain(429);
    expect(statuses.indexOf(429)).toBeLessThanOrEqual(12);
    // A fresh address guessing is refused at once: the target is locked, not the address.
    expect((await guessSecret(server.url, '192.0.2.200')).status).toBe(429);
    // Alexa is never refused: its refresh and a brand-new link's code exchange both succeed.
    const res = await refreshAs(server.url, '54.239.0.1', alexa.refresh_token);
    expect(res.status).toBe(200);
    alexa = res.body as unknown as TokenBody;
    const { code, verifier } = await issueCode(server.url);
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
    // The public client is another target: its errors are its own, not 429.
    const other = await outcome(
      tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'none', 'public-app', undefined, from('192.0.2.201')),
    );
    expect(other.status).toBe(400);
    expect(other.body.error).toBe('invalid_grant');

    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'rate_limited' && e.facts?.limiter === 'token-client');
    expect(entry).toEqual(expect.objectContaining({ step: 'token', outcome: 'security', clientId: 'amazon-alexa' }));
    expect(entry.cause).toMatch(/token-client limit reached for client_id "amazon-alexa"/);
    const served = await waitForTrace(
      server.dataDir,
      (e) =>
        e.outcome === 'ok' &&
        Array.isArray(e.detail?.servedDespiteLockout) &&
        (e.detail.servedDespiteLockout as string[]).includes('token-client'),
    );
    expect(served.grantType).toBeDefined();
  });
});

describe('code and token guessing', () => {
  let server: RunningServer & { dataDir: string };
  beforeAll(async () => {
    server = await startInProcess({
      options: testOptions({ trusted_proxies: ['loopback'] }),
      rateLimits: { tokenFailuresPerIp: 5, tokenFailuresPerClient: 15 },
    });
  });
  afterAll(async () => server.stop());

  it('guessed codes are throttled per IP and per client; a real code still redeems from a locked address', async () => {
    const guessCode = (ip: string) =>
      token(server.url, ip, {
        grant_type: 'authorization_code',
        code: Math.random().toString(36).slice(2),
        redirect_uri: ALEXA.redirectUri,
        code_verifier: 'v'.repeat(43),
      });
    for (let i = 0; i < 5; i++) expect((await guessCode('198.51.100.30')).body.error).toBe('invalid_grant');
    expect((await guessCode('198.51.100.30')).status).toBe(429);
    for (let i = 0; i < 20; i++) await guessCode(`203.0.113.${i + 1}`);
    expect((await guessCode('192.0.2.99')).status).toBe(429);
    // The real thing from the locked address.
    const { code, verifier } = await issueCode(server.url);
    const res = await token(server.url, '198.51.100.30', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: ALEXA.redirectUri,
      code_verifier: verifier!,
    });
    expect(res.status).toBe(200);
  });

  it('introspection under a lock answers an active token and refuses everything else', async () => {
    const tokens = await linkAccount(server.url);
    // As the resource server, with its secret unless a guess is given.
    const call = (ip: string, t: string, secret = RESOURCE_SERVER.secret) =>
      outcome(introspectAsClient(server.url, t, 'basic', RESOURCE_SERVER.id, secret, from(ip)));
    for (let i = 0; i < 20; i++) await call(`203.0.113.${150 + i}`, 'x', `guess${i}`);
    expect((await call('192.0.2.1', 'x', 'guess')).status).toBe(429);
    expect((await call('192.0.2.2', 'not-a-token')).status).toBe(429); // right secret, inactive token: no oracle
    expect(await call('192.0.2.3', tokens.access_token)).toEqual({ status: 200, body: expect.objectContaining({ active: true }) });
  });
});

describe('a burst of guesses sent at once', () => {
  it('gets exactly the limit of answers from one address; the rest are 429', () =>
    withServer({ tokenFailuresPerIp: 4, tokenFailuresPerClient: 1000 }, async (server) => {
      const statuses = await Promise.all(Array.from({ length: 16 }, (_, i) => guessSecret(server.url, '198.51.100.50', `guess${i}`)));
      const count = (status: number) => statuses.filter((s) => s.status === status).length;
      expect({ answered: count(401), refused: count(429) }).toEqual({ answered: 4, refused: 12 });
    }));

  it('pipelined on one connection, with bodies or without, gets the same: the limit of answers, then 429', () =>
    withServer({ tokenFailuresPerIp: 4, tokenFailuresPerClient: 1000 }, async (server) => {
      const guess = (i: number) => `grant_type=refresh_token&refresh_token=r${i}&client_id=${ALEXA.clientId}&client_secret=guess${i}`;
      const withBodies = Array.from({ length: 10 }, (_, i) => guess(i));
      // An empty POST passes the body parser at once: its check and its count are in the same turn as the next one's.
      const empty = Array.from({ length: 10 }, () => '');
      for (const [ip, bodies, failure] of [
        ['198.51.100.60', withBodies, 401],
        ['198.51.100.61', empty, 401],
      ] as const) {
        const statuses = await pipelined(server.port, ip, bodies);
        expect(statuses).toEqual([...Array<number>(4).fill(failure), ...Array<number>(6).fill(429)]);
      }
    }));
});

describe('unreadable bodies at the token endpoint', () => {
  it('count against the address like any failure; the locked address still refreshes with a valid token', () =>
    withServer({ tokenFailuresPerIp: 3, tokenFailuresPerClient: 1000 }, async (server) => {
      const alexa = await linkAccount(server.url);
      // Over the 16 KB body limit: refused by the body parser, before any handler reads it.
      const tooLarge = async (ip: string, path: string) =>
        (
          await fetch(`${server.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': ip },
            body: `grant_type=refresh_token&refresh_token=${'x'.repeat(20_000)}`,
          })
        ).status;
      // Every spelling the router takes for an endpoint counts: case and a trailing slash do not matter to it.
      const statuses: number[] = [];
      for (const path of ['/alexa/token', '/ALEXA/TOKEN', '/alexa/introspect/', '/Alexa/Revoke/'])
        statuses.push(await tooLarge('198.51.100.40', path));
      expect(statuses).toEqual([413, 413, 413, 429]);
      expect(await tooLarge('198.51.100.41', '/ALEXA/TOKEN/')).toBe(413);
      expect((await refreshAs(server.url, '198.51.100.40', alexa.refresh_token)).status).toBe(200);
    }));
});

describe("a database outage is not the client's failure", () => {
  it('Alexa retrying through 503s is not locked out when the database comes back', async () => {
    const server = await startInProcess({ rateLimits: { tokenFailuresPerIp: 2, tokenFailuresPerClient: 2 } });
    try {
      const tokens = await linkAccount(server.url);
      const lock = holdWriteLock(server.deps.store.file);
      try {
        for (let i = 0; i < 4; i++) expect((await refreshAs(server.url, '127.0.0.1', tokens.refresh_token)).status).toBe(503);
        // A client mistake in the meantime is still its own failure, answered normally (1 of 2 allowed).
        expect((await guessSecret(server.url, '127.0.0.1')).status).toBe(401);
      } finally {
        lock.release();
      }
      expect((await refreshAs(server.url, '127.0.0.1', tokens.refresh_token)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('the lockout in the add-on log', () => {
  let proc: ServerProcess | undefined;
  afterAll(async () => stopGracefully(proc));

  it('is one SECURITY line when it starts, naming the limit and the address, and an entry in the flow trace', async () => {
    const dataDir = tempDataDir();
    proc = await spawnServer(dataDir, testOptions({ log_level: 'info' }));
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++) statuses.push(await failLogin(proc.url, '127.0.0.1', `user${i}`));
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0); // defaults: 10 failures per address
    await waitForOutput(proc, 'login-ip limit reached for client 127.0.0.1');
    expect(proc.output().match(/SECURITY login: login-ip limit reached/g)).toHaveLength(1);
    const entries: FlowEntry[] = rateLimited(dataDir);
    expect(entries.length).toBeGreaterThanOrEqual(1);
    expect(entries[0]?.facts).toEqual(expect.objectContaining({ limiter: 'login-ip', target: '127.0.0.1', lockoutStarted: true }));
  });
});
