/**
 * Fault injection for the reliability tests: reading the database behind the server's back, mounting a small
 * tmpfs (a disk that fills up), immutable files (a read-only folder, even for root), killing and restarting the
 * spawned server. Everything is bounded in time; nothing listens beyond 127.0.0.1.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sqlAll } from '../helpers/sqlite';
import { ServerProcess, killServer } from '../helpers/test-server';

export { eventually, sleep } from '../helpers/wait';

/** Resolves with the promise's value, or `fallback` after ms; the timer never outlives the call. */
export async function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<F>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export interface Health {
  status: number;
  body: { status: string; store: string; store_fault?: string; [k: string]: unknown };
}

export async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: (await res.json()) as Health['body'] };
}

export { sqlAll };

/** All live records under a prefix (grant:, token:, code:), parsed; T is the shape the caller reads of them. */
export function records<T>(file: string, prefix: string): Map<string, T> {
  const rows = sqlAll(file, `SELECT key, value FROM kv WHERE key LIKE '${prefix}:%' AND (expires IS NULL OR expires > ${Date.now()})`);
  return new Map(rows.map((r) => [String(r.key).slice(`${prefix}:`.length), (JSON.parse(String(r.value)) as { value: T }).value]));
}

export async function stopGracefully(proc: ServerProcess | undefined): Promise<void> {
  if (!proc || proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const done = await within(
    proc.exited.then(() => true),
    15_000,
    false,
  );
  if (!done) await killServer(proc);
}

/** A tmpfs of `size` (e.g. '4m') under /tmp, or undefined when this machine does not allow mounting. */
export function mountTmpfs(size: string): { dir: string; unmount(): void } | undefined {
  const dir = mkdtempSync(path.join(tmpdir(), 'maoauth-tmpfs-'));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { stdio: 'ignore' });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  return {
    dir,
    unmount() {
      spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** chattr +i / -i: makes paths immutable even for root. Returns false where the filesystem does not support it. */
export function setImmutable(paths: string[], on: boolean): boolean {
  const r = spawnSync('chattr', [on ? '+i' : '-i', ...paths], { stdio: 'ignore' });
  return r.status === 0;
}

export function chattrWorks(dir: string): boolean {
  if (!setImmutable([dir], true)) return false;
  setImmutable([dir], false);
  return true;
}

/** PRAGMA integrity_check with the sqlite3 command-line shell, as an operator would run it. */
export function integrityCheckCli(file: string): string {
  return execFileSync('sqlite3', [file, 'PRAGMA integrity_check;'], { encoding: 'utf8', timeout: 30_000 }).trim();
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
