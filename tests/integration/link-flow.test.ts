/** The whole account-linking flow as Alexa drives it, over real HTTP, with both client-authentication styles. */
import { expect } from '@jest/globals';
import { RunningServer } from '../../src/main';
import { lookupToken } from '../../src/oauth/access-tokens';
import { ALEXA_REDIRECT, startInProcess } from '../helpers/test-server';
import {
  ACCESS_TOKEN,
  AuthStyle,
  Browser,
  PUBLIC_REDIRECT,
  REFRESH_TOKEN,
  TokenBody,
  alexaAuthorize,
  authorizeUrl,
  exchangeCode,
  linkAccount,
  linkInBrowser,
  pkcePair,
  publicAuthorize,
  refresh,
  refreshPublic,
  tokenRequest,
} from '../helpers/alexa-client';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

describe.each<AuthStyle>(['basic', 'body'])('link with client credentials by %s', (auth) => {
  it('authorize, log in, approve, exchange the code, refresh', async () => {
    const { verifier, challenge } = pkcePair();
    const redirect = await linkInBrowser(
      new Browser(server.url),
      alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    expect(redirect.origin + redirect.pathname).toBe(ALEXA_REDIRECT);
    expect(redirect.searchParams.get('state')).toBe('alexa-state-123');
    expect(redirect.searchParams.get('iss')).toBe(server.url);
    const code = redirect.searchParams.get('code')!;
    expect(code).toMatch(/^[\w-]{43}$/);

    const res = await tokenRequest(
      server.url,
      { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier },
      auth,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const tokens = (await res.json()) as TokenBody;
    expect(tokens).toEqual({
      access_token: expect.stringMatching(ACCESS_TOKEN),
      refresh_token: expect.stringMatching(REFRESH_TOKEN),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'music.read music.control',
    });
    expect(tokens.access_token).not.toBe(tokens.refresh_token);
    // The refresh token names the grant the code created: its id, then the secret.
    const grantId = tokens.refresh_token.split('.')[0];
    expect(lookupToken(server.deps.grants, tokens.access_token)).toMatchObject({ active: true, found: { grant: { id: grantId } } });

    const refreshed = await refresh(server.url, tokens.refresh_token, auth);
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as TokenBody;
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.access_token).not.toBe(tokens.access_token);
    expect(next.scope).toBe('music.read music.control');
    // both access tokens stay valid until they expire; the new refresh token works
    expect(lookupToken(server.deps.grants, next.access_token).active).toBe(true);
    expect(lookupToken(server.deps.grants, tokens.access_token).active).toBe(true);
    expect((await refresh(server.url, next.refresh_token, auth)).status).toBe(200);
  });
});

it('stores only hashes: no raw token or code appears in the database file', async () => {
  const tokens = await linkAccount(server.url);
  const { readFileSync, existsSync } = await import('node:fs');
  const db = server.deps.store.file;
  const content = [db, `${db}-wal`]
    .filter(existsSync)
    .map((f) => readFileSync(f).toString('latin1'))
    .join('');
  expect(content.length).toBeGreaterThan(0);
  // Neither token, nor either token's secret (before the dot: the refresh token's grant id, stored as such, and the
  // access token's second of issue, which its key begins with).
  for (const token of [tokens.access_token, tokens.refresh_token]) {
    expect(content).not.toContain(token);
    expect(content).not.toContain(token.split('.')[1]);
  }
  expect(content).toContain('grant');
});

it('a public client links with PKCE and no secret', async () => {
  const { verifier, challenge } = pkcePair();
  // No scope asked: the client's registered scopes.
  const redirect = await linkInBrowser(new Browser(server.url), publicAuthorize(challenge, { state: 's', scope: undefined }));
  const res = await exchangeCode(
    server.url,
    redirect.searchParams.get('code')!,
    verifier,
    { redirect_uri: PUBLIC_REDIRECT },
    'none',
    'public-app',
  );
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as TokenBody;
  expect(tokens.scope).toBe('music.read');
  const again = await refreshPublic(server.url, tokens.refresh_token);
  expect(again.status).toBe(200);
});

it('a second link while logged in skips the login page and goes straight to consent', async () => {
  const browser = new Browser(server.url);
  await linkInBrowser(browser);
  const page = await browser.request(authorizeUrl(alexaAuthorize()));
  const html = await page.text();
  expect(html).toContain('Approve &amp; Link Account');
  expect(html).not.toContain('name="password"');
});
