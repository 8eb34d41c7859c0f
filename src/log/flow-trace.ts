/**
 * The flow trace: one structured entry per step of a link (authorize, login, consent, token, ...), written as
 * JSON lines to DATA_DIR/flow-trace.jsonl and summarised in the add-on log. It replaces the predecessor's
 * oauth_debug.log: failures carry their precise cause, secrets only fingerprints, request data capped and escaped.
 *
 * Security events (code replays, refresh-token reuse, lockouts, admin actions...) are also written to
 * DATA_DIR/security-events.jsonl, with bounds of their own, so that a flood of anonymous failures that rotates
 * the general trace away cannot take them along (trace-policy.ts says what each file keeps). Both files are
 * bounded by size and age (jsonl-file.ts). Listeners (metrics, notifications) see every entry, coalesced or not.
 */
import { JsonlLimits, PruneResult, createJsonlFile, jsonlFiles } from './jsonl-file';
import { Logger } from './logger';
import { redact, secretScrubber } from './redact';
import { ROUTINE_SUMMARY_MS, RoutineTally, isRoutine } from './routine-successes';
import {
  COALESCED,
  FlowEntry,
  FlowEvent,
  SecurityEventPolicy,
  TraceCoalescer,
  entryLine,
  isCredentialBacked,
  isSecurityEvent,
  safeEntry,
} from './trace-policy';

export type { FlowEntry, FlowEvent, FlowOutcome, FlowStep } from './trace-policy';
export type { PruneResult } from './jsonl-file';

export interface FlowTrace {
  record(event: FlowEvent): void;
  /** Resolves once every entry recorded so far is in its files (readers call this before reading). */
  flush(): Promise<void>;
  /** Drops entries older than maxAge from every file now (also runs at start-up and hourly). */
  prune(): Promise<PruneResult>;
  /**
   * Called with each event as it is recorded (metrics, notifications): its entry as written, or, for a routine
   * success only counted in the trace, the event itself, neither redacted nor capped (its fields come from an
   * authenticated request): a listener counts what it is told and never writes it out. Returns the unsubscribe
   * function.
   */
  subscribe(listener: (event: FlowEvent) => void): () => void;
  close(): Promise<void>;
}

export const FLOW_TRACE_NAME = 'flow-trace';
export const FLOW_TRACE_FILE = `${FLOW_TRACE_NAME}.jsonl`;
export const SECURITY_EVENTS_NAME = 'security-events';
export const SECURITY_EVENTS_FILE = `${SECURITY_EVENTS_NAME}.jsonl`;

export const TRACE_LIMITS: JsonlLimits = {
  maxBytes: 2 * 1024 * 1024,
  maxFiles: 5,
  maxAgeMs: 30 * 24 * 3600 * 1000,
};

/**
 * 20 MiB for 90 days. The most anonymous clients can add is SECURITY_ANONYMOUS_PER_HOUR entries and one summary
 * an hour, each line at most SECURITY_LINE_BYTES: 5 × 24 × 90 × 1.5 KiB ≈ 15.8 MiB, under the size bound, so
 * such lines leave by age before size rotation could take a recorded replay with them
 * (tests/security/audit-trail.test.ts floods it for 89 simulated days).
 */
export const SECURITY_LIMITS: JsonlLimits = {
  maxBytes: 2 * 1024 * 1024,
  maxFiles: 10,
  maxAgeMs: 90 * 24 * 3600 * 1000,
};
export const SECURITY_LINE_BYTES = 1536;

export const LINK_EVENTS_NAME = 'link-events';
export const LINK_EVENTS_FILE = `${LINK_EVENTS_NAME}.jsonl`;
/** A household's links, logins and Alexa's refresh failures take a few KB a day: 90 days fit many times over. */
export const LINK_EVENTS_LIMITS: JsonlLimits = {
  maxBytes: 1024 * 1024,
  maxFiles: 4,
  maxAgeMs: 90 * 24 * 3600 * 1000,
};

export interface FlowTraceOptions extends Partial<JsonlLimits> {
  now?: () => number;
  security?: Partial<JsonlLimits>;
  links?: Partial<JsonlLimits>;
  /** Failures of one kind from one source written per minute before the rest are counted (default 20). */
  coalesceAfter?: number;
  /** Routine successes of one step and client written per minute before the rest are counted (default 30). */
  routineCoalesceAfter?: number;
  /** How often the add-on log counts the routine successes it does not write one by one (default an hour). */
  routineSummaryMs?: number;
  /** The configured secrets (configuredSecrets): replaced wherever a request put one (secretScrubber). */
  secrets?: readonly string[];
  /** Confidential clients and resource servers: their failures after authenticating are link events. */
  secretHolders?: ReadonlySet<string>;
}

/** The trace files in dataDir, newest first: flow-trace.jsonl, flow-trace1.jsonl, flow-trace2.jsonl, ... */
export const traceFiles = (dataDir: string): string[] => jsonlFiles(dataDir, FLOW_TRACE_NAME);
/** The security-event files, newest first. */
export const securityEventFiles = (dataDir: string): string[] => jsonlFiles(dataDir, SECURITY_EVENTS_NAME);
/** The link-event files (isCredentialBacked), newest first. */
export const linkEventFiles = (dataDir: string): string[] => jsonlFiles(dataDir, LINK_EVENTS_NAME);

