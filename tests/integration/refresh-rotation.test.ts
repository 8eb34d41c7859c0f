/**
 * grant_type=refresh_token: rotation, retries that must never unlink anyone (sequential and concurrent), reuse
 * detection once a newer token has been used, and scope narrowing.
 */
import { RunningServer } from '../../src/main';
import { lookupToken } from '../../src/oauth/access-tokens';
import { TokenBody, introspectAsResourceServer, linkAccount, refresh, tokenRequest } from '../helpers/alexa-client';
import { startInProcess, waitForTrace } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

async function refreshOk(refreshToken: string, auth: 'basic' | 'body' = 'basic'): Promise<TokenBody> {
  const res = await refresh(server.url, refreshToken, auth);
  expect(res.status).toBe(200);
  return (await res.json()) as TokenBody;
}

async function expectInvalidGrant(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
}

const isActive = async (token: string) => (await lookupToken(server.deps.grants, token)).active;

it('rotates: a new access and refresh token, the response shaped as RFC 6749 §5.1', async () => {
  const linked = await linkAccount(server.url);
  const res = await refresh(server.url, linked.refresh_token, 'body');
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const next = (await res.json()) as TokenBody;
  expect(next).toEqual({
    access_token: expect.stringMatching(/^[\w-]{43}$/),
    refresh_token: expect.stringMatching(/^[\w-]{43}$/),
    token_type: 'Bearer',
    expires_in: 3600,
    scope: 'music.read music.control',
  });
  expect(next.refresh_token).not.toBe(linked.refresh_token);
  expect(next.access_token).not.toBe(linked.access_token);
});

describe('a retried refresh never unlinks', () => {
  it('the same refresh token presented three times in a row: every answer is 200 and every returned token is live', async () => {
    const linked = await linkAccount(server.url);
    const answers = [await refreshOk(linked.refresh_token), await refreshOk(linked.refresh_token), await refreshOk(linked.refresh_token)];
    expect(new Set(answers.map((a) => a.refresh_token)).size).toBe(3);
    for (const a of answers) {
      expect(await isActive(a.refresh_token)).toBe(true);
      expect(await isActive(a.access_token)).toBe(true);
    }
  });

  it('5 refreshes with the same token at the same moment: all 200, all returned tokens live', async () => {
    const linked = await linkAccount(server.url);
    const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(server.url, linked.refresh_token)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(5);
    for (const b of bodies) expect(await isActive(b.refresh_token)).toBe(true);
  });

  // Alexa keeps whichever response reached it last: any one of the concurrent answers must carry the link on.
  it.each([0, 1, 2, 3, 4])('after 5 concurrent retries, the refresh token of answer %i refreshes successfully', async (kept) => {
    const linked = await linkAccount(server.url);
    const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(server.url, linked.refresh_token)));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    const next = await refreshOk(bodies[kept].refresh_token);
    expect(await refreshOk(next.refresh_token)).toBeDefined();
  });

  it('the newest parent presented again after its rotation is a retry: both of its children stay live', async () => {
    const linked = await linkAccount(server.url);
    const first = await refreshOk(linked.refresh_token);
    const second = await refreshOk(first.refresh_token);
    // first.refresh_token is now the parent of the live family: presenting it again is a retry, not reuse
    const secondRetry = await refreshOk(first.refresh_token);
    expect(await isActive(second.refresh_token)).toBe(true);
    expect(await isActive(secondRetry.refresh_token)).toBe(true);
  });
});

describe('reuse after a newer token was used revokes the grant', () => {
  it('old refresh token after the new one was refreshed: invalid_grant, every live token dies, security warning traced', async () => {
    const linked = await linkAccount(server.url);
    const first = await refreshOk(linked.refresh_token);
    const second = await refreshOk(first.refresh_token); // first's family is now used
    expect(await isActive(second.access_token)).toBe(true);

    const reuse = await refresh(server.url, linked.refresh_token);
    await expectInvalidGrant(reuse);

    // the whole grant is gone: the live refresh token and the live access tokens
    await expectInvalidGrant(await refresh(server.url, second.refresh_token));
    expect(await isActive(second.access_token)).toBe(false);
    expect(await isActive(first.access_token)).toBe(false);
    expect(await isActive(linked.access_token)).toBe(false);

    const entry = await waitForTrace(server.dataDir, (e) => e.step === 'token' && e.kind === 'refresh_reuse');
    expect(entry).toMatchObject({ outcome: 'security', error: 'invalid_grant', grantType: 'refresh_token', clientId: 'amazon-alexa' });
    expect(entry.cause).toMatch(/revoked/);
  });

  it('old refresh token after an access token from the new family was used (introspected by Music Assistant): reuse', async () => {
    const linked = await linkAccount(server.url);
    const first = await refreshOk(linked.refresh_token);
    const retry = await refreshOk(linked.refresh_token); // still a retry: nothing from the family used yet
    const used = await introspectAsResourceServer(server.url, retry.access_token);
    expect(((await used.json()) as { active: boolean }).active).toBe(true);

    await expectInvalidGrant(await refresh(server.url, linked.refresh_token));
    await expectInvalidGrant(await refresh(server.url, retry.refresh_token));
    expect(await isActive(first.access_token)).toBe(false);
  });

  it('a retry sibling presented after another sibling was used is reuse too', async () => {
    const linked = await linkAccount(server.url);
    const a = await refreshOk(linked.refresh_token);
    const b = await refreshOk(linked.refresh_token); // retry: a and b both live
    await refreshOk(b.refresh_token); // the client kept b and used it
    await expectInvalidGrant(await refresh(server.url, linked.refresh_token));
    await expectInvalidGrant(await refresh(server.url, a.refresh_token));
  });

  it('concurrent presentations of an already-superseded token all fail, and nothing hangs', async () => {
    const linked = await linkAccount(server.url);
    const first = await refreshOk(linked.refresh_token);
    await refreshOk(first.refresh_token);
    const responses = await Promise.all(Array.from({ length: 4 }, () => refresh(server.url, linked.refresh_token)));
    for (const r of responses) await expectInvalidGrant(r);
  });
});

describe('refresh is bound to its client', () => {
  it('a refresh token presented by another client fails without revoking the owner\'s grant', async () => {
    const linked = await linkAccount(server.url);
    const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: linked.refresh_token }, 'none', 'public-app');
    await expectInvalidGrant(res);
    expect(await refreshOk(linked.refresh_token)).toBeDefined();
  });

  it('an unknown refresh token is invalid_grant; a missing one is invalid_request (RFC 6749 §5.2)', async () => {
    await expectInvalidGrant(await refresh(server.url, 'x'.repeat(43)));
    const missing = await tokenRequest(server.url, { grant_type: 'refresh_token' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('refresh_token') });
  });
});

describe('scope', () => {
  it('may be narrowed on refresh; the refresh token keeps the full grant', async () => {
    const linked = await linkAccount(server.url);
    const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: linked.refresh_token, scope: 'music.read' });
    expect(res.status).toBe(200);
    const narrowed = (await res.json()) as TokenBody;
    expect(narrowed.scope).toBe('music.read');
    const full = await refreshOk(narrowed.refresh_token);
    expect(full.scope).toBe('music.read music.control');
  });

  it('may not be widened: invalid_scope, and the grant survives', async () => {
    const linked = await linkAccount(server.url);
    const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: linked.refresh_token, scope: 'music.read admin' });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining('admin') });
    expect(await refreshOk(linked.refresh_token)).toBeDefined();
  });
});
