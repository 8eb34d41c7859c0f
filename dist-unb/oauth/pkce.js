"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.isValidPkceValue = isValidPkceValue;
exports.s256 = s256;
exports.verifyS256 = verifyS256;
/** RFC 7636 PKCE, S256 only (RFC 9700 §2.1.1: plain offers no protection against a leaked request). */
const node_crypto_1 = require("node:crypto");
const tokens_1 = require("../crypto/tokens");
/** code_verifier and code_challenge share the grammar 43*128 unreserved characters (RFC 7636 §4.1, §4.2). */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;
function isValidPkceValue(value) {
    return PKCE_VALUE.test(value);
}
function s256(verifier) {
    return (0, node_crypto_1.createHash)('sha256').update(verifier, 'ascii').digest('base64url');
}
function verifyS256(verifier, challenge) {
    return (0, tokens_1.safeEqual)(s256(verifier), challenge);
}
//# sourceMappingURL=pkce.js.map