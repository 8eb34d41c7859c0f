/**
 * Storage faults against the spawned server (dist/main.js): a database locked by another program, a full disk
 * (a small tmpfs), a read-only data folder (immutable files: root ignores permissions, not chattr +i), a damaged
 * or vanished database file. For each: the log and /health say exactly what is wrong (503 with the reason), what
 * can be served safely still is (reads: introspection of a token), a token request is 503 temporarily_unavailable
 * and never invalid_grant (which unlinks), and once the fault is gone the server recovers without a restart and
 * the very refresh token that was refused works.
 */
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { holdWriteLock } from '../helpers/sqlite';
import { TokenBody, alexaAuthorize, authorizeUrl, introspectOnce, linkAccount, refreshOnce } from '../helpers/alexa-client';
import { ServerProcess, killServer, spawnServer, tempDataDir, testOptions } from '../helpers/test-server';
import { chattrWorks, eventually, health, mountTmpfs, setImmutable, stopGracefully } from './helpers';

jest.setTimeout(120_000);

let proc: ServerProcess | undefined;
afterEach(async () => {
  await stopGracefully(proc);
  proc = undefined;
});

const DB = 'oauth.sqlite';
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');

function newDataDir(parent?: string): string {
  const dir = parent ? path.join(parent, `data-${process.pid}-${Date.now()}`) : tempDataDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'options.json'), JSON.stringify(testOptions({ log_level: 'info' })));
  return dir;
}

/** A refresh answered during a fault: 503 temporarily_unavailable with no-store, never a grant error. */
function expectUnavailable(res: { status: number; body?: Record<string, unknown> }): void {
  expect(res.status).toBe(503);
  expect(res.body?.error).toBe('temporarily_unavailable');
}

/** /health reports a fault: the file checks at once, a fault only a write shows within the probe's cache period. */
async function faultReported(url: string): Promise<Awaited<ReturnType<typeof health>>> {
  return eventually(
    '/health to report the fault',
    async () => {
      const h = await health(url);
      return h.status === 503 ? h : undefined;
    },
    15_000,
  );
}

async function expectRecovered(url: string): Promise<void> {
  await eventually('/health to answer 200 again', async () => (await health(url)).status === 200, 30_000);
}

async function linkAndSettle(url: string): Promise<TokenBody> {
  const tokens = await linkAccount(url);
  // Using the access token settles the refresh family: from now on the link depends only on stored state.
  expect((await introspectOnce(url, tokens.access_token)).active).toBe(true);
  return tokens;
}

describe('a database locked by another program (exclusive lock held beyond the busy timeout)', () => {
  it('reports "locked", answers token requests 503 within Alexa\'s 4.5 s, keeps answering reads, and resumes by itself', async () => {
    const dataDir = newDataDir();
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);

    const lock = holdWriteLock(path.join(dataDir, DB));
    try {
      const h = await faultReported(proc.url);
      expect(h.status).toBe(503);
      expect(h.body.store_fault).toBe('locked');
      expect(h.body.store).toMatch(/locked by another program/);

      const started = Date.now();
      expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
      expect(Date.now() - started).toBeLessThan(4500);

      // Readers are not blocked by a writer in WAL mode: a resource server still gets its answer.
      expect(await introspectOnce(proc.url, tokens.access_token)).toEqual({ status: 200, active: true });
    } finally {
      lock.release();
    }
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    expect(proc.output()).toMatch(/ERROR database fault: .*locked by another program/);
    expect(proc.output()).toMatch(/database recovered/);
  });
});

