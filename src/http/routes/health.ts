/** GET /health: 200 only when the store can be written and read back, so Docker's HEALTHCHECK means something. */
import { Router } from 'express';
import { HttpDeps } from '../deps';

export function healthRoutes(deps: HttpDeps): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const store = await deps.store.check();
    const body = {
      status: store.ok ? 'ok' : 'error',
      message: 'Music Assistant OAuth Server',
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      store: store.ok ? 'ok' : store.reason,
      ...(store.ok ? {} : { store_fault: store.fault, store_fault_since: store.since }),
    };
    // The store logs each fault once when it starts and when it ends; a health poller must not flood the log.
    if (!store.ok) deps.log.debug('health check failed', { reason: store.reason });
    res.status(store.ok ? 200 : 503).set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
