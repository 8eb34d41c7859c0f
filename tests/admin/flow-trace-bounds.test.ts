/**
 * Log hygiene: the flow trace stays bounded by size (rotation into a fixed number of files) and by age (entries
 * older than the limit are dropped at start-up and every hour), with no cron and no lost entries in between.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  statSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { FLOW_TRACE_FILE, createFlowTrace, traceFiles } from '../../src/log/flow-trace';
import { createJsonlFile } from '../../src/log/jsonl-file';
import { Logger, createLogger } from '../../src/log/logger';
import { hourlyActivity, readTrace, traceInfo } from '../../src/ops/trace-reader';
import { tempDataDir } from '../helpers/test-server';

const quiet = createLogger('error', true);
const DAY = 86_400_000;

function line(ts: number, requestId: string): string {
  return `${JSON.stringify({ ts: new Date(ts).toISOString(), requestId, step: 'token', outcome: 'ok' })}\n`;
}

const ids = async (dataDir: string) => (await readTrace(dataDir)).map((e) => e.requestId);

it('rotates by size into at most maxFiles files, newest first, each about maxBytes', async () => {
  const dataDir = tempDataDir();
  const trace = createFlowTrace(dataDir, quiet, { maxBytes: 2000, maxFiles: 3 });
  for (let i = 0; i < 200; i++) {
    trace.record({ requestId: `r${i}`, step: 'token', outcome: 'ok', clientId: 'amazon-alexa', detail: { n: i } });
    if (i % 10 === 9) await trace.flush(); // several appends, as requests arrive
  }
  trace.record({ requestId: 'r200', step: 'token', outcome: 'ok' });
  await trace.close();
  const files = traceFiles(dataDir);
  expect(files.map((f) => path.basename(f))).toEqual(['flow-trace.jsonl', 'flow-trace1.jsonl', 'flow-trace2.jsonl']);
  for (const f of files) expect(statSync(f).size).toBeLessThan(2000 + 2000); // one batch past the limit at most
  // the newest entries survive, in order, and nothing in between is lost
  const kept = await ids(dataDir);
  expect(kept[0]).toBe('r200');
  expect(kept.length).toBeLessThan(150); // the oldest were dropped with the oldest file
  const numbers = kept.map((id) => Number(id.slice(1)));
  expect(numbers).toEqual([...numbers].sort((a, b) => b - a));
  expect((numbers[0] ?? 0) - (numbers.at(-1) ?? 0) + 1).toBe(numbers.length);
});

it('drops entries older than maxAge from the live file and deletes rotated files that are entirely older', async () => {
  const dataDir = tempDataDir();
  const now = Date.now();
  // a rotated file last written 40 days ago, one written 10 days ago, and a live file with old and new entries
  writeFileSync(path.join(dataDir, 'flow-trace2.jsonl'), line(now - 41 * DAY, 'ancient-1') + line(now - 40 * DAY, 'ancient-2'));
  utimesSync(path.join(dataDir, 'flow-trace2.jsonl'), new Date(now - 40 * DAY), new Date(now - 40 * DAY));
  writeFileSync(path.join(dataDir, 'flow-trace1.jsonl'), line(now - 35 * DAY, 'old-in-recent-file') + line(now - 10 * DAY, 'ten-days'));
  writeFileSync(path.join(dataDir, FLOW_TRACE_FILE), line(now - 31 * DAY, 'old-live') + line(now - DAY, 'yesterday'));

  const trace = createFlowTrace(dataDir, quiet, { maxAgeMs: 30 * DAY });
  await trace.prune(); // it also ran by itself at start-up; this waits until that is done
  trace.record({ requestId: 'now', step: 'token', outcome: 'ok' });
  await trace.close();

  expect(existsSync(path.join(dataDir, 'flow-trace2.jsonl'))).toBe(false);
  expect(await ids(dataDir)).toEqual(['now', 'yesterday', 'ten-days']);
  expect(readFileSync(path.join(dataDir, FLOW_TRACE_FILE), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
});

it('pruning keeps the entries inside the window byte for byte and reads a file that starts inside it no further', async () => {
  const dataDir = tempDataDir();
  const now = Date.now();
  const at = (name: string) => path.join(dataDir, name);
  // The live file: 3,000 entries from 40 days ago (over 64 KiB, with multi-byte text: the cut is past the first
  // chunk read), then recent ones, a damaged line and a blank one among them.
  const old = Array.from({ length: 3000 }, (_, i) => line(now - 40 * DAY + i, `old${i}-été-😀`)).join('');
  const recent = `${line(now - DAY, 'first-inside-ü')}{"ts": damaged\n\n${line(now - 1000, 'last')}`;
  writeFileSync(at(FLOW_TRACE_FILE), old + recent);
  // A rotated file that starts inside the window, with a damaged line and an old-looking entry after its first:
  // entries are in time order, so it is not read past its first line, nor rewritten. It is made 3 GiB long (a
  // sparse file: no disk used), which no whole-file read could take.
  const untouched = `${line(now - 2 * DAY, 'two-days')}not json\n${line(now - 50 * DAY, 'out-of-order')}`;
  writeFileSync(at('flow-trace1.jsonl'), untouched);
  truncateSync(at('flow-trace1.jsonl'), 3 * 1024 ** 3);
  const lastWritten = new Date(now - DAY);
  utimesSync(at('flow-trace1.jsonl'), lastWritten, lastWritten);
  // A rotated file last written before the cutoff: deleted, its entries counted.
  writeFileSync(at('flow-trace2.jsonl'), Array.from({ length: 5 }, (_, i) => line(now - 45 * DAY + i, `ancient${i}`)).join(''));
  utimesSync(at('flow-trace2.jsonl'), new Date(now - 45 * DAY), new Date(now - 45 * DAY));

  const pruned: unknown[] = [];
  const warned: string[] = [];
  const log = {
    debug: (_m: string, meta: unknown) => pruned.push(meta),
    info() {},
    warn: (m: string) => warned.push(m),
    error() {},
  } as unknown as Logger;
  const file = createJsonlFile(dataDir, 'flow-trace', log, { maxBytes: 10 * 1024 * 1024, maxFiles: 5, maxAgeMs: 30 * DAY }, () => now);
  await file.prune(); // after the start-up prune, which did the work: this one finds nothing
  await file.close();

  expect(readFileSync(at(FLOW_TRACE_FILE), 'utf8')).toBe(recent);
  const head = Buffer.alloc(Buffer.byteLength(untouched));
  const fd = openSync(at('flow-trace1.jsonl'), 'r');
  readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  expect(head.toString('utf8')).toBe(untouched);
  expect(statSync(at('flow-trace1.jsonl'))).toMatchObject({ size: 3 * 1024 ** 3, mtimeMs: lastWritten.getTime() });
  expect(existsSync(at('flow-trace2.jsonl'))).toBe(false);
  expect(pruned).toEqual([{ removedEntries: 3005, removedFiles: 1, maxAgeDays: 30 }]);
  expect(warned).toEqual([]);
});

it('a file whose every entry is older, but written since, is emptied; the oldest entry shown is the first valid one', async () => {
  const dataDir = tempDataDir();
  const now = Date.now();
  writeFileSync(path.join(dataDir, FLOW_TRACE_FILE), line(now - 40 * DAY, 'a') + line(now - 39 * DAY, 'b'));
  writeFileSync(path.join(dataDir, 'flow-trace1.jsonl'), `{"ts": damaged\n${line(now - 3 * DAY, 'oldest-valid')}${line(now - DAY, 'c')}`);
  const trace = createFlowTrace(dataDir, quiet, { maxAgeMs: 30 * DAY });
  await trace.prune();
  await trace.close();
  expect(readFileSync(path.join(dataDir, FLOW_TRACE_FILE), 'utf8')).toBe('');
  expect(await traceInfo(dataDir)).toEqual({
    files: 2,
    bytes: statSync(path.join(dataDir, 'flow-trace1.jsonl')).size,
    oldest: new Date(now - 3 * DAY).toISOString(),
  });
});

it('the Activity reads each file from its end, no further than its limit or its since', async () => {
  const dataDir = tempDataDir();
  const now = Date.now();
  const live = path.join(dataDir, FLOW_TRACE_FILE);
  // 3 GiB before the newest entries (a sparse file here): no whole-file read could take it. The older file and
  // that gap are never reached: 20 entries are enough for the limit, and the since stops at the 30th.
  writeFileSync(path.join(dataDir, 'flow-trace1.jsonl'), line(now - 5 * DAY, 'older-file'));
  writeFileSync(live, '');
  truncateSync(live, 3 * 1024 ** 3);
  appendFileSync(live, `\n${Array.from({ length: 40 }, (_, i) => line(now - (40 - i) * 60_000, `m${i}`)).join('')}`);

  const newest = (await readTrace(dataDir, { limit: 20 })).map((e) => e.requestId);
  expect(newest).toEqual(Array.from({ length: 20 }, (_, i) => `m${39 - i}`));
  const lastHalfHour = (await readTrace(dataDir, { since: now - 30.5 * 60_000 })).map((e) => e.requestId);
  expect(lastHalfHour).toEqual(Array.from({ length: 30 }, (_, i) => `m${39 - i}`));
});

it('an entry recorded while pruning runs is kept (appends and pruning share one queue)', async () => {
  const dataDir = tempDataDir();
  const now = Date.now();
  writeFileSync(
    path.join(dataDir, FLOW_TRACE_FILE),
    Array.from({ length: 2000 }, (_, i) => line(now - 40 * DAY + i, `old${i}`)).join('') + line(now, 'recent'),
  );
  const trace = createFlowTrace(dataDir, quiet, { maxAgeMs: 30 * DAY });
  const pruning = trace.prune();
  for (let i = 0; i < 50; i++) trace.record({ requestId: `during${i}`, step: 'token', outcome: 'ok' });
  await pruning;
  await trace.close();
  const kept = await ids(dataDir);
  expect(kept).toHaveLength(51);
  expect(kept[kept.length - 1]).toBe('recent');
  expect(kept.filter((id) => id.startsWith('during'))).toHaveLength(50);
});

it('redacts secrets as before: only fingerprints reach the file', async () => {
  const dataDir = tempDataDir();
  const trace = createFlowTrace(dataDir, quiet);
  trace.record({ requestId: 'x', step: 'token', outcome: 'ok', detail: { code: 'raw-code-value-123', refresh_token: 'raw-refresh-456' } });
  await trace.close();
  const text = readFileSync(path.join(dataDir, FLOW_TRACE_FILE), 'utf8');
  expect(text).not.toContain('raw-code-value-123');
  expect(text).not.toContain('raw-refresh-456');
  expect(text).toMatch(/"code":"#[0-9a-f]{8}"/);
});

it('an entry appended after a partial last line (a kill during an append) starts on a line of its own', async () => {
  const dataDir = tempDataDir();
  const now = Date.now();
  const live = path.join(dataDir, FLOW_TRACE_FILE);
  writeFileSync(live, `${line(now - 60_000, 'before')}{"ts":"${new Date(now - 1000).toISOString()}","requestId":"cut-o`);
  const trace = createFlowTrace(dataDir, quiet);
  trace.record({ requestId: 'after-restart', step: 'token', outcome: 'ok' });
  await trace.close();
  expect(await ids(dataDir)).toEqual(['after-restart', 'before']);
  expect(readFileSync(live, 'utf8').split('\n').filter(Boolean)).toHaveLength(3); // the partial line stays, apart
});

it('the hourly chart counts each entry once, in its hour', async () => {
  const dataDir = tempDataDir();
  const hour = 3_600_000;
  const now = Date.UTC(2026, 11, 2, 15, 30);
  const at = (hoursAgo: number, minute = 10) => Date.UTC(2026, 11, 2, 15 - hoursAgo, minute);
  const entry = (ts: number, requestId: string, outcome: string, step = 'token') =>
    `${JSON.stringify({ ts: new Date(ts).toISOString(), requestId, step, outcome })}\n`;
  // In the trace: tokens and failures over three hours, one entry before the window, and a replay that is also
  // (as every security event, until a flood rotates it away) in the security events: counted once.
  const replay = entry(at(1, 20), 'replay', 'security');
  writeFileSync(
    path.join(dataDir, 'flow-trace1.jsonl'),
    entry(at(5), 'too-old', 'ok') + entry(at(2), 't1', 'ok') + entry(at(2, 40), 'f1', 'error'),
  );
  writeFileSync(
    path.join(dataDir, FLOW_TRACE_FILE),
    entry(at(1), 't2', 'ok') +
      replay +
      entry(at(1, 30), 'authorize-ok', 'ok', 'authorize') +
      entry(at(0), 't3', 'ok') +
      entry(at(0, 20), 't4', 'ok'),
  );
  writeFileSync(path.join(dataDir, 'security-events.jsonl'), replay + entry(at(0, 25), 'flood-only', 'security'));

  const buckets = await hourlyActivity(dataDir, now, 3);
  expect(buckets).toEqual([
    { start: at(2, 0), tokens: 1, failures: 1 },
    { start: at(1, 0), tokens: 1, failures: 1 },
    { start: at(0, 0), tokens: 2, failures: 1 },
  ]);
  expect(buckets[0]!.start).toBe(now - 2.5 * hour);
});