describe('a full disk (a 3 MiB tmpfs)', () => {
  // Mounting needs CAP_SYS_ADMIN (root in CI has it); where it is missing the case is skipped, not failed.
  const probe = mountTmpfs('64k');
  probe?.unmount();
  const maybe = probe ? it : it.skip;
  let tmpfs: ReturnType<typeof mountTmpfs>;
  beforeAll(() => {
    if (probe) tmpfs = mountTmpfs('3m');
  });
  afterAll(() => tmpfs?.unmount());

  maybe('reports "full", never answers a token request with a grant error, and resumes when space is freed', async () => {
    const dataDir = newDataDir(tmpfs!.dir);
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    let current = tokens.refresh_token;
    const received: string[] = [tokens.access_token];

    // Fill the disk to the last byte.
    const filler = path.join(tmpfs!.dir, 'filler');
    const fd = openSync(filler, 'w');
    try {
      const chunk = Buffer.alloc(64 * 1024, 1);
      for (let i = 0; i < 200; i++) {
        try {
          writeSync(fd, chunk);
        } catch {
          break;
        }
      }
      for (let i = 0; i < 64 * 1024; i++) {
        try {
          writeSync(fd, Buffer.alloc(1, 1));
        } catch {
          break;
        }
      }
    } finally {
      closeSync(fd);
    }

    // SQLite reuses space its WAL already holds, so writes may still succeed for a while: keep refreshing until
    // the fault shows. Every answer meanwhile is a success (whose tokens work) or a 503, never a grant error.
    let sawFull = false;
    for (let i = 0; i < 150 && !sawFull; i++) {
      const res = await refreshOnce(proc.url, current);
      if (res.status === 200) {
        current = String(res.body!.refresh_token);
        received.push(String(res.body!.access_token));
      } else {
        expectUnavailable(res);
      }
      const h = await health(proc.url);
      if (h.status === 503) {
        expect(h.body.store_fault).toBe('full');
        expect(h.body.store).toMatch(/the disk is full/);
        sawFull = true;
      }
    }
    expect(sawFull).toBe(true);
    expectUnavailable(await refreshOnce(proc.url, current));
    // A token issued before the disk filled is still answered (settled tokens need no write).
    expect(await introspectOnce(proc.url, tokens.access_token)).toEqual({ status: 200, active: true });

    rmSync(filler);
    await expectRecovered(proc.url);
    const after = await refreshOnce(proc.url, current);
    expect(after.status).toBe(200);
    for (const access of received) expect((await introspectOnce(proc.url, access)).active).toBe(true);
    expect(proc.output()).toMatch(/ERROR database fault: .*the disk is full/);
    expect(proc.output()).toMatch(/database recovered/);
  });
});

