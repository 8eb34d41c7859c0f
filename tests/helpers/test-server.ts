/**
 * Boots the real server on 127.0.0.1 with a fresh data folder, either in this process (fast, lets a test move the
 * clock) or as a separate `node dist/main.js` process (restarts, signals, logs). Either way the server binds port 0
 * itself and the test reads the port it got: no port is chosen first and bound later by someone else.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateOptions } from '../../src/config/load-config';
import { Logger, createLogger } from '../../src/log/logger';
import { FlowEntry, FlowTraceOptions } from '../../src/log/flow-trace';
import { PasswordCheck } from '../../src/auth/user-authenticator';
import { RateLimitSettings } from '../../src/http/rate-limits';
import { ConnectionLimits } from '../../src/http/connection-limits';
import { AdminListenOptions } from '../../src/http/admin';
import { RunningServer, start } from '../../src/main';
import { SupervisorApi } from '../../src/ops/notifications';
import { listeningPorts } from './listening-ports';
import { eventually } from './wait';
import { defined } from './defined';

export const ALEXA_REDIRECT = 'https://layla.amazon.com/api/skill/link/M2TESTVENDOR';
export const CLIENT_SECRET = 'alexa-console-secret-0123456789abcdef';
export const OWNER = { username: 'owner', password: 'correct horse battery staple' };
export const RESOURCE_SERVER = { id: 'music-assistant', secret: 'resource-server-secret-0123456789' };

export function testOptions(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    users: [OWNER],
    clients: [
      {
        client_id: 'amazon-alexa',
        client_type: 'confidential',
        client_secret: CLIENT_SECRET,
        redirect_uris: [
          'https://pitangui.amazon.com/api/skill/link/M2TESTVENDOR',
          ALEXA_REDIRECT,
          'https://alexa.amazon.co.jp/api/skill/link/M2TESTVENDOR',
        ],
        scopes: ['music.read', 'music.control'],
      },
      {
        client_id: 'public-app',
        client_type: 'public',
        redirect_uris: ['https://app.example.com/callback'],
        scopes: ['music.read'],
      },
    ],
    access_token_lifetime: 3600,
    auth_code_lifetime: 300,
    trusted_proxies: [],
    log_level: 'warn',
    resource_servers: [RESOURCE_SERVER],
    ...overrides,
  };
}

export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'maoauth-test-'));
}

export interface InProcessOptions {
  options?: Record<string, unknown>;
  dataDir?: string;
  rateLimits?: Partial<RateLimitSettings>;
  now?: () => number;
  /** The admin listener; off unless given. */
  admin?: AdminListenOptions;
  /** As under the Supervisor: Home Assistant notifications go to this stand-in. */
  supervisor?: SupervisorApi;
  /** Home Assistant's password check (a stand-in); off unless given. */
  homeAssistantAuth?: PasswordCheck;
  /** Listening address; 127.0.0.1 unless given (e.g. '::' for a dual-stack listener). */
  host?: string;
  trace?: FlowTraceOptions;
  /** Defaults to a silent logger. */
  log?: Logger;
  /** Overrides of the connection limits (src/http/connection-limits.ts). */
  connections?: Partial<ConnectionLimits>;
}

export async function startInProcess(opts: InProcessOptions = {}): Promise<RunningServer & { dataDir: string }> {
  const dataDir = opts.dataDir ?? tempDataDir();
  const { config } = validateOptions(opts.options ?? testOptions(), 'fix the test options');
  const server = await start({
    config,
    dataDir,
    port: 0,
    host: opts.host ?? '127.0.0.1',
    log: opts.log ?? createLogger('error', true),
    now: opts.now,
    supervisor: opts.supervisor,
    homeAssistantAuth: opts.homeAssistantAuth,
    trace: opts.trace,
    rateLimits: {
      windowMs: 60_000,
      loginFailuresPerIp: 1000,
      loginFailuresPerUser: 1000,
      tokenFailuresPerIp: 1000,
      tokenFailuresPerClient: 1000,
      ...opts.rateLimits,
    },
    admin: opts.admin,
    connections: opts.connections,
  });
  return Object.assign(server, { dataDir });
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code once the process is gone and its output pipes are closed. */
  exited: Promise<number | null>;
}

const MAIN = path.join(__dirname, '..', '..', 'dist', 'main.js');

export interface SpawnOptions {
  /** false: resolve once /health answers at all (a server started on a faulty store answers 503). */
  healthy?: boolean;
  /** Another copy of the built server to run (default: this repository's dist/main.js), and node options before it. */
  main?: string;
  nodeArgs?: string[];
}

/**
 * Sends SIGKILL to a server that still runs and waits until it is gone: a test file must not end with a child
 * process (and its pipes) alive, or the Jest worker that ran it cannot exit.
 */
