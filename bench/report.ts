/** The bench's results (bench/results.json), the issue's targets, and the tables printed at the end. */
import type { PurgeCost } from './fill';
import type { RunResult } from './load';
import type { Memory } from './proc';
import { MAIN, SETTINGS } from './settings';

export type Kind = 'refresh' | 'code' | 'introspect';

export interface ColdStart {
  medianMs: number;
  samplesMs: number[];
}

export interface CeilingResult {
  /** Best run per connection count. */
  best: Record<number, RunResult>;
  runs: Record<number, RunResult[]>;
  startMs: number;
  memory: Memory;
}

export interface StoreResult {
  label: string;
  grants: number;
  fill: { ms: number; grantsPerSecond: number };
  db: { bytes: number; bytesPerGrant: number };
  coldStart: ColdStart;
  /** idle: 1 s after the server was healthy; afterLoad: after the runs (VmRSS), and the peak (VmHWM). */
  memory: { idle: Memory; afterLoad: Memory };
  best: Record<Kind, Record<number, RunResult>>;
  runs: Record<Kind, Record<number, RunResult[]>>;
}

export interface BaselineResult {
  dir: string;
  version: string;
  node: string;
  grants: number;
  coldStartEmpty: ColdStart;
  fill: { ms: number; grantsPerSecond: number };
  memory: { idle: Memory; afterLoad: Memory };
  best: Record<'refresh' | 'introspect', Record<number, RunResult>>;
  runs: Record<'refresh' | 'introspect', Record<number, RunResult[]>>;
}

export interface HostileResult {
  headerBytes: number;
  normal: RunResult;
  hostile: RunResult;
  normalBesideHostile: RunResult;
  hostileBesideNormal: RunResult;
  /** Normal req/s over hostile req/s, one connection each. */
  rpsRatio: number;
  /** Server CPU per hostile request over per normal request. */
  cpuRatio: number;
}

export interface Target {
  name: string;
  met: boolean | undefined;
  detail: string;
}

export interface Results {
  node: string;
  cores: number;
  cpu: string;
  loadAverage: number[];
  date: string;
  build: string;
  nodeFlags: string[];
  settings: Record<string, unknown>;
  ceiling: { best: Record<number, RunResult>; startMs: number; memory: Memory; first: CeilingResult; last: CeilingResult };
  coldStartEmpty: ColdStart;
  small: StoreResult;
  large: StoreResult;
  purge?: PurgeCost;
  baseline?: BaselineResult | { error: string };
  hostile?: HostileResult | { error: string };
  targets: Target[];
  totalSeconds: number;
}

const f0 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(0) : '-');
const f1 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? x.toFixed(2) : '-');
const pct = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : '-');
const times = (x: number | undefined) => (x !== undefined && Number.isFinite(x) ? `${x.toFixed(2)}x` : '-');

