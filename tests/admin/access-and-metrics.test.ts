/**
 * Who may reach the admin listener (by socket address, with the add-on's and the local defaults), forged admin
 * forms, and the Prometheus metrics.
 */
import { INGRESS_PROXY, LOOPBACK } from '../../src/http/admin/access';
import { DEFAULT_ADMIN_PORT, adminListenFromEnv } from '../../src/http/admin';
import { waitForTrace } from '../helpers/test-server';
import {
  Browser,
  alexaAuthorize,
  authorizeUrl,
  linkAccount,
  openLoginPage,
  refresh,
  submitLogin,
  tokenRequest,
} from '../helpers/alexa-client';
import { AdminServer, PROXY_ADDRESS, csrfOf, fromProxy as proxied, rawRequest, startWithAdmin } from './admin-helpers';
import { defined } from '../helpers/defined';

describe('the allow-list', () => {
  it('defaults: the Ingress proxy only in the add-on (all interfaces), loopback only elsewhere', () => {
    // The Host check (DNS rebinding) is on everywhere but behind Ingress, whose proxy sets the Host itself.
    expect(adminListenFromEnv({ SUPERVISOR_TOKEN: 't' }, true)).toEqual({
      port: DEFAULT_ADMIN_PORT,
      host: '0.0.0.0',
      allow: ['172.30.32.2'],
      hostCheck: false,
    });
    expect(adminListenFromEnv({}, false)).toEqual({
      port: DEFAULT_ADMIN_PORT,
      host: '127.0.0.1',
      allow: ['127.0.0.1', '::1'],
      hostCheck: true,
    });
    expect(adminListenFromEnv({ ADMIN_PORT: '9000', ADMIN_ALLOW: '10.0.0.5, 10.0.0.6' }, true)).toEqual({
      port: 9000,
      host: '0.0.0.0',
      allow: ['10.0.0.5', '10.0.0.6'],
      hostCheck: true,
    });
    expect(adminListenFromEnv({ ADMIN_PORT: 'off' }, true)).toBeUndefined();
    expect(() => adminListenFromEnv({ ADMIN_PORT: 'eighty' }, false)).toThrow(/ADMIN_PORT: "eighty" is not a port number/);
  });

  it('with the local default, loopback 127.0.0.1 is served and another address (127.0.0.2) is refused', async () => {
    const server = await startWithAdmin({ allow: adminListenFromEnv({}, false)!.allow });
    try {
      expect((await rawRequest(`${server.adminUrl}/`, { localAddress: '127.0.0.1' })).status).toBe(200);
      const refused = await rawRequest(`${server.adminUrl}/`, { localAddress: '127.0.0.2' });
      expect(refused.status).toBe(403);
      const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'admin_forbidden');
      expect(entry).toMatchObject({ step: 'admin', outcome: 'security', ip: '127.0.0.2' });
      expect(entry.cause).toBe('connection from 127.0.0.2 to the admin listener refused: only 127.0.0.1, ::1 may connect');
    } finally {
      await server.stop();
    }
  });

  it('with the add-on default, only 172.30.32.2 is served: a loopback peer is refused whatever headers it sends', async () => {
    const server = await startWithAdmin({ allow: [INGRESS_PROXY] });
    try {
      const spoofed = await rawRequest(`${server.adminUrl}/accounts`, {
        localAddress: '127.0.0.1',
        headers: {
          'x-forwarded-for': INGRESS_PROXY,
          'x-real-ip': INGRESS_PROXY,
          'x-ingress-path': '/api/hassio_ingress/abc',
          forwarded: `for=${INGRESS_PROXY}`,
        },
      });
      expect(spoofed.status).toBe(403);
      expect(LOOPBACK).not.toContain(INGRESS_PROXY);
    } finally {
      await server.stop();
    }
  });
});

