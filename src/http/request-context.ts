/**
 * Per-request helpers: request id, CSP nonce, the issuer URL, the Basic credentials (parsed once), and the raw
 * query with repeats preserved.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { Config } from '../config/config';
import { untrusted } from '../log/untrusted';
import { BasicHeader, parseBasicAuthorization } from '../oauth/basic-auth';

declare module 'express-serve-static-core' {
  interface Locals {
    /** Ours, one per request: a client cannot choose the id its entries are filed under. */
    requestId: string;
    /** The X-Request-Id the client sent, capped and escaped, recorded beside ours for correlation. */
    clientRequestId?: string;
    nonce: string;
    /** The Authorization header, parsed once for the limiter and the authenticator alike. */
    basic?: BasicHeader;
    /** Whether the body is a form, worked out once (form-endpoint.ts isForm). */
    formTyped?: boolean;
    /** The client's address, worked out once (rate-limits.ts clientAddress). */
    clientAddress?: string;
    /** When the request's handling began (process.hrtime.bigint()), for its latency (request-timing.ts). */
    receivedNs?: bigint;
  }
}

/**
 * A request's locals, one class so that every request's have the same shape. Express's own are a null-prototype
 * object, which V8 keeps as a dictionary, and defining the lazy nonce on each one cost an introspection about 5 µs
 * of CPU on the bench. What is worked out once per request is kept here too, not in WeakMaps keyed by the request,
 * whose entries the garbage collector has to trace: 4 µs more (docs/benchmark.md).
 */
class RequestLocals {
  readonly receivedNs = process.hrtime.bigint();
  readonly requestId = randomUUID();
  clientRequestId?: string;
  basic?: BasicHeader;
  formTyped?: boolean;
  clientAddress?: string;
  #nonce?: string;

  /** Drawn when a page or its CSP header first needs it: JSON answers never do. */
  get nonce(): string {
    return (this.#nonce ??= randomBytes(16).toString('base64'));
  }
}

export function requestContext(req: Request, res: Response, next: NextFunction): void {
  const locals = new RequestLocals();
  const incoming = req.get('x-request-id');
  if (incoming) locals.clientRequestId = untrusted(incoming, 64);
  res.locals = locals;
  res.setHeader('X-Request-Id', locals.requestId);
  next();
}

/** The request's Authorization header as Basic credentials, parsed on first use and remembered for the request. */
export function requestBasic(req: Request, res: Response): BasicHeader {
  return (res.locals.basic ??= parseBasicAuthorization(req.get('authorization')));
}

/** A host[:port] as a Host header should be: a DNS name or an IP literal, nothing that could bend a URL. */
function isPlainHost(host: string): boolean {
  if (host.length > 260) return false;
  // Both patterns are linear: each repeated group ends in a character its class excludes.
  const m = /^(?:([A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*)|\[([0-9A-Fa-f:.]{2,45})\])(?::(\d{1,5}))?$/.exec(host);
  if (!m) return false;
  if (m[2] !== undefined && isIP(m[2]) !== 6) return false;
  return m[3] === undefined || Number(m[3]) <= 65535;
}

/**
 * public_url when set; otherwise the URL this request reached us at: X-Forwarded-Proto and X-Forwarded-Host only
 * from trusted_proxies (Express's trust proxy decides), the Host header otherwise, and only when it is a plain
 * host[:port] (else the address the connection reached). Without public_url the answer depends on what a client
 * sent, so nothing built from it may be cached for others (see routes/metadata.ts).
 */
export function issuerFor(req: Request, config: Pick<Config, 'publicUrl'>): string {
  if (config.publicUrl) return config.publicUrl;
  const host = req.host;
  if (host && isPlainHost(host)) return `${req.protocol}://${host}`;
  const local = req.socket.localAddress ?? '127.0.0.1';
  const shown = isIP(local) === 6 ? `[${local}]` : local;
  return `${req.protocol}://${shown}:${req.socket.localPort ?? 80}`;
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