describe('a read-only data folder (chattr +i, which binds root too)', () => {
  const supported = chattrWorks(tempDataDir());
  const maybe = supported ? it : it.skip;
  const immutable: string[] = [];
  afterEach(() => {
    if (immutable.length) setImmutable(immutable.splice(0), false);
  });

  maybe('at run time: reports "read-only" naming the folder, keeps answering reads, resumes when writable again', async () => {
    const dataDir = newDataDir();
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    const files = [DB, `${DB}-wal`, `${DB}-shm`].map((f) => path.join(dataDir, f)).filter((f) => existsSync(f));
    immutable.push(dataDir, ...files);
    expect(setImmutable(immutable, true)).toBe(true);

    const h = await faultReported(proc.url);
    expect(h.status).toBe(503);
    expect(h.body.store_fault).toBe('read_only');
    expect(h.body.store).toContain(dataDir);
    expect(h.body.store).toMatch(/read-only.*EPERM/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    expect(await introspectOnce(proc.url, tokens.access_token)).toEqual({ status: 200, active: true });

    setImmutable(immutable.splice(0), false);
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    expect(proc.output()).toMatch(/ERROR database fault: .*read-only/);
  });

  maybe('at start-up: the server starts anyway (no restart loop), says why, and opens the database once it can', async () => {
    const dataDir = newDataDir();
    immutable.push(dataDir);
    expect(setImmutable(immutable, true)).toBe(true);
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const h = await faultReported(proc.url);
    expect(h.status).toBe(503);
    expect(h.body.store_fault).toBe('read_only');
    expect(h.body.store).toContain(dataDir);
    expect(proc.output()).toMatch(/starting without a usable database/);
    expect((await fetch(`${proc.url}/.well-known/oauth-authorization-server`)).status).toBe(200);
    const token = await refreshOnce(proc.url, 'x'.repeat(43));
    expectUnavailable(token); // unknown or not: without a database nobody can tell, so never invalid_grant

    setImmutable(immutable.splice(0), false);
    await expectRecovered(proc.url);
    const tokens = await linkAccount(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    expect(proc.child.exitCode).toBeNull();
  });
});

describe('a damaged database file', () => {
  /** Links an account on a fresh server, stops it cleanly and returns the data folder, a copy of the good file and the tokens. */
  async function preparedDataDir(): Promise<{ dataDir: string; backup: string; tokens: TokenBody }> {
    const dataDir = newDataDir();
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    await stopGracefully(proc);
    const backup = path.join(dataDir, 'good-copy.sqlite');
    copyFileSync(path.join(dataDir, DB), backup);
    return { dataDir, backup, tokens };
  }

  it('overwritten with garbage before start: starts, answers 503 (never invalid_grant), recovers when the file is restored', async () => {
    const { dataDir, backup, tokens } = await preparedDataDir();
    const file = path.join(dataDir, DB);
    writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });

    const h = await faultReported(proc.url);
    expect(h.status).toBe(503);
    expect(h.body.store_fault).toBe('damaged');
    expect(h.body.store).toContain(file);
    expect(h.body.store).toMatch(/restore the add-on from a backup; without one, start over with an empty database from the admin page/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    const page = await fetch(`${proc.url}${authorizeUrl(alexaAuthorize({ state: undefined, scope: undefined }))}`);
    expect(page.status).toBe(503);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).not.toMatch(/at .*\.js:\d+/); // no stack trace

    copyFileSync(backup, file);
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    expect(proc.output()).toMatch(/ERROR database fault: .*damaged/);
  });

  it('a damaged page inside an otherwise valid file is found by the integrity check at start-up', async () => {
    const { dataDir, backup, tokens } = await preparedDataDir();
    const file = path.join(dataDir, DB);
    const size = statSync(file).size;
    expect(size).toBeGreaterThanOrEqual(3 * 4096); // page 3 lies inside the file
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 2 * 4096); // page 3: the table's b-tree
    closeSync(fd);
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const h = await faultReported(proc.url);
    expect(h.status).toBe(503);
    expect(h.body.store_fault).toBe('damaged');
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    copyFileSync(backup, file);
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
  });

  it('a large file (checked just after start-up by the deferred check, not before it nor by the first health probes) with a damaged page: found within seconds', async () => {
    const { dataDir, tokens } = await preparedDataDir();
    const file = path.join(dataDir, DB);
    // Grow the file past the size checked before opening (16 MiB) with rows of another kind.
    const db = new DatabaseSync(file);
    db.exec('BEGIN');
    const insert = db.prepare('INSERT INTO kv (key, value, expires) VALUES (?, ?, NULL)');
    for (let i = 0; i < 4500; i++) insert.run(`pad:${i}`, JSON.stringify({ value: 'x'.repeat(4000) }));
    db.exec('COMMIT');
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    db.close();
    expect(statSync(file).size).toBeGreaterThan(16 * 1024 * 1024);
    // A page of the padding rows near the end: no request reads it, only the integrity check does.
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, statSync(file).size - 64 * 4096);
    closeSync(fd);
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const h = await faultReported(proc.url);
    expect(h.body.store_fault).toBe('damaged');
    expect(h.body.store).toMatch(/integrity check/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
  });

  it('damaged while running: reported at once, writes stop, reads go on, recovered when the bytes are back', async () => {
    const dataDir = newDataDir();
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    const file = path.join(dataDir, DB);
    const original = readFileSync(file).subarray(0, 100);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(100, 0x00), 0, 100, 0);
    closeSync(fd);

    const h = await faultReported(proc.url);
    expect(h.status).toBe(503);
    expect(h.body.store_fault).toBe('damaged');
    expect(h.body.store).toMatch(/header is not an SQLite header/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    expect(await introspectOnce(proc.url, tokens.access_token)).toEqual({ status: 200, active: true });
    // A record that cannot be found in a damaged file is not "unknown": 503, never active=false/invalid_grant.
    expectUnavailable(await refreshOnce(proc.url, 'y'.repeat(43)));

    const fd2 = openSync(file, 'r+');
    writeSync(fd2, original, 0, 100, 0);
    closeSync(fd2);
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
  });
});

