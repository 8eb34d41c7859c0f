/** What the grant handlers need: the repositories, the per-key lock, lifetimes and a clock (tests move time). */
import { KeyedLock } from '../store/keyed-lock';
import { StoreEntry } from '../store/open-store';
import { GrantRecord, Repositories } from '../store/records';
import { fingerprint, randomToken, tokenHash } from './secrets';

export interface Lifetimes {
  /** Seconds. */
  accessToken: number;
  authCode: number;
  refreshIdle: number;
}

export interface GrantDeps {
  repos: Repositories;
  lock: KeyedLock;
  lifetimes: Lifetimes;
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

/**
 * Mints an access and a refresh token for a grant. Their hashed records are returned, not written: the caller
 * writes them together with the grant record in one transaction (repos.write), so a response is never sent for
 * tokens that were not stored, and a crash leaves either all of the records or none.
 */
export function mintTokens(deps: GrantDeps, grant: GrantRecord, accessScopes: string[]): { issued: IssuedTokens; refreshHash: string; writes: StoreEntry[] } {
  const now = deps.now();
  const access = randomToken();
  const refresh = randomToken();
  const refreshHash = tokenHash(refresh);
  const { accessToken, refreshIdle } = deps.lifetimes;
  const writes = [
    deps.repos.tokens.entry(
      tokenHash(access),
      { kind: 'access', grantId: grant.id, scopes: accessScopes, issuedAt: now, expiresAt: now + accessToken * 1000, refreshHash },
      accessToken * 1000,
    ),
    deps.repos.tokens.entry(
      refreshHash,
      { kind: 'refresh', grantId: grant.id, scopes: grant.scopes, issuedAt: now, expiresAt: now + refreshIdle * 1000 },
      refreshIdle * 1000,
    ),
  ];
  return {
    refreshHash,
    writes,
    issued: {
      body: { access_token: access, token_type: 'Bearer', expires_in: accessToken, refresh_token: refresh, scope: accessScopes.join(' ') },
      grantId: grant.id,
      username: grant.username,
      fingerprints: { access: fingerprint(access), refresh: fingerprint(refresh) },
    },
  };
}

/** Grants live as long as their refresh tokens may sit unused; every refresh extends both. */
export function grantTtlMs(deps: GrantDeps): number {
  return deps.lifetimes.refreshIdle * 1000;
}

/** Marks a grant revoked; every token issued from it stops working at once because validation reads the grant. */
export async function revokeGrant(deps: GrantDeps, grantId: string, reason: string): Promise<GrantRecord | undefined> {
  return deps.lock.run(`grant:${grantId}`, () => revokeGrantLocked(deps, grantId, reason));
}

/**
 * revokeGrant for a caller that already holds `grant:<id>` (the refresh grant). KeyedLock is not reentrant:
 * taking the same key again from inside would wait for itself forever.
 */
export async function revokeGrantLocked(deps: GrantDeps, grantId: string, reason: string): Promise<GrantRecord | undefined> {
  const grant = await deps.repos.grants.get(grantId);
  if (!grant || grant.revokedAt !== undefined) return grant;
  const revoked: GrantRecord = { ...grant, revokedAt: deps.now(), revokedReason: reason, refresh: { live: [], settled: true } };
  await deps.repos.grants.put(grantId, revoked, grantTtlMs(deps));
  return revoked;
}
