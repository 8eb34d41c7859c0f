/**
 * npm run bench: builds the server and the bench, then measures the built server (node dist/main.js) against a
 * bare-Express ceiling in the same run, on a small and a large store filled through the server's own code paths;
 * optionally another build (BENCH_BASELINE) beside it; and, for the targets, the idle RSS of plain Node and of a
 * bundled bare-Express app, and the refresh grant alone in-process. Prints tables and writes bench/results.json.
 * docs/benchmark.md says what each figure means.
 *
 * Environment knobs (defaults: the sizes of docs/benchmark.md's table):
 *   BENCH_GRANTS=100000    grants in the large store        BENCH_SMALL=100        grants in the small store
 *   BENCH_SECONDS=6        seconds per measured run         BENCH_WARMUP=1.5       seconds of warm-up first
 *   BENCH_REPEAT=2         measured runs per figure (alternating with the other servers; the best is kept)
 *   BENCH_CONNECTIONS=16   connection counts, e.g. 1,16     BENCH_STARTS=5         cold starts per folder
 *   BENCH_CODE_RATE=1500   codes issued per second of a code-exchange run (more: the pool lasts longer)
 *   BENCH_NODE_FLAGS='--opt ...'  node options of our server (default: those of run.sh's exec line)
 *   BENCH_CPU_PROF=dir     run our servers under --cpu-prof  BENCH_DIST=dir        another build of the same API
 *   BENCH_BASELINE=dir     another build (dir/dist/main.js), filled over HTTP; BENCH_BASELINE_NODE=its node binary;
 *   BENCH_BASELINE_GRANTS  (default BENCH_SMALL)            BENCH_HOSTILE=0        skip the hostile-header figures
 *   BENCH_DEADLINE_S=1500  hard bound on the whole run      BENCH_OUT=file         the JSON elsewhere
 *   BENCH_REPORT=file      print the tables of an earlier results.json again, measure nothing
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { measureAgedFolder } from './aged-folder';
import {
  CodeGrant,
  FilledTokens,
  PurgeCost,
  RefreshGrantCost,
  fillGrants,
  issueCodes,
  openBenchFolder,
  purgeCost,
  refreshGrantCost,
} from './fill';
import { headerParseFigures } from './header-parse';
import { linkOverHttp } from './http-link';
import { idleFloors } from './idle-floors';
import { LoadOptions, RefreshChains, RunResult, Source, codeExchanges, describe, fixed, introspections, load, refreshChains } from './load';
import { NO_MEMORY, Running, dbBytes, maxMemory, memory, removeFolder, spawnUntilHealthy, tempFolder } from './proc';
import { BaselineResult, Block, ColdStart, Figures, HostileResult, Kind, Results, StoreResult, median, report, targets } from './report';
import {
  BARE_EXPRESS,
  CLIENT_HEADERS,
  DEADLINE,
  DIST,
  FORM,
  MAIN,
  RS_HEADERS,
  SETTINGS,
  basic,
  checkDeadline,
  form,
  log,
  serverOptions,
  sleep,
} from './settings';

const S = SETTINGS;

// ---------------------------------------------------------------- processes

function startOurs(dataDir: string): Promise<Running> {
  const prof = S.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${S.cpuProfileDir}`] : [];
  // The admin listener is on, as in the add-on (Ingress), on a port the kernel picks.
  return spawnUntilHealthy({ args: [...S.nodeFlags, ...prof, MAIN], env: { DATA_DIR: dataDir, ADMIN_PORT: '0' } });
}

function startBaseline(dir: string, dataDir: string): Promise<Running> {
  return spawnUntilHealthy({
    node: S.baselineNode,
    args: [...S.nodeFlags, path.join(dir, 'dist', 'main.js')],
    env: { DATA_DIR: dataDir, ADMIN_PORT: '0' },
    cwd: dir,
  });
}

/** The ceiling: plain node, no flags (the harder bar). */
function startBareExpress(): Promise<Running> {
  return spawnUntilHealthy({ args: [BARE_EXPRESS], env: {} });
}

const summary = (samplesMs: number[]): ColdStart => ({ medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs });

/**
 * Cold starts, interleaved so that every kind shares the same time windows: a folder holding only options.json
 * (a new one each time: the start creates the database), each filled store, and the bare-Express ceiling (the floor).
 */
