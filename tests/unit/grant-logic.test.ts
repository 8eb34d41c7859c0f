/**
 * The grant handlers without HTTP: refreshTokens, exchangeCode, decide (authorization-flow) and revokeGrant over
 * a hand-built GrantDeps with a movable clock. Every scenario runs on the in-memory Kv and on the SQLite store,
 * which promise the same contract (one transaction per decision, nothing kept when it throws, expiry by the
 * clock). Calls are synchronous, so "N concurrent refreshes" is N calls in a row with the same token: that is
 * exactly how the storage sees a burst, each request being one transaction.
 */
import { expect } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ClientConfig, ClientType } from '../../src/config/config';
import { randomToken, tokenKey } from '../../src/crypto/tokens';
import { lookupToken } from '../../src/oauth/access-tokens';
import { Decision, PendingRequest, REPEAT_DECISION_WINDOW_MS, decide } from '../../src/oauth/authorization-flow';
import { OAuthError } from '../../src/oauth/errors';
import { GrantDeps, IssuedTokens, RefreshGrace, revokeGrant } from '../../src/oauth/grant-deps';
import { revokeToken } from '../../src/oauth/token-management';
import { exchangeCode } from '../../src/oauth/grants/authorization-code';
import { MAX_LIVE_SIBLINGS, MAX_REMEMBERED } from '../../src/oauth/grants/refresh-policy';
import { RefreshOutcome, refreshTokens } from '../../src/oauth/grants/refresh-token';
import { StoreError } from '../../src/store/faults';
import { Kv, KvRow, KvTx } from '../../src/store/kv';
import { createMemoryKv } from '../../src/store/memory/memory-kv';
import { GrantRecord, TokenRecord, createOAuthStorage } from '../../src/store/records';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { ALEXA_CONFIG } from '../helpers/client-configs';

const T0 = Date.parse('2031-03-01T00:00:00Z');
const HOUR_S = 3600;

const ALEXA = ALEXA_CONFIG;
const APP: ClientConfig = {
  clientId: 'public-app',
  clientType: 'public',
  redirectUris: ['https://app.example.com/callback'],
  scopes: ['music.read'],
};
const TYPES: Record<string, ClientType> = { 'amazon-alexa': 'confidential', 'public-app': 'public' };

/** 3 generations and one hour: small enough to reach the edges of the window quickly. */
const GRACE: RefreshGrace = { generations: 3, periodSeconds: HOUR_S };

type Backend = 'memory' | 'sqlite';

/** Wraps a Kv so that the Nth write (put or delete) inside a transaction throws, once armed. */
function faultyKv(inner: Kv): { kv: Kv; arm(n: number): void; disarm(): void; writes(): number } {
  let armedAt = Infinity;
  let writes = 0;
  const wrap = (tx: KvTx): KvTx => ({
    get: <T>(key: string) => tx.get<T>(key),
    put: (key, value, expires) => {
      if (++writes === armedAt) throw new Error(`injected failure at write ${writes}`);
      tx.put(key, value, expires);
    },
    delete: (key) => {
      if (++writes === armedAt) throw new Error(`injected failure at write ${writes}`);
      tx.delete(key);
    },
    scan: <T>(prefix: string, keep?: (key: string) => boolean) => tx.scan<T>(prefix, keep),
  });
  return {
    kv: {
      transaction: (work) => inner.transaction((tx) => work(wrap(tx))),
      read: (work) => inner.read(work),
      purgeStep: (after, n) => inner.purgeStep(after, n),
    },
    arm: (n) => {
      writes = 0;
      armedAt = n;
    },
    disarm: () => {
      writes = 0;
      armedAt = Infinity;
    },
    writes: () => writes,
  };
}

type Outcome = ({ ok: true } & RefreshOutcome) | { ok: false; error: string; kind: string };

function attempt<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: string; kind: string } {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof OAuthError) return { ok: false, error: err.code, kind: err.kind };
    throw err;
  }
}

