/**
 * Home Assistant notifications, end to end: the real server (in process, on a random port) with a stand-in of
 * the Supervisor's Core API proxy that speaks its real format (tests/auth/supervisor-stand-in.ts). Each failure is
 * caused from outside over HTTP, and what reached "Home Assistant" is read back from the stand-in: the request
 * format (Bearer token, JSON, title/message/notification_id), the throttle, a Home Assistant that hangs or
 * answers 500, the option off, and that no secret, code, token or password is ever in a notification.
 */
import { expect } from '@jest/globals';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { holdWriteLock } from '../helpers/sqlite';
import { RunningServer } from '../../src/main';
import {
  Browser,
  alexaAuthorize,
  authorizeUrl,
  exchangeCode,
  issueCode,
  linkAccount,
  linkPublic,
  openLoginPage,
  rawTokenRequest,
  refresh,
  refreshPublic,
  revoke,
  submitLogin,
  tokenRequest,
} from '../helpers/alexa-client';
import {
  ALEXA_REDIRECT,
  CLIENT_SECRET,
  OWNER,
  RESOURCE_SERVER,
  readFlowTrace,
  spawnServer,
  startInProcess,
  tempDataDir,
  testOptions,
} from '../helpers/test-server';
import { eventually } from '../helpers/wait';
import { CoreState, RecordedRequest, SupervisorStandIn, startSupervisorStandIn } from '../auth/supervisor-stand-in';
import { RateLimitSettings } from '../../src/http/rate-limits';
import { defined } from '../helpers/defined';

const TOKEN = 'addon-supervisor-token-0123456789abcdef';
const ADMIN_PATH = '/hassio/ingress/local_music_assistant_alexa_oauth';
const CREATE = '/core/api/services/persistent_notification/create';
const ID = 'music_assistant_alexa_oauth_';
/** Every secret of testOptions(): none may ever reach Home Assistant. */
const CONFIG_SECRETS = [CLIENT_SECRET, OWNER.password, RESOURCE_SERVER.secret];

interface Booted {
  supervisor: SupervisorStandIn;
  server: RunningServer & { dataDir: string };
  logLines: string[];
}

let running: Booted[] = [];
afterEach(async () => {
  for (const b of running) {
    await b.server.stop();
    await b.supervisor.close();
  }
  running = [];
});

function capturingLogger(lines: string[]): winston.Logger {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk).trimEnd());
      done();
    },
  });
  return winston.createLogger({
    level: 'info',
    format: winston.format.printf((i) => `${i.level} ${String(i.message)}`),
    transports: [new winston.transports.Stream({ stream: sink })],
  });
}

async function boot(
  o: {
    options?: Record<string, unknown>;
    now?: () => number;
    rateLimits?: Partial<RateLimitSettings>;
    core?: CoreState;
    homeassistantApi?: boolean;
  } = {},
): Promise<Booted> {
  const supervisor = await startSupervisorStandIn({ token: TOKEN, users: {}, core: o.core, homeassistantApi: o.homeassistantApi });
  const logLines: string[] = [];
  const server = await startInProcess({
    options: o.options,
    now: o.now,
    rateLimits: o.rateLimits,
    supervisor: { url: supervisor.url, token: TOKEN, adminPath: ADMIN_PATH },
    log: capturingLogger(logLines),
    admin: { port: 0, host: '127.0.0.1', allow: ['127.0.0.1'] },
  });
  const booted = { supervisor, server, logLines };
  running.push(booted);
  return booted;
}

interface Sent {
  request: RecordedRequest;
  title: string;
  message: string;
  notification_id: string;
}

const parse = (r: RecordedRequest): Sent => ({ request: r, ...(JSON.parse(r.body) as Omit<Sent, 'request'>) });
const isCreate = (r: RecordedRequest) => r.path === CREATE;
const sentTo = (s: SupervisorStandIn) => s.requests.filter(isCreate).map(parse);

/** Waits for the notification with this id (the n-th one, counting from 1). */
async function notice(s: SupervisorStandIn, id: string, nth = 1): Promise<Sent> {
  let seen = 0;
  const r = await s.waitForRequest((req) => isCreate(req) && (JSON.parse(req.body) as Sent).notification_id === id && ++seen === nth);
  return parse(r);
}