const SWEEP_INTERVAL_MS = 60_000;

export function createFlowTrace(dataDir: string, log: Logger, opts: FlowTraceOptions = {}): FlowTrace {
  const now = opts.now ?? Date.now;
  const {
    security,
    links,
    coalesceAfter,
    routineCoalesceAfter,
    routineSummaryMs,
    secrets,
    secretHolders,
    now: _now,
    ...traceLimits
  } = opts;
  const holders = secretHolders ?? new Set<string>();
  const scrub = secretScrubber(secrets ?? []);
  const trace = createJsonlFile(dataDir, FLOW_TRACE_NAME, log, { ...TRACE_LIMITS, ...traceLimits }, now);
  const securityFile = createJsonlFile(dataDir, SECURITY_EVENTS_NAME, log, { ...SECURITY_LIMITS, ...security }, now);
  const linkFile = createJsonlFile(dataDir, LINK_EVENTS_NAME, log, { ...LINK_EVENTS_LIMITS, ...links }, now);
  const coalescer = new TraceCoalescer(now, coalesceAfter, routineCoalesceAfter);
  const policy = new SecurityEventPolicy(now);
  const listeners = new Set<(event: FlowEvent) => void>();
  const routine = new RoutineTally(now);
  let closed = false;

  const logLine = (entry: FlowEntry) => {
    const { requestId, step, outcome, clientId, grantType, error, kind, cause, username, grantId } = entry;
    const context = { requestId, clientId, grantType, username, grantId, error, kind };
    if (outcome === 'security') log.warn(`SECURITY ${step}: ${cause ?? error}`, context);
    else if (outcome !== 'ok') log.warn(`${step} failed: ${cause ?? error}`, context);
    // A summary of routine successes is as routine as they are; one of successes anyone can cause, at info as they
    // are, says how many more came from one source.
    else if (requestId === COALESCED && isRoutine(entry)) log.debug(`${step} ok: ${cause}`, context);
    else if (requestId === COALESCED) log.info(`${step} ok: ${cause}`, context);
    else if (isRoutine(entry)) log.debug(`${step} ok`, context);
    else log.info(`${step} ok`, context);
  };
  const summariseRoutine = () => {
    const line = routine.take();
    if (line) log.info(line);
  };
  const writeTrace = (entries: FlowEntry[]) => {
    if (closed || entries.length === 0) return;
    trace.append(entries.map((e) => entryLine(e)));
    const kept = entries.filter((e) => isCredentialBacked(e, holders));
    if (kept.length > 0) linkFile.append(kept.map((e) => entryLine(e, SECURITY_LINE_BYTES)));
    for (const e of entries) logLine(e);
  };
  const tell = (event: FlowEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log.warn('flow trace listener failed', { error: String(err) });
      }
    }
  };
  const writeSecurity = (entries: FlowEntry[]) => {
    if (!closed && entries.length > 0) securityFile.append(entries.map((e) => entryLine(e, SECURITY_LINE_BYTES)));
  };
  const sweep = () => {
    writeTrace(coalescer.sweep());
    writeSecurity(policy.sweep());
  };
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();
  const summaryTimer = setInterval(summariseRoutine, routineSummaryMs ?? ROUTINE_SUMMARY_MS);
  summaryTimer.unref();

  return {
    record(event) {
      const routineSuccess = event.outcome === 'ok' && isRoutine(event);
      if (routineSuccess) {
        // Every routine success counts in the hourly line, written to the trace or counted there.
        routine.count(event);
        // Beyond the first few a minute of its client, nothing is written for it: only the listeners hear of it.
        if (coalescer.countedRoutine(event)) return tell(event);
      }
      const stamped = { ts: new Date(now()).toISOString(), ...event };
      // A routine success (a refresh, an introspection) names only what its client authenticated with: nothing
      // there can be a configured secret, and skipping the walk keeps it off the requests that are most of the load.
      const entry = safeEntry(redact(routineSuccess ? stamped : scrub(stamped)) as FlowEntry);
      writeTrace(coalescer.admit(entry));
      if (isSecurityEvent(entry)) writeSecurity(policy.admit(entry));
      tell(entry);
    },
    flush: async () => {
      await Promise.all([trace.flush(), securityFile.flush(), linkFile.flush()]);
    },
    prune: async () => {
      const [result] = await Promise.all([trace.prune(), securityFile.prune(), linkFile.prune()]);
      return result;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close: async () => {
      clearInterval(timer);
      clearInterval(summaryTimer);
      // What was counted but not yet summarised is written before the files close.
      writeTrace(coalescer.sweep(true));
      writeSecurity(policy.sweep(true));
      summariseRoutine();
      closed = true;
      await Promise.all([trace.close(), securityFile.close(), linkFile.close()]);
    },
  };
}
