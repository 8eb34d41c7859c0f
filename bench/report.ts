/** The bench's results (bench/results.json), the issue's targets, and the tables printed at the end. */
import type { AgedFolderResult } from './aged-folder';
import type { PurgeCost, RefreshGrantCost } from './fill';
import type { HeaderParseRow } from './header-parse';
import type { IdleFloors } from './idle-floors';
import type { RunResult } from './load';
import type { Memory } from './proc';
import { MAIN } from './settings';

export type Kind = 'refresh' | 'code' | 'introspect';
/** A measuring window: one endpoint, the ceiling and the servers alternating. */
export type Block = Kind | 'baseline refresh' | 'baseline introspect';

/** The runs of one figure per connection count, and the best (highest req/s) of them. */
export interface Figures {
  best: Record<number, RunResult>;
  runs: Record<number, RunResult[]>;
}

export interface ColdStart {
  medianMs: number;
  /** The least disturbed start, for a shared machine. */
  minMs: number;
  samplesMs: number[];
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const sorted = xs.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

export interface StoreResult {
  label: string;
  grants: number;
  fill: { ms: number; grantsPerSecond: number };
  db: { bytes: number; bytesPerGrant: number };
  coldStart: ColdStart;
  /** idle: 1 s after the server was healthy; afterLoad: after the runs (VmRSS, RssAnon), and the peak (VmHWM). */
  memory: { idle: Memory; afterLoad: Memory };
  figures: Record<Kind, Figures>;
}

export interface BaselineResult {
  dir: string;
  version: string;
  node: string;
  grants: number;
  coldStartEmpty: ColdStart;
  fill: { ms: number; grantsPerSecond: number };
  memory: { idle: Memory; afterLoad: Memory };
  figures: Record<'refresh' | 'introspect', Figures>;
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

type Failed = { error: string };

export interface Results {
  node: string;
  cores: number;
  cpu: string;
  loadAverage: { before: number[]; after: number[] };
  date: string;
  build: string;
  nodeFlags: string[];
  settings: {
    largeGrants: number;
    smallGrants: number;
    runSeconds: number;
    warmupSeconds: number;
    repeat: number;
    connections: number[];
    coldStarts: number;
    codeRate: number;
  };
  /** The bare-Express ceiling, measured in every window; its memory after all its load; its cold starts. */
  ceiling: { windows: Partial<Record<Block, Figures>>; memory: Memory; coldStart: ColdStart };
  coldStartEmpty: ColdStart;
  small: StoreResult;
  large: StoreResult;
  purge?: PurgeCost;
  baseline?: BaselineResult | Failed;
  hostile?: HostileResult | Failed;
  headerParse?: HeaderParseRow[] | Failed;
  /** A folder whose trace files are at their bounds, as after months (bench/aged-folder.ts). */
  aged?: AgedFolderResult | Failed;
  /** Plain Node and a bundled bare-Express app, idle, with our node flags (bench/idle-floors.ts). */
  idleFloors?: IdleFloors | Failed;
  /** The refresh grant alone, in-process: no HTTP, authentication, limits or trace (fill.ts refreshGrantCost). */
  refreshGrantCost?: RefreshGrantCost | Failed;
  targets: Target[];
  totalSeconds: number;
}

const ok = (x: number | undefined): x is number => x !== undefined && Number.isFinite(x);
const f0 = (x: number | undefined) => (ok(x) ? x.toFixed(0) : '-');
const f1 = (x: number | undefined) => (ok(x) ? x.toFixed(1) : '-');
const f2 = (x: number | undefined) => (ok(x) ? x.toFixed(2) : '-');
const pct = (x: number | undefined) => (ok(x) ? `${(x * 100).toFixed(0)}%` : '-');
const times = (x: number | undefined) => (ok(x) ? `${x.toFixed(2)}x` : '-');
const f3 = (x: number | undefined) => (ok(x) ? x.toFixed(3) : '-');
const mem = (m: Memory | undefined) => (m ? `${f1(m.rssMB)} (${f1(m.anonMB)})` : '-');
const start = (c: ColdStart | undefined) => (c ? `${f0(c.medianMs)} (${f0(c.minMs)})` : '-');

function table(rows: string[][], header: string[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

const failed = <T extends object>(x: T | Failed | undefined): x is Failed => x !== undefined && 'error' in x;
const baselineOf = (r: Results): BaselineResult | undefined => (r.baseline && !failed(r.baseline) ? r.baseline : undefined);

/** The ceiling's best run in a window. */
const ceilingIn = (r: Results, block: Block, c: number): RunResult | undefined => r.ceiling.windows[block]?.best[c];
/** A figure's req/s over the ceiling's best in the same window. */
const share = (r: Results, block: Block, c: number, x: RunResult | undefined): number | undefined => {
  const ceil = ceilingIn(r, block, c);
  return x && ceil ? x.rps / ceil.rps : undefined;
};

/**
 * The ceiling's server CPU per request over this figure's, in the same window: what req/s would be against the
 * ceiling if both were CPU-bound on one core. Moves much less than req/s with the machine's background load.
 */
const cpuShare = (r: Results, block: Block, c: number, x: RunResult | undefined): number | undefined => {
  const ceil = ceilingIn(r, block, c)?.cpuUsPerRequest;
  return x?.cpuUsPerRequest && ceil ? ceil / x.cpuUsPerRequest : undefined;
};

/** The issue's targets (#10), at 16 connections: the worse of the small and the large store counts. */
export function targets(r: Results): Target[] {
  const c = 16;
  const stores = [r.small, r.large];
  const out: Target[] = [];
  const shareTarget = (kind: Kind, min: number, name: string, also = '') => {
    const shares = stores.map((s) => share(r, kind, c, s.figures[kind].best[c]));
    if (!shares.every(ok)) {
      out.push({ name, met: undefined, detail: 'not measured (BENCH_CONNECTIONS has no 16)' });
      return;
    }
    out.push({
      name,
      met: Math.min(...shares) >= min,
      detail:
        `${shares.map(pct).join(' / ')} (${stores.map((s) => s.grants).join(' / ')} grants); ` +
        `by server CPU per request ${stores.map((s) => pct(cpuShare(r, kind, c, s.figures[kind].best[c]))).join(' / ')}` +
        also,
    });
  };
  // The most the refresh share could be if all of a refresh but the grant cost what the ceiling's whole request does.
  const work = r.refreshGrantCost && !failed(r.refreshGrantCost) ? r.refreshGrantCost.cpuUsPerRefresh : undefined;
  const ceilingCpu = ceilingIn(r, 'refresh', c)?.cpuUsPerRequest;
  const grantBound =
    ok(work) && ok(ceilingCpu)
      ? `; the refresh grant alone (refreshTokens, in-process) takes ${f0(work)} µs of CPU, so even at the ceiling's ${f0(ceilingCpu)} µs for the rest of a request a refresh would reach at most ${pct(ceilingCpu / (ceilingCpu + work))} by CPU`
      : '';
  shareTarget('refresh', 0.4, 'refresh at 16 connections >= 40% of the bare-Express ceiling', grantBound);
  shareTarget('introspect', 0.6, 'introspection at 16 connections >= 60% of the bare-Express ceiling');
  const p99 = stores.map((s) => s.figures.refresh.best[c]?.p99);
  if (!p99.every(ok)) out.push({ name: 'refresh p99 < 25 ms', met: undefined, detail: 'not measured' });
  else
    out.push({
      name: 'refresh p99 < 25 ms',
      met: Math.max(...p99) < 25,
      detail: `${p99.map((x) => `${f2(x)} ms`).join(' / ')} at 16 connections`,
    });
  out.push({
    name: `cold start to healthy < 300 ms with ${r.large.grants} grants`,
    met: r.large.coldStart.medianMs < 300,
    detail:
      `median ${f0(r.large.coldStart.medianMs)} ms, least ${f0(r.large.coldStart.minMs)} ms ` +
      `(median (least): empty folder ${start(r.coldStartEmpty)} ms, bare Express ${start(r.ceiling.coldStart)} ms)`,
  });
  const aged = r.aged && !failed(r.aged) ? r.aged : undefined;
  const idle = [...stores.map((s) => s.memory.idle), ...(aged ? [aged.idle] : [])];
  out.push({
    name: 'RSS idle < 60 MB',
    met: Math.max(...idle.map((m) => m.rssMB)) < 60,
    detail:
      `${idle.map((m) => f1(m.rssMB)).join(' / ')} MB (private part ${idle.map((m) => f1(m.anonMB)).join(' / ')} MB)` +
      (aged ? '; the last with its trace files full, as after months' : '') +
      (r.idleFloors && !failed(r.idleFloors)
        ? `; with the same node flags, plain Node with an HTTP listener idles at ${f1(r.idleFloors.node.rssMB)} MB and a bare Express app bundled like ours at ${f1(r.idleFloors.express.rssMB)} MB`
        : ''),
  });
  const peak = stores.map((s) => s.memory.afterLoad.hwmMB);
  out.push({ name: 'RSS under load < 100 MB', met: Math.max(...peak) < 100, detail: `peak (VmHWM) ${peak.map(f1).join(' / ')} MB` });
  return out;
}

const KINDS: Array<[Kind, string]> = [
  ['refresh', 'refresh_token (Alexa chains)'],
  ['code', 'authorization_code + PKCE'],
  ['introspect', 'introspection (resource server)'],
];

export function report(r: Results): string {
  const out: string[] = [];
  const set = r.settings;
  const conns = set.connections;
  const base = baselineOf(r);
  const s = r.small;
  const l = r.large;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
  out.push(
    `Node ${r.node}, ${r.cores} cores (${r.cpu}), load average ${load(r.loadAverage.before)} before, ${load(r.loadAverage.after)} after; load from 127.0.0.1 by autocannon in the bench process`,
  );
  out.push(
    `Server: node ${r.nodeFlags.join(' ')} ${MAIN}${base ? `; baseline ${base.version}: ${base.node} ${base.dir}/dist/main.js` : ''}`,
  );
  out.push(
    `Each figure: the best of ${set.repeat} runs of ${set.runSeconds} s, alternating with the bare-Express ceiling and the other servers in the same window ` +
      `(${set.warmupSeconds} s warm-up at 16 connections first); "of ceiling" = req/s over the ceiling's best in that window, ` +
      '"CPU share" = the ceiling\'s server CPU per request over this one\'s (same window); ' +
      "latency = autocannon's response time; server CPU from /proc (all threads / main thread); cold starts: median (least) ms.",
  );
  out.push('');

  // Every figure, window by window.
  const rows: string[][] = [];
  const row = (name: string, grants: string, block: Block, res: RunResult | undefined, c: number) =>
    rows.push([
      name,
      grants,
      String(c),
      f0(res?.rps),
      f2(res?.p50),
      f2(res?.p99),
      pct(share(r, block, c, res)),
      f0(res?.cpuUsPerRequest),
      f0(res?.mainThreadUsPerRequest),
      pct(cpuShare(r, block, c, res)),
    ]);
  for (const c of conns) {
    for (const [kind, name] of KINDS) {
      row('  ceiling: bare Express, same form body', '-', kind, ceilingIn(r, kind, c), c);
      row(name, String(s.grants), kind, s.figures[kind].best[c], c);
      row(name, String(l.grants), kind, l.figures[kind].best[c], c);
      if (base && kind !== 'code') {
        const block: Block = `baseline ${kind}`;
        row('  ceiling: bare Express, same form body', '-', block, ceilingIn(r, block, c), c);
        row(name, `${base.version}: ${base.grants}`, block, base.figures[kind].best[c], c);
      }
    }
  }
  out.push(
    table(rows, ['endpoint', 'grants', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'of ceiling', 'CPU µs/req', 'main µs/req', 'CPU share']),
  );
  out.push('');

  // Ours against the baseline, side by side.
  // With no 16-connection run, the largest one (none at all: every figure below is '-').
  const c16 = conns.includes(16) ? 16 : (conns.at(-1) ?? 16);
  const cmp: string[][] = [];
  const add = (name: string, small: string, large: string, b: string) => cmp.push([name, small, large, ...(base ? [b] : [])]);
  for (const kind of ['refresh', 'introspect'] as const) {
    const label = kind === 'refresh' ? 'refresh' : 'introspection';
    const [a, b, x] = [s.figures[kind].best[c16], l.figures[kind].best[c16], base?.figures[kind].best[c16]];
    add(`${label} ${c16}c req/s`, f0(a?.rps), f0(b?.rps), f0(x?.rps));
    add(
      `${label} ${c16}c % of ceiling`,
      pct(share(r, kind, c16, a)),
      pct(share(r, kind, c16, b)),
      pct(share(r, `baseline ${kind}`, c16, x)),
    );
    add(`${label} ${c16}c p50 / p99 ms`, `${f2(a?.p50)} / ${f2(a?.p99)}`, `${f2(b?.p50)} / ${f2(b?.p99)}`, `${f2(x?.p50)} / ${f2(x?.p99)}`);
    add(`${label} ${c16}c server CPU µs/req`, f0(a?.cpuUsPerRequest), f0(b?.cpuUsPerRequest), f0(x?.cpuUsPerRequest));
    add(
      `${label} ${c16}c CPU share of ceiling`,
      pct(cpuShare(r, kind, c16, a)),
      pct(cpuShare(r, kind, c16, b)),
      pct(cpuShare(r, `baseline ${kind}`, c16, x)),
    );
  }
  add(`code exchange ${c16}c req/s`, f0(s.figures.code.best[c16]?.rps), f0(l.figures.code.best[c16]?.rps), 'not measured');
  add('cold start to healthy, median (least) ms', start(s.coldStart), start(l.coldStart), '-');
  add('cold start, empty folder, median (least) ms', start(r.coldStartEmpty), '-', start(base?.coldStartEmpty));
  add('RSS idle MB (private part)', mem(s.memory.idle), mem(l.memory.idle), mem(base?.memory.idle));
  add('RSS after load MB (private part)', mem(s.memory.afterLoad), mem(l.memory.afterLoad), mem(base?.memory.afterLoad));
  add('RSS peak under load (VmHWM) MB', f1(s.memory.afterLoad.hwmMB), f1(l.memory.afterLoad.hwmMB), f1(base?.memory.afterLoad.hwmMB));
  add(
    'fill, grants/s',
    `${f0(s.fill.grantsPerSecond)} in-process`,
    `${f0(l.fill.grantsPerSecond)} in-process`,
    base ? `${f1(base.fill.grantsPerSecond)} over HTTP` : '',
  );
  add('database bytes per grant', f0(s.db.bytesPerGrant), f0(l.db.bytesPerGrant), '-');
  out.push(
    table(cmp, [
      'figure',
      `ours, ${s.grants} grants`,
      `ours, ${l.grants} grants`,
      ...(base ? [`${base.version}, ${base.grants} grants (HTTP fill)`] : []),
    ]),
  );
  if (failed(r.baseline)) out.push(`baseline failed: ${r.baseline.error}`);
  out.push('');

  // What a 1000x larger store costs.
  const scale: string[][] = [];
  const sc = (name: string, a: number | undefined, b: number | undefined, fmt: (x: number | undefined) => string, higherIsWorse: boolean) =>
    scale.push([name, fmt(a), fmt(b), times(ok(a) && ok(b) ? (higherIsWorse ? b / a : a / b) : undefined)]);
  for (const c of conns) {
    for (const [kind, name] of KINDS) {
      const [a, b] = [s.figures[kind].best[c], l.figures[kind].best[c]];
      sc(`${name} ${c}c server CPU µs/req`, a?.cpuUsPerRequest, b?.cpuUsPerRequest, f0, true);
      sc(`${name} ${c}c req/s`, a?.rps, b?.rps, f0, false);
      sc(`${name} ${c}c p99 ms`, a?.p99, b?.p99, f2, true);
    }
  }
  sc('cold start to healthy, median ms', s.coldStart.medianMs, l.coldStart.medianMs, f0, true);
  out.push(table(scale, ['scaling', `${s.grants} grants`, `${l.grants} grants`, 'worse by']));
  out.push('');

  const other: string[][] = [
    [
      `fill: ${l.grants} grants through startAuthorization → decide → exchangeCode, in-process`,
      `${f1(l.fill.ms / 1000)} s = ${f0(l.fill.grantsPerSecond)} grants/s`,
    ],
    [`database on disk, ${l.grants} grants`, `${f1(l.db.bytes / 1e6)} MB = ${f0(l.db.bytesPerGrant)} bytes/grant`],
    [
      `cold start of the bare-Express ceiling, median (least) of ${r.ceiling.coldStart.samplesMs.length}`,
      `${start(r.ceiling.coldStart)} ms`,
    ],
    ['RSS of the bare-Express ceiling after all its load (private part)', `${mem(r.ceiling.memory)} MB`],
  ];
  if (r.idleFloors && !failed(r.idleFloors)) {
    other.push(
      ['RSS idle of plain Node with an HTTP listener, our node flags (private part)', `${mem(r.idleFloors.node)} MB`],
      ['RSS idle of the bare-Express app bundled like ours, our node flags (private part)', `${mem(r.idleFloors.express)} MB`],
    );
  } else if (failed(r.idleFloors)) other.push(['RSS idle floors', `failed: ${r.idleFloors.error}`]);
  if (r.refreshGrantCost && !failed(r.refreshGrantCost)) {
    other.push([
      `the refresh grant alone, in-process (refreshTokens along ${r.small.grants} chains, ${r.refreshGrantCost.refreshes} refreshes)`,
      `${f0(r.refreshGrantCost.cpuUsPerRefresh)} µs CPU per refresh`,
    ]);
  } else if (failed(r.refreshGrantCost)) other.push(['the refresh grant alone', `failed: ${r.refreshGrantCost.error}`]);
  if (r.aged && !failed(r.aged)) {
    const a = r.aged;
    const what = `a folder as after months, its trace files full (${f1(a.traceBytes / 1048576)} MiB)`;
    other.push(
      [`${what}: start to healthy, median (least) of ${a.start.samplesMs.length}`, `${start(a.start)} ms`],
      [`${what}: RSS idle (private part)`, `${mem(a.idle)} MB`],
      [`${what}: RSS after the admin overview and Activity were opened (private part)`, `${mem(a.afterAdmin)} MB`],
    );
  } else if (failed(r.aged)) other.push(['a folder as after months', `failed: ${r.aged.error}`]);
  if (r.purge) {
    other.push(
      [
        `background purge, two days later: ${r.purge.removed} expired rows, in ${r.purge.batches} steps of 500 rows looked at`,
        `${f0(r.purge.ms)} ms`,
      ],
      ['longest purge step (a request waits behind it at most this long)', `${f1(r.purge.worstBatchMs)} ms`],
      ['purge step over 500 rows with nothing expired', `${f2(r.purge.nothingToPurgeMs)} ms`],
      [`PRAGMA quick_check of the large store (start-up; /health at most once a minute)`, `${f0(r.purge.quickCheckMs)} ms`],
    );
  }
  out.push(table(other, ['other', 'value']));
  out.push('');

  if (r.headerParse && !failed(r.headerParse)) {
    const prow = r.headerParse.map((x) => [x.name, String(x.bytes), f3(x.parserUs), f3(x.oldRegexUs)]);
    out.push(table(prow, ['Authorization header, parsed in-process', 'bytes', 'parser µs', 'old regex µs']));
    out.push('');
  } else if (failed(r.headerParse)) {
    out.push(`in-process header-parse figure failed: ${r.headerParse.error}`, '');
  }
  if (r.hostile && !failed(r.hostile)) {
    const h = r.hostile;
    const hrows: string[][] = [
      ['normal Basic header, 1 connection', f1(h.normal.rps), f2(h.normal.mean), f2(h.normal.max), f0(h.normal.cpuUsPerRequest)],
      [
        `hostile: "Basic" + 16,000 spaces + "!" (${h.headerBytes} bytes), 1 connection`,
        f1(h.hostile.rps),
        f2(h.hostile.mean),
        f2(h.hostile.max),
        f0(h.hostile.cpuUsPerRequest),
      ],
      [
        'normal, while another connection sends hostile ones',
        f1(h.normalBesideHostile.rps),
        f2(h.normalBesideHostile.mean),
        f2(h.normalBesideHostile.max),
        '-',
      ],
      [
        'hostile, while another connection sends normal ones',
        f1(h.hostileBesideNormal.rps),
        f2(h.hostileBesideNormal.mean),
        f2(h.hostileBesideNormal.max),
        '-',
      ],
    ];
    out.push(table(hrows, ['Authorization header at /alexa/token, over HTTP (401 both)', 'req/s', 'mean ms', 'max ms', 'CPU µs/req']));
    const blocks = h.hostile.mean > 50;
    out.push(
      `ratio normal/hostile: ${f1(h.rpsRatio)}x in req/s, ${f1(h.cpuRatio)}x in server CPU per request; one hostile header ` +
        `${blocks ? 'BLOCKS' : 'does not block'} the server (${f2(h.hostile.mean)} ms each; a normal request beside them waited up to ${f0(h.normalBesideHostile.max)} ms)`,
    );
    out.push('');
  } else if (failed(r.hostile)) {
    out.push(`hostile-header figure failed: ${r.hostile.error}`, '');
  }

  out.push('Targets (issue #10; information only, nothing fails on them):');
  for (const t of r.targets) out.push(`  ${t.met === undefined ? 'N/A   ' : t.met ? 'MET   ' : 'MISSED'} ${t.name}: ${t.detail}`);
  return out.join('\n');
}
