"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.LockoutReporter = exports.FailureLimit = exports.clientAddress = exports.DEFAULT_RATE_LIMITS = void 0;
exports.requestClientId = requestClientId;
exports.createRateLimits = createRateLimits;
exports.lockoutFacts = lockoutFacts;
exports.describeLockout = describeLockout;
const express_rate_limit_1 = require("express-rate-limit");
const username_1 = require("../config/username");
const client_address_1 = require("../log/client-address");
const basic_auth_1 = require("../oauth/basic-auth");
const request_context_1 = require("./request-context");
exports.DEFAULT_RATE_LIMITS = {
    windowMs: 15 * 60 * 1000,
    loginFailuresPerIp: 10,
    loginFailuresPerUser: 30,
    tokenFailuresPerIp: 30,
    tokenFailuresPerClient: 100,
};
/** Whole seconds until `resetMs` (at least 1): the Retry-After of a lock that ends then. */
const secondsUntil = (resetMs, now = Date.now()) => Math.max(1, Math.ceil((resetMs - now) / 1000));
function retryAfter(req, windowMs) {
    const reset = req.rateLimit?.resetTime;
    return secondsUntil(reset?.getTime() ?? Date.now() + windowMs);
}
function limiter(spec, store) {
    return (0, express_rate_limit_1.rateLimit)({
        store,
        windowMs: spec.windowMs,
        limit: spec.limit,
        skipSuccessfulRequests: true,
        requestWasSuccessful: (_req, res) => res.statusCode < 400 || res.statusCode >= 500,
        standardHeaders: spec.headers ? 'draft-8' : false,
        legacyHeaders: false,
        keyGenerator: spec.key,
        // We warn about untrusted proxies ourselves, in words that name the option to set.
        validate: { xForwardedForHeader: false, trustProxy: false },
        handler: (req, res, next) => spec.onLimited(req, res, next, {
            limiter: spec.name,
            target: spec.target(req, res),
            retryAfterSeconds: retryAfter(req, spec.windowMs),
        }),
    });
}
/** The client's address as limits and people see it: IPv4-mapped IPv6 unmapped (see above). */
const clientAddress = (req) => (0, client_address_1.unmapIPv4)(req.ip ?? 'unknown');
exports.clientAddress = clientAddress;
const addressKey = (req) => (0, express_rate_limit_1.ipKeyGenerator)((0, exports.clientAddress)(req));
/** The client a token-endpoint request names, by the authenticator's own rule (oauth/basic-auth.ts). */
function requestClientId(req, res) {
    return (0, basic_auth_1.namedClientId)((0, request_context_1.requestBasic)(req, res), req.body?.client_id);
}
const formUsername = (req) => {
    const value = req.body?.username;
    return typeof value === 'string' ? value : '';
};
/**
 * A soft failure limit of the token endpoints, kept in express-rate-limit's MemoryStore (its fixed windows and
 * its clearing of expired keys). A key is locked once its failures in the window have reached the limit: the
 * point at which the middleware, which also counts the request being decided, would refuse.
 */
class FailureLimit {
    name;
    limit;
    countedAs;
    store = new express_rate_limit_1.MemoryStore();
    constructor(name, limit, windowMs, countedAs) {
        this.name = name;
        this.limit = limit;
        this.countedAs = countedAs;
        // init() reads only windowMs; the other options are the middleware's.
        this.store.init({ windowMs });
    }
    /** The lock this request runs into, if its key's failures in the current window have reached the limit. */
    lockout(req, res) {
        const counted = this.countedAs(req, res);
        if (!counted)
            return undefined;
        // The store's two maps, read as its get() reads them but synchronously: a request's check, decision and count
        // are then one synchronous step, so no request (pipelined ones included) is checked before every request
        // decided ahead of it has been counted.
        const hits = this.store.current.get(counted.key) ?? this.store.previous.get(counted.key);
        if (!hits || hits.totalHits < this.limit)
            return undefined;
        const now = Date.now();
        const reset = hits.resetTime.getTime();
        if (reset <= now)
            return undefined;
        return { limiter: this.name, target: counted.target, retryAfterSeconds: secondsUntil(reset, now) };
    }
    /** Counts the request as a failure, at once. */
    fail(req, res) {
        const counted = this.countedAs(req, res);
        // MemoryStore cannot fail, and its increment is complete before the promise it returns.
        if (counted)
            void this.store.increment(counted.key);
    }
    /** Stops the store's clearing timer. */
    shutdown() {
        this.store.shutdown();
    }
}
exports.FailureLimit = FailureLimit;
/**
 * `targets`: the configured client and resource-server ids. `onHardLimit` answers a locked login; the token
 * endpoints ask their limits for locks and enforce them once they know whether the request succeeded.
 */
