/**
 * helmet for our server-rendered pages: nothing loads but what carries this response's nonce, forms post only
 * where we say, and framing is decided per app (the OAuth pages: never; the admin page: only by Home Assistant,
 * which shows Ingress pages in an iframe of its own origin, also ours through Ingress).
 */
import type { Request, RequestHandler, Response } from 'express';
import helmet from 'helmet';

export interface PageSecurity {
  /** Extra origins a form may post or redirect to (CSP form-action also governs the redirect after a POST). */
  formTargets?: string[];
  /** Allow scripts carrying the response's nonce (the admin page's copy buttons). */
  nonceScripts?: boolean;
  framing: 'none' | 'same-origin';
}

/**
 * The headers a helmet middleware sets, recorded once. Only for a configuration with nothing per request (no nonce,
 * no function directive): every response then gets the same headers.
 */
function recordedHeaders(middleware: RequestHandler): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => undefined,
  };
  let done = false;
  middleware({} as Request, recorder as unknown as Response, () => (done = true));
  if (!done || headers.length === 0) throw new Error('helmet did not set its headers synchronously');
  return headers;
}

/**
 * The JSON endpoints (token, revocation, introspection) render nothing: the same helmet headers with a fixed policy
 * that allows nothing, so no nonce is drawn for them (Alexa's refreshes are most of the traffic). helmet makes them
 * once, at start: running its twelve middlewares on every request cost 4% of an introspection's CPU.
 */
export function apiSecurityHeaders(): RequestHandler {
  const headers = recordedHeaders(apiHelmet());
  return (_req, res, next) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    next();
  };
}

function apiHelmet(): RequestHandler {
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
