/**
 * Brute-force throttles (express-rate-limit, in memory: they protect one process and reset on restart, which is
 * acceptable for a limiter). Only failures count (a 4xx; a 5xx is our fault, e.g. a database outage, and must not
 * lock out Alexa while it retries), so normal traffic is never slowed. IP keys use req.ip, which is the real client
 * address behind a proxy listed in trusted_proxies and the peer address otherwise.
 *
 * The login form uses the library's middleware. The token endpoints use its store directly (FailureLimit): they
 * decide each request synchronously, so they read the count, decide and add a failure in one synchronous step,
 * where the middleware counts every request and takes each success back when its response finishes (40 µs of the
 * 230 an introspection cost, measured; those endpoints carry almost all the traffic).
 *
 * Two dimensions, because an attacker can vary either:
 * - per client IP: stops one source guessing anything (passwords, client secrets, codes, refresh tokens);
 * - per target (a username at the login form; a configured client_id or resource-server id at the token,
 *   revocation and introspection endpoints): stops many sources guessing one target's secret.
 *
 * Lockout abuse, and why the two endpoints differ:
 * - Token endpoints lock *softly*. A locked request is still processed, and answered normally only when it
 *   succeeds outright (valid client secret AND valid code or refresh token; for introspection an active token,
 *   for revocation a token that was revoked). Anything else gets 429, whatever the reason, so a guesser learns
 *   nothing (no oracle: a right secret with a made-up refresh token is also 429) while Alexa, which holds a valid
 *   secret and refresh token, is never refused: an attacker cannot get Alexa's refreshes refused, and a 429 is
 *   never an invalid_grant (which would unlink). This holds for the IP lock too, so a reverse proxy that is not
 *   in trusted_proxies (every request seems to come from it) does not let an attacker lock Alexa out.
 * - The login form locks *hard*: a password is the only proof there, so a lock that let the right password
 *   through would be an oracle. To keep one abusive client from locking the owner out, the per-username limit is
 *   three times the per-IP one: a single address is cut off by its own limit long before it can lock a
 *   username; only a distributed attack (several addresses) locks it, for the window.
 * Targets are only configured ids (unknown ids have nothing to guess and would let an attacker grow the table).
 *
 * Keys, so that no spelling of a target is a fresh one:
 * - addresses: IPv4-mapped IPv6 (every IPv4 client on a dual-stack HOST=:: listener) is unmapped first, so each
 *   IPv4 client keeps its own bucket; IPv6 is masked to the /56 a household or server is delegated;
 * - usernames: folded at least as far as Home Assistant folds them (auth/username.ts), whether the login is
 *   checked against the users option or Home Assistant: " owner" and "OWNER\t" are the owner;
 * - clients: the one Basic parser and naming rule the authenticator uses (oauth/basic-auth.ts), read once per
 *   request from res.locals.
 */
import type { Request, Response } from 'express';
import { MemoryStore, ipKeyGenerator, rateLimit, type Options, type RateLimitRequestHandler } from 'express-rate-limit';
import { usernameLockKey } from '../config/username';
import { unmapIPv4 } from '../log/client-address';
import { namedClientId } from '../oauth/basic-auth';
import type { FailureFacts, LimiterName } from '../oauth/failures';
import { requestBasic } from './request-context';

export interface RateLimitSettings {
  windowMs: number;
  loginFailuresPerIp: number;
  loginFailuresPerUser: number;
  tokenFailuresPerIp: number;
  /** Failed token/revocation/introspection requests naming one configured client or resource server. */
  tokenFailuresPerClient: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  windowMs: 15 * 60 * 1000,
  loginFailuresPerIp: 10,
  loginFailuresPerUser: 30,
  tokenFailuresPerIp: 30,
  tokenFailuresPerClient: 100,
};

export type { LimiterName };

/** A limit a request ran into. */
export interface Lockout {
  limiter: LimiterName;
  /** What is locked, for the operator: an IP, a username or a client id. */
  target: string;
  retryAfterSeconds: number;
}

/** Hard lock: answer the request (429). */
export type LimitedHandler = (req: Request, res: Response, lockout: Lockout) => void;

