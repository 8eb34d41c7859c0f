#!/usr/bin/env node
// Peer benchmark: `npm run bench:peer` from the repository root (builds dist/ and dist-bench/, installs this folder's
// pinned dependencies with npm ci, then runs this file; about 5 minutes). Re-print a saved run:
// node bench/peer/run.js --report bench/peer/results/<stamp>.json
//
// Compared side by side, in one run, on the same machine and the same load generator (the repository's bench/load.ts):
//   ceiling  the bare-Express server of the repository's bench (bench/bare-express.ts): fixed answers, no store;
//   ours     our server, the build in <repo>/dist/main.js (or OUR_DIST), started as run.sh does;
//   peer     node-oidc-provider on Keyv over node:sqlite in WAL mode (keyv-sqlite-store.mjs, oidc-keyv-adapter.mjs,
//            peer-config.mjs, peer-server.mjs), configured like ours: one confidential client, PKCE S256, refresh
//            tokens rotated on every use, opaque access tokens, introspection for the resource server.
// For each store size (PEER_GRANTS) both stores are filled first: ours in-process through its own code paths, as the
// repository's bench does (bench/fill.ts); the peer over HTTP through real account links (peer-fill.mjs: /auth ->
// dev login -> consent -> code -> /token with PKCE, each link with its own cookie jar). Then the three servers are
// started and, for refresh and for introspection at CONNECTIONS connections, ROUNDS rounds alternate A B C / C B A,
// each run WARMUP s of warm-up then SECONDS s measured. Every answer is checked; the first failure stops the run.
//
// Knobs (environment), with their defaults:
//   PEER_GRANTS=100,2000  store sizes, comma-separated      SECONDS=5      measured seconds per run
//   WARMUP=1              warm-up seconds per run            ROUNDS=3       rounds per endpoint (A B C, C B A, ...)
//   CONNECTIONS=16        concurrent connections             DEADLINE_S=1500  hard bound on the whole run
//   OUR_DIST=<repo>/dist  the build of ours to measure (copied at start, so a rebuild during the run changes nothing)
//
// Not part of `npm test` or CI: it needs oidc-provider and keyv installed into bench/peer/node_modules (this folder's
// package.json and package-lock.json, pinned), which only `npm run bench:peer` does. It reads the compiled bench
// modules in <repo>/dist-bench/bench read-only and writes only under bench/peer/results/ (git-ignored), the system
// temp dir and <repo>/dist-bench/ (git-ignored; both removed at exit).
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const REPO = path.resolve(__dirname, '../..');
const B = path.resolve(__dirname, '../../dist-bench/bench');

// The build under test is copied at start (OUR_DIST, default <repo>/dist) so that a rebuild of <repo>/dist
// during the run cannot change the server between rounds; the fill loads its modules from the same copy (BENCH_DIST).
// The copy sits inside the repository, so that those modules find the project's node_modules (from the system temp
// dir, the options validator's require of ajv's runtime fails).
const crypto = require('node:crypto');
const SOURCE_DIST = path.resolve(process.env.OUR_DIST || path.join(REPO, 'dist'));
fs.mkdirSync(path.join(REPO, 'dist-bench'), { recursive: true });
const PINNED_DIST = fs.mkdtempSync(path.join(REPO, 'dist-bench', 'peer-dist-'));
fs.cpSync(SOURCE_DIST, PINNED_DIST, { recursive: true });
process.on('exit', () => fs.rmSync(PINNED_DIST, { recursive: true, force: true }));
process.env.BENCH_DIST = PINNED_DIST;
const OUR_BUILD = {
  from: SOURCE_DIST,
  mainMtime: fs.statSync(path.join(SOURCE_DIST, 'main.js')).mtime.toISOString(),
  mainSha256: crypto
    .createHash('sha256')
    .update(fs.readFileSync(path.join(PINNED_DIST, 'main.js')))
    .digest('hex')
    .slice(0, 16),
};
for (const m of ['proc', 'fill', 'load', 'settings']) {
  if (!fs.existsSync(path.join(B, `${m}.js`))) {
    console.error(`${path.join(B, `${m}.js`)} is missing: run "npx tsc -p bench/tsconfig.json" in ${REPO} first`);
    process.exit(2);
  }
}
const { tempFolder, spawnUntilHealthy, memory } = require(path.join(B, 'proc.js'));
const { openBenchFolder, fillGrants } = require(path.join(B, 'fill.js'));
const { load, refreshChains, introspections, fixed } = require(path.join(B, 'load.js'));
const S = require(path.join(B, 'settings.js'));

