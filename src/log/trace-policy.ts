/**
 * What the flow trace keeps, so that no anonymous flood can grow it without bound or push out what matters:
 * - every entry is made safe and small first (safeEntry): request data capped and escaped, one line of at most
 *   MAX_LINE_BYTES;
 * - the general trace coalesces repeated failures (and security events) of one kind from one source, successes
 *   anyone can cause from one source, and routine successes of one client (TraceCoalescer): the first few each
 *   minute are written, the rest are counted into one summary line, and the add-on log follows the same decision;
 * - security events (outcome security, and admin actions) are also kept in a file of their own with its own
 *   bounds (SecurityEventPolicy). Events only a credential holder can cause (a code replay needs a real code)
 *   are kept one by one; those any anonymous client can cause (lockouts, forged forms, refused admin
 *   connections) share a small hourly budget, the rest counted into one summary an hour. So the worst an
 *   anonymous flood can add is SECURITY_ANONYMOUS_PER_HOUR + 1 lines an hour, which the file's size bound holds
 *   for longer than its age bound (see SECURITY_LIMITS): a recorded replay leaves by age, never by a flood.
 */
import { addressBucket, unmapIPv4 } from './client-address';
import { isRoutine } from './routine-successes';
import { UNTRUSTED_MAX, untrusted, untrustedTree } from './untrusted';

export type FlowStep = 'authorize' | 'login' | 'consent' | 'token' | 'revoke' | 'introspect' | 'admin';
export type FlowOutcome = 'ok' | 'error' | 'security';

export interface FlowEvent {
  /** Ours (a UUID per request), never the client's. */
  requestId: string;
  /** The X-Request-Id a client sent, if any: for correlating with its logs, capped and escaped. */
  clientRequestId?: string;
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
  /** Failure kind, e.g. redirect_uri_mismatch, pkce_mismatch, code_expired (oauth/failures.ts lists them). */
  kind?: string;
  /** The failure's facts as data, per kind (oauth/failures.ts): what explanations and notifications read. */
  facts?: Readonly<Record<string, unknown>>;
  /** The precise cause and fix, for the operator: a sentence to read, never to parse. */
  cause?: string;
  detail?: Record<string, unknown>;
}

/** An event as written: made safe, with its timestamp (ISO 8601). */
export type FlowEntry = FlowEvent & { ts: string };

/** A cause is our sentence around a few capped values: room for both, still bounded. */
export const CAUSE_MAX = 1024;
export const MAX_LINE_BYTES = 4096;

const FIELDS = ['clientId', 'redirectUri', 'grantType', 'username', 'grantId', 'error', 'kind'] as const;

/** An object of request data, capped and escaped; anything else (a damaged line) becomes an empty object. */
function safeTree(value: unknown, max?: number): Record<string, unknown> {
  const tree = untrustedTree(value, max);
  return typeof tree === 'object' && tree !== null && !Array.isArray(tree) ? (tree as Record<string, unknown>) : {};
}

/** Caps and escapes every field that can carry request data; unmaps IPv4-mapped addresses. */
export function safeEntry(entry: FlowEntry): FlowEntry {
  const out: FlowEntry = { ...entry, requestId: untrusted(entry.requestId, 64), ts: untrusted(entry.ts, 40) };
  if (entry.clientRequestId !== undefined) out.clientRequestId = untrusted(entry.clientRequestId, 64);
  for (const f of FIELDS) if (entry[f] !== undefined) out[f] = untrusted(entry[f], UNTRUSTED_MAX);
  if (entry.ip !== undefined) out.ip = untrusted(unmapIPv4(String(entry.ip)), 64);
  if (entry.cause !== undefined) out.cause = untrusted(entry.cause, CAUSE_MAX);
  if (entry.facts !== undefined) out.facts = safeTree(entry.facts);
  if (entry.detail !== undefined) out.detail = safeTree(entry.detail);
  return out;
}

/**
 * The entry as one JSON line of at most `maxBytes` (≥ 1 KiB): the detail goes first, then the facts' values
 * shrink, then the facts go and cause and fields shrink (an explanation then does without the facts).
 */
