/**
 * The refresh token grant (RFC 6749 §6) with rotation and reuse detection (RFC 9700 §4.14.2), shaped by Alexa:
 * a retried refresh (the response was lost, or two refreshes raced) must still succeed, because an invalid_grant
 * makes Alexa unlink the user.
 *
 * Each grant has one refresh family: `parent`, the token the live ones were issued from, and `live`, the tokens
 * valid now. Presenting a live token rotates: it becomes the parent of one new live token. Presenting the parent
 * again is a retry and adds a live sibling, until the client uses any token from the family (`settled`); after
 * that, and for any older token, it is reuse: the grant is revoked.
 */
import { ClientConfig } from '../../config/config';
import { GrantRecord } from '../../store/records';
import { InvalidGrant, InvalidRequest } from '../errors';
import { GrantDeps, IssuedTokens, grantTtlMs, mintTokens, revokeGrantLocked } from '../grant-deps';
import { narrowScopes, parseScope } from '../scopes';
import { fingerprint, tokenHash } from '../secrets';

/** Bounds the siblings a burst of retries can create. */
const MAX_LIVE_SIBLINGS = 8;

export interface RefreshParams {
  refresh_token?: string;
  scope?: string;
}

export async function refreshTokens(deps: GrantDeps, client: ClientConfig, params: RefreshParams): Promise<IssuedTokens> {
  const presented = params.refresh_token;
  if (presented === undefined || presented === '') {
    throw new InvalidRequest('refresh_token is missing', 'grant_type=refresh_token without a refresh_token parameter', 'refresh_missing');
  }
  const hash = tokenHash(presented);
  const token = await deps.repos.tokens.get(hash);
  if (!token || token.kind !== 'refresh') {
    throw new InvalidGrant(
      'invalid refresh token',
      `refresh token ${fingerprint(presented)} is unknown: never issued here, or unused for longer than refresh_token_idle_lifetime (${deps.lifetimes.refreshIdle} s)`,
      'refresh_unknown',
    );
  }
  if (token.expiresAt <= deps.now()) {
    throw new InvalidGrant(
      'refresh token expired',
      `refresh token ${fingerprint(presented)} was unused for longer than refresh_token_idle_lifetime (${deps.lifetimes.refreshIdle} s); the user must link again`,
      'refresh_expired',
    );
  }
  const requestedScopes = parseScope(params.scope);

  return deps.lock.run(`grant:${token.grantId}`, async () => {
    const grant = await deps.repos.grants.get(token.grantId);
    if (!grant) {
      throw new InvalidGrant('invalid refresh token', `the grant ${token.grantId} of refresh token ${fingerprint(presented)} no longer exists (idle longer than refresh_token_idle_lifetime)`, 'grant_missing');
    }
    if (grant.clientId !== client.clientId) {
      throw new InvalidGrant('refresh token was issued to another client', `refresh token of "${grant.clientId}" presented by "${client.clientId}"`, 'refresh_client_mismatch');
    }
    if (grant.revokedAt !== undefined) {
      throw new InvalidGrant('the grant has been revoked', `grant ${grant.id} of ${grant.username} was revoked at ${new Date(grant.revokedAt).toISOString()} (${grant.revokedReason}); the user must link again`, 'grant_revoked');
    }
    const accessScopes = narrowScopes(requestedScopes, grant.scopes);
    const family = grant.refresh;
    const rotating = family.live.includes(hash);
    const retrying = !rotating && family.parent === hash && !family.settled;
    if (!rotating && !retrying) {
      // We hold grant:<id> already: the unlocked variant, or this request (and every later one on the grant) hangs.
      await revokeGrantLocked(deps, grant.id, `refresh token reuse by ${client.clientId}`);
      throw new InvalidGrant(
        'refresh token has already been used',
        `refresh token ${fingerprint(presented)} of grant ${grant.id} (${grant.username}) was presented after a newer token from it had been used: possible token theft, the grant is revoked and the user must link again`,
        'refresh_reuse',
      );
    }
    const { issued, refreshHash, writes } = mintTokens(deps, grant, accessScopes);
    const updated: GrantRecord = {
      ...grant,
      lastRefreshAt: deps.now(),
      refreshCount: grant.refreshCount + 1,
      refresh: rotating
        ? { parent: hash, live: [refreshHash], settled: false }
        : { ...family, live: [...family.live, refreshHash].slice(-MAX_LIVE_SIBLINGS) },
    };
    await deps.repos.write(...writes, deps.repos.grants.entry(grant.id, updated, grantTtlMs(deps)));
    return issued;
  });
}
