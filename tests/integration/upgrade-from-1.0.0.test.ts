/**
 * Upgrading from release 1.0.0: tests/fixtures/data-1.0.0 was written by the 1.0.0 server through its own HTTP
 * endpoints (@keyv/sqlite 4's `keyv` table). Started on a copy of it, this release must keep every link refreshing
 * (both credential styles, a token 1.0.0 still allowed again, a public client's link), keep a revoked link revoked,
 * survive a kill -9 in the middle of the upgrade, and leave the old data untouched when the upgrade cannot proceed.
 */
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { REFRESH_TOKEN, TokenBody, introspectAsResourceServer, refresh, tokenRequest } from '../helpers/alexa-client';
import { sqlAll } from '../helpers/sqlite';
import { ServerProcess, killServer, spawnServer, startInProcess, tempDataDir } from '../helpers/test-server';
import { eventually, sleep } from '../helpers/wait';

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'data-1.0.0');

interface FixtureTokens {
  refreshed: { refresh_token: string; access_token: string };
  fresh: { refresh_token: string; access_token: string };
  revoked: { refresh_token: string; access_token: string };
  superseded: { previous_refresh_token: string; refresh_token: string; access_token: string };
  public: { refresh_token: string; access_token: string };
}
const tokens = JSON.parse(readFileSync(path.join(FIXTURE, 'tokens.json'), 'utf8')) as FixtureTokens;

/** A copy of the fixture, with the options at log level info so the upgrade's own log line shows. */
function copyOfFixture(): string {
  const dir = tempDataDir();
  cpSync(FIXTURE, dir, { recursive: true });
  const optionsFile = path.join(dir, 'options.json');
  writeFileSync(optionsFile, JSON.stringify({ ...JSON.parse(readFileSync(optionsFile, 'utf8')), log_level: 'info' }));
  return dir;
}

