/**
 * A JSON-lines file in DATA_DIR, bounded without cron, by size and by age: when <name>.jsonl reaches maxBytes it
 * rotates (<name>1.jsonl ... <name><maxFiles-1>.jsonl, newest first, the oldest dropped); at start-up and every
 * hour, entries older than maxAge are pruned from every file. Appends, rotations and pruning run one after
 * another on a single queue, so pruning never races a write (winston's File transport rotates only by size, and
 * rewriting a file it holds open would race its buffered writes). The flow trace and the security events are
 * two of these, each with its own bounds.
 */
import {
  appendFileSync,
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fstatSync,
  openSync,
  readSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { findLine } from './jsonl-lines';
import { Logger } from './logger';

export interface PruneResult {
  removedEntries: number;
  removedFiles: number;
}

export interface JsonlLimits {
  maxBytes: number;
  /** Files kept in all, the live one included. */
  maxFiles: number;
  maxAgeMs: number;
}

export interface JsonlFile {
  /** Queues complete lines (each ending in \n). */
  append(lines: string[]): void;
  flush(): Promise<void>;
  prune(): Promise<PruneResult>;
  close(): Promise<void>;
}

const PRUNE_INTERVAL_MS = 3600 * 1000;

/** The files of `name` in dataDir, newest first: <name>.jsonl, <name>1.jsonl, <name>2.jsonl, ... */
export function jsonlFiles(dataDir: string, name: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return [];
  }
  const prefix = `${name}`;
  return names
    .map((file) => {
      if (!file.startsWith(prefix) || !file.endsWith('.jsonl')) return undefined;
      const n = file.slice(prefix.length, -'.jsonl'.length);
      return /^\d*$/.test(n) ? { file, n: Number(n || 0) } : undefined;
    })
    .filter((f): f is { file: string; n: number } => f !== undefined)
    .sort((a, b) => a.n - b.n)
    .map((f) => path.join(dataDir, f.file));
}

function entryTime(line: string): number {
  try {
    return Date.parse((JSON.parse(line) as { ts?: string }).ts ?? '');
  } catch {
    return NaN;
  }
}

/** Whether the file's last byte is not a newline (false for a missing or empty file). */
function endsMidLine(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const { size } = fstatSync(fd);
    const last = Buffer.alloc(1);
    return size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function createJsonlFile(dataDir: string, name: string, log: Logger, limits: JsonlLimits, now: () => number): JsonlFile {
  const maxFiles = Math.max(1, limits.maxFiles);
  const numbered = (n: number) => path.join(dataDir, n === 0 ? `${name}.jsonl` : `${name}${n}.jsonl`);
  const file = numbered(0);
  let size = existsSync(file) ? statSync(file).size : 0;
  let pending: string[] = [];
  let scheduled = false;
  let closed = false;
  let failing = false;
  /** The file may end in a partial line: after a failed append, or a kill -9 or power cut during one. */
  let midLine = endsMidLine(file);
  let queue: Promise<unknown> = Promise.resolve();

  // Diagnostic files: a full disk must not take the OAuth server down with them.
  const failed = (err: unknown) => {
    if (!failing) log.warn(`${name} cannot be written`, { error: String(err) });
    failing = true;
    midLine = true;
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
        await rename(numbered(n - 1), numbered(n)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      }
    }
    size = 0;
  }

  /**
   * Writes what was queued: the lines of one turn of the event loop together, once that turn's requests have been
   * answered, appended synchronously. A few KB into the page cache cost the event loop less than the thread pool's
   * open, write and close with their promises (5% of a refresh's CPU, docs/benchmark.md), and SQLite's commits
   * already write to the same disk from this thread.
   */
  async function write(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    scheduled = false;
    const lines = pending;
    pending = [];
    if (lines.length === 0) return;
    // Start on a fresh line after a partial one, so the damage stays one unreadable line instead of swallowing
    // this entry too (readers skip blank lines).
    const data = (midLine ? '\n' : '') + lines.join('');
    appendFileSync(file, data, 'utf8');
    failing = false;
    midLine = false;
    size += Buffer.byteLength(data);
    if (size >= limits.maxBytes) await rotate();
  }

  async function pruneNow(): Promise<PruneResult> {
    const cutoff = now() - limits.maxAgeMs;
    const result: PruneResult = { removedEntries: 0, removedFiles: 0 };
    for (const f of jsonlFiles(dataDir, name)) {
      const info = await stat(f).catch(() => undefined);
      if (!info) continue;
      // Nothing was written to a file since its mtime: one last written before the cutoff holds older entries
      // only. In another, entries are in time order: the older ones are the lines before the first one inside
      // the window, and a file that starts inside it is left as it is after reading its first line.
      const allOlder = info.mtimeMs < cutoff;
      let older = 0;
      const inside = await findLine(f, (line) => {
        if (!allOlder && entryTime(line) >= cutoff) return true;
        older++;
        return false;
      });
      if (allOlder) {
        await unlink(f);
        result.removedFiles++;
        result.removedEntries += older;
        if (f === file) {
          size = 0;
          midLine = false;
        }
        continue;
      }
      if (older === 0) continue;
      const tmp = `${f}.tmp`;
      if (inside) await pipeline(createReadStream(f, { start: inside.start }), createWriteStream(tmp));
      else await writeFile(tmp, '');
      const keptBytes = (await stat(tmp)).size;
      await rename(tmp, f); // atomic: a reader sees the old or the new file, never half of one
      result.removedEntries += older;
      if (f === file) {
        size = keptBytes;
        midLine = endsMidLine(file); // the tail is kept as it was, a partial last line included
      }
    }
    if (result.removedEntries > 0) log.debug(`${name}: pruned old entries`, { ...result, maxAgeDays: limits.maxAgeMs / 86_400_000 });
    return result;
  }

  const prune = async () => (await enqueue(pruneNow)) ?? { removedEntries: 0, removedFiles: 0 };
  void prune();
  const timer = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
  timer.unref();

  return {
    append(lines) {
      if (closed || lines.length === 0) return;
      pending.push(...lines);
      if (!scheduled) {
        scheduled = true;
        void enqueue(write);
      }
    },
    flush: async () => {
      await enqueue(() => Promise.resolve());
    },
    prune,
    close: async () => {
      clearInterval(timer);
      closed = true;
      await queue;
    },
  };
}
