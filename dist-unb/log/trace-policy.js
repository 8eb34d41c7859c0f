"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SecurityEventPolicy = exports.SECURITY_ANONYMOUS_PER_HOUR = exports.isSecurityEvent = exports.CREDENTIAL_BACKED_KINDS = exports.FailureCoalescer = exports.MAX_LINE_BYTES = exports.CAUSE_MAX = void 0;
exports.safeEntry = safeEntry;
exports.entryLine = entryLine;
/**
 * What the flow trace keeps, so that no anonymous flood can grow it without bound or push out what matters:
 * - every entry is made safe and small first (safeEntry): request data capped and escaped, one line of at most
 *   MAX_LINE_BYTES;
 * - the general trace coalesces repeated failures (and security events) of one kind from one source
 *   (FailureCoalescer): the first few each minute are written, the rest are counted into one summary line, and
 *   the add-on log follows the same decision;
 * - security events (outcome security, and admin actions) are also kept in a file of their own with its own
 *   bounds (SecurityEventPolicy). Events only a credential holder can cause (a code replay needs a real code)
 *   are kept one by one; those any anonymous client can cause (lockouts, forged forms, refused admin
 *   connections) share a small hourly budget, the rest counted into one summary an hour. So the worst an
 *   anonymous flood can add is SECURITY_ANONYMOUS_PER_HOUR + 1 lines an hour, which the file's size bound holds
 *   for longer than its age bound (see SECURITY_LIMITS): a recorded replay leaves by age, never by a flood.
 */
const client_address_1 = require("./client-address");
const untrusted_1 = require("./untrusted");
/** A cause is our sentence around a few capped values: room for both, still bounded. */
exports.CAUSE_MAX = 1024;
exports.MAX_LINE_BYTES = 4096;
const FIELDS = ['clientId', 'redirectUri', 'grantType', 'username', 'grantId', 'error', 'kind'];
/** An object of request data, capped and escaped; anything else (a damaged line) becomes an empty object. */
function safeTree(value, max) {
    const tree = (0, untrusted_1.untrustedTree)(value, max);
    return typeof tree === 'object' && tree !== null && !Array.isArray(tree) ? tree : {};
}
/** Caps and escapes every field that can carry request data; unmaps IPv4-mapped addresses. */
function safeEntry(entry) {
    const out = { ...entry, requestId: (0, untrusted_1.untrusted)(entry.requestId, 64), ts: (0, untrusted_1.untrusted)(entry.ts, 40) };
    if (entry.clientRequestId !== undefined)
        out.clientRequestId = (0, untrusted_1.untrusted)(entry.clientRequestId, 64);
    for (const f of FIELDS)
        if (entry[f] !== undefined)
            out[f] = (0, untrusted_1.untrusted)(entry[f], untrusted_1.UNTRUSTED_MAX);
    if (entry.ip !== undefined)
        out.ip = (0, untrusted_1.untrusted)((0, client_address_1.unmapIPv4)(String(entry.ip)), 64);
    if (entry.cause !== undefined)
        out.cause = (0, untrusted_1.untrusted)(entry.cause, exports.CAUSE_MAX);
    if (entry.facts !== undefined)
        out.facts = safeTree(entry.facts);
    if (entry.detail !== undefined)
        out.detail = safeTree(entry.detail);
    return out;
}
/**
 * The entry as one JSON line of at most `maxBytes` (≥ 1 KiB): the detail goes first, then the facts' values
 * shrink, then the facts go and cause and fields shrink (an explanation then does without the facts).
 */
function entryLine(entry, maxBytes = exports.MAX_LINE_BYTES) {
    let line = JSON.stringify(entry);
    if (Buffer.byteLength(line) <= maxBytes)
        return `${line}\n`;
    const smaller = { ...entry, detail: { truncated: true } };
    line = JSON.stringify(smaller);
    if (Buffer.byteLength(line) <= maxBytes)
        return `${line}\n`;
    if (entry.facts !== undefined) {
        line = JSON.stringify({ ...smaller, facts: safeTree(entry.facts, 64) });
        if (Buffer.byteLength(line) <= maxBytes)
            return `${line}\n`;
    }
    // Every field at 64 characters of at most 3 bytes (escapes are ASCII), the cause at 256: under 1 KiB in all.
    const minimal = { ...smaller, facts: undefined, cause: (0, untrusted_1.untrusted)(entry.cause, 256) };
    for (const f of [...FIELDS, 'clientRequestId', 'ip'])
        if (minimal[f] !== undefined)
            minimal[f] = (0, untrusted_1.untrusted)(minimal[f], 64);
    return `${JSON.stringify(minimal)}\n`;
}
/**
 * Repeated failures of one kind from one source (an IPv4 address, an IPv6 /56): the first `perWindow` each
 * window are written; the rest are counted, and one summary line says how many when the window is over.
 */
