"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.NOTIFICATION_ID_PREFIX = exports.NOTIFIED_KINDS = exports.CATEGORY = void 0;
exports.eventFromTrace = eventFromTrace;
exports.identify = identify;
exports.wordsFor = wordsFor;
/**
 * What the owner is told in Home Assistant, and about what: the causes of a notification as a typed union with
 * their facts, the one table that maps flow-trace failures to them, and the words of each (what happened, why,
 * what to do). Facts are data, never a parsed `cause` string; the `cause` texts of the trace, which carry
 * fingerprints and compared values for the log, are never copied into a notification.
 */
const alexa_1 = require("../config/alexa");
const failures_1 = require("../oauth/failures");
const notice_text_1 = require("./notice-text");
exports.CATEGORY = {
    redirect_uri_unregistered: 'setup',
    redirect_uri_changed: 'setup',
    unknown_client: 'setup',
    client_secret_mismatch: 'setup',
    client_secret_missing: 'setup',
    public_client_secret: 'setup',
    pkce_mismatch: 'setup',
    grant_revoked: 'link',
    refresh_expired: 'link',
    refresh_superseded: 'link',
    code_replay: 'security',
    refresh_reuse: 'security',
    login_lockout: 'security',
    client_lockout: 'security',
    storage_fault: 'storage',
    storage_recovered: 'storage',
};
const str = (v) => (typeof v === 'string' ? v : undefined);
/**
 * Flow-trace failure kind -> notification. Kinds absent here are not notified: they are the client's or a
 * guesser's business (an unknown refresh token, a malformed request) and the admin page's Activity explains them.
 */
const FROM_TRACE = {
    // At the token step the same kind means the redirect_uri changed between authorization and token request.
    redirect_uri_mismatch: (e) => e.step === 'authorize'
        ? { cause: 'redirect_uri_unregistered', clientId: e.clientId, redirectUri: e.redirectUri }
        : { cause: 'redirect_uri_changed', clientId: e.clientId },
    unknown_client: (e) => ({ cause: 'unknown_client', clientId: e.clientId }),
    client_secret_mismatch: (e, facts) => ({
        cause: 'client_secret_mismatch',
        clientId: e.clientId,
        scheme: facts?.scheme ?? str(e.detail?.authScheme),
    }),
    client_secret_missing: (e) => ({ cause: 'client_secret_missing', clientId: e.clientId }),
    public_client_secret: (e) => ({ cause: 'public_client_secret', clientId: e.clientId }),
    pkce_mismatch: (e) => ({ cause: 'pkce_mismatch', clientId: e.clientId }),
    grant_revoked: (e) => ({ cause: 'grant_revoked', clientId: e.clientId }),
    refresh_expired: (e) => ({ cause: 'refresh_expired', clientId: e.clientId }),
    // The grant itself expired from disuse (its record is gone, the token's not yet).
    grant_missing: (e) => ({ cause: 'refresh_expired', clientId: e.clientId }),
    // A refresh token used outside the grace window after it was replaced (confidential clients: no revocation).
    refresh_superseded: (e) => ({ cause: 'refresh_superseded', clientId: e.clientId }),
    code_replay: (e) => ({ cause: 'code_replay', clientId: e.clientId }),
    refresh_reuse: (e) => ({ cause: 'refresh_reuse', clientId: e.clientId }),
    rate_limited: (_e, facts) => {
        if (!facts)
            return undefined;
        const { limiter, target, retryAfter: retryAfterSeconds } = facts;
        if (limiter === 'login-ip' || limiter === 'login-user')
            return { cause: 'login_lockout', by: limiter === 'login-ip' ? 'address' : 'username', target, retryAfterSeconds };
        return { cause: 'client_lockout', by: limiter === 'token-ip' ? 'address' : 'client', target, retryAfterSeconds };
    },
};
function fromTrace(kind, e) {
    const table = FROM_TRACE;
    const map = table[kind];
    return map?.(e, e.facts);
}
/** The notification a flow-trace entry calls for, if any. */
function eventFromTrace(e) {
    if (e.outcome === 'ok' || !(0, failures_1.isFailureKind)(e.kind))
        return undefined;
    return fromTrace(e.kind, e);
}
/** Every trace kind that can raise a notification. */
exports.NOTIFIED_KINDS = Object.keys(FROM_TRACE).filter((k) => FROM_TRACE[k] !== undefined);
exports.NOTIFICATION_ID_PREFIX = 'music_assistant_alexa_oauth_';
/** Causes whose fix names the client: one throttle and one notification per configured client. */
const PER_CLIENT = new Set([
    'redirect_uri_unregistered',
    'client_secret_mismatch',
    'client_secret_missing',
    'public_client_secret',
    'pkce_mismatch',
]);
/**
 * The throttle key and Home Assistant notification_id of an event: the cause, plus the client id where the fix
 * differs per client and the id is a configured one (ids sent by strangers would let them mint unlimited keys).
 * A database fault and its recovery share one notification, so the recovery replaces the fault.
 */
