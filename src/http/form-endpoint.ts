/**
 * The shape shared by the token, revocation and introspection endpoints: a urlencoded POST answered with JSON,
 * Cache-Control: no-store, RFC 6749 §5.2 errors, a database failure as 503 (never as invalid_grant, which would
 * make Alexa unlink), and one flow-trace entry per request. Brute-force locks (rate-limits.ts) are soft here: a
 * locked request is answered normally only when it succeeds outright, otherwise 429 whatever went wrong.
 */
import express, { Request, RequestHandler, Response } from 'express';
import { FlowStep } from '../log/flow-trace';
import { InvalidRequest, OAuthError, TemporarilyUnavailable } from '../oauth/errors';
import { Logger } from '../log/logger';
import { FAILURE_OUTCOME, TraceRecorder, TracedEvent } from '../oauth/failures';
import { TokenOutcome, TokenRequestFacts, TokenRequestInput } from '../oauth/token-endpoint';
import { isStoreError } from '../store/faults';
import { sendNoStoreJson, sendOAuthError } from './oauth-responses';
import { FailureLimit, Lockout, LockoutReporter, RateLimitSettings, clientAddress, describeLockout, lockoutFacts } from './rate-limits';
import { requestBasic } from './request-context';

/** What every form endpoint needs: the trace for one entry per request, the log for the unexpected. */
export interface FormEndpointDeps {
  trace: TraceRecorder;
  log: Pick<Logger, 'error'>;
}

export interface FormEndpointResult {
  body: unknown;
  /** What the trace records about the success. */
  trace?: Pick<TracedEvent, 'grantId' | 'username' | 'detail'>;
  /**
   * Whether the success proves the caller holds a valid grant credential beyond its client secret (default true).
   * Under a lockout only such successes are answered normally: a revocation of an unknown token or the
   * introspection of an inactive one also "succeeds", and would tell a guesser its client secret was right.
   */
  provesPossession?: boolean;
}

/** An endpoint's work on the parsed form: its outcome, with what was learnt about the request (oauth/token-endpoint.ts). */
export type FormHandler = (input: TokenRequestInput, req: Request) => TokenOutcome<FormEndpointResult>;

const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Whether the request carries a form body, by Express's rule (req.is: the Content-Type, and a body at all), worked out
 * once (kept in the request's locals): the body parser asks before reading, the endpoint before answering.
 */
export function isForm(req: Request): boolean {
  const locals = req.res?.locals;
  if (locals?.formTyped !== undefined) return locals.formTyped;
  const typed = Boolean(req.is(FORM_TYPE));
  if (locals) locals.formTyped = typed;
  return typed;
}

export const formBody = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32, type: (req) => isForm(req as Request) });

/** The failure limits of the token endpoints: per client address and per configured client named. */
export interface FormLimiters {
  perIp: FailureLimit;
  perClient: FailureLimit;
  settings: RateLimitSettings;
  reporter: LockoutReporter;
}

/** The locks a parsed token-endpoint request runs into. */
function lockoutsOf(limiters: FormLimiters, req: Request, res: Response): Lockout[] {
  const lockouts: Lockout[] = [];
  for (const limit of [limiters.perIp, limiters.perClient]) {
    const lockout = limit.lockout(req, res);
    if (lockout) lockouts.push(lockout);
  }
  return lockouts;
}

/**
 * Every refusal under a lock is answered this long after the request arrived, however far it got: a right secret
 * with a made-up token takes a database lookup that a wrong secret does not, and the answer's timing must not
 * tell them apart. Only failing requests wait (Alexa's are never refused), and it slows a guesser down too.
 */
export const LOCKOUT_ANSWER_MS = 250;

/** A request refused because of the locks it ran into. */
export interface LockedRequest {
  trace: TraceRecorder;
  limiters: Pick<FormLimiters, 'settings' | 'reporter'>;
  req: Request;
  res: Response;
  step: FlowStep;
  lockouts: Lockout[];
  /** What the request was learnt to be (client, grant type), for the trace. */
  request?: TokenRequestFacts;
  /** What it would have got, for the operator (never sent to the client). */
  failure?: OAuthError;
  /** When it arrived (process.hrtime.bigint()); default now. */
  startedNs?: bigint;
}

