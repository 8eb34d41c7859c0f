"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.DEFAULT_ADMIN_PORT = void 0;
exports.adminListenFromEnv = adminListenFromEnv;
exports.startAdmin = startAdmin;
const access_1 = require("./access");
const admin_app_1 = require("./admin-app");
/** The add-on's ingress_port (config.yaml); 8099, the Supervisor's default, may not be written there. */
exports.DEFAULT_ADMIN_PORT = 8098;
/**
 * ADMIN_PORT (default 8098; "off" disables the page), ADMIN_HOST and ADMIN_ALLOW (comma-separated peer IPs).
 * In the add-on the page listens on all interfaces for the Ingress proxy 172.30.32.2 only; elsewhere on
 * loopback for loopback only.
 */
function adminListenFromEnv(env, inAddon) {
    if (env.ADMIN_PORT === 'off')
        return undefined;
    const port = env.ADMIN_PORT ? Number(env.ADMIN_PORT) : exports.DEFAULT_ADMIN_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new Error(`ADMIN_PORT: "${env.ADMIN_PORT}" is not a port number (0-65535) or "off"; unset it to use ${exports.DEFAULT_ADMIN_PORT}`);
    }
    const allow = env.ADMIN_ALLOW
        ? env.ADMIN_ALLOW.split(',')
            .map((a) => a.trim())
            .filter(Boolean)
        : inAddon
            ? [access_1.INGRESS_PROXY]
            : access_1.LOOPBACK;
    const ingress = allow.length === 1 && allow[0] === access_1.INGRESS_PROXY;
    return { port, host: env.ADMIN_HOST ?? (inAddon ? '0.0.0.0' : '127.0.0.1'), allow, hostCheck: !ingress };
}
function closeServer(server) {
    return new Promise((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), 5000);
        server.close(() => {
            clearTimeout(force);
            resolve();
        });
        server.closeIdleConnections();
    });
}
/** Starts the admin listener, if asked to; records its address in the context's runtime record. */
async function startAdmin({ context, listen }) {
    const { log, runtime, metrics } = context;
    let admin;
    let url;
    let port;
    if (listen) {
        const { host, allow } = listen;
        const app = (0, admin_app_1.createAdminApp)({ ctx: context, allow, metrics, hostCheck: listen.hostCheck !== false });
        try {
            admin = await new Promise((resolve, reject) => {
                const s = app.listen(listen.port, host);
                s.once('listening', () => resolve(s));
                s.once('error', reject);
            });
            admin.requestTimeout = 30_000;
            const a = admin.address();
            port = a.port;
            const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
            url = `http://${a.address === '0.0.0.0' ? '127.0.0.1' : shownHost}:${a.port}`;
            runtime.listeners.admin = `http://${shownHost}:${a.port}`;
            runtime.listeners.adminAllow = allow;
            log.info(`admin page on http://${shownHost}:${a.port} (connections from ${allow.join(', ')} only)`);
        }
        catch (err) {
            const e = err;
            log.error(e.code === 'EADDRINUSE'
                ? `admin page: port ${listen.port} is already in use, so the admin page is off (OAuth keeps working); free the port or set ADMIN_PORT`
                : `admin page cannot listen: ${String(err)} (OAuth keeps working)`);
            admin = undefined;
        }
    }
    let stopping;
    return {
        url,
        port,
        stop: () => (stopping ??= (async () => {
            if (admin)
                await closeServer(admin);
        })()),
    };
}
//# sourceMappingURL=index.js.map