"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SESSION_TTL_MS = exports.SESSION_COOKIE = exports.FLOW_COOKIE = void 0;
exports.ensureFlowToken = ensureFlowToken;
exports.flowHashOf = flowHashOf;
exports.startSession = startSession;
exports.currentSession = currentSession;
const tokens_1 = require("../crypto/tokens");
const authorization_flow_1 = require("../oauth/authorization-flow");
const records_1 = require("../store/records");
exports.FLOW_COOKIE = 'maoauth_flow';
exports.SESSION_COOKIE = 'maoauth_session';
exports.SESSION_TTL_MS = 12 * 3600 * 1000;
const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$/;
function cookieOptions(req, config, maxAge) {
    // Browsers drop Secure cookies set over plain http except on loopback; behind an https public_url they are always Secure.
    const secure = req.secure || LOOPBACK.test(req.hostname) || Boolean(config.publicUrl?.startsWith('https:'));
    return { httpOnly: true, secure, sameSite: 'lax', path: '/', maxAge };
}
/** A cookie as cookie-parser read it (its type says any): a string, or anything else when the header was odd. */
function cookie(req, name) {
    const cookies = req.cookies;
    return cookies?.[name];
}
/** The browser's flow token (reused across tabs), setting the cookie when the browser has none yet. */
function ensureFlowToken(req, res, config) {
    const existing = cookie(req, exports.FLOW_COOKIE);
    const token = typeof existing === 'string' && /^[\w-]{43}$/.test(existing) ? existing : (0, tokens_1.randomToken)();
    res.cookie(exports.FLOW_COOKIE, token, cookieOptions(req, config, authorization_flow_1.FLOW_TTL_MS));
    return token;
}
function flowHashOf(req) {
    const token = cookie(req, exports.FLOW_COOKIE);
    return typeof token === 'string' ? (0, tokens_1.tokenHash)(token) : undefined;
}
/** A login session is written only after a successful login: never for an anonymous request. */
async function startSession(req, res, config, sessions, record) {
    const sid = (0, tokens_1.randomToken)();
    await sessions.set(`${records_1.SESSION_PREFIX}${(0, tokens_1.tokenHash)(sid)}`, record, exports.SESSION_TTL_MS);
    res.cookie(exports.SESSION_COOKIE, sid, cookieOptions(req, config, exports.SESSION_TTL_MS));
}
async function currentSession(req, sessions) {
    const sid = cookie(req, exports.SESSION_COOKIE);
    if (typeof sid !== 'string' || sid.length > 64)
        return undefined;
    return sessions.get(`${records_1.SESSION_PREFIX}${(0, tokens_1.tokenHash)(sid)}`);
}
//# sourceMappingURL=browser-session.js.map