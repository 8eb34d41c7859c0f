/**
 * Issue #12, finding 5: anonymous floods must not erase the audit trail. 700 requests with 7 KB client_id and
 * redirect_uri values used to push a recorded code replay out of the flow trace and out of
 * `oauth-admin activity --failures`. Now security events live in a file of their own, under bounds no anonymous
 * flood can exhaust; the general trace caps each entry and coalesces repeated failures of one source.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';
import { readSecurityEvents, readTrace } from '../../src/ops/trace-reader';
import { SECURITY_LIMITS, createFlowTrace, securityEventFiles, traceFiles } from '../../src/log/flow-trace';
import { createLogger } from '../../src/log/logger';
import { exchangeCode, issueCode } from '../helpers/alexa-client';
import { startInProcess, tempDataDir, testOptions, waitForTrace } from '../helpers/test-server';

jest.setTimeout(180_000);

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');
const BIG = 'A'.repeat(7 * 1024);

function cliJson<T>(dataDir: string, ...args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, '--json'], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('error', reject);
    child.once('exit', () => {
      try {
        resolve(JSON.parse(out) as T);
      } catch {
        reject(new Error(`oauth-admin ${args.join(' ')}: ${out.slice(0, 500)} ${err.slice(0, 500)}`));
      }
    });
  });
}

/** A code redeemed twice: the replay is recorded (security, code_replay). */
async function recordReplay(url: string, dataDir: string): Promise<void> {
  const { code, verifier } = await issueCode(url);
  expect((await exchangeCode(url, code, verifier)).status).toBe(200);
  expect((await exchangeCode(url, code, verifier)).status).toBe(400);
  await waitForTrace(dataDir, (e) => e.kind === 'code_replay');
}

/** `count` authorize requests with 7 KB client_id and redirect_uri, `parallel` at a time; each a different source when `spread`. */
async function flood(url: string, count: number, spread: boolean): Promise<void> {
  const parallel = 8;
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const headers: Record<string, string> = spread ? { 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` } : {};
      const res = await fetch(`${url}/alexa/authorize?response_type=code&client_id=${BIG}${i}&redirect_uri=https://x.example/${BIG}`, {
        headers,
      });
      expect(res.status).toBe(400);
      await res.text();
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

const hasReplay = (entries: Array<{ kind?: string }>) => entries.some((e) => e.kind === 'code_replay');

it('a distributed flood rotates the general trace away, but the replay stays in the security events and in oauth-admin activity --failures', async () => {
  const dataDir = tempDataDir();
  // A small general trace, so that 700 capped entries rotate it away several times over.
  const server = await startInProcess({
    dataDir,
    options: testOptions({ trusted_proxies: ['loopback'] }),
    trace: { maxBytes: 64 * 1024, maxFiles: 2 },
  });
  try {
    await recordReplay(server.url, dataDir);
    await flood(server.url, 700, true);
    await server.deps.trace.flush();
    expect(hasReplay(await readTrace(dataDir))).toBe(false); // the flood did rotate it out of the general trace
    expect(hasReplay(await readSecurityEvents(dataDir))).toBe(true);
    // Each entry of the flood is capped: 14 KB of request data became well under 2 KB on disk.
    const lines = await readTrace(dataDir, { limit: 50 });
    for (const e of lines) expect(JSON.stringify(e).length).toBeLessThan(2048);
  } finally {
    await server.stop();
  }
  const failures = await cliJson<Array<{ kind?: string; outcome: string }>>(dataDir, 'activity', '--failures');
  expect(hasReplay(failures)).toBe(true);
  // The flood is listed too (the CLI shows 50 by default), as much of it as the two 64 KiB trace files still hold:
  // at least one full file of capped entries (< 2 KiB each), fewer than 50 when a rotation has just emptied the
  // newer file. The replay is not pushed out by it.
  const floodOnDisk = (await readTrace(dataDir, { failuresOnly: true })).filter((e) => e.step === 'authorize').length;
  expect(floodOnDisk).toBeGreaterThanOrEqual(32);
  expect(failures.filter((e) => e.kind !== 'code_replay').length).toBeGreaterThanOrEqual(Math.min(49, floodOnDisk));
});

it('one client flooding: its repeated failures are coalesced, the trace stays small and keeps the replay', async () => {
  const dataDir = tempDataDir();
  const server = await startInProcess({ dataDir });
  try {
    await recordReplay(server.url, dataDir);
    await flood(server.url, 700, false);
    await server.stop(); // writes the summary of the counted ones
  } catch (err) {
    await server.stop();
    throw err;
  }
  const entries = await readTrace(dataDir);
  expect(hasReplay(entries)).toBe(true);
  const flooded = entries.filter((e) => e.step === 'authorize' && e.kind === 'unknown_client');
  expect(flooded.length).toBeLessThanOrEqual(20 * 3 + 3); // at most 20 a minute, plus a summary a minute
  const counted = flooded.reduce((n, e) => n + (typeof e.detail?.coalesced === 'number' ? e.detail.coalesced : 0), 0);
  expect(flooded.filter((e) => e.detail?.coalesced === undefined).length + counted).toBe(700); // none lost: written or counted
  const bytes = traceFiles(dataDir).reduce((n, f) => n + statSync(f).size, 0);
  expect(bytes).toBeLessThan(200 * 1024); // 700 × 14 KB of request data used to be ~10 MB
});

it('89 days of anonymous security events at full speed never push a recorded replay out of the security events', async () => {
  const dataDir = tempDataDir();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const trace = createFlowTrace(dataDir, createLogger('error', true), { now: () => now });
  trace.record({
    requestId: 'replay',
    step: 'token',
    outcome: 'security',
    clientId: 'amazon-alexa',
    kind: 'code_replay',
    error: 'invalid_grant',
    cause: 'code #abcd1234 was already redeemed 3 s ago; grant g1 and every token issued from it are revoked',
  });
  const long = 'u'.repeat(300);
  for (let hour = 0; hour < 89 * 24; hour++) {
    for (let i = 0; i < 12; i++) {
      now += 60_000 * 5;
      const ip = `10.0.${hour & 255}.${i}`;
      trace.record({
        requestId: `f${hour}-${i}`,
        step: 'login',
        outcome: 'security',
        ip,
        username: long,
        clientId: 'amazon-alexa',
        redirectUri: long,
        kind: i % 2 ? 'csrf_mismatch' : 'rate_limited',
        cause: `login-user limit reached for this username ("${long}")`,
        detail: { target: long, limiter: 'login-user', extra: long },
      });
    }
    if (hour % 24 === 23) await trace.flush();
    if (hour % (24 * 7) === 0) await trace.prune(); // the hourly prune, weekly here to keep the test quick
  }
  await trace.close();
  const events = await readSecurityEvents(dataDir);
  expect(hasReplay(events)).toBe(true);
  const bytes = securityEventFiles(dataDir).reduce((n, f) => n + statSync(f).size, 0);
  expect(bytes).toBeLessThan(SECURITY_LIMITS.maxBytes * (SECURITY_LIMITS.maxFiles - 1));
  // What was not written one by one was counted, hour by hour.
  const summaries = events.filter((e) => e.kind === 'security_events_coalesced');
  expect(summaries.length).toBeGreaterThan(80 * 24);
  expect(events.length).toBeLessThan(5 * 89 * 24 + 2);
});
