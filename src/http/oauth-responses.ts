/** Rendering OAuth errors on the wire: RFC 6749 §5.2 JSON at the token endpoint, §4.1.2.1 redirects at authorize. */
import type { Response } from 'express';
import { OAuthError } from '../oauth/errors';

export function sendOAuthError(res: Response, error: OAuthError): void {
  res.status(error.status).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  if (error.status === 401) {
    // RFC 6749 §5.2 (and HTTP itself): a 401 names the scheme the client may use, Basic being ours.
    res.set('WWW-Authenticate', 'Basic realm="oauth", charset="UTF-8"');
  }
  res.json(error.toJSON());
}

/** The authorization response URL: the registered redirect URI with our parameters appended (keeping its own). */
export function redirectWith(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.append(name, value);
  }
  return url.href;
}