async function coldStarts(stores: PreparedStore[]): Promise<{ empty: ColdStart; bareExpress: ColdStart; stores: ColdStart[] }> {
  const empty: number[] = [];
  const bare: number[] = [];
  const filled = stores.map((st) => ({ st, samples: [] as number[] }));
  const steps: Array<() => Promise<void>> = [
    async () => {
      const dir = tempFolder('empty', serverOptions());
      const s = await startOurs(dir);
      empty.push(s.startMs);
      await s.stop();
      removeFolder(dir);
    },
    ...filled.map(({ st, samples }) => async () => {
      const s = await startOurs(st.dataDir);
      samples.push(s.startMs);
      await s.stop();
    }),
    async () => {
      const s = await startBareExpress();
      bare.push(s.startMs);
      await s.stop();
    },
  ];
  for (let i = 0; i < S.starts; i++) {
    checkDeadline('the cold starts');
    for (const step of i % 2 === 0 ? steps : [...steps].reverse()) await step();
  }
  return { empty: summary(empty), bareExpress: summary(bare), stores: filled.map(({ samples }) => summary(samples)) };
}

async function coldStartsOfBaseline(dir: string): Promise<ColdStart> {
  const samples: number[] = [];
  for (let i = 0; i < S.starts; i++) {
    checkDeadline('the cold starts of the baseline');
    const folder = tempFolder('baseline-empty', serverOptions());
    const s = await startBaseline(dir, folder);
    samples.push(s.startMs);
    await s.stop();
    removeFolder(folder);
  }
  return summary(samples);
}

// ---------------------------------------------------------------- measuring

type Measure = Omit<LoadOptions, 'seconds' | 'connections'>;

function endpoint(kind: Kind): { path: string; headers: Record<string, string> } {
  return kind === 'introspect' ? { path: '/alexa/introspect', headers: RS_HEADERS } : { path: '/alexa/token', headers: CLIENT_HEADERS };
}

async function run(name: string, opts: Measure, connections: number): Promise<RunResult> {
  checkDeadline(name);
  const r = await load({ ...opts, connections, seconds: S.runSeconds });
  opts.source.settle?.();
  log(`${name} c=${connections}: ${describe(r)}`);
  if (r.failed > 0 || r.transportErrors > 0) {
    throw new Error(
      `${name} c=${connections}: ${r.failed} failed answers, ${r.transportErrors} transport errors; first: ${r.firstFailure}`,
    );
  }
  return r;
}

/** Warm-up (discarded) at 16 connections. */
async function warm(name: string, opts: Measure): Promise<void> {
  if (S.warmupSeconds <= 0) return;
  checkDeadline(`${name} warm-up`);
  const w = await load({ ...opts, connections: 16, seconds: S.warmupSeconds });
  opts.source.settle?.();
  if (w.failed > 0 || w.transportErrors > 0) {
    throw new Error(`${name} warm-up: ${w.failed} failed, ${w.transportErrors} transport errors; first: ${w.firstFailure}`);
  }
}

const emptyFigures = (): Figures => ({ best: {}, runs: {} });

function record(into: Figures, c: number, r: RunResult): void {
  (into.runs[c] ??= []).push(r);
  const prev = into.best[c];
  if (!prev || r.rps > prev.rps) into.best[c] = r;
}

/** One participant of a measuring window: the ceiling, a store or the baseline, on one endpoint. */
interface Participant {
  measure(c: number, i: number): Promise<void>;
}

/**
 * A measuring window: for each connection count, REPEAT rounds in which every participant is loaded once, in
 * alternating order (A B C, C B A, ...). Background load on a shared machine comes in bursts; alternating puts the
 * ceiling and the servers in the same time window, and the best of several runs is the one least disturbed.
 */
async function window(participants: Participant[]): Promise<void> {
  for (const c of S.connections) {
    for (let i = 0; i < S.repeat; i++) {
      for (const p of i % 2 === 0 ? participants : [...participants].reverse()) await p.measure(c, i);
    }
  }
}

/** refreshGrantCost on a store of its own, the size of the small one, filled as the others. */
async function measureRefreshGrantCost(): Promise<RefreshGrantCost> {
  const dir = tempFolder('refresh-grant', serverOptions());
  const b = openBenchFolder(dir, serverOptions());
  try {
    return await refreshGrantCost(b, fillGrants(b, S.smallGrants, 'refresh grant').refresh, S.runSeconds);
  } finally {
    b.close();
    removeFolder(dir);
  }
}