export function entryLine(entry: FlowEntry, maxBytes = MAX_LINE_BYTES): string {
  let line = JSON.stringify(entry);
  if (Buffer.byteLength(line) <= maxBytes) return `${line}\n`;
  const smaller: FlowEntry = { ...entry, detail: { truncated: true } };
  line = JSON.stringify(smaller);
  if (Buffer.byteLength(line) <= maxBytes) return `${line}\n`;
  if (entry.facts !== undefined) {
    line = JSON.stringify({ ...smaller, facts: safeTree(entry.facts, 64) });
    if (Buffer.byteLength(line) <= maxBytes) return `${line}\n`;
  }
  // Every field at 64 characters of at most 3 bytes (escapes are ASCII), the cause at 256: under 1 KiB in all.
  const minimal: FlowEntry = { ...smaller, facts: undefined, cause: untrusted(entry.cause, 256) };
  for (const f of [...FIELDS, 'clientRequestId', 'ip'] as const) if (minimal[f] !== undefined) minimal[f] = untrusted(minimal[f], 64);
  return `${JSON.stringify(minimal)}\n`;
}

/** The requestId of a summary line, which stands for the requests it counted. */
export const COALESCED = 'coalesced';

/** How many requests an entry stands for: a summary line counts those it summarises. */
export const requestsIn = (e: Pick<FlowEntry, 'requestId' | 'detail'>): number =>
  e.requestId === COALESCED && typeof e.detail?.coalesced === 'number' ? e.detail.coalesced : 1;

/**
 * Successes anyone can cause, as often as they like, with nothing secret: starting a link (the client id and redirect
 * URI of a valid authorization request are public, and the answer is the login page) and a revocation that revoked
 * nothing (RFC 7009 answers 200 for an unknown token, and a public client has no secret). Kept by source, as
 * failures are, so that a flood of them cannot rotate the trace or fill the add-on log.
 */
export const isAnonymousSuccess = (e: Pick<FlowEntry, 'outcome' | 'step' | 'detail'>): boolean =>
  e.outcome === 'ok' && (e.step === 'authorize' || (e.step === 'revoke' && e.detail?.revoked === 'nothing'));

/** What a summary of anonymous successes counted, by step. */
const ANONYMOUS_WHAT: Partial<Record<FlowStep, string>> = {
  authorize: 'authorization requests',
  revoke: 'revocations that revoked nothing',
};

interface Window {
  start: number;
  written: number;
  counted: number;
  /** The first entry counted, for the summary's step, kind and source. */
  sample?: FlowEntry;
}

/** The coalescing window of a routine success: its step, grant type and client. */
const routineKey = (e: Pick<FlowEvent, 'step' | 'grantType' | 'clientId'>): string =>
  `ok|${e.step}|${e.grantType ?? ''}|${e.clientId ?? ''}`;

/**
 * Entries that repeat: the trace writes the first few of a kind each window and counts the rest, with one summary
 * line per window saying how many:
 * - failures of one kind from one source (an IPv4 address, an IPv6 /56), and successes of one step that anyone can
 *   cause (isAnonymousSuccess) from one source: `perWindow` (default 20) a minute. A household starts a link a few
 *   times in a minute at most;
 * - routine successes (isRoutine: a refresh, an introspection) of one step and client: `routinePerWindow`
 *   (default 30) a minute. Alexa refreshes each link about once an hour and a resource server introspects once per
 *   voice request, so a household never reaches it; a client or resource server stuck in a loop would otherwise
 *   rotate the link flows and failures the operator needs out of the trace within minutes, and cost a line per
 *   request. Each success is still counted by the listeners and the add-on log's hourly line.
 */
export class TraceCoalescer {
  private readonly windows = new Map<string, Window>();
  constructor(
    private readonly now: () => number,
    private readonly perWindow = 20,
    private readonly routinePerWindow = 30,
    private readonly windowMs = 60_000,
    private readonly maxKeys = 10_000,
  ) {}

  /**
   * Counts a routine success whose window is full and has its sample: the trace writes nothing for it, so the
   * caller need not make its entry (most of a refresh or introspection load). False: it goes through admit.
   */
  countedRoutine(event: Pick<FlowEvent, 'step' | 'grantType' | 'clientId'>): boolean {
    const w = this.windows.get(routineKey(event));
    if (!w?.sample || w.written < this.routinePerWindow || this.now() - w.start >= this.windowMs) return false;
    w.counted++;
    return true;
  }

