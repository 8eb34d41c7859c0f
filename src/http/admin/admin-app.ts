/**
 * The admin Express app: the pages behind Home Assistant Ingress, and GET /metrics. It listens on its own port
 * (never the public OAuth one) and refuses every peer not in the allow-list before anything else runs.
 */
import { randomUUID } from 'node:crypto';
import express, { NextFunction, Request, Response } from 'express';
import { requestContext } from '../request-context';
import { pageSecurityHeaders } from '../security-headers';
import { allowOnly, createCsrf, ingressPrefix, ingressUser, listenerHostOnly, peerAddress } from './access';
import { diagnose } from '../../ops/diagnose';
import { Metrics } from '../../ops/metrics';
import { noticesCard } from './notices-card';
import {
  Notice,
  PageContext,
  accountsPage,
  activityPage,
  confirmRevokeAllPage,
  confirmStartOverPage,
  messagePage,
  statusPage,
} from './pages';
import {
  AdminContext,
  AdminError,
  activity,
  hourlyChart,
  listGrants,
  resolveGrantId,
  revokeAll,
  revokeGrants,
  startOverDatabase,
  status,
} from '../../ops/admin-service';
import { traceBytes } from '../../ops/trace-reader';
import { isStoreError } from '../../store/faults';

const REFUSAL_LOG_INTERVAL_MS = 60_000;
const CHART_HOURS = 7 * 24;
const REVOKED_SHOWN_MS = 30 * 86_400_000;

export interface AdminAppOptions {
  ctx: AdminContext;
  allow: string[];
  metrics: Metrics;
  /** Refuse requests addressed to any other host than this listener's (DNS rebinding); off behind Ingress. */
  hostCheck?: boolean;
}

function sendHtml(res: Response, status: number, body: string): void {
  res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
}

