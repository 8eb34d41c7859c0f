/**
 * The background purge (store/kv.ts purgeStep), on the in-memory store and on SQLite alike: it walks the table a
 * window of rows at a time in key order, deletes exactly the expired rows, keeps every other, and ends.
 */
import { expect } from '@jest/globals';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Kv } from '../../src/store/kv';
import { createMemoryKv } from '../../src/store/memory/memory-kv';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { sqlAll } from '../helpers/sqlite';

const T0 = Date.UTC(2026, 11, 2);
let t = T0;
const dirs: string[] = [];
const closers: Array<() => void> = [];
afterEach(() => {
  closers.splice(0).forEach((close) => close());
  dirs.splice(0).forEach((dir) => rmSync(dir, { recursive: true, force: true }));
  t = T0;
});

function open(backend: 'memory' | 'sqlite'): Kv {
  if (backend === 'memory') return createMemoryKv(() => t);
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-purge-'));
  dirs.push(dir);
  const store = openSqliteStore(dir, { now: () => t });
  closers.push(() => store.close());
  return store;
}

/** Every purge step until the end, as main.ts runs them: the rows removed and how many steps it took. */
function purgeAll(kv: Kv, limit: number): { removed: number; steps: number } {
  let removed = 0;
  let steps = 0;
  let after: string | undefined;
  do {
    const step = kv.purgeStep(after, limit);
    removed += step.removed;
    after = step.next;
    steps++;
    if (steps > 1000) throw new Error('the purge did not end');
  } while (after !== undefined);
  return { removed, steps };
}

/** What is left in the table, expired or not (a scan shows live rows only). */
const keysLeft = (kv: Kv, prefixes: string[]): string[] => kv.read((tx) => prefixes.flatMap((p) => tx.scan(p).map((r) => r.key))).sort();

describe.each(['memory', 'sqlite'] as const)('on the %s store', (backend) => {
  it.each([1, 3, 7, 50])('deletes exactly the expired rows, %s rows looked at per step, and ends', (limit) => {
    const kv = open(backend);
    const kept: string[] = [];
    kv.transaction((tx) => {
      // Interleaved kinds and expiries, so every window holds some of each.
      for (let i = 0; i < 30; i++) {
        const key = `${['code', 'grant', 'token'][i % 3]}:${String(i).padStart(2, '0')}`;
        if (i % 5 === 0) {
          tx.put(key, { i }); // never expires
          kept.push(key);
        } else if (i % 2 === 0) {
          tx.put(key, { i }, T0 + 3_600_000); // still live an hour from now
          kept.push(key);
        } else {
          tx.put(key, { i }, T0 + 60_000); // expired a minute from now
        }
      }
    });
    t = T0 + 120_000;
    const { removed, steps } = purgeAll(kv, limit);
    expect(removed).toBe(30 - kept.length);
    expect(steps).toBeLessThanOrEqual(Math.ceil(30 / limit) + 1);
    expect(keysLeft(kv, ['code:', 'grant:', 'token:'])).toEqual(kept.sort());
    // Nothing is left to remove, and the live rows still read back.
    expect(purgeAll(kv, limit).removed).toBe(0);
    expect(kv.read((tx) => tx.get<{ i: number }>('token:02'))).toEqual({ i: 2 });
  });

  it('on an empty table: one step, nothing removed', () => {
    expect(purgeAll(open(backend), 500)).toEqual({ removed: 0, steps: 1 });
  });
});

it('the SQLite purge deletes the expired rows themselves, not only hides them', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-purge-'));
  dirs.push(dir);
  const store = openSqliteStore(dir, { now: () => t });
  store.transaction((tx) => {
    tx.put('token:a', { a: 1 }, T0 + 1000);
    tx.put('token:b', { b: 1 }, T0 + 10_000_000);
  });
  t = T0 + 2000;
  expect(purgeAll(store, 500).removed).toBe(1);
  store.close();
  expect(sqlAll(path.join(dir, 'oauth.sqlite'), 'SELECT key FROM kv ORDER BY key', { readOnly: true })).toEqual([{ key: 'token:b' }]);
});

it('the index on the expiry that earlier 1.1.0 builds made is dropped when the file is opened, the rows untouched', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-purge-'));
  dirs.push(dir);
  const file = path.join(dir, 'oauth.sqlite');
  const first = openSqliteStore(dir, { now: () => t });
  first.transaction((tx) => tx.put('grant:g', { id: 'g' }, T0 + 10_000_000));
  first.close();
  const db = new DatabaseSync(file);
  db.exec('CREATE INDEX kv_expires ON kv (expires) WHERE expires IS NOT NULL');
  db.close();

  const store = openSqliteStore(dir, { now: () => t });
  closers.push(() => store.close());
  expect(sqlAll(file, `SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'kv_expires'`, { readOnly: true })).toEqual([]);
  expect(store.read((tx) => tx.get('grant:g'))).toEqual({ id: 'g' });
});
