/** The JSON API the CLI uses on the control socket (see control.ts for why writes go through the server). */
import express, { NextFunction, Request, Response } from 'express';
import { diagnose } from './diagnose';
import { AdminContext, AdminError, activity, listClients, listGrants, resolveGrantId, revokeAll, revokeGrants, status } from './service';

function actorFrom(body: unknown) {
  const user = (body as { actor?: { user?: unknown } } | undefined)?.actor?.user;
  return { via: 'cli' as const, user: typeof user === 'string' ? user.slice(0, 64) : undefined };
}

export function createControlApp(ctx: AdminContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ limit: '16kb' }));

  app.get('/v1/status', async (_req, res) => {
    res.json(await status(ctx));
  });
  app.get('/v1/clients', (_req, res) => {
    res.json(listClients(ctx));
  });
  app.get('/v1/grants', async (req, res) => {
    res.json(await listGrants(ctx, { all: req.query.all === '1' }));
  });
  app.post('/v1/revoke', async (req, res) => {
    const ids = (req.body as { ids?: unknown }).ids;
    if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000 || ids.some((i) => typeof i !== 'string')) {
      throw new AdminError('ids must be a list of grant ids');
    }
    const resolved: string[] = [];
    for (const id of ids as string[]) resolved.push(await resolveGrantId(ctx, id));
    res.json(await revokeGrants(ctx, resolved, actorFrom(req.body)));
  });
  app.post('/v1/revoke-all', async (req, res) => {
    res.json(await revokeAll(ctx, actorFrom(req.body)));
  });
  app.get('/v1/activity', async (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    const limit = q.limit ? Math.min(10_000, Math.max(1, Number.parseInt(q.limit, 10) || 50)) : 50;
    const since = q.since ? Number(q.since) : undefined;
    res.json(await activity(ctx, { failuresOnly: q.failures === '1', limit, sinceMs: Number.isFinite(since) ? since : undefined }));
  });
  app.get('/v1/diagnose', async (_req, res) => {
    res.json(await diagnose(ctx, { serverRunning: true }));
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'no such control endpoint' });
  });
  app.use((err: Error & { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
    const status = err instanceof AdminError ? err.status : typeof err.status === 'number' && err.status < 500 ? err.status : 500;
    if (status === 500) ctx.log?.error('control socket error', { error: err.stack ?? String(err) });
    res.status(status).json({ error: status === 500 ? `server error: ${err.message}` : err.message });
  });
  return app;
}
