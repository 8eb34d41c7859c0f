/**
 * A new database file has 8 KiB pages, so that a grant that lists its earlier refresh tokens (10 by default) fits
 * in its B-tree page. With 4 KiB pages such a record spilled to an overflow page: every refresh read it outside the
 * page cache and wrote it, with the free-list pages, again. A file that already exists keeps its page size.
 * Either way, a checkpoint starts once the WAL holds 2 MiB of pages: the copy it makes on the event loop is as
 * long with 8 KiB pages as with 4 KiB ones.
 */
import { expect } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { CHECKPOINT_BYTES, DB_FILE, PAGE_SIZE, openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { TABLE } from '../../src/store/sqlite/schema';
import { GrantRecord } from '../../src/store/records';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = (): string => {
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-pages-'));
  dirs.push(dir);
  return dir;
};

const hash = (): string => randomBytes(32).toString('base64url');

/** A grant as the refresh rules leave it after `generations` rotations of a confidential client. */
function grantAfterRotations(id: string, generations: number): GrantRecord {
  const now = Date.now();
  return {
    id,
    clientId: 'amazon-alexa',
    username: 'owner',
    scopes: ['music.read', 'music.control'],
    createdAt: now - 86_400_000,
    lastRefreshAt: now,
    refreshCount: generations,
    refresh: {
      live: [hash()],
      previous: Array.from({ length: generations }, (_, i) => ({
        hash: hash(),
        supersededAt: now - i * 3_600_000,
        generation: generations - 1 - i,
      })),
      generation: generations,
    },
  };
}

/** A file with 4 KiB pages, as earlier builds made it. */
function fileWith4KiBPages(dir: string): string {
  const file = path.join(dir, DB_FILE);
  const old = new DatabaseSync(file);
  old.exec('PRAGMA page_size = 4096');
  old.exec('PRAGMA journal_mode = WAL');
  old.close();
  return file;
}

/** What SQLite's dbstat table says about the pages of the table: how many are overflow pages. */
function overflowPages(file: string): number {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const row = db.prepare(`SELECT count(*) AS n FROM dbstat WHERE name = ? AND pagetype = 'overflow'`).get(TABLE) as { n: number };
    return row.n;
  } finally {
    db.close();
  }
}

const pageSize = (file: string): number => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
  } finally {
    db.close();
  }
};

describe('page size of the database file', () => {
  it('a new file has 8 KiB pages; a grant with 10 earlier refresh tokens stays in its page, and a rotation writes one page', () => {
    const dir = tempDir();
    const store = openSqliteStore(dir);
    const file = path.join(dir, DB_FILE);
    try {
      const grants = Array.from({ length: 20 }, (_, i) => grantAfterRotations(`g${i}`, 10));
      expect(Buffer.byteLength(JSON.stringify(grants[0]))).toBeGreaterThan(1100); // more than a 4 KiB page holds in place
      store.transaction((tx) => grants.forEach((g) => tx.put(`grant:${g.id}`, g)));
      expect(overflowPages(file)).toBe(0);
      expect(pageSize(file)).toBe(8192);

      // One rotation rewrites one grant: one page appended to the WAL (an overflow record would add its overflow
      // page and the free-list's).
      const wal = `${file}-wal`;
      const before = statSync(wal).size;
      const g = grants[7]!;
      store.transaction((tx) => tx.put(`grant:${g.id}`, { ...g, refresh: { ...g.refresh, live: [hash()], generation: 11 } }));
      expect((statSync(wal).size - before) / (PAGE_SIZE + 24)).toBe(1);
      expect(store.read((tx) => tx.get<GrantRecord>(`grant:${g.id}`))?.refresh.generation).toBe(11);
    } finally {
      store.close();
    }
  });

  it('a file made with 4 KiB pages keeps them, and its records, and takes writes', () => {
    const dir = tempDir();
    const file = fileWith4KiBPages(dir);
    const seeded = openSqliteStore(dir);
    const grant = grantAfterRotations('kept', 10);
    seeded.transaction((tx) => tx.put(`grant:${grant.id}`, grant));
    seeded.close();
    expect(pageSize(file)).toBe(4096);

    const store = openSqliteStore(dir);
    try {
      expect(pageSize(file)).toBe(4096);
      expect(store.read((tx) => tx.get<GrantRecord>('grant:kept'))).toEqual(grant);
      store.transaction((tx) => tx.put('grant:new', grantAfterRotations('new', 10)));
      expect(store.read((tx) => tx.get<GrantRecord>('grant:new'))?.refresh.previous).toHaveLength(10);
    } finally {
      store.close();
    }
  });

  it.each([
    ['a new file (8 KiB pages)', 8192, (_dir: string) => undefined],
    ['a file with 4 KiB pages', 4096, fileWith4KiBPages],
  ])('%s is checkpointed once its WAL holds 2 MiB of pages', (_what, size, prepare) => {
    const dir = tempDir();
    prepare(dir);
    const store = openSqliteStore(dir);
    const file = path.join(dir, DB_FILE);
    try {
      expect(pageSize(file)).toBe(size);
      // One small record per transaction, in key order: about one page each. Three times the 2 MiB of pages at
      // 8 KiB, one and a half times at 4 KiB: with a bound counted in pages, not bytes, 8 KiB pages would grow the
      // WAL to twice the bytes before its first checkpoint.
      const frame = size + 24;
      for (let i = 0; i < 750; i++) store.transaction((tx) => tx.put(`token:${String(i).padStart(4, '0')}`, { i }));
      const walBytes = statSync(`${file}-wal`).size;
      expect(walBytes).toBeLessThanOrEqual(32 + (CHECKPOINT_BYTES / size + 4) * frame);
      expect(walBytes).toBeGreaterThan(CHECKPOINT_BYTES / 2);
      expect(store.read((tx) => tx.get<{ i: number }>('token:0749'))?.i).toBe(749);
    } finally {
      store.close();
    }
  });
});
