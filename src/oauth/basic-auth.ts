/**
 * The one parser of `Authorization: Basic` (RFC 7617, with RFC 6749 §2.3.1's form-encoding of the id and the
 * secret), and the one rule for which client a token-endpoint request names. The per-client rate limit and the
 * client authenticator both use them, so they can never disagree on the client; the HTTP layer parses each
 * request's header once (request-context.ts, requestBasic) and hands the result to both.
 *
 * A scan, not a regular expression: `^Basic[ ]+([token68]*)\s*$` backtracks quadratically on "Basic" followed by
 * thousands of spaces and a "!" (0.5-1.5 s of the only thread per request). This is one pass over a header first
 * capped at MAX_AUTHORIZATION_LENGTH; base64 and percent-decoding are linear too.
 */

/** Far above any real credentials (client ids are at most 128 characters, resource-server secrets 1024). */
export const MAX_AUTHORIZATION_LENGTH = 4096;

export type MalformedReason = 'too_long' | 'not_basic' | 'not_base64' | 'no_colon';

export type BasicHeader =
  | { form: 'absent' }
  | { form: 'basic'; clientId: string; clientSecret: string; rawSecret: string }
  /** `scheme`: the scheme name, lower-cased, only when it is a registered one (never a piece of a value). */
  | { form: 'malformed'; reason: MalformedReason; scheme?: string };

const KNOWN_SCHEMES = new Set(['basic', 'bearer', 'digest', 'dpop', 'negotiate', 'ntlm', 'hoba', 'mutual', 'aws4-hmac-sha256']);

/** token68 (RFC 7235 §2.1) plus '=' anywhere, as Buffer's base64 decoder accepts both alphabets. */
function isToken68(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x30 && c <= 0x39) ||
    c === 0x2b ||
    c === 0x2f ||
    c === 0x3d ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x7e ||
    c === 0x2d
  );
}

/** RFC 6749 §2.3.1: id and secret are form-encoded before Basic; clients that skip it are read as sent. */
export function formDecode(value: string): string {
  // Alexa's id and secret have nothing to decode: no copy, no decodeURIComponent.
  if (!value.includes('%') && !value.includes('+')) return value;
  try {
    return decodeURIComponent(value.replaceAll('+', ' '));
  } catch {
    return value;
  }
}

function schemeOf(header: string): string | undefined {
  const end = header.indexOf(' ');
  const first = (end < 0 ? header : header.slice(0, end)).slice(0, 32).toLowerCase();
  return KNOWN_SCHEMES.has(first) && end > 0 ? first : undefined;
}

export function parseBasicAuthorization(header: string | undefined): BasicHeader {
  if (header === undefined || header === '') return { form: 'absent' };
  const n = header.length;
  if (n > MAX_AUTHORIZATION_LENGTH) return { form: 'malformed', reason: 'too_long', scheme: schemeOf(header.slice(0, 64)) };
  if (header.slice(0, 5).toLowerCase() !== 'basic' || (n > 5 && header[5] !== ' ')) {
    return { form: 'malformed', reason: 'not_basic', scheme: schemeOf(header) };
  }
  let i = 5;
  while (i < n && header.charCodeAt(i) === 0x20) i++;
  if (i === 5) return { form: 'malformed', reason: 'not_base64', scheme: 'basic' }; // "Basic" and nothing else
  const start = i;
  while (i < n && isToken68(header.charCodeAt(i))) i++;
  const end = i;
  while (i < n && (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09)) i++;
  if (i !== n) return { form: 'malformed', reason: 'not_base64', scheme: 'basic' };
  const decoded = Buffer.from(header.slice(start, end), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { form: 'malformed', reason: 'no_colon', scheme: 'basic' };
  const rawSecret = decoded.slice(colon + 1);
  return { form: 'basic', clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(rawSecret), rawSecret };
}

/**
 * The client a token, revocation or introspection request names: the Basic user when the header is Basic, none
 * when the header is malformed (the authenticator refuses it), else the body's client_id.
 */
export function namedClientId(basic: BasicHeader, bodyClientId: unknown): string | undefined {
  if (basic.form === 'basic') return basic.clientId;
  if (basic.form === 'malformed') return undefined;
  return typeof bodyClientId === 'string' ? bodyClientId : undefined;
}
