/** Random tokens, their storage hashes and log fingerprints. Raw tokens exist only in responses and requests. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 256 bits of entropy, base64url: unguessable and URL-safe (RFC 6749 §10.10). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** What the store is keyed by: SHA-256 of the token, so a copy of the database grants nothing. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A short, non-reversible tag that lets an operator match log lines about the same secret. */
export function fingerprint(secret: string | undefined): string {
  if (secret === undefined || secret === '') return '(none)';
  return `#${createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8)}`;
}

/** Constant-time string comparison; compares hashes so unequal lengths leak nothing either. */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}