describe('the database file deleted while the server runs', () => {
  it('is never replaced by an empty database; reads go on; a put-back file is picked up without a restart', async () => {
    const dataDir = newDataDir();
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    const file = path.join(dataDir, DB);
    const saved = path.join(dataDir, 'saved.sqlite');
    copyFileSync(file, saved);
    rmSync(file);

    const h = await faultReported(proc.url);
    expect(h.status).toBe(503);
    expect(h.body.store_fault).toBe('missing');
    expect(h.body.store).toMatch(/deleted or moved/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    expect(await introspectOnce(proc.url, tokens.access_token)).toEqual({ status: 200, active: true });
    // Recovery is store.check(): reopen the database from its file (what would create an empty one), then probe.
    // The background retry runs it, silently while the fault lasts, and so does every GET /health: three more
    // attempts, each seen to find the file missing, then the file is still not there.
    let attempts = 0;
    await eventually(
      'three more recovery attempts to find the file missing',
      async () => {
        const again = await health(proc!.url);
        if (again.status === 503 && again.body.store_fault === 'missing') attempts++;
        return attempts >= 3;
      },
      15_000,
    );
    expect(existsSync(file)).toBe(false);

    copyFileSync(saved, file);
    // Picked up by the background retry alone: a refresh never reopens the database (it is refused while the fault
    // lasts), only store.check() does, and nothing calls /health meanwhile: a refresh answered 200 shows it ran.
    await eventually(
      'the background retry to pick the file up (a refresh answered 200)',
      async () => (await refreshOnce(proc!.url, tokens.refresh_token)).status === 200,
      30_000,
    );
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    await killServer(proc);
  });
});

describe('the database file missing at start-up', () => {
  const MARK = 'oauth.sqlite-created';

  it('after it held links: never replaced by an empty one, 503 with the fix, a restored file picked up; deleting the mark starts over', async () => {
    const dataDir = newDataDir();
    const file = path.join(dataDir, DB);
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    await stopGracefully(proc);
    // A database from before the mark gets it at its next start.
    expect(readFileSync(path.join(dataDir, MARK), 'utf8')).toMatch(/does not\s+replace a missing oauth\.sqlite with an empty one/);
    rmSync(path.join(dataDir, MARK));
    proc = await spawnServer(dataDir);
    expect(existsSync(path.join(dataDir, MARK))).toBe(true);
    await stopGracefully(proc);

    const saved = path.join(dataDir, 'saved.sqlite');
    copyFileSync(file, saved);
    for (const f of [DB, `${DB}-wal`, `${DB}-shm`]) rmSync(path.join(dataDir, f), { force: true });
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const h = await faultReported(proc.url);
    expect(h.body.store_fault).toBe('missing');
    expect(h.body.store).toMatch(/oauth\.sqlite is not there, but oauth\.sqlite-created says it was created in /);
    expect(h.body.store).toMatch(/restore the add-on from a backup/);
    expect(h.body.store).toMatch(/without a backup, start over from the admin page's Status/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    expect(existsSync(file)).toBe(false);
    expect(proc.output()).toMatch(/ERROR database fault: .*missing/);

    copyFileSync(saved, file);
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    // The CLI sees the server again: it records itself once the database is usable.
    await eventually(
      'oauth-admin status to see the server running',
      () =>
        !/NOT RUNNING/.test(
          spawnSync(process.execPath, [CLI, 'status'], { env: { PATH: process.env.PATH, DATA_DIR: dataDir }, encoding: 'utf8' }).stdout,
        ),
      10_000,
    );
    await stopGracefully(proc);

    // Starting over on purpose: the database and its mark deleted together.
    for (const f of [DB, `${DB}-wal`, `${DB}-shm`, MARK]) rmSync(path.join(dataDir, f), { force: true });
    proc = await spawnServer(dataDir);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(400);
  });

  it('emptied to 0 bytes while the server was stopped (a power cut that lost it): not taken for a new database; a restored file picked up', async () => {
    const dataDir = newDataDir();
    const file = path.join(dataDir, DB);
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    await stopGracefully(proc);
    const saved = path.join(dataDir, 'saved.sqlite');
    copyFileSync(file, saved);
    for (const f of [`${DB}-wal`, `${DB}-shm`]) rmSync(path.join(dataDir, f), { force: true });
    truncateSync(file, 0);

    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const h = await faultReported(proc.url);
    expect(h.body.store_fault).toBe('missing');
    expect(h.body.store).toMatch(
      /oauth\.sqlite is empty \(0 bytes\), but oauth\.sqlite-created says a database was created in .*: its content was lost/,
    );
    expect(h.body.store).toMatch(/restore the add-on from a backup/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    expect(statSync(file).size).toBe(0);

    copyFileSync(saved, file);
    await expectRecovered(proc.url);
    expect((await refreshOnce(proc.url, tokens.refresh_token)).status).toBe(200);
    await stopGracefully(proc);
  });

  it('emptied in place while the server runs: reported missing at once, refreshes refused (503), its WAL kept through a stop and a start', async () => {
    const dataDir = newDataDir();
    const file = path.join(dataDir, DB);
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    const wal = path.join(dataDir, `${DB}-wal`);
    expect(statSync(wal).size).toBeGreaterThan(0);
    truncateSync(file, 0); // what a copy over it that fails leaves (the inode stays the same)

    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    const h = await faultReported(proc.url);
    expect(h.body.store_fault).toBe('missing');
    expect(h.body.store).toMatch(/oauth\.sqlite was emptied \(0 bytes\) while the server had it open/);
    // Recovery attempts never open the empty file: SQLite would delete the WAL beside it.
    for (let i = 0; i < 3; i++) expect((await health(proc.url)).body.store_fault).toBe('missing');
    const walBytes = readFileSync(wal);
    expect(statSync(file).size).toBe(0);
    // Nor does a normal stop (closing the connection would copy the WAL into the empty file and delete it), and
    // the next start reports the same fault.
    await stopGracefully(proc);
    expect(statSync(file).size).toBe(0);
    expect(readFileSync(wal).equals(walBytes)).toBe(true);
    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const again = await faultReported(proc.url);
    expect(again.body.store_fault).toBe('missing');
    expect(again.body.store).toMatch(/oauth\.sqlite is empty \(0 bytes\), but oauth\.sqlite-created says a database was created in/);
    expect(readFileSync(wal).equals(walBytes)).toBe(true);
  });

  it.each([
    ['deleted', (file: string) => rmSync(file), 'is not there', (file: string) => expect(existsSync(file)).toBe(false)],
    [
      'emptied to 0 bytes',
      (file: string) => truncateSync(file, 0),
      'is empty \\(0 bytes\\)',
      (file: string) => expect(statSync(file).size).toBe(0),
    ],
  ])(
    'with its WAL left behind (a kill -9, then the file %s, no mark): the WAL is kept and the fault reported',
    async (_what, change, said, unchanged) => {
      const dataDir = newDataDir();
      const file = path.join(dataDir, DB);
      proc = await spawnServer(dataDir);
      const tokens = await linkAndSettle(proc.url);
      await killServer(proc);
      const wal = path.join(dataDir, `${DB}-wal`);
      expect(statSync(wal).size).toBeGreaterThan(0);
      const walBytes = readFileSync(wal);
      change(file);
      rmSync(path.join(dataDir, MARK)); // as a folder from before the mark would be

      proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
      const h = await faultReported(proc.url);
      expect(h.body.store_fault).toBe('missing');
      expect(h.body.store).toMatch(new RegExp(`oauth\\.sqlite ${said}, but its oauth\\.sqlite-wal( and oauth\\.sqlite-shm)? are`));
      expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
      unchanged(file);
      expect(readFileSync(wal).equals(walBytes)).toBe(true);
    },
  );
});

describe('a database written by a newer release (the add-on went back a version)', () => {
  it('is left untouched, answers 503 (never invalid_grant) and says to update again or restore, not that retrying helps', async () => {
    const dataDir = newDataDir();
    proc = await spawnServer(dataDir);
    const tokens = await linkAndSettle(proc.url);
    await stopGracefully(proc);
    const file = path.join(dataDir, DB);
    const db = new DatabaseSync(file);
    const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
    db.exec(`PRAGMA user_version = ${version + 1}`);
    db.close();
    const before = readFileSync(file);

    proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
    const h = await faultReported(proc.url);
    expect(h.body.store).toMatch(/written by a newer release of this add-on .*update the add-on again, or restore the backup/);
    expect(h.body.store).not.toMatch(/retrying|resumes by itself/);
    expectUnavailable(await refreshOnce(proc.url, tokens.refresh_token));
    await stopGracefully(proc);
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
