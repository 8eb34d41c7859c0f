/**
 * Grant ids are base64url: one in 32 starts with "-". oauth-admin must read such an id as a grant, not as an
 * unknown option (which made `oauth-admin revoke <id>` exit 2 with a usage message, and a test flaky).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { tempDataDir } from '../helpers/test-server';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');

it.each(['-AbCdEfGhIjKlMnOpQrStUv', '--bCdEfGhIjKlMnOpQrStUv'])('revoke %s is a grant id, not an option', (id) => {
  const env = { PATH: process.env.PATH, DATA_DIR: tempDataDir() };
  openSqliteStore(env.DATA_DIR).close(); // the database the server's first start makes, which the revoke reads
  const r = spawnSync(process.execPath, [CLI, 'revoke', id], { env, encoding: 'utf8' });
  expect(r.stderr).toContain(`no grant ${id}`);
  expect(r.status).toBe(1);
});
