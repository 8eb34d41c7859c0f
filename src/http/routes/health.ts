/**
 * GET /health: 200 only when the store can be written and read back, so Docker's HEALTHCHECK means something.
 * The file itself is checked on every request (a stat and a 16-byte read); the probe that writes runs at most once
 * per HEALTH_CACHE_MS however often /health is asked (the path may be exposed through the reverse proxy: a flood
 * must not wear the SD card or delay token writes).
 */
import { performance } from 'node:perf_hooks';
import { Router } from 'express';
import { Logger } from '../../log/logger';
import { StoreHealth } from '../../store/faults';
import { SqliteStore } from '../../store/sqlite/sqlite-store';

export const HEALTH_CACHE_MS = 5000;

export interface HealthDeps {
  store: Pick<SqliteStore, 'check' | 'status'>;
  version: string;
  /** When the server started (ms), for uptime_s. */
  startedAt: number;
  log: Pick<Logger, 'debug'>;
}

export function createHealthRoutes(deps: HealthDeps): Router {
  const router = Router();
  let probedAt = -Infinity;
  const probe = (): StoreHealth => {
    const now = Date.now();
    const write = now - probedAt >= HEALTH_CACHE_MS;
    if (write) probedAt = now;
    deps.store.check({ write });
    // The latest known state: the probe's, or a fault a request ran into since, or a recovery the retry timer saw.
    return deps.store.status();
  };
  // Uptime from the monotonic clock: a wall clock set back (or forward) must not make it negative or leap.
  const uptimeAtCreation = Date.now() - deps.startedAt;
  const createdMono = performance.now();
  router.get('/health', (_req, res) => {
    const store = probe();
    const body = {
      status: store.ok ? 'ok' : 'error',
      message: 'Music Assistant OAuth Server',
      version: deps.version,
      uptime_s: Math.round((uptimeAtCreation + performance.now() - createdMono) / 1000),
      store: store.ok ? 'ok' : store.reason,
      ...(store.ok ? {} : { store_fault: store.fault, store_fault_since: store.since }),
    };
    // The store logs each fault once when it starts and when it ends; a health poller must not flood the log.
    if (!store.ok) deps.log.debug('health check failed', { reason: store.reason });
    res
      .status(store.ok ? 200 : 503)
      .set('Cache-Control', 'no-store')
      .json(body);
  });
  return router;
}
