/**
 * X-Forwarded-* are honoured only from trusted_proxies: the issuer (iss) is derived from them and the rate limits
 * key on the real client IP behind a trusted proxy; from anyone else the headers are ignored, so they cannot be
 * used to dodge a limit or to forge the issuer. public_url, when set, is the issuer whatever the headers say.
 */
import { RunningServer } from '../../src/main';
import { alexaAuthorize, attemptLogin, authorizeUrl, tokenRequest } from '../helpers/alexa-client';
import { OWNER, startInProcess, testOptions } from '../helpers/test-server';

async function tokenFailure(srv: RunningServer, forwardedFor: string): Promise<number> {
  const res = await tokenRequest(srv.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'body', 'amazon-alexa', 'wrong', {
    headers: { 'x-forwarded-for': forwardedFor },
  });
  return res.status;
}

async function issFor(srv: RunningServer, headers: Record<string, string>): Promise<string | null> {
  const res = await fetch(`${srv.url}${authorizeUrl(alexaAuthorize({ response_type: 'token' }))}`, { redirect: 'manual', headers });
  return new URL(res.headers.get('location')!).searchParams.get('iss');
}

const PROXY_HEADERS = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'ha.example.com' };

describe('without trusted_proxies', () => {
  let server: RunningServer & { dataDir: string };
  beforeAll(async () => {
    server = await startInProcess({ rateLimits: { tokenFailuresPerIp: 2 } });
  });
  afterAll(async () => server.stop());

  it('iss is the address the request reached, X-Forwarded-Host/Proto ignored', async () => {
    expect(await issFor(server, PROXY_HEADERS)).toBe(server.url);
  });

  it('a changing X-Forwarded-For does not escape the per-IP token limit', async () => {
    expect(await tokenFailure(server, '203.0.113.1')).toBe(401);
    expect(await tokenFailure(server, '203.0.113.2')).toBe(401);
    expect(await tokenFailure(server, '203.0.113.3')).toBe(429);
  });
});

describe('behind a trusted proxy (trusted_proxies: [loopback])', () => {
  let server: RunningServer & { dataDir: string };
  beforeAll(async () => {
    server = await startInProcess({
      options: testOptions({ trusted_proxies: ['loopback'] }),
      rateLimits: { tokenFailuresPerIp: 2, loginFailuresPerIp: 2 },
    });
  });
  afterAll(async () => server.stop());

  it('iss comes from X-Forwarded-Proto and X-Forwarded-Host', async () => {
    expect(await issFor(server, PROXY_HEADERS)).toBe('https://ha.example.com');
  });

  it('the token limit keys on the client IP from X-Forwarded-For', async () => {
    expect(await tokenFailure(server, '198.51.100.7')).toBe(401);
    expect(await tokenFailure(server, '198.51.100.7')).toBe(401);
    expect(await tokenFailure(server, '198.51.100.7')).toBe(429);
    expect(await tokenFailure(server, '198.51.100.8')).toBe(401);
  });

  it('the login limit keys on the client IP from X-Forwarded-For', async () => {
    const failLogin = async (ip: string, user: string) =>
      (await attemptLogin(server.url, { username: user, password: 'wrong password' }, { 'x-forwarded-for': ip })).status;
    expect(await failLogin('198.51.100.20', 'a')).toBe(401);
    expect(await failLogin('198.51.100.20', 'b')).toBe(401);
    expect(await failLogin('198.51.100.20', 'c')).toBe(429);
    expect(await failLogin('198.51.100.21', 'd')).toBe(401);
    // and the owner behind another address still logs in
    expect((await attemptLogin(server.url, OWNER)).status).toBe(303);
  });
});

describe('with public_url', () => {
  let server: RunningServer & { dataDir: string };
  beforeAll(async () => {
    server = await startInProcess({
      options: testOptions({ public_url: 'https://music.example.org/oauth/', trusted_proxies: ['loopback'] }),
    });
  });
  afterAll(async () => server.stop());

  it('iss is public_url without its trailing slash, whatever the forwarded headers say', async () => {
    expect(await issFor(server, PROXY_HEADERS)).toBe('https://music.example.org/oauth');
    expect(await issFor(server, {})).toBe('https://music.example.org/oauth');
  });
});
