"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.requireToken = requireToken;
exports.revokeToken = revokeToken;
exports.introspectToken = introspectToken;
const tokens_1 = require("../crypto/tokens");
const access_tokens_1 = require("./access-tokens");
const errors_1 = require("./errors");
const grant_deps_1 = require("./grant-deps");
function requireToken(params) {
    const token = params.token;
    if (token === undefined || token === '')
        throw new errors_1.InvalidRequest('token is missing', { kind: 'token_missing', facts: {}, debug: 'the request has no token parameter' });
    return token;
}
/** A refresh token ends its whole grant; an access token only itself. Foreign or unknown tokens: nothing, still 200. */
function revokeToken(deps, client, token) {
    const lookup = (0, access_tokens_1.lookupToken)(deps, token);
    if (!lookup.active || lookup.found.grant.clientId !== client.clientId)
        return { revoked: 'nothing' };
    const { token: record, grant } = lookup.found;
    if (record.kind === 'refresh') {
        deps.storage.transaction((tx) => (0, grant_deps_1.revokeGrantIn)(deps, tx, grant.id, `refresh token revoked by ${client.clientId} (RFC 7009)`));
        return { revoked: 'grant', grantId: grant.id };
    }
    deps.storage.transaction((tx) => tx.tokens.remove((0, tokens_1.tokenHash)(token)));
    return { revoked: 'access_token', grantId: grant.id };
}
function introspectToken(deps, caller, token, issuer) {
    const lookup = (0, access_tokens_1.lookupToken)(deps, token);
    if (!lookup.active)
        return { response: { active: false }, reason: lookup.reason };
    const { token: record, grant } = lookup.found;
    if (caller.kind === 'client' && grant.clientId !== caller.client.clientId) {
        return { response: { active: false }, reason: `token belongs to ${grant.clientId}, not ${caller.client.clientId}` };
    }
    return {
        found: lookup.found,
        response: {
            active: true,
            scope: record.scopes.join(' '),
            client_id: grant.clientId,
            username: grant.username,
            sub: grant.username,
            token_type: record.kind === 'access' ? 'Bearer' : 'refresh_token',
            exp: Math.floor(record.expiresAt / 1000),
            iat: Math.floor(record.issuedAt / 1000),
            iss: issuer,
        },
    };
}
//# sourceMappingURL=token-management.js.map