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
    };
    if (!store.ok) deps.log.error('health check failed', { reason: store.reason });
    res.status(store.ok ? 200 : 503).set('Cache-Control', 'no-store').json(body);
  });
  return router;
}