export function createAdminApp({ ctx, allow, metrics, hostCheck = true }: AdminAppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const csrf = createCsrf();

  // Refusals are logged and traced, at most once a minute per address (a scanner must not flood the trace).
  const lastRefusal = new Map<string, { at: number; suppressed: number }>();
  app.use(
    allowOnly(allow, (req, address) => {
      const now = Date.now();
      const seen = lastRefusal.get(address);
      if (seen && now - seen.at < REFUSAL_LOG_INTERVAL_MS) {
        seen.suppressed++;
        return;
      }
      if (lastRefusal.size > 1000) lastRefusal.clear();
      lastRefusal.set(address, { at: now, suppressed: 0 });
      const cause = `connection from ${address} to the admin listener refused: only ${allow.join(', ')} may connect`;
      ctx.log?.warn(`admin: ${cause}`, { path: req.path.slice(0, 100), earlierRefusalsNotLogged: seen?.suppressed || undefined });
      ctx.trace?.record({
        requestId: randomUUID(),
        step: 'admin',
        outcome: 'security',
        ip: address,
        error: 'forbidden',
        kind: 'admin_forbidden',
        facts: { allowed: allow },
        cause,
        detail: { path: req.path.slice(0, 100), method: req.method },
      });
    }),
  );
  if (hostCheck) {
    app.use(
      listenerHostOnly((req, host) => {
        const address = peerAddress(req);
        const now = Date.now();
        const seen = lastRefusal.get(`host:${address}`);
        if (seen && now - seen.at < REFUSAL_LOG_INTERVAL_MS) {
          seen.suppressed++;
          return;
        }
        if (lastRefusal.size > 1000) lastRefusal.clear();
        lastRefusal.set(`host:${address}`, { at: now, suppressed: 0 });
        const cause = `request to the admin listener addressed to host "${host}" refused: only localhost, 127.0.0.1 or [::1] with the listener's port are served (a web page using DNS rebinding names its own host)`;
        ctx.log?.warn(`admin: ${cause}`, { path: req.path.slice(0, 100) });
        ctx.trace?.record({
          requestId: randomUUID(),
          step: 'admin',
          outcome: 'security',
          ip: address,
          error: 'misdirected',
          kind: 'admin_wrong_host',
          facts: { host },
          cause,
          detail: { path: req.path.slice(0, 100), method: req.method },
        });
      }),
    );
  }
  app.use(requestContext);
  // Home Assistant frames Ingress pages in its own origin; the copy buttons are a nonce script.
  app.use(pageSecurityHeaders({ framing: 'same-origin', nonceScripts: true }));
  app.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  const form = express.urlencoded({ extended: false, limit: '4kb', parameterLimit: 8 });

  /** What every page shows; the count of links is left out while the database cannot be read (the pages still work). */
  async function pageContext(req: Request, res: Response): Promise<PageContext> {
    const active = await listGrants(ctx).catch((err: unknown) => {
      if (isStoreError(err)) return undefined;
      throw err;
    });
    return { ...bareContext(req, res), csrf: csrf.token(), activeCount: active?.length };
  }

  /** The page frame without anything read from the store: the not-found and error pages. */
  function bareContext(req: Request, res: Response): PageContext {
    return { prefix: ingressPrefix(req), nonce: res.locals.nonce ?? '', csrf: '', version: ctx.version, now: Date.now() };
  }

  /** A POSTed admin form must carry our token and must not come from another site. */
  function checkForm(req: Request, res: Response): boolean {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const crossSite = req.get('sec-fetch-site') === 'cross-site';
    if (!crossSite && csrf.verify(body.csrf)) return true;
    ctx.trace?.record({
      requestId: res.locals.requestId,
      step: 'admin',
      outcome: 'security',
      ip: peerAddress(req),
      error: 'forbidden',
      kind: 'admin_csrf',
      facts: { crossSite },
      cause: crossSite
        ? 'admin form posted from another site'
        : 'admin form posted without a valid form token (forged, or the page is older than 12 hours or than the last restart)',
      detail: { path: req.path.slice(0, 100) },
    });
    return false;
  }

  const actor = (req: Request) => ({ via: 'admin-page' as const, user: ingressUser(req), ip: peerAddress(req) });

  app.get('/', async (req, res) => {
    const [report, s] = [await diagnose(ctx, { serverRunning: true }), await status(ctx)];
    const pc = await pageContext(req, res);
    sendHtml(res, 200, statusPage(pc, s, report, ctx.notices && noticesCard(ctx.notices, pc.now)));
  });

  app.get('/accounts', async (req, res) => {
    const pc = await pageContext(req, res);
    const all = await listGrants(ctx, { all: true });
    const cutoff = Date.now() - REVOKED_SHOWN_MS;
    const revoked = all
      .filter((g) => g.status === 'revoked' && Date.parse(g.revokedAt!) >= cutoff)
      .sort((a, b) => b.revokedAt!.localeCompare(a.revokedAt!));
    let notice: Notice;
    const q = req.query as Record<string, unknown>;
    if (q.notice === 'revoked' && typeof q.grant === 'string') {
      const grantId = q.grant.slice(0, 64);
      const g = ctx.grants.storage.read((tx) => tx.grants.find(grantId));
      notice = g
        ? {
            kind: 'ok',
            text: `Revoked the link of ${g.username} with ${g.clientId}. Its tokens no longer work; the user links again from the Alexa app.`,
          }
        : undefined;
    } else if (q.notice === 'revoked-all') {
      const n = Number.parseInt(typeof q.n === 'string' ? q.n : '0', 10) || 0;
      notice = { kind: 'ok', text: `Revoked all links (${n}). Unredeemed codes and login sessions were cleared too.` };
    } else if (q.notice === 'gone') {
      notice = { kind: 'info', text: 'That link no longer exists (it was revoked or expired already).' };
    }
    sendHtml(
      res,
      200,
      accountsPage(
        pc,
        all.filter((g) => g.status === 'active'),
        revoked,
        notice,
      ),
    );
  });

  /** A form that failed its CSRF check (or lacks its confirmation): nothing is done, the page says why. */
  const refuseStaleForm = async (req: Request, res: Response, tab: 'accounts' | 'status' = 'accounts', title = 'Nothing was revoked') =>
    sendHtml(
      res,
      403,
      messagePage(
        await pageContext(req, res),
        tab,
        title,
        'This form has expired or did not come from this page. Go back, reload the page and try again.',
      ),
    );

  app.get('/database/start-over', async (req, res) => {
    sendHtml(res, 200, confirmStartOverPage(await pageContext(req, res), ctx.store.check({ write: false })));
  });

  app.post('/database/start-over', form, async (req, res) => {
    if (!checkForm(req, res) || (req.body as Record<string, unknown>).confirm !== 'start-over') {
      await refuseStaleForm(req, res, 'status', 'Nothing was changed');
      return;
    }
    const result = startOverDatabase(ctx, actor(req));
    if (!result.done) {
      sendHtml(
        res,
        409,
        messagePage(await pageContext(req, res), 'status', 'The database was not replaced', `Nothing was changed: ${result.reason}.`),
      );
      return;
    }
    res.redirect(303, `${ingressPrefix(req)}/`);
  });

  app.post('/accounts/revoke-all', form, async (req, res) => {
    const prefix = ingressPrefix(req);
    if (!checkForm(req, res) || (req.body as Record<string, unknown>).confirm !== 'revoke-all') {
      await refuseStaleForm(req, res);
      return;
    }
    const result = await revokeAll(ctx, actor(req));
    res.redirect(303, `${prefix}/accounts?notice=revoked-all&n=${result.revoked.length}`);
  });

  app.get('/accounts/revoke-all', async (req, res) => {
    const pc = await pageContext(req, res);
    sendHtml(res, 200, confirmRevokeAllPage(pc, pc.activeCount));
  });

  app.post('/accounts/:id/revoke', form, async (req, res) => {
    const prefix = ingressPrefix(req);
    if (!checkForm(req, res)) {
      await refuseStaleForm(req, res);
      return;
    }
    let id: string;
    try {
      id = await resolveGrantId(ctx, String(req.params.id));
    } catch {
      res.redirect(303, `${prefix}/accounts?notice=gone`);
      return;
    }
    await revokeGrants(ctx, [id], actor(req));
    res.redirect(303, `${prefix}/accounts?notice=revoked&grant=${encodeURIComponent(id)}`);
  });

  app.get('/activity', async (req, res) => {
    const failuresOnly = (req.query as Record<string, unknown>).failures === '1';
    const [entries, buckets] = [await activity(ctx, { failuresOnly, limit: 200 }), await hourlyChart(ctx, CHART_HOURS)];
    sendHtml(res, 200, activityPage(await pageContext(req, res), entries, buckets, failuresOnly));
  });

  app.get('/metrics', (_req, res) => {
    const all = ctx.grants.storage.read((tx) => tx.grants.list());
    const revoked = all.filter((g) => g.revokedAt !== undefined).length;
    const health = ctx.store.status();
    res.type('text/plain; version=0.0.4; charset=utf-8').send(
      metrics.render(
        {
          activeGrants: all.length - revoked,
          revokedGrants: revoked,
          storeBytes: ctx.store.sizeBytes(),
          traceBytes: traceBytes(ctx.dataDir),
          storeOk: health.ok,
        },
        { version: ctx.version, startedAt: ctx.runtime?.startedAt ?? Date.now() },
      ),
    );
  });

  // Not found: no store read (listing every link to count them), whoever sends a wrong path however often.
  app.use((req, res) => {
    sendHtml(res, 404, messagePage(bareContext(req, res), 'status', 'Not found', `There is no admin page at ${req.path}.`));
  });

  app.use((err: Error & { status?: number }, req: Request, res: Response, _next: NextFunction) => {
    // A page that needs the database while it cannot be read says so and points at Status, which works without it.
    if (isStoreError(err)) {
      if (res.headersSent) return;
      sendHtml(res, 503, messagePage(bareContext(req, res), 'status', 'The database cannot be read right now', err.message));
      return;
    }
    const status =
      err instanceof AdminError ? err.status : typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) ctx.log?.error('admin page error', { path: req.path, error: err.stack ?? String(err) });
    if (res.headersSent) return;
    sendHtml(
      res,
      status,
      messagePage(
        bareContext(req, res),
        'status',
        status === 500 ? 'Something went wrong' : 'Bad request',
        status === 500 ? 'The admin page could not be built; the add-on log has the details.' : err.message,
      ),
    );
  });
  return app;
}
