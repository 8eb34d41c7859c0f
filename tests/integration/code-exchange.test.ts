/**
 * grant_type=authorization_code: single use (a replay revokes what the first redemption produced), expiry,
 * binding to the client and to the exact redirect_uri, PKCE S256 (mismatch, missing verifier, downgrade), and
 * exactly one success among concurrent redemptions.
 */
import { expect } from '@jest/globals';
import { RunningServer } from '../../src/main';
import { lookupToken } from '../../src/oauth/access-tokens';
import { Browser, TokenBody, exchangeCode, issueCode, linkInBrowser, pkcePair, refresh, tokenRequest } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, startInProcess } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

async function expectError(res: Response, error: string, status = 400): Promise<string> {
  expect(res.status).toBe(status);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const body = (await res.json()) as { error: string; error_description: string };
  expect(body).toEqual({ error, error_description: expect.any(String) });
  return body.error_description;
}

it('a code with PKCE exchanges once for tokens', async () => {
  const { code, verifier } = await issueCode(server.url);
  const res = await exchangeCode(server.url, code, verifier);
  expect(res.status).toBe(200);
  expect(((await res.json()) as TokenBody).token_type).toBe('Bearer');
});

it('a confidential client may skip PKCE (Alexa without PKCE)', async () => {
  const { code } = await issueCode(server.url, { pkce: false });
  expect((await exchangeCode(server.url, code, undefined, {}, 'body')).status).toBe(200);
});

describe('single use', () => {
  it('a second redemption is invalid_grant and kills every token the first one issued', async () => {
    const { code, verifier } = await issueCode(server.url);
    const first = await exchangeCode(server.url, code, verifier);
    expect(first.status).toBe(200);
    const tokens = (await first.json()) as TokenBody;
    expect(lookupToken(server.deps.grants, tokens.access_token).active).toBe(true);

    await expectError(await exchangeCode(server.url, code, verifier), 'invalid_grant');

    await expectError(await refresh(server.url, tokens.refresh_token), 'invalid_grant');
    expect(lookupToken(server.deps.grants, tokens.access_token).active).toBe(false);
  });

  it('a replay also kills tokens already refreshed from the first redemption', async () => {
    const { code, verifier } = await issueCode(server.url);
    const tokens = (await (await exchangeCode(server.url, code, verifier)).json()) as TokenBody;
    const refreshed = (await (await refresh(server.url, tokens.refresh_token)).json()) as TokenBody;
    await expectError(await exchangeCode(server.url, code, verifier, {}, 'body'), 'invalid_grant');
    await expectError(await refresh(server.url, refreshed.refresh_token), 'invalid_grant');
    expect(lookupToken(server.deps.grants, refreshed.access_token).active).toBe(false);
  });

  it('10 concurrent redemptions of one code: exactly one 200, the rest invalid_grant', async () => {
    const { code, verifier } = await issueCode(server.url);
    const responses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => exchangeCode(server.url, code, verifier, {}, i % 2 ? 'body' : 'basic')),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 400, 400, 400, 400, 400, 400, 400, 400, 400]);
    for (const r of responses.filter((r) => r.status === 400)) expect(((await r.json()) as { error: string }).error).toBe('invalid_grant');
  });

  it('a missing code is invalid_request; an unknown one invalid_grant', async () => {
    await expectError(
      await tokenRequest(server.url, { grant_type: 'authorization_code', redirect_uri: ALEXA_REDIRECT }),
      'invalid_request',
    );
    await expectError(await exchangeCode(server.url, 'A'.repeat(43), undefined), 'invalid_grant');
  });
});

