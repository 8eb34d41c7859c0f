/**
 * The token endpoints' failure limits (src/http/rate-limits.ts FailureLimit): express-rate-limit's MemoryStore,
 * read synchronously before a request is decided and counted at once when it failed. A key locks once its
 * failures in the window reach the limit, each key on its own, a request the limit does not apply to is neither
 * locked nor counted, and the lock ends with the window.
 */
import { afterEach, expect, jest } from '@jest/globals';
import type { Request, Response } from 'express';
import { FailureLimit } from '../../src/http/rate-limits';

const WINDOW_MS = 15 * 60 * 1000;
const limits: FailureLimit[] = [];
afterEach(() => {
  limits.splice(0).forEach((l) => l.shutdown());
  jest.useRealTimers();
});

/** A request that stands for its key alone ("" for one the limit does not apply to). */
const request = (key: string) => ({ key }) as unknown as Request;
const res = {} as Response;

function limit(max: number): FailureLimit {
  const l = new FailureLimit('token-ip', max, WINDOW_MS, (req) => {
    const { key } = req as unknown as { key: string };
    return key === '' ? undefined : { key: `k:${key}`, target: key };
  });
  limits.push(l);
  return l;
}

function failures(l: FailureLimit, key: string, n: number): void {
  for (let i = 0; i < n; i++) {
    expect(l.lockout(request(key), res)).toBeUndefined();
    l.fail(request(key), res);
  }
}

it('locks a key once its failures reach the limit, and only that key', () => {
  const l = limit(3);
  failures(l, '198.51.100.1', 3);
  const lockout = l.lockout(request('198.51.100.1'), res);
  expect(lockout).toEqual({ limiter: 'token-ip', target: '198.51.100.1', retryAfterSeconds: expect.any(Number) });
  expect(lockout!.retryAfterSeconds).toBeGreaterThan(WINDOW_MS / 1000 - 60);
  expect(lockout!.retryAfterSeconds).toBeLessThanOrEqual(WINDOW_MS / 1000);
  expect(l.lockout(request('198.51.100.2'), res)).toBeUndefined();
});

it('counts nothing for a request it does not apply to', () => {
  const l = limit(1);
  for (let i = 0; i < 5; i++) l.fail(request(''), res);
  expect(l.lockout(request(''), res)).toBeUndefined();
  failures(l, 'a', 1);
  expect(l.lockout(request('a'), res)).toBeDefined();
});

it('a lock ends with its window, and the count starts again', () => {
  jest.useFakeTimers({ now: new Date('2026-12-02T12:00:00Z') });
  const l = limit(2);
  failures(l, 'a', 2);
  expect(l.lockout(request('a'), res)?.retryAfterSeconds).toBe(WINDOW_MS / 1000);
  jest.advanceTimersByTime(WINDOW_MS - 30_000);
  expect(l.lockout(request('a'), res)?.retryAfterSeconds).toBe(30);
  jest.advanceTimersByTime(30_000);
  expect(l.lockout(request('a'), res)).toBeUndefined();
  failures(l, 'a', 2);
  expect(l.lockout(request('a'), res)).toBeDefined();
});