function identify(e, isConfiguredClient) {
    if (e.cause === 'storage_fault' || e.cause === 'storage_recovered')
        return { key: e.cause, notificationId: `${exports.NOTIFICATION_ID_PREFIX}storage` };
    const clientId = 'clientId' in e ? e.clientId : undefined;
    if (PER_CLIENT.has(e.cause) && clientId !== undefined && isConfiguredClient(clientId)) {
        const slug = clientId
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '_')
            .replace(/^_+|_+$/g, '')
            .slice(0, 40);
        return { key: `${e.cause}:${clientId}`, notificationId: `${exports.NOTIFICATION_ID_PREFIX}${e.cause}${slug ? `_${slug}` : ''}` };
    }
    return { key: e.cause, notificationId: `${exports.NOTIFICATION_ID_PREFIX}${e.cause}` };
}
const CONFIG = (0, notice_text_1.words)('the add-on Configuration tab');
// A plain string, not template text: dist/main.js stays ASCII only (tests/addon/server-bundle.test.ts).
const ACCOUNT_LINKING = (0, notice_text_1.words)('Build → Account Linking');
const RELINK = (0, notice_text_1.words)('The user links again in the Alexa app (Skills → Your Skills → the skill → Link Account).');
const client = (id) => (id ? (0, notice_text_1.t) `client ${id}` : (0, notice_text_1.words)('the client'));
const minutes = (s) => (0, notice_text_1.words)(s ? `${Math.max(1, Math.round(s / 60))} min` : 'a while');
/** A value, or our words when it is unknown (never quote our own fallback as if it were data). */
const valueOr = (v, fallback) => (v ? (0, notice_text_1.t) `${v}` : (0, notice_text_1.words)(fallback));
function redirectAdvice(e, ctx) {
    const uri = e.redirectUri ?? '';
    const vendor = (0, alexa_1.parseAlexaRedirect)(uri)?.vendorId;
    if (vendor === undefined) {
        // Anyone can send any redirect_uri: never advise registering one that is not Alexa's.
        return (0, notice_text_1.t) `This is not an Alexa redirect URL. Add it only if it is the address of an app of yours; otherwise someone probed the server and there is nothing to do (the request was refused and nothing was sent to that address).`;
    }
    const registered = ctx.clients.find((c) => c.clientId === e.clientId)?.redirectUris ?? [];
    const vendors = [...new Set(registered.map((r) => (0, alexa_1.parseAlexaRedirect)(r)?.vendorId).filter((v) => Boolean(v)))];
    const otherVendor = vendors.length > 0 && !vendors.includes(vendor);
    return [
        ...(0, notice_text_1.t) `In ${CONFIG}, add it exactly as shown to ${'redirect_uris'} of ${client(e.clientId)}, save, restart the add-on and link again.`,
        ...(otherVendor
            ? (0, notice_text_1.t) ` The registered ones use the vendor ID ${vendors.join(', ')}, this one ${vendor}: copy all three "Alexa Redirect URLs" from the skill's Account Linking page of the Alexa developer console (they replace the old ones).`
            : (0, notice_text_1.t) ` Alexa uses the URL of the user's Amazon region, so register all three "Alexa Redirect URLs" of the skill's Account Linking page.`),
    ];
}
const WORDS = {
    redirect_uri_unregistered: (e, ctx) => ({
        title: 'Alexa linking failed: redirect URI not registered',
        happened: (0, notice_text_1.t) `A linking attempt for ${client(e.clientId)} asked to return to ${valueOr(e.redirectUri, 'an address')}, which is not one of its registered redirect URIs.`,
        why: (0, notice_text_1.words)('Only registered redirect URIs are accepted, exactly as written, so that a login can never be sent to someone else.'),
        fix: redirectAdvice(e, ctx),
    }),
    redirect_uri_changed: (e) => ({
        title: 'Alexa linking failed: redirect URI changed',
        happened: (0, notice_text_1.t) `The token request of ${client(e.clientId)} named another redirect URI than the one linking started with.`,
        why: (0, notice_text_1.words)('Both requests must carry the identical redirect URI; something changed it on the way.'),
        fix: [
            ...RELINK,
            ...(0, notice_text_1.words)(' If it happens again, check that nothing between Alexa and this add-on (a reverse proxy) rewrites the body of /alexa/token.'),
        ],
    }),
    unknown_client: (e, ctx) => ({
        title: 'Alexa linking failed: unknown client ID',
        happened: (0, notice_text_1.t) `A request came with the client ID ${valueOr(e.clientId, '(none)')}, which is not configured here (configured: ${ctx.clients.map((c) => c.clientId).join(', ') || '(none)'}).`,
        why: (0, notice_text_1.words)('Client IDs must match exactly, including upper and lower case.'),
        fix: (0, notice_text_1.t) `Make "Your Client ID" in the Alexa developer console (${ACCOUNT_LINKING}) equal to ${'client_id'} under ${'clients'} in ${CONFIG}, then link again. If you never set up such a client, someone probed the server and there is nothing to do.`,
    }),
    client_secret_mismatch: (e) => ({
        title: 'Alexa linking failed: wrong client secret',
        happened: [
            ...(0, notice_text_1.t) `A token request of ${client(e.clientId)} carried a client secret that is not the configured one`,
            ...(e.scheme === 'basic'
                ? (0, notice_text_1.words)(' (sent by HTTP Basic).')
                : e.scheme === 'body'
                    ? (0, notice_text_1.words)(' (sent in the request body).')
                    : (0, notice_text_1.words)('.')),
        ],
        why: (0, notice_text_1.words)('The Alexa console and this add-on must hold the same secret; Alexa sends it with every token request.'),
        fix: (0, notice_text_1.t) `Make "Your Secret" in the Alexa developer console (${ACCOUNT_LINKING}) and ${'client_secret'} of ${client(e.clientId)} in ${CONFIG} the same value, then link again.`,
    }),
    client_secret_missing: (e) => ({
        title: 'Alexa linking failed: client secret missing',
        happened: (0, notice_text_1.t) `A token request of ${client(e.clientId)} carried no client secret, but the client is configured as confidential.`,
        why: (0, notice_text_1.words)('A confidential client must authenticate with its secret.'),
        fix: (0, notice_text_1.t) `In the Alexa developer console fill in "Your Secret" with ${'client_secret'} from ${CONFIG}; either authentication scheme works.`,
    }),
    public_client_secret: (e) => ({
        title: 'Alexa linking failed: public client sent a secret',
        happened: (0, notice_text_1.t) `A token request of ${client(e.clientId)} carried a client secret, but the client is configured as public.`,
        why: (0, notice_text_1.words)('Alexa always sends a secret, so its client must be confidential.'),
        fix: (0, notice_text_1.t) `In ${CONFIG} set ${'client_type'} of ${client(e.clientId)} to ${'confidential'} and ${'client_secret'} to the value of "Your Secret" in the Alexa developer console.`,
    }),
    pkce_mismatch: (e) => ({
        title: 'Alexa linking failed: PKCE verification failed',
        happened: (0, notice_text_1.t) `The code_verifier of a token request of ${client(e.clientId)} does not match the code_challenge its linking started with.`,
        why: (0, notice_text_1.words)('The client must send the verifier it generated for this very link (RFC 7636).'),
        fix: (0, notice_text_1.t) `Alexa gets this right: check that nothing (a proxy, a test script) rewrites the request, then link again. ${'oauth-admin pkce <verifier> <challenge>'} checks a pair.`,
    }),
    grant_revoked: (e) => ({
        title: 'Alexa link dropped: it was revoked',
        happened: (0, notice_text_1.t) `A refresh of ${client(e.clientId)} was refused because its link had been revoked. Alexa drops the link on this answer, so music control stops for that user.`,
        why: (0, notice_text_1.words)('The link was revoked on the admin page, with oauth-admin, by "Revoke all", or automatically after a replayed code or a reused refresh token.'),
        fix: [...(0, notice_text_1.words)("If nobody revoked it on purpose, look for the revocation in the admin page's Activity. "), ...RELINK],
    }),
    refresh_expired: (e) => ({
        title: 'Alexa link dropped: unused for too long',
        happened: (0, notice_text_1.t) `A refresh of ${client(e.clientId)} was refused because the link had not been used for longer than ${'refresh_token_idle_lifetime'}. Alexa drops the link on this answer.`,
        why: (0, notice_text_1.words)('Links expire after that long without any refresh.'),
        fix: [...RELINK, ...(0, notice_text_1.t) ` Raise ${'refresh_token_idle_lifetime'} in ${CONFIG} if links of rarely used skills expire.`],
    }),
    refresh_superseded: (e) => ({
        title: 'Alexa link dropped: outdated refresh token',
        happened: (0, notice_text_1.t) `A refresh of ${client(e.clientId)} used a refresh token that had been replaced by a newer one, after the grace period for retries. Alexa drops the link on this answer.`,
        why: (0, notice_text_1.words)("Alexa lost the newer token (for example, the answer that carried it never arrived), or something else presents an old copy of the link's tokens."),
        fix: [
            ...RELINK,
            ...(0, notice_text_1.words)(' If it repeats, check that no older copy of /data (a restored backup) or a second copy of this server answers Alexa.'),
        ],
    }),
    code_replay: (e) => ({
        title: 'Security: an authorization code was used twice',
        happened: (0, notice_text_1.t) `An authorization code of ${client(e.clientId)} was presented a second time. As a precaution the link it created, with all its tokens, was revoked.`,
        why: (0, notice_text_1.words)('A code works once. A second use means a retry after a lost answer, or that someone else got hold of the code.'),
        fix: [
            ...RELINK,
            ...(0, notice_text_1.words)(" If nobody was linking at that moment, someone may have intercepted a code: check the admin page's Activity for the addresses involved."),
        ],
    }),
    refresh_reuse: (e) => ({
        title: 'Security: refresh token reused, link revoked',
        happened: (0, notice_text_1.t) `An old refresh token of ${client(e.clientId)} was presented after a newer one from the same link had been used. The link was revoked.`,
        why: (0, notice_text_1.words)("Two parties using the same link's tokens is how token theft shows."),
        fix: [
            ...RELINK,
            ...(0, notice_text_1.t) ` If it repeats, change ${'client_secret'} here and in the Alexa developer console, and look in the admin page's Activity for the addresses involved.`,
        ],
    }),
    login_lockout: (e) => ({
        title: 'Security: logins locked after failed attempts',
        happened: e.by === 'username'
            ? (0, notice_text_1.t) `Too many failed logins as ${valueOr(e.target, 'one user')} came from several addresses: logins as this user are refused for ${minutes(e.retryAfterSeconds)}.`
            : (0, notice_text_1.t) `Too many failed logins came from ${valueOr(e.target, 'one address')}: its logins are refused for ${minutes(e.retryAfterSeconds)}.`,
        why: (0, notice_text_1.words)('Someone is guessing passwords, or a person mistyped theirs many times.'),
        fix: (0, notice_text_1.t) `If it was not you, make the password a long passphrase (or log in with a Home Assistant account). The lock lifts by itself. If the address is your reverse proxy's, add it to ${'trusted_proxies'} so that each client is limited on its own.`,
    }),
    client_lockout: (e) => ({
        title: 'Security: token requests locked after failures',
        happened: e.by === 'client'
            ? (0, notice_text_1.t) `Too many failed requests named ${client(e.target)}: failing ones are refused for ${minutes(e.retryAfterSeconds)}. Requests with valid credentials, such as Alexa's refreshes, still work.`
            : (0, notice_text_1.t) `Too many failed token requests came from ${valueOr(e.target, 'one address')}: its failing requests are refused for ${minutes(e.retryAfterSeconds)}. Requests with valid credentials still work.`,
        why: (0, notice_text_1.words)('Someone may be guessing a client secret, a code or a token, or a misconfigured client keeps retrying.'),
        fix: (0, notice_text_1.t) `Fix any set-up failure listed just before it in the admin page's Activity (a wrong secret keeps failing). If the address is your reverse proxy's, add it to ${'trusted_proxies'}. The lock lifts by itself.`,
    }),
    storage_fault: (e) => ({
        title: 'Alexa linking: the database cannot be used',
        happened: [...(0, notice_text_1.t) `The add-on's database has a fault (${e.fault}): `, ...(0, notice_text_1.prose)(e.reason)],
        why: (0, notice_text_1.words)('Until it is fixed, token requests are answered "try again later". No link is lost: Alexa retries, and nothing is answered "invalid", which would unlink users.'),
        fix: (0, notice_text_1.words)('Do what the message above says; the add-on resumes by itself (no restart needed) and a notice here says so.'),
    }),
    storage_recovered: (e) => ({
        title: 'Alexa linking: the database works again',
        happened: [
            ...(0, notice_text_1.t) `The database fault (${e.fault}) is over: it can be read and written again, after `,
            ...(0, notice_text_1.words)(`${Math.max(1, Math.round(e.lastedMs / 1000))} s.`),
        ],
        why: (0, notice_text_1.words)('The add-on checks the database in the background while a fault lasts.'),
        fix: (0, notice_text_1.words)('Nothing to do.'),
    }),
};
function wordsFor(e, ctx) {
    return WORDS[e.cause](e, ctx);
}
//# sourceMappingURL=notification-causes.js.map