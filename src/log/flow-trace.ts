/**
 * The flow trace: one structured entry per step of a link (authorize, login, consent, token, ...), written as
 * JSON lines to DATA_DIR/flow-trace.jsonl and summarised in the add-on log. It replaces the predecessor's
 * oauth_debug.log: failures carry their precise cause, secrets only fingerprints.
 *
 * Bounded without cron, by size and by age: when the file reaches maxBytes it rotates (flow-trace1.jsonl ...
 * flow-trace<maxFiles-1>.jsonl, newest first, the oldest dropped); at start-up and every hour, entries older
 * than maxAge are pruned from every file. Appends, rotations and pruning run one after another on a single
 * queue, so pruning never races a write (winston's File transport rotates only by size, and rewriting a file it
 * holds open would race its buffered writes).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { appendFile, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Logger } from './logger';
import { redact } from './redact';

export type FlowStep = 'authorize' | 'login' | 'consent' | 'token' | 'revoke' | 'introspect' | 'admin';
export type FlowOutcome = 'ok' | 'error' | 'security';

export interface FlowEvent {
  requestId: string;
  step: FlowStep;
  outcome: FlowOutcome;
  clientId?: string;
  redirectUri?: string;
  grantType?: string;
  username?: string;
  grantId?: string;
  ip?: string;
  /** RFC error code sent to the client. */
  error?: string;
  /** Failure kind, e.g. redirect_uri_mismatch, pkce_mismatch, code_expired. */
  kind?: string;
  /** The precise cause and fix, for the operator. */
  cause?: string;
  detail?: Record<string, unknown>;
}

/** An event as written: redacted, with its timestamp (ISO 8601). */
export type FlowEntry = FlowEvent & { ts: string };

export interface PruneResult {
  removedEntries: number;
  removedFiles: number;
}

export interface FlowTrace {
  record(event: FlowEvent): void;
  /** Resolves once every entry recorded so far is in the file (readers call this before reading). */
  flush(): Promise<void>;
  /** Drops entries older than maxAge from every file now (also runs at start-up and hourly). */
  prune(): Promise<PruneResult>;
  /** Called with each entry as it is recorded (metrics); returns the unsubscribe function. */
  subscribe(listener: (entry: FlowEntry) => void): () => void;
  close(): Promise<void>;
}

export const FLOW_TRACE_FILE = 'flow-trace.jsonl';

export const TRACE_LIMITS = {
  maxBytes: 2 * 1024 * 1024,
  maxFiles: 5,
  maxAgeMs: 30 * 24 * 3600 * 1000,
};

const PRUNE_INTERVAL_MS = 3600 * 1000;

export interface FlowTraceOptions {
  maxBytes?: number;
  /** Files kept in all, the live one included. */
  maxFiles?: number;
  maxAgeMs?: number;
  now?: () => number;
}

const ROTATED = /^flow-trace(\d*)\.jsonl$/;

/** The trace files in dataDir, newest first: flow-trace.jsonl, flow-trace1.jsonl, flow-trace2.jsonl, ... */
export function traceFiles(dataDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return [];
  }
  return names
    .map((name) => ({ name, m: ROTATED.exec(name) }))
    .filter((f): f is { name: string; m: RegExpExecArray } => f.m !== null)
    .sort((a, b) => Number(a.m[1] || 0) - Number(b.m[1] || 0))
    .map((f) => path.join(dataDir, f.name));
}

function numbered(dataDir: string, n: number): string {
  return path.join(dataDir, n === 0 ? FLOW_TRACE_FILE : `flow-trace${n}.jsonl`);
}

function entryTime(line: string): number {
  try {
    return Date.parse((JSON.parse(line) as { ts?: string }).ts ?? '');
  } catch {
    return NaN;
  }
}

