/**
 * Processes the bench starts (servers, the bare-Express ceiling) and what it reads about them from /proc. Every
 * process and temporary folder is registered and removed however the run ends. Loopback only; ports are chosen
 * by the kernel at run time.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { listeningPorts } from '../tests/helpers/listening-ports';
import { ROOT, sleep } from './settings';

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

function cleanUp(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', cleanUp);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** A fresh folder under the system temp dir, removed when the bench exits; with options.json when given. */
export function tempFolder(label: string, options?: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `maoauth-bench-${label}-`));
  tempDirs.add(dir);
  if (options) fs.writeFileSync(path.join(dir, 'options.json'), JSON.stringify(options));
  return dir;
}

export function removeFolder(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

/** GET on 127.0.0.1: the status (0 when nothing answered) and the start of the body. */
function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        if (body.length < 4096) body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.setTimeout(2000, () => req.destroy());
  });
}

/** A health answer of ours, of 1.0.0 or of the bare-Express app: JSON with status "ok". */
function healthy(answer: { status: number; body: string }): boolean {
  if (answer.status !== 200) return false;
  try {
    return (JSON.parse(answer.body) as { status?: unknown }).status === 'ok';
  } catch {
    return false;
  }
}

export interface Running {
  port: number;
  pid: number;
  url: string;
  /** Spawn to the first 200 from the health path, in ms. */
  startMs: number;
  stop(): Promise<void>;
}

export interface SpawnSpec {
  node?: string;
  args: string[];
  env: Record<string, string>;
  healthPath?: string;
  cwd?: string;
}

/**
 * Spawns a process with PORT=0 and waits (at most 20 s) for the first healthy answer from GET healthPath on one of
 * the ports it listens on (the public listener: the admin page, when it listens too, has no such answer).
 */
export async function spawnUntilHealthy(spec: SpawnSpec): Promise<Running> {
  const healthPath = spec.healthPath ?? '/health';
  const started = process.hrtime.bigint();
  const child = spawn(spec.node ?? process.execPath, spec.args, {
    cwd: spec.cwd ?? ROOT,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', PORT: '0', HOST: '127.0.0.1', ...spec.env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      children.delete(child);
      resolve();
    }),
  );
  const what = `${path.basename(spec.node ?? 'node')} ${spec.args.join(' ')}`;
  const deadline = Date.now() + 20_000;
  /** Listeners that answered something else than health: the admin page. */
  const others = new Set<number>();
  let port = 0;
  while (port === 0) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}: ${stderr}`);
    for (const candidate of child.pid === undefined ? [] : listeningPorts(child.pid)) {
      if (others.has(candidate)) continue;
      const answer = await get(candidate, healthPath);
      if (healthy(answer)) {
        port = candidate;
        break;
      }
      if (answer.status !== 0 && answer.status !== 503) others.add(candidate);
    }
    if (port !== 0) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${what} did not answer 200 on ${healthPath} within 20 s: ${stderr}`);
    }
    await sleep(2);
  }
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (child.pid === undefined) throw new Error(`${what} has no pid`);
  return {
    port,
    pid: child.pid,
    url: `http://127.0.0.1:${port}`,
    startMs,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const outcome = await Promise.race([exited.then(() => 'exited' as const), sleep(15_000).then(() => 'timeout' as const)]);
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        throw new Error(`${what} did not stop within 15 s of SIGTERM`);
      }
    },
  };
}

export interface Memory {
  /** Resident set now (VmRSS), MB. */
  rssMB: number;
  /** Peak resident set since the process started (VmHWM), MB. */
  hwmMB: number;
  /**
   * The private part of the resident set now (RssAnon: heaps, stacks, SQLite's cache), MB. The rest is mostly
   * the node binary's pages (RssFile), shared with every other node process and counted in each one's RSS.
   */
  anonMB: number;
}

export const NO_MEMORY: Memory = { rssMB: NaN, hwmMB: NaN, anonMB: NaN };

export function memory(pid: number): Memory {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMB: kb('VmRSS') / 1024, hwmMB: kb('VmHWM') / 1024, anonMB: kb('RssAnon') / 1024 };
}

/** The larger of two readings, field by field. */
export const maxMemory = (a: Memory, b: Memory): Memory => ({
  rssMB: Math.max(a.rssMB, b.rssMB),
  hwmMB: Math.max(a.hwmMB, b.hwmMB),
  anonMB: Math.max(a.anonMB, b.anonMB),
});

/** USER_HZ: /proc/<pid>/task/<tid>/stat counts CPU time in 1/100 s on Linux. */
const TICKS = 100;

export interface CpuTime {
  /** ms of CPU used so far by the main thread (JavaScript, the synchronous SQLite calls). */
  main: number;
  /** ms used by all threads (plus GC helpers, libuv's pool, ...). */
  all: number;
}

export function cpuMs(pid: number): CpuTime {
  let main = 0;
  let all = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ms = ((Number(f[11]) + Number(f[12])) * 1000) / TICKS;
    all += ms;
    if (tid === String(pid)) main = ms;
  }
  return { main, all };
}

/** The database files (main file, WAL, shared memory) of a data folder, in bytes. */
export function dbBytes(dataDir: string, file = 'oauth.sqlite'): number {
  return ['', '-wal', '-shm'].reduce((sum, suffix) => {
    try {
      return sum + fs.statSync(path.join(dataDir, file + suffix)).size;
    } catch {
      return sum;
    }
  }, 0);
}
