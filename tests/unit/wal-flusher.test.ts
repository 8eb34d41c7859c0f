/**
 * The WAL is synced on the thread pool after commits (src/store/sqlite/wal-flusher.ts): one sync at a time, the
 * commits made during a sync covered by one more, the descriptor closed only once its sync has ended, and nothing
 * at all when the WAL cannot be opened. The store calls it after every write transaction, with Node's fdatasync.
 */
import { afterEach, expect, jest } from '@jest/globals';
import fs, { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SyncFile, flushWalInBackground } from '../../src/store/sqlite/wal-flusher';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

const dirs: string[] = [];
afterEach(() => {
  jest.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-walsync-'));
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

it('a WAL that cannot be opened is left to the checkpoints: no sync, no error, no retry per commit', () => {
  const dir = folder();
  const open = jest.spyOn(fs, 'openSync');
  const { calls, sync } = heldSync();
  const flusher = flushWalInBackground(path.join(dir, 'missing', 'oauth.sqlite-wal'), sync);
  expect(() => {
    flusher.committed();
    flusher.committed();
  }).not.toThrow();
  expect(calls).toHaveLength(0);
  expect(open).toHaveBeenCalledTimes(1);
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