export function createFlowTrace(dataDir: string, log: Logger, opts: FlowTraceOptions = {}): FlowTrace {
  const maxBytes = opts.maxBytes ?? TRACE_LIMITS.maxBytes;
  const maxFiles = Math.max(1, opts.maxFiles ?? TRACE_LIMITS.maxFiles);
  const maxAgeMs = opts.maxAgeMs ?? TRACE_LIMITS.maxAgeMs;
  const now = opts.now ?? Date.now;
  const file = numbered(dataDir, 0);
  let size = existsSync(file) ? statSync(file).size : 0;
  let pending: string[] = [];
  let scheduled = false;
  let closed = false;
  let failing = false;
  let queue: Promise<unknown> = Promise.resolve();
  const listeners = new Set<(entry: FlowEntry) => void>();

  // The trace is diagnostic: a full disk must not take the OAuth server down with it.
  const failed = (err: unknown) => {
    if (!failing) log.warn('flow trace cannot be written', { error: String(err) });
    failing = true;
  };
  function enqueue<T>(op: () => Promise<T>): Promise<T | undefined> {
    const next = queue.then(op).catch((err) => {
      failed(err);
      return undefined;
    });
    queue = next;
    return next;
  }

  async function rotate(): Promise<void> {
    if (maxFiles === 1) {
      await unlink(file).catch(() => undefined);
    } else {
      for (let n = maxFiles - 1; n >= 1; n--) {
        await rename(numbered(dataDir, n - 1), numbered(dataDir, n)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
    }
    size = 0;
  }

  async function write(): Promise<void> {
    scheduled = false;
    const lines = pending;
    pending = [];
    if (lines.length === 0) return;
    // After a failed append (e.g. a full disk) the file may end in a partial line: start on a fresh one, so the
    // damage stays one unreadable line instead of swallowing this entry too (readers skip blank lines).
    const data = (failing ? '\n' : '') + lines.join('');
    await appendFile(file, data, 'utf8');
    failing = false;
    size += Buffer.byteLength(data);
    if (size >= maxBytes) await rotate();
  }

  async function pruneNow(): Promise<PruneResult> {
    const cutoff = now() - maxAgeMs;
    const result: PruneResult = { removedEntries: 0, removedFiles: 0 };
    for (const f of traceFiles(dataDir)) {
      const info = await stat(f).catch(() => undefined);
      if (!info) continue;
      if (info.mtimeMs < cutoff) {
        // Nothing was written to it since the cutoff: every entry in it is older.
        const lines = (await readFile(f, 'utf8')).split('\n').filter((l) => l.trim() !== '').length;
        await unlink(f);
        result.removedFiles++;
        result.removedEntries += lines;
        if (f === file) size = 0;
        continue;
      }
      const text = await readFile(f, 'utf8');
      const lines = text.split('\n').filter((l) => l.trim() !== '');
      // Entries are in time order: keep everything from the first one inside the window.
      let keepFrom = 0;
      while (keepFrom < lines.length && !(entryTime(lines[keepFrom]) >= cutoff)) keepFrom++;
      if (keepFrom === 0) continue;
      const kept = lines.slice(keepFrom).map((l) => `${l}\n`).join('');
      const tmp = `${f}.tmp`;
      await writeFile(tmp, kept, 'utf8');
      await rename(tmp, f); // atomic: a reader sees the old or the new file, never half of one
      result.removedEntries += keepFrom;
      if (f === file) size = Buffer.byteLength(kept);
    }
    if (result.removedEntries > 0) log.debug('flow trace: pruned old entries', { ...result, maxAgeDays: maxAgeMs / 86_400_000 });
    return result;
  }

  const prune = async () => (await enqueue(pruneNow)) ?? { removedEntries: 0, removedFiles: 0 };
  void prune();
  const timer = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
  timer.unref();

  return {
    record(event) {
      const entry = redact({ ts: new Date(now()).toISOString(), ...event }) as FlowEntry;
      if (!closed) {
        pending.push(`${JSON.stringify(entry)}\n`);
        if (!scheduled) {
          scheduled = true;
          void enqueue(write);
        }
      }
      for (const listener of listeners) {
        try {
          listener(entry);
        } catch (err) {
          log.warn('flow trace listener failed', { error: String(err) });
        }
      }
      const { requestId, step, outcome, clientId, grantType, error, kind, cause, username, grantId } = event;
      const context = { requestId, clientId, grantType, username, grantId, error, kind };
      if (outcome === 'ok') log.info(`${step} ok`, context);
      else if (outcome === 'security') log.warn(`SECURITY ${step}: ${cause ?? error}`, context);
      else log.warn(`${step} failed: ${cause ?? error}`, context);
    },
    flush: async () => {
      await enqueue(async () => undefined);
    },
    prune,
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      clearInterval(timer);
      closed = true;
      await queue;
    },
  };
}
