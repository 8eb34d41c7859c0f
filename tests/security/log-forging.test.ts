/**
 * Issue #12, finding 6: "\n" and ESC in request data must never start a forged line in the add-on log, nor reach
 * a terminal raw through `oauth-admin activity`. Request data is capped and escaped by one module
 * (src/log/untrusted.ts) before the log, the flow trace, the security events, the admin page and the CLI.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import winston from 'winston';
import { createLogger } from '../../src/log/logger';
import { UNTRUSTED_MAX, untrusted } from '../../src/log/untrusted';
import { terminalSafe } from '../../src/cli/format';
import { attemptLogin, tokenRequest } from '../helpers/alexa-client';
import { startInProcess, tempDataDir, testOptions } from '../helpers/test-server';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');
/** Anything that can start a line or drive a terminal: C0 but \n in our own line breaks, DEL, C1, U+2028/2029, bidi. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const HOSTILE = 'x\nFAKE 2025-01-01T00:00:00.000Z ERROR forged line\r\x1b[2J\x1b]52;c;ZXZpbA==\x07\u009b31m\u2028\u202eevil';

describe('untrusted()', () => {
  it('never leaves a control character, never exceeds its cap, and changes nothing the second time', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom('a', 'é', '\n', '\r', '\x1b', '\u009b', '\u2028', '\u202e', '\ud800', '😀', '\\', '…'),
          maxLength: 600,
        }),
        fc.integer({ min: 32, max: 400 }),
        (s, max) => {
          const once = untrusted(s, max);
          expect(RAW_CONTROL.test(once)).toBe(false);
          expect(once.length).toBeLessThanOrEqual(max);
          expect(untrusted(once, max)).toBe(once);
        },
      ),
      { numRuns: 2000 },
    );
    expect(untrusted('a\nb\x1bc')).toBe('a\\nb\\x1bc');
    expect(untrusted('y'.repeat(10_000))).toMatch(/^y+…\[\+\d+\]$/);
    expect(untrusted('y'.repeat(10_000)).length).toBeLessThanOrEqual(UNTRUSTED_MAX);
  });

  it('returns a value with nothing to escape as it is, and escapes every code unit as the full pass does', () => {
    const plain = 'client amazon-alexa: https://layla.amazon.com/api/skill/link/M2XXXX?x=1 é 😀'.slice(0, 64);
    expect(untrusted(plain, 64)).toBe(plain);
    // A trailing \n forces the full pass: both ways must agree on every UTF-16 code unit.
    for (let c = 0; c <= 0xffff; c++) {
      const ch = String.fromCharCode(c);
      expect(untrusted(ch)).toBe(untrusted(`${ch}\n`).slice(0, -2));
    }
  });

  it("the CLI's last guard lets its own colour codes through and nothing else", () => {
    expect(terminalSafe('\x1b[31mred\x1b[0m')).toBe('\x1b[31mred\x1b[0m');
    expect(terminalSafe('a\x1b[2Jb\x1b]52;c;x\x07\u009b1m\u202e')).toBe('a\\x1b[2Jb\\x1b]52;c;x\\x07\\u009b1m\\u202e');
    expect(JSON.parse(terminalSafe(JSON.stringify({ v: '\u009b\u2028' })))).toEqual({ v: '\u009b\u2028' }); // --json stays valid
  });
});

it('a value with quotes and backslashes stays one field: the quoted form reads back as exactly the value', () => {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
  const log = createLogger('info');
  log.clear().add(new winston.transports.Stream({ stream }));
  for (const value of ['a\\" username=owner ok=\\', 'x\\', '"', '\\"\\" a=b', 'plain value']) {
    lines.length = 0;
    log.warn('login failed', { username: value });
    const line = lines.join('').trimEnd();
    // The one field running to the end of the line, bare or a quoted string that no quote closes early.
    const field = / username=("(?:[^"\\]|\\.)*"|[^\s"=]+)$/.exec(line);
    expect(field).not.toBeNull();
    const written = field![1]!;
    expect(written.startsWith('"') ? JSON.parse(written) : written).toBe(value);
    expect(line.indexOf(' username=')).toBe(field!.index);
  }
});

it('request data with \\n, ESC, C1 and bidi controls starts no line in the log and reaches neither the trace nor the CLI raw', async () => {
  const lines: string[] = [];
  const stream = new PassThrough();
  stream.on('data', (d: Buffer) => lines.push(d.toString('utf8')));
  const log = createLogger('info');
  log.clear().add(new winston.transports.Stream({ stream }));
  const dataDir = tempDataDir();
  const server = await startInProcess({ dataDir, log, options: testOptions({ log_level: 'info' }) });
  try {
    // client_id and redirect_uri on the authorize page; a username at the login form; a form client_id.
    await fetch(`${server.url}/alexa/authorize?response_type=code&client_id=${encodeURIComponent(HOSTILE)}`);
    await fetch(
      `${server.url}/alexa/authorize?response_type=code&client_id=amazon-alexa&redirect_uri=${encodeURIComponent(`https://evil.example/${HOSTILE}`)}`,
    );
    await attemptLogin(server.url, { username: HOSTILE, password: 'wrong password' });
    await tokenRequest(server.url, { grant_type: HOSTILE }, 'body', HOSTILE, 'x');
    // A header value cannot hold \n, but it can hold a C1 CSI as a latin-1 byte: sent on a raw socket.
    await new Promise<void>((resolve, reject) => {
      const { port } = new URL(server.url);
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        const head =
          'POST /alexa/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 12\r\nX-Request-Id: id';
        socket.end(
          Buffer.concat([
            Buffer.from(head),
            Buffer.from([0x9b, 0x33, 0x31, 0x6d]),
            Buffer.from('\r\nConnection: close\r\n\r\ngrant_type=x'),
          ]),
        );
      });
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await server.deps.trace.flush();
  } finally {
    await server.stop();
  }

  const logText = lines.join('');
  expect(logText).toContain('forged line'); // the hostile values did reach the log, escaped
  for (const line of logText.split('\n').filter(Boolean)) expect(line).toMatch(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z (INFO |WARN |ERROR|DEBUG) /);
  expect(RAW_CONTROL.test(logText.replace(/\n/g, ''))).toBe(false);

  const traceText = readFileSync(path.join(dataDir, 'flow-trace.jsonl'), 'utf8');
  const entries = traceText
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const raw = (v: unknown): boolean =>
    typeof v === 'string' ? RAW_CONTROL.test(v) : typeof v === 'object' && v !== null ? Object.values(v).some(raw) : false;
  expect(entries.filter(raw)).toEqual([]); // no raw control character in any value, once parsed
  expect(entries.some((e) => typeof e.clientRequestId === 'string' && e.clientRequestId.includes('\\x9b'))).toBe(true);
  for (const e of entries) for (const v of Object.values(e)) if (typeof v === 'string') expect(v.length).toBeLessThanOrEqual(1024);

  // An entry written by an older version, raw control characters and all: the CLI still prints it escaped.
  appendFileSync(
    path.join(dataDir, 'flow-trace.jsonl'),
    `${JSON.stringify({ ts: new Date().toISOString(), requestId: 'old', step: 'token', outcome: 'error', kind: 'unknown_client', clientId: HOSTILE, cause: HOSTILE })}\n`,
  );
  const out = await new Promise<string>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'activity', '--failures', '--limit', '50'], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir, FORCE_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.once('error', reject);
    child.once('exit', () => resolve(text));
  });
  expect(out).toContain('forged line');
  expect(out).not.toContain('\x1b');
  expect(RAW_CONTROL.test(out.replace(/\n/g, ''))).toBe(false);
  for (const line of out.split('\n')) expect(line.startsWith('FAKE')).toBe(false);
});
