/**
 * rootfs oauth-backup pre (the Supervisor's backup_pre) on a database emptied to 0 bytes: it must not open the file
 * (SQLite would delete the WAL beside it) nor snapshot an empty database, which a restore would start as a healthy
 * add-on with every link gone. The backup then carries the files as they are, and the server reports them.
 */
import { expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../addon/manifest';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';

const BACKUP = path.join(REPO_ROOT, 'rootfs', 'usr', 'local', 'bin', 'oauth-backup');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function dataDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'backup-pre-'));
  dirs.push(dir);
  return dir;
}

function pre(dir: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(BACKUP, ['pre'], { env: { ...process.env, DATA_DIR: dir }, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

it('an emptied database (its mark, a WAL beside it): no snapshot, the WAL untouched, one line saying why and what to do', () => {
  const dir = dataDir();
  openSqliteStore(dir).close(); // the database and its mark, as the server's first start leaves them
  const db = path.join(dir, 'oauth.sqlite');
  truncateSync(db, 0);
  writeFileSync(`${db}-wal`, 'the only copy of the last writes');

  const r = pre(dir);
  expect(r).toEqual({
    status: 0,
    stderr: '',
    stdout: `[oauth-backup] no snapshot: ${db} is empty (0 bytes) though a database was here, its content was lost; the backup keeps the files as they are; restore the add-on from an earlier backup\n`,
  });
  // No snapshot folder either: `restore` would call an empty one the leftovers of an interrupted backup.
  expect(existsSync(path.join(dir, 'snapshot'))).toBe(false);
  expect(readFileSync(`${db}-wal`, 'utf8')).toBe('the only copy of the last writes');
  expect(readFileSync(db)).toHaveLength(0);
});

it('an empty file and nothing else: no database yet, nothing made', () => {
  const dir = dataDir();
  writeFileSync(path.join(dir, 'oauth.sqlite'), '');
  expect(pre(dir)).toMatchObject({ status: 0, stdout: expect.stringContaining('no database yet') });
  expect(existsSync(path.join(dir, 'snapshot'))).toBe(false);
  expect(readFileSync(path.join(dir, 'oauth.sqlite'))).toHaveLength(0);
});

it('a database with content is still snapshotted', () => {
  const dir = dataDir();
  openSqliteStore(dir).close();
  expect(pre(dir)).toMatchObject({ status: 0, stdout: '[oauth-backup] database snapshot taken for the backup\n' });
  expect(
    readFileSync(path.join(dir, 'snapshot', 'oauth.sqlite'))
      .subarray(0, 15)
      .toString(),
  ).toBe('SQLite format 3');
});
