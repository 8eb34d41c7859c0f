/**
 * Boots the real server on 127.0.0.1 with a random port and a fresh data folder, either in this process
 * (fast, lets a test move the clock) or as a separate `node dist/main.js` process (restarts, signals, logs).
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { validateOptions } from '../../src/config/load-config';
import { Logger, createLogger } from '../../src/log/logger';
import { FlowTraceOptions } from '../../src/log/flow-trace';
import { PasswordCheck } from '../../src/auth/user-authenticator';
import { RateLimitSettings } from '../../src/http/rate-limits';
import { AdminListenOptions } from '../../src/http/admin';
import { RunningServer, start } from '../../src/main';
import { SupervisorApi } from '../../src/ops/notifications';

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
    rateLimits: { windowMs: 60_000, loginFailuresPerIp: 1000, loginFailuresPerUser: 1000, tokenFailuresPerIp: 1000, tokenFailuresPerClient: 1000, ...opts.rateLimits },
    admin: opts.admin,
  });
  return Object.assign(server, { dataDir });
}

export interface ServerProcess {
  url: string;
  port: number;
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

const MAIN = path.join(__dirname, '..', '..', 'dist', 'main.js');

export interface SpawnOptions {
  /** false: resolve once /health answers at all (a server started on a faulty store answers 503). */
  healthy?: boolean;
}

/**
 * Runs the compiled server as its own process; resolves once /health answers 200 (or at all, with healthy: false).
 * The admin listener is off unless `env` sets ADMIN_PORT, so parallel servers never race for its fixed port.
 */
export async function spawnServer(dataDir: string, options?: Record<string, unknown>, env: NodeJS.ProcessEnv = {}, spawnOpts: SpawnOptions = {}): Promise<ServerProcess> {
  if (options) writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(options));
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ADMIN_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${out}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.status === 200 || spawnOpts.healthy === false) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error(`server did not become healthy:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, child, output: () => out, exited };
}

export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

/** Runs `node dist/main.js` on a data folder that makes it exit (bad options); returns its exit code (null if it had to be killed) and output. */
export async function runToExit(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', ADMIN_PORT: 'off', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // A server that starts instead of exiting must not outlive the test: kill it and report "no exit code".
  const guard = setTimeout(() => {
    output += '\n[runToExit: still running after 20 s, killed]';
    child.kill('SIGKILL');
  }, 20_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c, signal) => resolve(signal ? null : c)));
  clearTimeout(guard);
  return { code, output };
}

export interface TraceEntry {
  requestId: string;
  clientRequestId?: string;
  ip?: string;
  step: string;
  outcome: 'ok' | 'error' | 'security';
  clientId?: string;
  redirectUri?: string;
  grantType?: string;
  username?: string;
  grantId?: string;
  error?: string;
  kind?: string;
  cause?: string;
  facts?: Record<string, unknown>;
  detail?: Record<string, unknown>;
}

export function flowTraceText(dataDir: string): string {
  const file = path.join(dataDir, 'flow-trace.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

export function readFlowTrace(dataDir: string): TraceEntry[] {
  return flowTraceText(dataDir)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TraceEntry);
}

/** The trace is written asynchronously after the response: waits (up to 10 s) for an entry matching `match`. */
export async function waitForTrace(dataDir: string, match: (e: TraceEntry) => boolean): Promise<TraceEntry> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = readFlowTrace(dataDir).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching flow-trace entry; trace:\n${flowTraceText(dataDir).slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits (up to 15 s) until the spawned server's output contains `text`. */
export async function waitForOutput(server: ServerProcess, text: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!server.output().includes(text)) {
    if (Date.now() > deadline) throw new Error(`output never contained ${JSON.stringify(text)}:\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
