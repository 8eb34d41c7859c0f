/**
 * The WAL is synced on the thread pool after commits (src/store/sqlite/wal-flusher.ts): one sync at a time, the
 * commits made during a sync covered by one more, the descriptor closed only once its sync has ended, and a WAL
 * that cannot be opened tried again only a minute later. The store calls it, with Node's fdatasync, after every
 * write transaction that wrote something, and closes its descriptor when it closes or reopens its connection.
 */
import { afterEach, expect, jest } from '@jest/globals';
import fs, { copyFileSync, mkdtempSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SyncFile, flushWalInBackground } from '../../src/store/sqlite/wal-flusher';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

const dirs: string[] = [];
afterEach(() => {
  jest.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A new folder under its real path: /proc/self/fd shows a descriptor's file with every link resolved. */
function folder(): string {
  const dir = mkdtempSync(path.join(realpathSync(tmpdir()), 'maoauth-walsync-'));
  dirs.push(dir);
  return dir;
}

/** The file an open descriptor of this process refers to, or undefined once it is closed. */
function fileOf(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/** How many descriptors of this process are open on `file`, deleted since or not (SQLite deletes its WAL at close). */
function descriptorsOn(file: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => [file, `${file} (deleted)`].includes(fileOf(Number(fd)) ?? '')).length;
}

/** Waits, at most 5 s, until `done()` holds: a real background sync ends when the disk says so. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A sync that is held until the test ends it, recording what it was given. */
function heldSync() {
  const calls: Array<{ fd: number; file: string | undefined; end: () => void }> = [];
  const sync: SyncFile = (fd, done) => calls.push({ fd, file: fileOf(fd), end: () => done(null) });
  return { calls, sync };
}

it('syncs the WAL after a commit, one sync at a time; the commits made during a sync are covered by one more', () => {
  const wal = path.join(folder(), 'oauth.sqlite-wal');
  writeFileSync(wal, 'wal');
  const { calls, sync } = heldSync();
  const flusher = flushWalInBackground(wal, sync);
  expect(calls).toHaveLength(0);

  flusher.committed();
  expect(calls).toHaveLength(1);
  expect(calls[0]?.file).toBe(wal);

  // Three commits while the first sync runs: none starts a sync of its own.
  flusher.committed();
  flusher.committed();
  flusher.committed();
  expect(calls).toHaveLength(1);

  // The first sync ends: one more covers the three.
  calls[0]?.end();
  expect(calls).toHaveLength(2);
  expect(calls[1]?.fd).toBe(calls[0]?.fd);

  // It ends with nothing committed since: no third.
  calls[1]?.end();
  expect(calls).toHaveLength(2);

  // A commit later, at an hour's pace, has a sync of its own.
  flusher.committed();
  expect(calls).toHaveLength(3);
  calls[2]?.end();
  flusher.close();
});

it('closes the descriptor only after the sync running at close has ended, and syncs nothing after close', () => {
  const wal = path.join(folder(), 'oauth.sqlite-wal');
  writeFileSync(wal, 'wal');
  const { calls, sync } = heldSync();
  const flusher = flushWalInBackground(wal, sync);
  flusher.committed();
  const fd = calls[0]?.fd ?? -1;

  flusher.close();
  flusher.committed();
  expect(fileOf(fd)).toBe(wal);

  calls[0]?.end();
  expect(fileOf(fd)).toBeUndefined();
  expect(calls).toHaveLength(1);
});

it('a WAL that cannot be opened is left to the checkpoints for a minute, then opened again: no error, no retry per commit', () => {
  const dir = path.join(folder(), 'later');
  const wal = path.join(dir, 'oauth.sqlite-wal');
  const open = jest.spyOn(fs, 'openSync');
  const { calls, sync } = heldSync();
  let clock = 0;
  const flusher = flushWalInBackground(wal, sync, () => clock);
  expect(() => {
    flusher.committed();
    flusher.committed();
  }).not.toThrow();
  expect(calls).toHaveLength(0);
  expect(open).toHaveBeenCalledTimes(1);

  // The WAL can be opened again (say, descriptors were freed), but the next try waits for its minute.
  fs.mkdirSync(dir);
  writeFileSync(wal, 'wal');
  clock = 59_000;
  flusher.committed();
  expect(calls).toHaveLength(0);
  clock = 60_000;
  flusher.committed();
  expect(calls).toHaveLength(1);
  expect(calls[0]?.file).toBe(wal);
  calls[0]?.end();
  flusher.close();
});

it('the store syncs its own WAL after a write transaction, and not after a read', () => {
  const dir = folder();
  const synced: string[] = [];
  const real = fs.fdatasync;
  jest.spyOn(fs, 'fdatasync').mockImplementation((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    synced.push(fileOf(fd) ?? '(closed)');
    real(fd, done);
  });
  const store = openSqliteStore(dir);
  try {
    // Opening writes the schema with plain statements, outside the store's transactions: nothing is synced by it.
    expect(synced).toEqual([]);
    store.read((tx) => tx.get('grant:none'));
    expect(synced).toEqual([]);
    store.transaction((tx) => tx.put('grant:one', { id: 'one' }));
    expect(synced).toEqual([path.join(dir, 'oauth.sqlite-wal')]);
  } finally {
    store.close();
  }
});

it('a write transaction that changed nothing syncs nothing: a refused request commits an empty one', () => {
  const dir = folder();
  const synced: number[] = [];
  jest.spyOn(fs, 'fdatasync').mockImplementation((fd: number, done: (err: NodeJS.ErrnoException | null) => void) => {
    synced.push(fd);
    done(null);
  });
  const store = openSqliteStore(dir);
  try {
    store.transaction((tx) => tx.get('grant:none'));
    expect(synced).toEqual([]);
    store.transaction((tx) => tx.delete('grant:none'));
    expect(synced).toHaveLength(1);
  } finally {
    store.close();
  }
});

it('the store closes its WAL descriptor when it closes, and the old one when it reopens its connection', async () => {
  const dir = folder();
  const file = path.join(dir, 'oauth.sqlite');
  const wal = `${file}-wal`;
  const store = openSqliteStore(dir);
  try {
    store.transaction((tx) => tx.put('grant:one', { id: 'one' }));
    // SQLite's own descriptor and the flusher's.
    expect(descriptorsOn(wal)).toBe(2);

    // Another file under the database's name: the store reports it and opens a fresh connection on it.
    copyFileSync(file, `${file}.copy`);
    renameSync(`${file}.copy`, file);
    expect(() => store.transaction((tx) => tx.put('grant:two', { id: 'two' }))).toThrow();
    expect(store.check().ok).toBe(true);
    await until(() => descriptorsOn(wal) === 2);
    expect(descriptorsOn(wal)).toBe(2);
  } finally {
    store.close();
  }
  await until(() => descriptorsOn(wal) === 0);
  expect(descriptorsOn(wal)).toBe(0);
});
