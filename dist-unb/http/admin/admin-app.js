"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.createAdminApp = createAdminApp;
/**
 * The admin Express app: the pages behind Home Assistant Ingress, and GET /metrics. It listens on its own port
 * (never the public OAuth one) and refuses every peer not in the allow-list before anything else runs.
 */
const node_crypto_1 = require("node:crypto");
const express_1 = __importDefault(require("express"));
const request_context_1 = require("../request-context");
const security_headers_1 = require("../security-headers");
const access_1 = require("./access");
const diagnose_1 = require("../../ops/diagnose");
const notices_card_1 = require("./notices-card");
const pages_1 = require("./pages");
const admin_service_1 = require("../../ops/admin-service");
const trace_reader_1 = require("../../ops/trace-reader");
const REFUSAL_LOG_INTERVAL_MS = 60_000;
const CHART_HOURS = 7 * 24;
const REVOKED_SHOWN_MS = 30 * 86_400_000;
function sendHtml(res, status, body) {
    res.status(status).set('Cache-Control', 'no-store').type('html').send(body);
}
function createAdminApp({ ctx, allow, metrics, hostCheck = true }) {
    const app = (0, express_1.default)();
    app.disable('x-powered-by');
    const csrf = (0, access_1.createCsrf)();
    // Refusals are logged and traced, at most once a minute per address (a scanner must not flood the trace).
    const lastRefusal = new Map();
    app.use((0, access_1.allowOnly)(allow, (req, address) => {
        const now = Date.now();
        const seen = lastRefusal.get(address);
        if (seen && now - seen.at < REFUSAL_LOG_INTERVAL_MS) {
            seen.suppressed++;
            return;
        }
        if (lastRefusal.size > 1000)
            lastRefusal.clear();
        lastRefusal.set(address, { at: now, suppressed: 0 });
        const cause = `connection from ${address} to the admin listener refused: only ${allow.join(', ')} may connect`;
        ctx.log?.warn(`admin: ${cause}`, { path: req.path.slice(0, 100), earlierRefusalsNotLogged: seen?.suppressed || undefined });
        ctx.trace?.record({
            requestId: (0, node_crypto_1.randomUUID)(),
            step: 'admin',
            outcome: 'security',
            ip: address,
            error: 'forbidden',
            kind: 'admin_forbidden',
            facts: { allowed: allow },
            cause,
            detail: { path: req.path.slice(0, 100), method: req.method },
        });
    }));
    if (hostCheck) {
        app.use((0, access_1.listenerHostOnly)((req, host) => {
            const address = (0, access_1.peerAddress)(req);
            const now = Date.now();
            const seen = lastRefusal.get(`host:${address}`);
            if (seen && now - seen.at < REFUSAL_LOG_INTERVAL_MS) {
                seen.suppressed++;
                return;
            }
            if (lastRefusal.size > 1000)
                lastRefusal.clear();
            lastRefusal.set(`host:${address}`, { at: now, suppressed: 0 });
            const cause = `request to the admin listener addressed to host "${host}" refused: only localhost, 127.0.0.1 or [::1] with the listener's port are served (a web page using DNS rebinding names its own host)`;
            ctx.log?.warn(`admin: ${cause}`, { path: req.path.slice(0, 100) });
            ctx.trace?.record({
                requestId: (0, node_crypto_1.randomUUID)(),
                step: 'admin',
                outcome: 'security',
                ip: address,
                error: 'misdirected',
                kind: 'admin_wrong_host',
                facts: { host },
                cause,
                detail: { path: req.path.slice(0, 100), method: req.method },
            });
        }));
    }
    app.use(request_context_1.requestContext);
    // Home Assistant frames Ingress pages in its own origin; the copy buttons are a nonce script.
    app.use((0, security_headers_1.pageSecurityHeaders)({ framing: 'same-origin', nonceScripts: true }));
    app.use((_req, res, next) => {
        res.set('Cache-Control', 'no-store');
        next();
    });
    const form = express_1.default.urlencoded({ extended: false, limit: '4kb', parameterLimit: 8 });
    async function pageContext(req, res) {
        const active = await (0, admin_service_1.listGrants)(ctx);
        return { ...bareContext(req, res), csrf: csrf.token(), activeCount: active.length };
    }
    /** The page frame without anything read from the store: the not-found and error pages. */
    function bareContext(req, res) {
        return { prefix: (0, access_1.ingressPrefix)(req), nonce: res.locals.nonce ?? '', csrf: '', version: ctx.version, now: Date.now() };
    }
    /** A POSTed admin form must carry our token and must not come from another site. */
    function checkForm(req, res) {
        const body = (req.body ?? {});
        const crossSite = req.get('sec-fetch-site') === 'cross-site';
        if (!crossSite && csrf.verify(body.csrf))
            return true;
        ctx.trace?.record({
            requestId: res.locals.requestId,
            step: 'admin',
            outcome: 'security',
            ip: (0, access_1.peerAddress)(req),
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
    const actor = (req) => ({ via: 'admin-page', user: (0, access_1.ingressUser)(req), ip: (0, access_1.peerAddress)(req) });
    app.get('/', async (req, res) => {
        const [report, s] = [await (0, diagnose_1.diagnose)(ctx, { serverRunning: true }), await (0, admin_service_1.status)(ctx)];
        const pc = await pageContext(req, res);
        sendHtml(res, 200, (0, pages_1.statusPage)(pc, s, report, ctx.notices && (0, notices_card_1.noticesCard)(ctx.notices, pc.now)));
    });
    app.get('/accounts', async (req, res) => {
        const pc = await pageContext(req, res);
        const all = await (0, admin_service_1.listGrants)(ctx, { all: true });
        const cutoff = Date.now() - REVOKED_SHOWN_MS;
        const revoked = all
            .filter((g) => g.status === 'revoked' && Date.parse(g.revokedAt) >= cutoff)
            .sort((a, b) => b.revokedAt.localeCompare(a.revokedAt));
        let notice;
        const q = req.query;
        if (q.notice === 'revoked' && typeof q.grant === 'string') {
            const grantId = q.grant.slice(0, 64);
            const g = ctx.grants.storage.read((tx) => tx.grants.find(grantId));
            notice = g
                ? {
                    kind: 'ok',
                    text: `Revoked the link of ${g.username} with ${g.clientId}. Its tokens no longer work; the user links again from the Alexa app.`,
                }
                : undefined;
        }
        else if (q.notice === 'revoked-all') {
            const n = Number.parseInt(typeof q.n === 'string' ? q.n : '0', 10) || 0;
            notice = { kind: 'ok', text: `Revoked all links (${n}). Unredeemed codes and login sessions were cleared too.` };
        }
        else if (q.notice === 'gone') {
            notice = { kind: 'info', text: 'That link no longer exists (it was revoked or expired already).' };
        }
        sendHtml(res, 200, (0, pages_1.accountsPage)(pc, all.filter((g) => g.status === 'active'), revoked, notice));
    });
    /** A revoke form that failed its CSRF check (or lacks its confirmation): nothing is revoked, the page says why. */
    const refuseStaleForm = async (req, res) => sendHtml(res, 403, (0, pages_1.messagePage)(await pageContext(req, res), 'accounts', 'Nothing was revoked', 'This form has expired or did not come from this page. Go back, reload the page and try again.'));
    app.post('/accounts/revoke-all', form, async (req, res) => {
        const prefix = (0, access_1.ingressPrefix)(req);
        if (!checkForm(req, res) || req.body.confirm !== 'revoke-all') {
            await refuseStaleForm(req, res);
            return;
        }
        const result = await (0, admin_service_1.revokeAll)(ctx, actor(req));
        res.redirect(303, `${prefix}/accounts?notice=revoked-all&n=${result.revoked.length}`);
    });
    app.get('/accounts/revoke-all', async (req, res) => {
        const pc = await pageContext(req, res);
        sendHtml(res, 200, (0, pages_1.confirmRevokeAllPage)(pc, pc.activeCount));
    });
    app.post('/accounts/:id/revoke', form, async (req, res) => {
        const prefix = (0, access_1.ingressPrefix)(req);
        if (!checkForm(req, res)) {
            await refuseStaleForm(req, res);
            return;
        }
        let id;
        try {
            id = await (0, admin_service_1.resolveGrantId)(ctx, String(req.params.id));
        }
        catch {
            res.redirect(303, `${prefix}/accounts?notice=gone`);
            return;
        }
        await (0, admin_service_1.revokeGrants)(ctx, [id], actor(req));
        res.redirect(303, `${prefix}/accounts?notice=revoked&grant=${encodeURIComponent(id)}`);
    });
    app.get('/activity', async (req, res) => {
        const failuresOnly = req.query.failures === '1';
        const [entries, buckets] = [await (0, admin_service_1.activity)(ctx, { failuresOnly, limit: 200 }), await (0, admin_service_1.hourlyChart)(ctx, CHART_HOURS)];
        sendHtml(res, 200, (0, pages_1.activityPage)(await pageContext(req, res), entries, buckets, failuresOnly));
    });
    app.get('/metrics', (_req, res) => {
        const all = ctx.grants.storage.read((tx) => tx.grants.list());
        const revoked = all.filter((g) => g.revokedAt !== undefined).length;
        const health = ctx.store.status();
        res.type('text/plain; version=0.0.4; charset=utf-8').send(metrics.render({
            activeGrants: all.length - revoked,
            revokedGrants: revoked,
            storeBytes: ctx.store.sizeBytes(),
            traceBytes: (0, trace_reader_1.traceBytes)(ctx.dataDir),
            storeOk: health.ok,
        }, { version: ctx.version, startedAt: ctx.runtime?.startedAt ?? Date.now() }));
    });
    // Not found: no store read (listing every link to count them), whoever sends a wrong path however often.
    app.use((req, res) => {
        sendHtml(res, 404, (0, pages_1.messagePage)(bareContext(req, res), 'status', 'Not found', `There is no admin page at ${req.path}.`));
    });
    app.use((err, req, res, _next) => {
        const status = err instanceof admin_service_1.AdminError ? err.status : typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
        if (status === 500)
            ctx.log?.error('admin page error', { path: req.path, error: err.stack ?? String(err) });
        if (res.headersSent)
            return;
        sendHtml(res, status, (0, pages_1.messagePage)(bareContext(req, res), 'status', status === 500 ? 'Something went wrong' : 'Bad request', status === 500 ? 'The admin page could not be built; the add-on log has the details.' : err.message));
    });
    return app;
}
//# sourceMappingURL=admin-app.js.map