const env = process.env;
const num = (name, dflt) => (env[name] ? Number(env[name]) : dflt);
const CFG = {
  grants: (env.PEER_GRANTS || '100,2000').split(',').map(Number),
  seconds: num('SECONDS', 5),
  warmup: num('WARMUP', 1),
  rounds: num('ROUNDS', 3),
  connections: num('CONNECTIONS', 16),
  deadlineS: num('DEADLINE_S', 1500),
};
const OUR_MAIN = path.join(PINNED_DIST, 'main.js');
const PEER_MAIN = path.join(__dirname, 'peer-server.mjs');

const t0 = Date.now();
const log = (msg) => process.stderr.write(`[peer-bench +${((Date.now() - t0) / 1000).toFixed(0)}s] ${msg}\n`);
const hardStop = setTimeout(() => {
  console.error(`FAILED: the run exceeded its ${CFG.deadlineS} s bound (DEADLINE_S)`);
  process.exit(3); // proc.js kills every child and removes the temp folders on exit
}, CFG.deadlineS * 1000);
hardStop.unref();

// ---------- One measured run ----------

async function measure(label, server, spec, seconds, pidForCpu) {
  const r = await load({
    url: server.url,
    pid: pidForCpu,
    path: spec.path,
    headers: spec.headers,
    connections: CFG.connections,
    seconds,
    source: spec.source,
  });
  spec.source.settle?.();
  const problems = [];
  if (r.failed > 0) problems.push(`${r.failed} failed answers, the first: ${r.firstFailure}`);
  if (r.transportErrors > 0) problems.push(`${r.transportErrors} transport errors`);
  if (r.unanswered > 0) problems.push(`${r.unanswered} requests never answered`);
  if (r.poolRanDry) problems.push('the token pool ran dry');
  if (r.ok === 0) problems.push('no successful answer');
  if (problems.length) throw new Error(`${label}: ${problems.join('; ')}`);
  return r;
}

// ---------- Stores ----------

function fillOurs(n) {
  const dir = tempFolder(`ours-${n}`, S.serverOptions());
  const t = performance.now();
  const b = openBenchFolder(dir, S.serverOptions());
  let tokens;
  try {
    tokens = fillGrants(b, n, `ours-${n}`);
  } finally {
    b.close();
  }
  log(`ours: filled ${n} grants in-process in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  return { dir, tokens };
}

async function fillPeerStore(n) {
  const { fillPeer } = await import('./peer-fill.mjs');
  const dir = tempFolder(`peer-${n}`);
  const filler = await spawnUntilHealthy({ args: [PEER_MAIN], env: { DATA_DIR: dir }, cwd: __dirname });
  const t = performance.now();
  let tokens;
  try {
    tokens = await fillPeer(filler.url, n, { parallel: 4, seconds: Math.max(60, (CFG.deadlineS * 1000 - (Date.now() - t0)) / 2000) });
  } finally {
    await filler.stop();
  }
  log(
    `peer: filled ${n} grants over HTTP (authorize, login, consent, token with PKCE) in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  return { dir, tokens };
}

function dbRows(file) {
  const { DatabaseSync } = require('node:sqlite');
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    return Number(db.prepare('SELECT count(*) AS n FROM keyv').get().n);
  } finally {
    db.close();
  }
}

// ---------- One store size ----------

