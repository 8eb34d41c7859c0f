/**
 * The outgoing requests' client (src/ops/local-http.ts) against real listeners on 127.0.0.1: what it sends, what
 * it gives back, how it fails, and that it leaves undici (fetch's implementation) unloaded.
 */
import { execFile } from 'node:child_process';
import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { LocalRequestFailed, sendLocal } from '../../src/ops/local-http';

const run = promisify(execFile);
const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))));

async function listen(handler: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<URL> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => handler(req, body, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
}

it('sends the method, headers and body with its length, and gives back the status and the text of any answer', async () => {
  const seen: Array<{ method?: string; url?: string; headers: IncomingMessage['headers']; body: string }> = [];
  const base = await listen((req, body, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers, body });
    res.writeHead(req.method === 'POST' ? 401 : 200, { 'Content-Type': 'application/json' }).end('{"message":"é"}');
  });
  const body = JSON.stringify({ username: 'anna', password: 'pässword' });
  const answer = await sendLocal(new URL('/auth?x=1', base), { method: 'POST', headers: { 'X-Supervisor-Token': 't' }, body });
  expect(answer).toEqual({ status: 401, text: '{"message":"é"}' });
  expect(await sendLocal(new URL('/health', base))).toEqual({ status: 200, text: '{"message":"é"}' });
  expect(seen).toHaveLength(2);
  expect(seen[0]).toMatchObject({ method: 'POST', url: '/auth?x=1', body });
  expect(seen[0]?.headers).toMatchObject({ 'x-supervisor-token': 't', 'content-length': String(Buffer.byteLength(body)) });
  expect(seen[1]).toMatchObject({ method: 'GET', url: '/health', body: '' });
  expect(seen[1]?.headers['content-length']).toBeUndefined();
});

it('fails as aborted when the signal fires first, and with the system code when nothing listens', async () => {
  const base = await listen(() => undefined); // never answers
  const slow = sendLocal(base, { signal: AbortSignal.timeout(100) });
  await expect(slow).rejects.toBeInstanceOf(LocalRequestFailed);
  await expect(slow).rejects.toMatchObject({ reason: 'aborted' });

  const closed = await listen(() => undefined);
  await new Promise((r) => servers.pop()?.close(r));
  await expect(sendLocal(closed)).rejects.toMatchObject({ reason: 'failed', code: 'ECONNREFUSED' });
  await expect(sendLocal(new URL('https://127.0.0.1/'))).rejects.toMatchObject({ reason: 'failed' });
});

it('refuses an answer over 1 MiB instead of holding it', async () => {
  const base = await listen((_req, _body, res) => {
    res.writeHead(200);
    const block = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 20; i++) res.write(block);
    res.end();
  });
  const big = sendLocal(base);
  await expect(big).rejects.toMatchObject({ reason: 'failed' });
  await expect(big).rejects.toThrow(/larger than 1048576 bytes/);
});

it('leaves undici unloaded: the built client, in a process of its own, makes a request without it', async () => {
  const base = await listen((_req, _body, res) => res.end('ok'));
  const built = path.join(__dirname, '..', '..', 'dist', 'ops', 'local-http.js');
  const script = `
    const { sendLocal } = require(${JSON.stringify(built)});
    sendLocal(new URL(${JSON.stringify(base.href)})).then((a) => {
      const undici = process.moduleLoadList.filter((m) => m.includes('undici'));
      console.log(JSON.stringify({ text: a.text, undici }));
    });`;
  // asynchronously: the listener answering the child runs in this process
  const { stdout } = await run(process.execPath, ['-e', script], { encoding: 'utf8' });
  expect(JSON.parse(stdout)).toEqual({ text: 'ok', undici: [] });
  // the same check sees undici when fetch is used, so it is not blind
  const withFetch = await run(
    process.execPath,
    ['-e', `fetch(${JSON.stringify(base.href)}).then(() => console.log(process.moduleLoadList.some((m) => m.includes('undici'))))`],
    { encoding: 'utf8' },
  );
  expect(withFetch.stdout.trim()).toBe('true');
});
