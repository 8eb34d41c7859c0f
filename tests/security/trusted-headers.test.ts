/**
 * Issue #12, finding 9: where public_url is unset, request headers must not be trusted further than they deserve.
 * Secure cookies, the issuer and the published endpoints come from public_url, or from X-Forwarded-Proto/Host
 * only when the peer is in trusted_proxies; metadata derived from a request is never publicly cacheable; a Host
 * that is not a plain host[:port] is not used; the request id is ours, the client's X-Request-Id only beside it.
 */
import { PassThrough } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/log/logger';
import { alexaAuthorize, authorizeUrl } from '../helpers/alexa-client';
import { rawRequest } from '../admin/admin-helpers';
import { startInProcess, testOptions } from '../helpers/test-server';

const META = '/.well-known/oauth-authorization-server';
const setCookies = (headers: Record<string, unknown>) => ([] as string[]).concat((headers['set-cookie'] as string[] | undefined) ?? []);

describe('without public_url, without trusted_proxies', () => {
  const lines: string[] = [];
  let server: Awaited<ReturnType<typeof startInProcess>>;
  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
    const log = createLogger('warn');
    log.clear().add(new winston.transports.Stream({ stream }));
    server = await startInProcess({ log });
  });
  afterAll(async () => server.stop());

  it('X-Forwarded-Proto: https from an untrusted peer: no Secure cookie, the issuer unchanged, and one warning naming public_url', async () => {
    const headers = { host: 'ha.example.com', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example' };
    const page = await rawRequest(`${server.url}${authorizeUrl(alexaAuthorize())}`, { headers });
    expect(page.status).toBe(200);
    const cookies = setCookies(page.headers);
    expect(cookies.length).toBeGreaterThan(0);
    for (const c of cookies) expect(c).not.toMatch(/;\s*Secure/i);
    const meta = await rawRequest(`${server.url}${META}`, { headers });
    expect((JSON.parse(meta.body) as { issuer: string }).issuer).toBe('http://ha.example.com');
    await rawRequest(`${server.url}${META}`, { headers });
    const warnings = lines.filter((l) => l.includes('X-Forwarded-Proto'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('set public_url');
  });

  it('metadata derived from the request is not cacheable by anyone else', async () => {
    const meta = await rawRequest(`${server.url}${META}`, { headers: { host: 'ha.example.com' } });
    expect(meta.headers['cache-control']).toBe('no-store');
  });

  it('a Host that is not a plain host[:port] is not used for the issuer', async () => {
    for (const host of ['evil.example/x?y', 'a b', 'evil.example:99999', '[zz]:1']) {
      const meta = await rawRequest(`${server.url}${META}`, { headers: { host } });
      const issuer = (JSON.parse(meta.body) as { issuer: string }).issuer;
      expect({ host, issuer }).toEqual({ host, issuer: `http://127.0.0.1:${server.port}` });
    }
  });

  it('the request id is ours: a client X-Request-Id is neither echoed nor adopted', async () => {
    const res = await rawRequest(`${server.url}${META}`, { headers: { 'x-request-id': 'chosen-by-client' } });
    expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('behind a trusted proxy', () => {
  it('X-Forwarded-Proto: https makes the cookies Secure and the issuer https', async () => {
    const server = await startInProcess({ options: testOptions({ trusted_proxies: ['loopback'] }) });
    try {
      const headers = { host: '127.0.0.1', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'ha.example.com' };
      const page = await rawRequest(`${server.url}${authorizeUrl(alexaAuthorize())}`, { headers });
      for (const c of setCookies(page.headers)) expect(c).toMatch(/;\s*Secure/i);
      const meta = await rawRequest(`${server.url}${META}`, { headers });
      expect((JSON.parse(meta.body) as { issuer: string }).issuer).toBe('https://ha.example.com');
      expect(meta.headers['cache-control']).toBe('no-store'); // still derived from headers: not shared
    } finally {
      await server.stop();
    }
  });
});

describe('with public_url', () => {
  it('cookies are Secure and the metadata is the same for everyone, so it may be cached', async () => {
    const server = await startInProcess({ options: testOptions({ public_url: 'https://music.example.org' }) });
    try {
      const headers = { host: 'evil.example', 'x-forwarded-proto': 'http' };
      const page = await rawRequest(`${server.url}${authorizeUrl(alexaAuthorize())}`, { headers });
      for (const c of setCookies(page.headers)) expect(c).toMatch(/;\s*Secure/i);
      const meta = await rawRequest(`${server.url}${META}`, { headers });
      expect((JSON.parse(meta.body) as { issuer: string }).issuer).toBe('https://music.example.org');
      expect(meta.headers['cache-control']).toBe('public, max-age=300');
    } finally {
      await server.stop();
    }
  });
});