async function phase(n) {
  log(`=== ${n} grants ===`);
  const ours = fillOurs(n);
  const peer = await fillPeerStore(n);
  const half = Math.floor(n / 2);
  log(`peer store: ${dbRows(path.join(peer.dir, 'peer.sqlite'))} Keyv rows after the fill`);

  const servers = {};
  try {
    servers.ceiling = await spawnUntilHealthy({ args: [S.BARE_EXPRESS], env: {} });
    servers.ours = await spawnUntilHealthy({ args: [...S.SETTINGS.nodeFlags, OUR_MAIN], env: { DATA_DIR: ours.dir, ADMIN_PORT: '0' } });
    servers.peer = await spawnUntilHealthy({ args: [PEER_MAIN], env: { DATA_DIR: peer.dir }, cwd: __dirname });
    const idle = Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, memory(s.pid)]));

    const specs = {
      refresh: {
        ceiling: {
          path: '/alexa/token',
          headers: S.CLIENT_HEADERS,
          source: fixed(S.form({ grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }), (status) => status === 200),
        },
        ours: { path: '/alexa/token', headers: S.CLIENT_HEADERS, source: refreshChains(ours.tokens.refresh.slice(half)) },
        peer: { path: '/token', headers: S.CLIENT_HEADERS, source: refreshChains(peer.tokens.refresh.slice(half)) },
      },
      introspection: {
        ceiling: {
          path: '/alexa/introspect',
          headers: S.RS_HEADERS,
          source: fixed(S.form({ token: 'x'.repeat(43), token_type_hint: 'access_token' }), (status) => status === 200),
        },
        ours: { path: '/alexa/introspect', headers: S.RS_HEADERS, source: introspections(ours.tokens.access.slice(0, half)) },
        peer: { path: '/token/introspection', headers: S.RS_HEADERS, source: introspections(peer.tokens.access.slice(0, half)) },
      },
    };

    const runs = { refresh: { ceiling: [], ours: [], peer: [] }, introspection: { ceiling: [], ours: [], peer: [] } };
    const order = ['ceiling', 'ours', 'peer'];
    for (const endpoint of ['refresh', 'introspection']) {
      for (let round = 0; round < CFG.rounds; round++) {
        for (const who of round % 2 === 0 ? order : [...order].reverse()) {
          const label = `${n} grants, ${endpoint}, ${who}, round ${round + 1}`;
          const spec = specs[endpoint][who];
          const server = servers[who];
          await measure(`${label} (warm-up)`, server, spec, CFG.warmup);
          const r = await measure(label, server, spec, CFG.seconds, server.pid);
          runs[endpoint][who].push(r);
          log(
            `${label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ` +
              `${r.cpuUsPerRequest.toFixed(0)} µs CPU/req (main ${r.mainThreadUsPerRequest.toFixed(0)}), ${r.ok} ok`,
          );
        }
      }
    }
    const peak = Object.fromEntries(Object.entries(servers).map(([k, s]) => [k, memory(s.pid)]));
    for (const s of Object.values(servers)) await s.stop();
    return { grants: n, idle, peak, runs, peerRowsAfter: dbRows(path.join(peer.dir, 'peer.sqlite')) };
  } catch (err) {
    for (const s of Object.values(servers)) await s.stop().catch(() => {});
    throw err;
  }
}

// ---------- Report ----------

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};
const best = (list) => list.reduce((a, b) => (b.rps > a.rps ? b : a));
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : '-');