class FailureCoalescer {
    now;
    perWindow;
    windowMs;
    maxKeys;
    windows = new Map();
    constructor(now, perWindow = 20, windowMs = 60_000, maxKeys = 10_000) {
        this.now = now;
        this.perWindow = perWindow;
        this.windowMs = windowMs;
        this.maxKeys = maxKeys;
    }
    /** Entries to write for this one: none (counted), or it, possibly after the summary of an ended window. */
    admit(entry) {
        if (entry.outcome === 'ok')
            return [entry];
        const now = this.now();
        const key = `${(0, client_address_1.addressBucket)(entry.ip ?? '')}|${entry.step}|${entry.kind ?? entry.error ?? ''}`;
        const out = [];
        let w = this.windows.get(key);
        if (w && now - w.start >= this.windowMs) {
            out.push(...this.summary(w));
            this.windows.delete(key);
            w = undefined;
        }
        if (!w) {
            if (this.windows.size >= this.maxKeys)
                out.push(...this.sweep(true));
            w = { start: now, written: 0, counted: 0 };
            this.windows.set(key, w);
        }
        if (w.written < this.perWindow) {
            w.written++;
            out.push(entry);
        }
        else {
            w.counted++;
            w.sample ??= entry;
        }
        return out;
    }
    /** Summaries of the windows that ended (all of them with `all`), which are forgotten. */
    sweep(all = false) {
        const now = this.now();
        const out = [];
        for (const [key, w] of this.windows) {
            if (!all && now - w.start < this.windowMs)
                continue;
            out.push(...this.summary(w));
            this.windows.delete(key);
        }
        return out;
    }
    summary(w) {
        if (w.counted === 0 || !w.sample)
            return [];
        const s = w.sample;
        return [
            {
                ts: new Date(this.now()).toISOString(),
                requestId: 'coalesced',
                step: s.step,
                outcome: s.outcome,
                ip: s.ip,
                clientId: s.clientId,
                error: s.error,
                kind: s.kind,
                facts: s.facts,
                cause: `${w.counted} more failure(s) like this one (${s.kind ?? s.error ?? 'failure'}) from ${s.ip ?? 'one source'} within ${Math.round(this.windowMs / 1000)} s were counted, not recorded one by one; the last one written: ${s.cause ?? ''}`,
                detail: { coalesced: w.counted, windowStart: new Date(w.start).toISOString() },
            },
        ];
    }
}
exports.FailureCoalescer = FailureCoalescer;
/** Security kinds only a credential holder can cause: kept one by one (per grant or user, generously bounded). */
exports.CREDENTIAL_BACKED_KINDS = new Set(['code_replay', 'refresh_reuse', 'pkce_downgrade', 'ha_user_not_allowed']);
/** Whether an entry belongs in the security events: security outcomes and every admin action. */
const isSecurityEvent = (e) => e.outcome === 'security' || e.step === 'admin';
exports.isSecurityEvent = isSecurityEvent;
exports.SECURITY_ANONYMOUS_PER_HOUR = 4;
const CREDENTIAL_PER_HOUR = 10;
const HOUR = 3600_000;
/**
 * Which security events reach the security-events file. Admin actions: all (only an administrator causes them).
 * Credential-backed kinds: up to CREDENTIAL_PER_HOUR per kind and grant (or user) an hour. Everything else, which
 * an anonymous client can cause at will: SECURITY_ANONYMOUS_PER_HOUR in all per hour, then one summary line for
 * the hour with a count per kind.
 */
class SecurityEventPolicy {
    now;
    anonymous;
    credential = new Map();
    constructor(now) {
        this.now = now;
    }
    admit(entry) {
        if (!(0, exports.isSecurityEvent)(entry))
            return [];
        if (entry.step === 'admin' && entry.outcome === 'ok')
            return [entry];
        const now = this.now();
        if (entry.kind && exports.CREDENTIAL_BACKED_KINDS.has(entry.kind)) {
            const key = `${entry.kind}|${entry.grantId ?? entry.username ?? entry.clientId ?? ''}`;
            let w = this.credential.get(key);
            if (!w || now - w.start >= HOUR) {
                if (this.credential.size >= 10_000)
                    this.credential.clear();
                const counted = w?.counted ?? 0;
                w = { start: now, written: 0, counted: 0 };
                this.credential.set(key, w);
                if (counted > 0)
                    entry = { ...entry, detail: { ...entry.detail, notRecordedInTheHourBefore: counted } };
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
        if (this.anonymous.written < exports.SECURITY_ANONYMOUS_PER_HOUR) {
            this.anonymous.written++;
            out.push(entry);
        }
        else {
            const kind = entry.kind ?? 'other';
            this.anonymous.counts.set(kind, (this.anonymous.counts.get(kind) ?? 0) + 1);
            this.anonymous.sample ??= entry;
        }
        return out;
    }
    /** The summary of the anonymous hour once it is over (or now, with `force`). */
    sweep(force = false) {
        const a = this.anonymous;
        if (!a || (!force && this.now() - a.start < HOUR))
            return [];
        this.anonymous = undefined;
        if (a.counts.size === 0 || !a.sample)
            return [];
        const total = [...a.counts.values()].reduce((x, y) => x + y, 0);
        const counts = Object.fromEntries([...a.counts.entries()].slice(0, 16));
        return [
            {
                ts: new Date(this.now()).toISOString(),
                requestId: 'coalesced',
                step: a.sample.step,
                outcome: 'security',
                kind: 'security_events_coalesced',
                facts: { total, counts },
                cause: `${total} more security event(s) that any client can cause were counted here, not recorded one by one (${Object.entries(counts)
                    .map(([k, n]) => `${k} ×${n}`)
                    .join(', ')}); the flow trace and the log show the first of them`,
                detail: { windowStart: new Date(a.start).toISOString() },
            },
        ];
    }
}
exports.SecurityEventPolicy = SecurityEventPolicy;
//# sourceMappingURL=trace-policy.js.map