/** The request in the Supervisor's format, and a message that says what, why, what to do, and links the admin page. */
function expectSupervisorFormat(n: Sent, adminPath = ADMIN_PATH): void {
  const { request } = n;
  expect(request.method).toBe('POST');
  expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
  expect(request.headers['x-supervisor-token']).toBeUndefined();
  expect(request.headers['content-type']).toBe('application/json');
  expect(Object.keys(JSON.parse(request.body) as Record<string, unknown>).sort()).toEqual(['message', 'notification_id', 'title']);
  expect(n.notification_id).toMatch(/^music_assistant_alexa_oauth_[a-z0-9_]+$/);
  expect(n.message).toMatch(/\*\*What happened:\*\* [^]*\*\*Why:\*\* [^]*\*\*What to do:\*\* /);
  expect(n.message).toContain(`(${adminPath})`);
}

/** No notification sent so far carries any of these (plus the configuration's secrets). */
function expectNothingSecret(s: SupervisorStandIn, extra: string[] = []): void {
  const bodies = s.requests.filter((r) => r.path.startsWith('/core/')).map((r) => r.body);
  expect(bodies.length).toBeGreaterThan(0);
  for (const secret of [...CONFIG_SECRETS, ...extra]) {
    for (const body of bodies) expect({ secret, leaked: body.includes(secret) }).toEqual({ secret, leaked: false });
  }
}

/** What the admin page's notices list shows (the Status page). */
async function adminNotices(b: Booted): Promise<string> {
  const res = await fetch(`${b.server.admin.url}/`);
  const page = await res.text();
  const start = page.indexOf('id="notices-h"');
  expect(start).toBeGreaterThan(0);
  return page.slice(start, page.indexOf('</section>', start));
}

const WRONG_SECRET = 'not-the-secret-from-the-console-987654';
const wrongSecret = (url: string) =>
  tokenRequest(url, { grant_type: 'refresh_token', refresh_token: 'whatever' }, 'basic', 'amazon-alexa', WRONG_SECRET);
const unknownClient = (url: string) =>
  tokenRequest(url, { grant_type: 'refresh_token', refresh_token: 'whatever' }, 'basic', 'amazon-alexa-typo', 'some-secret');

