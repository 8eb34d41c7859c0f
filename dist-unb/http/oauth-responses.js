"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.sendOAuthError = sendOAuthError;
exports.redirectWith = redirectWith;
function sendOAuthError(res, error) {
    res.status(error.status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    if (error.status === 401) {
        // RFC 6749 §5.2 (and HTTP itself): a 401 names the scheme the client may use, Basic being ours.
        res.set('WWW-Authenticate', 'Basic realm="oauth", charset="UTF-8"');
    }
    res.json(error.toJSON());
}
/** The authorization response URL: the registered redirect URI with our parameters appended (keeping its own). */
function redirectWith(redirectUri, params) {
    const url = new URL(redirectUri);
    for (const [name, value] of Object.entries(params)) {
        if (value !== undefined)
            url.searchParams.append(name, value);
    }
    return url.href;
}
//# sourceMappingURL=oauth-responses.js.map