/** The bare-Express ceiling, running for the whole measuring phase, measured in every window. */
class Ceiling {
  readonly windows: Partial<Record<Block, Figures>> = {};
  private warmed = false;
  private constructor(private readonly server: Running) {}

  static async start(): Promise<Ceiling> {
    return new Ceiling(await startBareExpress());
  }

  in(block: Block): Participant {
    const figures = (this.windows[block] ??= emptyFigures());
    const body = form({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) });
    const opts: Measure = {
      url: this.server.url,
      pid: this.server.pid,
      path: '/alexa/token',
      headers: CLIENT_HEADERS,
      source: fixed(body, (s) => s === 200),
    };
    return {
      measure: async (c) => {
        if (!this.warmed) {
          this.warmed = true;
          await warm('ceiling', opts);
        }
        record(figures, c, await run(`ceiling (${block} window)`, opts, c));
      },
    };
  }

  async stop() {
    const mem = memory(this.server.pid);
    await this.server.stop();
    return mem;
  }
}

interface PreparedStore {
  result: StoreResult;
  dataDir: string;
  access: string[];
  refresh: RefreshChains;
  codes?: { warm: CodeGrant[]; runs: Record<number, CodeGrant[][]> };
}

/** A fresh folder filled with `grants` grants in-process, while no server runs on it. */
function prepareStore(label: string, grants: number): PreparedStore {
  const dataDir = tempFolder(label, serverOptions());
  checkDeadline(`the fill of ${grants} grants`);
  log(
    `filling ${grants} grants in-process: startAuthorization → decide(approve) → exchangeCode with PKCE (${path.relative(process.cwd(), DIST) || DIST}) ...`,
  );
  const t0 = performance.now();
  const b = openBenchFolder(dataDir, serverOptions());
  let tokens: FilledTokens;
  try {
    tokens = fillGrants(b, grants, label);
  } finally {
    b.close(); // the last connection closes: SQLite checkpoints the WAL into the main file
  }
  const fillMs = performance.now() - t0;
  const bytes = dbBytes(dataDir);
  log(
    `filled ${grants} grants in ${(fillMs / 1000).toFixed(1)} s (${((grants / fillMs) * 1000).toFixed(0)} grants/s); database ${(bytes / 1e6).toFixed(1)} MB`,
  );
  // Half the grants serve introspection (their access tokens), the other half the refresh chains, so that
  // introspection reads settled grants only, never the rotation state the refresh runs are changing.
  const half = Math.floor(grants / 2);
  return {
    dataDir,
    access: tokens.access.slice(0, half),
    refresh: refreshChains(tokens.refresh.slice(half)),
    result: {
      label,
      grants,
      fill: { ms: fillMs, grantsPerSecond: (grants / fillMs) * 1000 },
      db: { bytes, bytesPerGrant: bytes / grants },
      coldStart: { medianMs: NaN, minMs: NaN, samplesMs: [] },
      memory: { idle: NO_MEMORY, afterLoad: NO_MEMORY },
      figures: { refresh: emptyFigures(), code: emptyFigures(), introspect: emptyFigures() },
    },
  };
}

/** Code pools for the code-exchange runs (issued with the servers stopped), sized by BENCH_CODE_RATE. */
function issueCodePools(st: PreparedStore): void {
  const b = openBenchFolder(st.dataDir, serverOptions());
  try {
    const runs: Record<number, CodeGrant[][]> = {};
    const warmPool = issueCodes(b, Math.ceil(S.warmupSeconds * S.codeRate) + 32);
    for (const c of S.connections) {
      runs[c] = [];
      for (let i = 0; i < S.repeat; i++) runs[c].push(issueCodes(b, Math.ceil(S.runSeconds * S.codeRate * (c === 1 ? 0.5 : 1))));
    }
    st.codes = { warm: warmPool, runs };
  } finally {
    b.close();
  }
}

