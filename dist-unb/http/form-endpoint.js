"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.LOCKOUT_ANSWER_MS = exports.formBody = void 0;
exports.refuseLocked = refuseLocked;
exports.formEndpoint = formEndpoint;
exports.storeFailure = storeFailure;
/**
 * The shape shared by the token, revocation and introspection endpoints: a urlencoded POST answered with JSON,
 * Cache-Control: no-store, RFC 6749 §5.2 errors, a database failure as 503 (never as invalid_grant, which would
 * make Alexa unlink), and one flow-trace entry per request. Brute-force locks (rate-limits.ts) are soft here: a
 * locked request is answered normally only when it succeeds outright, otherwise 429 whatever went wrong.
 */
const express_1 = __importDefault(require("express"));
const errors_1 = require("../oauth/errors");
const failures_1 = require("../oauth/failures");
const faults_1 = require("../store/faults");
const oauth_responses_1 = require("./oauth-responses");
const rate_limits_1 = require("./rate-limits");
const request_context_1 = require("./request-context");
exports.formBody = express_1.default.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 });
/** The locks a parsed token-endpoint request runs into. */
function lockoutsOf(limiters, req, res) {
    const lockouts = [];
    for (const limit of [limiters.perIp, limiters.perClient]) {
        const lockout = limit.lockout(req, res);
        if (lockout)
            lockouts.push(lockout);
    }
    return lockouts;
}
/**
 * Every refusal under a lock is answered this long after the request arrived, however far it got: a right secret
 * with a made-up token takes a database lookup that a wrong secret does not, and the answer's timing must not
 * tell them apart. Only failing requests wait (Alexa's are never refused), and it slows a guesser down too.
 */
exports.LOCKOUT_ANSWER_MS = 250;
/** Answers a locked request 429 (at a fixed time after it arrived) and reports the lock (first refusal, then once a minute). */
function refuseLocked({ trace, limiters, req, res, step, lockouts, request = {}, failure, startedNs = process.hrtime.bigint(), }) {
    const retryAfter = Math.max(...lockouts.map((l) => l.retryAfterSeconds));
    const elapsedMs = Number((process.hrtime.bigint() - startedNs) / 1000000n);
    setTimeout(() => {
        if (res.headersSent || res.destroyed)
            return;
        res
            .status(429)
            .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache', 'Retry-After': String(retryAfter) })
            .json({ error: 'invalid_request', error_description: `too many failed requests; retry after ${retryAfter} seconds` });
    }, Math.max(0, exports.LOCKOUT_ANSWER_MS - elapsedMs));
    for (const lockout of lockouts) {
        const report = limiters.reporter.report(lockout);
        if (!report)
            continue;
        trace.record({
            requestId: res.locals.requestId,
            clientRequestId: res.locals.clientRequestId,
            step,
            outcome: 'security',
            ip: req.ip,
            clientId: request.clientId,
            grantType: request.grantType,
            kind: 'rate_limited',
            facts: {
                ...(0, rate_limits_1.lockoutFacts)(lockout, report),
                // What the refused request would have got, for the operator (never sent to the client).
                wouldHaveBeen: failure ? `${failure.code} (${failure.kind})` : 'not a success',
            },
            cause: (0, rate_limits_1.describeLockout)(lockout, limiters.settings),
        });
    }
}
/** A body that is not a form: refused before anything is read from it. */
function notAForm(req) {
    const contentType = req.get('content-type')?.slice(0, 100);
    return new errors_1.InvalidRequest('the request body must be application/x-www-form-urlencoded', {
        kind: 'content_type',
        facts: contentType === undefined ? {} : { contentType },
        debug: `Content-Type was ${JSON.stringify(contentType ?? '(none)')}; OAuth endpoints take a form body`,
    });
}
function formEndpoint(deps, step, limiters, handle) {
    // Synchronous from the check of the locks to the count of a failure (rate-limits.ts FailureLimit).
    const run = (req, res) => {
        const started = process.hrtime.bigint();
        const lockouts = lockoutsOf(limiters, req, res);
        // Only failures count: a 4xx, the 429 of a locked request included; never a 5xx (our fault, say a database
        // outage, which must not lock Alexa out while it retries).
        const countFailure = () => {
            limiters.perIp.fail(req, res);
            limiters.perClient.fail(req, res);
        };
        const params = (req.body ?? {});
        const base = {
            requestId: res.locals.requestId,
            clientRequestId: res.locals.clientRequestId,
            step,
            ip: req.ip,
            redirectUri: typeof params.redirect_uri === 'string' ? params.redirect_uri.slice(0, 2048) : undefined,
        };
        const elapsed = () => Number((process.hrtime.bigint() - started) / 1000n) / 1000;
        const outcome = req.is('application/x-www-form-urlencoded')
            ? handle({ params, basic: (0, request_context_1.requestBasic)(req, res) }, req)
            : { request: {}, ok: false, error: notAForm(req) };
        const { request } = outcome;
        if (outcome.ok) {
            const result = outcome.result;
            if (lockouts.length > 0 && result.provesPossession === false) {
                countFailure();
                refuseLocked({ trace: deps.trace, limiters, req, res, step, lockouts, request, startedNs: started });
                return;
            }
            res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(result.body);
            deps.trace.record({
                ...base,
                outcome: 'ok',
                clientId: request.clientId,
                grantType: request.grantType,
                ...result.trace,
                detail: {
                    authScheme: request.authScheme,
                    ms: elapsed(),
                    ...(lockouts.length > 0 ? { servedDespiteLockout: lockouts.map((l) => l.limiter) } : {}),
                    ...result.trace?.detail,
                },
            });
            return;
        }
        const err = outcome.error;
        const error = err instanceof errors_1.OAuthError ? err : storeFailure(err);
        // A StoreError was logged once by the store when the fault began; anything else is unexpected.
        if (!(err instanceof errors_1.OAuthError) && !(0, faults_1.isStoreError)(err))
            deps.log.error(`${step} request failed on an unexpected error`, {
                requestId: base.requestId,
                error: err instanceof Error ? err.stack : String(err),
            });
        if (error.status < 500)
            countFailure();
        // A server-side failure (503) is not the client's: it is never turned into a lockout refusal.
        if (lockouts.length > 0 && error.status < 500) {
            refuseLocked({ trace: deps.trace, limiters, req, res, step, lockouts, request, failure: error, startedNs: started });
            return;
        }
        (0, oauth_responses_1.sendOAuthError)(res, error);
        deps.trace.record({
            ...base,
            outcome: failures_1.FAILURE_OUTCOME[error.kind],
            clientId: request.clientId,
            grantType: request.grantType,
            error: error.code,
            ...error.failure,
            cause: error.debug,
            detail: { authScheme: request.authScheme, status: error.status, ms: elapsed() },
        });
    };
    return [exports.formBody, run];
}
/** A database failure (or an unexpected error) as the 503 the client gets: retry, never "your grant is gone". */
function storeFailure(err) {
    const reason = err instanceof Error ? err.message : String(err);
    return new errors_1.TemporarilyUnavailable('the server cannot reach its database right now; retry shortly', {
        kind: 'store_unavailable',
        facts: (0, faults_1.isStoreError)(err) ? { fault: err.fault, reason } : { reason },
        debug: `database error: ${reason}; see /health`,
        cause: err,
    });
}
//# sourceMappingURL=form-endpoint.js.map