/**
 * grant_type=refresh_token: rotation; for a confidential client (Alexa) the grace window of earlier generations,
 * so retries, lost answers and concurrent refreshes never unlink anyone; for a public client rotation with reuse
 * detection; and scope narrowing.
 */
import { expect } from '@jest/globals';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { tokenKey } from '../../src/crypto/tokens';
import { RunningServer } from '../../src/main';
import { lookupToken } from '../../src/oauth/access-tokens';
import {
  ACCESS_TOKEN,
  REFRESH_TOKEN,
  TokenBody,
  introspection,
  linkAccount,
  linkPublic,
  refresh,
  refreshOk,
  refreshPublic,
  tokenRequest,
} from '../helpers/alexa-client';
import { startInProcess, testOptions, waitForTrace } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

async function expectInvalidGrant(res: Response): Promise<void> {
  expect(res.status).toBe(400);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual({ error: 'invalid_grant', error_description: expect.any(String) });
}

const isActive = (token: string) => lookupToken(server.deps.grants, token).active;

it('rotates: a new access and refresh token, the response shaped as RFC 6749 §5.1', async () => {
  const linked = await linkAccount(server.url);
  const res = await refresh(server.url, linked.refresh_token, 'body');
  expect(res.status).toBe(200);
  expect(res.headers.get('cache-control')).toBe('no-store');
  const next = (await res.json()) as TokenBody;
  expect(next).toEqual({
    access_token: expect.stringMatching(ACCESS_TOKEN),
    refresh_token: expect.stringMatching(REFRESH_TOKEN),
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
    const answers = [
      await refreshOk(server.url, linked.refresh_token),
      await refreshOk(server.url, linked.refresh_token),
      await refreshOk(server.url, linked.refresh_token),
    ];
    expect(new Set(answers.map((a) => a.refresh_token)).size).toBe(3);
    for (const a of answers) {
      expect(isActive(a.refresh_token)).toBe(true);
      expect(isActive(a.access_token)).toBe(true);
    }
  });

  it('5 refreshes with the same token at the same moment: all 200, all returned tokens live', async () => {
    const linked = await linkAccount(server.url);
    const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(server.url, linked.refresh_token)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(5);
    for (const b of bodies) expect(isActive(b.refresh_token)).toBe(true);
  });

  // Alexa keeps whichever response reached it last: any one of the concurrent answers must carry the link on.
  it.each([0, 1, 2, 3, 4])('after 5 concurrent retries, the refresh token of answer %i refreshes successfully', async (kept) => {
    const linked = await linkAccount(server.url);
    const responses = await Promise.all(Array.from({ length: 5 }, () => refresh(server.url, linked.refresh_token)));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    const next = await refreshOk(server.url, bodies[kept]!.refresh_token);
    expect(await refreshOk(server.url, next.refresh_token)).toBeDefined();
  });

  // Retries and concurrent refreshes add answers beside the newest token and push no earlier token back: before,
  // each answer pushed the presented token one generation further, and the 12th (with 10 generations) was refused.
  it.each([12, 30])('%i refreshes with the same token at the same moment: all 200, and every answer then refreshes', async (n) => {
    const linked = await linkAccount(server.url);
    const responses = await Promise.all(Array.from({ length: n }, () => refresh(server.url, linked.refresh_token)));
    expect(responses.map((r) => r.status)).toEqual(Array<number>(n).fill(200));
    const bodies = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    for (const b of bodies) expect(await refreshOk(server.url, b.refresh_token)).toBeDefined();
    expect(await refreshOk(server.url, linked.refresh_token)).toBeDefined();
  });

  it('12 retries one after the other, every answer lost: each is 200, and each lost answer still refreshes', async () => {
    const linked = await linkAccount(server.url);
    const lost: TokenBody[] = [];
    for (let i = 0; i < 12; i++) lost.push(await refreshOk(server.url, linked.refresh_token));
    for (const answer of lost.reverse()) expect(await refreshOk(server.url, answer.refresh_token)).toBeDefined();
  });

  it('an earlier token presented again after its rotation: both answers stay live', async () => {
    const linked = await linkAccount(server.url);
    const first = await refreshOk(server.url, linked.refresh_token);
    const second = await refreshOk(server.url, first.refresh_token);
    const secondRetry = await refreshOk(server.url, first.refresh_token);
    expect(isActive(second.refresh_token)).toBe(true);
    expect(isActive(secondRetry.refresh_token)).toBe(true);
  });
});

