"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.createApp = createApp;
/**
 * The public Express app (port 8096): security headers on every response, trust-proxy from the options, the
 * OAuth routes, and error handlers that answer in the RFC's format instead of Express's HTML stack pages.
 *
 * Every parser and pattern that request data meets runs in linear time on a capped input (issue #12). Node caps
 * the request line and headers at 16 KB in all, the body parsers cap bodies (token endpoints 16 KB and 32
 * parameters, login/consent 8 KB and 16, admin 4 KB and 8); then:
 * - Authorization: oauth/basic-auth.ts, a scan of at most 4096 characters, parsed once per request
 *   (request-context.ts requestBasic) for the limiter and the authenticator alike; base64, form-decoding linear.
 * - Host: request-context.ts isPlainHost, anchored, each repeated group ends in a character its class excludes
 *   (≤ 260 characters). Admin listener: access.ts listenerHostOnly (string comparisons), ingressPrefix (a scan
 *   for trailing slashes, then an anchored pattern whose groups start with "/", ≤ 300 characters).
 * - Query and forms: URLSearchParams / express.urlencoded (extended: false), linear; token parameters ≤ 4096
 *   characters (token-endpoint.ts singleParams), state ≤ 2048; scope tokens: scopes.ts, one character class;
 *   PKCE values: pkce.ts, one bounded class {43,128}; redirect URIs: exact comparison, the closest-match edit
 *   distance on at most 512 × 512 characters (redirect-uri.ts).
 * - Cookies: cookie-parser; flow/session values checked by /^[\w-]{43}$/ and a length cap (browser-session.ts).
 * - req.hostname for the loopback cookie rule: browser-session.ts LOOPBACK, literals and \d+ between dots.
 * - Usernames: auth/username.ts, a whitespace scan and NFKC/case mapping of at most 256 characters.
 * - Addresses: log/client-address.ts, ≤ 64 characters, WHATWG URL parsing and one anchored pattern.
 * - Output: log/untrusted.ts, one pass over at most `max` output characters; error descriptions (errors.ts
 *   wireDescription) and log values, single character classes; explanations (ops/explain.ts) read the facts a
 *   failure recorded as data, never patterns over its text.
 */