describe('binding', () => {
  it('a code issued to Alexa cannot be redeemed by another client; its owner still can', async () => {
    const { code, verifier } = await issueCode(server.url);
    const stolen = await tokenRequest(
      server.url,
      { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier! },
      'none',
      'public-app',
    );
    await expectError(stolen, 'invalid_grant');
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
  });

  it.each([
    ['another registered URI of the same client', 'https://pitangui.amazon.com/api/skill/link/M2TESTVENDOR'],
    ['a trailing slash', `${ALEXA_REDIRECT}/`],
    ['different case', ALEXA_REDIRECT.replace('M2TESTVENDOR', 'm2testvendor')],
    ['an added query', `${ALEXA_REDIRECT}?x=1`],
  ])('redirect_uri must equal the authorize request byte for byte: %s is refused', async (_what, uri) => {
    const { code, verifier } = await issueCode(server.url);
    await expectError(await exchangeCode(server.url, code, verifier, { redirect_uri: uri }), 'invalid_grant');
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
  });

  it('redirect_uri given at authorize must be repeated at the token endpoint', async () => {
    const { code, verifier } = await issueCode(server.url);
    const form: Record<string, string> = { grant_type: 'authorization_code', code, code_verifier: verifier! };
    await expectError(await tokenRequest(server.url, form), 'invalid_grant');
  });

  it('a client with one registered URI may omit redirect_uri at both steps', async () => {
    const { verifier, challenge } = pkcePair();
    const redirect = await linkInBrowser(new Browser(server.url), {
      client_id: 'public-app',
      response_type: 'code',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(redirect.origin + redirect.pathname).toBe('https://app.example.com/callback');
    const res = await tokenRequest(
      server.url,
      { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, code_verifier: verifier },
      'none',
      'public-app',
    );
    expect(res.status).toBe(200);
  });
});

describe('PKCE', () => {
  it('a wrong verifier is invalid_grant; the right one still works afterwards', async () => {
    const { code, verifier } = await issueCode(server.url);
    await expectError(await exchangeCode(server.url, code, pkcePair().verifier), 'invalid_grant');
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
  });

  it('a missing verifier for a code issued with a challenge is invalid_grant', async () => {
    const { code } = await issueCode(server.url);
    await expectError(await exchangeCode(server.url, code, undefined), 'invalid_grant');
  });

  it('a malformed (too short) verifier is invalid_grant', async () => {
    const { code } = await issueCode(server.url);
    await expectError(await exchangeCode(server.url, code, 'short'), 'invalid_grant');
  });

  it('downgrade: a verifier for a code issued without a challenge is invalid_grant', async () => {
    const { code } = await issueCode(server.url, { pkce: false });
    await expectError(await exchangeCode(server.url, code, pkcePair().verifier), 'invalid_grant');
  });

  it('the verifier is checked against the challenge, not just present: S256(challenge) as verifier fails', async () => {
    const { verifier, challenge } = pkcePair();
    const redirect = await linkInBrowser(new Browser(server.url), {
      client_id: 'amazon-alexa',
      redirect_uri: ALEXA_REDIRECT,
      response_type: 'code',
      state: 's',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    const code = redirect.searchParams.get('code')!;
    await expectError(await exchangeCode(server.url, code, challenge), 'invalid_grant');
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
  });
});

describe('expiry (auth_code_lifetime 300 s, on a server whose clock the test moves)', () => {
  let t = Date.parse('2030-01-01T00:00:00Z');
  let timed: RunningServer & { dataDir: string };
  beforeAll(async () => {
    timed = await startInProcess({ now: () => t });
  });
  afterAll(async () => timed.stop());

  it('a code redeemed 299 s after issue works', async () => {
    const { code, verifier } = await issueCode(timed.url);
    t += 299_000;
    expect((await exchangeCode(timed.url, code, verifier)).status).toBe(200);
  });

  it('a code redeemed 301 s after issue is invalid_grant', async () => {
    const { code, verifier } = await issueCode(timed.url);
    t += 301_000;
    const description = await expectError(await exchangeCode(timed.url, code, verifier), 'invalid_grant');
    expect(description).toMatch(/expired/);
  });
});
