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
Object.defineProperty(exports, "__esModule", { value: true });
exports.createAuthorizeRoutes = createAuthorizeRoutes;
/**
 * The browser side of linking: GET /alexa/authorize validates the request and shows the login (or, when already
 * logged in, the consent) page; POST /alexa/login checks the password; GET/POST /alexa/consent approves or denies.
 * The pending request itself travels sealed in the forms (oauth/authorization-flow.ts): nothing is stored before
 * the owner logs in. Forms post to relative URLs so the pages work under any reverse-proxy prefix that keeps /alexa/.
 */
const express_1 = __importStar(require("express"));
const tokens_1 = require("../../crypto/tokens");
const authorization_flow_1 = require("../../oauth/authorization-flow");
const authorize_request_1 = require("../../oauth/authorize-request");
const browser_session_1 = require("../browser-session");
const oauth_responses_1 = require("../oauth-responses");
const oauth_pages_1 = require("../pages/oauth-pages");
const request_context_1 = require("../request-context");
const RESTART_HINT = 'Start linking again from the Alexa app (Skills → your skill → Link Account).';
const PROBLEMS = {
    request_missing: { status: 400, problem: 'This page is missing its link request.' },
    request_expired: { status: 400, problem: 'This link request has expired (after 15 minutes) or was already completed.' },
    flow_mismatch: { status: 403, problem: 'This link request was started in another browser, or this browser blocked its cookie.' },
};
function sendPage(res, status, body) {
    res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
}
function createAuthorizeRoutes(deps, loginLimiters) {
    const router = (0, express_1.Router)();
    // A sealed request with a 2 KB state is about 3 KB of base64url.
    const form = express_1.default.urlencoded({ extended: false, limit: '16kb', parameterLimit: 16 });
    const { grants, config, trace, clients, sessions, users } = deps;
    const traceBase = (req, res) => ({
        requestId: res.locals.requestId,
        clientRequestId: res.locals.clientRequestId,
        ip: req.ip,
    });
    /**
     * The sealed request a form or query carried, if it is genuine and this browser started it; one past its time is
     * refused unless `allowExpired` (the consent POST, which may still repeat a decision made in time).
     */
    function pendingRequest(req, sealed, allowExpired = false) {
        const opened = (0, authorization_flow_1.openPendingRequest)(grants, sealed);
        if (!opened.ok)
            return opened;
        if (opened.expired && !allowExpired)
            return { ok: false, kind: 'request_expired' };
        const flow = (0, browser_session_1.flowHashOf)(req);
        if (!flow || !(0, tokens_1.safeEqual)(flow, opened.pending.flowHash))
            return { ok: false, kind: 'flow_mismatch' };
        return { ok: true, pending: opened.pending, sealed: sealed, expired: opened.expired };
    }
    function refuse(req, res, step, kind, record) {
        const { status, problem } = PROBLEMS[kind];
        if (record)
            trace.record({ ...traceBase(req, res), step, outcome: 'error', kind, facts: {}, cause: problem });
        sendPage(res, status, (0, oauth_pages_1.errorPage)(res.locals.nonce, 'Linking could not continue', problem, RESTART_HINT));
    }
    function formContext(res, sealed, pending) {
        return { requestId: sealed, csrf: pending.csrf, clientId: pending.clientId, nonce: res.locals.nonce };
    }
    function renderConsent(res, sealed, pending, session) {
        sendPage(res, 200, (0, oauth_pages_1.consentPage)({
            ...formContext(res, sealed, pending),
            username: session.username,
            scopes: pending.scopes,
            redirectHost: new URL(pending.redirectUri).host,
        }));
    }
    function renderLogin(res, status, sealed, pending, extra = {}) {
        const noSources = users.hasSources
            ? undefined
            : 'No one can log in yet: add a user under the add-on Configuration → users, or enable Home Assistant login (auth_api).';
        sendPage(res, status, (0, oauth_pages_1.loginPage)({ ...formContext(res, sealed, pending), ...extra, noSources, audience: users.audience }));
    }
    router.get('/alexa/authorize', async (req, res) => {
        const params = (0, request_context_1.queryParams)(req);
        const base = {
            ...traceBase(req, res),
            step: 'authorize',
            clientId: params.get('client_id')?.[0],
            redirectUri: params.get('redirect_uri')?.[0],
        };
        const result = (0, authorize_request_1.validateAuthorizeRequest)(params, clients);
        if (!result.ok) {
            trace.record({ ...base, outcome: 'error', error: result.error.code, ...result.error.failure, cause: result.error.debug });
            if (!result.redirect) {
                sendPage(res, 400, (0, oauth_pages_1.errorPage)(res.locals.nonce, 'This link request cannot be accepted', result.error.description, "The skill's account-linking settings do not match this server. The server log and its Activity explain the exact difference."));
                return;
            }
            res.redirect(303, (0, oauth_responses_1.redirectWith)(result.redirectUri, {
                error: result.error.code,
                error_description: result.error.toJSON().error_description,
                state: result.state,
                iss: (0, request_context_1.issuerFor)(req, config),
            }));
            return;
        }
        const { request } = result;
        const flowToken = (0, browser_session_1.ensureFlowToken)(req, res, config);
        const { pending, sealed } = (0, authorization_flow_1.startAuthorization)(grants, request, (0, tokens_1.tokenHash)(flowToken));
        trace.record({
            ...base,
            outcome: 'ok',
            detail: { scopes: request.scopes, pkce: request.codeChallenge ? 'S256' : 'none', state: request.state !== undefined },
        });
        const session = await (0, browser_session_1.currentSession)(req, sessions);
        if (session)
            renderConsent(res, sealed, pending, session);
        else
            renderLogin(res, 200, sealed, pending);
    });
    /**
     * The first step of both form posts (login, consent): the sealed request must be genuine and this browser's, and
     * the form must carry its CSRF token. Answers the refusal itself and returns undefined, or the opened request
     * with the trace fields every later entry of this step carries.
     */
    function openForm(req, res, step, extra, allowExpired = false) {
        const found = pendingRequest(req, (0, request_context_1.formField)(req, 'request_id'), allowExpired);
        if (!found.ok) {
            refuse(req, res, step, found.kind, true);
            return undefined;
        }
        const { pending } = found;
        const withClient = { ...traceBase(req, res), step, ...extra, clientId: pending.clientId, redirectUri: pending.redirectUri };
        if (!(0, tokens_1.safeEqual)((0, request_context_1.formField)(req, 'csrf') ?? '', pending.csrf)) {
            trace.record({
                ...withClient,
                outcome: 'security',
                kind: 'csrf_mismatch',
                facts: { form: step },
                cause: `${step} form posted without the CSRF token of its request`,
            });
            const what = step === 'login' ? 'The login form was' : 'The approval was';
            sendPage(res, 403, (0, oauth_pages_1.errorPage)(res.locals.nonce, 'Linking could not continue', `${what} not submitted from this server's page.`, RESTART_HINT));
            return undefined;
        }
        return { ...found, withClient };
    }
    router.post('/alexa/login', form, ...loginLimiters, async (req, res) => {
        const username = (0, request_context_1.formField)(req, 'username') ?? '';
        const opened = openForm(req, res, 'login', { username: username.slice(0, 128) });
        if (!opened)
            return;
        const { pending, sealed, withClient } = opened;
        const result = await users.login(username, (0, request_context_1.formField)(req, 'password') ?? '');
        if (!result.ok && result.reason === 'not_allowed') {
            trace.record({
                ...withClient,
                outcome: 'security',
                username: result.username,
                kind: 'ha_user_not_allowed',
                facts: {},
                cause: result.detail,
            });
            renderLogin(res, 403, sealed, pending, { error: oauth_pages_1.NOT_ALLOWED_MESSAGE, username });
            return;
        }
        if (!result.ok) {
            const unavailable = result.reason === 'unavailable';
            trace.record({
                ...withClient,
                outcome: 'error',
                ...(unavailable
                    ? { kind: 'login_unavailable', facts: { reason: result.detail } }
                    : { kind: 'login_failed', facts: {} }),
                cause: unavailable ? result.detail : `wrong username or password for "${username.slice(0, 128)}"`,
            });
            renderLogin(res, unavailable ? 503 : 401, sealed, pending, {
                error: unavailable ? `Login is not possible right now: ${result.detail}` : 'Wrong username or password.',
                username,
            });
            return;
        }
        await (0, browser_session_1.startSession)(req, res, config, sessions, { username: result.username, source: result.source, createdAt: grants.now() });
        trace.record({ ...withClient, outcome: 'ok', username: result.username, detail: { source: result.source } });
        res.redirect(303, `consent?request=${encodeURIComponent(sealed)}`);
    });
    router.get('/alexa/consent', async (req, res) => {
        const found = pendingRequest(req, (0, request_context_1.queryParams)(req).get('request')?.[0]);
        if (!found.ok) {
            refuse(req, res, 'consent', found.kind, false);
            return;
        }
        const session = await (0, browser_session_1.currentSession)(req, sessions);
        if (session)
            renderConsent(res, found.sealed, found.pending, session);
        else
            renderLogin(res, 200, found.sealed, found.pending);
    });
    router.post('/alexa/consent', form, async (req, res) => {
        const opened = openForm(req, res, 'consent', {}, true);
        if (!opened)
            return;
        const { pending, sealed, expired, withClient } = opened;
        const session = await (0, browser_session_1.currentSession)(req, sessions);
        if (!session) {
            if (expired)
                refuse(req, res, 'consent', 'request_expired', true);
            else
                renderLogin(res, 401, sealed, pending, { error: 'Your login has expired; log in again.' });
            return;
        }
        const decision = (0, authorization_flow_1.decide)(grants, pending, session.username, (0, request_context_1.formField)(req, 'decision') === 'approve', expired);
        if (decision.outcome === 'expired') {
            refuse(req, res, 'consent', 'request_expired', true);
            return;
        }
        const iss = (0, request_context_1.issuerFor)(req, config);
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
            sendPage(res, 400, (0, oauth_pages_1.errorPage)(res.locals.nonce, 'Linking could not continue', PROBLEMS.request_expired.problem, RESTART_HINT));
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
            res.redirect(303, (0, oauth_responses_1.redirectWith)(pending.redirectUri, {
                error: 'access_denied',
                error_description: 'the owner denied the request',
                state: pending.state,
                iss,
            }));
            return;
        }
        trace.record({
            ...who,
            outcome: 'ok',
            detail: { code: (0, tokens_1.fingerprint)(decision.code), scopes: pending.scopes, repeated: decision.repeated },
        });
        res.redirect(303, (0, oauth_responses_1.redirectWith)(pending.redirectUri, { code: decision.code, state: pending.state, iss }));
    });
    return router;
}
//# sourceMappingURL=authorize.js.map