/** The stores on every endpoint, each window shared with the ceiling. */
async function measureStores(stores: PreparedStore[], ceiling: Ceiling): Promise<void> {
  let servers: Running[] = [];
  for (const st of stores) servers.push(await startOurs(st.dataDir));
  const serverOf = (k: number): Running => {
    const server = servers[k];
    if (!server) throw new Error(`no server is running for store ${k}`);
    return server;
  };
  await sleep(1000);
  stores.forEach((st, k) => (st.result.memory.idle = memory(serverOf(k).pid)));

  const participant = (st: PreparedStore, k: number, kind: Kind): Participant => {
    const name = `${kind} (${st.result.grants} grants)`;
    let warmed = false;
    return {
      measure: async (c, i) => {
        const server = serverOf(k);
        const base = { url: server.url, pid: server.pid, ...endpoint(kind) };
        const codes = st.codes;
        if (!warmed) {
          warmed = true;
          if (kind === 'code' && codes)
            await warm(name, { ...base, source: codeExchanges(codes.warm), maxRequests: codes.warm.length - 32 });
          else await warm(name, { ...base, source: kind === 'introspect' ? introspections(st.access) : st.refresh });
        }
        let source: Source;
        let maxRequests: number | undefined;
        if (kind === 'code' && codes) {
          const pool = codes.runs[c]?.[i];
          if (!pool) throw new Error(`no code pool was issued for run ${i} at ${c} connections`);
          source = codeExchanges(pool);
          maxRequests = pool.length - 2 * c;
        } else {
          source = kind === 'introspect' ? introspections(st.access) : st.refresh;
        }
        record(st.result.figures[kind], c, await run(name, { ...base, source, maxRequests }, c));
      },
    };
  };

  for (const kind of ['introspect', 'refresh'] as const)
    await window([ceiling.in(kind), ...stores.map((st, k) => participant(st, k, kind))]);
  await sleep(500);
  const afterFirst = servers.map((sv) => memory(sv.pid));
  await Promise.all(servers.map((sv) => sv.stop()));

  // Codes are issued now, with the servers stopped, so the runs above saw only the filled grants.
  log('issuing the code pools (servers stopped) ...');
  for (const st of stores) issueCodePools(st);
  servers = [];
  for (const st of stores) servers.push(await startOurs(st.dataDir));
  await window([ceiling.in('code'), ...stores.map((st, k) => participant(st, k, 'code'))]);
  await sleep(500);
  stores.forEach((st, k) => {
    const now = memory(serverOf(k).pid);
    st.result.memory.afterLoad = maxMemory(afterFirst[k] ?? now, now);
  });
  await Promise.all(servers.map((sv) => sv.stop()));
}

// ---------------------------------------------------------------- the 1.0.0 (or any other) baseline

async function measureBaseline(dir: string, ceiling: Ceiling): Promise<BaselineResult> {
  const main = path.join(dir, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`BENCH_BASELINE: ${main} is missing; build that tree first (npm install && npm run build)`);
  let version = 'unknown';
  try {
    version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    /* only a label */
  }
  log(`baseline ${version} (${dir}) on ${S.baselineNode}: cold starts, then ${S.baselineGrants} links over HTTP ...`);
  const coldStartEmpty = await coldStartsOfBaseline(dir);
  const dataDir = tempFolder('baseline', serverOptions());
  const server = await startBaseline(dir, dataDir);
  const out: BaselineResult = {
    dir,
    version,
    node: S.baselineNode,
    grants: S.baselineGrants,
    coldStartEmpty,
    fill: { ms: NaN, grantsPerSecond: NaN },
    memory: { idle: NO_MEMORY, afterLoad: NO_MEMORY },
    figures: { refresh: emptyFigures(), introspect: emptyFigures() },
  };
  try {
    await sleep(1000);
    out.memory.idle = memory(server.pid);
    const t0 = performance.now();
    const tokens = await linkOverHttp(server.url, S.baselineGrants);
    out.fill.ms = performance.now() - t0;
    out.fill.grantsPerSecond = (S.baselineGrants / out.fill.ms) * 1000;
    log(`baseline: linked ${S.baselineGrants} accounts over HTTP in ${(out.fill.ms / 1000).toFixed(1)} s`);
    const half = Math.floor(tokens.access.length / 2);
    const access = tokens.access.slice(0, half);
    const chains = refreshChains(tokens.refresh.slice(half));
    for (const kind of ['introspect', 'refresh'] as const) {
      const name = `${kind} (baseline ${version}, ${S.baselineGrants} grants)`;
      const opts: Measure = {
        url: server.url,
        pid: server.pid,
        ...endpoint(kind),
        source: kind === 'introspect' ? introspections(access) : chains,
      };
      let warmed = false;
      const baseline: Participant = {
        measure: async (c) => {
          if (!warmed) {
            warmed = true;
            await warm(name, opts);
          }
          record(out.figures[kind], c, await run(name, opts, c));
        },
      };
      await window([ceiling.in(`baseline ${kind}`), baseline]);
    }
    await sleep(500);
    out.memory.afterLoad = memory(server.pid);
  } finally {
    await server.stop();
    removeFolder(dataDir);
  }
  return out;
}