function createRateLimits(settings, targets, onHardLimit) {
    const { windowMs } = settings;
    const hard = (req, res, _next, lockout) => {
        res.set('Retry-After', String(lockout.retryAfterSeconds));
        onHardLimit(req, res, lockout);
    };
    // One store per limiter, kept so shutdown() can stop their timers (express-rate-limit's default store is unreachable).
    const stores = [];
    const make = (spec) => {
        const store = new express_rate_limit_1.MemoryStore();
        stores.push(store);
        return limiter(spec, store);
    };
    const tokenPerIp = new FailureLimit('token-ip', settings.tokenFailuresPerIp, windowMs, (req) => ({
        key: addressKey(req),
        target: (0, exports.clientAddress)(req),
    }));
    const tokenPerClient = new FailureLimit('token-client', settings.tokenFailuresPerClient, windowMs, (req, res) => {
        const id = requestClientId(req, res);
        return id !== undefined && targets.has(id) ? { key: `client:${id}`, target: id } : undefined;
    });
    return {
        shutdown: () => {
            stores.forEach((store) => store.shutdown());
            tokenPerIp.shutdown();
            tokenPerClient.shutdown();
        },
        loginPerIp: make({
            name: 'login-ip',
            limit: settings.loginFailuresPerIp,
            windowMs,
            key: addressKey,
            target: exports.clientAddress,
            headers: true,
            onLimited: hard,
        }),
        loginPerUser: make({
            name: 'login-user',
            limit: settings.loginFailuresPerUser,
            windowMs,
            key: (req) => `user:${(0, username_1.usernameLockKey)(formUsername(req))}`,
            target: (req) => (0, username_1.usernameLockKey)(formUsername(req)),
            headers: false,
            onLimited: hard,
        }),
        tokenPerIp,
        tokenPerClient,
    };
}
/**
 * Decides which lockout refusals reach the log and the flow trace: the first of each lock, then at most one a
 * minute with the number refused since, so an attack at full speed cannot flood either.
 */
class LockoutReporter {
    now;
    everyMs;
    maxEntries;
    seen = new Map();
    constructor(now = Date.now, everyMs = 60_000, maxEntries = 10_000) {
        this.now = now;
        this.everyMs = everyMs;
        this.maxEntries = maxEntries;
    }
    /** Returns undefined when this refusal should not be reported, else how many were refused silently before it. */
    report(lockout) {
        const now = this.now();
        const key = `${lockout.limiter}:${lockout.target}`;
        const entry = this.seen.get(key);
        if (!entry || entry.until <= now) {
            if (this.seen.size >= this.maxEntries) {
                for (const [k, v] of this.seen)
                    if (v.until <= now)
                        this.seen.delete(k);
                if (this.seen.size >= this.maxEntries)
                    this.seen.delete(this.seen.keys().next().value);
            }
            this.seen.set(key, { until: now + lockout.retryAfterSeconds * 1000, lastReport: now, refused: 0 });
            return { first: true, refusedSinceLast: 0 };
        }
        entry.until = Math.max(entry.until, now + lockout.retryAfterSeconds * 1000);
        if (now - entry.lastReport >= this.everyMs) {
            const refusedSinceLast = entry.refused;
            entry.refused = 0;
            entry.lastReport = now;
            return { first: false, refusedSinceLast };
        }
        entry.refused++;
        return undefined;
    }
}
exports.LockoutReporter = LockoutReporter;
/** The trace facts of a reported lockout refusal (login form and token endpoints alike). */
function lockoutFacts(lockout, report) {
    return {
        limiter: lockout.limiter,
        target: lockout.target,
        retryAfter: lockout.retryAfterSeconds,
        lockoutStarted: report.first,
        refusedSinceLastReport: report.refusedSinceLast,
    };
}
/** Words for the operator: which limit, on what, and for how long. */
function describeLockout(lockout, settings) {
    const minutes = Math.round(settings.windowMs / 60000);
    switch (lockout.limiter) {
        case 'login-ip':
            return `login-ip limit reached for client ${lockout.target}: more than ${settings.loginFailuresPerIp} failed logins in ${minutes} min; its logins are refused for ${lockout.retryAfterSeconds} s`;
        case 'login-user':
            return `login-user limit reached for this username ("${lockout.target}"): more than ${settings.loginFailuresPerUser} failed logins in ${minutes} min from several addresses (a distributed guessing attack); logins as this user are refused for ${lockout.retryAfterSeconds} s`;
        case 'token-ip':
            return `token-ip limit reached for client ${lockout.target}: more than ${settings.tokenFailuresPerIp} failed token requests in ${minutes} min; its failing requests are answered 429 for ${lockout.retryAfterSeconds} s (requests with valid credentials still succeed)`;
        default:
            return `token-client limit reached for client_id "${lockout.target}": more than ${settings.tokenFailuresPerClient} failed requests naming it in ${minutes} min (secret, code or token guessing); failing requests naming it are answered 429 for ${lockout.retryAfterSeconds} s (requests with valid credentials, such as Alexa's refreshes, still succeed)`;
    }
}
//# sourceMappingURL=rate-limits.js.map