const userVersion = (file: string) => Number(sqlAll(file, 'PRAGMA user_version', { readOnly: true })[0]!.user_version);
const tables = (file: string) =>
  sqlAll(file, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`, { readOnly: true }).map((r) => String(r.name));

let proc: ServerProcess | undefined;
afterEach(async () => {
  await killServer(proc);
  proc = undefined;
});

it('every link of a 1.0.0 data folder keeps refreshing, a revoked one stays revoked, and the 1.0.0 file is kept beside it', async () => {
  const dataDir = copyOfFixture();
  proc = await spawnServer(dataDir);
  const db = path.join(dataDir, 'oauth.sqlite');
  expect(userVersion(db)).toBe(2);
  expect(tables(db)).toEqual(['kv']);
  expect(existsSync(path.join(dataDir, 'oauth-1.0.0.sqlite'))).toBe(true);

  expect((await refresh(proc.url, tokens.refreshed.refresh_token, 'basic')).status).toBe(200);
  const fresh = await refresh(proc.url, tokens.fresh.refresh_token, 'body');
  expect(fresh.status).toBe(200);
  // A token 1.0.0 issued is found by its hash alone; the refresh tokens issued now name the grant.
  const next = (await fresh.json()) as TokenBody;
  expect(next.refresh_token).toMatch(REFRESH_TOKEN);
  // 1.0.0 still allowed the parent of an unused rotation again: it stays usable, and so does its child.
  expect((await refresh(proc.url, tokens.superseded.previous_refresh_token)).status).toBe(200);
  expect((await refresh(proc.url, tokens.superseded.refresh_token)).status).toBe(200);
  const pub = await tokenRequest(
    proc.url,
    { grant_type: 'refresh_token', refresh_token: tokens.public.refresh_token },
    'none',
    'public-app',
  );
  expect(pub.status).toBe(200);

  const revoked = await refresh(proc.url, tokens.revoked.refresh_token);
  expect(revoked.status).toBe(400);
  expect(((await revoked.json()) as { error: string }).error).toBe('invalid_grant');
  expect(((await (await introspectAsResourceServer(proc.url, tokens.revoked.access_token)).json()) as { active: boolean }).active).toBe(
    false,
  );
  expect(proc.output()).toMatch(/database upgraded from release 1\.0\.0: \d+ grants, \d+ tokens/);

  // A restart finds the upgraded layout and upgrades nothing again.
  proc.child.kill('SIGTERM');
  await proc.exited;
  proc = await spawnServer(dataDir);
  expect(proc.output()).not.toMatch(/upgraded/);
  expect((await refresh(proc.url, next.refresh_token, 'body')).status).toBe(200);
  // The 1.0.0 token it superseded is an earlier generation inside the grace window.
  expect((await refresh(proc.url, tokens.fresh.refresh_token, 'body')).status).toBe(200);
});

it.each([15, 90])(
  'upgraded %i days after its last 1.0.0 refresh, the token 1.0.0 still allowed again refreshes: its window starts at the upgrade',
  async (days) => {
    const dataDir = copyOfFixture();
    const options = JSON.parse(readFileSync(path.join(dataDir, 'options.json'), 'utf8')) as Record<string, unknown>;
    const server = await startInProcess({ dataDir, options, now: () => Date.now() + days * 86_400_000 });
    try {
      expect(
        (await introspectAsResourceServer(server.url, tokens.superseded.previous_refresh_token).then((r) => r.json())) as object,
      ).toMatchObject({
        active: true,
      });
      expect((await refresh(server.url, tokens.superseded.previous_refresh_token)).status).toBe(200);
    } finally {
      await server.stop();
    }
  },
);

it('a kill -9 at any moment of the upgrade leaves either the 1.0.0 data or the upgraded data, and the next start completes it', async () => {
  const dataDir = copyOfFixture();
  const db = path.join(dataDir, 'oauth.sqlite');
  // Enough 1.0.0 rows that the upgrade takes a while: expired-never grants of other users, in 1.0.0's format.
  const legacy = new DatabaseSync(db);
  legacy.exec('BEGIN');
  const insert = legacy.prepare('INSERT INTO keyv (key, value) VALUES (?, ?)');
  const far = Date.now() + 400 * 86_400_000;
  for (let i = 0; i < 60_000; i++) {
    const grant = {
      id: `bulk${i}`,
      clientId: 'amazon-alexa',
      username: `user${i}`,
      scopes: ['music.read'],
      createdAt: Date.now(),
      refreshCount: 0,
      refresh: { live: [`hash${i}`], settled: true },
    };
    insert.run(`oauth:grant:bulk${i}`, JSON.stringify({ value: grant, expires: far }));
    insert.run(
      `oauth:token:hash${i}`,
      JSON.stringify({
        value: { kind: 'refresh', grantId: `bulk${i}`, scopes: ['music.read'], issuedAt: Date.now(), expiresAt: far },
        expires: far,
      }),
    );
  }
  legacy.exec('COMMIT');
  legacy.close();

  const seed = Number(process.env.UPGRADE_SEED ?? Date.now() % 100_000);
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  console.log(`upgrade kill -9 seed ${seed} (UPGRADE_SEED to repeat)`);
  for (let round = 0; round < 4; round++) {
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    await sleep(Math.floor(random() * 600));
    proc.child.kill('SIGKILL');
    await proc.exited;
    const version = userVersion(db);
    // Whole or nothing: the 1.0.0 table with every row, or the new one with nothing of the old left.
    if (version === 0) {
      expect(tables(db)).toContain('keyv');
      expect(Number(sqlAll(db, 'SELECT count(*) AS n FROM keyv', { readOnly: true })[0]!.n)).toBeGreaterThanOrEqual(120_000);
    } else {
      expect(version).toBe(2);
      expect(tables(db)).toEqual(['kv']);
    }
    expect(String(sqlAll(db, 'PRAGMA integrity_check', { readOnly: true })[0]!.integrity_check)).toBe('ok');
  }
  proc = await spawnServer(dataDir);
  expect(userVersion(db)).toBe(2);
  expect((await refresh(proc.url, tokens.refreshed.refresh_token)).status).toBe(200);
  expect((await refresh(proc.url, tokens.revoked.refresh_token)).status).toBe(400);
  expect(Number(sqlAll(db, `SELECT count(*) AS n FROM kv WHERE key LIKE 'grant:bulk%'`, { readOnly: true })[0]!.n)).toBe(60_000);
}, 120_000);

it('an upgrade that cannot proceed leaves the 1.0.0 data untouched, says why in one log line, and runs once the cause is gone', async () => {
  const dataDir = copyOfFixture();
  const db = path.join(dataDir, 'oauth.sqlite');
  const legacy = new DatabaseSync(db);
  // A grant record without its list of live refresh tokens (1.0.0 never wrote one; a hand edit could).
  legacy
    .prepare('INSERT INTO keyv (key, value) VALUES (?, ?)')
    .run('oauth:grant:broken', JSON.stringify({ value: { id: 'broken', refresh: { live: 5 } }, expires: Date.now() + 86_400_000 }));
  const before = legacy.prepare('SELECT count(*) AS n FROM keyv').get() as { n: number };
  legacy.close();

  proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
  const health = await eventually('/health to report the failed upgrade', async () => {
    const res = await fetch(`${proc!.url}/health`);
    return res.status === 503 ? ((await res.json()) as { store: string; store_fault: string }) : undefined;
  });
  expect(health.store_fault).toBe('unopened');
  expect(health.store).toMatch(/upgrade of the database from release 1\.0\.0 could not proceed/);
  const lines = proc
    .output()
    .split('\n')
    .filter((l) => /could not proceed/.test(l));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/the 1\.0\.0 data was left untouched/);
  expect(userVersion(db)).toBe(0);
  expect(tables(db)).toEqual(['keyv']);
  expect(Number(sqlAll(db, 'SELECT count(*) AS n FROM keyv', { readOnly: true })[0]!.n)).toBe(before.n);
  proc.child.kill('SIGTERM');
  await proc.exited;

  // The operator (or a fixed release) removes the cause; the next start upgrades.
  sqlAll(db, `DELETE FROM keyv WHERE key = 'oauth:grant:broken'`);
  proc = await spawnServer(dataDir);
  expect(userVersion(db)).toBe(2);
  const res = await tokenRequest(proc.url, { grant_type: 'refresh_token', refresh_token: tokens.refreshed.refresh_token }, 'basic');
  expect(res.status).toBe(200);
});