// ---------------------------------------------------------------- a hostile Authorization header

/**
 * `Authorization: Basic` + 16,000 spaces + '!' (16 KB, inside Node's default header limit) against a normal Basic
 * header, both at the token endpoint with the same body, both refused with 401 invalid_client (the normal one
 * names a client that is not configured, so the per-client limiter skips it). The server trusts 127.0.0.1 as a
 * proxy for this figure only, and every request carries its own X-Forwarded-For, so the per-IP failure limiter
 * (30 per 15 minutes) never answers 429 after its fixed 250 ms: what is measured is the parsing alone. Each run is
 * bounded by time only: one connection waits for each answer, however slow.
 */
async function measureHostile(): Promise<HostileResult> {
  const dataDir = tempFolder('hostile', serverOptions({ trusted_proxies: ['127.0.0.1'] }));
  const server = await startOurs(dataDir);
  let ip = 0;
  const forwardedFor = () => {
    ip++;
    return { 'x-forwarded-for': `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}` };
  };
  const body = form({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) });
  const refused = (status: number) => status === 401;
  const hostileHeader = `Basic${' '.repeat(16_000)}!`;
  const normal: Measure = {
    url: server.url,
    pid: server.pid,
    path: '/alexa/token',
    headers: { authorization: basic('bench-unknown-client', 'bench-unknown-secret-0123456789'), 'content-type': FORM },
    source: fixed(body, refused, forwardedFor),
  };
  const hostile: Measure = {
    ...normal,
    headers: { authorization: hostileHeader, 'content-type': FORM },
    source: fixed(body, refused, forwardedFor),
  };
  try {
    await warm('normal header', normal);
    const normalAlone = await run('normal Basic header (401)', normal, 1);
    const hostileAlone = await run('hostile 16 KB Basic header (401)', hostile, 1);
    // One client sends hostile headers while another sends normal ones: how long does the normal one wait?
    const [normalBeside, hostileBeside] = await Promise.all([
      load({ ...normal, pid: undefined, connections: 1, seconds: S.runSeconds }),
      load({ ...hostile, pid: undefined, connections: 1, seconds: S.runSeconds }),
    ]);
    log(
      `normal beside hostile: ${describe(normalBeside)}, max ${normalBeside.max.toFixed(0)} ms; hostile beside: ${describe(hostileBeside)}`,
    );
    return {
      headerBytes: hostileHeader.length,
      normal: normalAlone,
      hostile: hostileAlone,
      normalBesideHostile: normalBeside,
      hostileBesideNormal: hostileBeside,
      rpsRatio: normalAlone.rps / hostileAlone.rps,
      cpuRatio: (hostileAlone.cpuUsPerRequest ?? NaN) / (normalAlone.cpuUsPerRequest ?? NaN),
    };
  } finally {
    await server.stop();
    removeFolder(dataDir);
  }
}

// ---------------------------------------------------------------- main

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A figure that may fail without ending the run: its error, logged, stands in its place in the results. */
async function orError<T>(what: string, measure: () => T | Promise<T>): Promise<T | { error: string }> {
  try {
    return await measure();
  } catch (err) {
    const error = errorText(err);
    log(`${what} failed: ${error}`);
    return { error };
  }
}