describe('admin forms', () => {
  let server: AdminServer;
  beforeAll(async () => {
    server = await startWithAdmin();
  });
  afterAll(async () => server.stop());

  const fromProxy = (path: string, init: Parameters<typeof rawRequest>[1] = {}) => proxied(server).get(path, init);
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    proxied(server).post(path, form, headers);

  it("refuse a revocation without the page's token, with a forged one, or from another site, and revoke nothing", async () => {
    const tokens = await linkAccount(server.url);
    const grant = defined(server.deps.grants.storage.read((tx) => tx.grants.list())[0], 'a grant');
    const page = await fromProxy('/accounts');
    const csrf = csrfOf(page.body);

    for (const [form, headers] of [
      [{}, {}],
      [{ csrf: 'lz0.forged' }, {}],
      [{ csrf }, { 'sec-fetch-site': 'cross-site' }],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const res = await post(`/accounts/${grant.id}/revoke`, form, headers);
      expect(res.status).toBe(403);
      expect(res.body).toContain('Nothing was revoked');
    }
    const revokeAll = await post('/accounts/revoke-all', { confirm: 'revoke-all' });
    expect(revokeAll.status).toBe(403);
    // a valid token without the confirmation field is not a confirmation either
    expect((await post('/accounts/revoke-all', { csrf })).status).toBe(403);
    expect((await refresh(server.url, tokens.refresh_token)).status).toBe(200);
    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'admin_csrf');
    expect(entry).toMatchObject({ step: 'admin', outcome: 'security' });

    // the page's own token works, and the redirect keeps the Ingress prefix
    const ok = await post(`/accounts/${grant.id}/revoke`, { csrf }, { 'x-ingress-path': '/api/hassio_ingress/tok' });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe(`/api/hassio_ingress/tok/accounts?notice=revoked&grant=${grant.id}`);
  });

  it('escape everything a client sent (client ids, URIs, usernames) on the Activity page', async () => {
    const evil = `<img src=x onerror="alert(1)">'`;
    await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ client_id: evil }))}`);
    await fetch(
      `${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: `https://layla.amazon.com/api/skill/link/${encodeURIComponent(evil)}` }))}`,
    );
    await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'body', evil, 'secret');
    const browser = new Browser(server.url);
    await submitLogin(browser, await openLoginPage(browser), { username: evil, password: 'wrong password' });
    const page = await fromProxy('/activity');
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('<img');
    expect(page.body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&#39;');
    expect(page.body.match(/<script/g)).toHaveLength(1); // the page's own, with its nonce
  });

  it('ignore an X-Ingress-Path that is not a path (it ends up in links and redirects)', async () => {
    const page = await fromProxy('/', { headers: { 'x-ingress-path': 'https://evil.example/"><script>' } });
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('evil.example');
    expect(page.body).toContain('href="/accounts"');
  });

  it('send security headers that allow framing by Home Assistant only, and never cache', async () => {
    const res = await fromProxy('/');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'self'");
    expect(res.headers['content-security-policy']).toMatch(/script-src 'nonce-[^']+'/);
    expect(res.headers['cache-control']).toBe('no-store');
    const nonce = /'nonce-([^']+)'/.exec(String(res.headers['content-security-policy']))![1];
    expect(res.body).toContain(`<script nonce="${nonce}">`);
  });
});

describe('GET /metrics', () => {
  let server: AdminServer;
  beforeAll(async () => {
    server = await startWithAdmin();
  });
  afterAll(async () => server.stop());

  const scrape = async () => {
    const res = await rawRequest(`${server.adminUrl}/metrics`, { localAddress: PROXY_ADDRESS });
    expect(res.status).toBe(200);
    // Prometheus' text exposition format, version 0.0.4
    expect(res.headers['content-type']).toMatch(/^text\/plain;/);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    return res.body;
  };
  const value = (text: string, series: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('counts tokens issued, failures by kind, active grants and request latency', async () => {
    const before = await scrape();
    expect(value(before, 'maoauth_active_grants')).toBe(0);
    expect(value(before, 'maoauth_store_ok')).toBe(1);

    const tokens = await linkAccount(server.url);
    await refresh(server.url, tokens.refresh_token);
    await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'amazon-alexa', 'wrong');
    await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: 'https://layla.amazon.com/api/skill/link/XYZ' }))}`);

    const after = await scrape();
    expect(value(after, 'maoauth_tokens_issued_total{grant_type="authorization_code"}')).toBe(1);
    expect(value(after, 'maoauth_tokens_issued_total{grant_type="refresh_token"}')).toBe(1);
    expect(value(after, 'maoauth_failures_total{step="token",kind="client_secret_mismatch",outcome="error"}')).toBe(1);
    expect(value(after, 'maoauth_failures_total{step="authorize",kind="redirect_uri_mismatch",outcome="error"}')).toBe(1);
    expect(value(after, 'maoauth_active_grants')).toBe(1);
    // two successful token requests and one failure went through /alexa/token: all timed
    expect(value(after, 'maoauth_http_request_duration_seconds_count{route="/alexa/token"}')).toBe(3);
    expect(value(after, 'maoauth_http_request_duration_seconds_bucket{route="/alexa/token",le="+Inf"}')).toBe(3);
    expect(value(after, 'maoauth_http_requests_total{route="/alexa/token",status="4xx"}')).toBe(1);
    expect(value(after, 'maoauth_http_requests_total{route="/alexa/token",status="2xx"}')).toBe(2);
    expect(value(after, 'maoauth_flow_events_total{step="token",outcome="ok"}')).toBe(2);
    // the buckets are cumulative: never fewer at a larger bound, and all three within Alexa's 4.5 s
    const buckets = ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '4.5', '10', '+Inf'].map((le) =>
      value(after, `maoauth_http_request_duration_seconds_bucket{route="/alexa/token",le="${le}"}`),
    );
    buckets.forEach((count, i) => expect(count).toBeGreaterThanOrEqual(i === 0 ? 0 : (buckets[i - 1] ?? 0)));
    expect(buckets.at(-3)).toBe(3);
    expect(after).toContain('# TYPE maoauth_http_request_duration_seconds histogram');
    // every sample line is "name{labels} number"
    for (const line of after.split('\n').filter((l) => l && !l.startsWith('#')))
      expect(line).toMatch(/^[a-z_]+(\{[^}]*\})? [-+]?(\d+(\.\d+)?(e[-+]?\d+)?|\+Inf)$/);
    expect(after).not.toContain(tokens.access_token);
  });

  it('is refused to anyone but the allowed peer, like the pages', async () => {
    expect((await rawRequest(`${server.adminUrl}/metrics`, { localAddress: '127.0.0.1' })).status).toBe(403);
  });

  it("times only its own server's requests, while another server runs in the same process and after it stopped", async () => {
    const timed = async () => value(await scrape(), 'maoauth_http_request_duration_seconds_count{route="/health"}') ?? 0;
    const before = await timed();
    const other = await startWithAdmin();
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${other.url}/health`)).status).toBe(200);
      expect(await timed()).toBe(before);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect(await timed()).toBe(before + 1);
    } finally {
      await other.stop();
    }
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect(await timed()).toBe(before + 2);
  });
});
