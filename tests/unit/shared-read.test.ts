/**
 * The reads of one turn of the event loop share one read transaction (sqlite-store.ts readUnit): they see the
 * database as of the turn's first read, this process's own writes included at once, another program's commits
 * from the next turn on; and the snapshot is gone once the turn is over, so it holds no checkpoint back.
 */
import { expect } from '@jest/globals';
import { DatabaseSync } from 'node:sqlite';
import path from 'node:path';
import { DB_FILE, SqliteStore, openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { tempDataDir } from '../helpers/test-server';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

let dir: string;
let store: SqliteStore;
/** Another program on the same file: the CLI, say. */
let other: SqliteStore;

beforeEach(() => {
  dir = tempDataDir();
  store = openSqliteStore(dir);
  other = openSqliteStore(dir);
  store.transaction((tx) => tx.put('k', 'v1'));
});

afterEach(() => {
  store.close();
  other.close();
});

const readK = (s: SqliteStore) => s.read((tx) => tx.get<string>('k'));

/** A TRUNCATE checkpoint by a third connection: busy while a reader still holds an older snapshot. */
function checkpointBusy(): number {
  const db = new DatabaseSync(path.join(dir, DB_FILE));
  try {
    const [result] = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').all() as Array<{ busy: number }>;
    return result!.busy;
  } finally {
    db.close();
  }
}

it("another program's commit shows from the next turn on", async () => {
  expect(readK(store)).toBe('v1');
  other.transaction((tx) => tx.put('k', 'v2'));
  expect(readK(other)).toBe('v2');
  expect(readK(store)).toBe('v1'); // the turn's snapshot
  await nextTurn();
  expect(readK(store)).toBe('v2');
});

it("this process's own writes are seen by the next read of the same turn", () => {
  expect(readK(store)).toBe('v1');
  store.transaction((tx) => tx.put('k', 'v2'));
  expect(readK(store)).toBe('v2');
  store.transaction((tx) => tx.delete('k'));
  expect(readK(store)).toBeUndefined();
});

it("the purge's writes end the turn's snapshot too", () => {
  const now = Date.now();
  store.transaction((tx) => tx.put('gone', 'x', now - 1));
  expect(store.read((tx) => tx.get('k'))).toBe('v1');
  other.transaction((tx) => tx.put('k', 'v2'));
  expect(store.purgeStep(undefined, 100).removed).toBe(1);
  expect(readK(store)).toBe('v2');
});

it('the snapshot is released once the turn is over: a checkpoint is not held back', async () => {
  expect(readK(store)).toBe('v1');
  other.transaction((tx) => tx.put('k', 'v2'));
  expect(checkpointBusy()).toBe(1); // held back by this turn's snapshot
  await nextTurn();
  expect(checkpointBusy()).toBe(0);
  expect(readK(store)).toBe('v2');
});

it('a read whose work throws ends the snapshot, passes the error on, and the next read starts afresh', () => {
  expect(readK(store)).toBe('v1');
  other.transaction((tx) => tx.put('k', 'v2'));
  expect(() =>
    store.read((tx) => {
      tx.get('k');
      throw new RangeError('not a storage fault');
    }),
  ).toThrow(RangeError);
  expect(readK(store)).toBe('v2');
});

it('a read inside a read shares its snapshot; a read cannot write', () => {
  expect(store.read((tx) => [tx.get<string>('k'), readK(store)])).toEqual(['v1', 'v1']);
  expect(() => store.read((tx) => tx.put('k', 'v3'))).toThrow(/read-only unit of work cannot write/);
  expect(readK(store)).toBe('v1');
});

it('closing the store with a snapshot open releases it', () => {
  const third = openSqliteStore(dir);
  expect(readK(third)).toBe('v1');
  third.close();
  expect(checkpointBusy()).toBe(0);
});
