/**
 * Soak: mixed traffic against the compiled server (dist/main.js) for a while, with a kill -9 and a restart on
 * the same DATA_DIR every minute. Traffic: whole account links (browser steps + code exchange), refreshes,
 * introspections, revocations, and bad requests (wrong secrets, made-up codes and tokens, malformed bodies).
 * Reports requests served, errors by kind, the server's RSS over time, and tokens lost (must be 0).
 *
 *   npm run soak                                   10 minutes, a kill every 60 s
 *   SOAK_DURATION_S=90 SOAK_KILL_EVERY_S=30 npm run soak    a short trial
 *
 * Environment: SOAK_DURATION_S (600), SOAK_KILL_EVERY_S (60; 0 = never), SOAK_RATE (target requests/s, 80),
 * SOAK_WORKERS (8), SOAK_LINKS (pool size, 40), SOAK_DATA_DIR (a fresh temp folder), SOAK_REPORT (JSON file).
 * Exit code 1 when a token was lost, a request got a 5xx other than a 503 during a database fault, the database
 * failed its integrity check, or RSS grew. Only 127.0.0.1 is used; every loop is bounded by the deadline.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Browser, alexaAuthorize, linkInBrowser, pkcePair } from '../tests/helpers/alexa-client';
import { ALEXA_REDIRECT, CLIENT_SECRET, RESOURCE_SERVER, fixedPort, testOptions } from '../tests/helpers/test-server';

const env = process.env;
const DURATION_MS = Number(env.SOAK_DURATION_S ?? 600) * 1000;
const KILL_EVERY_MS = Number(env.SOAK_KILL_EVERY_S ?? 60) * 1000;
const RATE = Number(env.SOAK_RATE ?? 80);
const WORKERS = Number(env.SOAK_WORKERS ?? 8);
const POOL = Number(env.SOAK_LINKS ?? 40);
const REQUEST_TIMEOUT_MS = 10_000;
const MAIN = path.join(__dirname, '..', '..', 'dist', 'main.js');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
const ALEXA_AUTH = basic('amazon-alexa', CLIENT_SECRET);
const RS_AUTH = basic(RESOURCE_SERVER.id, RESOURCE_SERVER.secret);

// ---- bookkeeping -------------------------------------------------------------------------------------------

const served: Record<string, number> = {};
const errors: Record<string, number> = {};
const problems: string[] = [];
const count = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);
const problem = (text: string) => {
  count(errors, 'PROBLEM');
  if (problems.length < 50) problems.push(`${new Date().toISOString()} ${text}`);
};

interface Link {
  id: number;
  ip: string;
  refresh: string;
  /** The last access tokens whose responses arrived (checked at the end). */
  access: string[];
  /** A refresh whose response was lost: retried with the same old token. */
  lostRefresh?: string;
  busy: boolean;
}

const links: Link[] = [];
let nextLinkId = 1;
let revoked = 0;
let lostResponsesRetried = 0;

// ---- the server under test ---------------------------------------------------------------------------------

interface Server {
  child: ChildProcess;
  url: string;
  started: number;
}

let server: Server | undefined;
let serverUp = false;
let kills = 0;
let integrityFailures = 0;
const rss: Array<{ t: number; life: number; mb: number }> = [];

