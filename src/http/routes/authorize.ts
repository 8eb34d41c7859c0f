/**
 * The browser side of linking: GET /alexa/authorize validates the request and shows the login (or, when already
 * logged in, the consent) page; POST /alexa/login checks the password; GET/POST /alexa/consent approves or denies.
 * Forms post to relative URLs so the pages work under any reverse-proxy prefix that keeps /alexa/.
 */
import express, { Request, Response, Router } from 'express';
import { validateAuthorizeRequest } from '../../oauth/authorize-request';
import { issueCode } from '../../oauth/grants/authorization-code';
import { fingerprint, randomToken, safeEqual, tokenHash } from '../../oauth/secrets';
import { AuthRequestRecord, SessionRecord } from '../../store/records';
import { FLOW_TTL_MS, currentSession, ensureFlowToken, flowHashOf, startSession } from '../browser-session';
import { HttpDeps } from '../deps';
import { redirectWith } from '../oauth-responses';
import { NOT_ALLOWED_MESSAGE, consentPage, errorPage, loginPage } from '../pages/oauth-pages';
import { formField, issuerFor, queryParams } from '../request-context';

const RESTART_HINT = 'Start linking again from the Alexa app (Skills → your skill → Link Account).';

function sendPage(res: Response, status: number, body: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
}

