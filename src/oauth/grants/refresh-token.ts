/**
 * The refresh token grant (RFC 6749 §6). Every request is one transaction: find the token and its grant, check
 * the client before anything else, decide by the refresh policy (refresh-policy.ts), and write the outcome.
 * Reuse detection comes before the scope check, so a stale token learns nothing about the link from invalid_scope.
 */
import { ClientConfig } from '../../config/config';
import { SignedRefresh, fingerprint, grantIdOf, readSignedRefresh, tokenKey } from '../../crypto/tokens';
import { GrantRecord, OAuthTx, RefreshState, TokenRecord } from '../../store/records';
import { InvalidGrant, InvalidRequest, OAuthError } from '../errors';
import {
  GrantDeps,
  IssuedTokens,
  expireSuperseded,
  grantExpiry,
  mintTokens,
  refreshRecord,
  revokeGrantIn,
  withSigningKey,
} from '../grant-deps';
import { narrowScopes, parseScope } from '../scopes';
import { rotate, standing } from './refresh-policy';

export interface RefreshParams {
  refresh_token?: string;
  scope?: string;
}

/** What the trace records about a refresh besides the outcome: which generation was presented. */
export interface RefreshOutcome {
  issued: IssuedTokens;
  /**
   * current: the newest token; retry: a public client's parent again; grace: an earlier generation, `behind` steps
   * back; restored: a token signed after the database's state, taken back in (takeBackIssuedAfter).
   */
  presented: 'current' | 'retry' | 'grace' | 'restored';
  behind?: number;
}

export function refreshTokens(deps: GrantDeps, client: ClientConfig, params: RefreshParams): RefreshOutcome {
  const presented = params.refresh_token;
  if (presented === undefined || presented === '') {
    throw new InvalidRequest('refresh_token is missing', {
      kind: 'refresh_missing',
      facts: {},
      debug: 'grant_type=refresh_token without a refresh_token parameter',
    });
  }
  const key = tokenKey(presented);
  const fp = fingerprint(presented);
  const outcome = deps.storage.transaction((tx): RefreshOutcome | OAuthError => {
    const known = tx.tokens.find(key);
    const token = known ?? (client.clientType === 'confidential' ? takeBackIssuedAfter(deps, tx, client, presented, key) : undefined);
    if (!token || token.kind !== 'refresh') {
      return new InvalidGrant('invalid refresh token', {
        kind: 'refresh_unknown',
        facts: { tokenFingerprint: fp, idleLifetimeSeconds: deps.lifetimes.refreshIdle },
        debug: `refresh token ${fp} is unknown: never issued here, superseded longer ago than the grace window, or unused for longer than refresh_token_idle_lifetime (${deps.lifetimes.refreshIdle} s)`,
      });
    }
    const now = deps.now();
    if (token.expiresAt <= now) {
      return new InvalidGrant('refresh token expired', {
        kind: 'refresh_expired',
        facts: { tokenFingerprint: fp, idleLifetimeSeconds: deps.lifetimes.refreshIdle },
        debug: `refresh token ${fp} was unused for longer than refresh_token_idle_lifetime (${deps.lifetimes.refreshIdle} s); the user must link again`,
      });
    }
    const grant = tx.grants.find(token.grantId);
    if (!grant) {
      return new InvalidGrant('invalid refresh token', {
        kind: 'grant_missing',
        facts: { tokenFingerprint: fp, grantId: token.grantId },
        debug: `the grant ${token.grantId} of refresh token ${fp} no longer exists (idle longer than refresh_token_idle_lifetime)`,
      });
    }
    // The client first: another client's token must not let it learn or change anything about the grant.
    if (grant.clientId !== client.clientId) {
      return new InvalidGrant('refresh token was issued to another client', {
        kind: 'refresh_client_mismatch',
        facts: { issuedTo: grant.clientId, presentedBy: client.clientId },
        debug: `refresh token of "${grant.clientId}" presented by "${client.clientId}"`,
      });
    }
    if (grant.revokedAt !== undefined) {
      const facts = {
        grantId: grant.id,
        username: grant.username,
        revokedAt: new Date(grant.revokedAt).toISOString(),
        reason: grant.revokedReason,
      };
      return new InvalidGrant('the grant has been revoked', {
        kind: 'grant_revoked',
        facts,
        debug: `grant ${grant.id} of ${grant.username} was revoked at ${facts.revokedAt} (${grant.revokedReason}); the user must link again`,
      });
    }
    const where = standing(grant.refresh, key, client.clientType, deps.grace, now);
    if (where.is === 'reuse') {
      revokeGrantIn(deps, tx, grant.id, `refresh token reuse by ${client.clientId}`);
      return new InvalidGrant('refresh token has already been used', {
        kind: 'refresh_reuse',
        facts: { tokenFingerprint: fp, grantId: grant.id, username: grant.username, clientId: client.clientId },
        debug: `refresh token ${fp} of grant ${grant.id} (${grant.username}) was presented after a newer token from it had been rotated: possible token theft (public client "${client.clientId}", rotation with reuse detection), the grant is revoked and the user must link again`,
      });
    }
    if (where.is === 'too_old') {
      const supersededSecondsAgo = where.supersededAt === undefined ? undefined : Math.round((now - where.supersededAt) / 1000);
      const when =
        supersededSecondsAgo === undefined
          ? 'before the grace window'
          : `${where.behind} generation(s) back, superseded ${supersededSecondsAgo} s ago`;
      return new InvalidGrant('refresh token has been superseded', {
        kind: 'refresh_superseded',
        facts: {
          tokenFingerprint: fp,
          grantId: grant.id,
          username: grant.username,
          ...(supersededSecondsAgo === undefined ? {} : { behind: where.behind, supersededSecondsAgo }),
          graceGenerations: deps.grace.generations,
          gracePeriodSeconds: deps.grace.periodSeconds,
        },
        debug: `refresh token ${fp} of grant ${grant.id} (${grant.username}) was superseded ${when}, outside the grace window (${deps.grace.generations} generations, ${deps.grace.periodSeconds} s: refresh_token_grace_generations / refresh_token_grace_period); the grant itself stays valid with its newer tokens`,
      });
    }
    let accessScopes: string[];
    try {
      accessScopes = narrowScopes(parseScope(params.scope), grant.scopes);
    } catch (err) {
      if (err instanceof OAuthError) return err;
      throw err;
    }
    // The new token is issued in the next generation, or beside the newest (refresh-policy.ts).
    const generation = where.is === 'current' ? grant.refresh.generation + 1 : grant.refresh.generation;
    const signed = withSigningKey(grant);
    const { issued, refreshKey } = mintTokens(deps, tx, signed, accessScopes, generation);
    const rotation = rotate(grant.refresh, key, where.is, refreshKey, client.clientType, deps.grace, now);
    expireSuperseded(deps, tx, rotation.superseded, now);
    for (const h of rotation.dropped) tx.tokens.remove(h);
    const updated: GrantRecord = { ...signed, lastRefreshAt: now, refreshCount: grant.refreshCount + 1, refresh: rotation.state };
    tx.grants.save(updated, grantExpiry(deps));
    return { issued, presented: known ? where.is : 'restored', behind: where.is === 'grace' ? where.behind : undefined };
  });
  if (outcome instanceof OAuthError) throw outcome;
  return outcome;
}

