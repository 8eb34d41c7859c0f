/** Per-request helpers: request id, CSP nonce, the issuer URL, and the raw query with repeats preserved. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { Config } from '../config/config';

declare module 'express-serve-static-core' {
  interface Locals {
    requestId: string;
    nonce: string;
  }
}

export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.get('x-request-id');
  res.locals.requestId = incoming && /^[\w.-]{1,64}$/.test(incoming) ? incoming : randomUUID();
  res.locals.nonce = randomBytes(16).toString('base64');
  res.set('X-Request-Id', res.locals.requestId);
  next();
}

/** public_url when set; otherwise the URL this request reached us at (X-Forwarded-* only from trusted proxies). */
export function issuerFor(req: Request, config: Config): string {
  if (config.publicUrl) return config.publicUrl;
  return `${req.protocol}://${req.host}`;
}

/** The query string as name -> all values, so repeated parameters can be refused (RFC 6749 §3.1). */
export function queryParams(req: Request): Map<string, string[]> {
  const q = req.originalUrl.indexOf('?');
  const params = new Map<string, string[]>();
  if (q < 0) return params;
  for (const [name, value] of new URLSearchParams(req.originalUrl.slice(q + 1))) {
    const list = params.get(name);
    if (list) list.push(value);
    else params.set(name, [value]);
  }
  return params;
}

/** A form field that must be a single string; repeated or absent fields read as undefined. */
export function formField(req: Request, name: string): string | undefined {
  const value = (req.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}
