/**
 * Who may use the admin listener, and the two things every admin page needs from a request: the Ingress prefix
 * its links must carry, and a CSRF token for its forms.
 *
 * The admin UI has no login of its own: in the add-on, Home Assistant authenticates the user and its Ingress
 * proxy (always 172.30.32.2) is the only peer allowed. The check reads the socket's peer address, never a header:
 * headers are written by whoever connects.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { safeEqual } from '../oauth/secrets';

export const INGRESS_PROXY = '172.30.32.2';
export const LOOPBACK = ['127.0.0.1', '::1'];

/** ::ffff:172.30.32.2 (an IPv4 peer on a dual-stack socket) -> 172.30.32.2 */
export function peerAddress(req: Request): string {
  const raw = req.socket.remoteAddress ?? '';
  return raw.startsWith('::ffff:') && raw.includes('.') ? raw.slice(7) : raw;
}

/** Refuses (403) every request whose TCP peer is not in `allow`. Unix-socket peers have no address and are refused too. */
export function allowOnly(allow: string[], onRefused: (req: Request, address: string) => void) {
  const allowed = new Set(allow);
  return (req: Request, res: Response, next: NextFunction): void => {
    const address = peerAddress(req);
    if (allowed.has(address)) {
      next();
      return;
    }
    onRefused(req, address || '(unknown)');
    res.status(403).set('Cache-Control', 'no-store').type('text/plain').send(
      'Forbidden: the admin page accepts connections only from the Home Assistant Ingress proxy (or loopback outside the add-on). Open it from the Home Assistant sidebar.\n',
    );
  };
}

const INGRESS_PATH = /^(\/[A-Za-z0-9._~-]+){1,8}$/;

/**
 * The path prefix Home Assistant's Ingress proxy serves us under (X-Ingress-Path, e.g. /api/hassio_ingress/<token>),
 * or '' when reached directly. Only shapes a path can have are accepted: it ends up in links and Location headers.
 */
export function ingressPrefix(req: Request): string {
  const value = req.get('x-ingress-path');
  if (!value) return '';
  const trimmed = value.replace(/\/+$/, '');
  return trimmed.length <= 256 && INGRESS_PATH.test(trimmed) ? trimmed : '';
}

/** The Home Assistant user Ingress names in X-Remote-User-* (trusted: only the proxy can connect). */
export function ingressUser(req: Request): string | undefined {
  const name = req.get('x-remote-user-display-name') || req.get('x-remote-user-name');
  return name ? name.slice(0, 64) : undefined;
}

const CSRF_LIFETIME_MS = 12 * 3600 * 1000;

/**
 * Stateless CSRF tokens: an HMAC of the issue time under a key that lives as long as the process. A page from
 * this server carries one; a forged cross-site form cannot (it cannot read our pages). After a restart, old
 * pages' forms are refused with "reload the page".
 */
export function createCsrf(now: () => number = Date.now) {
  const key = randomBytes(32);
  const mac = (issued: string) => createHmac('sha256', key).update(`admin-csrf:${issued}`).digest('base64url');
  return {
    token(): string {
      const issued = now().toString(36);
      return `${issued}.${mac(issued)}`;
    },
    verify(token: unknown): boolean {
      if (typeof token !== 'string' || token.length > 128) return false;
      const [issued, sig] = token.split('.');
      if (!issued || !sig || !safeEqual(sig, mac(issued))) return false;
      const age = now() - parseInt(issued, 36);
      return age >= -60_000 && age <= CSRF_LIFETIME_MS;
    },
  };
}
