"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.securityEventFiles = exports.traceFiles = exports.SECURITY_LINE_BYTES = exports.SECURITY_LIMITS = exports.TRACE_LIMITS = exports.SECURITY_EVENTS_FILE = exports.SECURITY_EVENTS_NAME = exports.FLOW_TRACE_FILE = exports.FLOW_TRACE_NAME = void 0;
exports.createFlowTrace = createFlowTrace;
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
const jsonl_file_1 = require("./jsonl-file");
const redact_1 = require("./redact");
const routine_successes_1 = require("./routine-successes");
const trace_policy_1 = require("./trace-policy");
exports.FLOW_TRACE_NAME = 'flow-trace';
exports.FLOW_TRACE_FILE = `${exports.FLOW_TRACE_NAME}.jsonl`;
exports.SECURITY_EVENTS_NAME = 'security-events';
exports.SECURITY_EVENTS_FILE = `${exports.SECURITY_EVENTS_NAME}.jsonl`;
exports.TRACE_LIMITS = {
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
exports.SECURITY_LIMITS = {
    maxBytes: 2 * 1024 * 1024,
    maxFiles: 10,
    maxAgeMs: 90 * 24 * 3600 * 1000,
};
exports.SECURITY_LINE_BYTES = 1536;
/** The trace files in dataDir, newest first: flow-trace.jsonl, flow-trace1.jsonl, flow-trace2.jsonl, ... */
const traceFiles = (dataDir) => (0, jsonl_file_1.jsonlFiles)(dataDir, exports.FLOW_TRACE_NAME);
exports.traceFiles = traceFiles;
/** The security-event files, newest first. */
const securityEventFiles = (dataDir) => (0, jsonl_file_1.jsonlFiles)(dataDir, exports.SECURITY_EVENTS_NAME);
exports.securityEventFiles = securityEventFiles;
const SWEEP_INTERVAL_MS = 60_000;
function createFlowTrace(dataDir, log, opts = {}) {
    const now = opts.now ?? Date.now;
    const { security, coalesceAfter, routineSummaryMs, now: _now, ...traceLimits } = opts;
    const trace = (0, jsonl_file_1.createJsonlFile)(dataDir, exports.FLOW_TRACE_NAME, log, { ...exports.TRACE_LIMITS, ...traceLimits }, now);
    const securityFile = (0, jsonl_file_1.createJsonlFile)(dataDir, exports.SECURITY_EVENTS_NAME, log, { ...exports.SECURITY_LIMITS, ...security }, now);
    const coalescer = new trace_policy_1.FailureCoalescer(now, coalesceAfter);
    const policy = new trace_policy_1.SecurityEventPolicy(now);
    const listeners = new Set();
    const routine = new routine_successes_1.RoutineTally(now);
    let closed = false;
    const logLine = (entry) => {
        const { requestId, step, outcome, clientId, grantType, error, kind, cause, username, grantId } = entry;
        const context = { requestId, clientId, grantType, username, grantId, error, kind };
        if (outcome === 'security')
            log.warn(`SECURITY ${step}: ${cause ?? error}`, context);
        else if (outcome !== 'ok')
            log.warn(`${step} failed: ${cause ?? error}`, context);
        else if ((0, routine_successes_1.isRoutine)(entry)) {
            routine.count(entry);
            log.debug(`${step} ok`, context);
        }
        else
            log.info(`${step} ok`, context);
    };
    const summariseRoutine = () => {
        const line = routine.take();
        if (line)
            log.info(line);
    };
    const writeTrace = (entries) => {
        if (closed || entries.length === 0)
            return;
        trace.append(entries.map((e) => (0, trace_policy_1.entryLine)(e)));
        for (const e of entries)
            logLine(e);
    };
    const writeSecurity = (entries) => {
        if (!closed && entries.length > 0)
            securityFile.append(entries.map((e) => (0, trace_policy_1.entryLine)(e, exports.SECURITY_LINE_BYTES)));
    };
    const sweep = () => {
        writeTrace(coalescer.sweep());
        writeSecurity(policy.sweep());
    };
    const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
    timer.unref();
    const summaryTimer = setInterval(summariseRoutine, routineSummaryMs ?? routine_successes_1.ROUTINE_SUMMARY_MS);
    summaryTimer.unref();
    return {
        record(event) {
            const entry = (0, trace_policy_1.safeEntry)((0, redact_1.redact)({ ts: new Date(now()).toISOString(), ...event }));
            writeTrace(coalescer.admit(entry));
            if ((0, trace_policy_1.isSecurityEvent)(entry))
                writeSecurity(policy.admit(entry));
            for (const listener of listeners) {
                try {
                    listener(entry);
                }
                catch (err) {
                    log.warn('flow trace listener failed', { error: String(err) });
                }
            }
        },
        flush: async () => {
            await Promise.all([trace.flush(), securityFile.flush()]);
        },
        prune: async () => {
            const [result] = await Promise.all([trace.prune(), securityFile.prune()]);
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
            await Promise.all([trace.close(), securityFile.close()]);
        },
    };
}
//# sourceMappingURL=flow-trace.js.map