"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.mintTokens = mintTokens;
exports.grantExpiry = grantExpiry;
exports.revokeGrantIn = revokeGrantIn;
exports.revokeGrant = revokeGrant;
/** What the grant handlers need: the protocol storage, lifetimes, the refresh policy's bounds, a clock (tests move time). */
const tokens_1 = require("../crypto/tokens");
const records_1 = require("../store/records");
/**
 * Mints an access and a refresh token for a grant and writes their hashed records in the caller's transaction, so
 * a response is never sent for tokens that were not stored, and a crash leaves either all of the records or none.
 */
function mintTokens(deps, tx, grant, accessScopes) {
    const now = deps.now();
    const access = (0, tokens_1.randomToken)();
    const refresh = (0, tokens_1.randomToken)();
    const refreshHash = (0, tokens_1.tokenHash)(refresh);
    const { accessToken, refreshIdle } = deps.lifetimes;
    tx.tokens.create((0, tokens_1.tokenHash)(access), {
        kind: 'access',
        grantId: grant.id,
        scopes: accessScopes,
        issuedAt: now,
        expiresAt: now + accessToken * 1000,
    });
    tx.tokens.create(refreshHash, {
        kind: 'refresh',
        grantId: grant.id,
        scopes: grant.scopes,
        issuedAt: now,
        expiresAt: now + refreshIdle * 1000,
    });
    return {
        refreshHash,
        issued: {
            body: { access_token: access, token_type: 'Bearer', expires_in: accessToken, refresh_token: refresh, scope: accessScopes.join(' ') },
            grantId: grant.id,
            username: grant.username,
            fingerprints: { access: (0, tokens_1.fingerprint)(access), refresh: (0, tokens_1.fingerprint)(refresh) },
        },
    };
}
/** Grants live as long as their refresh tokens may sit unused (and their records are kept); every refresh extends both. */
function grantExpiry(deps) {
    return deps.now() + deps.lifetimes.refreshIdle * 1000 + records_1.EXPIRED_RECORD_KEPT_MS;
}
/** Marks a grant revoked inside a transaction; every token of it stops working at once because validation reads the grant. */
function revokeGrantIn(deps, tx, grantId, reason) {
    const grant = tx.grants.find(grantId);
    if (!grant || grant.revokedAt !== undefined)
        return grant;
    const revoked = {
        ...grant,
        revokedAt: deps.now(),
        revokedReason: reason,
        refresh: { live: [], previous: [], generation: grant.refresh.generation },
    };
    // The record outlives its tokens by the idle lifetime, so "revoked" (not "unknown") explains a late refresh.
    // Token records stay until they expire by themselves, so a late refresh is told "revoked", not "unknown".
    tx.grants.save(revoked, grantExpiry(deps));
    return revoked;
}
/** Revokes a grant as one transaction of its own (admin actions, RFC 7009). */
function revokeGrant(deps, grantId, reason) {
    return deps.storage.transaction((tx) => revokeGrantIn(deps, tx, grantId, reason));
}
//# sourceMappingURL=grant-deps.js.map