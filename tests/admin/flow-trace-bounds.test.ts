/**
 * Log hygiene: the flow trace stays bounded by size (rotation into a fixed number of files) and by age (entries
 * older than the limit are dropped at start-up and every hour), with no cron and no lost entries in between.
 */
import { existsSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { FLOW_TRACE_FILE, createFlowTrace, traceFiles } from '../../src/log/flow-trace';
import { createLogger } from '../../src/log/logger';
import { readTrace } from '../../src/ops/trace-reader';
import { tempDataDir } from '../helpers/test-server';

const quiet = createLogger('error', true);
const DAY = 86_400_000;

function line(ts: number, requestId: string): string {
  return `${JSON.stringify({ ts: new Date(ts).toISOString(), requestId, step: 'token', outcome: 'ok' })}\n`;
}

const ids = (dataDir: string) => readTrace(dataDir).map((e) => e.requestId);

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
  const kept = ids(dataDir);
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
  expect(ids(dataDir)).toEqual(['now', 'yesterday', 'ten-days']);
  expect(readFileSync(path.join(dataDir, FLOW_TRACE_FILE), 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
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
  const kept = ids(dataDir);
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