describe('each cause, caused over HTTP, reaches Home Assistant in the Supervisor format', () => {
  it('an Alexa redirect URI that is not registered: named, with the exact fix', async () => {
    const b = await boot();
    const asked = 'https://layla.amazon.com/api/skill/link/M2OTHERVENDOR';
    const page = await new Browser(b.server.url).request(authorizeUrl(alexaAuthorize({ redirect_uri: asked })));
    expect(page.status).toBe(400);

    const n = await notice(b.supervisor, `${ID}redirect_uri_unregistered_amazon_alexa`);
    expectSupervisorFormat(n);
    expect(n.title).toMatch(/redirect URI not registered/);
    expect(n.message).toContain(`\`${asked}\``);
    expect(n.message).toContain('`redirect_uris`');
    expect(n.message).toContain('`amazon-alexa`');
    // The registered URIs use another vendor id: the fix says so.
    expect(n.message).toMatch(/vendor ID `M2TESTVENDOR`, this one `M2OTHERVENDOR`/);
    // Anyone can send such a URL: the advice to replace the registered ones holds only if someone was linking.
    expect(n.message).toMatch(/If you were linking the skill just then and it moved to another Amazon developer account, copy/);
    expect(n.message).toContain('If nobody was linking, someone else sent this request: change nothing');
    // Home Assistant accepted it (Core validated the service data).
    expect(b.supervisor.notifications).toHaveLength(1);
  });

  it("a redirect URI that is not Alexa's: never advised to be added; markdown, HTML and control characters neutralised, length capped", async () => {
    const b = await boot();
    const hostile =
      'https://evil.example/cb?q=`**bold**`<img src=x onerror=alert(1)>[x](javascript:alert(1))\n# Heading\u202e' + 'A'.repeat(2000);
    const page = await new Browser(b.server.url).request(
      authorizeUrl({ client_id: 'public-app', redirect_uri: hostile, response_type: 'code' }),
    );
    expect(page.status).toBe(400);

    const n = await notice(b.supervisor, `${ID}redirect_uri_unregistered_public_app`);
    expectSupervisorFormat(n);
    expect(n.message).toMatch(/not an Alexa redirect URL\. Add it only if it is the address of an app of yours/);
    // Request data only inside code spans: outside them nothing Markdown or HTML could act on.
    const outsideCode = n.message.replace(/`[^`]*`/g, '');
    expect(outsideCode).not.toMatch(/<|javascript:|evil\.example|\n# /);
    expect(n.message).toContain('\\x60**bold**\\x60');
    // Escaped once, where request data enters the trace (log/untrusted.ts), before the notifier sees it.
    expect(n.message).toContain('\\n# Heading\\u202e');
    expect(n.message).not.toContain('A'.repeat(201));
    expect(n.message.length).toBeLessThan(2000);

    // The admin page lists the same notice, escaped.
    const listed = await adminNotices(b);
    expect(listed).toContain('data-cause="redirect_uri_unregistered"');
    expect(listed).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(listed).not.toContain('<img');
  });

  it('an unknown client id, and a wrong client secret', async () => {
    const b = await boot();
    expect((await unknownClient(b.server.url)).status).toBe(401);
    const unknown = await notice(b.supervisor, `${ID}unknown_client`);
    expectSupervisorFormat(unknown);
    expect(unknown.message).toContain('`amazon-alexa-typo`');
    expect(unknown.message).toContain('`amazon-alexa, public-app`');

    expect((await wrongSecret(b.server.url)).status).toBe(401);
    const wrong = await notice(b.supervisor, `${ID}client_secret_mismatch_amazon_alexa`);
    expectSupervisorFormat(wrong);
    expect(wrong.title).toMatch(/wrong client secret/);
    expect(wrong.message).toMatch(/HTTP Basic/);
    expect(wrong.message).toContain('`client_secret`');
    expectNothingSecret(b.supervisor, [WRONG_SECRET, 'some-secret']);
  });

  it('a scope the client may not have, the implicit grant, and a public client linking without PKCE: each with its console setting', async () => {
    const b = await boot();
    const page = (params: Record<string, string>) => new Browser(b.server.url).request(authorizeUrl(alexaAuthorize(params)));
    expect((await page({ scope: 'music.read admin.everything' })).status).toBeGreaterThanOrEqual(300);
    const scope = await notice(b.supervisor, `${ID}scope_not_allowed_amazon_alexa`);
    expectSupervisorFormat(scope);
    expect(scope.title).toMatch(/scope not allowed/);
    expect(scope.message).toContain('`admin.everything`');
    expect(scope.message).toContain('`music.read music.control`');
    expect(scope.message).toContain('`scopes`');
    expect(scope.message).toContain('If nobody was linking');

    expect((await page({ response_type: 'token' })).status).toBeGreaterThanOrEqual(300);
    const implicit = await notice(b.supervisor, `${ID}implicit_grant_amazon_alexa`);
    expect(implicit.title).toMatch(/implicit grant selected/);
    expect(implicit.message).toMatch(/Auth Code Grant/);

    const publicApp = await new Browser(b.server.url).request(
      authorizeUrl({ response_type: 'code', client_id: 'public-app', redirect_uri: 'https://app.example.com/callback', state: 's' }),
    );
    expect(publicApp.status).toBeGreaterThanOrEqual(300);
    const nopkce = await notice(b.supervisor, `${ID}public_client_without_pkce_public_app`);
    expect(nopkce.title).toMatch(/public client without PKCE/);
    expect(nopkce.message).toContain('`confidential`');
  });

  it('Alexa sending its token request to a wrong path (Access Token URI): named with the right one; a stranger probing one is not news', async () => {
    const b = await boot();
    const post = (p: string, authorization?: string) =>
      fetch(`${b.server.url}${p}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
        body: 'grant_type=authorization_code&code=x',
      });
    // A stranger: no credentials, and a wrong secret.
    expect((await post('/oauth/token')).status).toBe(404);
    expect((await post('/token', `Basic ${Buffer.from(`amazon-alexa:${WRONG_SECRET}`).toString('base64')}`)).status).toBe(404);
    expect((await fetch(`${b.server.url}/favicon.ico`)).status).toBe(404);
    // A public client's id with no secret authenticates it, but anyone can send that.
    expect((await post('/oauth/token', `Basic ${Buffer.from('public-app:').toString('base64')}`)).status).toBe(404);
    // Alexa, its Access Token URI missing the /alexa prefix.
    expect((await post('/token', `Basic ${Buffer.from(`amazon-alexa:${CLIENT_SECRET}`).toString('base64')}`)).status).toBe(404);
    const n = await notice(b.supervisor, `${ID}wrong_endpoint_amazon_alexa`);
    expectSupervisorFormat(n);
    expect(n.title).toMatch(/wrong Access Token URI/);
    expect(n.message).toContain('`POST /token`');
    expect(n.message).toContain('`/alexa/token`');
    expect(sentTo(b.supervisor).filter((x) => x.notification_id.includes('wrong_endpoint'))).toHaveLength(1);
    const entries = readFlowTrace(b.server.dataDir).filter((e) => e.kind === 'unknown_endpoint');
    expect(entries.map((e) => [e.facts?.path, e.facts?.authenticated])).toEqual([
      ['/oauth/token', false],
      ['/token', false],
      ['/oauth/token', false],
      ['/token', true],
    ]);
    expectNothingSecret(b.supervisor, [WRONG_SECRET]);
  });

  it('a proxy removing the Authorization header: named when the request held a live code or refresh token, never for a stranger', async () => {
    let clock = Date.now();
    const b = await boot({ now: () => clock });
    const url = b.server.url;
    // What reaches the add-on when a proxy drops the Authorization header: the form alone, no client credentials.
    const stripped = (form: Record<string, string>) => rawTokenRequest(url, new URLSearchParams(form).toString());
    const exchange = (code: string, verifier: string) =>
      stripped({ grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier });
    const refreshStripped = (token: string) => stripped({ grant_type: 'refresh_token', refresh_token: token });
    const first = await issueCode(url);
    // A stranger: no credentials, and a code or refresh token this server never issued (or one already spent).
    const strangers = await exchange('x'.repeat(43), first.verifier!);
    expect(strangers.status).toBe(401);
    const strangersAnswer = await strangers.json();
    expect(strangersAnswer).toMatchObject({ error: 'invalid_client' });
    expect((await refreshStripped(`${'g'.repeat(22)}.${'r'.repeat(43)}`)).status).toBe(401);
    // Alexa behind a proxy that drops the Authorization header: its live code arrives without credentials, and is
    // answered exactly as the stranger was.
    const lost = await exchange(first.code, first.verifier!);
    expect(lost.status).toBe(401);
    expect(await lost.json()).toEqual(strangersAnswer);
    expect(lost.headers.get('www-authenticate')).toBe(strangers.headers.get('www-authenticate'));
    const n = await notice(b.supervisor, `${ID}client_credentials_removed_amazon_alexa`);
    expectSupervisorFormat(n);
    expect(n.title).toBe('Alexa linking: a token request lost its client credentials');
    expect(n.message).toContain('`amazon-alexa`');
    expect(n.message).toMatch(/Authorization header/);
    expect(n.message).toMatch(/Credentials in request body/);
    // The code is untouched: once the header gets through, the same code links.
    const linked = await exchangeCode(url, first.code, first.verifier);
    expect(linked.status).toBe(200);
    const tokens = (await linked.json()) as { refresh_token: string; access_token: string };
    // A spent code without credentials is a stranger's again.
    expect((await exchange(first.code, first.verifier!)).status).toBe(401);
    // Over an hour later (one notice per cause an hour) the proxy starts dropping the header: a refresh with the
    // link's live token.
    clock += 3600_000 + 1000;
    expect((await refreshStripped(tokens.refresh_token)).status).toBe(401);
    const later = await notice(b.supervisor, `${ID}client_credentials_removed_amazon_alexa`, 2);
    expect(later.title).toBe('Alexa refresh: a token request lost its client credentials');
    expect(later.message).toMatch(/Alexa's refreshes fail/);
    // The refresh token was not used up either.
    expect((await refresh(url, tokens.refresh_token)).status).toBe(200);
    // A public client sends no secret to lose: its live token without its client_id is not this cause.
    const pub = await linkPublic(url);
    expect((await refreshStripped(pub.refresh_token)).status).toBe(401);

    // A kind of its own: the trace never folds it into strangers' bare requests.
    const entries = readFlowTrace(b.server.dataDir).filter(
      (e) => e.kind === 'client_auth_missing' || e.kind === 'client_credentials_removed',
    );
    expect(entries.map((e) => [e.kind, e.facts, e.clientId])).toEqual([
      ['client_auth_missing', {}, undefined],
      ['client_auth_missing', {}, undefined],
      ['client_credentials_removed', { carried: 'code', clientId: 'amazon-alexa' }, 'amazon-alexa'],
      ['client_auth_missing', {}, undefined],
      ['client_credentials_removed', { carried: 'refresh_token', clientId: 'amazon-alexa' }, 'amazon-alexa'],
      ['client_auth_missing', {}, undefined],
    ]);
    // Filed under the client, but proving nothing: its scheme stays none.
    expect(entries.filter((e) => e.clientId).map((e) => e.detail?.authScheme)).toEqual(['none', 'none']);
    expect(b.logLines.join('\n')).toMatch(/but a live authorization code of client "amazon-alexa": .*drops the Authorization header/);
    expectNothingSecret(b.supervisor, [first.code, first.verifier!, tokens.refresh_token, tokens.access_token]);
  });

  it('a PKCE mismatch and a replayed code', async () => {
    const b = await boot();
    const first = await issueCode(b.server.url);
    const wrongVerifier = 'v'.repeat(43);
    expect((await exchangeCode(b.server.url, first.code, wrongVerifier)).status).toBe(400);
    const pkce = await notice(b.supervisor, `${ID}pkce_mismatch_amazon_alexa`);
    expectSupervisorFormat(pkce);

    const second = await issueCode(b.server.url);
    const ok = await exchangeCode(b.server.url, second.code, second.verifier);
    expect(ok.status).toBe(200);
    const tokens = (await ok.json()) as { access_token: string; refresh_token: string };
    expect((await exchangeCode(b.server.url, second.code, second.verifier)).status).toBe(400);
    const replay = await notice(b.supervisor, `${ID}code_replay`);
    expectSupervisorFormat(replay);
    expect(replay.title).toMatch(/^Security: /);
    expect(replay.message).toMatch(/revoked/);
    expectNothingSecret(b.supervisor, [
      first.code,
      first.verifier!,
      wrongVerifier,
      second.code,
      second.verifier!,
      tokens.access_token,
      tokens.refresh_token,
    ]);
  });

  it('refresh-token reuse by a public client, then the refresh of the revoked link that is about to be dropped', async () => {
    const b = await boot();
    const linked = await linkPublic(b.server.url);
    const r2 = (await (await refreshPublic(b.server.url, linked.refresh_token)).json()) as { refresh_token: string };
    const r3 = (await (await refreshPublic(b.server.url, r2.refresh_token)).json()) as { refresh_token: string; access_token: string };
    expect((await refreshPublic(b.server.url, linked.refresh_token)).status).toBe(400);
    const reuse = await notice(b.supervisor, `${ID}refresh_reuse`);
    expectSupervisorFormat(reuse);
    expect(reuse.title).toMatch(/reused, link revoked/);

    expect((await refreshPublic(b.server.url, r3.refresh_token)).status).toBe(400);
    const dropped = await notice(b.supervisor, `${ID}grant_revoked`);
    expectSupervisorFormat(dropped);
    expect(dropped.title).toMatch(/Alexa link dropped/);
    expect(dropped.message).toMatch(/links again in the Alexa app/);
    expectNothingSecret(b.supervisor, [linked.access_token, linked.refresh_token, r2.refresh_token, r3.refresh_token, r3.access_token]);
  });

  it('a link unused for longer than refresh_token_idle_lifetime', async () => {
    let clock = Date.now();
    const b = await boot({ options: testOptions({ refresh_token_idle_lifetime: 86400 }), now: () => clock });
    const linked = await linkAccount(b.server.url);
    clock += 2 * 86400_000;
    expect((await refresh(b.server.url, linked.refresh_token)).status).toBe(400);
    const n = await notice(b.supervisor, `${ID}refresh_expired`);
    expectSupervisorFormat(n);
    expect(n.message).toContain('`refresh_token_idle_lifetime`');
    expectNothingSecret(b.supervisor, [linked.refresh_token, linked.access_token]);
  });

  it('a login lockout and a client lockout; the guessed password never appears', async () => {
    const b = await boot({ rateLimits: { loginFailuresPerIp: 2, tokenFailuresPerIp: 3 } });
    const guess = { username: OWNER.username, password: 'guessed-password-42' };
    const browser = new Browser(b.server.url);
    for (let i = 0; i < 3; i++) await submitLogin(browser, await openLoginPage(browser), guess);
    const login = await notice(b.supervisor, `${ID}login_lockout`);
    expectSupervisorFormat(login);
    expect(login.message).toContain('`127.0.0.1`');

    for (let i = 0; i < 4; i++) await wrongSecret(b.server.url);
    const client = await notice(b.supervisor, `${ID}client_lockout`);
    expectSupervisorFormat(client);
    expect(client.message).toMatch(/Requests with valid credentials still work/);
    expectNothingSecret(b.supervisor, [guess.password, WRONG_SECRET]);
  });

  it('a database fault, and its recovery replacing it', async () => {
    const b = await boot();
    const linked = await linkAccount(b.server.url);
    const lock = holdWriteLock(path.join(b.server.dataDir, 'oauth.sqlite'));
    try {
      expect((await refresh(b.server.url, linked.refresh_token)).status).toBe(503);
      const fault = await notice(b.supervisor, `${ID}storage`);
      expectSupervisorFormat(fault);
      expect(fault.title).toMatch(/database cannot be used/);
      expect(fault.message).toContain('`locked`');
    } finally {
      lock.release();
    }
    const recovered = await notice(b.supervisor, `${ID}storage`, 2);
    expect(recovered.title).toMatch(/database works again/);
    expectNothingSecret(b.supervisor, [linked.refresh_token, linked.access_token]);
  });

  it('an unknown client id that is in fact the client secret (pasted into the wrong field) is not shown', async () => {
    const b = await boot();
    expect(
      (await tokenRequest(b.server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'body', CLIENT_SECRET, CLIENT_SECRET)).status,
    ).toBe(401);
    const n = await notice(b.supervisor, `${ID}unknown_client`);
    expect(n.message).toContain('[a configured secret]');
    expectNothingSecret(b.supervisor);
  });
});

