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

/** What a configured secret is replaced by (the notifications say the same). */
export const SCRUBBED = '[a configured secret]';

/** The fields of a trace event that can carry what a request sent; the others are the server's own words and ids. */
const REQUEST_FIELDS = ['clientRequestId', 'clientId', 'redirectUri', 'grantType', 'username', 'cause', 'facts', 'detail'] as const;

/**
 * Replaces the configured secrets where a request could have put one (REQUEST_FIELDS of a trace event, at any
 * depth): a client secret pasted as the client id, a password typed as the username, reach no log, trace or page.
 * Runs before capping, so no part of one survives a cut; the longest secret first, so none is left in pieces of
 * another. With no secrets, the event is returned as is.
 */
export function secretScrubber(secrets: readonly string[]): <T extends object>(event: T) => T {
  const list = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  if (list.length === 0) return (event) => event;
  const shortest = list[list.length - 1]!.length;
  const scrub = (value: unknown, depth: number): unknown => {
    if (typeof value === 'string') {
      if (value.length < shortest) return value;
      return list.reduce((acc, secret) => (acc.includes(secret) ? acc.split(secret).join(SCRUBBED) : acc), value);
    }
    if (depth > 6 || value === null || typeof value !== 'object') return value;
    if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) out[k] = scrub(v, depth + 1);
    return out;
  };
  return <T extends object>(event: T): T => {
    const out: Record<string, unknown> = { ...(event as Record<string, unknown>) };
    for (const field of REQUEST_FIELDS) if (out[field] !== undefined) out[field] = scrub(out[field], 0);
    return out as T;
  };
}