  /** Entries to write for this one: none (counted), or it, possibly after the summary of an ended window. */
  admit(entry: FlowEntry): FlowEntry[] {
    const routine = entry.outcome === 'ok' && isRoutine(entry);
    if (entry.outcome === 'ok' && !routine && !isAnonymousSuccess(entry)) return [entry];
    const now = this.now();
    // Routine keys start with "ok", the others with an address bucket: the two never meet. By source, anonymous
    // successes end in "ok", failures in their kind or error.
    const key = routine
      ? routineKey(entry)
      : `${addressBucket(entry.ip ?? '')}|${entry.step}|${entry.outcome === 'ok' ? 'ok' : (entry.kind ?? entry.error ?? '')}`;
    const out: FlowEntry[] = [];
    let w = this.windows.get(key);
    if (w && now - w.start >= this.windowMs) {
      out.push(...this.summary(w));
      this.windows.delete(key);
      w = undefined;
    }
    if (!w) {
      if (this.windows.size >= this.maxKeys) out.push(...this.sweep(true));
      w = { start: now, written: 0, counted: 0 };
      this.windows.set(key, w);
    }
    if (w.written < (routine ? this.routinePerWindow : this.perWindow)) {
      w.written++;
      out.push(entry);
    } else {
      w.counted++;
      w.sample ??= entry;
    }
    return out;
  }

  /** Summaries of the windows that ended (all of them with `all`), which are forgotten. */
  sweep(all = false): FlowEntry[] {
    const now = this.now();
    const out: FlowEntry[] = [];
    for (const [key, w] of this.windows) {
      if (!all && now - w.start < this.windowMs) continue;
      out.push(...this.summary(w));
      this.windows.delete(key);
    }
    return out;
  }

  private summary(w: Window): FlowEntry[] {
    if (w.counted === 0 || !w.sample) return [];
    const s = w.sample;
    const seconds = Math.round(this.windowMs / 1000);
    const common = {
      ts: new Date(this.now()).toISOString(),
      requestId: COALESCED,
      step: s.step,
      outcome: s.outcome,
      clientId: s.clientId,
      detail: { coalesced: w.counted, windowStart: new Date(w.start).toISOString() },
    };
    const anonymous = ANONYMOUS_WHAT[s.step];
    if (s.outcome === 'ok' && anonymous) {
      return [
        {
          ...common,
          ip: s.ip,
          cause: `${w.counted} more ${anonymous} from ${s.ip ?? 'one source'} within ${seconds} s were counted, not recorded one by one`,
        },
      ];
    }
    if (s.outcome === 'ok') {
      const what = s.step === 'introspect' ? 'introspections' : `${s.grantType ?? s.step} requests`;
      return [
        {
          ...common,
          grantType: s.grantType,
          cause: `${w.counted} more successful ${what} by ${s.clientId ?? 'one client'} within ${seconds} s were counted, not recorded one by one`,
        },
      ];
    }
    return [
      {
        ...common,
        ip: s.ip,
        error: s.error,
        kind: s.kind,
        facts: s.facts,
        cause: `${w.counted} more failure(s) like this one (${s.kind ?? s.error ?? 'failure'}) from ${s.ip ?? 'one source'} within ${seconds} s were counted, not recorded one by one; the last one written: ${s.cause ?? ''}`,
      },
    ];
  }
}

/** Security kinds only a credential holder can cause: kept one by one (per grant or user, generously bounded). */
export const CREDENTIAL_BACKED_KINDS = new Set(['code_replay', 'refresh_reuse', 'pkce_downgrade', 'ha_user_not_allowed']);

/**
 * Token-endpoint failures decided before the client is authenticated, or about the request itself: anyone can
 * cause them.
 */
const BEFORE_CLIENT_AUTH = new Set([
  'client_auth_missing',
  'client_credentials_removed',
  'client_auth_malformed',
  'client_auth_multiple',
  'client_id_conflict',
  'unknown_client',
  'public_client_secret',
  'client_secret_missing',
  'client_secret_mismatch',
  'resource_server_secret_mismatch',
  'introspect_public_client',
  'content_type',
  'malformed_body',
  'repeated_parameter',
  'parameter_too_long',
  'store_unavailable',
  'unknown_endpoint',
]);

/**
 * Entries only the holder of a credential can cause, beyond the routine: a login that succeeded, a consent given
 * or denied (it needs the login's session), a token, revocation or introspection request whose client proved its
 * secret (`secretHolders`: the confidential clients and resource servers; whatever its outcome) or that redeemed a
 * code. The link-events file keeps them too, so that strangers flooding the trace from many addresses cannot rotate
 * the owner's links out of the Activity (security events and admin actions have a file of their own).
 */
