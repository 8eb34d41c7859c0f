/**
 * A stranger's open connections cannot take the server's: at most `perSource` at once from one source (not from a
 * trusted proxy), at most `total` in all, and headers that trickle in are cut off at headersTimeout (checked every
 * checkIntervalMs, not Node's 30 s). Each refusal is counted, and logged when it starts and once a minute after.
 * Real listening servers with small limits; every wait is bounded.
 */
import { expect } from '@jest/globals';
import { Socket, connect } from 'node:net';
import { RunningServer } from '../../src/main';
import { capturedLogger } from '../helpers/captured-log';
import { startInProcess, testOptions } from '../helpers/test-server';
import { eventually } from '../helpers/wait';

const servers: RunningServer[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  while (servers.length > 0) await servers.pop()!.stop();
});

async function serve(connections: Record<string, number>, options = testOptions()) {
  const { log, lines } = capturedLogger('info');
  const server = await startInProcess({ options, log, connections });
  servers.push(server);
  return { server, lines };
}

/** A connection that sends nothing; resolves once it is open, with whether the server has closed it since. */
async function idle(port: number): Promise<{ socket: Socket; closed: () => boolean }> {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let closed = false;
  socket.on('close', () => (closed = true));
  socket.on('error', () => (closed = true));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, closed: () => closed };
}

const health = (url: string) =>
  fetch(`${url}/health`).then(
    (r) => r.status,
    () => 'refused',
  );

describe('connections per source', () => {
  it('the one past the limit is closed at once; /health answers again when one of the idle ones goes; the log says so once', async () => {
    const { server, lines } = await serve({ perSource: 8 });
    const held = [];
    for (let i = 0; i < 8; i++) held.push(await idle(server.port));
    const extra = await idle(server.port);
    await eventually('the connection past the limit to be closed', () => extra.closed());
    expect(held.some((c) => c.closed())).toBe(false);
    expect(await health(server.url)).toBe('refused');

    held[0]!.socket.destroy();
    await eventually('/health to answer again', async () => (await health(server.url)) === 200);
    const warnings = lines.filter((l) => l.includes('connection limit'));
    expect(warnings).toEqual([
      expect.stringContaining('connection limit reached: refusing connections from 127.0.0.1 (more than 8 open at once from one source)'),
    ]);
  });

  it('does not apply to a trusted proxy, which carries everyone', async () => {
    const { server } = await serve({ perSource: 4 }, testOptions({ trusted_proxies: ['loopback'] }));
    const held = [];
    for (let i = 0; i < 12; i++) held.push(await idle(server.port));
    expect(await health(server.url)).toBe(200);
    expect(held.some((c) => c.closed())).toBe(false);
  });
});

it('connections in all: past `total` they are dropped and counted', async () => {
  const { server, lines } = await serve({ perSource: 100, total: 6 });
  for (let i = 0; i < 6; i++) await idle(server.port);
  const extra = await idle(server.port);
  await eventually('the connection past the limit to be closed', () => extra.closed());
  expect(lines.filter((l) => l.includes('connection limit'))).toEqual([
    expect.stringContaining('refusing connections from all sources (more than 6 open in all)'),
  ]);
});

it('strangers filling the total never shut out a trusted proxy', async () => {
  const { server } = await serve({ perSource: 100, total: 6 }, testOptions({ trusted_proxies: ['127.0.0.1'] }));
  // 127.0.0.2 is not the proxy (loopback answers on the whole 127/8): it fills the total.
  const strangers = [];
  for (let i = 0; i < 6; i++) {
    const socket = connect({ port: server.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    sockets.push(socket);
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    strangers.push(socket);
  }
  const past = connect({ port: server.port, host: '127.0.0.1', localAddress: '127.0.0.2' });
  sockets.push(past);
  let pastClosed = false;
  past.on('close', () => (pastClosed = true));
  past.on('error', () => (pastClosed = true));
  await eventually('the stranger past the total to be closed', () => pastClosed);
  // The proxy (127.0.0.1) still gets in.
  expect(await health(server.url)).toBe(200);
});

it('headers trickling in are cut off at headersTimeout, long before the trickle ends', async () => {
  const { server } = await serve({ headersTimeoutMs: 1000, checkIntervalMs: 200 });
  const { socket, closed } = await idle(server.port);
  let answer = '';
  socket.on('data', (d) => (answer += String(d)));
  socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  let sent = 0;
  // At most 40 bytes, 250 ms apart (10 s): the server must close the connection well before.
  while (!closed() && sent < 40) {
    socket.write('a');
    sent++;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(closed()).toBe(true);
  expect(sent).toBeLessThan(40);
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
});
