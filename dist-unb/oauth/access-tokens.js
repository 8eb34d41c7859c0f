"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.lookupToken = lookupToken;
/** Validating a token of either kind: the record must exist, be unexpired, and its grant active. */
const tokens_1 = require("../crypto/tokens");
const refresh_policy_1 = require("./grants/refresh-policy");
/** Looks up any token without side effects; a refresh token is active exactly when a refresh with it would succeed. */
function lookupToken(deps, raw) {
    const hash = (0, tokens_1.tokenHash)(raw);
    return deps.storage.read((tx) => {
        const token = tx.tokens.find(hash);
        const now = deps.now();
        if (!token)
            return { active: false, reason: 'unknown or expired token' };
        if (token.expiresAt <= now)
            return { active: false, reason: 'token expired' };
        const grant = tx.grants.find(token.grantId);
        if (!grant)
            return { active: false, reason: 'grant no longer exists' };
        if (grant.revokedAt !== undefined)
            return { active: false, reason: `grant revoked (${grant.revokedReason})` };
        if (token.kind === 'refresh') {
            const where = (0, refresh_policy_1.standing)(grant.refresh, hash, deps.clientType(grant.clientId) ?? 'public', deps.grace, now).is;
            if (where === 'reuse' || where === 'too_old')
                return { active: false, reason: 'refresh token superseded by rotation' };
        }
        return { active: true, found: { token, grant } };
    });
}
//# sourceMappingURL=access-tokens.js.map