export function authorizeRoutes(deps: HttpDeps, loginLimiters: express.RequestHandler[]): Router {
  const router = Router();
  const form = express.urlencoded({ extended: false, limit: '8kb', parameterLimit: 16 });
  const { grants, config, trace, clients } = deps;
  const repos = grants.repos;

  const traceBase = (req: Request, res: Response) => ({ requestId: res.locals.requestId, ip: req.ip });

  /** The pending request named by the form or query, if this browser started it. */
  async function pendingRequest(req: Request, requestId: string | undefined): Promise<
    { ok: true; record: AuthRequestRecord } | { ok: false; status: number; problem: string; kind: string }
  > {
    if (!requestId || requestId.length > 64) return { ok: false, status: 400, problem: 'This page is missing its link request.', kind: 'request_missing' };
    const record = await repos.authRequests.get(requestId);
    if (!record) return { ok: false, status: 400, problem: 'This link request has expired (after 15 minutes) or was already completed.', kind: 'request_expired' };
    const flow = flowHashOf(req);
    if (!flow || !safeEqual(flow, record.flowHash)) {
      return { ok: false, status: 403, problem: 'This link request was started in another browser, or this browser blocked its cookie.', kind: 'flow_mismatch' };
    }
    return { ok: true, record };
  }

  function formContext(res: Response, id: string, record: AuthRequestRecord) {
    return { requestId: id, csrf: record.csrf, clientId: record.clientId, nonce: res.locals.nonce };
  }

  function renderConsent(res: Response, id: string, record: AuthRequestRecord, session: SessionRecord): void {
    sendPage(res, 200, consentPage({
      ...formContext(res, id, record),
      username: session.username,
      scopes: record.scopes,
      redirectHost: new URL(record.redirectUri).host,
    }));
  }

  function renderLogin(res: Response, status: number, id: string, record: AuthRequestRecord, extra: { error?: string; username?: string } = {}): void {
    const noSources = deps.users.hasSources
      ? undefined
      : 'No one can log in yet: add a user under the add-on Configuration → users, or enable Home Assistant login (auth_api).';
    sendPage(res, status, loginPage({ ...formContext(res, id, record), ...extra, noSources, audience: deps.users.audience }));
  }

  router.get('/alexa/authorize', async (req, res) => {
    const params = queryParams(req);
    const base = { ...traceBase(req, res), step: 'authorize' as const, clientId: params.get('client_id')?.[0], redirectUri: params.get('redirect_uri')?.[0] };
    const result = validateAuthorizeRequest(params, clients);
    if (!result.ok) {
      trace.record({ ...base, outcome: 'error', error: result.error.code, kind: result.error.kind, cause: result.error.cause });
      if (!result.redirect) {
        sendPage(res, 400, errorPage(res.locals.nonce, 'This link request cannot be accepted', result.error.description, 'The skill\'s account-linking settings do not match this server. The server log and its Activity explain the exact difference.'));
        return;
      }
      res.redirect(303, redirectWith(result.redirectUri, {
        error: result.error.code,
        error_description: result.error.toJSON().error_description,
        state: result.state,
        iss: issuerFor(req, config),
      }));
      return;
    }
    const { request } = result;
    const flowToken = ensureFlowToken(req, res, config);
    const id = randomToken(16);
    const record: AuthRequestRecord = {
      clientId: request.client.clientId,
      redirectUri: request.redirectUri,
      redirectUriGiven: request.redirectUriGiven,
      scopes: request.scopes,
      state: request.state,
      codeChallenge: request.codeChallenge,
      flowHash: tokenHash(flowToken),
      csrf: randomToken(16),
      createdAt: grants.now(),
    };
    await repos.authRequests.put(id, record, FLOW_TTL_MS);
    trace.record({ ...base, outcome: 'ok', detail: { scopes: request.scopes, pkce: request.codeChallenge ? 'S256' : 'none', state: request.state !== undefined } });
    const session = await currentSession(req, repos);
    if (session) renderConsent(res, id, record, session);
    else renderLogin(res, 200, id, record);
  });

  router.post('/alexa/login', form, ...loginLimiters, async (req, res) => {
    const id = formField(req, 'request_id');
    const username = formField(req, 'username') ?? '';
    const pending = await pendingRequest(req, id);
    const base = { ...traceBase(req, res), step: 'login' as const, username: username.slice(0, 128) };
    if (!pending.ok) {
      trace.record({ ...base, outcome: 'error', kind: pending.kind, cause: pending.problem });
      sendPage(res, pending.status, errorPage(res.locals.nonce, 'Linking could not continue', pending.problem, RESTART_HINT));
      return;
    }
    const { record } = pending;
    const withClient = { ...base, clientId: record.clientId, redirectUri: record.redirectUri };
    if (!safeEqual(formField(req, 'csrf') ?? '', record.csrf)) {
      trace.record({ ...withClient, outcome: 'security', kind: 'csrf_mismatch', cause: 'login form posted without the CSRF token of its request' });
      sendPage(res, 403, errorPage(res.locals.nonce, 'Linking could not continue', 'The login form was not submitted from this server\'s page.', RESTART_HINT));
      return;
    }
    const result = await deps.users.login(username, formField(req, 'password') ?? '');
    if (!result.ok && result.reason === 'not_allowed') {
      trace.record({ ...withClient, outcome: 'security', username: result.username, kind: 'ha_user_not_allowed', cause: result.detail });
      renderLogin(res, 403, id!, record, { error: NOT_ALLOWED_MESSAGE, username });
      return;
    }
    if (!result.ok) {
      const unavailable = result.reason === 'unavailable';
      trace.record({
        ...withClient,
        outcome: 'error',
        kind: unavailable ? 'login_unavailable' : 'login_failed',
        cause: unavailable ? result.detail : `wrong username or password for "${username.slice(0, 128)}"`,
      });
      renderLogin(res, unavailable ? 503 : 401, id!, record, {
        error: unavailable ? `Login is not possible right now: ${result.detail}` : 'Wrong username or password.',
        username,
      });
      return;
    }
    await startSession(req, res, config, repos, { username: result.username, source: result.source, createdAt: grants.now() });
    trace.record({ ...withClient, outcome: 'ok', username: result.username, detail: { source: result.source } });
    res.redirect(303, `consent?request=${encodeURIComponent(id!)}`);
  });

  router.get('/alexa/consent', async (req, res) => {
    const id = queryParams(req).get('request')?.[0];
    const pending = await pendingRequest(req, id);
    if (!pending.ok) {
      sendPage(res, pending.status, errorPage(res.locals.nonce, 'Linking could not continue', pending.problem, RESTART_HINT));
      return;
    }
    const session = await currentSession(req, repos);
    if (session) renderConsent(res, id!, pending.record, session);
    else renderLogin(res, 200, id!, pending.record);
  });

  router.post('/alexa/consent', form, async (req, res) => {
    const id = formField(req, 'request_id');
    const pending = await pendingRequest(req, id);
    const base = { ...traceBase(req, res), step: 'consent' as const };
    if (!pending.ok) {
      trace.record({ ...base, outcome: 'error', kind: pending.kind, cause: pending.problem });
      sendPage(res, pending.status, errorPage(res.locals.nonce, 'Linking could not continue', pending.problem, RESTART_HINT));
      return;
    }
    const { record } = pending;
    const withClient = { ...base, clientId: record.clientId, redirectUri: record.redirectUri };
    if (!safeEqual(formField(req, 'csrf') ?? '', record.csrf)) {
      trace.record({ ...withClient, outcome: 'security', kind: 'csrf_mismatch', cause: 'consent form posted without the CSRF token of its request' });
      sendPage(res, 403, errorPage(res.locals.nonce, 'Linking could not continue', 'The approval was not submitted from this server\'s page.', RESTART_HINT));
      return;
    }
    const session = await currentSession(req, repos);
    if (!session) {
      renderLogin(res, 401, id!, record, { error: 'Your login has expired; log in again.' });
      return;
    }
    // One decision per request: a reloaded or replayed form cannot mint a second code. Take-and-remove under a
    // lock, so that the same form posted several times at once (double click, retries) decides only once.
    const claimed = await grants.lock.run(`authreq:${id}`, async () => {
      if (!(await repos.authRequests.get(id!))) return false;
      await repos.authRequests.remove(id!);
      return true;
    });
    if (!claimed) {
      trace.record({ ...withClient, outcome: 'error', kind: 'request_expired', cause: 'consent form posted again after its request was decided' });
      sendPage(res, 400, errorPage(res.locals.nonce, 'Linking could not continue', 'This link request has expired (after 15 minutes) or was already completed.', RESTART_HINT));
      return;
    }
    const iss = issuerFor(req, config);
    if (formField(req, 'decision') !== 'approve') {
      trace.record({ ...withClient, username: session.username, outcome: 'error', error: 'access_denied', kind: 'access_denied', cause: `${session.username} denied the request` });
      res.redirect(303, redirectWith(record.redirectUri, { error: 'access_denied', error_description: 'the owner denied the request', state: record.state, iss }));
      return;
    }
    const code = await issueCode(grants, record, session.username);
    trace.record({ ...withClient, username: session.username, outcome: 'ok', detail: { code: fingerprint(code), scopes: record.scopes } });
    res.redirect(303, redirectWith(record.redirectUri, { code, state: record.state, iss }));
  });

  return router;
}
