/** Random tokens, their storage hashes and log fingerprints. Raw tokens exist only in responses and requests. */
import { hash, randomBytes, randomFillSync, timingSafeEqual } from 'node:crypto';

/**
 * Random bytes are drawn from the CSPRNG a block at a time and each byte is handed out once: a call into OpenSSL
 * costs ~7 µs, two per refresh, where slicing a block costs 0.1 µs (Node's randomUUID() caches the same way). The
 * block is small, so a memory dump would show few tokens not yet issued.
 */
const POOL_BYTES = 1024;
const pool = Buffer.alloc(POOL_BYTES);
let poolAt = POOL_BYTES;

/** 256 bits of entropy, base64url: unguessable and URL-safe (RFC 6749 §10.10). */
export function randomToken(bytes = 32): string {
  if (bytes > POOL_BYTES) return randomBytes(bytes).toString('base64url');
  if (poolAt + bytes > POOL_BYTES) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const token = pool.toString('base64url', poolAt, poolAt + bytes);
  poolAt += bytes;
  return token;
}

/** What the store is keyed by: SHA-256 of the token, so a copy of the database grants nothing. */
export function tokenHash(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** A grant's id as the server makes them (and 1.0.0 made them): 22 characters of base64url. */
const GRANT_ID = /^[\w-]{22}$/;
/** A refresh token: its grant's id, a dot, then 256 random bits. */
const GRANT_TOKEN = /^([\w-]{22})\.[\w-]{43}$/;

/**
 * A new refresh token: `<grant id>.<secret>`. The id is not secret (the admin page and the trace show it); it puts
 * the token's record beside its grant's in the store (see tokenKey).
 */
export function refreshTokenFor(grantId: string): string {
  return GRANT_ID.test(grantId) ? `${grantId}.${randomToken()}` : randomToken();
}

/**
 * The store's key of an access or refresh token: `<grant id>/<SHA-256 of the whole token>` for a token that names
 * its grant, the bare SHA-256 for any other (access tokens, and refresh tokens issued before they named their
 * grant). Its row then sits beside its grant's (store/records.ts). A made-up grant id only changes where the lookup
 * looks.
 */
export function tokenKey(token: string): string {
  const named = GRANT_TOKEN.exec(token);
  return named ? `${named[1]}/${tokenHash(token)}` : tokenHash(token);
}

/** A short, non-reversible tag that lets an operator match log lines about the same secret. */
export function fingerprint(secret: string | undefined): string {
  if (secret === undefined || secret === '') return '(none)';
  return `#${hash('sha256', secret, 'hex').slice(0, 8)}`;
}

/** Constant-time string comparison; compares hashes so unequal lengths leak nothing either. */
export function safeEqual(a: string, b: string): boolean {
  const ha = hash('sha256', a, 'buffer');
  const hb = hash('sha256', b, 'buffer');
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
