"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.requestContext = requestContext;
exports.requestBasic = requestBasic;
exports.issuerFor = issuerFor;
exports.queryParams = queryParams;
exports.formField = formField;
/**
 * Per-request helpers: request id, CSP nonce, the issuer URL, the Basic credentials (parsed once), and the raw
 * query with repeats preserved.
 */
const node_crypto_1 = require("node:crypto");
const node_net_1 = require("node:net");
const untrusted_1 = require("../log/untrusted");
const basic_auth_1 = require("../oauth/basic-auth");
function requestContext(req, res, next) {
    res.locals.requestId = (0, node_crypto_1.randomUUID)();
    const incoming = req.get('x-request-id');
    if (incoming)
        res.locals.clientRequestId = (0, untrusted_1.untrusted)(incoming, 64);
    // Drawn when a page or its CSP header first needs it: JSON answers never do.
    let nonce;
    Object.defineProperty(res.locals, 'nonce', {
        get: () => (nonce ??= (0, node_crypto_1.randomBytes)(16).toString('base64')),
        enumerable: true,
    });
    res.set('X-Request-Id', res.locals.requestId);
    next();
}
/** The request's Authorization header as Basic credentials, parsed on first use and remembered for the request. */
function requestBasic(req, res) {
    return (res.locals.basic ??= (0, basic_auth_1.parseBasicAuthorization)(req.get('authorization')));
}
/** A host[:port] as a Host header should be: a DNS name or an IP literal, nothing that could bend a URL. */
function isPlainHost(host) {
    if (host.length > 260)
        return false;
    // Both patterns are linear: each repeated group ends in a character its class excludes.
    const m = /^(?:([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*)|\[([0-9A-Fa-f:.]{2,45})\])(?::(\d{1,5}))?$/.exec(host);
    if (!m)
        return false;
    if (m[2] !== undefined && (0, node_net_1.isIP)(m[2]) !== 6)
        return false;
    return m[3] === undefined || Number(m[3]) <= 65535;
}
/**
 * public_url when set; otherwise the URL this request reached us at: X-Forwarded-Proto and X-Forwarded-Host only
 * from trusted_proxies (Express's trust proxy decides), the Host header otherwise, and only when it is a plain
 * host[:port] (else the address the connection reached). Without public_url the answer depends on what a client
 * sent, so nothing built from it may be cached for others (see routes/metadata.ts).
 */
function issuerFor(req, config) {
    if (config.publicUrl)
        return config.publicUrl;
    const host = req.host;
    if (host && isPlainHost(host))
        return `${req.protocol}://${host}`;
    const local = req.socket.localAddress ?? '127.0.0.1';
    const shown = (0, node_net_1.isIP)(local) === 6 ? `[${local}]` : local;
    return `${req.protocol}://${shown}:${req.socket.localPort ?? 80}`;
}
/** The query string as name -> all values, so repeated parameters can be refused (RFC 6749 §3.1). */
function queryParams(req) {
    const q = req.originalUrl.indexOf('?');
    const params = new Map();
    if (q < 0)
        return params;
    for (const [name, value] of new URLSearchParams(req.originalUrl.slice(q + 1))) {
        const list = params.get(name);
        if (list)
            list.push(value);
        else
            params.set(name, [value]);
    }
    return params;
}
/** A form field that must be a single string; repeated or absent fields read as undefined. */
function formField(req, name) {
    const value = req.body?.[name];
    return typeof value === 'string' ? value : undefined;
}
//# sourceMappingURL=request-context.js.map