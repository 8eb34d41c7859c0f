"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.seal = seal;
exports.unseal = unseal;
exports.derive = derive;
exports.newKey = newKey;
/**
 * Authenticated encryption (AES-256-GCM) of small JSON values the server hands to a browser and must get back
 * unchanged and unread: a pending authorization request travels in the login and consent forms instead of the
 * database, so an anonymous request writes nothing to disk (a flood cannot fill it).
 */
const node_crypto_1 = require("node:crypto");
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Encrypts and authenticates `value`; `purpose` is bound in, so a blob made for one use is refused by another. */
function seal(key, purpose, value) {
    const iv = (0, node_crypto_1.randomBytes)(IV_BYTES);
    const cipher = (0, node_crypto_1.createCipheriv)('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(purpose, 'utf8'));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}
/** The sealed value, or undefined for anything forged, truncated, made with another key or for another purpose. */
function unseal(key, purpose, sealed) {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES + 2)
        return undefined;
    try {
        const decipher = (0, node_crypto_1.createDecipheriv)('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
        decipher.setAAD(Buffer.from(purpose, 'utf8'));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        const plain = Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
        return JSON.parse(plain.toString('utf8'));
    }
    catch {
        return undefined;
    }
}
/** A value derived from the key that only its holder can compute again (e.g. the code of a decided consent). */
function derive(key, purpose, input) {
    return (0, node_crypto_1.createHmac)('sha256', key).update(`${purpose}\0${input}`, 'utf8').digest('base64url');
}
function newKey() {
    return (0, node_crypto_1.randomBytes)(32);
}
//# sourceMappingURL=seal.js.map