function table(rows: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const isBaseline = (b: Results['baseline']): b is BaselineResult => b !== undefined && !('error' in b);
const isHostile = (h: Results['hostile']): h is HostileResult => h !== undefined && !('error' in h);

/** The issue's targets (#10), at 16 connections: the worse of the small and the large store counts. */
export function targets(r: Results): Target[] {
  const c = 16;
  const ceil = r.ceiling.best[c];
  const stores = [r.small, r.large];
  const out: Target[] = [];
  const share = (kind: Kind, min: number, label: string) => {
    const runs = stores.map((s) => s.best[kind][c]);
    if (!ceil || runs.some((x) => !x)) return out.push({ name: label, met: undefined, detail: 'not measured (BENCH_CONNECTIONS has no 16)' });
    const shares = runs.map((x) => x!.rps / ceil.rps);
    return out.push({ name: label, met: Math.min(...shares) >= min, detail: `${shares.map(pct).join(' / ')} (${stores.map((s) => s.grants).join(' / ')} grants)` });
  };
  share('refresh', 0.4, 'refresh at 16 connections >= 40% of the bare-Express ceiling');
  share('introspect', 0.6, 'introspection at 16 connections >= 60% of the bare-Express ceiling');
  const p99 = stores.map((s) => s.best.refresh[c]?.p99);
  out.push(
    p99.some((x) => x === undefined)
      ? { name: 'refresh p99 < 25 ms', met: undefined, detail: 'not measured' }
      : { name: 'refresh p99 < 25 ms', met: Math.max(...(p99 as number[])) < 25, detail: `${p99.map((x) => `${f2(x)} ms`).join(' / ')} at 16 connections` },
  );
  out.push({
    name: `cold start to healthy < 300 ms with ${r.large.grants} grants`,
    met: r.large.coldStart.medianMs < 300,
    detail: `median ${f0(r.large.coldStart.medianMs)} ms (empty folder ${f0(r.coldStartEmpty.medianMs)} ms)`,
  });
  const idle = stores.map((s) => s.memory.idle.rssMB);
  out.push({ name: 'RSS idle < 60 MB', met: Math.max(...idle) < 60, detail: `${idle.map(f1).join(' / ')} MB` });
  const peak = stores.map((s) => s.memory.afterLoad.hwmMB);
  out.push({ name: 'RSS under load < 100 MB', met: Math.max(...peak) < 100, detail: `peak (VmHWM) ${peak.map(f1).join(' / ')} MB` });
  return out;
}

export function report(r: Results): string {
  const out: string[] = [];
  const conns = SETTINGS.connections;
  const base = isBaseline(r.baseline) ? r.baseline : undefined;
  out.push(`Node ${r.node}, ${r.cores} cores (${r.cpu}), load average at the end ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')}; load from 127.0.0.1 by autocannon in the bench process`);
  out.push(`Server: node ${r.nodeFlags.join(' ')} ${MAIN}${base ? `; baseline ${base.version}: ${base.node} ${base.dir}/dist/main.js` : ''}`);
  out.push(
    `Each figure: the best of ${SETTINGS.repeat} runs of ${SETTINGS.runSeconds} s (stores alternating; ${SETTINGS.warmupSeconds} s warm-up at 16 connections first); ` +
      'latency = autocannon\'s response time; server CPU from /proc (all threads / main thread).',
  );
  out.push('');

  const rows: string[][] = [];
  const row = (name: string, store: string, res: RunResult | undefined, c: number) => {
    const ceil = r.ceiling.best[c];
    rows.push([name, store, String(c), f0(res?.rps), f2(res?.p50), f2(res?.p99), pct(res && ceil ? res.rps / ceil.rps : undefined), f0(res?.cpuUsPerRequest), f0(res?.mainThreadUsPerRequest)]);
  };
  const kinds: Array<[Kind, string]> = [
    ['refresh', 'refresh_token (Alexa chains)'],
    ['code', 'authorization_code + PKCE'],
    ['introspect', 'introspection (resource server)'],
  ];
  for (const c of conns) {
    row('ceiling: bare Express, same form body', '-', r.ceiling.best[c], c);
    for (const [kind, name] of kinds) {
      row(name, `${r.small.grants}`, r.small.best[kind][c], c);
      row(name, `${r.large.grants}`, r.large.best[kind][c], c);
      if (base && kind !== 'code') row(name, `${base.version}: ${base.grants}`, base.best[kind][c], c);
    }
  }
  out.push(table(rows, ['endpoint', 'grants', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'of ceiling', 'CPU µs/req', 'main µs/req']));
  out.push('');

  // Ours against the baseline, side by side.
  const c16 = conns.includes(16) ? 16 : conns[conns.length - 1]!;
  const s = r.small;
  const l = r.large;
  const cmp: string[][] = [];
  const add = (name: string, small: string, large: string, b: string) => cmp.push([name, small, large, ...(base ? [b] : [])]);
  for (const kind of ['refresh', 'introspect'] as const) {
    const label = kind === 'refresh' ? 'refresh' : 'introspection';
    const ceil = r.ceiling.best[c16];
    const of = (x: RunResult | undefined) => (x && ceil ? x.rps / ceil.rps : undefined);
    add(`${label} ${c16}c req/s`, f0(s.best[kind][c16]?.rps), f0(l.best[kind][c16]?.rps), f0(base?.best[kind][c16]?.rps));
    add(`${label} ${c16}c % of ceiling`, pct(of(s.best[kind][c16])), pct(of(l.best[kind][c16])), pct(of(base?.best[kind][c16])));
    add(`${label} ${c16}c p50 / p99 ms`, `${f2(s.best[kind][c16]?.p50)} / ${f2(s.best[kind][c16]?.p99)}`, `${f2(l.best[kind][c16]?.p50)} / ${f2(l.best[kind][c16]?.p99)}`, `${f2(base?.best[kind][c16]?.p50)} / ${f2(base?.best[kind][c16]?.p99)}`);
    add(`${label} ${c16}c server CPU µs/req`, f0(s.best[kind][c16]?.cpuUsPerRequest), f0(l.best[kind][c16]?.cpuUsPerRequest), f0(base?.best[kind][c16]?.cpuUsPerRequest));
  }
  add('code exchange 16c req/s', f0(s.best.code[c16]?.rps), f0(l.best.code[c16]?.rps), 'not measured');
  add('cold start to healthy, median ms', f0(s.coldStart.medianMs), f0(l.coldStart.medianMs), '-');
  add('cold start, empty folder, median ms', f0(r.coldStartEmpty.medianMs), '-', base ? f0(base.coldStartEmpty.medianMs) : '');
  add('RSS idle MB (private part)', `${f1(s.memory.idle.rssMB)} (${f1(s.memory.idle.anonMB)})`, `${f1(l.memory.idle.rssMB)} (${f1(l.memory.idle.anonMB)})`, `${f1(base?.memory.idle.rssMB)} (${f1(base?.memory.idle.anonMB)})`);
  add('RSS after load MB (private part)', `${f1(s.memory.afterLoad.rssMB)} (${f1(s.memory.afterLoad.anonMB)})`, `${f1(l.memory.afterLoad.rssMB)} (${f1(l.memory.afterLoad.anonMB)})`, `${f1(base?.memory.afterLoad.rssMB)} (${f1(base?.memory.afterLoad.anonMB)})`);
  add('RSS peak under load (VmHWM) MB', f1(s.memory.afterLoad.hwmMB), f1(l.memory.afterLoad.hwmMB), f1(base?.memory.afterLoad.hwmMB));
  add('fill, grants/s', `${f0(s.fill.grantsPerSecond)} in-process`, `${f0(l.fill.grantsPerSecond)} in-process`, base ? `${f1(base.fill.grantsPerSecond)} over HTTP` : '');
  add('database bytes per grant', f0(s.db.bytesPerGrant), f0(l.db.bytesPerGrant), '');
  out.push(table(cmp, ['figure', `ours, ${s.grants} grants`, `ours, ${l.grants} grants`, ...(base ? [`${base.version}, ${base.grants} grants (HTTP fill)`] : [])]));
  if (r.baseline && !base) out.push(`baseline failed: ${(r.baseline as { error: string }).error}`);
  out.push('');

  // What a 1000x larger store costs.
  const scale: string[][] = [];
  const sc = (name: string, a: number | undefined, b: number | undefined, fmt: (x: number | undefined) => string, higherIsWorse: boolean) =>
    scale.push([name, fmt(a), fmt(b), times(a !== undefined && b !== undefined ? (higherIsWorse ? b / a : a / b) : undefined)]);
  for (const c of conns) {
    for (const [kind, name] of kinds) {
      sc(`${name} ${c}c server CPU µs/req`, s.best[kind][c]?.cpuUsPerRequest, l.best[kind][c]?.cpuUsPerRequest, f0, true);
      sc(`${name} ${c}c req/s`, s.best[kind][c]?.rps, l.best[kind][c]?.rps, f0, false);
      sc(`${name} ${c}c p99 ms`, s.best[kind][c]?.p99, l.best[kind][c]?.p99, f2, true);
    }
  }
  out.push(table(scale, ['scaling', `${s.grants} grants`, `${l.grants} grants`, 'worse by']));
  out.push('');

  const other: string[][] = [
    [`fill: ${l.grants} grants through startAuthorization → decide → exchangeCode, in-process`, `${f1(l.fill.ms / 1000)} s = ${f0(l.fill.grantsPerSecond)} grants/s`],
    [`database on disk, ${l.grants} grants`, `${f1(l.db.bytes / 1e6)} MB = ${f0(l.db.bytesPerGrant)} bytes/grant`],
    ['cold start of the bare-Express ceiling (one start)', `${f0(r.ceiling.startMs)} ms`],
    ['RSS of the bare-Express ceiling after its load (private part)', `${f1(r.ceiling.memory.rssMB)} MB (${f1(r.ceiling.memory.anonMB)} MB)`],
  ];
  if (r.purge) {
    other.push(
      [`background purge, two days later: ${r.purge.removed} expired rows in ${r.purge.batches} batches of 500`, `${f0(r.purge.ms)} ms`],
      ['longest purge batch (a request waits behind it at most this long)', `${f1(r.purge.worstBatchMs)} ms`],
      ['purge batch with nothing expired', `${f2(r.purge.nothingToPurgeMs)} ms`],
      [`PRAGMA quick_check of the large store (start-up, /health once a minute)`, `${f0(r.purge.quickCheckMs)} ms`],
    );
  }
  out.push(table(other, ['other', 'value']));
  out.push('');

  if (isHostile(r.hostile)) {
    const h = r.hostile;
    const hrows: string[][] = [
      ['normal Basic header, 1 connection', f1(h.normal.rps), f2(h.normal.mean), f2(h.normal.max), f0(h.normal.cpuUsPerRequest)],
      [`hostile: "Basic" + 16,000 spaces + "!" (${h.headerBytes} bytes), 1 connection`, f1(h.hostile.rps), f2(h.hostile.mean), f2(h.hostile.max), f0(h.hostile.cpuUsPerRequest)],
      ['normal, while another connection sends hostile ones', f1(h.normalBesideHostile.rps), f2(h.normalBesideHostile.mean), f2(h.normalBesideHostile.max), '-'],
    ];
    out.push(table(hrows, ['Authorization header at /alexa/token (401 both)', 'req/s', 'mean ms', 'max ms', 'CPU µs/req']));
    out.push(
      `ratio normal/hostile: ${f1(h.rpsRatio)}x in req/s, ${f1(h.cpuRatio)}x in server CPU per request; ` +
        `one hostile header ${h.hostile.mean > 100 ? 'BLOCKS' : 'does not block'} the server (${f0(h.hostile.mean)} ms each; a normal request beside them waited up to ${f0(h.normalBesideHostile.max)} ms)`,
    );
    out.push('');
  } else if (r.hostile) {
    out.push(`hostile-header figure failed: ${r.hostile.error}`);
    out.push('');
  }

  out.push('Targets (issue #10; information only, nothing fails on them):');
  for (const t of r.targets) out.push(`  ${t.met === undefined ? 'N/A   ' : t.met ? 'MET   ' : 'MISSED'} ${t.name}: ${t.detail}`);
  return out.join('\n');
}