async function main(): Promise<void> {
  const again = process.env.BENCH_REPORT;
  if (again) {
    // Prints the tables of an earlier run again (after a change to the report), without measuring anything.
    const earlier = JSON.parse(fs.readFileSync(again, 'utf8')) as Results;
    earlier.targets = targets(earlier);
    process.stdout.write(`${report(earlier)}\n`);
    return;
  }
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm run bench does)`);
  // Half of each store's grants are refresh chains; every connection (and the warm-up's 16) needs one of its own.
  const chainsNeeded = Math.max(16, ...S.connections);
  const sizes: Array<[string, number]> = [
    ['BENCH_SMALL', S.smallGrants],
    ['BENCH_GRANTS', S.largeGrants],
  ];
  if (S.baseline) sizes.push(['BENCH_BASELINE_GRANTS', S.baselineGrants]);
  for (const [knob, grants] of sizes) {
    if (Math.floor(grants / 2) < chainsNeeded) {
      throw new Error(
        `${knob}=${grants}: at least ${2 * chainsNeeded} grants are needed (half of them are refresh chains, one per connection)`,
      );
    }
  }
  if (S.cpuProfileDir) fs.mkdirSync(S.cpuProfileDir, { recursive: true });
  // The fill is synchronous and checks the deadline itself; this catches anything else that hangs.
  setTimeout(
    () => {
      console.error(`bench failed: still running ${S.deadlineSeconds + 60} s after it started (BENCH_DEADLINE_S)`);
      process.exit(1);
    },
    DEADLINE - Date.now() + 60_000,
  ).unref();
  const t0 = Date.now();
  const loadBefore = os.loadavg();
  log(
    `Node ${process.version}, ${os.cpus().length} cores, load average ${loadBefore.map((x) => x.toFixed(1)).join(' ')}; ` +
      `stores of ${S.smallGrants} and ${S.largeGrants} grants; connections ${S.connections.join(',')}; ${S.repeat} x ${S.runSeconds} s per figure`,
  );

  const headerParse = S.hostile ? await orError('header-parse figure', headerParseFigures) : undefined;
  const small = prepareStore('small', S.smallGrants);
  const large = prepareStore('large', S.largeGrants);
  const stores = [small, large];
  log('cold starts (empty folder, each store, bare Express; interleaved) ...');
  const starts = await coldStarts(stores);
  stores.forEach((st, k) => (st.result.coldStart = starts.stores[k] ?? st.result.coldStart));
  log(
    `cold start medians: empty ${starts.empty.medianMs.toFixed(0)} ms, ${stores.map((st) => `${st.result.grants} grants ${st.result.coldStart.medianMs.toFixed(0)} ms`).join(', ')}, bare Express ${starts.bareExpress.medianMs.toFixed(0)} ms`,
  );

  log('idle floors (plain Node, a bundled bare Express app) ...');
  const floors = await orError('idle floors', idleFloors);

  const ceiling = await Ceiling.start();
  let baseline: Results['baseline'];
  let ceilingMemory;
  try {
    await measureStores(stores, ceiling);
    const baselineDir = S.baseline;
    if (baselineDir) baseline = await orError('baseline', () => measureBaseline(baselineDir, ceiling));
  } finally {
    ceilingMemory = await ceiling.stop();
  }

  log('the refresh grant alone, in-process ...');
  const grantCost = await orError('refresh-grant figure', measureRefreshGrantCost);

  let purge: PurgeCost | undefined;
  if (S.largeGrants > 0) {
    log('timing the background purge on the large store, two days later ...');
    purge = purgeCost(large.dataDir, serverOptions());
  }
  for (const st of stores) removeFolder(st.dataDir);

  const hostile = S.hostile ? await orError('hostile-header figure', measureHostile) : undefined;

  log('a folder as after months: its trace files at their bounds ...');
  const aged = await orError('aged-folder figure', () => measureAgedFolder(startOurs, Math.min(S.starts, 3)));

  const results: Results = {
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    loadAverage: { before: loadBefore, after: os.loadavg() },
    date: new Date().toISOString(),
    build: DIST,
    nodeFlags: S.nodeFlags,
    settings: {
      largeGrants: S.largeGrants,
      smallGrants: S.smallGrants,
      runSeconds: S.runSeconds,
      warmupSeconds: S.warmupSeconds,
      repeat: S.repeat,
      connections: S.connections,
      coldStarts: S.starts,
      codeRate: S.codeRate,
    },
    ceiling: { windows: ceiling.windows, memory: ceilingMemory, coldStart: starts.bareExpress },
    coldStartEmpty: starts.empty,
    small: small.result,
    large: large.result,
    purge,
    baseline,
    hostile,
    headerParse,
    aged,
    idleFloors: floors,
    refreshGrantCost: grantCost,
    targets: [],
    totalSeconds: 0,
  };
  results.targets = targets(results);
  results.totalSeconds = (Date.now() - t0) / 1000;
  const text = report(results);
  fs.writeFileSync(S.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${text}\n\nbench took ${results.totalSeconds.toFixed(0)} s; results in ${path.relative(process.cwd(), S.out)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