/** Whole seconds until `resetMs` (at least 1): the Retry-After of a lock that ends then. */
const secondsUntil = (resetMs: number, now = Date.now()): number => Math.max(1, Math.ceil((resetMs - now) / 1000));

function retryAfter(req: Request, windowMs: number): number {
  const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  return secondsUntil(reset?.getTime() ?? Date.now() + windowMs);
}

interface LimiterSpec {
  name: LimiterName;
  limit: number;
  windowMs: number;
  key: (req: Request, res: Response) => string;
  target: (req: Request, res: Response) => string;
  /** Per-target limits publish no RateLimit headers: how many failures others caused is nobody's business. */
  headers: boolean;
  /** Requests this limit neither counts nor refuses. */
  skip?: (req: Request) => boolean;
  onLimited: (req: Request, res: Response, next: () => void, lockout: Lockout) => void;
}

function limiter(spec: LimiterSpec, store: MemoryStore): RateLimitRequestHandler {
  return rateLimit({
    store,
    windowMs: spec.windowMs,
    limit: spec.limit,
    skipSuccessfulRequests: true,
    // Only a password that was checked and was wrong (401) counts. A form without its link request, flow cookie
    // or CSRF token (400, 403) tests no password, and counting it let anyone lock a username with 30 bare POSTs.
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    ...(spec.skip ? { skip: spec.skip } : {}),
    standardHeaders: spec.headers ? 'draft-8' : false,
    legacyHeaders: false,
    keyGenerator: spec.key,
    // We warn about untrusted proxies ourselves, in words that name the option to set.
    validate: { xForwardedForHeader: false, trustProxy: false },
    handler: (req, res, next) =>
      spec.onLimited(req, res, next, {
        limiter: spec.name,
        target: spec.target(req, res),
        retryAfterSeconds: retryAfter(req, spec.windowMs),
      }),
  });
}

/**
 * The client's address as limits and people see it: IPv4-mapped IPv6 unmapped (see above). Worked out once per
 * request (kept in its locals): req.ip parses X-Forwarded-For against trusted_proxies on every read, and a token
 * request needs it for both limits and the trace.
 */
export function clientAddress(req: Request): string {
  const locals = req.res?.locals;
  if (locals?.clientAddress !== undefined) return locals.clientAddress;
  const address = unmapIPv4(req.ip ?? 'unknown');
  if (locals) locals.clientAddress = address;
  return address;
}
const addressKey = (req: Request) => ipKeyGenerator(clientAddress(req));

/** The client a token-endpoint request names, by the authenticator's own rule (oauth/basic-auth.ts). */
export function requestClientId(req: Request, res: Response): string | undefined {
  return namedClientId(requestBasic(req, res), (req.body as Record<string, unknown> | undefined)?.client_id);
}

const formUsername = (req: Request) => {
  const value = (req.body as Record<string, unknown> | undefined)?.username;
  return typeof value === 'string' ? value : '';
};

/** What a token-endpoint request is counted under by one limit, if that limit applies to it. */
interface Counted {
  key: string;
  target: string;
}

/**
 * A soft failure limit of the token endpoints, kept in express-rate-limit's MemoryStore (its fixed windows and
 * its clearing of expired keys). A key is locked once its failures in the window have reached the limit: the
 * point at which the middleware, which also counts the request being decided, would refuse.
 */
export class FailureLimit {
  private readonly store = new MemoryStore();
  constructor(
    readonly name: LimiterName,
    private readonly limit: number,
    windowMs: number,
    private readonly countedAs: (req: Request, res: Response) => Counted | undefined,
  ) {
    // init() reads only windowMs; the other options are the middleware's.
    this.store.init({ windowMs } as Options);
  }

  /** The lock this request runs into, if its key's failures in the current window have reached the limit. */
  lockout(req: Request, res: Response): Lockout | undefined {
    // No failure counted anywhere: nothing is locked, and the key need not be worked out (most requests).
    if (this.store.current.size === 0 && this.store.previous.size === 0) return undefined;
    const counted = this.countedAs(req, res);
    if (!counted) return undefined;
    // The store's two maps, read as its get() reads them but synchronously: a request's check, decision and count
    // are then one synchronous step, so no request (pipelined ones included) is checked before every request
    // decided ahead of it has been counted.
    const hits = this.store.current.get(counted.key) ?? this.store.previous.get(counted.key);
    if (!hits || hits.totalHits < this.limit) return undefined;
    const now = Date.now();
    const reset = hits.resetTime.getTime();
    if (reset <= now) return undefined;
    return { limiter: this.name, target: counted.target, retryAfterSeconds: secondsUntil(reset, now) };
  }

