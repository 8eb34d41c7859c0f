/**
 * The two cookies of the login flow. The flow cookie binds an authorization request to the browser that started
 * it (so a forged login or consent POST from another browser fails); the session cookie remembers the login.
 * Both are HttpOnly, SameSite=Lax, and Secure wherever the browser will accept it.
 */
import type { CookieOptions, Request, Response } from 'express';
import type Keyv from 'keyv';
import { Config } from '../config/config';
import { randomToken, safeEqual, tokenHash } from '../crypto/tokens';
import { FLOW_TTL_MS } from '../oauth/authorization-flow';
import { SESSION_PREFIX, SessionRecord } from '../store/records';

export const FLOW_COOKIE = 'maoauth_flow';
export const SESSION_COOKIE = 'maoauth_session';
export const SESSION_TTL_MS = 12 * 3600 * 1000;
/** Proves the browser logged in as a username before (rate-limits.ts); as long as browsers keep a cookie. */
export const DEVICE_COOKIE = 'maoauth_device';
const DEVICE_TTL_MS = 400 * 24 * 3600 * 1000;

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$/;

function cookieOptions(req: Request, config: Pick<Config, 'publicUrl'>, maxAge: number): CookieOptions {
  // Browsers drop Secure cookies set over plain http except on loopback; behind an https public_url they are always Secure.
  const secure = req.secure || LOOPBACK.test(req.hostname) || Boolean(config.publicUrl?.startsWith('https:'));
  return { httpOnly: true, secure, sameSite: 'lax', path: '/', maxAge };
}

/** A cookie as cookie-parser read it (its type says any): a string, or anything else when the header was odd. */
function cookie(req: Request, name: string): unknown {
  const cookies = req.cookies as Record<string, unknown> | undefined;
  return cookies?.[name];
}

/** The browser's flow token (reused across tabs), setting the cookie when the browser has none yet. */
export function ensureFlowToken(req: Request, res: Response, config: Pick<Config, 'publicUrl'>): string {
  const existing = cookie(req, FLOW_COOKIE);
  const token = typeof existing === 'string' && /^[\w-]{43}$/.test(existing) ? existing : randomToken();
  res.cookie(FLOW_COOKIE, token, cookieOptions(req, config, FLOW_TTL_MS));
  return token;
}

export function flowHashOf(req: Request): string | undefined {
  const token = cookie(req, FLOW_COOKIE);
  return typeof token === 'string' ? tokenHash(token) : undefined;
}

/** A login session is written only after a successful login: never for an anonymous request. */
export async function startSession(
  req: Request,
  res: Response,
  config: Pick<Config, 'publicUrl'>,
  sessions: Keyv<SessionRecord>,
  record: SessionRecord,
): Promise<void> {
  const sid = randomToken();
  await sessions.set(`${SESSION_PREFIX}${tokenHash(sid)}`, record, SESSION_TTL_MS);
  res.cookie(SESSION_COOKIE, sid, cookieOptions(req, config, SESSION_TTL_MS));
}

export async function currentSession(req: Request, sessions: Keyv<SessionRecord>): Promise<SessionRecord | undefined> {
  const sid = cookie(req, SESSION_COOKIE);
  if (typeof sid !== 'string' || sid.length > 64) return undefined;
  return sessions.get(`${SESSION_PREFIX}${tokenHash(sid)}`);
}

/** Remembers, after a successful login, that this browser logged in as the username `proof` was made for. */
export function rememberDevice(req: Request, res: Response, config: Pick<Config, 'publicUrl'>, proof: string): void {
  res.cookie(DEVICE_COOKIE, proof, cookieOptions(req, config, DEVICE_TTL_MS));
}

/** Whether the browser's device cookie is the proof `expected` makes (made only when there is a cookie). */
export function hasDeviceProof(req: Request, expected: () => string): boolean {
  const held = cookie(req, DEVICE_COOKIE);
  return typeof held === 'string' && held.length <= 64 && safeEqual(held, expected());
}
