/**
 * helmet for our server-rendered pages: nothing loads but what carries this response's nonce, forms post only
 * where we say, and framing is decided per app (the OAuth pages: never; the admin page: only by Home Assistant,
 * which shows Ingress pages in an iframe of its own origin, also ours through Ingress).
 */
import type { RequestHandler, Response } from 'express';
import helmet from 'helmet';

export interface PageSecurity {
  /** Extra origins a form may post or redirect to (CSP form-action also governs the redirect after a POST). */
  formTargets?: string[];
  /** Allow scripts carrying the response's nonce (the admin page's copy buttons). */
  nonceScripts?: boolean;
  framing: 'none' | 'same-origin';
}

/**
 * The JSON endpoints (token, revocation, introspection) render nothing: the same helmet headers with a fixed policy
 * that allows nothing, so no nonce is drawn for them (Alexa's refreshes are most of the traffic).
 */
export function apiSecurityHeaders(): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'form-action': ["'none'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}

export function pageSecurityHeaders(opts: PageSecurity): RequestHandler {
  const nonce = (_req: unknown, res: unknown) => `'nonce-${(res as Response).locals.nonce}'`;
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'style-src': [nonce],
        ...(opts.nonceScripts ? { 'script-src': [nonce] } : {}),
        'img-src': ["'self'", 'data:'],
        'form-action': ["'self'", ...(opts.formTargets ?? [])],
        'frame-ancestors': [opts.framing === 'none' ? "'none'" : "'self'"],
        'base-uri': ["'none'"],
      },
    },
    frameguard: { action: opts.framing === 'none' ? 'deny' : 'sameorigin' },
    referrerPolicy: { policy: 'no-referrer' },
  });
}
