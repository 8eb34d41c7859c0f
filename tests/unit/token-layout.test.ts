/**
 * Where a grant's refresh tokens sit in the store: they name their grant, and their rows sit under the grant's row
 * (`grant:<grant id>/<hash>`), so SQLite, which keeps rows in key order, keeps a grant and its refresh tokens on the
 * same B-tree page. A refresh rewrites the grant, writes a new refresh token, rewrites the superseded one and
 * deletes the oldest there, and writes a new access token (not under its grant, which would gather one per refresh
 * for an hour, but keyed by the second it was issued in, so new ones go to the end of the access tokens' rows): two
 * or three pages, where rows keyed by the token's hash alone were five pages anywhere in the file.
 */
import { expect } from '@jest/globals';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { randomToken, tokenHash, tokenKey } from '../../src/crypto/tokens';
import { lookupToken } from '../../src/oauth/access-tokens';
import { decide } from '../../src/oauth/authorization-flow';
import { GrantDeps } from '../../src/oauth/grant-deps';
import { exchangeCode } from '../../src/oauth/grants/authorization-code';
import { refreshTokens } from '../../src/oauth/grants/refresh-token';
import { TokenRecord, createOAuthStorage } from '../../src/store/records';
import { DB_FILE, PAGE_SIZE, SqliteStore, openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { ALEXA_CONFIG } from '../helpers/client-configs';

const ALEXA = ALEXA_CONFIG;
const GRANTS = 200;
/** Past the 10 earlier generations the grant keeps: every refresh then also deletes the oldest token's row. */
const ROTATIONS_BEFORE = 12;
const MEASURED = 40;

let dir: string;
let store: SqliteStore;
let deps: GrantDeps;
/** Each round of refreshes comes a second after the one before. */
let clock = Date.now();

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'maoauth-layout-'));
  store = openSqliteStore(dir);
  deps = {
    storage: createOAuthStorage(store),
    lifetimes: { accessToken: 3600, authCode: 300, refreshIdle: 400 * 86_400 },
    grace: { generations: 10, periodSeconds: 86_400 },
    clientType: () => 'confidential',
    now: () => clock,
  };
});
afterAll(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function link(): { grantId: string; refresh: string } {
  const decision = decide(
    deps,
    {
      id: randomToken(16),
      clientId: ALEXA.clientId,
      redirectUri: ALEXA.redirectUris[0]!,
      redirectUriGiven: true,
      scopes: ALEXA.scopes,
      state: 'state',
      flowHash: 'flow',
      csrf: 'csrf',
      createdAt: clock,
    },
    'owner',
    true,
  );
  if (decision.outcome !== 'approved') throw new Error(`not approved: ${decision.outcome}`);
  const issued = exchangeCode(deps, ALEXA, { code: decision.code, redirect_uri: ALEXA.redirectUris[0] });
  return { grantId: issued.grantId, refresh: issued.body.refresh_token };
}

const refresh = (token: string): string => refreshTokens(deps, ALEXA, { refresh_token: token }).issued.body.refresh_token;

/** Frames in the WAL: it starts over empty after a TRUNCATE checkpoint, and each frame is a header and a page. */
function walFrames(): number {
  const size = statSync(path.join(dir, `${DB_FILE}-wal`)).size;
  return size === 0 ? 0 : (size - 32) / (24 + PAGE_SIZE);
}

function checkpointTruncate(): void {
  const db = new DatabaseSync(path.join(dir, DB_FILE));
  try {
    const [result] = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').all() as Array<{ busy: number }>;
    expect(result?.busy).toBe(0);
  } finally {
    db.close();
  }
}

it(`with ${GRANTS} grants in the file, a refresh writes its grant's page and the new access token's, not five pages`, async () => {
  const links = Array.from({ length: GRANTS }, link);
  for (let r = 0; r < ROTATIONS_BEFORE; r++) {
    clock += 1000;
    for (const l of links) l.refresh = refresh(l.refresh);
  }

  // Under each grant's row: its newest refresh token and the 10 earlier ones it honours, however often it rotated.
  const underGrants = store.read((tx) => tx.scan<TokenRecord>('grant:', (key) => key.includes('/')));
  expect(underGrants).toHaveLength(GRANTS * 11);
  for (const row of underGrants) {
    expect(row.key.startsWith(`grant:${row.value.grantId}/`)).toBe(true);
    expect(row.value.kind).toBe('refresh');
  }
  // The access tokens, one per refresh and each alive for an hour, are in the order they were issued: the rows of
  // each round's tokens follow the round before's, so the tokens in use share the last pages.
  const accessRows = store.read((tx) => tx.scan<TokenRecord>('token:'));
  expect(accessRows).toHaveLength(GRANTS * (ROTATIONS_BEFORE + 1));
  for (const row of accessRows) expect(row.value.kind).toBe('access');
  const issued = accessRows.map((row) => row.value.issuedAt);
  expect(issued).toEqual([...issued].sort((a, b) => a - b));
  expect(new Set(issued).size).toBe(ROTATIONS_BEFORE + 1);
  expect(
    deps.storage
      .read((tx) => tx.grants.list())
      .map((g) => g.id)
      .sort(),
  ).toEqual(links.map((l) => l.grantId).sort());
  const sample = links[7]!;
  expect(deps.storage.read((tx) => tx.tokens.find(tokenKey(sample.refresh)))?.grantId).toBe(sample.grantId);
  expect(lookupToken(deps, sample.refresh).active).toBe(true);

  // The file holds far more pages than one refresh touches.
  expect(statSync(path.join(dir, DB_FILE)).size / PAGE_SIZE).toBeGreaterThan(50);
  // The reads above share one snapshot until this turn of the event loop ends, which would hold the checkpoint back.
  await new Promise(setImmediate);
  checkpointTruncate();
  expect(walFrames()).toBe(0);
  for (const l of links.slice(0, MEASURED)) l.refresh = refresh(l.refresh);
  const perRefresh = walFrames() / MEASURED;
  // The grant's page, the new access token's, now and then a second page of the grant's rows or a split's parent:
  // 3.0-3.5 pages here (3.1-3.8 while access tokens were keyed by their hash alone, which the order of the rows
  // above guards against). With every token keyed by its hash alone, the same refreshes wrote 6.1-6.4.
  expect(perRefresh).toBeGreaterThanOrEqual(2);
  expect(perRefresh).toBeLessThanOrEqual(4.5);
});

it('an access token from before they carried their second (a bare 43 characters, keyed by its hash) is still honoured until it expires', () => {
  const { grantId } = link();
  const legacy = randomToken();
  const key = tokenKey(legacy);
  expect(key).not.toContain('.');
  deps.storage.transaction((tx) =>
    tx.tokens.create(key, { kind: 'access', grantId, scopes: ALEXA.scopes, issuedAt: clock, expiresAt: clock + 3_600_000 }),
  );
  expect(store.read((tx) => tx.get(`token:${tokenHash(legacy)}`))).toBeDefined();
  expect(lookupToken(deps, legacy)).toMatchObject({ active: true, found: { grant: { id: grantId } } });
  clock += 3_600_000;
  expect(lookupToken(deps, legacy)).toEqual({ active: false, reason: 'token expired' });
});
