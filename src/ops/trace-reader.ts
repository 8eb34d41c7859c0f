/**
 * Reading the flow trace and the security events back (Activity page, CLI, diagnose), newest entries first.
 * Entries are made safe again as they are read (safeEntry is idempotent): files written by older versions held
 * request data raw, and whatever is in the file, the page and the terminal get escaped, capped text.
 */
import { statSync } from 'node:fs';
import { FlowEntry, linkEventFiles, securityEventFiles, traceFiles } from '../log/flow-trace';
import { findLine, linesFromEnd } from '../log/jsonl-lines';
import { requestsIn, safeEntry } from '../log/trace-policy';

export interface TraceQuery {
  /** Only entries at or after this time (ms). */
  since?: number;
  /** Only failures (outcome error or security). */
  failuresOnly?: boolean;
  /** At most this many entries (newest first). */
  limit?: number;
}

/** The line's entry, made safe; undefined for a line being written right now or a damaged one. */
function parseEntry(line: string): FlowEntry | undefined {
  try {
    const entry = JSON.parse(line) as FlowEntry;
    if (entry && typeof entry.ts === 'string' && typeof entry.step === 'string' && typeof entry.outcome === 'string')
      return safeEntry(entry);
  } catch {
    /* skipped */
  }
  return undefined;
}

export const isFailure = (e: { outcome: string }) => e.outcome === 'error' || e.outcome === 'security';

/** Entries matching the query, newest first. Files are read newest first and reading stops once enough are found. */
export function readTrace(dataDir: string, query: TraceQuery = {}): Promise<FlowEntry[]> {
  return readFiles(traceFiles(dataDir), query);
}

/** The security events matching the query, newest first. */
export function readSecurityEvents(dataDir: string, query: TraceQuery = {}): Promise<FlowEntry[]> {
  return readFiles(securityEventFiles(dataDir), query);
}

/** The security events and the link events (each kept apart from the trace), newest first, each entry once. */
async function readKept(dataDir: string, query: TraceQuery): Promise<FlowEntry[]> {
  const security = await readSecurityEvents(dataDir, query);
  const seen = new Set(security.map(identity));
  const links = (await readFiles(linkEventFiles(dataDir), query)).filter((e) => !seen.has(identity(e)));
  return [...security, ...links].sort(newestFirst);
}

const newestFirst = (a: FlowEntry, b: FlowEntry) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0);

const identity = (e: FlowEntry) => `${e.ts}|${e.requestId}|${e.step}|${e.outcome}|${e.kind ?? ''}|${e.grantId ?? ''}`;

/**
 * The trace, the security events and the link events together, newest first, each entry once (a kept entry is in
 * the trace too until a flood rotates it out; then only its own file still has it). At most `limit` entries, of
 * which up to half are kept for the newest security and link events: however many failures a flood wrote since,
 * a recorded code replay and the owner's last links stay in the list (Activity, `oauth-admin activity`).
 */
export async function readActivity(dataDir: string, query: TraceQuery = {}): Promise<FlowEntry[]> {
  const kept = await readKept(dataDir, query);
  const keptIds = new Set(kept.map(identity));
  const others = (await readTrace(dataDir, query)).filter((e) => !keptIds.has(identity(e)));
  const limit = query.limit ?? Infinity;
  if (kept.length + others.length <= limit) return [...kept, ...others].sort(newestFirst);
  const reserved = kept.slice(0, Math.floor(limit / 2));
  const rest = [...kept.slice(reserved.length), ...others].sort(newestFirst).slice(0, limit - reserved.length);
  return [...reserved, ...rest].sort(newestFirst);
}

/**
 * Visits the files' entries newest first, each file read from its end: up to the first entry before `since`, or
 * until `visit` says enough.
 */
async function eachEntry(files: string[], since: number | undefined, visit: (e: FlowEntry) => 'more' | 'enough'): Promise<void> {
  for (const file of files) {
    try {
      for await (const line of linesFromEnd(file)) {
        const e = parseEntry(line);
        if (!e) continue;
        if (since !== undefined && Date.parse(e.ts) < since) return;
        if (visit(e) === 'enough') return;
      }
    } catch {
      continue; // rotated away between listing and reading
    }
  }
}

async function readFiles(files: string[], query: TraceQuery): Promise<FlowEntry[]> {
  const out: FlowEntry[] = [];
  const limit = query.limit ?? Infinity;
  await eachEntry(files, query.since, (e) => {
    if (!query.failuresOnly || isFailure(e)) out.push(e);
    return out.length >= limit ? 'enough' : 'more';
  });
  return out;
}

/**
 * Visits the security and link events and the trace's other entries at or after `since`, each once (a kept entry is in
 * both files until a flood rotates it out of the trace), without keeping the trace's: a week of a busy or flooded
 * trace is tens of thousands of entries. Not in time order.
 */
export async function eachActivityEntry(dataDir: string, since: number, visit: (e: FlowEntry) => void): Promise<void> {
  const kept = await readKept(dataDir, { since });
  const seen = new Set(kept.map(identity));
  kept.forEach(visit);
  await eachEntry(traceFiles(dataDir), since, (e) => {
    if (!seen.has(identity(e))) visit(e);
    return 'more';
  });
}

export interface TraceFilesInfo {
  files: number;
  bytes: number;
  oldest?: string;
}

/** The flow trace's size on disk: a stat of each file, for every metrics scrape. */
export function traceBytes(dataDir: string, files = traceFiles(dataDir)): number {
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += statSync(f).size;
    } catch {
      /* rotated away */
    }
  }
  return bytes;
}

/** Files, size and the oldest entry: the first valid line of the oldest file, read up to that line only. */
export async function traceInfo(dataDir: string): Promise<TraceFilesInfo> {
  const files = traceFiles(dataDir);
  const bytes = traceBytes(dataDir, files);
  let first: FlowEntry | undefined;
  for (const f of [...files].reverse()) {
    await findLine(f, (line) => (first = parseEntry(line)) !== undefined).catch(() => undefined); // rotated away
    if (first) return { files: files.length, bytes, oldest: first.ts };
  }
  return { files: files.length, bytes };
}

export interface HourBucket {
  /** Start of the hour, ms. */
  start: number;
  tokens: number;
  failures: number;
}

/** Tokens issued (successful token requests) and failures per hour, oldest hour first, ending with the current one. */
export async function hourlyActivity(dataDir: string, now: number, hours: number): Promise<HourBucket[]> {
  const hour = 3600_000;
  const current = Math.floor(now / hour) * hour;
  const first = current - (hours - 1) * hour;
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({ start: first + i * hour, tokens: 0, failures: 0 }));
  const count = (e: FlowEntry) => {
    const b = buckets[Math.floor((Date.parse(e.ts) - first) / hour)];
    if (b === undefined) return; // after the current hour (a clock set back), or unreadable
    // A summary line of the trace's coalescing stands for the requests it counted.
    if (isFailure(e)) b.failures += requestsIn(e);
    else if (e.step === 'token' && e.outcome === 'ok') b.tokens += requestsIn(e);
  };
  await eachActivityEntry(dataDir, first, count);
  return buckets;
}
