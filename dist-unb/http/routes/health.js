"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.HEALTH_CACHE_MS = void 0;
exports.createHealthRoutes = createHealthRoutes;
/**
 * GET /health: 200 only when the store can be written and read back, so Docker's HEALTHCHECK means something.
 * The file itself is checked on every request (a stat and a 16-byte read); the probe that writes runs at most once
 * per HEALTH_CACHE_MS however often /health is asked (the path may be exposed through the reverse proxy: a flood
 * must not wear the SD card or delay token writes).
 */
const express_1 = require("express");
exports.HEALTH_CACHE_MS = 5000;
function createHealthRoutes(deps) {
    const router = (0, express_1.Router)();
    let probedAt = -Infinity;
    const probe = () => {
        const now = Date.now();
        const write = now - probedAt >= exports.HEALTH_CACHE_MS;
        if (write)
            probedAt = now;
        deps.store.check({ write });
        // The latest known state: the probe's, or a fault a request ran into since, or a recovery the retry timer saw.
        return deps.store.status();
    };
    router.get('/health', (_req, res) => {
        const store = probe();
        const body = {
            status: store.ok ? 'ok' : 'error',
            message: 'Music Assistant OAuth Server',
            version: deps.version,
            uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
            store: store.ok ? 'ok' : store.reason,
            ...(store.ok ? {} : { store_fault: store.fault, store_fault_since: store.since }),
        };
        // The store logs each fault once when it starts and when it ends; a health poller must not flood the log.
        if (!store.ok)
            deps.log.debug('health check failed', { reason: store.reason });
        res
            .status(store.ok ? 200 : 503)
            .set('Cache-Control', 'no-store')
            .json(body);
    });
    return router;
}
//# sourceMappingURL=health.js.map