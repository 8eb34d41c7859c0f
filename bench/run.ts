/**
 * npm run bench: builds the server and the bench, then measures the built server (node dist/main.js) against a
 * bare-Express ceiling in the same run, on a small and a large store filled through the server's own code paths;
 * optionally another build (BENCH_BASELINE) beside it. Prints tables and writes bench/results.json.
 * docs/benchmark.md says what each figure means.
 *
 * Environment knobs (defaults: what docs/benchmark.md's table was made with):
 *   BENCH_GRANTS=100000    grants in the large store        BENCH_SMALL=100        grants in the small store
 *   BENCH_SECONDS=6        seconds per measured run         BENCH_WARMUP=1.5       seconds of warm-up first
 *   BENCH_REPEAT=2         measured runs per figure (alternating stores; the best is kept)
 *   BENCH_CONNECTIONS=16   connection counts, e.g. 1,16     BENCH_STARTS=5         cold starts per folder
 *   BENCH_CODE_RATE=1500   codes issued per second of a code-exchange run (more: the pool lasts longer)
 *   BENCH_NODE_FLAGS='--max-semi-space-size=2'  node options of our server (run.sh's)
 *   BENCH_CPU_PROF=dir     run our servers under --cpu-prof  BENCH_DIST=dir        another build of the same API
 *   BENCH_BASELINE=dir     another build (dir/dist/main.js), filled over HTTP; BENCH_BASELINE_NODE=its node binary;
 *   BENCH_BASELINE_GRANTS  (default BENCH_SMALL)            BENCH_HOSTILE=0        skip the hostile-header figure
 *   BENCH_HOSTILE_MAX=20   hostile requests per run at most BENCH_DEADLINE_S=1500  hard bound on the whole run
 *   BENCH_OUT=file         the JSON elsewhere than bench/results.json
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CodeGrant, FilledTokens, PurgeCost, fillGrants, issueCodes, openBenchFolder, purgeCost } from './fill';
import { linkOverHttp } from './http-link';
import { LoadOptions, RefreshChains, RunResult, Source, codeExchanges, describe, fixed, introspections, load, refreshChains } from './load';
import { Memory, NO_MEMORY, Running, dbBytes, maxMemory, memory, removeFolder, spawnUntilHealthy, tempFolder } from './proc';
import { Kind, Results, StoreResult, BaselineResult, HostileResult, CeilingResult, ColdStart, report, targets } from './report';
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

// ---------------------------------------------------------------- servers

function startOurs(dataDir: string): Promise<Running> {
  const prof = S.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${S.cpuProfileDir}`] : [];
  // The admin listener is on, as in the add-on (Ingress), on a port the kernel picks.
  return spawnUntilHealthy({ args: [...S.nodeFlags, ...prof, MAIN], env: { DATA_DIR: dataDir, ADMIN_PORT: '0' } });
}

function startBaseline(dir: string, dataDir: string): Promise<Running> {
  return spawnUntilHealthy({ node: S.baselineNode, args: [...S.nodeFlags, path.join(dir, 'dist', 'main.js')], env: { DATA_DIR: dataDir, ADMIN_PORT: '0' }, cwd: dir });
}

async function coldStarts(start: () => Promise<Running>, fresh?: () => void): Promise<ColdStart> {
  const samplesMs: number[] = [];
  for (let i = 0; i < S.starts; i++) {
    checkDeadline('the cold starts');
    fresh?.();
    const s = await start();
    samplesMs.push(s.startMs);
    await s.stop();
  }
  const sorted = samplesMs.slice().sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, samplesMs };
}

/** Median cold start on a folder that holds only options.json (a new one each time: the start creates the database). */
async function coldStartsEmpty(start: (dir: string) => Promise<Running>, label: string): Promise<ColdStart> {
  let dir = '';
  const result = await coldStarts(
    () => start(dir),
    () => {
      if (dir) removeFolder(dir);
      dir = tempFolder(`${label}-empty`, serverOptions());
    },
  );
  removeFolder(dir);
  return result;
}

// ---------------------------------------------------------------- measuring

type Measure = Omit<LoadOptions, 'seconds' | 'connections'>;

