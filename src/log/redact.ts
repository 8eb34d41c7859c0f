/**
 * Safety net under every log line: any field named like a secret is replaced by its fingerprint, so a
 * careless `log.info('x', { password })` still never writes a password. Code that logs secrets on purpose
 * passes fingerprint() itself.
 */
import { fingerprint } from '../crypto/tokens';

const SECRET_KEYS = new Set([
  'password',
  'client_secret',
  'clientsecret',
  'secret',
  'code',
  'code_verifier',
  'verifier',
  'access_token',
  'refresh_token',
  'token',
  'authorization',
  'cookie',
  'set-cookie',
  'csrf',
]);

export function isSecretKey(key: string): boolean {
  return SECRET_KEYS.has(key.toLowerCase());
}

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (isSecretKey(k) && typeof v === 'string' && !v.startsWith('#')) out[k] = fingerprint(v);
    else out[k] = redact(v, depth + 1);
  }
  return out;
}
