"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.randomToken = randomToken;
exports.tokenHash = tokenHash;
exports.fingerprint = fingerprint;
exports.safeEqual = safeEqual;
/** Random tokens, their storage hashes and log fingerprints. Raw tokens exist only in responses and requests. */
const node_crypto_1 = require("node:crypto");
/**
 * Random bytes are drawn from the CSPRNG a block at a time and each byte is handed out once: a call into OpenSSL
 * costs ~7 µs, two per refresh, where slicing a block costs 0.1 µs (Node's randomUUID() caches the same way). The
 * block is small, so a memory dump would show few tokens not yet issued.
 */
const POOL_BYTES = 1024;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;
/** 256 bits of entropy, base64url: unguessable and URL-safe (RFC 6749 §10.10). */
function randomToken(bytes = 32) {
    if (bytes > POOL_BYTES)
        return (0, node_crypto_1.randomBytes)(bytes).toString('base64url');
    if (poolAt + bytes > POOL_BYTES) {
        (0, node_crypto_1.randomFillSync)(pool);
        poolAt = 0;
    }
    const token = pool.toString('base64url', poolAt, poolAt + bytes);
    poolAt += bytes;
    return token;
}
/** What the store is keyed by: SHA-256 of the token, so a copy of the database grants nothing. */
function tokenHash(token) {
    return (0, node_crypto_1.hash)('sha256', token, 'base64url');
}
/** A short, non-reversible tag that lets an operator match log lines about the same secret. */
function fingerprint(secret) {
    if (secret === undefined || secret === '')
        return '(none)';
    return `#${(0, node_crypto_1.hash)('sha256', secret, 'hex').slice(0, 8)}`;
}
/** Constant-time string comparison; compares hashes so unequal lengths leak nothing either. */
function safeEqual(a, b) {
    const ha = (0, node_crypto_1.hash)('sha256', a, 'buffer');
    const hb = (0, node_crypto_1.hash)('sha256', b, 'buffer');
    return (0, node_crypto_1.timingSafeEqual)(ha, hb) && a.length === b.length;
}
//# sourceMappingURL=tokens.js.map