function endpoint(kind: Kind): { path: string; headers: Record<string, string> } {
  return kind === 'introspect' ? { path: '/alexa/introspect', headers: RS_HEADERS } : { path: '/alexa/token', headers: CLIENT_HEADERS };
}

async function run(name: string, opts: Measure, connections: number, seconds = S.runSeconds): Promise<RunResult> {
  checkDeadline(name);
  const r = await load({ ...opts, connections, seconds });
  opts.source.settle?.();
  log(`${name} c=${connections}: ${describe(r)}`);
  if (r.failed > 0 || r.transportErrors > 0) throw new Error(`${name} c=${connections}: ${r.failed} failed answers, ${r.transportErrors} transport errors; first: ${r.firstFailure}`);
  return r;
}

/** Warm-up (discarded) at 16 connections. */
async function warm(name: string, opts: Measure): Promise<void> {
  if (S.warmupSeconds <= 0) return;
  checkDeadline(`${name} warm-up`);
  const w = await load({ ...opts, connections: 16, seconds: S.warmupSeconds });
  opts.source.settle?.();
  if (w.failed > 0 || w.transportErrors > 0) throw new Error(`${name} warm-up: ${w.failed} failed, ${w.transportErrors} transport errors; first: ${w.firstFailure}`);
}

const keepBest = (into: Record<number, RunResult>, c: number, r: RunResult) => {
  const prev = into[c];
  if (!prev || r.rps > prev.rps) into[c] = r;
};

async function ceilingRuns(label: string): Promise<CeilingResult> {
  const ceiling = await spawnUntilHealthy({ args: [BARE_EXPRESS], env: {} });
  const body = form({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) });
  const opts: Measure = { url: ceiling.url, pid: ceiling.pid, path: '/alexa/token', headers: CLIENT_HEADERS, source: fixed(body, (s) => s === 200) };
  const out: CeilingResult = { best: {}, runs: {}, startMs: ceiling.startMs, memory: NO_MEMORY };
  await warm(`ceiling (${label})`, opts);
  for (const c of S.connections) {
    for (let i = 0; i < S.repeat; i++) {
      const r = await run(`ceiling (${label})`, opts, c);
      (out.runs[c] ??= []).push(r);
      keepBest(out.best, c, r);
    }
  }
  out.memory = memory(ceiling.pid);
  await ceiling.stop();
  return out;
}

interface PreparedStore {
  result: StoreResult;
  dataDir: string;
  access: string[];
  refresh: RefreshChains;
  codes?: { warm: CodeGrant[]; runs: Record<number, CodeGrant[][]> };
}

