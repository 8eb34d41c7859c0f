/**
 * POST /alexa/token as an HTTP endpoint: grant types, body format, repeated and oversized parameters, the
 * RFC 6749 §5.2 error shape, and the per-IP limit on failures.
 */
import { RunningServer } from '../../src/main';
import { basicAuth, issueCode, linkAccount, rawTokenRequest, refresh, tokenRequest } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, CLIENT_SECRET, startInProcess } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

const FORM = 'application/x-www-form-urlencoded';
const BASIC = basicAuth('amazon-alexa', CLIENT_SECRET);

/** Asserts the RFC 6749 §5.2 shape: JSON with exactly error and error_description, never cached. */
async function expectOAuthError(res: Response, status: number, error: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
  expect(body.error).toBe(error);
  expect(typeof body.error_description).toBe('string');
  // RFC 6749 §5.2: error_description is limited to %x20-21 / %x23-5B / %x5D-7E
  expect(body.error_description).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/);
}

describe('grant types', () => {
  it.each(['password', 'client_credentials', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code', 'AUTHORIZATION_CODE'])(
    'grant_type=%s is unsupported_grant_type',
    async (grantType) => {
      const res = await tokenRequest(
        server.url,
        { grant_type: grantType, username: 'owner', password: 'correct horse battery staple' },
        'basic',
      );
      await expectOAuthError(res, 400, 'unsupported_grant_type');
    },
  );

  it('the password grant with an unknown client is invalid_client (authentication comes first)', async () => {
    const res = await tokenRequest(server.url, { grant_type: 'password', username: 'owner', password: 'x' }, 'basic', 'nobody', 'nothing');
    await expectOAuthError(res, 401, 'invalid_client');
  });

  it('an error_description echoing odd input stays within the RFC 6749 §5.2 character set', async () => {
    const res = await tokenRequest(server.url, { grant_type: 'pass"wörd\\\n' }, 'basic');
    await expectOAuthError(res, 400, 'unsupported_grant_type');
  });

  it('a missing grant_type is invalid_request', async () => {
    await expectOAuthError(await tokenRequest(server.url, { code: 'x' }, 'basic'), 400, 'invalid_request');
  });
});

describe('body format', () => {
  it.each([
    ['application/json', JSON.stringify({ grant_type: 'refresh_token', refresh_token: 'x' })],
    ['text/plain', 'grant_type=refresh_token&refresh_token=x'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nrefresh_token\r\n--x--\r\n'],
  ])('Content-Type %s is invalid_request', async (type, body) => {
    await expectOAuthError(await rawTokenRequest(server.url, body, { 'content-type': type, authorization: BASIC }), 400, 'invalid_request');
  });

  it('a form body with a charset parameter is accepted', async () => {
    const tokens = await linkAccount(server.url);
    const res = await rawTokenRequest(
      server.url,
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }).toString(),
      {
        'content-type': `${FORM}; charset=UTF-8`,
        authorization: BASIC,
      },
    );
    expect(res.status).toBe(200);
  });

  it.each(['grant_type', 'code', 'redirect_uri', 'code_verifier', 'client_id'])('a repeated %s is invalid_request', async (name) => {
    const { code, verifier } = await issueCode(server.url);
    const params = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: ALEXA_REDIRECT,
      code_verifier: verifier!,
      client_id: 'amazon-alexa',
    });
    params.append(name, params.get(name)!);
    await expectOAuthError(
      await rawTokenRequest(server.url, params.toString(), { 'content-type': FORM, authorization: BASIC }),
      400,
      'invalid_request',
    );
  });

  it('a body over 16 kB is 413 with a JSON error', async () => {
    const body = `grant_type=refresh_token&refresh_token=${'a'.repeat(20_000)}`;
    await expectOAuthError(await rawTokenRequest(server.url, body, { 'content-type': FORM, authorization: BASIC }), 413, 'invalid_request');
  });

  it('a form with hundreds of parameters is refused with a JSON error', async () => {
    const body = Array.from({ length: 200 }, (_, i) => `p${i}=1`).join('&');
    const res = await rawTokenRequest(server.url, body, { 'content-type': FORM, authorization: BASIC });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    await expectOAuthError(res, res.status, 'invalid_request');
  });

  it('a malformed percent-encoding does not crash the endpoint', async () => {
    const res = await rawTokenRequest(server.url, 'grant_type=refresh_token&refresh_token=%E0%A4%A', {
      'content-type': FORM,
      authorization: BASIC,
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(((await res.json()) as { error: string }).error).toMatch(/^invalid_/);
  });
});

describe('responses', () => {
  it('success carries no-store and the five RFC 6749 §5.1 members', async () => {
    const tokens = await linkAccount(server.url);
    const res = await refresh(server.url, tokens.refresh_token);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('pragma')).toBe('no-cache');
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'scope', 'token_type']);
    expect(Number.isInteger(body.expires_in)).toBe(true);
    expect(body.expires_in as number).toBeGreaterThanOrEqual(360);
  });

  it('errors never leak the operator detail (configured ids, fingerprints) to the client', async () => {
    const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'amazon-alexa', 'wrong');
    const body = (await res.json()) as { error_description: string };
    expect(body.error_description).not.toMatch(/#[0-9a-f]{8}|configured|public-app/);
  });
});

describe('failures are rate limited per client IP', () => {
  let limited: RunningServer & { dataDir: string };
  beforeAll(async () => {
    limited = await startInProcess({ rateLimits: { tokenFailuresPerIp: 3 } });
  });
  afterAll(async () => limited.stop());

  it('successes do not count; after 3 failures the 4th request is 429 with Retry-After and a JSON body', async () => {
    const tokens = await linkAccount(limited.url);
    let current = tokens.refresh_token;
    for (let i = 0; i < 5; i++) {
      const ok = await refresh(limited.url, current);
      expect(ok.status).toBe(200);
      current = ((await ok.json()) as { refresh_token: string }).refresh_token;
    }
    for (let i = 0; i < 3; i++) {
      expect(
        (await tokenRequest(limited.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'amazon-alexa', 'wrong')).status,
      ).toBe(401);
    }
    const blocked = await tokenRequest(limited.url, { grant_type: 'refresh_token', refresh_token: 'x' }, 'basic', 'amazon-alexa', 'wrong');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.headers.get('cache-control')).toBe('no-store');
    expect(((await blocked.json()) as { error: string }).error).toEqual(expect.any(String));
  });
});
