/** RFC 7636 PKCE, S256 only (RFC 9700 §2.1.1: plain offers no protection against a leaked request). */
import { createHash } from 'node:crypto';
import { safeEqual } from '../crypto/tokens';

/** code_verifier and code_challenge share the grammar 43*128 unreserved characters (RFC 7636 §4.1, §4.2). */
const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/;

export function isValidPkceValue(value: string): boolean {
  return PKCE_VALUE.test(value);
}

export function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

export function verifyS256(verifier: string, challenge: string): boolean {
  return safeEqual(s256(verifier), challenge);
}
