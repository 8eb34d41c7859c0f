/**
 * The browser side of linking: GET /alexa/authorize validates the request and shows the login (or, when already
 * logged in, the consent) page; POST /alexa/login checks the password; GET/POST /alexa/consent approves or denies.
 * The pending request itself travels sealed in the forms (oauth/authorization-flow.ts): nothing is stored before
 * the owner logs in. Forms post to relative URLs so the pages work under any reverse-proxy prefix that keeps /alexa/.
 */
import express, { Request, Response, Router } from 'express';
import type Keyv from 'keyv';
import { UserAuthenticator } from '../../auth/user-authenticator';
import { Config } from '../../config/config';
import { usernameLockKey } from '../../config/username';
import { fingerprint, safeEqual, tokenHash } from '../../crypto/tokens';
import { FlowStep } from '../../log/flow-trace';
import { PendingRequest, decide, deviceProof, openPendingRequest, startAuthorization } from '../../oauth/authorization-flow';
import { validateAuthorizeRequest } from '../../oauth/authorize-request';
import { ClientRegistry } from '../../oauth/client-auth';
import { TraceRecorder } from '../../oauth/failures';
import { GrantDeps } from '../../oauth/grant-deps';
import { SessionRecord } from '../../store/records';
import { currentSession, ensureFlowToken, flowHashOf, rememberDevice, startSession } from '../browser-session';
import { redirectWith } from '../oauth-responses';
import { NOT_ALLOWED_MESSAGE, consentPage, errorPage, loginPage } from '../pages/oauth-pages';
import { formField, issuerFor, queryParams } from '../request-context';

const RESTART_HINT = 'Start linking again from the Alexa app (Skills → your skill → Link Account).';

const PROBLEMS = {
  request_missing: { status: 400, problem: 'This page is missing its link request.' },
  request_expired: { status: 400, problem: 'This link request has expired (after 15 minutes) or was already completed.' },
  flow_mismatch: { status: 403, problem: 'This link request was started in another browser, or this browser blocked its cookie.' },
} as const;

type Pending = { ok: true; pending: PendingRequest; sealed: string; expired: boolean } | { ok: false; kind: keyof typeof PROBLEMS };

function sendPage(res: Response, status: number, body: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
}

export interface AuthorizeDeps {
  config: Pick<Config, 'publicUrl'>;
  grants: GrantDeps;
  clients: ClientRegistry;
  /** Login sessions. */
  sessions: Keyv<SessionRecord>;
  users: UserAuthenticator;
  trace: TraceRecorder;
}