export function isCredentialBacked(e: FlowEntry, secretHolders: ReadonlySet<string>): boolean {
  if (e.requestId === COALESCED || e.outcome === 'security' || e.step === 'admin') return false;
  if (e.outcome === 'ok') return !isRoutine(e) && !isAnonymousSuccess(e);
  if (e.step === 'consent') return e.kind === 'access_denied';
  if (e.step !== 'token' && e.step !== 'revoke' && e.step !== 'introspect') return false;
  // A failure after the client proved a secret: a public client's id alone proves nothing.
  const scheme = e.detail?.authScheme;
  const proved = (scheme === 'basic' || scheme === 'body') && e.clientId !== undefined && secretHolders.has(e.clientId);
  return proved && e.kind !== undefined && !BEFORE_CLIENT_AUTH.has(e.kind);
}

/** Whether an entry belongs in the security events: security outcomes and every admin action. */
export const isSecurityEvent = (e: { outcome: string; step: string }) => e.outcome === 'security' || e.step === 'admin';

export const SECURITY_ANONYMOUS_PER_HOUR = 4;
const CREDENTIAL_PER_HOUR = 10;
const HOUR = 3600_000;

/**
 * Which security events reach the security-events file. Admin actions: all (only an administrator causes them).
 * Credential-backed kinds: up to CREDENTIAL_PER_HOUR per kind and grant (or user) an hour. Everything else, which
 * an anonymous client can cause at will: SECURITY_ANONYMOUS_PER_HOUR in all per hour, then one summary line for
 * the hour with a count per kind.
 */
export class SecurityEventPolicy {
  private anonymous: { start: number; written: number; counts: Map<string, number>; sample?: FlowEntry } | undefined;
  private readonly credential = new Map<string, { start: number; written: number; counted: number }>();
  constructor(private readonly now: () => number) {}

  admit(entry: FlowEntry): FlowEntry[] {
    if (!isSecurityEvent(entry)) return [];
    if (entry.step === 'admin' && entry.outcome === 'ok') return [entry];
    const now = this.now();
    if (entry.kind && CREDENTIAL_BACKED_KINDS.has(entry.kind)) {
      const key = `${entry.kind}|${entry.grantId ?? entry.username ?? entry.clientId ?? ''}`;
      let w = this.credential.get(key);
      if (!w || now - w.start >= HOUR) {
        if (this.credential.size >= 10_000) this.credential.clear();
        const counted = w?.counted ?? 0;
        w = { start: now, written: 0, counted: 0 };
        this.credential.set(key, w);
        if (counted > 0) entry = { ...entry, detail: { ...entry.detail, notRecordedInTheHourBefore: counted } };
      }
      if (w.written >= CREDENTIAL_PER_HOUR) {
        w.counted++;
        return [];
      }
      w.written++;
      return [entry];
    }
    const out = this.anonymous && now - this.anonymous.start >= HOUR ? this.sweep(true) : [];
    this.anonymous ??= { start: now, written: 0, counts: new Map() };
    if (this.anonymous.written < SECURITY_ANONYMOUS_PER_HOUR) {
      this.anonymous.written++;
      out.push(entry);
    } else {
      const kind = entry.kind ?? 'other';
      this.anonymous.counts.set(kind, (this.anonymous.counts.get(kind) ?? 0) + 1);
      this.anonymous.sample ??= entry;
    }
    return out;
  }

  /** The summary of the anonymous hour once it is over (or now, with `force`). */
  sweep(force = false): FlowEntry[] {
    const a = this.anonymous;
    if (!a || (!force && this.now() - a.start < HOUR)) return [];
    this.anonymous = undefined;
    if (a.counts.size === 0 || !a.sample) return [];
    const total = [...a.counts.values()].reduce((x, y) => x + y, 0);
    const counts = Object.fromEntries([...a.counts.entries()].slice(0, 16));
    return [
      {
        ts: new Date(this.now()).toISOString(),
        requestId: COALESCED,
        step: a.sample.step,
        outcome: 'security',
        kind: 'security_events_coalesced',
        facts: { total, counts },
        cause: `${total} more security event(s) that any client can cause were counted here, not recorded one by one (${Object.entries(
          counts,
        )
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ')}); the flow trace and the log show the first of them`,
        detail: { windowStart: new Date(a.start).toISOString() },
      },
    ];
  }
}
