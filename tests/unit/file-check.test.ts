/**
 * Every write looks at the database file first (sqlite-store.ts fileMoved): a file replaced, deleted or emptied
 * under the running server is noticed by the next write, even one in the same turn of the event loop right after a
 * write that found it in place, and from then on every write is refused (503 to a client, which retries) instead of
 * going to a file that is gone.
 */
import { expect } from '@jest/globals';
import { copyFileSync, readFileSync, renameSync, rmSync, statSync, truncateSync } from 'node:fs';
import path from 'node:path';
import { DB_FILE, SqliteStore, openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { StoreError } from '../../src/store/faults';
import { tempDataDir } from '../helpers/test-server';

const refusal = (store: SqliteStore, key: string): unknown => {
  try {
    store.transaction((tx) => tx.put(key, { at: Date.now() }));
    return undefined;
  } catch (err) {
    return err;
  }
};

let dir: string;
let store: SqliteStore;

beforeEach(() => {
  dir = tempDataDir();
  store = openSqliteStore(dir);
});

afterEach(() => store.close());

it.each([
  [
    'replaced by a copy',
    (file: string) => {
      copyFileSync(file, `${file}.copy`);
      renameSync(`${file}.copy`, file);
    },
  ],
  ['deleted', (file: string) => rmSync(file)],
])('a file %s right after a write is noticed by the next write, in the same turn, and every write after is refused', (_what, change) => {
  expect(refusal(store, 'grant:one')).toBeUndefined();
  change(path.join(dir, DB_FILE));
  const first = refusal(store, 'grant:two');
  expect(first).toBeInstanceOf(StoreError);
  expect((first as StoreError).fault).toBe('missing');
  // The fault stands: no later write goes to the file that is gone.
  expect(refusal(store, 'grant:three')).toBeInstanceOf(StoreError);
  expect(store.status().fault).toBe('missing');
});

it('a file emptied in place (same inode): writes refused, and neither checks nor closing the store open or close it onto its WAL', () => {
  for (let i = 0; i < 50; i++) expect(refusal(store, `grant:${i}`)).toBeUndefined();
  const file = path.join(dir, DB_FILE);
  const wal = `${file}-wal`;
  const walBytes = readFileSync(wal);
  expect(walBytes.length).toBeGreaterThan(0);
  truncateSync(file, 0);

  const refused = refusal(store, 'grant:after');
  expect(refused).toBeInstanceOf(StoreError);
  expect((refused as StoreError).fault).toBe('missing');
  expect(store.status().reason).toMatch(/was emptied \(0 bytes\) while the server had it open/);
  // A fresh connection onto the empty file (the integrity checks open one) would make SQLite delete the WAL;
  // closing the store's own would copy the WAL into the file and delete it.
  expect(store.integrityCheck()).toEqual([expect.stringMatching(/was emptied \(0 bytes\)/)]);
  expect(store.check().fault).toBe('missing');
  store.close();
  expect(statSync(file).size).toBe(0);
  expect(readFileSync(wal).equals(walBytes)).toBe(true);
});

it('start over from a file emptied in place: a new, writable database, and the old files kept aside with their WAL as it was', () => {
  for (let i = 0; i < 30; i++) expect(refusal(store, `grant:${i}`)).toBeUndefined();
  const file = path.join(dir, DB_FILE);
  const walBytes = readFileSync(`${file}-wal`);
  truncateSync(file, 0);
  expect((refusal(store, 'grant:after') as StoreError).fault).toBe('missing');

  const result = store.startOver();
  expect(result).toMatchObject({ done: true, health: { ok: true } });
  const kept = result.done ? result.kept : [];
  expect(kept).toHaveLength(3);
  const keptWal = kept.find((name) => name.endsWith('-wal'));
  expect(readFileSync(path.join(dir, keptWal ?? '-')).equals(walBytes)).toBe(true);
  expect(refusal(store, 'grant:new')).toBeUndefined();
  expect(store.check().ok).toBe(true);
});
