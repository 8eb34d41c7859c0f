/**
 * The compiled server as its own process (`node dist/main.js`, as the add-on runs it): SIGTERM finishes the
 * request in flight, closes the store and exits 0; started again on the same DATA_DIR, every refresh and access
 * token issued before still works.
 */
import net from 'node:net';
import { RunningServer } from '../../src/main';
import { lookupToken } from '../../src/oauth/access-tokens';
import { openDataFolder } from '../../src/data-folder';
import { REFRESH_TOKEN, TokenBody, basicAuth, introspectAsResourceServer, linkAccount, refresh, revoke } from '../helpers/alexa-client';
import {
  CLIENT_SECRET,
  ServerProcess,
  killServer,
  spawnServer,
  startInProcess,
  tempDataDir,
  testOptions,
  waitForOutput,
} from '../helpers/test-server';
import { eventually } from '../helpers/wait';

/**
 * Sends a token request's headers with `Expect: 100-continue` and waits for the server's "100 Continue", so the
 * request is provably in flight; `finish()` then sends the body and resolves with the raw response.
 */
async function startRequestInFlight(port: number, body: string): Promise<{ finish(): Promise<string> }> {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (d) => (received += d.toString('latin1')));
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  socket.write(
    'POST /alexa/token HTTP/1.1\r\n' +
      `Host: 127.0.0.1:${port}\r\n` +
      'Content-Type: application/x-www-form-urlencoded\r\n' +
      `Authorization: ${basicAuth('amazon-alexa', CLIENT_SECRET)}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Expect: 100-continue\r\n' +
      'Connection: close\r\n\r\n',
  );
  await eventually('100 Continue', () => received.includes('100 Continue'), 10_000, 10).catch((err: Error) => {
    throw new Error(`${err.message}: ${received}`);
  });
  return {
    async finish() {
      socket.write(body);
      await closed;
      return received;
    },
  };
}

let proc: ServerProcess | undefined;
afterEach(async () => {
  await killServer(proc);
  proc = undefined;
});

it('SIGTERM finishes the in-flight request and exits 0; after a restart every earlier token still works', async () => {
  const dataDir = tempDataDir();
  proc = await spawnServer(dataDir, testOptions({ log_level: 'info' }));
  const linked = await linkAccount(proc.url, 'body');
  const first = (await (await refresh(proc.url, linked.refresh_token)).json()) as TokenBody;

  // A refresh whose headers have arrived, then SIGTERM, then its body: it must complete with 200.
  const inFlight = await startRequestInFlight(
    proc.port,
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token }).toString(),
  );
  proc.child.kill('SIGTERM');
  await waitForOutput(proc, 'SIGTERM received');
  await expect(fetch(`${proc.url}/health`)).rejects.toThrow(); // no longer accepting
  const raw = await inFlight.finish();
  expect(raw).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n/);
  const second = JSON.parse(raw.slice(raw.lastIndexOf('\r\n\r\n') + 4)) as TokenBody;
  expect(second.refresh_token).toMatch(REFRESH_TOKEN);
  expect(await proc.exited).toBe(0);
  expect(proc.output()).toContain('stopped cleanly');

  // Start again on the same DATA_DIR: the refresh token from the in-flight response works.
  proc = await spawnServer(dataDir);
  const res = await refresh(proc.url, second.refresh_token, 'basic');
  expect(res.status).toBe(200);
  const third = (await res.json()) as TokenBody;
  // Music Assistant, checking the access token issued before the restart, finds it active.
  const introspection = await introspectAsResourceServer(proc.url, linked.access_token);
  expect(await introspection.json()).toMatchObject({ active: true, client_id: 'amazon-alexa', username: 'owner' });
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);

  // With both processes gone, the store itself says: every access token issued across the restart is live.
  const folder = openDataFolder(dataDir);
  try {
    for (const token of [linked.access_token, first.access_token, second.access_token, third.access_token, third.refresh_token]) {
      expect(lookupToken(folder.grants, token)).toEqual(expect.objectContaining({ active: true }));
    }
  } finally {
    folder.close();
  }
});

it('a link made before a restart refreshes after it, with either client-authentication style', async () => {
  const dataDir = tempDataDir();
  proc = await spawnServer(dataDir, testOptions());
  const basic = await linkAccount(proc.url, 'basic');
  const body = await linkAccount(proc.url, 'body');
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);

  proc = await spawnServer(dataDir);
  expect((await refresh(proc.url, basic.refresh_token, 'body')).status).toBe(200);
  expect((await refresh(proc.url, body.refresh_token, 'basic')).status).toBe(200);
});

it('a grant revoked before a restart stays revoked after it', async () => {
  const dataDir = tempDataDir();
  proc = await spawnServer(dataDir, testOptions());
  const linked = await linkAccount(proc.url);
  const next = (await (await refresh(proc.url, linked.refresh_token)).json()) as TokenBody;
  const revoked = await revoke(proc.url, next.refresh_token);
  expect(revoked.status).toBe(200);
  expect((await refresh(proc.url, linked.refresh_token)).status).toBe(400);
  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);

  proc = await spawnServer(dataDir);
  const res = await refresh(proc.url, next.refresh_token);
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
});

it('the in-process server also stops cleanly with requests in flight', async () => {
  const server: RunningServer = await startInProcess();
  const tokens = await linkAccount(server.url);
  const inFlight = await startRequestInFlight(
    server.port,
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token }).toString(),
  );
  const stopped = server.stop();
  const raw = await inFlight.finish();
  expect(raw).toContain('HTTP/1.1 200 OK');
  await stopped;
});
