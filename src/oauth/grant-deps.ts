/** What the grant handlers need: the protocol storage, lifetimes, the refresh policy's bounds, a clock (tests move time). */
import { accessTokenAt, fingerprint, randomToken, refreshTokenFor, tokenKey } from '../crypto/tokens';
import { ClientType } from '../config/config';
import { EXPIRED_RECORD_KEPT_MS, GrantRecord, OAuthStorage, OAuthTx, TokenRecord } from '../store/records';

export interface Lifetimes {
  /** Seconds. */
  accessToken: number;
  authCode: number;
  refreshIdle: number;
}

/** How long a superseded refresh token of a confidential client stays valid (see grants/refresh-policy.ts). */
export interface RefreshGrace {
  /** Superseded generations honoured, newest first. */
  generations: number;
  /** Seconds a superseded token is honoured after it was superseded. */
  periodSeconds: number;
}

export interface GrantDeps {
  storage: OAuthStorage;
  lifetimes: Lifetimes;
  grace: RefreshGrace;
  /** The configured type of a client, which decides the refresh policy; undefined for a client no longer configured. */
  clientType(clientId: string): ClientType | undefined;
  now(): number;
}

/** The body of a successful token response (RFC 6749 §5.1), plus what the trace records about it. */
export interface IssuedTokens {
  body: {
    access_token: string;
    token_type: 'Bearer';
    expires_in: number;
    refresh_token: string;
    scope: string;
  };
  grantId: string;
  username: string;
  /** Fingerprints for the trace: which tokens were issued. */
  fingerprints: { access: string; refresh: string };
}

/** The grant with a signing key for its refresh tokens: its own, or a new one for a grant from before them. */
export function withSigningKey(grant: GrantRecord): GrantRecord & { signingKey: string } {
  return grant.signingKey ? (grant as GrantRecord & { signingKey: string }) : { ...grant, signingKey: randomToken(16) };
}

/**
 * Mints an access and a refresh token for a grant and writes their hashed records in the caller's transaction, so
 * a response is never sent for tokens that were not stored, and a crash leaves either all of the records or none.
 */
export function mintTokens(
  deps: GrantDeps,
  tx: OAuthTx,
  grant: GrantRecord & { signingKey: string },
  accessScopes: string[],
  generation: number,
): { issued: IssuedTokens; refreshKey: string } {
  const now = deps.now();
  // Access tokens are keyed in the order they are issued, refresh tokens under their grant (store/records.ts).
  const access = accessTokenAt(now);
  const refresh = refreshTokenFor(grant.id, { key: Buffer.from(grant.signingKey, 'base64url'), generation, now });
  const refreshKey = tokenKey(refresh);
  const { accessToken } = deps.lifetimes;
  tx.tokens.create(tokenKey(access), {
    kind: 'access',
    grantId: grant.id,
    scopes: accessScopes,
    issuedAt: now,
    expiresAt: now + accessToken * 1000,
    clientId: grant.clientId,
    username: grant.username,
  });
  tx.tokens.create(refreshKey, refreshRecord(deps, grant, now));
  return {
    refreshKey,
    issued: {
      body: { access_token: access, token_type: 'Bearer', expires_in: accessToken, refresh_token: refresh, scope: accessScopes.join(' ') },
      grantId: grant.id,
      username: grant.username,
      fingerprints: { access: fingerprint(access), refresh: fingerprint(refresh) },
    },
  };
}

/** The record of a refresh token of `grant` issued at `now`: it lives as long as it may sit unused. */
export function refreshRecord(deps: GrantDeps, grant: GrantRecord, now: number): TokenRecord {
  return { kind: 'refresh', grantId: grant.id, scopes: grant.scopes, issuedAt: now, expiresAt: now + deps.lifetimes.refreshIdle * 1000 };
}

/** Superseded refresh tokens stay valid for the grace period only: their records end with it. */
export function expireSuperseded(deps: GrantDeps, tx: OAuthTx, keys: readonly string[], now: number): void {
  for (const key of keys) {
    const record = tx.tokens.find(key);
    if (record) tx.tokens.expireAt(key, record, now + deps.grace.periodSeconds * 1000);
  }
}

/** Grants live as long as their refresh tokens may sit unused (and their records are kept); every refresh extends both. */
export function grantExpiry(deps: GrantDeps): number {
  return deps.now() + deps.lifetimes.refreshIdle * 1000 + EXPIRED_RECORD_KEPT_MS;
}

/**
 * Marks a grant revoked inside a transaction; every token of it stops working at once because validation reads the
 * grant (refresh tokens, access tokens from before they named their client) or its revocation mark (access tokens).
 * Every revocation goes through here, so the two are written together.
 */
export function revokeGrantIn(deps: GrantDeps, tx: OAuthTx, grantId: string, reason: string): GrantRecord | undefined {
  const grant = tx.grants.find(grantId);
  if (!grant || grant.revokedAt !== undefined) return grant;
  const revoked: GrantRecord = {
    ...grant,
    revokedAt: deps.now(),
    revokedReason: reason,
    refresh: { live: [], previous: [], generation: grant.refresh.generation },
  };
  // The record outlives its tokens by the idle lifetime, so "revoked" (not "unknown") explains a late refresh.
  // Token records stay until they expire by themselves, so a late refresh is told "revoked", not "unknown".
  tx.grants.save(revoked, grantExpiry(deps));
  tx.grants.markRevoked(grantId, { at: revoked.revokedAt!, reason });
  return revoked;
}

/** Revokes a grant as one transaction of its own (admin actions, RFC 7009). */
export function revokeGrant(deps: GrantDeps, grantId: string, reason: string): GrantRecord | undefined {
  return deps.storage.transaction((tx) => revokeGrantIn(deps, tx, grantId, reason));
}