describe('throttle', () => {
  it('20 identical failures give one notification; an hour later the next one says how many were not notified', async () => {
    let clock = Date.now();
    const b = await boot({ now: () => clock });
    for (let i = 0; i < 20; i++) expect((await wrongSecret(b.server.url)).status).toBe(401);
    // Another cause, caused after the 20: once it has arrived, every notice of the 20 was decided.
    await unknownClient(b.server.url);
    await notice(b.supervisor, `${ID}unknown_client`);
    const id = `${ID}client_secret_mismatch_amazon_alexa`;
    expect(sentTo(b.supervisor).filter((n) => n.notification_id === id)).toHaveLength(1);
    expect(await adminNotices(b)).toMatch(/happened 19 more times since/);

    clock += 3600_000 + 1000;
    await wrongSecret(b.server.url);
    const again = await notice(b.supervisor, id, 2);
    expect(again.message).toMatch(/This happened 19 more times after the previous notice/);
    // Same id: Home Assistant replaces the first notice instead of stacking a second one.
    expect(new Set(b.supervisor.notifications.map((n) => n.notification_id)).size).toBe(2);
  });
});

describe('a Home Assistant that is slow, down or refuses', () => {
  it('hanging: a refresh (successful or failing) completes while the notification request still hangs', async () => {
    const b = await boot({ core: 'hang' });
    const linked = await linkAccount(b.server.url);
    await wrongSecret(b.server.url);
    await b.supervisor.waitForRequest(isCreate);
    expect(b.supervisor.hanging).toBe(1);

    const started = Date.now();
    const ok = await refresh(b.server.url, linked.refresh_token);
    expect(ok.status).toBe(200);
    // The notifier gives Home Assistant 5 s; a refresh that waited for it would take at least that.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(b.supervisor.hanging).toBe(1);

    // A failing refresh that raises a notice too: the link revoked (RFC 7009), then refreshed by Alexa.
    const r2 = (await ok.json()) as { refresh_token: string };
    const revoked = await revoke(b.server.url, r2.refresh_token);
    expect(revoked.status).toBe(200);
    const failing = Date.now();
    expect((await refresh(b.server.url, linked.refresh_token)).status).toBe(400);
    expect(Date.now() - failing).toBeLessThan(2000);
    // Its notice waits behind the hanging one (one request at a time keeps same-id notices in order).
    expect(b.supervisor.hanging).toBe(1);
    expect(await adminNotices(b)).toContain('data-cause="grant_revoked" data-delivery="sending"');

    // After its 5 s the hanging request is given up (logged once) and the queued notice goes out.
    await b.supervisor.waitForRequest((r) => isCreate(r) && r.body.includes(`${ID}grant_revoked`), 15_000);
    expect(b.logLines.filter((l) => /cannot be delivered/.test(l))).toEqual([expect.stringMatching(/did not answer within 5000 ms/)]);
  });

  it('answering 500: each notice is listed as not delivered, and the log has one line for all of them', async () => {
    const b = await boot({ core: 'error' });
    await wrongSecret(b.server.url);
    await unknownClient(b.server.url);
    await new Browser(b.server.url).request(
      authorizeUrl(alexaAuthorize({ redirect_uri: 'https://layla.amazon.com/api/skill/link/M2OTHER' })),
    );
    await eventually(
      'three notices listed as not delivered',
      async () => ((await adminNotices(b)).match(/data-delivery="failed"/g) ?? []).length === 3,
    );
    const lines = b.logLines.filter((l) => /notification/i.test(l) && !/notifications are on/.test(l));
    expect(lines).toEqual([
      expect.stringMatching(/^warn Home Assistant notifications cannot be delivered: Home Assistant answered HTTP 500/),
    ]);
    expect(await adminNotices(b)).toContain('not delivered: Home Assistant answered HTTP 500');

    // Once Home Assistant answers again, the next notice gets through and the log says so, once.
    b.supervisor.core = 'running';
    await issueCode(b.server.url).then(({ code }) => exchangeCode(b.server.url, code, 'w'.repeat(43)));
    await notice(b.supervisor, `${ID}pkce_mismatch_amazon_alexa`);
    await eventually('the recovery line', () => b.logLines.some((l) => l === 'info Home Assistant notifications are delivered again'));
  });

  it('an add-on without homeassistant_api (the proxy answers 401): the log names the fix', async () => {
    const b = await boot({ homeassistantApi: false });
    await wrongSecret(b.server.url);
    await eventually('the delivery problem in the log', () => b.logLines.find((l) => /cannot be delivered/.test(l)));
    expect(b.logLines.filter((l) => /cannot be delivered/.test(l))).toEqual([
      expect.stringMatching(/\(401\): it needs homeassistant_api: true/),
    ]);
  });
});

