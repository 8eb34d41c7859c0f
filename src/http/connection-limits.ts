/**
 * What a stranger's open connections may hold. Idle or trickling connections cost a file descriptor and about 12 KB
 * each: without a cap, tens of thousands of them from one machine took the descriptors Alexa's refreshes and
 * /health needed, with nothing in the log. So:
 * - at most `perSource` connections at once from one source (an IPv4 address, an IPv6 /56, as the rate limits
 *   count), and `total` from all of them together; a trusted proxy, which carries everyone's, is held by neither,
 *   so strangers filling the total never shut out the proxy Alexa comes through;
 * - headers within `headersTimeoutMs`, the whole request within `requestTimeoutMs`, checked every
 *   `checkIntervalMs` (Node checks every 30 s by default, so its timeouts ran up to 30 s late).
 * Refused connections are counted and logged once a minute per source, never one line each.
 */
import { ipKeyGenerator } from 'express-rate-limit';
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { Logger } from '../log/logger';
import { untrusted } from '../log/untrusted';
import { unmapIPv4 } from '../log/client-address';

export interface ConnectionLimits {
  perSource: number;
  total: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  checkIntervalMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  // Far above what a household, Alexa or an untrusted reverse proxy holds at once (a burst of 50 requests opens 50).
  perSource: 256,
  total: 2048,
  headersTimeoutMs: 10_000,
  // Alexa allows 4.5 s for a token response; a stuck request must not hold resources for minutes.
  requestTimeoutMs: 30_000,
  checkIntervalMs: 2_000,
};

const REPORT_EVERY_MS = 60_000;
const ALL = 'all sources';

/** The options http.createServer takes for these limits. */
export function serverTimeouts(limits: ConnectionLimits): ServerOptions {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  };
}

/** Applies the caps to a listening server; `trusted(address)` is Express's trust proxy decision for a peer. */
export function limitConnections(server: Server, limits: ConnectionLimits, trusted: (address: string) => boolean, log: Logger): void {
  const open = new Map<string, number>();
  /** Connections open from every source but trusted proxies. */
  let strangers = 0;
  /** Refused since the last report, by source (bounded: a flood from many sources is one more line, not more memory). */
  const refused = new Map<string, number>();
  let others = 0;

  const rule = (source: string) =>
    source === ALL ? `more than ${limits.total} open in all` : `more than ${limits.perSource} open at once from one source`;
  const count = (source: string) => {
    if (refused.size === 0 && others === 0) {
      log.warn(
        `connection limit reached: refusing connections from ${untrusted(source, 64)} (${rule(source)}); the refusals are counted once a minute`,
      );
    }
    if (refused.has(source) || refused.size < 100) refused.set(source, (refused.get(source) ?? 0) + 1);
    else others++;
  };
  const report = () => {
    for (const [source, n] of refused)
      log.warn(`connection limit: refused ${n} connection(s) from ${untrusted(source, 64)} in the last minute (${rule(source)})`);
    if (others > 0) log.warn(`connection limit: refused ${others} more connection(s) from other sources in the last minute`);
    refused.clear();
    others = 0;
  };
  const timer = setInterval(report, REPORT_EVERY_MS);
  timer.unref();
  server.once('close', () => clearInterval(timer));

  server.on('connection', (socket: Socket) => {
    const address = unmapIPv4(socket.remoteAddress ?? 'unknown');
    if (trusted(address)) return;
    const source = ipKeyGenerator(address);
    const held = open.get(source) ?? 0;
    if (held >= limits.perSource || strangers >= limits.total) {
      socket.destroy();
      count(held >= limits.perSource ? source : ALL);
      return;
    }
    open.set(source, held + 1);
    strangers++;
    socket.once('close', () => {
      strangers--;
      const left = (open.get(source) ?? 1) - 1;
      if (left > 0) open.set(source, left);
      else open.delete(source);
    });
  });
}