/** A fresh folder filled with `grants` grants in-process (no server running), then its cold starts. */
async function prepareStore(label: string, grants: number): Promise<PreparedStore> {
  const dataDir = tempFolder(label, serverOptions());
  checkDeadline(`the fill of ${grants} grants`);
  log(`filling ${grants} grants in-process: startAuthorization → decide(approve) → exchangeCode with PKCE (${path.relative(process.cwd(), DIST) || DIST}) ...`);
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
  log(`filled ${grants} grants in ${(fillMs / 1000).toFixed(1)} s (${((grants / fillMs) * 1000).toFixed(0)} grants/s); database ${(bytes / 1e6).toFixed(1)} MB`);
  const coldStart = await coldStarts(() => startOurs(dataDir));
  log(`cold start with ${grants} grants: median ${coldStart.medianMs.toFixed(0)} ms (${coldStart.samplesMs.map((x) => x.toFixed(0)).join(', ')})`);
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
      coldStart,
      memory: { idle: NO_MEMORY, afterLoad: NO_MEMORY },
      best: { refresh: {}, code: {}, introspect: {} },
      runs: { refresh: {}, code: {}, introspect: {} },
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

/**
 * The measured runs, the stores side by side: for each endpoint and connection count the servers are loaded one
 * after the other, REPEAT times in alternating order, and the best run of each is kept. Background load on a
 * shared machine comes in bursts; alternating puts the stores in the same time windows, and the best of several
 * runs is the one least disturbed.
 */
async function measureStores(stores: PreparedStore[]): Promise<void> {
  let servers: Running[] = [];
  for (const st of stores) servers.push(await startOurs(st.dataDir));
  await sleep(1000);
  stores.forEach((st, i) => (st.result.memory.idle = memory(servers[i]!.pid)));
  const order = (i: number) => (i % 2 === 0 ? stores.map((_, k) => k) : stores.map((_, k) => stores.length - 1 - k));
  const warmed = new Set<string>();

  async function one(k: number, kind: Kind, c: number, source: Source, maxRequests?: number): Promise<void> {
    const st = stores[k]!;
    const server = servers[k]!;
    const base: Measure = { url: server.url, pid: server.pid, ...endpoint(kind), source };
    const name = `${kind} (${st.result.grants} grants)`;
    if (!warmed.has(`${k}:${kind}`)) {
      warmed.add(`${k}:${kind}`);
      const warmSource = kind === 'code' ? codeExchanges(st.codes!.warm) : source;
      await warm(name, { ...base, source: warmSource, maxRequests: kind === 'code' ? st.codes!.warm.length - 32 : undefined });
    }
    const r = await run(name, { ...base, maxRequests }, c);
    (st.result.runs[kind][c] ??= []).push(r);
    keepBest(st.result.best[kind], c, r);
  }

  for (const c of S.connections) for (let i = 0; i < S.repeat; i++) for (const k of order(i)) await one(k, 'introspect', c, introspections(stores[k]!.access));
  for (const c of S.connections) for (let i = 0; i < S.repeat; i++) for (const k of order(i)) await one(k, 'refresh', c, stores[k]!.refresh);
  await sleep(500);
  const afterFirst: Memory[] = servers.map((sv) => memory(sv.pid));
  await Promise.all(servers.map((sv) => sv.stop()));

  // Codes are issued now, with the servers stopped, so the runs above saw only the filled grants.
  log('issuing the code pools ...');
  for (const st of stores) issueCodePools(st);
  servers = [];
  for (const st of stores) servers.push(await startOurs(st.dataDir));
  for (const c of S.connections) {
    for (let i = 0; i < S.repeat; i++) {
      for (const k of order(i)) {
        const pool = stores[k]!.codes!.runs[c]![i]!;
        await one(k, 'code', c, codeExchanges(pool), pool.length - 2 * c);
      }
    }
  }
  await sleep(500);
  stores.forEach((st, k) => {
    st.result.memory.afterLoad = maxMemory(afterFirst[k]!, memory(servers[k]!.pid));
  });
  await Promise.all(servers.map((sv) => sv.stop()));
}

// ---------------------------------------------------------------- the 1.0.0 (or any other) baseline

async function measureBaseline(dir: string): Promise<BaselineResult> {
  const main = path.join(dir, 'dist', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`BENCH_BASELINE: ${main} is missing; build that tree first (npm install && npm run build)`);
  let version = 'unknown';
  try {
    version = (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? version;
  } catch {
    /* only a label */
  }
  log(`baseline ${version} (${dir}) on ${S.baselineNode}: cold starts, then ${S.baselineGrants} links over HTTP ...`);
  const coldStartEmpty = await coldStartsEmpty((d) => startBaseline(dir, d), 'baseline');
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
    best: { refresh: {}, introspect: {} },
    runs: { refresh: {}, introspect: {} },
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
      const source = kind === 'introspect' ? introspections(access) : chains;
      const base: Measure = { url: server.url, pid: server.pid, ...endpoint(kind), source };
      const name = `${kind} (baseline ${version}, ${S.baselineGrants} grants)`;
      await warm(name, base);
      for (const c of S.connections) {
        for (let i = 0; i < S.repeat; i++) {
          const r = await run(name, base, c);
          (out.runs[kind][c] ??= []).push(r);
          keepBest(out.best[kind], c, r);
        }
      }
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
 * (30 per 15 minutes) never answers 429 after its fixed 250 ms: what is measured is the parsing alone.
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
  const normal: Measure = { url: server.url, pid: server.pid, path: '/alexa/token', headers: { authorization: basic('bench-unknown-client', 'bench-unknown-secret-0123456789'), 'content-type': FORM }, source: fixed(body, refused, forwardedFor) };
  const hostile: Measure = { url: server.url, pid: server.pid, path: '/alexa/token', headers: { authorization: hostileHeader, 'content-type': FORM }, source: fixed(body, refused, forwardedFor), maxRequests: S.hostileMax };
  try {
    await warm('normal header', normal);
    const normalAlone = await run('normal Basic header (401)', normal, 1);
    const hostileAlone = await run('hostile 16 KB Basic header (401)', hostile, 1);
    // One client sends hostile headers while another sends normal ones: how long does the normal one wait?
    log('hostile and normal together ...');
    const [normalBeside, hostileBeside] = await Promise.all([
      load({ ...normal, pid: undefined, connections: 1, seconds: S.runSeconds }),
      load({ ...hostile, pid: undefined, connections: 1, seconds: S.runSeconds }),
    ]);
    log(`normal beside hostile: ${describe(normalBeside)}, max ${normalBeside.max.toFixed(0)} ms; hostile: ${hostileBeside.requests} answered`);
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

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first (npm run bench does)`);
  // Half of each store's grants are refresh chains; every connection (and the warm-up's 16) needs one of its own.
  const chainsNeeded = Math.max(16, ...S.connections);
  const sizes: Array<[string, number]> = [['BENCH_SMALL', S.smallGrants], ['BENCH_GRANTS', S.largeGrants], ...(S.baseline ? [['BENCH_BASELINE_GRANTS', S.baselineGrants] as [string, number]] : [])];
  for (const [knob, grants] of sizes) {
    if (Math.floor(grants / 2) < chainsNeeded) throw new Error(`${knob}=${grants}: at least ${2 * chainsNeeded} grants are needed (half of them are refresh chains, one per connection)`);
  }
  if (S.cpuProfileDir) fs.mkdirSync(S.cpuProfileDir, { recursive: true });
  // The fill is synchronous and checks the deadline itself; this catches anything else that hangs.
  setTimeout(() => {
    console.error(`bench failed: still running ${S.deadlineSeconds + 60} s after it started (BENCH_DEADLINE_S)`);
    process.exit(1);
  }, DEADLINE - Date.now() + 60_000).unref();
  const t0 = Date.now();
  log(`Node ${process.version}, ${os.cpus().length} cores; large store ${S.largeGrants} grants, small ${S.smallGrants}; connections ${S.connections.join(',')}; ${S.repeat} x ${S.runSeconds} s per figure`);

  const ceilingFirst = await ceilingRuns('first');
  log('cold starts on an empty folder ...');
  const coldStartEmpty = await coldStartsEmpty(startOurs, 'ours');
  log(`cold start, empty folder: median ${coldStartEmpty.medianMs.toFixed(0)} ms (${coldStartEmpty.samplesMs.map((x) => x.toFixed(0)).join(', ')})`);
  const stores = [await prepareStore('small', S.smallGrants), await prepareStore('large', S.largeGrants)];
  await measureStores(stores);
  const large = stores[1]!;
  let purge: PurgeCost | undefined;
  if (S.largeGrants > 0) {
    log('timing the background purge on the large store, two days later ...');
    purge = purgeCost(large.dataDir, serverOptions());
  }
  for (const st of stores) removeFolder(st.dataDir);

  let baseline: BaselineResult | { error: string } | undefined;
  if (S.baseline) {
    try {
      baseline = await measureBaseline(S.baseline);
    } catch (err) {
      baseline = { error: String(err instanceof Error ? err.message : err) };
      log(`baseline failed: ${baseline.error}`);
    }
  }
  let hostile: HostileResult | { error: string } | undefined;
  if (S.hostile) {
    try {
      hostile = await measureHostile();
    } catch (err) {
      hostile = { error: String(err instanceof Error ? err.message : err) };
      log(`hostile-header figure failed: ${hostile.error}`);
    }
  }
  const ceilingLast = await ceilingRuns('last');
  // The ceiling is measured before and after the servers; ratios use the better of the two (the harder bar).
  const ceiling: Results['ceiling'] = { best: {}, startMs: ceilingFirst.startMs, memory: ceilingLast.memory, first: ceilingFirst, last: ceilingLast };
  for (const c of S.connections) for (const r of [ceilingFirst.best[c], ceilingLast.best[c]]) if (r) keepBest(ceiling.best, c, r);

  const results: Results = {
    node: process.version,
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? 'unknown CPU',
    loadAverage: os.loadavg(),
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
    ceiling,
    coldStartEmpty,
    small: stores[0]!.result,
    large: large.result,
    purge,
    baseline,
    hostile,
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
