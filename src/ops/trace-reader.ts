/**
 * Reading the flow trace and the security events back (Activity page, CLI, diagnose), newest entries first.
 * Entries are made safe again as they are read (safeEntry is idempotent): files written by older versions held
 * request data raw, and whatever is in the file, the page and the terminal get escaped, capped text.
 */
import { readFileSync, statSync } from 'node:fs';
import { FlowEntry, securityEventFiles, traceFiles } from '../log/flow-trace';
import { safeEntry } from '../log/trace-policy';

export interface TraceQuery {
  /** Only entries at or after this time (ms). */
  since?: number;
  /** Only failures (outcome error or security). */
  failuresOnly?: boolean;
  /** At most this many entries (newest first). */
  limit?: number;
}

function parseLines(text: string): FlowEntry[] {
  const entries: FlowEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const entry = JSON.parse(line) as FlowEntry;
      if (entry && typeof entry.ts === 'string' && typeof entry.step === 'string' && typeof entry.outcome === 'string')
        entries.push(safeEntry(entry));
    } catch {
      // a line being written right now, or a damaged one: skip it
    }
  }
  return entries;
}

export const isFailure = (e: { outcome: string }) => e.outcome === 'error' || e.outcome === 'security';

/** Entries matching the query, newest first. Files are read newest first and reading stops once enough are found. */
export function readTrace(dataDir: string, query: TraceQuery = {}): FlowEntry[] {
  return readFiles(traceFiles(dataDir), query);
}

/** The security events matching the query, newest first. */
export function readSecurityEvents(dataDir: string, query: TraceQuery = {}): FlowEntry[] {
  return readFiles(securityEventFiles(dataDir), query);
}

const identity = (e: FlowEntry) => `${e.ts}|${e.requestId}|${e.step}|${e.outcome}|${e.kind ?? ''}|${e.grantId ?? ''}`;

/**
 * The trace and the security events together, newest first, each entry once (a security event is in both files
 * until a flood rotates the trace; then only the security events still have it). At most `limit` entries, of
 * which up to half are kept for the newest security events: however many failures a flood wrote since, a
 * recorded code replay stays in the list (Activity, `oauth-admin activity --failures`).
 */
export function readActivity(dataDir: string, query: TraceQuery = {}): FlowEntry[] {
  const newestFirst = (a: FlowEntry, b: FlowEntry) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0);
  const security = readSecurityEvents(dataDir, query);
  const securityIds = new Set(security.map(identity));
  const others = readTrace(dataDir, query).filter((e) => !securityIds.has(identity(e)));
  const limit = query.limit ?? Infinity;
  if (security.length + others.length <= limit) return [...security, ...others].sort(newestFirst);
  const reserved = security.slice(0, Math.floor(limit / 2));
  const rest = [...security.slice(reserved.length), ...others].sort(newestFirst).slice(0, limit - reserved.length);
  return [...reserved, ...rest].sort(newestFirst);
}

function readFiles(files: string[], query: TraceQuery): FlowEntry[] {
  const out: FlowEntry[] = [];
  const limit = query.limit ?? Infinity;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // rotated away between listing and reading
    }
    const entries = parseLines(text).reverse();
    let reachedSince = false;
    for (const e of entries) {
      const t = Date.parse(e.ts);
      if (query.since !== undefined && t < query.since) {
        reachedSince = true;
        break;
      }
      if (query.failuresOnly && !isFailure(e)) continue;
      out.push(e);
      if (out.length >= limit) return out;
    }
    if (reachedSince) break;
  }
  return out;
}

export interface TraceFilesInfo {
  files: number;
  bytes: number;
  oldest?: string;
}

export function traceInfo(dataDir: string): TraceFilesInfo {
  const files = traceFiles(dataDir);
  let bytes = 0;
  for (const f of files) {
    try {
      bytes += statSync(f).size;
    } catch {
      /* rotated away */
    }
  }
  let oldest: string | undefined;
  for (const f of [...files].reverse()) {
    try {
      const first = parseLines(readFileSync(f, 'utf8'))[0];
      if (first) {
        oldest = first.ts;
        break;
      }
    } catch {
      /* rotated away */
    }
  }
  return { files: files.length, bytes, oldest };
}

export interface HourBucket {
  /** Start of the hour, ms. */
  start: number;
  tokens: number;
  failures: number;
}

/** Tokens issued (successful token requests) and failures per hour, oldest hour first, ending with the current one. */
export function hourlyActivity(entries: FlowEntry[], now: number, hours: number): HourBucket[] {
  const hour = 3600_000;
  const current = Math.floor(now / hour) * hour;
  const first = current - (hours - 1) * hour;
  const buckets: HourBucket[] = Array.from({ length: hours }, (_, i) => ({ start: first + i * hour, tokens: 0, failures: 0 }));
  for (const e of entries) {
    const t = Date.parse(e.ts);
    if (!(t >= first) || t >= current + hour) continue;
    const b = buckets[Math.floor((t - first) / hour)];
    if (b === undefined) continue;
    if (isFailure(e)) b.failures++;
    else if (e.step === 'token' && e.outcome === 'ok') b.tokens++;
  }
  return buckets;
}