/** Answers a locked request 429 (at a fixed time after it arrived) and reports the lock (first refusal, then once a minute). */
export function refuseLocked({
  trace,
  limiters,
  req,
  res,
  step,
  lockouts,
  request = {},
  failure,
  startedNs = process.hrtime.bigint(),
}: LockedRequest): void {
  const retryAfter = Math.max(...lockouts.map((l) => l.retryAfterSeconds));
  const elapsedMs = Number((process.hrtime.bigint() - startedNs) / 1_000_000n);
  setTimeout(
    () => {
      if (res.headersSent || res.destroyed) return;
      res.setHeader('Retry-After', String(retryAfter));
      sendNoStoreJson(res, 429, {
        error: 'invalid_request',
        error_description: `too many failed requests; retry after ${retryAfter} seconds`,
      });
    },
    Math.max(0, LOCKOUT_ANSWER_MS - elapsedMs),
  );
  for (const lockout of lockouts) {
    const report = limiters.reporter.report(lockout);
    if (!report) continue;
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
        ...lockoutFacts(lockout, report),
        // What the refused request would have got, for the operator (never sent to the client).
        wouldHaveBeen: failure ? `${failure.code} (${failure.kind})` : 'not a success',
      },
      cause: describeLockout(lockout, limiters.settings),
    });
  }
}

/** A body that is not a form: refused before anything is read from it. */
function notAForm(req: Request): OAuthError {
  const contentType = req.get('content-type')?.slice(0, 100);
  return new InvalidRequest('the request body must be application/x-www-form-urlencoded', {
    kind: 'content_type',
    facts: contentType === undefined ? {} : { contentType },
    debug: `Content-Type was ${JSON.stringify(contentType ?? '(none)')}; OAuth endpoints take a form body`,
  });
}

export function formEndpoint(deps: FormEndpointDeps, step: FlowStep, limiters: FormLimiters, handle: FormHandler): RequestHandler[] {
  // Synchronous from the check of the locks to the count of a failure (rate-limits.ts FailureLimit).
  const run: RequestHandler = (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const lockouts = lockoutsOf(limiters, req, res);
    // Only failures count: a 4xx, the 429 of a locked request included; never a 5xx (our fault, say a database
    // outage, which must not lock Alexa out while it retries).
    const countFailure = () => {
      limiters.perIp.fail(req, res);
      limiters.perClient.fail(req, res);
    };
    const params = (req.body ?? {}) as Record<string, string | string[]>;
    const base = {
      requestId: res.locals.requestId,
      clientRequestId: res.locals.clientRequestId,
      step,
      ip: clientAddress(req),
      redirectUri: typeof params.redirect_uri === 'string' ? params.redirect_uri.slice(0, 2048) : undefined,
    };
    const elapsed = () => Number((process.hrtime.bigint() - started) / 1000n) / 1000;
    const outcome: TokenOutcome<FormEndpointResult> = isForm(req)
      ? handle({ params, basic: requestBasic(req, res) }, req)
      : { request: {}, ok: false, error: notAForm(req) };
    const { request } = outcome;
    if (outcome.ok) {
      const result = outcome.result;
      if (lockouts.length > 0 && result.provesPossession === false) {
        countFailure();
        refuseLocked({ trace: deps.trace, limiters, req, res, step, lockouts, request, startedNs: started });
        return;
      }
      sendNoStoreJson(res, 200, result.body);
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
    const error = err instanceof OAuthError ? err : storeFailure(err);
    // A StoreError was logged once by the store when the fault began; anything else is unexpected.
    if (!(err instanceof OAuthError) && !isStoreError(err))
      deps.log.error(`${step} request failed on an unexpected error`, {
        requestId: base.requestId,
        error: err instanceof Error ? err.stack : String(err),
      });
    if (error.status < 500) countFailure();
    // A server-side failure (503) is not the client's: it is never turned into a lockout refusal.
    if (lockouts.length > 0 && error.status < 500) {
      refuseLocked({ trace: deps.trace, limiters, req, res, step, lockouts, request, failure: error, startedNs: started });
      return;
    }
    sendOAuthError(res, error);
    deps.trace.record({
      ...base,
      outcome: FAILURE_OUTCOME[error.kind],
      clientId: request.clientId,
      grantType: request.grantType,
      error: error.code,
      ...error.failure,
      cause: error.debug,
      detail: { authScheme: request.authScheme, status: error.status, ms: elapsed() },
    });
  };
  return [formBody, run];
}

/** A database failure (or an unexpected error) as the 503 the client gets: retry, never "your grant is gone". */
export function storeFailure(err: unknown): OAuthError {
  const reason = err instanceof Error ? err.message : String(err);
  return new TemporarilyUnavailable('the server cannot reach its database right now; retry shortly', {
    kind: 'store_unavailable',
    facts: isStoreError(err) ? { fault: err.fault, reason } : { reason },
    debug: `database error: ${reason}; see /health`,
    cause: err,
  });
}