export function createAuthorizeRoutes(deps: AuthorizeDeps, loginLimiters: express.RequestHandler[]): Router {
  const router = Router();
  // A sealed request with a 2 KB state is about 3 KB of base64url.
  const form = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 16 });
  const { grants, config, trace, clients, sessions, users } = deps;

  const traceBase = (req: Request, res: Response) => ({
    requestId: res.locals.requestId,
    clientRequestId: res.locals.clientRequestId,
    ip: req.ip,
  });

  /**
   * The sealed request a form or query carried, if it is genuine and this browser started it; one past its time is
   * refused unless `allowExpired` (the consent POST, which may still repeat a decision made in time).
   */
  function pendingRequest(req: Request, sealed: string | undefined, allowExpired = false): Pending {
    const opened = openPendingRequest(grants, sealed);
    if (!opened.ok) return opened;
    if (opened.expired && !allowExpired) return { ok: false, kind: 'request_expired' };
    const flow = flowHashOf(req);
    if (!flow || !safeEqual(flow, opened.pending.flowHash)) return { ok: false, kind: 'flow_mismatch' };
    return { ok: true, pending: opened.pending, sealed: sealed!, expired: opened.expired };
  }

  function refuse(req: Request, res: Response, step: FlowStep, kind: keyof typeof PROBLEMS, record: boolean): void {
    const { status, problem } = PROBLEMS[kind];
    if (record) trace.record({ ...traceBase(req, res), step, outcome: 'error', kind, facts: {}, cause: problem });
    sendPage(res, status, errorPage(res.locals.nonce, 'Linking could not continue', problem, RESTART_HINT));
  }

  function formContext(res: Response, sealed: string, pending: PendingRequest) {
    return { requestId: sealed, csrf: pending.csrf, clientId: pending.clientId, nonce: res.locals.nonce };
  }

  function renderConsent(res: Response, sealed: string, pending: PendingRequest, session: SessionRecord): void {
    sendPage(
      res,
      200,
      consentPage({
        ...formContext(res, sealed, pending),
        username: session.username,
        scopes: pending.scopes,
        redirectHost: new URL(pending.redirectUri).host,
      }),
    );
  }

  function renderLogin(
    res: Response,
    status: number,
    sealed: string,
    pending: PendingRequest,
    extra: { error?: string; username?: string } = {},
  ): void {
    const noSources = users.hasSources
      ? undefined
      : 'No one can log in yet: add a user under the add-on Configuration → users, or enable Home Assistant login (auth_api).';
    sendPage(res, status, loginPage({ ...formContext(res, sealed, pending), ...extra, noSources, audience: users.audience }));
  }

  router.get('/alexa/authorize', async (req, res) => {
    const params = queryParams(req);
    const base = {
      ...traceBase(req, res),
      step: 'authorize' as const,
      clientId: params.get('client_id')?.[0],
      redirectUri: params.get('redirect_uri')?.[0],
    };
    const result = validateAuthorizeRequest(params, clients);
    if (!result.ok) {
      trace.record({ ...base, outcome: 'error', error: result.error.code, ...result.error.failure, cause: result.error.debug });
      if (!result.redirect) {
        sendPage(
          res,
          400,
          errorPage(
            res.locals.nonce,
            'This link request cannot be accepted',
            result.error.description,
            "The skill's account-linking settings do not match this server. The server log and its Activity explain the exact difference.",
          ),
        );
        return;
      }
      res.redirect(
        303,
        redirectWith(result.redirectUri, {
          error: result.error.code,
          error_description: result.error.toJSON().error_description,
          state: result.state,
          iss: issuerFor(req, config),
        }),
      );
      return;
    }
    const { request } = result;
    const flowToken = ensureFlowToken(req, res, config);
    const { pending, sealed } = startAuthorization(grants, request, tokenHash(flowToken));
    trace.record({
      ...base,
      outcome: 'ok',
      detail: { scopes: request.scopes, pkce: request.codeChallenge ? 'S256' : 'none', state: request.state !== undefined },
    });
    const session = await currentSession(req, sessions);
    if (session) renderConsent(res, sealed, pending, session);
    else renderLogin(res, 200, sealed, pending);
  });

  /**
   * The first step of both form posts (login, consent): the sealed request must be genuine and this browser's, and
   * the form must carry its CSRF token. Answers the refusal itself and returns undefined, or the opened request
   * with the trace fields every later entry of this step carries.
   */
  function openForm(req: Request, res: Response, step: 'login' | 'consent', extra: { username?: string }, allowExpired = false) {
    const found = pendingRequest(req, formField(req, 'request_id'), allowExpired);
    if (!found.ok) {
      refuse(req, res, step, found.kind, true);
      return undefined;
    }
    const { pending } = found;
    const withClient = { ...traceBase(req, res), step, ...extra, clientId: pending.clientId, redirectUri: pending.redirectUri };
    if (!safeEqual(formField(req, 'csrf') ?? '', pending.csrf)) {
      trace.record({
        ...withClient,
        outcome: 'security',
        kind: 'csrf_mismatch',
        facts: { form: step },
        cause: `${step} form posted without the CSRF token of its request`,
      });
      const what = step === 'login' ? 'The login form was' : 'The approval was';
      sendPage(
        res,
        403,
        errorPage(res.locals.nonce, 'Linking could not continue', `${what} not submitted from this server's page.`, RESTART_HINT),
      );
      return undefined;
    }
    return { ...found, withClient };
  }

  router.post('/alexa/login', form, ...loginLimiters, async (req, res) => {
    const username = formField(req, 'username') ?? '';
    const opened = openForm(req, res, 'login', { username: username.slice(0, 128) });
    if (!opened) return;
    const { pending, sealed, withClient } = opened;
    const result = await users.login(username, formField(req, 'password') ?? '');
    if (!result.ok && result.reason === 'not_allowed') {
      trace.record({
        ...withClient,
        outcome: 'security',
        username: result.username,
        kind: 'ha_user_not_allowed',
        facts: {},
        cause: result.detail,
      });
      renderLogin(res, 403, sealed, pending, { error: NOT_ALLOWED_MESSAGE, username });
      return;
    }
    if (!result.ok) {
      const unavailable = result.reason === 'unavailable';
      trace.record({
        ...withClient,
        outcome: 'error',
        ...(unavailable
          ? { kind: 'login_unavailable' as const, facts: { reason: result.detail } }
          : { kind: 'login_failed' as const, facts: {} }),
        cause: unavailable ? result.detail : `wrong username or password for "${username.slice(0, 128)}"`,
      });
      renderLogin(res, unavailable ? 503 : 401, sealed, pending, {
        error: unavailable ? `Login is not possible right now: ${result.detail}` : 'Wrong username or password.',
        username,
      });
      return;
    }
    await startSession(req, res, config, sessions, { username: result.username, source: result.source, createdAt: grants.now() });
    rememberDevice(req, res, config, deviceProof(grants, usernameLockKey(username)));
    trace.record({ ...withClient, outcome: 'ok', username: result.username, detail: { source: result.source } });
    res.redirect(303, `consent?request=${encodeURIComponent(sealed)}`);
  });

  router.get('/alexa/consent', async (req, res) => {
    const found = pendingRequest(req, queryParams(req).get('request')?.[0]);
    if (!found.ok) {
      refuse(req, res, 'consent', found.kind, false);
      return;
    }
    const session = await currentSession(req, sessions);
    if (session) renderConsent(res, found.sealed, found.pending, session);
    else renderLogin(res, 200, found.sealed, found.pending);
  });

  router.post('/alexa/consent', form, async (req, res) => {
    const opened = openForm(req, res, 'consent', {}, true);
    if (!opened) return;
    const { pending, sealed, expired, withClient } = opened;
    const session = await currentSession(req, sessions);
    if (!session) {
      if (expired) refuse(req, res, 'consent', 'request_expired', true);
      else renderLogin(res, 401, sealed, pending, { error: 'Your login has expired; log in again.' });
      return;
    }
    const decision = decide(grants, pending, session.username, formField(req, 'decision') === 'approve', expired);
    if (decision.outcome === 'expired') {
      refuse(req, res, 'consent', 'request_expired', true);
      return;
    }
    const iss = issuerFor(req, config);
    const who = { ...withClient, username: session.username };
    if (decision.outcome === 'already_decided') {
      const decidedSecondsAgo = Math.round((grants.now() - decision.decidedAt) / 1000);
      trace.record({
        ...who,
        outcome: 'error',
        kind: 'request_expired',
        facts: { decidedSecondsAgo },
        cause: `consent form posted again ${decidedSecondsAgo} s after its request was decided`,
      });
      sendPage(res, 400, errorPage(res.locals.nonce, 'Linking could not continue', PROBLEMS.request_expired.problem, RESTART_HINT));
      return;
    }
    if (decision.outcome === 'denied') {
      trace.record({
        ...who,
        outcome: 'error',
        error: 'access_denied',
        kind: 'access_denied',
        facts: { repeated: decision.repeated },
        cause: `${session.username} denied the request`,
      });
      res.redirect(
        303,
        redirectWith(pending.redirectUri, {
          error: 'access_denied',
          error_description: 'the owner denied the request',
          state: pending.state,
          iss,
        }),
      );
      return;
    }
    trace.record({
      ...who,
      outcome: 'ok',
      detail: { code: fingerprint(decision.code), scopes: pending.scopes, repeated: decision.repeated },
    });
    res.redirect(303, redirectWith(pending.redirectUri, { code: decision.code, state: pending.state, iss }));
  });

  return router;
}