export async function killServer(proc: Pick<ServerProcess, 'child' | 'exited'> | undefined): Promise<void> {
  if (!proc) return;
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  await proc.exited;
}

/**
 * Runs the compiled server as its own process on port 0 (unless `env` sets PORT); resolves once it listens and
 * /health answers 200 (or at all, with healthy: false). The port is read from the process's own listening socket
 * (listeningPorts), whatever its log level. The admin listener is off unless `env` sets ADMIN_PORT (use '0').
 */
export async function spawnServer(
  dataDir: string,
  options?: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  spawnOpts: SpawnOptions = {},
): Promise<ServerProcess> {
  if (options) writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(options));
  const child = spawn(process.execPath, [...(spawnOpts.nodeArgs ?? []), spawnOpts.main ?? MAIN], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let ready: { port: number } | 'exited';
  try {
    ready = await eventually(
      spawnOpts.healthy === false ? 'the server to listen and answer /health' : 'the server to listen and answer /health with 200',
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) return 'exited' as const;
        // The public listener is the one whose /health answers with the store's state (the admin listener has none).
        for (const port of listeningPorts(child.pid!)) {
          const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
          const body = (await res?.json().catch(() => undefined)) as { store?: unknown } | undefined;
          if (res && typeof body?.store === 'string' && (res.status === 200 || spawnOpts.healthy === false)) return { port };
        }
        return undefined;
      },
      15_000,
      50,
    );
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw new Error(`${(err as Error).message}:\n${out}`, { cause: err });
  }
  if (ready === 'exited') throw new Error(`server exited with ${child.exitCode ?? child.signalCode}:\n${out}`);
  return { url: `http://127.0.0.1:${ready.port}`, port: ready.port, child, output: () => out, exited };
}

let nextOffset = Math.floor(Math.random() * 500);

/**
 * A port for a server that must keep it across restarts (s6 restarting the add-on after kill -9), where port 0
 * cannot serve. It lies outside the kernel's ephemeral range (net.ipv4.ip_local_port_range), so no port-0 bind and
 * no outgoing connection on this machine can take it between this check and the server's bind; and each Jest
 * worker draws from its own slice of 500, so parallel test files never pick the same one.
 */
export async function fixedPort(): Promise<number> {
  const ephemeralLow = defined(
    readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number)[0],
    'ip_local_port_range',
  );
  const FIRST = 10_000;
  const SLICE = 500;
  const slices = Math.floor((ephemeralLow - FIRST) / SLICE);
  if (slices < 1) throw new Error(`no room for fixed ports below the ephemeral range (starts at ${ephemeralLow})`);
  const base = FIRST + ((Number(process.env.JEST_WORKER_ID ?? 1) - 1) % slices) * SLICE;
  for (let i = 0; i < SLICE; i++) {
    const port = base + (nextOffset++ % SLICE);
    if (await canBind(port)) return port;
  }
  throw new Error(`every port in ${base}-${base + SLICE - 1} is taken`);
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** Runs `node dist/main.js` on a data folder that makes it exit (bad options); returns its exit code (null if it had to be killed) and output. */
export async function runToExit(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', ADMIN_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  // A server that starts instead of exiting must not outlive the test: kill it and report "no exit code".
  const guard = setTimeout(() => {
    output += '\n[runToExit: still running after 20 s, killed]';
    child.kill('SIGKILL');
  }, 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c, signal) => resolve(signal ? null : c)));
  clearTimeout(guard);
  return { code, output };
}

export function flowTraceText(dataDir: string): string {
  const file = path.join(dataDir, 'flow-trace.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

export function readFlowTrace(dataDir: string): FlowEntry[] {
  return flowTraceText(dataDir)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as FlowEntry);
}

/** The trace is written asynchronously after the response: waits (up to 10 s) for an entry matching `match`. */
export async function waitForTrace(dataDir: string, match: (e: FlowEntry) => boolean): Promise<FlowEntry> {
  try {
    return await eventually('a matching flow-trace entry', () => readFlowTrace(dataDir).find(match), 10_000, 25);
  } catch (err) {
    throw new Error(`${(err as Error).message}; trace:\n${flowTraceText(dataDir).slice(-4000)}`, { cause: err });
  }
}

/** Waits (up to 15 s) until the spawned server's output contains `text`. */
export async function waitForOutput(server: ServerProcess, text: string): Promise<void> {
  try {
    await eventually(`the output to contain ${JSON.stringify(text)}`, () => server.output().includes(text), 15_000, 20);
  } catch (err) {
    throw new Error(`${(err as Error).message}:\n${server.output()}`, { cause: err });
  }
}
