"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.checkPkce = checkPkce;
/**
 * `oauth-admin pkce <verifier> <challenge>`: the old guide's Python snippet, plus the reason for a mismatch.
 * Client bugs leave recognisable traces (standard base64, kept padding, a hex digest, SHA-1, a hashed newline,
 * method plain), so the usual ones are recognised by recomputing them.
 */
const node_crypto_1 = require("node:crypto");
const pkce_1 = require("../oauth/pkce");
const tokens_1 = require("../crypto/tokens");
function checkPkce(verifier, challenge) {
    const computed = (0, pkce_1.s256)(verifier);
    const sha256 = (0, node_crypto_1.createHash)('sha256').update(verifier, 'utf8').digest();
    const result = {
        verifier: { fingerprint: (0, tokens_1.fingerprint)(verifier), length: verifier.length, valid: (0, pkce_1.isValidPkceValue)(verifier) },
        challenge,
        computed,
        match: computed === challenge,
    };
    if (result.match) {
        if (!result.verifier.valid)
            result.hint =
                'The pair matches, but the verifier is not 43-128 characters of A-Z a-z 0-9 - . _ ~, so the server refuses it anyway (RFC 7636 §4.1).';
        return result;
    }
    const known = [
        [
            verifier,
            'The challenge equals the verifier: the client used code_challenge_method=plain. Only S256 is accepted; send BASE64URL(SHA-256(verifier)).',
        ],
        [
            sha256.toString('base64'),
            'The challenge is standard base64 (with + / and = padding). PKCE needs base64url without padding: replace + by -, / by _ and drop the =.',
        ],
        [`${computed}=`, 'The challenge kept the "=" padding; base64url in PKCE has none: drop it.'],
        [sha256.toString('hex'), 'The challenge is the hex SHA-256 digest; PKCE needs the digest in base64url without padding.'],
        [(0, node_crypto_1.createHash)('sha1').update(verifier).digest('base64url'), 'The challenge was hashed with SHA-1; S256 means SHA-256.'],
        [
            (0, node_crypto_1.createHash)('sha256').update(`${verifier}\n`).digest('base64url'),
            'The challenge is the hash of the verifier followed by a newline (e.g. `echo` without -n).',
        ],
        [
            (0, node_crypto_1.createHash)('sha256').update(verifier.trim()).digest('base64url'),
            'The verifier given here has spaces around it that the client did not hash; compare the exact strings.',
        ],
    ];
    result.hint =
        known.find(([value]) => value === challenge)?.[1] ??
            'No known encoding mistake explains it: the verifier is not the one this challenge was made from (the client sent the verifier of another link attempt, or stored the challenge wrongly).';
    return result;
}
//# sourceMappingURL=pkce-check.js.map