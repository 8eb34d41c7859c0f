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
import cookieParser from 'cookie-parser';
import express, { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import type { RequestListener } from 'node:http';
import { Config } from '../config/config';
import { Logger } from '../log/logger';
import { deviceProof } from '../oauth/authorization-flow';
import { parseBasicAuthorization } from '../oauth/basic-auth';
import { InvalidRequest, OAuthError } from '../oauth/errors';
import { TraceRecorder } from '../oauth/failures';
import type { Metrics } from '../ops/metrics';
import { isStoreError } from '../store/faults';
import { errorPage } from './pages/oauth-pages';
import { hasDeviceProof } from './browser-session';
import { FormLimiters, refuseLocked, storeFailure } from './form-endpoint';
import { sendNoStoreJson } from './oauth-responses';
import { dispatchFixedPosts, routePath } from './fixed-posts';
import { DEFAULT_RATE_LIMITS, LockoutReporter, RateLimitSettings, createRateLimits, describeLockout, lockoutFacts } from './rate-limits';
import { timeRequests } from './request-timing';
import { requestContext } from './request-context';
import { untrusted } from '../log/untrusted';
import { apiSecurityHeaders, pageSecurityHeaders } from './security-headers';
import { AuthorizeDeps, createAuthorizeRoutes } from './routes/authorize';
import { HealthDeps, createHealthRoutes } from './routes/health';
import { MetadataDeps, createMetadataRoutes } from './routes/metadata';
import { TokenRouteDeps, createTokenRoutes } from './routes/token';

/** What the public app is built from: what its routes need, and what it needs itself. */
export interface AppDeps extends HealthDeps, MetadataDeps, TokenRouteDeps, AuthorizeDeps {
  config: Config;
  log: Logger;
  trace: TraceRecorder;
  /** Times every request, for GET /metrics on the admin listener. */
  metrics?: Pick<Metrics, 'observeRequest'>;
}

/** Origins the consent form may end up at: CSP form-action also governs the redirect after the POST. */
function redirectOrigins(config: Pick<Config, 'clients'>): string[] {
  const origins = new Set<string>();
  for (const client of config.clients) for (const uri of client.redirectUris) origins.add(new URL(uri).origin);
  return [...origins];
}

/** The JSON endpoints: their errors are RFC 6749 §5.2 JSON, not HTML pages. */
const TOKEN_PATHS = new Set(['/alexa/token', '/alexa/revoke', '/alexa/introspect']);
/** As the router matches them (not case-sensitive, one trailing slash allowed): "/ALEXA/TOKEN/" is the token endpoint. */
const isTokenPath = (req: Request) => TOKEN_PATHS.has(routePath(req.path));

/** Paths a misconfigured Alexa console or proxy sends OAuth requests to, and the endpoint each one meant. */
const TOKEN_LIKE = /token/i;
const AUTHORIZE_LIKE = /auth|oauth|login|link/i;

/**
 * A request for an address the add-on does not serve that looks like one of its endpoints (or carries a client's
 * Basic credentials): which endpoint it meant, and the client when its id and secret are a configured client's.
 * Anything else (favicon, scanners' paths) is not recorded.
 */
function wrongEndpoint(req: Request, clients: AppDeps['clients']): { expected: string; clientId?: string } | undefined {
  const basic = parseBasicAuthorization(req.get('authorization'));
  let clientId: string | undefined;
  if (basic.form === 'basic') {
    try {
      const client = clients.authenticate({ clientId: basic.clientId, clientSecret: basic.clientSecret, scheme: 'basic' });
      // A public client authenticates with its id alone, which anyone can send.
      clientId = client.clientType === 'confidential' ? client.clientId : undefined;
    } catch {
      clientId = undefined;
    }
  }
  const path = req.path;
  if (clientId !== undefined || (req.method === 'POST' && TOKEN_LIKE.test(path))) return { expected: '/alexa/token', clientId };
  if (req.method === 'GET' && (AUTHORIZE_LIKE.test(path) || TOKEN_LIKE.test(path)) && req.query.response_type !== undefined)
    return { expected: '/alexa/authorize' };
  return undefined;
}

/** The server's request listener, and what stops the timers it started (stop() calls it after closing the listener). */
export interface PublicApp {
  listener: RequestListener;
  /** Whether a peer address is a trusted proxy (trusted_proxies, as Express decides it). */
  trusted: (address: string) => boolean;
  shutdown(): void;
}

export function createApp(deps: AppDeps, rateLimits: Partial<RateLimitSettings> = DEFAULT_RATE_LIMITS): PublicApp {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: answers are no-store (tokens, /health) or differ each time (pages carry a nonce), so Express's SHA-1 of
  // every body would never save a transfer; only the metadata may be cached, for 5 minutes, and is 1 KB.
  app.set('etag', false);
  app.set('trust proxy', deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false);
  app.set('query parser', false); // parameters are read raw, so repeats are seen and refused

  // Every request's first steps; the token endpoints' POSTs take the same ones, bar the cookies they never read.
  const context: RequestHandler[] = [requestContext];
  const stopTiming = deps.metrics ? timeRequests(app, deps.metrics) : () => undefined;
  const pageHeaders = pageSecurityHeaders({ framing: 'none', formTargets: redirectOrigins(deps.config) });
  const apiHeaders = apiSecurityHeaders();

  // Headers from a peer outside trusted_proxies are ignored (Express's trust proxy); say so once, naming the fix.
  let warnedAboutProxy = false;
  let warnedAboutProto = false;
  const proxyWarnings: RequestHandler = (req, _res, next) => {
    if (!warnedAboutProxy && req.get('x-forwarded-for') && deps.config.trustedProxies.length === 0) {
      warnedAboutProxy = true;
      deps.log.warn(
        `requests arrive through a reverse proxy at ${req.socket.remoteAddress} that is not trusted: rate limits see the proxy instead of the client; add its address to the trusted_proxies option`,
      );
    }
    if (!warnedAboutProto && !deps.config.publicUrl && !req.secure && req.get('x-forwarded-proto')?.toLowerCase() === 'https') {
      warnedAboutProto = true;
      deps.log.warn(
        `a request says it reached the proxy over https (X-Forwarded-Proto) but came from ${req.socket.remoteAddress}, which is not in trusted_proxies: the header is ignored, so login cookies are not marked Secure and published URLs start with http://; set public_url to the https address Alexa uses (recommended), or add the proxy to trusted_proxies`,
      );
    }
    next();
  };
  app.use(...context);
  app.use((req, res, next) => (isTokenPath(req) ? apiHeaders : pageHeaders)(req, res, next));
  app.use(cookieParser());
  app.use(proxyWarnings);

  const settings: RateLimitSettings = { ...DEFAULT_RATE_LIMITS, ...rateLimits };
  const reporter = new LockoutReporter();
  const targets = new Set([...deps.config.clients.map((c) => c.clientId), ...deps.config.resourceServers.map((r) => r.id)]);
  // Only the login form locks hard (see rate-limits.ts); token-endpoint locks are enforced by formEndpoint.
  const trustedDevice = (req: Request, lockKey: string) => hasDeviceProof(req, () => deviceProof(deps.grants, lockKey));
  const limits = createRateLimits(
    settings,
    targets,
    (req, res, lockout) => {
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
          facts: lockoutFacts(lockout, report),
          cause: describeLockout(lockout, settings),
        });
      }
      res
        .status(429)
        .set('Cache-Control', 'no-store')
        .type('html')
        .send(
          errorPage(
            res.locals.nonce,
            'Too many attempts',
            `Too many failed logins. Try again in ${Math.ceil(lockout.retryAfterSeconds / 60)} minutes.`,
          ),
        );
    },
    trustedDevice,
  );
  const formLimiters: FormLimiters = { perIp: limits.tokenPerIp, perClient: limits.tokenPerClient, settings, reporter };

  // The token endpoints first: Alexa's refreshes and the resource server's introspections are most requests.
  const tokenRoutes = createTokenRoutes(deps, formLimiters);
  const tokenRouter = Router();
  for (const [path, handlers] of tokenRoutes) tokenRouter.post(path, ...handlers);
  app.use(tokenRouter);
  app.use(createHealthRoutes(deps));
  app.use(createMetadataRoutes(deps));
  app.use(createAuthorizeRoutes(deps, [limits.loginPerIp, limits.loginPerUser]));

  app.use((req, res) => {
    if (isTokenPath(req)) {
      res.setHeader('Allow', 'POST');
      sendNoStoreJson(res, 405, { error: 'invalid_request', error_description: `${req.method} is not allowed here; use POST` });
      return;
    }
    const wrong = wrongEndpoint(req, deps.clients);
    if (wrong) {
      deps.trace.record({
        requestId: res.locals.requestId,
        clientRequestId: res.locals.clientRequestId,
        step: wrong.expected === '/alexa/authorize' ? 'authorize' : 'token',
        outcome: 'error',
        ip: req.ip,
        clientId: wrong.clientId,
        kind: 'unknown_endpoint',
        facts: { method: req.method, path: req.path, expected: wrong.expected, authenticated: wrong.clientId !== undefined },
        cause: `${req.method} ${untrusted(req.path, 256)} is not an endpoint of the add-on${wrong.clientId ? ` (it carried the credentials of client "${wrong.clientId}")` : ''}; did the client mean ${wrong.expected}?`,
      });
    }
    res
      .status(404)
      .type('html')
      .send(errorPage(res.locals.nonce ?? '', 'Not found', `There is nothing at ${untrusted(req.path)}.`));
  });

  // Body-parser and unexpected errors: a clean 4xx/5xx in the right format, never a stack trace.
  const onError = (err: Error & { status?: number; type?: string }, req: Request, res: Response, _next: NextFunction) => {
    if (isStoreError(err)) {
      // The store has logged the fault once; the page says to retry, never that the link is gone.
      if (res.headersSent) return;
      const failure = storeFailure(err);
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
        .send(
          errorPage(
            res.locals.nonce ?? '',
            'Temporarily unavailable',
            'The server cannot reach its database right now. Try again in a minute; the add-on log and /health say why.',
          ),
        );
      return;
    }
    const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500)
      deps.log.error('unexpected error', {
        requestId: res.locals.requestId,
        path: req.path.slice(0, 256),
        error: err.stack ?? String(err),
      });
    if (res.headersSent) return;
    if (isTokenPath(req)) {
      if (status < 500) {
        // An unreadable body counts against the address (the client it names is in the body), and a locked
        // address sending them is refused like any other failing request.
        const lockout = limits.tokenPerIp.lockout(req, res);
        limits.tokenPerIp.fail(req, res);
        if (lockout) {
          refuseLocked({ trace: deps.trace, limiters: formLimiters, req, res, step: 'token', lockouts: [lockout] });
          return;
        }
      }
      const parser = err.type ?? 'error';
      const error: OAuthError = new InvalidRequest(
        status === 413 ? 'request body too large' : status === 415 ? 'unsupported body encoding' : 'malformed request body',
        {
          kind: 'malformed_body',
          facts: { status, parser, message: err.message },
          debug: `${parser}: ${err.message}`,
          cause: err,
        },
      );
      sendNoStoreJson(res, status, error.toJSON());
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
      .send(
        errorPage(
          res.locals.nonce ?? '',
          status === 500 ? 'Something went wrong' : 'Bad request',
          status === 500 ? 'The server could not complete this step; the add-on log has the details.' : 'The request could not be read.',
        ),
      );
  };
  app.use(onError);

  // The same routes, without the router, for their POSTs (fixed-posts.ts): most requests are Alexa's refreshes and
  // the resource server's introspections.
  const fixedPosts = new Map<string, RequestHandler[]>();
  for (const [path, handlers] of tokenRoutes) fixedPosts.set(path, [...context, apiHeaders, proxyWarnings, ...handlers]);
  const trustProxy = app.get('trust proxy fn') as (address: string, hop: number) => boolean;
  return {
    listener: dispatchFixedPosts(app, fixedPosts, onError as ErrorRequestHandler),
    trusted: (address) => trustProxy(address, 0),
    shutdown: () => {
      limits.shutdown();
      stopTiming();
    },
  };
}
