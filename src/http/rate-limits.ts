/**
 * Brute-force throttles (express-rate-limit, in memory: they protect one process and reset on restart, which is
 * acceptable for a limiter). Only failures count, so Alexa's normal traffic is never slowed. Keys use req.ip,
 * which is the real client address behind a proxy listed in trusted_proxies and the peer address otherwise.
 */
import type { Request, Response } from 'express';
import { ipKeyGenerator, rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';

export interface RateLimitSettings {
  windowMs: number;
  loginFailuresPerIp: number;
  loginFailuresPerUser: number;
  tokenFailuresPerIp: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = {
  windowMs: 15 * 60 * 1000,
  loginFailuresPerIp: 20,
  loginFailuresPerUser: 10,
  tokenFailuresPerIp: 60,
};

export type LimitedHandler = (req: Request, res: Response, retryAfterSeconds: number, limiter: string) => void;

function retryAfter(req: Request, windowMs: number): number {
  const reset = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
  return Math.max(1, Math.ceil(((reset?.getTime() ?? Date.now() + windowMs) - Date.now()) / 1000));
}

function limiter(name: string, limit: number, windowMs: number, key: (req: Request) => string, onLimited: LimitedHandler): RateLimitRequestHandler {
  return rateLimit({
    windowMs,
    limit,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: key,
    // We warn about untrusted proxies ourselves, in words that name the option to set.
    validate: { xForwardedForHeader: false, trustProxy: false },
    handler: (req, res) => {
      const seconds = retryAfter(req, windowMs);
      res.set('Retry-After', String(seconds));
      onLimited(req, res, seconds, name);
    },
  });
}

const clientIp = (req: Request) => ipKeyGenerator(req.ip ?? 'unknown');

export function createRateLimits(settings: RateLimitSettings, onLimited: LimitedHandler) {
  const { windowMs } = settings;
  return {
    loginPerIp: limiter('login-ip', settings.loginFailuresPerIp, windowMs, clientIp, onLimited),
    loginPerUser: limiter(
      'login-user',
      settings.loginFailuresPerUser,
      windowMs,
      (req) => `user:${String((req.body as Record<string, unknown> | undefined)?.username ?? '').toLowerCase().slice(0, 128)}`,
      onLimited,
    ),
    tokenPerIp: limiter('token-ip', settings.tokenFailuresPerIp, windowMs, clientIp, onLimited),
  };
}