/** How long after a start on restored data tokens issued after the backup are taken back (a skill used rarely refreshes late). */
export const TAKE_BACK_DAYS = 90;
const DAY_MS = 86_400_000;

/**
 * The active grant of a confidential client that `presented` was signed for, in the grant's newest generation or a
 * later one (takeBackIssuedAfter says why). Introspection asks it too, so it reports such a token active exactly
 * when a refresh with it would succeed.
 */
export function issuedAfterState(
  deps: GrantDeps,
  tx: OAuthTx,
  presented: string,
): { grant: GrantRecord; signed: SignedRefresh; record: TokenRecord } | undefined {
  const grantId = grantIdOf(presented);
  const grant = grantId === undefined ? undefined : tx.grants.find(grantId);
  if (!grant?.signingKey || grant.revokedAt !== undefined || deps.clientType(grant.clientId) !== 'confidential') return undefined;
  // Only after a restore: the keys are in the database, so outside one a token no record knows is refused, and a
  // copy of the database (a backup) cannot be used to make tokens the server would take.
  const now = deps.now();
  const restored = tx.server.restored();
  if (!restored || now - restored.at > TAKE_BACK_DAYS * DAY_MS) return undefined;
  const signed = readSignedRefresh(presented, Buffer.from(grant.signingKey, 'base64url'));
  if (!signed || signed.generation < grant.refresh.generation) return undefined;
  // Unused for longer than the idle lifetime: expired, as its record would have.
  if (now - signed.issuedAt > deps.lifetimes.refreshIdle * 1000) return undefined;
  // The record it gets when taken back: a refresh token issued now.
  return { grant, signed, record: refreshRecord(deps, grant, now) };
}

/**
 * A confidential client's refresh token this server signed for an active grant of that client, in the grant's
 * newest generation or a later one, but with no record: issued after the state the database holds, which is what a
 * restored backup looks like (Alexa kept refreshing after the backup was taken). Refusing it would unlink the user;
 * the MAC proves the server issued it for this grant, and the client's secret binds it (RFC 9700 §4.14.2). It is
 * written back as the grant's newest token, in its own generation, and the refresh goes on from it; the newest
 * tokens the database held become earlier ones. A token of an earlier generation is never taken back: it may have
 * been superseded on purpose. Public clients have no secret to bind a token to: theirs are never taken back.
 */
function takeBackIssuedAfter(deps: GrantDeps, tx: OAuthTx, client: ClientConfig, presented: string, key: string): TokenRecord | undefined {
  const found = issuedAfterState(deps, tx, presented);
  if (!found || found.grant.clientId !== client.clientId) return undefined;
  const { grant, signed, record } = found;
  const now = deps.now();
  tx.tokens.create(key, record);
  const state = grant.refresh;
  let refresh: RefreshState;
  if (signed.generation === state.generation) refresh = { ...state, live: [...state.live, key] };
  else {
    expireSuperseded(deps, tx, state.live, now);
    refresh = {
      ...state,
      live: [key],
      previous: [...state.live.map((hash) => ({ hash, supersededAt: now, generation: state.generation })), ...state.previous],
      generation: signed.generation,
    };
  }
  tx.grants.save({ ...grant, refresh }, grantExpiry(deps));
  return record;
}
