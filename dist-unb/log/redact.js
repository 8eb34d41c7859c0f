"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.isSecretKey = isSecretKey;
exports.redact = redact;
/**
 * Safety net under every log line: any field named like a secret is replaced by its fingerprint, so a
 * careless `log.info('x', { password })` still never writes a password. Code that logs secrets on purpose
 * passes fingerprint() itself.
 */
const tokens_1 = require("../crypto/tokens");
const SECRET_KEYS = new Set([
    'password',
    'client_secret',
    'clientsecret',
    'secret',
    'code',
    'code_verifier',
    'verifier',
    'access_token',
    'refresh_token',
    'token',
    'authorization',
    'cookie',
    'set-cookie',
    'csrf',
]);
function isSecretKey(key) {
    return SECRET_KEYS.has(key.toLowerCase());
}
function redact(value, depth = 0) {
    if (depth > 6 || value === null || typeof value !== 'object')
        return value;
    if (Array.isArray(value))
        return value.map((v) => redact(v, depth + 1));
    const out = {};
    for (const [k, v] of Object.entries(value)) {
        if (isSecretKey(k) && typeof v === 'string' && !v.startsWith('#'))
            out[k] = (0, tokens_1.fingerprint)(v);
        else
            out[k] = redact(v, depth + 1);
    }
    return out;
}
//# sourceMappingURL=redact.js.map