describe('the notifications option', () => {
  it('off: nothing is sent, the admin page still lists what would have been, and the log says so at start-up', async () => {
    const b = await boot({ options: testOptions({ notifications: false }) });
    await wrongSecret(b.server.url);
    await eventually('the notice listed as not sent', async () => (await adminNotices(b)).includes('data-delivery="off"'));
    expect(b.supervisor.requests.filter((r) => r.path.startsWith('/core/'))).toEqual([]);
    expect(b.logLines).toContain(
      'info Home Assistant notifications are off (option notifications: false); the admin page lists the notices',
    );
  });

  it('on, under the Supervisor: the start-up line says so once', async () => {
    const b = await boot();
    expect(b.logLines.filter((l) => /Home Assistant notifications/.test(l))).toEqual([
      expect.stringMatching(/^info Home Assistant notifications are on: /),
    ]);
  });
});

describe('as the add-on runs it (node dist/main.js with the environment the Supervisor gives)', () => {
  it('reads SUPERVISOR_TOKEN and SUPERVISOR_URL, links the admin page by the slug in HOSTNAME, and 20 failures give one notice', async () => {
    const supervisor = await startSupervisorStandIn({ token: TOKEN, users: {} });
    const proc = await spawnServer(tempDataDir(), testOptions({ log_level: 'info' }), {
      SUPERVISOR_TOKEN: TOKEN,
      SUPERVISOR_URL: supervisor.url,
      HOSTNAME: 'a0d7b954-music-assistant-alexa-oauth',
    });
    try {
      for (let i = 0; i < 20; i++) expect((await wrongSecret(proc.url)).status).toBe(401);
      await unknownClient(proc.url);
      await notice(supervisor, `${ID}unknown_client`);
      const sent = sentTo(supervisor).filter((n) => n.notification_id === `${ID}client_secret_mismatch_amazon_alexa`);
      expect(sent).toHaveLength(1);
      expectSupervisorFormat(defined(sent[0], 'the notice'), '/hassio/ingress/a0d7b954_music_assistant_alexa_oauth');
      expect(proc.output()).toMatch(/Home Assistant notifications are on/);
      expectNothingSecret(supervisor, [WRONG_SECRET]);
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
      await supervisor.close();
    }
  });
});
