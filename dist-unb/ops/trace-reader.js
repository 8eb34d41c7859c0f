"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.isFailure = void 0;
exports.readTrace = readTrace;
exports.readSecurityEvents = readSecurityEvents;
exports.readActivity = readActivity;
exports.eachActivityEntry = eachActivityEntry;
exports.traceBytes = traceBytes;
exports.traceInfo = traceInfo;
exports.hourlyActivity = hourlyActivity;
/**
 * Reading the flow trace and the security events back (Activity page, CLI, diagnose), newest entries first.
 * Entries are made safe again as they are read (safeEntry is idempotent): files written by older versions held
 * request data raw, and whatever is in the file, the page and the terminal get escaped, capped text.
 */
const node_fs_1 = require("node:fs");
const flow_trace_1 = require("../log/flow-trace");
const jsonl_lines_1 = require("../log/jsonl-lines");
const trace_policy_1 = require("../log/trace-policy");
/** The line's entry, made safe; undefined for a line being written right now or a damaged one. */
function parseEntry(line) {
    try {
        const entry = JSON.parse(line);
        if (entry && typeof entry.ts === 'string' && typeof entry.step === 'string' && typeof entry.outcome === 'string')
            return (0, trace_policy_1.safeEntry)(entry);
    }
    catch {
        /* skipped */
    }
    return undefined;
}
const isFailure = (e) => e.outcome === 'error' || e.outcome === 'security';
exports.isFailure = isFailure;
/** Entries matching the query, newest first. Files are read newest first and reading stops once enough are found. */
function readTrace(dataDir, query = {}) {
    return readFiles((0, flow_trace_1.traceFiles)(dataDir), query);
}
/** The security events matching the query, newest first. */
function readSecurityEvents(dataDir, query = {}) {
    return readFiles((0, flow_trace_1.securityEventFiles)(dataDir), query);
}
const identity = (e) => `${e.ts}|${e.requestId}|${e.step}|${e.outcome}|${e.kind ?? ''}|${e.grantId ?? ''}`;
/**
 * The trace and the security events together, newest first, each entry once (a security event is in both files
 * until a flood rotates the trace; then only the security events still have it). At most `limit` entries, of
 * which up to half are kept for the newest security events: however many failures a flood wrote since, a
 * recorded code replay stays in the list (Activity, `oauth-admin activity --failures`).
 */
async function readActivity(dataDir, query = {}) {
    const newestFirst = (a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0);
    const security = await readSecurityEvents(dataDir, query);
    const securityIds = new Set(security.map(identity));
    const others = (await readTrace(dataDir, query)).filter((e) => !securityIds.has(identity(e)));
    const limit = query.limit ?? Infinity;
    if (security.length + others.length <= limit)
        return [...security, ...others].sort(newestFirst);
    const reserved = security.slice(0, Math.floor(limit / 2));
    const rest = [...security.slice(reserved.length), ...others].sort(newestFirst).slice(0, limit - reserved.length);
    return [...reserved, ...rest].sort(newestFirst);
}
/**
 * Visits the files' entries newest first, each file read from its end: up to the first entry before `since`, or
 * until `visit` says enough.
 */
async function eachEntry(files, since, visit) {
    for (const file of files) {
        try {
            for await (const line of (0, jsonl_lines_1.linesFromEnd)(file)) {
                const e = parseEntry(line);
                if (!e)
                    continue;
                if (since !== undefined && Date.parse(e.ts) < since)
                    return;
                if (visit(e) === 'enough')
                    return;
            }
        }
        catch {
            continue; // rotated away between listing and reading
        }
    }
}
async function readFiles(files, query) {
    const out = [];
    const limit = query.limit ?? Infinity;
    await eachEntry(files, query.since, (e) => {
        if (!query.failuresOnly || (0, exports.isFailure)(e))
            out.push(e);
        return out.length >= limit ? 'enough' : 'more';
    });
    return out;
}
/**
 * Visits the security events and the trace's other entries at or after `since`, each once (a security event is in
 * both files until a flood rotates it out of the trace), without keeping the trace's: a week of a busy or flooded
 * trace is tens of thousands of entries. Not in time order.
 */
async function eachActivityEntry(dataDir, since, visit) {
    const security = await readSecurityEvents(dataDir, { since });
    const seen = new Set(security.map(identity));
    security.forEach(visit);
    await eachEntry((0, flow_trace_1.traceFiles)(dataDir), since, (e) => {
        if (!seen.has(identity(e)))
            visit(e);
        return 'more';
    });
}
/** The flow trace's size on disk: a stat of each file, for every metrics scrape. */
function traceBytes(dataDir, files = (0, flow_trace_1.traceFiles)(dataDir)) {
    let bytes = 0;
    for (const f of files) {
        try {
            bytes += (0, node_fs_1.statSync)(f).size;
        }
        catch {
            /* rotated away */
        }
    }
    return bytes;
}
/** Files, size and the oldest entry: the first valid line of the oldest file, read up to that line only. */
async function traceInfo(dataDir) {
    const files = (0, flow_trace_1.traceFiles)(dataDir);
    const bytes = traceBytes(dataDir, files);
    let first;
    for (const f of [...files].reverse()) {
        await (0, jsonl_lines_1.findLine)(f, (line) => (first = parseEntry(line)) !== undefined).catch(() => undefined); // rotated away
        if (first)
            return { files: files.length, bytes, oldest: first.ts };
    }
    return { files: files.length, bytes };
}
/** Tokens issued (successful token requests) and failures per hour, oldest hour first, ending with the current one. */
async function hourlyActivity(dataDir, now, hours) {
    const hour = 3600_000;
    const current = Math.floor(now / hour) * hour;
    const first = current - (hours - 1) * hour;
    const buckets = Array.from({ length: hours }, (_, i) => ({ start: first + i * hour, tokens: 0, failures: 0 }));
    const count = (e) => {
        const b = buckets[Math.floor((Date.parse(e.ts) - first) / hour)];
        if (b === undefined)
            return; // after the current hour (a clock set back), or unreadable
        if ((0, exports.isFailure)(e))
            b.failures++;
        else if (e.step === 'token' && e.outcome === 'ok')
            b.tokens++;
    };
    await eachActivityEntry(dataDir, first, count);
    return buckets;
}
//# sourceMappingURL=trace-reader.js.map