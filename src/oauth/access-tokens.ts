/**
 * Validating a token of either kind: the record must exist and be unexpired, and its grant active: for an access
 * token that names its client and user, the grant has no revocation mark; for any other, the grant record exists and
 * is not revoked.
 */
import { tokenKey } from '../crypto/tokens';
import { isStoreError } from '../store/faults';
import { GrantRecord, OAuthTx, RevocationMark, TokenRecord } from '../store/records';
import { GrantDeps } from './grant-deps';
import { standing } from './grants/refresh-policy';
import { issuedAfterState } from './grants/refresh-token';

/** What a token's validation tells about its grant. */
export type TokenGrant = Pick<GrantRecord, 'id' | 'clientId' | 'username'>;

export interface ActiveToken {
  token: TokenRecord;
  grant: TokenGrant;
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
    // An access token that names its client and user needs only its grant's revocation mark, a small row in a
    // small region of the table, not the grant (kilobytes with its refresh tokens' history, seldom in the cache).
    if (token.kind === 'access' && token.clientId !== undefined && token.username !== undefined) {
      const revoked = revocationOf(tx, token.grantId);
      if (revoked !== UNKNOWN) {
        if (revoked) return { active: false, reason: `grant revoked (${revoked.reason})` };
        return { active: true, found: { token, grant: { id: token.grantId, clientId: token.clientId, username: token.username } } };
      }
    }
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

const UNKNOWN = Symbol('unknown');

/**
 * The grant's revocation mark, or UNKNOWN while the file is known to be damaged: the store then refuses to call any
 * row absent (a damaged index could hide a mark), and the grant itself, which a live link always has, decides.
 */
function revocationOf(tx: OAuthTx, grantId: string): RevocationMark | undefined | typeof UNKNOWN {
  try {
    return tx.grants.revocation(grantId);
  } catch (err) {
    if (isStoreError(err) && err.fault === 'damaged') return UNKNOWN;
    throw err;
  }
}
