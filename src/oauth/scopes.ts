/** Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive, limited to the client's configured scopes. */
import { untrusted } from '../log/untrusted';
import { InvalidScope } from './errors';

const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

export function parseScope(scope: string | undefined): string[] | undefined {
  if (scope === undefined) return undefined;
  const parts = scope.split(' ').filter((s) => s !== '');
  return [...new Set(parts)];
}

/** The scopes a request is granted: all allowed ones when none are asked for, else exactly those asked. */
export function resolveScopes(requested: string[] | undefined, allowed: string[], clientId: string): string[] {
  if (requested === undefined || requested.length === 0) return [...allowed];
  const malformed = requested.filter((s) => !SCOPE_TOKEN.test(s));
  if (malformed.length > 0) {
    throw new InvalidScope('malformed scope', {
      kind: 'scope_malformed',
      facts: { malformed },
      debug: `scope contains invalid characters: ${untrusted(JSON.stringify(malformed))}`,
    });
  }
  const unknown = requested.filter((s) => !allowed.includes(s));
  if (unknown.length > 0) {
    throw new InvalidScope(`scope not allowed: ${untrusted(unknown.join(' '), 128)}`, {
      kind: 'scope_not_allowed',
      facts: { clientId, asked: unknown, allowed },
      debug: `client "${clientId}" asked for ${untrusted(unknown.map((s) => `"${s}"`).join(', '))}, not among its configured scopes (${allowed.join(', ') || 'none'}); make the Scopes in the Alexa console match clients[].scopes`,
    });
  }
  return requested;
}

/** A refresh may narrow the granted scope, never widen it (RFC 6749 §6). */
export function narrowScopes(requested: string[] | undefined, granted: string[]): string[] {
  if (requested === undefined || requested.length === 0) return granted;
  const extra = requested.filter((s) => !granted.includes(s));
  if (extra.length > 0) {
    throw new InvalidScope(`scope exceeds the original grant: ${extra.join(' ')}`, {
      kind: 'scope_widened',
      facts: { asked: extra, granted },
      debug: `refresh asked for ${untrusted(extra.join(', '))}, beyond the granted ${granted.join(', ')}`,
    });
  }
  return requested;
}