function world(backend: Backend, grace: RefreshGrace = GRACE) {
  let t = T0;
  const dir = backend === 'sqlite' ? mkdtempSync(path.join(tmpdir(), 'maoauth-unit-')) : undefined;
  const sqlite = dir ? openSqliteStore(dir, { now: () => t }) : undefined;
  const base: Kv = sqlite ?? createMemoryKv(() => t);
  const faults = faultyKv(base);
  const kv = faults.kv;
  const deps: GrantDeps = {
    storage: createOAuthStorage(kv),
    lifetimes: { accessToken: 3600, authCode: 300, refreshIdle: 400 * 24 * HOUR_S },
    grace: { ...grace },
    clientType: (id) => TYPES[id],
    now: () => t,
  };

  const pending = (client: ClientConfig): PendingRequest => ({
    id: randomToken(16),
    clientId: client.clientId,
    redirectUri: client.redirectUris[0]!,
    redirectUriGiven: true,
    scopes: client.scopes,
    state: 'state-1',
    flowHash: 'flow',
    csrf: 'csrf',
    createdAt: t,
  });
  const approve = (client: ClientConfig): string => {
    const d = decide(deps, pending(client), 'owner', true);
    if (d.outcome !== 'approved') throw new Error(`not approved: ${JSON.stringify(d)}`);
    return d.code;
  };
  const exchange = (client: ClientConfig, code: string, redirect = client.redirectUris[0]) =>
    attempt(() => exchangeCode(deps, client, { code, redirect_uri: redirect }));

  return {
    deps,
    kv,
    faults,
    advance: (ms: number) => void (t += ms),
    close: () => {
      sqlite?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    pending,
    approve,
    exchange,
    /** Approve and exchange: a fresh link of `client`. */
    link(client: ClientConfig = ALEXA): { code: string; tokens: IssuedTokens['body']; grantId: string } {
      const code = approve(client);
      const r = exchange(client, code);
      if (!r.ok) throw new Error(`exchange failed: ${r.kind}`);
      return { code, tokens: r.value.body, grantId: r.value.grantId };
    },
    refresh(token: string, client: ClientConfig = ALEXA, scope?: string): Outcome {
      const r = attempt(() => refreshTokens(deps, client, { refresh_token: token, scope }));
      return r.ok ? { ok: true, ...r.value } : r;
    },
    /** Refreshes and insists on success; returns the new refresh token. */
    next(token: string, client: ClientConfig = ALEXA): string {
      const r = this.refresh(token, client);
      if (!r.ok) throw new Error(`refresh failed: ${r.kind}`);
      return r.issued.body.refresh_token;
    },
    grant: (id: string) => deps.storage.read((tx) => tx.grants.find(id)),
    /** Every live row: what "nothing changed" is compared on. */
    rows: (): Array<KvRow<unknown>> => kv.read((tx) => tx.scan('')),
    refreshRecords: (grantId: string) =>
      kv.read((tx) => tx.scan<TokenRecord>(`grant:${grantId}/`)).filter((r) => r.value.kind === 'refresh' && r.value.grantId === grantId),
    active: (token: string) => lookupToken(deps, token).active,
  };
}
type World = ReturnType<typeof world>;

const BACKENDS: Backend[] = ['memory', 'sqlite'];

describe.each(BACKENDS)('on the %s store', (backend) => {
  let w: World;
  beforeEach(() => {
    w = world(backend);
  });
  afterEach(() => w.close());

  /** A link and a chain of `n` refreshes: chain[0] is the linked refresh token, chain[n] the newest. */
  const linkAndChain = (n: number, client: ClientConfig = ALEXA) => {
    const linked = w.link(client);
    const chain = [linked.tokens.refresh_token];
    for (let i = 0; i < n; i++) chain.push(w.next(chain[i]!, client));
    return { ...linked, chain };
  };

  const expectUntouched = (grantId: string) => {
    const g = w.grant(grantId)!;
    expect(g).toBeDefined();
    expect(g.revokedAt).toBeUndefined();
  };

  describe('confidential client: an earlier generation inside the window', () => {
    it.each([1, 2, 3])('%i generation(s) back: rotates from it, the grant is untouched and the newest token still works', (behind) => {
      const { chain, grantId } = linkAndChain(3);
      const r = w.refresh(chain[3 - behind]!);
      expect(r).toMatchObject({ ok: true, presented: 'grace', behind });
      expectUntouched(grantId);
      expect(w.refresh(chain[3]!)).toMatchObject({ ok: true });
      if (r.ok) expect(w.refresh(r.issued.body.refresh_token)).toMatchObject({ ok: true });
    });

    it('within the period by 1 ms: still valid', () => {
      const { chain } = linkAndChain(1);
      w.advance(HOUR_S * 1000 - 1);
      expect(w.refresh(chain[0]!)).toMatchObject({ ok: true, presented: 'grace', behind: 1 });
    });
  });

  describe('N refreshes with the same token (a burst, as the storage sees it)', () => {
    const cases = [2, 4].flatMap((n) => Array.from({ length: n }, (_, kept) => [n, kept] as const));
    it.each(cases)('%i refreshes: all succeed; answer %i is kept, refreshes, and its answer refreshes', (n, kept) => {
      const { chain, grantId } = linkAndChain(0);
      const answers = Array.from({ length: n }, () => w.refresh(chain[0]!));
      expect(answers.map((a) => (a.ok ? a.presented : a.kind))).toEqual(['current', ...Array<string>(n - 1).fill('grace')]);
      expect(answers.map((a) => (a.ok ? a.behind : undefined))).toEqual([undefined, ...Array<number>(n - 1).fill(1)]);
      for (const a of answers) if (a.ok) expect(w.active(a.issued.body.access_token)).toBe(true);
      const keptAnswer = answers[kept]!;
      if (!keptAnswer.ok) throw new Error('unreachable');
      const after = w.next(keptAnswer.issued.body.refresh_token);
      expect(w.next(after)).toEqual(expect.any(String));
      expectUntouched(grantId);
    });

    // The defect this pins: every answer to a retry used to push the presented token one generation back, so the
    // 12th request of a burst (or the 12th retry of a lost answer) was refused and Alexa unlinked the user.
    it.each([GRACE.generations + 2, 12, 30])('%i refreshes: all succeed, each answer then refreshes in turn, nothing is revoked', (n) => {
      const { chain, grantId } = linkAndChain(0);
      const answers = Array.from({ length: n }, () => w.refresh(chain[0]!));
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      expect(w.refresh(chain[0]!)).toMatchObject({ ok: true, presented: 'grace', behind: 1 });
      for (const a of answers) if (a.ok) expect(w.refresh(a.issued.body.refresh_token)).toMatchObject({ ok: true });
      expectUntouched(grantId);
    });

    it.each([0, 30, MAX_REMEMBERED - 3])('%i of a burst of MAX_REMEMBERED - 2 kept: it carries the link on, and so does R0', (kept) => {
      const { chain, grantId } = linkAndChain(0);
      const answers = Array.from({ length: MAX_REMEMBERED - 2 }, () => w.refresh(chain[0]!));
      expect(answers.filter((a) => !a.ok)).toEqual([]);
      const keptAnswer = answers[kept]!;
      if (!keptAnswer.ok) throw new Error('unreachable');
      expect(w.next(w.next(keptAnswer.issued.body.refresh_token))).toEqual(expect.any(String));
      expect(w.refresh(chain[0]!)).toMatchObject({ ok: true, presented: 'grace' });
      expectUntouched(grantId);
    });

    it('beyond MAX_REMEMBERED: the presented token is always kept, the oldest answers leave the record (signed for the newest generation, they are taken back in if presented), nothing is revoked', () => {
      const { chain, grantId } = linkAndChain(0);
      const answers = Array.from({ length: MAX_REMEMBERED + 10 }, () => w.refresh(chain[0]!));
      expect(answers.every((a) => a.ok)).toBe(true);
      const tokens = answers.map((a) => (a.ok ? a.issued.body.refresh_token : ''));
      const g = w.grant(grantId)!;
      expect(g.refresh.live.length + g.refresh.previous.length).toBe(MAX_REMEMBERED);
      expect(w.refreshRecords(grantId)).toHaveLength(MAX_REMEMBERED);
      expect(g.refresh.live).not.toContain(tokenKey(tokens[0]!));
      expect(w.refresh(tokens.at(-1)!)).toMatchObject({ ok: true, presented: 'current' });
      // Now a generation behind the newest: an answer that left the record stays refused.
      expect(w.refresh(tokens[0]!)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_unknown' });
      expect(w.refresh(chain[0]!)).toMatchObject({ ok: true, presented: 'grace' });
      expectUntouched(grantId);
    });
  });

  it("a lost response retried: the retry succeeds and both the lost answer and the retry's answer stay valid", () => {
    const { chain, grantId } = linkAndChain(0);
    const lost = w.refresh(chain[0]!);
    const retry = w.refresh(chain[0]!);
    expect(lost).toMatchObject({ ok: true, presented: 'current' });
    expect(retry).toMatchObject({ ok: true, presented: 'grace', behind: 1 });
    if (!lost.ok || !retry.ok) throw new Error('unreachable');
    expect(w.refresh(lost.issued.body.refresh_token)).toMatchObject({ ok: true });
    expect(w.refresh(retry.issued.body.refresh_token)).toMatchObject({ ok: true });
    expectUntouched(grantId);
  });

  describe('outside the window: invalid_grant, the grant and its newer tokens untouched', () => {
    // A chain of 4 with 3 generations: chain[0] fell out of the window, chain[1] is exactly 3 back, chain[3] 1 back.
    it.each<[string, (chain: string[]) => string, string]>([
      ['one more generation back than allowed (its record is pruned)', (c) => c[0]!, 'refresh_unknown'],
      [
        '1 back, superseded exactly the period ago (its record expired)',
        (c) => {
          w.advance(HOUR_S * 1000);
          return c[3]!;
        },
        'refresh_unknown',
      ],
      [
        '1 back, superseded longer ago than the period',
        (c) => {
          w.advance(HOUR_S * 1000 + 1);
          return c[3]!;
        },
        'refresh_unknown',
      ],
      [
        '3 back after refresh_token_grace_generations was lowered to 2 (its record still there)',
        (c) => {
          w.deps.grace.generations = 2;
          return c[1]!;
        },
        'refresh_superseded',
      ],
      [
        '1 back, superseded longer ago than a shortened refresh_token_grace_period (its record still there)',
        (c) => {
          w.deps.grace.periodSeconds = 600;
          w.advance(601_000);
          return c[3]!;
        },
        'refresh_superseded',
      ],
    ])('%s', (_what, pick, kind) => {
      const { chain, grantId } = linkAndChain(4);
      const presented = pick(chain);
      const before = w.rows();
      expect(w.refresh(presented)).toEqual({ ok: false, error: 'invalid_grant', kind });
      expect(w.rows()).toEqual(before);
      expectUntouched(grantId);
      expect(w.refresh(chain[4]!)).toMatchObject({ ok: true, presented: 'current' });
    });
  });

  describe('public client: rotation with reuse detection', () => {
    it('racing siblings all work until one is rotated; the parent again is a retry; then an older token is reuse and revokes', () => {
      const { chain, grantId } = linkAndChain(0, APP);
      const siblings = [w.refresh(chain[0]!, APP), w.refresh(chain[0]!, APP), w.refresh(chain[0]!, APP)];
      expect(siblings.map((s) => (s.ok ? s.presented : s.kind))).toEqual(['current', 'retry', 'retry']);
      const tokens = siblings.map((s) => (s.ok ? s.issued.body : undefined)!);
      for (const s of tokens) expect(w.active(s.refresh_token)).toBe(true);
      const rotated = w.refresh(tokens[1]!.refresh_token, APP);
      expect(rotated).toMatchObject({ ok: true, presented: 'current' });
      expect(w.refresh(tokens[1]!.refresh_token, APP)).toMatchObject({ ok: true, presented: 'retry' });
      expectUntouched(grantId);
      expect(w.refresh(tokens[0]!.refresh_token, APP)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_reuse' });
      const g = w.grant(grantId)!;
      expect(g.revokedAt).toBeDefined();
      expect(g.revokedReason).toMatch(/reuse/);
      if (!rotated.ok) throw new Error('unreachable');
      expect(w.refresh(rotated.issued.body.refresh_token, APP)).toEqual({ ok: false, error: 'invalid_grant', kind: 'grant_revoked' });
      expect(w.active(rotated.issued.body.access_token)).toBe(false);
      for (const s of tokens) expect(w.active(s.access_token)).toBe(false);
    });

    it.each([0, 3, 7])(
      '8 refreshes with the same token (1 rotation, 7 retries: the sibling cap): answer %i is kept and carries the link on',
      (kept) => {
        const { chain, grantId } = linkAndChain(0, APP);
        const answers = Array.from({ length: 8 }, () => w.refresh(chain[0]!, APP));
        expect(answers.map((a) => (a.ok ? a.presented : a.kind))).toEqual(['current', ...Array<string>(7).fill('retry')]);
        for (const a of answers) if (a.ok) expect(w.active(a.issued.body.refresh_token)).toBe(true);
        const keptAnswer = answers[kept]!;
        if (!keptAnswer.ok) throw new Error('unreachable');
        const after = w.next(keptAnswer.issued.body.refresh_token, APP);
        expect(w.next(after, APP)).toEqual(expect.any(String));
        expectUntouched(grantId);
      },
    );

    it('retries beyond the sibling cap: the oldest sibling is forgotten (refused as unknown), which revokes nothing', () => {
      const { chain, grantId } = linkAndChain(0, APP);
      const answers = Array.from({ length: MAX_LIVE_SIBLINGS + 2 }, () => w.refresh(chain[0]!, APP));
      const tokens = answers.map((a) => (a.ok ? a.issued.body.refresh_token : ''));
      expect(tokens.every(Boolean)).toBe(true);
      expect(w.refresh(tokens[0]!, APP)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_unknown' });
      expect(w.refresh(tokens[1]!, APP)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_unknown' });
      expectUntouched(grantId);
      expect(w.refresh(tokens[2]!, APP)).toMatchObject({ ok: true, presented: 'current' });
    });

    // The bound is intended: a public grant remembers its earlier tokens only within the grace window's bounds
    // (refresh-policy.ts), so records stay bounded; an older stolen token is refused as unknown, not as reuse.
    it.each<[string, () => string[]]>([
      ['more than `generations` rotations later', () => linkAndChain(GRACE.generations + 1, APP).chain],
      [
        'the grace period later',
        () => {
          const { chain } = linkAndChain(2, APP);
          w.advance(HOUR_S * 1000);
          return chain;
        },
      ],
    ])('a superseded token presented %s is refused as unknown, the grant untouched', (_what, arrange) => {
      const chain = arrange();
      expect(w.refresh(chain[0]!, APP)).toMatchObject({ ok: false, error: 'invalid_grant', kind: 'refresh_unknown' });
    });

    it('a token one step behind the newest rotation is reuse', () => {
      const { chain, grantId } = linkAndChain(2, APP);
      expect(w.refresh(chain[0]!, APP)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_reuse' });
      expect(w.grant(grantId)!.revokedAt).toBeDefined();
      expect(w.refresh(chain[2]!, APP)).toMatchObject({ ok: false, kind: 'grant_revoked' });
    });
  });

  describe('reuse and staleness are decided before the scope', () => {
    it.each<[string, ClientConfig, (chain: string[]) => string, { error: string; kind: string }, 'revoked' | 'untouched' | 'unchanged']>([
      [
        'confidential, outside the window, with a widened scope',
        ALEXA,
        (c) => c[0]!,
        { error: 'invalid_grant', kind: 'refresh_unknown' },
        'untouched',
      ],
      [
        'confidential, outside a lowered window (record present), with a widened scope',
        ALEXA,
        (c) => {
          w.deps.grace.generations = 1;
          return c[2]!;
        },
        { error: 'invalid_grant', kind: 'refresh_superseded' },
        'untouched',
      ],
      ['public, reuse, with a widened scope', APP, (c) => c[1]!, { error: 'invalid_grant', kind: 'refresh_reuse' }, 'revoked'],
      [
        'confidential, inside the window, with a widened scope',
        ALEXA,
        (c) => c[3]!,
        { error: 'invalid_scope', kind: 'scope_widened' },
        'unchanged',
      ],
      [
        'confidential, the newest token, with a widened scope',
        ALEXA,
        (c) => c[4]!,
        { error: 'invalid_scope', kind: 'scope_widened' },
        'unchanged',
      ],
      ['public, a retry, with a widened scope', APP, (c) => c[3]!, { error: 'invalid_scope', kind: 'scope_widened' }, 'unchanged'],
    ])('%s', (_what, client, pick, expected, effect) => {
      const { chain, grantId } = linkAndChain(4, client);
      const presented = pick(chain);
      const before = w.rows();
      const r = w.refresh(presented, client, 'music.read admin');
      expect(r).toEqual({ ok: false, ...expected });
      if (effect === 'revoked') expect(w.grant(grantId)!.revokedAt).toBeDefined();
      else expectUntouched(grantId);
      if (effect !== 'revoked') expect(w.rows()).toEqual(before);
    });
  });

  describe('the client is checked before anything else', () => {
    it("another client presenting a spent code: invalid_grant, nothing changes, the owner's tokens keep working", () => {
      const linked = w.link(ALEXA);
      const before = w.rows();
      expect(w.exchange(APP, linked.code)).toEqual({ ok: false, error: 'invalid_grant', kind: 'code_client_mismatch' });
      expect(w.exchange(APP, linked.code, ALEXA.redirectUris[0])).toEqual({
        ok: false,
        error: 'invalid_grant',
        kind: 'code_client_mismatch',
      });
      expect(w.rows()).toEqual(before);
      expectUntouched(linked.grantId);
      expect(w.active(linked.tokens.access_token)).toBe(true);
      expect(w.refresh(linked.tokens.refresh_token)).toMatchObject({ ok: true, presented: 'current' });
    });

    it('another client presenting an unspent code: invalid_grant, nothing changes, the owner then exchanges it once', () => {
      const code = w.approve(ALEXA);
      const before = w.rows();
      expect(w.exchange(APP, code)).toEqual({ ok: false, error: 'invalid_grant', kind: 'code_client_mismatch' });
      expect(w.rows()).toEqual(before);
      const r = w.exchange(ALEXA, code);
      expect(r.ok).toBe(true);
      if (r.ok) expect(w.refresh(r.value.body.refresh_token)).toMatchObject({ ok: true });
    });

    it.each<[string, ClientConfig, ClientConfig, (chain: string[]) => string]>([
      ["Alexa's newest refresh token presented by the public client", ALEXA, APP, (c) => c[2]!],
      ["Alexa's earlier refresh token presented by the public client", ALEXA, APP, (c) => c[1]!],
      ["the public client's superseded token (reuse, for its own client) presented by Alexa", APP, ALEXA, (c) => c[0]!],
    ])("%s: invalid_grant, nothing changes, the owner's newest token works", (_what, owner, other, pick) => {
      const { chain, grantId } = linkAndChain(2, owner);
      const before = w.rows();
      expect(w.refresh(pick(chain), other)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_client_mismatch' });
      expect(w.rows()).toEqual(before);
      expectUntouched(grantId);
      expect(w.refresh(chain[2]!, owner)).toMatchObject({ ok: true, presented: 'current' });
    });

    it.each([
      ['right after the exchange', 0],
      ['after two refreshes', 2],
    ])('the code replayed by its own client %s: invalid_grant, the grant and all its tokens revoked', (_what, refreshes) => {
      const { code, chain, grantId } = linkAndChain(refreshes);
      expect(w.exchange(ALEXA, code)).toEqual({ ok: false, error: 'invalid_grant', kind: 'code_replay' });
      expect(w.grant(grantId)!.revokedAt).toBeDefined();
      for (const token of chain) expect(w.refresh(token)).toEqual({ ok: false, error: 'invalid_grant', kind: 'grant_revoked' });
    });
  });

  describe('a transaction that throws midway leaves nothing', () => {
    it('refreshTokens failing at each of its writes in turn: the grant and every token exactly as before; then it succeeds', () => {
      // The newest token is presented and the rotation drops chain[0] (4 generations back): every kind of write happens.
      const { chain, grantId } = linkAndChain(3);
      const before = w.rows();
      const grantBefore = w.grant(grantId);
      let failures = 0;
      for (let n = 1; n <= 20; n++) {
        w.faults.arm(n);
        let threw: unknown;
        try {
          w.refresh(chain[3]!);
        } catch (err) {
          threw = err;
        }
        if (!threw) break;
        expect(String((threw as Error).message)).toMatch(/injected failure at write/);
        failures++;
        expect(w.rows()).toEqual(before);
        expect(w.grant(grantId)).toEqual(grantBefore);
        expect(w.refreshRecords(grantId)).toHaveLength(4);
      }
      w.faults.disarm();
      // Access token, refresh token, the superseded token's expiry, the dropped token, the grant: a failure at each.
      expect(failures).toBeGreaterThanOrEqual(3);
      expect(w.rows()).not.toEqual(before);
      // The attempt that finally succeeded rotated from chain[3]; everything still works.
      expect(w.grant(grantId)!.refresh.generation).toBe(grantBefore!.refresh.generation + 1);
      expect(w.refresh(chain[3]!)).toMatchObject({ ok: true, presented: 'grace', behind: 1 });
    });

    // Known contract difference (it.failing on SQLite: remove .failing once fixed). kv.ts: "If it throws, nothing
    // it wrote is kept"; sqlite-store.ts: "what does throw is rolled back and rethrown as is". The memory Kv
    // rethrows the very error; the SQLite store's run() passes it through classify(), which turns anything that is
    // not a StoreError into StoreError('io', 'database error: …'). Today every grant handler returns its refusals
    // as values, so nothing visible breaks; but a handler that threw an OAuthError (or a bug's TypeError) inside a
    // transaction would answer 503 temporarily_unavailable "database error" on SQLite and the right error in memory.
    it('an error thrown inside a transaction comes out as itself, after the rollback', () => {
      const { grantId } = w.link();
      const before = w.rows();
      const mine = new Error('thrown by the unit of work');
      let caught: unknown;
      try {
        w.deps.storage.transaction((tx) => {
          tx.grants.save({ ...tx.grants.find(grantId)!, revokedAt: 1, revokedReason: 'never kept' }, Number.MAX_SAFE_INTEGER);
          throw mine;
        });
      } catch (err) {
        caught = err;
      }
      expect(w.rows()).toEqual(before);
      expect(caught).toBe(mine);
    });

    it('exchangeCode failing at each of its writes: the code stays unspent, and then exchanges once', () => {
      const code = w.approve(ALEXA);
      const before = w.rows();
      let failures = 0;
      for (let n = 1; n <= 10; n++) {
        w.faults.arm(n);
        try {
          w.exchange(ALEXA, code);
          break;
        } catch (err) {
          expect(String((err as Error).message)).toMatch(/injected failure at write/);
          failures++;
          expect(w.rows()).toEqual(before);
        }
      }
      w.faults.disarm();
      expect(failures).toBeGreaterThanOrEqual(3);
      expect(w.exchange(ALEXA, code)).toMatchObject({ ok: false, kind: 'code_replay' });
    });
  });

  describe('records pruning', () => {
    it.each([3, 10])('with %i generations, 48 refreshes leave 1 + generations refresh token records', (generations) => {
      w.deps.grace.generations = generations;
      const { chain, grantId } = linkAndChain(48);
      expect(w.refreshRecords(grantId)).toHaveLength(1 + generations);
      const kept = new Set(w.refreshRecords(grantId).map((r) => r.key.slice('grant:'.length)));
      expect(kept).toEqual(new Set(chain.slice(-1 - generations).map(tokenKey)));
      const g = w.grant(grantId)!;
      expect(g.refresh.previous).toHaveLength(generations);
      expect(g.refresh.generation).toBe(48);
    });

    it('after the period every superseded record is gone and the newest alone remains', () => {
      const { chain, grantId } = linkAndChain(3);
      w.advance(HOUR_S * 1000);
      expect(w.refreshRecords(grantId).map((r) => r.key)).toEqual([`grant:${tokenKey(chain[3]!)}`]);
    });
  });

  describe('consent: one decision per request', () => {
    type Step = 'approve' | 'deny';
    it.each<[Step, Step, number, Decision['outcome'], boolean]>([
      ['approve', 'approve', REPEAT_DECISION_WINDOW_MS - 1, 'approved', true],
      ['approve', 'approve', REPEAT_DECISION_WINDOW_MS + 1, 'already_decided', false],
      ['approve', 'deny', 1000, 'approved', true],
      ['deny', 'approve', 1000, 'denied', true],
      ['deny', 'approve', REPEAT_DECISION_WINDOW_MS + 1, 'already_decided', false],
    ])('%s, then %s %i ms later: %s', (first, second, delay, outcome, repeated) => {
      const pending = w.pending(ALEXA);
      const a = decide(w.deps, pending, 'owner', first === 'approve');
      expect(a).toMatchObject({ outcome: first === 'approve' ? 'approved' : 'denied', repeated: false });
      w.advance(delay);
      const b = decide(w.deps, pending, 'owner', second === 'approve');
      expect(b.outcome).toBe(outcome);
      if (b.outcome === 'approved' || b.outcome === 'denied') expect(b.repeated).toBe(repeated);
      if (a.outcome === 'approved' && b.outcome === 'approved') expect(b.code).toBe(a.code);
      // Never a second code.
      const codes = w.deps.storage.read((tx) => tx.codes.list());
      expect(codes).toHaveLength(first === 'approve' ? 1 : 0);
    });

    it('the code answered twice exchanges once; a third decision after the window issues nothing new', () => {
      const pending = w.pending(ALEXA);
      const a = decide(w.deps, pending, 'owner', true);
      const b = decide(w.deps, pending, 'owner', true);
      if (a.outcome !== 'approved' || b.outcome !== 'approved') throw new Error('not approved');
      expect(b.code).toBe(a.code);
      const r = w.exchange(ALEXA, b.code);
      expect(r.ok).toBe(true);
      w.advance(REPEAT_DECISION_WINDOW_MS + 1);
      const before = w.rows();
      expect(decide(w.deps, pending, 'owner', true)).toMatchObject({ outcome: 'already_decided' });
      expect(w.rows()).toEqual(before);
      if (r.ok) expect(w.refresh(r.value.body.refresh_token)).toMatchObject({ ok: true });
    });
  });

  describe('revoking the grant', () => {
    it('revokeGrant, then every token of it: grant_revoked, inactive', () => {
      const { chain, grantId, tokens } = linkAndChain(2);
      expect(revokeGrant(w.deps, grantId, 'revoke all')).toMatchObject({ id: grantId, revokedAt: expect.any(Number) });
      for (const token of chain) expect(w.refresh(token)).toEqual({ ok: false, error: 'invalid_grant', kind: 'grant_revoked' });
      expect(w.active(tokens.access_token)).toBe(false);
      const g: GrantRecord = w.grant(grantId)!;
      expect(g.refresh.live).toEqual([]);
    });
  });

  describe("access tokens: validated by their grant's revocation mark, not by the grant", () => {
    /** The world's deps with every read's `get` going through `get` (given the store's own). */
    const readingThrough = (get: <T>(key: string, inner: KvTx) => T | undefined): GrantDeps => {
      const kv: Kv = { ...w.kv, read: (work) => w.kv.read((tx) => work({ ...tx, get: <T>(key: string) => get<T>(key, tx) })) };
      return { ...w.deps, storage: createOAuthStorage(kv) };
    };

    /** The keys a validation of `token` reads, by prefix. */
    const readsOf = (token: string): string[] => {
      const keys: string[] = [];
      lookupToken(
        readingThrough(<T>(key: string, tx: KvTx) => {
          keys.push(key);
          return tx.get<T>(key);
        }),
        token,
      );
      return keys.map((key) => key.slice(0, key.indexOf(':')));
    };

    it('a new access token names its client and user, and its validation reads the token and the mark only', () => {
      const { tokens, grantId } = w.link();
      const view = { id: grantId, clientId: ALEXA.clientId, username: 'owner' };
      expect(lookupToken(w.deps, tokens.access_token)).toEqual({
        active: true,
        found: { token: expect.objectContaining({ kind: 'access', grantId, clientId: ALEXA.clientId, username: 'owner' }), grant: view },
      });
      expect(readsOf(tokens.access_token)).toEqual(['token', 'revoked']);
      // A refresh token is still validated against its grant (its standing in the rotation is there).
      expect(readsOf(tokens.refresh_token)).toEqual(['grant', 'grant']);
    });

    const PATHS: Array<[string, (l: ReturnType<World['link']>) => void]> = [
      ['revokeGrant (what the admin page, oauth-admin and revoke all call)', (l) => revokeGrant(w.deps, l.grantId, 'revoked by the owner')],
      ['a replayed code', (l) => expect(w.exchange(ALEXA, l.code)).toMatchObject({ ok: false, kind: 'code_replay' })],
      ['RFC 7009 on its refresh token', (l) => expect(revokeToken(w.deps, ALEXA, l.tokens.refresh_token).revoked).toBe('grant')],
    ];
    it.each(PATHS)('revoked by %s: its access tokens issued before are inactive at once, and stay so', (_path, revoke) => {
      const l = w.link();
      const later = w.refresh(l.tokens.refresh_token);
      if (!later.ok) throw new Error(later.kind);
      const accessTokens = [l.tokens.access_token, later.issued.body.access_token];
      for (const token of accessTokens) expect(w.active(token)).toBe(true);
      revoke(l);
      for (const token of accessTokens)
        expect(lookupToken(w.deps, token)).toEqual({ active: false, reason: expect.stringMatching(/^grant revoked \(.+\)$/) });
      // The longest access token lifetime (a day) later, the mark is still there.
      w.advance(86_400_000 + 1000);
      expect(w.deps.storage.read((tx) => tx.grants.revocation(l.grantId))).toEqual({ at: expect.any(Number), reason: expect.any(String) });
    });

    it("revoked by a public client's refresh-token reuse: its access tokens are inactive", () => {
      // Its parent again after a child was rotated: reuse (a retry before that is honoured).
      const { chain, tokens } = linkAndChain(2, APP);
      expect(w.refresh(chain[0]!, APP)).toEqual({ ok: false, error: 'invalid_grant', kind: 'refresh_reuse' });
      expect(lookupToken(w.deps, tokens.access_token)).toMatchObject({ active: false, reason: expect.stringMatching(/^grant revoked/) });
    });

    it('the mark is kept for good: a clock far behind at the revocation cannot make it expire once corrected', () => {
      const l = w.link();
      w.advance(-2 * 365 * 86_400_000);
      revokeGrant(w.deps, l.grantId, 'revoked while the clock was two years behind');
      w.advance(2 * 365 * 86_400_000 + 60_000);
      expect(w.deps.storage.read((tx) => tx.grants.revocation(l.grantId))).toBeDefined();
      expect(lookupToken(w.deps, l.tokens.access_token)).toMatchObject({ active: false, reason: expect.stringMatching(/^grant revoked/) });
    });

    it('while the store cannot say a mark is absent (a damaged file), the grant decides', () => {
      const { tokens, grantId } = w.link();
      // Revoked with no mark to find: only the grant can tell.
      w.deps.storage.transaction((tx) =>
        tx.grants.save({ ...tx.grants.find(grantId)!, revokedAt: T0, revokedReason: 'x' }, T0 + 86_400_000),
      );
      // The SQLite store while its file is known damaged: a row it cannot find is an error, never "absent".
      const damaged = readingThrough(<T>(key: string, tx: KvTx) => {
        const row = tx.get<T>(key);
        if (row === undefined) throw new StoreError('damaged', 'a row that cannot be found in a damaged file');
        return row;
      });
      expect(lookupToken(damaged, tokens.access_token)).toEqual({
        active: false,
        reason: 'grant revoked (x)',
      });
    });

    it('an access token from before they named their client and user is validated against its grant', () => {
      const { grantId } = w.link();
      const legacy = randomToken();
      w.deps.storage.transaction((tx) =>
        tx.tokens.create(tokenKey(legacy), { kind: 'access', grantId, scopes: ALEXA.scopes, issuedAt: T0, expiresAt: T0 + 3_600_000 }),
      );
      expect(lookupToken(w.deps, legacy)).toMatchObject({
        active: true,
        found: { grant: { id: grantId, clientId: ALEXA.clientId, username: 'owner' } },
      });
      expect(readsOf(legacy)).toEqual(['token', 'grant']);
      // Revoked as an earlier build did, with no mark: the grant says so.
      w.deps.storage.transaction((tx) =>
        tx.grants.save({ ...tx.grants.find(grantId)!, revokedAt: T0, revokedReason: 'before marks' }, T0 + 86_400_000),
      );
      expect(lookupToken(w.deps, legacy)).toEqual({ active: false, reason: 'grant revoked (before marks)' });
    });
  });
});
