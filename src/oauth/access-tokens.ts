/**
 * Validating an access token: the record must exist, be unexpired, and its grant still active. The first use of
 * a token from a refresh family "settles" it: the client has kept that response, so retries of the parent end.
 */
import { GrantRecord, TokenRecord } from '../store/records';
import { GrantDeps, grantTtlMs } from './grant-deps';
import { tokenHash } from './secrets';

export interface ActiveToken {
  token: TokenRecord;
  grant: GrantRecord;
}

export type TokenLookup = { active: true; found: ActiveToken } | { active: false; reason: string };

/** Looks up any token (access or refresh) without side effects. */
export async function lookupToken(deps: GrantDeps, raw: string): Promise<TokenLookup> {
  const token = await deps.repos.tokens.get(tokenHash(raw));
  if (!token) return { active: false, reason: 'unknown or expired token' };
  if (token.expiresAt <= deps.now()) return { active: false, reason: 'token expired' };
  const grant = await deps.repos.grants.get(token.grantId);
  if (!grant) return { active: false, reason: 'grant no longer exists' };
  if (grant.revokedAt !== undefined) return { active: false, reason: `grant revoked (${grant.revokedReason})` };
  if (token.kind === 'refresh' && !grant.refresh.live.includes(tokenHash(raw))) {
    return { active: false, reason: 'refresh token superseded by rotation' };
  }
  return { active: true, found: { token, grant } };
}

/** Records that the client used an access token: retries of the refresh that produced it are over. */
export async function settleOnUse(deps: GrantDeps, found: ActiveToken): Promise<void> {
  const { token, grant } = found;
  if (token.kind !== 'access' || grant.refresh.settled || token.refreshHash === undefined) return;
  await deps.lock.run(`grant:${grant.id}`, async () => {
    const current = await deps.repos.grants.get(grant.id);
    if (!current || current.refresh.settled || !current.refresh.live.includes(token.refreshHash!)) return;
    await deps.repos.grants.put(
      grant.id,
      { ...current, refresh: { parent: current.refresh.parent, live: [token.refreshHash!], settled: true } },
      grantTtlMs(deps),
    );
  });
}