function report(results, versions, loadavg = os.loadavg()) {
  const lines = [];
  lines.push(
    `node ${versions.node}, oidc-provider ${versions.oidcProvider}, keyv ${versions.keyv}, autocannon ${versions.autocannon}; ${os.cpus().length} CPUs, load avg at the end ${loadavg.map((x) => x.toFixed(2)).join(' ')}`,
  );
  if (versions.ours)
    lines.push(`ours: ${versions.ours.from}/main.js of ${versions.ours.mainMtime}, sha256 ${versions.ours.mainSha256}… (copied at start)`);
  lines.push(
    `${CFG.connections} connections, ${CFG.rounds} rounds (A B C / C B A), ${CFG.warmup} s warm-up + ${CFG.seconds} s per run; best round by req/s (CPU: lowest of the rounds)`,
  );
  lines.push('');
  lines.push(
    '| grants | endpoint | server | req/s | p50 ms | p99 ms | CPU µs/req (best run) | CPU µs/req (lowest) | of ceiling | peak RSS MB |',
  );
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  const ratios = [];
  for (const res of results) {
    for (const endpoint of ['refresh', 'introspection']) {
      const c = best(res.runs[endpoint].ceiling);
      for (const who of ['ceiling', 'ours', 'peer']) {
        const b = best(res.runs[endpoint][who]);
        const lowCpu = Math.min(...res.runs[endpoint][who].map((r) => r.cpuUsPerRequest));
        lines.push(
          `| ${res.grants} | ${endpoint} | ${who} | ${fmt(b.rps)} | ${fmt(b.p50, 2)} | ${fmt(b.p99, 2)} | ${fmt(b.cpuUsPerRequest)} | ${fmt(lowCpu)} | ${fmt((100 * b.rps) / c.rps)} % | ${fmt(res.peak[who].hwmMB, 1)} |`,
        );
      }
      const o = best(res.runs[endpoint].ours);
      const p = best(res.runs[endpoint].peer);
      const oc = Math.min(...res.runs[endpoint].ours.map((r) => r.cpuUsPerRequest));
      const pc = Math.min(...res.runs[endpoint].peer.map((r) => r.cpuUsPerRequest));
      // Paired by round (ours and peer ran next to each other), then the median: less sensitive to drifting load.
      const rr = res.runs[endpoint].ours.map((r, i) => r.rps / res.runs[endpoint].peer[i].rps);
      const cr = res.runs[endpoint].ours.map((r, i) => res.runs[endpoint].peer[i].cpuUsPerRequest / r.cpuUsPerRequest);
      const span = (xs) => `median ${median(xs).toFixed(2)}× [${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}]`;
      ratios.push(
        `${res.grants} grants, ${endpoint}: ours ÷ peer req/s = ${(o.rps / p.rps).toFixed(2)}× (best runs), per round ${span(rr)}; ` +
          `peer CPU/req ÷ ours = ${(p.cpuUsPerRequest / o.cpuUsPerRequest).toFixed(2)}× (best runs), ${(pc / oc).toFixed(2)}× (lowest of rounds), per round ${span(cr)}; ` +
          `p99 ours ${fmt(o.p99, 2)} ms vs peer ${fmt(p.p99, 2)} ms`,
      );
    }
  }
  lines.push('');
  lines.push(...ratios);
  lines.push('');
  for (const res of results)
    lines.push(
      `${res.grants} grants: idle RSS (MB) ceiling ${fmt(res.idle.ceiling.rssMB, 1)}, ours ${fmt(res.idle.ours.rssMB, 1)}, peer ${fmt(res.idle.peer.rssMB, 1)}; peer Keyv rows after the runs: ${res.peerRowsAfter}`,
    );
  return lines.join('\n');
}

if (process.argv[2] === '--report') {
  // Re-prints the table of an earlier run: node run.js --report results/<stamp>.json
  const saved = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  console.log(report(saved.results, saved.versions, saved.loadavg ?? [NaN, NaN, NaN]));
  process.exit(0);
}

(async () => {
  const versions = {
    node: process.version,
    oidcProvider: require('./node_modules/oidc-provider/package.json').version,
    keyv: require('./node_modules/keyv/package.json').version,
    autocannon: require('../../node_modules/autocannon/package.json').version,
    ours: OUR_BUILD,
  };
  log(`config ${JSON.stringify(CFG)}; versions ${JSON.stringify(versions)}`);
  const results = [];
  for (const n of CFG.grants) results.push(await phase(n));
  const text = report(results, versions);
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  fs.writeFileSync(path.join(outDir, `${stamp}.json`), JSON.stringify({ config: CFG, versions, loadavg: os.loadavg(), results }, null, 1));
  fs.writeFileSync(path.join(outDir, `${stamp}.md`), `${text}\n`);
  console.log(text);
  log(`written bench/peer/results/${stamp}.json and .md`);
  process.exit(0);
})().catch((err) => {
  console.error(`FAILED: ${err?.stack ?? err}`);
  process.exit(1);
});
