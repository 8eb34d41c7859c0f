/** Validating a token of either kind: the record must exist, be unexpired, and its grant active. */
import { tokenKey } from '../crypto/tokens';
import { GrantRecord, TokenRecord } from '../store/records';
import { GrantDeps } from './grant-deps';
import { standing } from './grants/refresh-policy';
import { issuedAfterState } from './grants/refresh-token';

export interface ActiveToken {
  token: TokenRecord;
  grant: GrantRecord;
}

export type TokenLookup = { active: true; found: ActiveToken } | { active: false; reason: string };

/** Looks up any token without side effects; a refresh token is active exactly when a refresh with it would succeed. */
export function lookupToken(deps: GrantDeps, raw: string): TokenLookup {
  const key = tokenKey(raw);
  return deps.storage.read((tx): TokenLookup => {
    const token = tx.tokens.find(key);
    const now = deps.now();
    if (!token) {
      // A refresh token signed after the database's state (a restored backup): a refresh would take it back in.
      const after = issuedAfterState(deps, tx, raw);
      if (!after) return { active: false, reason: 'unknown or expired token' };
      return { active: true, found: { token: after.record, grant: after.grant } };
    }
    if (token.expiresAt <= now) return { active: false, reason: 'token expired' };
    const grant = tx.grants.find(token.grantId);
    if (!grant) return { active: false, reason: 'grant no longer exists' };
    if (grant.revokedAt !== undefined) return { active: false, reason: `grant revoked (${grant.revokedReason})` };
    if (token.kind === 'refresh') {
      const where = standing(grant.refresh, key, deps.clientType(grant.clientId) ?? 'public', deps.grace, now).is;
      if (where === 'reuse' || where === 'too_old') return { active: false, reason: 'refresh token superseded by rotation' };
    }
    return { active: true, found: { token, grant } };
  });
}
