/**
 * GET /health: 200 with the documented body while the store can be written and read back, non-200 with the
 * reason while it cannot (here: another process holds SQLite's write lock, as a backup or a stuck CLI would),
 * and 200 again once it can. The token endpoint meanwhile answers 503, never invalid_grant (which unlinks).
 */
import { expect } from '@jest/globals';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { RunningServer } from '../../src/main';
import { linkAccount, refresh } from '../helpers/alexa-client';
import { holdWriteLock } from '../helpers/sqlite';
import { eventually } from '../helpers/wait';
import { spawnServer, startInProcess, tempDataDir, testOptions } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

it('answers 200 with status ok and the server name while the store works', async () => {
  const res = await fetch(`${server.url}/health`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(await res.json()).toEqual(
    expect.objectContaining({ status: 'ok', message: 'Music Assistant OAuth Server', store: 'ok', version: expect.any(String) }),
  );
});

it('answers 503 with the reason while the database cannot be written (within the probe cache time), and 200 once it can again', async () => {
  const lock = holdWriteLock(server.deps.store.file);
  try {
    const res = await eventually(
      '/health to report the lock',
      async () => {
        const r = await fetch(`${server.url}/health`);
        return r.status === 503 ? r : undefined;
      },
      15_000,
    );
    const body = (await res.json()) as { status: string; message: string; store: string };
    expect(body.status).toBe('error');
    expect(body.message).toBe('Music Assistant OAuth Server');
    expect(body.store).toMatch(/cannot be read or written/);
    expect(body.store).toMatch(/locked|busy/i);
  } finally {
    lock.release();
  }
  await eventually('/health to recover', async () => (await fetch(`${server.url}/health`)).status === 200, 20_000);
});

it('a flood of /health requests probes the database at most once per cache period (a probe writes)', async () => {
  const check = jest.spyOn(server.deps.store, 'check');
  try {
    const started = Date.now();
    for (let i = 0; i < 200; i++) expect((await fetch(`${server.url}/health`)).status).toBe(200);
    const periods = Math.floor((Date.now() - started) / 5000) + 1;
    expect(check.mock.calls.filter(([opts]) => opts?.write !== false).length).toBeLessThanOrEqual(periods);
  } finally {
    check.mockRestore();
  }
});

it('a refresh that cannot be stored is 503 temporarily_unavailable, and the refresh token still works afterwards', async () => {
  const tokens = await linkAccount(server.url);
  const lock = holdWriteLock(server.deps.store.file);
  let res: Response;
  try {
    res = await refresh(server.url, tokens.refresh_token);
  } finally {
    lock.release();
  }
  expect(res.status).toBe(503);
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
  expect((await refresh(server.url, tokens.refresh_token)).status).toBe(200);
});

it('a database file that is not SQLite does not stop the server (no restart loop): /health names the file and the fault', async () => {
  const dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions()));
  writeFileSync(path.join(dataDir, 'oauth.sqlite'), 'this is not a database, it is a text file that got here somehow\n'.repeat(100));
  const proc = await spawnServer(dataDir, undefined, {}, { healthy: false });
  try {
    const res = await fetch(`${proc.url}/health`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as { store: string };
    expect(body.store).toContain(path.join(dataDir, 'oauth.sqlite'));
    expect(body.store).toMatch(/damaged|not a database/);
    expect(proc.output()).toContain(path.join(dataDir, 'oauth.sqlite'));
    // Alexa is told to retry, never that its grant is invalid (which would unlink the user)
    const token = await refresh(proc.url, 'x'.repeat(43));
    expect(token.status).toBe(503);
    expect(((await token.json()) as { error: string }).error).toBe('temporarily_unavailable');
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
});

it('the uptime counts on the monotonic clock: a wall clock set back three days leaves it small and never negative', async () => {
  const realNow = Date.now.bind(Date);
  const back = jest.spyOn(Date, 'now').mockImplementation(() => realNow() - 3 * 86_400_000);
  try {
    const body = (await (await fetch(`${server.url}/health`)).json()) as { uptime_s: number };
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
    expect(body.uptime_s).toBeLessThan(600);
  } finally {
    back.mockRestore();
  }
});
