/**
 * The bench's knobs (environment variables), the options.json the measured servers run with, and the credentials
 * the load generator presents. Defaults are the sizes docs/benchmark.md's figures were made with.
 */
import path from 'node:path';
import { runShNodeFlags } from '../addon/run-sh';

const env = process.env;
const num = (name: string, dflt: number): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}="${raw}" is not a non-negative number`);
  return n;
};
const list = (name: string, dflt: number[]): number[] => {
  const raw = env[name];
  if (!raw) return dflt;
  const values = raw.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isInteger(v) || v < 1))
    throw new Error(`${name}="${raw}" is not a comma-separated list of connection counts`);
  return values;
};

/** The repository root: dist-bench/bench/ when compiled. */
export const ROOT = path.resolve(__dirname, '..', '..');
/** The build under test: its main.js runs as the server, and the fill loads its modules in-process. */
export const DIST = path.resolve(env.BENCH_DIST || path.join(ROOT, 'dist'));
export const MAIN = path.join(DIST, 'main.js');
export const BARE_EXPRESS = path.join(__dirname, 'bare-express.js');

export const SETTINGS = {
  /** Grants in the large store. */
  largeGrants: num('BENCH_GRANTS', 100_000),
  /** Grants in the small store. */
  smallGrants: num('BENCH_SMALL', 100),
  /** Seconds per measured run, and of warm-up before the first run of each endpoint and store. */
  runSeconds: num('BENCH_SECONDS', 6),
  warmupSeconds: num('BENCH_WARMUP', 1.5),
  /** Cold starts per folder (the median is reported). */
  starts: Math.max(1, num('BENCH_STARTS', 5)),
  /** Measured runs per endpoint, store and connection count; the best is kept. */
  repeat: Math.max(1, num('BENCH_REPEAT', 2)),
  /** Connection counts measured (the targets are at 16). */
  connections: list('BENCH_CONNECTIONS', [16]),
  /** Codes issued per second of a code-exchange run (more than the server can redeem, so the pool does not run dry). */
  codeRate: num('BENCH_CODE_RATE', 1500),
  /** Node options for our server; by default those run.sh starts the add-on with. */
  nodeFlags:
    env.BENCH_NODE_FLAGS === undefined ? runShNodeFlags(path.join(ROOT, 'run.sh')) : env.BENCH_NODE_FLAGS.split(' ').filter(Boolean),
  cpuProfileDir: env.BENCH_CPU_PROF ? path.resolve(env.BENCH_CPU_PROF) : undefined,
  out: path.resolve(env.BENCH_OUT || path.join(ROOT, 'bench', 'results.json')),
  /** Hard bound on the whole run. */
  deadlineSeconds: num('BENCH_DEADLINE_S', 1500),
  /** Another build to compare (its folder, with dist/main.js), the node binary it runs on, and the grants filled over HTTP. */
  baseline: env.BENCH_BASELINE ? path.resolve(env.BENCH_BASELINE) : undefined,
  baselineNode: env.BENCH_BASELINE_NODE || process.execPath,
  baselineGrants: num('BENCH_BASELINE_GRANTS', num('BENCH_SMALL', 100)),
  /** 0 skips the Authorization-header figures (in-process parse and over HTTP). */
  hostile: num('BENCH_HOSTILE', 1) > 0,
};

export const CLIENT = { id: 'amazon-alexa', secret: 'alexa-console-secret-0123456789abcdef' };
export const RESOURCE_SERVER = { id: 'music-assistant', secret: 'resource-server-secret-0123456789' };
export const OWNER = { username: 'owner', password: 'correct horse battery staple' };
export const REDIRECT = 'https://layla.amazon.com/api/skill/link/M2BENCHVENDOR';
export const SCOPES = ['music.read', 'music.control'];

/**
 * What the add-on ships with (config.yaml defaults), plus a resource server and the longest code lifetime (the
 * code pools are issued before the server starts). Only keys 1.0.0 knows too, so the baseline reads the same file.
 */
export function serverOptions(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    users: [OWNER],
    clients: [
      {
        client_id: CLIENT.id,
        client_type: 'confidential',
        client_secret: CLIENT.secret,
        // The bench's codes are issued for the first one.
        redirect_uris: [
          REDIRECT,
          'https://pitangui.amazon.com/api/skill/link/M2BENCHVENDOR',
          'https://alexa.amazon.co.jp/api/skill/link/M2BENCHVENDOR',
        ],
        scopes: SCOPES,
      },
    ],
    access_token_lifetime: 3600,
    auth_code_lifetime: 600,
    trusted_proxies: [],
    log_level: 'info',
    resource_servers: [RESOURCE_SERVER],
    ...extra,
  };
}

export const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
export const FORM = 'application/x-www-form-urlencoded';
export const CLIENT_HEADERS = { authorization: basic(CLIENT.id, CLIENT.secret), 'content-type': FORM };
export const RS_HEADERS = { authorization: basic(RESOURCE_SERVER.id, RESOURCE_SERVER.secret), 'content-type': FORM };
export const form = (fields: Record<string, string>): string => new URLSearchParams(fields).toString();

/** A GET answered without touching the store: what connections send after a run's deadline while the last measured answers come in. */
export const DRAIN_PATH = '/.well-known/oauth-authorization-server';

const startedAt = Date.now();
export const DEADLINE = startedAt + SETTINGS.deadlineSeconds * 1000;
export function checkDeadline(what: string): void {
  if (Date.now() > DEADLINE) throw new Error(`bench exceeded its ${SETTINGS.deadlineSeconds} s bound (BENCH_DEADLINE_S) before ${what}`);
}

export const log = (msg: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
};
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