describe('a confidential client (Alexa): earlier generations stay valid within the grace window, and no refresh revokes the grant', () => {
  it('R0 refreshed to R1 whose access token is used, then R0 again (a lost answer retried): 200, and R1 and the grant stay valid', async () => {
    const r0 = await linkAccount(server.url);
    const r1 = await refreshOk(server.url, r0.refresh_token);
    expect((await introspection(server.url, r1.access_token)).active).toBe(true);
    const again = await refreshOk(server.url, r0.refresh_token);
    expect(isActive(r1.access_token)).toBe(true);
    expect(await refreshOk(server.url, r1.refresh_token)).toBeDefined();
    expect(await refreshOk(server.url, again.refresh_token)).toBeDefined();
    const entry = await waitForTrace(server.dataDir, (e) => e.step === 'token' && e.outcome === 'ok' && e.detail?.presented === 'grace');
    expect(entry.detail).toMatchObject({ presented: 'grace', behind: expect.any(Number) });
  });

  // Alexa refreshes concurrently, uses whichever answer came first and keeps whichever came last.
  it.each([
    [0, 3],
    [3, 0],
    [1, 2],
    [2, 2],
  ])(
    "4 concurrent refreshes; answer %i's access token is used, answer %i is kept: its refresh token carries the link on",
    async (used, kept) => {
      const linked = await linkAccount(server.url);
      const responses = await Promise.all(Array.from({ length: 4 }, () => refresh(server.url, linked.refresh_token)));
      expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
      expect((await introspection(server.url, bodies[used]!.access_token)).active).toBe(true);
      const next = await refreshOk(server.url, bodies[kept]!.refresh_token);
      expect(await refreshOk(server.url, next.refresh_token)).toBeDefined();
      for (const b of bodies) expect(isActive(b.access_token)).toBe(true);
    },
  );

  it('a long chain of refreshes keeps only the newest token and the last refresh_token_grace_generations earlier ones', async () => {
    const linked = await linkAccount(server.url);
    let current = linked;
    for (let i = 0; i < 48; i++) current = await refreshOk(server.url, current.refresh_token);
    const grantId = server.deps.grants.storage.read((tx) => tx.tokens.find(tokenKey(current.refresh_token)))!.grantId;
    const db = new DatabaseSync(path.join(server.dataDir, 'oauth.sqlite'), { readOnly: true });
    try {
      // Every token row, wherever it sits: a refresh token under its grant's row, others at token:<hash>.
      const rows = db.prepare(`SELECT value FROM kv WHERE key LIKE 'token:%' OR key LIKE 'grant:%/%'`).all() as Array<{ value: string }>;
      const refreshRecords = rows
        .map((r) => (JSON.parse(r.value) as { value: { kind?: string; grantId?: string } }).value)
        .filter((v) => v.kind === 'refresh' && v.grantId === grantId);
      expect(refreshRecords).toHaveLength(1 + 10);
    } finally {
      db.close();
    }
  });
});