  /** Counts the request as a failure, at once. */
  fail(req: Request, res: Response): void {
    const counted = this.countedAs(req, res);
    // MemoryStore cannot fail, and its increment is complete before the promise it returns.
    if (counted) void this.store.increment(counted.key);
  }

  /** Stops the store's clearing timer. */
  shutdown(): void {
    this.store.shutdown();
  }
}

export interface RateLimits {
  loginPerIp: RateLimitRequestHandler;
  loginPerUser: RateLimitRequestHandler;
  tokenPerIp: FailureLimit;
  /** Reads client_id from the body: ask it once the body is parsed. */
  tokenPerClient: FailureLimit;
  /** Stops the stores' reset timers (a stopped server must leave nothing behind in the process). */
  shutdown(): void;
}

/**
 * `targets`: the configured client and resource-server ids. `onHardLimit` answers a locked login; the token
 * endpoints ask their limits for locks and enforce them once they know whether the request succeeded.
 */
/**
 * `trustedFor(req, lockKey)`: the browser proves it logged in as that username before (a device cookie). Such a
 * browser is not held by the username's lock, only by its address's: strangers guessing one username from many
 * addresses must not lock its owner out of the phone they link from (OWASP's device cookies).
 */
export function createRateLimits(
  settings: RateLimitSettings,
  targets: ReadonlySet<string>,
  onHardLimit: LimitedHandler,
  trustedFor: (req: Request, lockKey: string) => boolean = () => false,
): RateLimits {
  const { windowMs } = settings;
  const hard = (req: Request, res: Response, _next: () => void, lockout: Lockout) => {
    res.set('Retry-After', String(lockout.retryAfterSeconds));
    onHardLimit(req, res, lockout);
  };
  // One store per limiter, kept so shutdown() can stop their timers (express-rate-limit's default store is unreachable).
  const stores: MemoryStore[] = [];
  const make = (spec: LimiterSpec) => {
    const store = new MemoryStore();
    stores.push(store);
    return limiter(spec, store);
  };
  const tokenPerIp = new FailureLimit('token-ip', settings.tokenFailuresPerIp, windowMs, (req) => ({
    key: addressKey(req),
    target: clientAddress(req),
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
      target: clientAddress,
      headers: true,
      onLimited: hard,
    }),
    loginPerUser: make({
      name: 'login-user',
      limit: settings.loginFailuresPerUser,
      windowMs,
      key: (req) => `user:${usernameLockKey(formUsername(req))}`,
      target: (req) => usernameLockKey(formUsername(req)),
      skip: (req) => trustedFor(req, usernameLockKey(formUsername(req))),
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
export class LockoutReporter {
  private readonly seen = new Map<string, { until: number; lastReport: number; refused: number }>();
  constructor(
    private readonly now: () => number = Date.now,
    private readonly everyMs = 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  /** Returns undefined when this refusal should not be reported, else how many were refused silently before it. */
  report(lockout: Lockout): { first: boolean; refusedSinceLast: number } | undefined {
    const now = this.now();
    const key = `${lockout.limiter}:${lockout.target}`;
    const entry = this.seen.get(key);
    if (!entry || entry.until <= now) {
      if (this.seen.size >= this.maxEntries) {
        for (const [k, v] of this.seen) if (v.until <= now) this.seen.delete(k);
        if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
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

/** The trace facts of a reported lockout refusal (login form and token endpoints alike). */
export function lockoutFacts(lockout: Lockout, report: { first: boolean; refusedSinceLast: number }): FailureFacts['rate_limited'] {
  return {
    limiter: lockout.limiter,
    target: lockout.target,
    retryAfter: lockout.retryAfterSeconds,
    lockoutStarted: report.first,
    refusedSinceLastReport: report.refusedSinceLast,
  };
}

/** Words for the operator: which limit, on what, and for how long. */
export function describeLockout(lockout: Lockout, settings: RateLimitSettings): string {
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