async function startServer(dataDir: string, port: number, log: NodeJS.WritableStream): Promise<Server> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: env.PATH, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ADMIN_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => {
    log.write(d);
    if (/unexpected error/.test(d.toString())) problem(`server logged an unexpected error: ${d.toString().slice(0, 300)}`);
  });
  child.stderr.on('data', (d: Buffer) => log.write(d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} at start-up; see ${dataDir}/soak-server.log`);
    try {
      if ((await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).status === 200) return { child, url, started: Date.now() };
    } catch {
      /* not yet */
    }
    await sleep(50);
  }
  throw new Error('server did not become healthy in 20 s');
}

function rssMb(pid: number): number | undefined {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return kb ? Number(kb[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

function integrityCheck(file: string): string {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(file, { timeout: 5000 });
    const rows = db.prepare('PRAGMA integrity_check').all() as Array<Record<string, unknown>>;
    return String(Object.values(rows[0] ?? {})[0]);
  } catch (err) {
    return `failed: ${(err as Error).message}`;
  } finally {
    db?.close();
  }
}

// ---- traffic -----------------------------------------------------------------------------------------------

interface Outcome {
  status: number;
  body?: Record<string, unknown>;
  network?: string;
}

async function post(
  pathname: string,
  form: Record<string, string> | string,
  headers: Record<string, string>,
  what: string,
): Promise<Outcome> {
  const url = server?.url;
  if (!url || !serverUp) return { status: 0, network: 'server down' };
  try {
    const res = await fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: typeof form === 'string' ? form : new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await res.text();
    count(served, `${what} ${res.status}`);
    if (res.status >= 500 && res.status !== 503) problem(`${what}: ${res.status} ${text.slice(0, 200)}`);
    if (res.status === 503) count(errors, `${what}: 503 (database unavailable)`);
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    return { status: res.status, body };
  } catch (err) {
    const kind = String((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).name);
    count(errors, `${what}: network ${kind} (server killed)`);
    return { status: 0, network: kind };
  }
}

async function link(): Promise<void> {
  if (!server || !serverUp) return;
  const ip = `10.0.${Math.floor(Math.random() * 4)}.${1 + Math.floor(Math.random() * 250)}`;
  const { verifier, challenge } = pkcePair();
  let code: string;
  try {
    const browser = new Browser(server.url);
    const redirect = await linkInBrowser(browser, alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
    code = redirect.searchParams.get('code')!;
    count(served, 'link browser steps ok');
  } catch (err) {
    count(errors, `link browser steps: ${/answered (\d+)/.exec(String(err))?.[1] ?? 'network'} (server killed or unavailable)`);
    return;
  }
  const form = { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier };
  let res = await post('/alexa/token', form, { authorization: ALEXA_AUTH, 'x-forwarded-for': ip }, 'code exchange');
  for (let attempt = 0; attempt < 20 && (res.status === 0 || res.status === 503); attempt++) {
    // The answer was lost or the database was busy: Alexa retries the same exchange.
    await sleep(500);
    res = await post('/alexa/token', form, { authorization: ALEXA_AUTH, 'x-forwarded-for': ip }, 'code exchange retry');
  }
  if (res.status === 200 && res.body) {
    links.push({ id: nextLinkId++, ip, refresh: String(res.body.refresh_token), access: [String(res.body.access_token)], busy: false });
  } else if (res.status === 400 && res.body?.error === 'invalid_grant') {
    // Only after a lost answer: the first redemption had committed (RFC 6749: one use). The user links again.
    count(errors, 'code exchange retried after a lost answer: already redeemed (user must retry linking)');
  } else if (res.status !== 0) {
    problem(`code exchange answered ${res.status} ${JSON.stringify(res.body)}`);
  }
}

async function refreshLink(l: Link): Promise<void> {
  const sent = l.lostRefresh ?? l.refresh;
  const res = await post(
    '/alexa/token',
    { grant_type: 'refresh_token', refresh_token: sent },
    { authorization: ALEXA_AUTH, 'x-forwarded-for': l.ip },
    l.lostRefresh ? 'refresh retry' : 'refresh',
  );
  if (res.status === 0 || res.status === 503) {
    l.lostRefresh = sent;
    return;
  }
  if (res.status === 200 && res.body) {
    if (l.lostRefresh) lostResponsesRetried++;
    l.lostRefresh = undefined;
    l.refresh = String(res.body.refresh_token);
    l.access = [...l.access.slice(-4), String(res.body.access_token)];
    return;
  }
  problem(
    `link ${l.id}: refresh answered ${res.status} ${JSON.stringify(res.body)} (a refresh must never fail: this would unlink the user)`,
  );
  links.splice(links.indexOf(l), 1);
}

async function introspectLink(l: Link): Promise<void> {
  const token = l.access.at(-1);
  if (token === undefined) return;
  const res = await post('/alexa/introspect', { token }, { authorization: RS_AUTH, 'x-forwarded-for': '10.9.0.1' }, 'introspect');
  if (res.status === 200 && res.body?.active !== true) problem(`link ${l.id}: its latest access token is inactive`);
}

async function revokeLink(l: Link): Promise<void> {
  const res = await post(
    '/alexa/revoke',
    { token: l.refresh, token_type_hint: 'refresh_token' },
    { authorization: ALEXA_AUTH, 'x-forwarded-for': l.ip },
    'revoke',
  );
  if (res.status !== 200) return; // lost or unavailable: try another time
  links.splice(links.indexOf(l), 1);
  revoked++;
  const after = await post(
    '/alexa/token',
    { grant_type: 'refresh_token', refresh_token: l.refresh },
    { authorization: ALEXA_AUTH, 'x-forwarded-for': l.ip },
    'refresh after revoke',
  );
  if (after.status === 200) problem(`link ${l.id}: refresh still works after revocation`);
}

const BAD: Array<() => [string, Record<string, string> | string, Record<string, string>]> = [
  () => [
    '/alexa/token',
    { grant_type: 'refresh_token', refresh_token: 'made-up-token' },
    { authorization: basic('amazon-alexa', 'guessed-secret') },
  ],
  () => [
    '/alexa/token',
    { grant_type: 'authorization_code', code: Math.random().toString(36), redirect_uri: ALEXA_REDIRECT },
    { authorization: ALEXA_AUTH },
  ],
  () => ['/alexa/token', { grant_type: 'refresh_token', refresh_token: 'x'.repeat(43) }, { authorization: ALEXA_AUTH }],
  () => ['/alexa/token', 'grant_type=refresh_token&grant_type=authorization_code', { authorization: ALEXA_AUTH }],
  () => ['/alexa/token', '%%%&&&===', { authorization: 'Basic !!!' }],
  () => ['/alexa/token', 'a=' + 'b'.repeat(20_000), {}],
  () => ['/alexa/token', '{"grant_type":"password"}', { 'content-type': 'application/json' }],
  () => ['/alexa/introspect', { token: 'nothing' }, { authorization: basic(RESOURCE_SERVER.id, 'wrong') }],
  () => ['/alexa/revoke', { token: 'nothing' }, {}],
];

async function badRequest(): Promise<void> {
  const pick = BAD[Math.floor(Math.random() * BAD.length)];
  if (!pick) return;
  const [pathname, form, headers] = pick();
  const ip = `203.0.113.${1 + Math.floor(Math.random() * 50)}`;
  const res = await post(pathname, form, { ...headers, 'x-forwarded-for': ip }, `bad ${pathname}`);
  if (res.status === 200 && pathname === '/alexa/token') problem(`a bad request succeeded: ${JSON.stringify(form).slice(0, 100)}`);
}

async function worker(deadline: number, perWorkerDelayMs: number): Promise<void> {
  while (Date.now() < deadline) {
    const started = Date.now();
    if (serverUp) {
      const r = Math.random();
      const idle = links.filter((l) => !l.busy);
      const pick = idle.length ? idle[Math.floor(Math.random() * idle.length)] : undefined;
      if (pick) pick.busy = true;
      try {
        if (links.length < POOL && r < 0.08) await link();
        else if (pick && r < 0.55) await refreshLink(pick);
        else if (pick && r < 0.8) await introspectLink(pick);
        else if (pick && r < 0.82 && links.length > POOL / 2) await revokeLink(pick);
        else await badRequest();
      } finally {
        if (pick) pick.busy = false;
      }
    }
    const wait = perWorkerDelayMs - (Date.now() - started);
    await sleep(Math.max(serverUp ? 0 : 50, wait));
  }
}

// ---- main --------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const dataDir = env.SOAK_DATA_DIR ?? mkdtempSync(path.join(tmpdir(), 'maoauth-soak-'));
  writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions({ log_level: 'warn', trusted_proxies: ['loopback'] })));
  const log = createWriteStream(path.join(dataDir, 'soak-server.log'), { flags: 'a' });
  const port = await fixedPort(); // kept across kill -9 restarts
  const t0 = Date.now();
  const deadline = t0 + DURATION_MS;
  console.log(
    `soak: ${DURATION_MS / 1000} s, kill -9 every ${KILL_EVERY_MS / 1000 || '∞'} s, ~${RATE} req/s, ${WORKERS} workers, data ${dataDir}`,
  );

  server = await startServer(dataDir, port, log);
  serverUp = true;
  let life = 1;
  /** When each process lifetime began (ms since t0). */
  const lifeStart: number[] = [0, server.started - t0];
  const sampler = setInterval(() => {
    if (!server || !serverUp || server.child.pid === undefined) return;
    const mb = rssMb(server.child.pid);
    if (mb !== undefined) rss.push({ t: Math.round((Date.now() - t0) / 1000), life, mb: Math.round(mb * 10) / 10 });
  }, 5000);

  const killer = (async () => {
    if (KILL_EVERY_MS <= 0) return;
    for (let next = t0 + KILL_EVERY_MS; next < deadline - 5000; next += KILL_EVERY_MS) {
      await sleep(next - Date.now());
      if (!server) return;
      // Killed while requests are in flight: their answers are lost, and their clients retry.
      const exited = new Promise((resolve) => server!.child.once('exit', resolve));
      server.child.kill('SIGKILL');
      serverUp = false;
      await Promise.race([exited, sleep(10_000)]);
      kills++;
      const integrity = integrityCheck(path.join(dataDir, 'oauth.sqlite'));
      if (integrity !== 'ok') {
        integrityFailures++;
        problem(`integrity check after kill ${kills}: ${integrity}`);
      }
      server = await startServer(dataDir, port, log);
      life++;
      lifeStart[life] = server.started - t0;
      serverUp = true;
      process.stdout.write(
        `  ${Math.round((Date.now() - t0) / 1000)} s: kill ${kills}, integrity ${integrity}, restarted; ${links.length} links live\n`,
      );
    }
  })();

  const perWorkerDelayMs = (1000 * WORKERS) / RATE;
  await Promise.all([...Array.from({ length: WORKERS }, () => worker(deadline, perWorkerDelayMs)), killer]);
  clearInterval(sampler);

  // Settle: retry every lost answer, then check every link end to end.
  for (const l of links) if (l.lostRefresh) await refreshLink(l);
  let lost = 0;
  let accessChecked = 0;
  for (const l of [...links]) {
    for (const token of l.access) {
      const res = await post('/alexa/introspect', { token }, { authorization: RS_AUTH }, 'final introspect');
      accessChecked++;
      if (!(res.status === 200 && res.body?.active === true)) {
        lost++;
        problem(`link ${l.id}: access token lost (${res.status} ${JSON.stringify(res.body)})`);
      }
    }
    const res = await post(
      '/alexa/token',
      { grant_type: 'refresh_token', refresh_token: l.refresh },
      { authorization: ALEXA_AUTH, 'x-forwarded-for': l.ip },
      'final refresh',
    );
    if (res.status !== 200) {
      lost++;
      problem(`link ${l.id}: refresh token lost (${res.status} ${JSON.stringify(res.body)})`);
    }
  }
  const unlinkedByRefresh = problems.filter((p) => /refresh answered/.test(p)).length;
  lost += unlinkedByRefresh;

  const finalHealth = await fetch(`${server.url}/health`).then(
    (r) => r.status,
    () => 0,
  );
  server.child.kill('SIGTERM');
  await Promise.race([new Promise((resolve) => server!.child.once('exit', resolve)), sleep(15_000)]);
  log.end();

  // RSS: compare the steady state of the first and the last process lifetimes (the first 15 s are warm-up),
  // and within a lifetime its first and last third.
  const steady = rss.filter((s) => {
    const start = lifeStart[s.life];
    return start !== undefined && s.t * 1000 - start >= 15_000;
  });
  const lives = [...new Set(steady.map((s) => s.life))];
  const maxOf = (life: number) => Math.max(...steady.filter((s) => s.life === life).map((s) => s.mb));
  const [firstLifeId] = lives;
  const lastLifeId = lives.at(-1);
  const firstLife = firstLifeId === undefined ? NaN : maxOf(firstLifeId);
  const lastLife = lastLifeId === undefined ? NaN : maxOf(lastLifeId);
  const within = steady.filter((s) => s.life === lastLifeId);
  const third = Math.max(1, Math.floor(within.length / 3));
  const avg = (xs: typeof rss) => xs.reduce((a, s) => a + s.mb, 0) / Math.max(1, xs.length);
  const withinGrowth = within.length >= 6 ? avg(within.slice(-third)) - avg(within.slice(0, third)) : 0;
  const rssGrew = lastLife - firstLife > 40 || withinGrowth > 40;

  const total = Object.values(served).reduce((a, b) => a + b, 0);
  const report = {
    durationS: Math.round((Date.now() - t0) / 1000),
    kills,
    requestsServed: total,
    requestsPerSecond: Math.round(total / ((Date.now() - t0) / 1000)),
    servedByKind: Object.fromEntries(Object.entries(served).sort()),
    errorsByKind: Object.fromEntries(Object.entries(errors).sort()),
    linksAtEnd: links.length,
    linksRevoked: revoked,
    lostAnswersRetriedSuccessfully: lostResponsesRetried,
    accessTokensVerifiedAtEnd: accessChecked,
    tokensLost: lost,
    integrityFailures,
    finalHealth,
    rssMb: {
      samples: rss,
      firstLifetimeMax: firstLife,
      lastLifetimeMax: lastLife,
      growthWithinLastLifetime: Math.round(withinGrowth * 10) / 10,
    },
    problems,
    dataDir,
  };
  if (env.SOAK_REPORT) writeFileSync(env.SOAK_REPORT, JSON.stringify(report, null, 2));

  console.log('\n==== soak report ====');
  console.log(`duration ${report.durationS} s, ${kills} kill -9 + restart, ${total} requests served (${report.requestsPerSecond}/s)`);
  console.log('served by kind:');
  for (const [k, v] of Object.entries(report.servedByKind)) console.log(`  ${k.padEnd(40)} ${v}`);
  console.log('errors by kind:');
  for (const [k, v] of Object.entries(report.errorsByKind)) console.log(`  ${k.padEnd(60)} ${v}`);
  console.log(`RSS over time (MB, t s / process lifetime): ${rss.map((s) => `${s.t}s/${s.life}:${s.mb}`).join(' ')}`);
  console.log(
    `RSS: first lifetime max ${firstLife} MB, last lifetime max ${lastLife} MB, growth within the last lifetime ${report.rssMb.growthWithinLastLifetime} MB -> ${rssGrew ? 'GROWTH' : 'no growth'}`,
  );
  console.log(
    `links at end ${links.length}, revoked ${revoked}, lost answers retried successfully ${lostResponsesRetried}, access tokens verified ${accessChecked}`,
  );
  console.log(`integrity check failures: ${integrityFailures}; final /health ${finalHealth}`);
  console.log(`TOKENS LOST: ${lost}`);
  if (problems.length) console.log(`problems:\n  ${problems.join('\n  ')}`);
  const failed = lost > 0 || integrityFailures > 0 || problems.length > 0 || rssGrew || finalHealth !== 200;
  console.log(failed ? 'SOAK FAILED' : 'SOAK PASSED');
  process.exit(failed ? 1 : 0);
}

main().catch((err) => {
  console.error(`soak crashed: ${err instanceof Error ? err.stack : String(err)}`);
  server?.child.kill('SIGKILL');
  process.exit(2);
});