describe('outside the grace window: invalid_grant, the grant and its newer tokens untouched', () => {
  let t = Date.parse('2031-03-01T00:00:00Z');
  let tight: RunningServer & { dataDir: string };
  beforeAll(async () => {
    tight = await startInProcess({
      options: testOptions({ refresh_token_grace_generations: 2, refresh_token_grace_period: 3600 }),
      now: () => t,
    });
  });
  afterAll(async () => tight.stop());
  const refreshTight = async (token: string, extra: Record<string, string> = {}) =>
    tokenRequest(tight.url, { grant_type: 'refresh_token', refresh_token: token, ...extra });

  it('more generations back than refresh_token_grace_generations', async () => {
    const r0 = await linkAccount(tight.url);
    let current = r0;
    for (let i = 0; i < 3; i++) current = (await (await refreshTight(current.refresh_token)).json()) as TokenBody;
    const res = await refreshTight(r0.refresh_token);
    await expectInvalidGrant(res);
    expect((await refreshTight(current.refresh_token)).status).toBe(200);
    const entry = await waitForTrace(tight.dataDir, (e) => e.kind === 'refresh_superseded' || e.kind === 'refresh_unknown');
    expect(entry.outcome).toBe('error');
  });

  it('superseded longer ago than refresh_token_grace_period; an invalid scope does not hide it', async () => {
    const r0 = await linkAccount(tight.url);
    const r1 = (await (await refreshTight(r0.refresh_token)).json()) as TokenBody;
    t += 3601_000;
    const res = await refreshTight(r0.refresh_token, { scope: 'music.read admin' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    expect((await refreshTight(r1.refresh_token)).status).toBe(200);
  });
});

describe('a public client: rotation with reuse detection', () => {
  it('racing siblings all work until one of them is rotated; then an older one is reuse and revokes the grant', async () => {
    const linked = await linkPublic(server.url);
    const responses = await Promise.all(Array.from({ length: 3 }, () => refreshPublic(server.url, linked.refresh_token)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    const siblings = (await Promise.all(responses.map((r) => r.json()))) as TokenBody[];
    for (const s of siblings) expect(isActive(s.refresh_token)).toBe(true);
    const rotated = (await (await refreshPublic(server.url, siblings[1]!.refresh_token)).json()) as TokenBody;
    const reuse = await refreshPublic(server.url, siblings[0]!.refresh_token);
    await expectInvalidGrant(reuse);
    await expectInvalidGrant(await refreshPublic(server.url, rotated.refresh_token));
    expect(isActive(rotated.access_token)).toBe(false);
    const entry = await waitForTrace(server.dataDir, (e) => e.step === 'token' && e.kind === 'refresh_reuse');
    expect(entry).toMatchObject({ outcome: 'security', error: 'invalid_grant', clientId: 'public-app' });
    expect(entry.cause).toMatch(/revoked/);
  });

  it('reuse is detected before the scope is checked: a stolen old token with a bad scope still revokes', async () => {
    const linked = await linkPublic(server.url);
    const next = (await (await refreshPublic(server.url, linked.refresh_token)).json()) as TokenBody;
    await refreshPublic(server.url, next.refresh_token);
    const res = await refreshPublic(server.url, linked.refresh_token, { scope: 'music.read admin' });
    expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
    await expectInvalidGrant(await refreshPublic(server.url, next.refresh_token));
  });
});

describe('refresh is bound to its client', () => {
  it("a refresh token presented by another client fails without revoking the owner's grant", async () => {
    const linked = await linkAccount(server.url);
    const res = await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: linked.refresh_token }, 'none', 'public-app');
    await expectInvalidGrant(res);
    expect(await refreshOk(server.url, linked.refresh_token)).toBeDefined();
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
    const full = await refreshOk(server.url, narrowed.refresh_token);
    expect(full.scope).toBe('music.read music.control');
  });

  it('may not be widened: invalid_scope, and the grant survives', async () => {
    const linked = await linkAccount(server.url);
    const res = await tokenRequest(server.url, {
      grant_type: 'refresh_token',
      refresh_token: linked.refresh_token,
      scope: 'music.read admin',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'invalid_scope', error_description: expect.stringContaining('admin') });
    expect(await refreshOk(server.url, linked.refresh_token)).toBeDefined();
  });
});