const cookie_parser_1 = __importDefault(require("cookie-parser"));
const express_1 = __importStar(require("express"));
const errors_1 = require("../oauth/errors");
const faults_1 = require("../store/faults");
const oauth_pages_1 = require("./pages/oauth-pages");
const form_endpoint_1 = require("./form-endpoint");
const fixed_posts_1 = require("./fixed-posts");
const rate_limits_1 = require("./rate-limits");
const request_timing_1 = require("./request-timing");
const request_context_1 = require("./request-context");
const untrusted_1 = require("../log/untrusted");
const security_headers_1 = require("./security-headers");
const authorize_1 = require("./routes/authorize");
const health_1 = require("./routes/health");
const metadata_1 = require("./routes/metadata");
const token_1 = require("./routes/token");
/** Origins the consent form may end up at: CSP form-action also governs the redirect after the POST. */
function redirectOrigins(config) {
    const origins = new Set();
    for (const client of config.clients)
        for (const uri of client.redirectUris)
            origins.add(new URL(uri).origin);
    return [...origins];
}
/** The JSON endpoints: their errors are RFC 6749 §5.2 JSON, not HTML pages. */
const TOKEN_PATHS = new Set(['/alexa/token', '/alexa/revoke', '/alexa/introspect']);
/** As the router matches them (not case-sensitive, one trailing slash allowed): "/ALEXA/TOKEN/" is the token endpoint. */
const isTokenPath = (req) => TOKEN_PATHS.has((0, fixed_posts_1.routePath)(req.path));
function createApp(deps, rateLimits = rate_limits_1.DEFAULT_RATE_LIMITS) {
    const app = (0, express_1.default)();
    app.disable('x-powered-by');
    // No ETag: answers are no-store (tokens, /health) or differ each time (pages carry a nonce), so Express's SHA-1 of
    // every body would never save a transfer; only the metadata may be cached, for 5 minutes, and is 1 KB.
    app.set('etag', false);
    app.set('trust proxy', deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false);
    app.set('query parser', false); // parameters are read raw, so repeats are seen and refused
    // Every request's first steps; the token endpoints' POSTs take the same ones, bar the cookies they never read.
    const context = [request_context_1.requestContext, ...(deps.metrics ? [(0, request_timing_1.requestTiming)(deps.metrics)] : [])];
    const pageHeaders = (0, security_headers_1.pageSecurityHeaders)({ framing: 'none', formTargets: redirectOrigins(deps.config) });
    const apiHeaders = (0, security_headers_1.apiSecurityHeaders)();
    // Headers from a peer outside trusted_proxies are ignored (Express's trust proxy); say so once, naming the fix.
    let warnedAboutProxy = false;
    let warnedAboutProto = false;
    const proxyWarnings = (req, _res, next) => {
        if (!warnedAboutProxy && req.get('x-forwarded-for') && deps.config.trustedProxies.length === 0) {
            warnedAboutProxy = true;
            deps.log.warn(`requests arrive through a reverse proxy at ${req.socket.remoteAddress} that is not trusted: rate limits see the proxy instead of the client; add its address to the trusted_proxies option`);
        }
        if (!warnedAboutProto && !deps.config.publicUrl && !req.secure && req.get('x-forwarded-proto')?.toLowerCase() === 'https') {
            warnedAboutProto = true;
            deps.log.warn(`a request says it reached the proxy over https (X-Forwarded-Proto) but came from ${req.socket.remoteAddress}, which is not in trusted_proxies: the header is ignored, so login cookies are not marked Secure and published URLs start with http://; set public_url to the https address Alexa uses (recommended), or add the proxy to trusted_proxies`);
        }
        next();
    };
    app.use(...context);
    app.use((req, res, next) => (isTokenPath(req) ? apiHeaders : pageHeaders)(req, res, next));
    app.use((0, cookie_parser_1.default)());
    app.use(proxyWarnings);
    const settings = { ...rate_limits_1.DEFAULT_RATE_LIMITS, ...rateLimits };
    const reporter = new rate_limits_1.LockoutReporter();
    const targets = new Set([...deps.config.clients.map((c) => c.clientId), ...deps.config.resourceServers.map((r) => r.id)]);
    // Only the login form locks hard (see rate-limits.ts); token-endpoint locks are enforced by formEndpoint.
    const limits = (0, rate_limits_1.createRateLimits)(settings, targets, (req, res, lockout) => {
        const report = reporter.report(lockout);
        if (report) {
            deps.trace.record({
                requestId: res.locals.requestId,
                clientRequestId: res.locals.clientRequestId,
                step: 'login',
                outcome: 'security',
                ip: req.ip,
                username: lockout.limiter === 'login-user' ? lockout.target : undefined,
                kind: 'rate_limited',
                facts: (0, rate_limits_1.lockoutFacts)(lockout, report),
                cause: (0, rate_limits_1.describeLockout)(lockout, settings),
            });
        }
        res
            .status(429)
            .set('Cache-Control', 'no-store')
            .type('html')
            .send((0, oauth_pages_1.errorPage)(res.locals.nonce, 'Too many attempts', `Too many failed logins. Try again in ${Math.ceil(lockout.retryAfterSeconds / 60)} minutes.`));
    });
    const formLimiters = { perIp: limits.tokenPerIp, perClient: limits.tokenPerClient, settings, reporter };
    // The token endpoints first: Alexa's refreshes and the resource server's introspections are most requests.
    const tokenRoutes = (0, token_1.createTokenRoutes)(deps, formLimiters);
    const tokenRouter = (0, express_1.Router)();
    for (const [path, handlers] of tokenRoutes)
        tokenRouter.post(path, ...handlers);
    app.use(tokenRouter);
    app.use((0, health_1.createHealthRoutes)(deps));
    app.use((0, metadata_1.createMetadataRoutes)(deps));
    app.use((0, authorize_1.createAuthorizeRoutes)(deps, [limits.loginPerIp, limits.loginPerUser]));
    app.use((req, res) => {
        if (isTokenPath(req)) {
            res
                .status(405)
                .set('Allow', 'POST')
                .json({ error: 'invalid_request', error_description: `${req.method} is not allowed here; use POST` });
            return;
        }
        res
            .status(404)
            .type('html')
            .send((0, oauth_pages_1.errorPage)(res.locals.nonce ?? '', 'Not found', `There is nothing at ${(0, untrusted_1.untrusted)(req.path)}.`));
    });
    // Body-parser and unexpected errors: a clean 4xx/5xx in the right format, never a stack trace.
    const onError = (err, req, res, _next) => {
        if ((0, faults_1.isStoreError)(err)) {
            // The store has logged the fault once; the page says to retry, never that the link is gone.
            if (res.headersSent)
                return;
            const failure = (0, form_endpoint_1.storeFailure)(err);
            deps.trace.record({
                requestId: res.locals.requestId,
                clientRequestId: res.locals.clientRequestId,
                step: req.path.endsWith('/login') ? 'login' : req.path.endsWith('/consent') ? 'consent' : 'authorize',
                outcome: 'error',
                ip: req.ip,
                error: failure.code,
                ...failure.failure,
                cause: err.message,
            });
            res
                .status(503)
                .set({ 'Cache-Control': 'no-store', 'Retry-After': '30' })
                .type('html')
                .send((0, oauth_pages_1.errorPage)(res.locals.nonce ?? '', 'Temporarily unavailable', 'The server cannot reach its database right now. Try again in a minute; the add-on log and /health say why.'));
            return;
        }
        const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
        if (status === 500)
            deps.log.error('unexpected error', {
                requestId: res.locals.requestId,
                path: req.path.slice(0, 256),
                error: err.stack ?? String(err),
            });
        if (res.headersSent)
            return;
        if (isTokenPath(req)) {
            if (status < 500) {
                // An unreadable body counts against the address (the client it names is in the body), and a locked
                // address sending them is refused like any other failing request.
                const lockout = limits.tokenPerIp.lockout(req, res);
                limits.tokenPerIp.fail(req, res);
                if (lockout) {
                    (0, form_endpoint_1.refuseLocked)({ trace: deps.trace, limiters: formLimiters, req, res, step: 'token', lockouts: [lockout] });
                    return;
                }
            }
            const parser = err.type ?? 'error';
            const error = new errors_1.InvalidRequest(status === 413 ? 'request body too large' : status === 415 ? 'unsupported body encoding' : 'malformed request body', {
                kind: 'malformed_body',
                facts: { status, parser, message: err.message },
                debug: `${parser}: ${err.message}`,
                cause: err,
            });
            res.status(status).set({ 'Cache-Control': 'no-store' }).json(error.toJSON());
            deps.trace.record({
                requestId: res.locals.requestId,
                clientRequestId: res.locals.clientRequestId,
                step: 'token',
                outcome: 'error',
                ip: req.ip,
                error: error.code,
                ...error.failure,
                cause: error.debug,
            });
            return;
        }
        res
            .status(status)
            .type('html')
            .send((0, oauth_pages_1.errorPage)(res.locals.nonce ?? '', status === 500 ? 'Something went wrong' : 'Bad request', status === 500 ? 'The server could not complete this step; the add-on log has the details.' : 'The request could not be read.'));
    };
    app.use(onError);
    // The same routes, without the router, for their POSTs (fixed-posts.ts): most requests are Alexa's refreshes and
    // the resource server's introspections.
    const fixedPosts = new Map();
    for (const [path, handlers] of tokenRoutes)
        fixedPosts.set(path, [...context, apiHeaders, proxyWarnings, ...handlers]);
    return { listener: (0, fixed_posts_1.dispatchFixedPosts)(app, fixedPosts, onError), shutdown: () => limits.shutdown() };
}
//# sourceMappingURL=app.js.map