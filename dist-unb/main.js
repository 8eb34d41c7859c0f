"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.resolveDataDir = exports.VERSION = void 0;
exports.start = start;
exports.runFromEnvironment = runFromEnvironment;
/**
 * Composition root: load the configuration, open the store, build the app, listen. `start()` is what tests and
 * the benchmark call; running this file directly reads the environment (DATA_DIR, PORT, HOST) and handles signals.
 */
const node_fs_1 = require("node:fs");
const node_http_1 = require("node:http");
const node_path_1 = __importDefault(require("node:path"));
const node_perf_hooks_1 = require("node:perf_hooks");
const options_users_1 = require("./auth/options-users");
const supervisor_auth_1 = require("./auth/supervisor-auth");
const admin_1 = require("./http/admin");
const metrics_1 = require("./ops/metrics");
const data_dir_1 = require("./config/data-dir");
const load_config_1 = require("./config/load-config");
const local_defaults_1 = require("./config/local-defaults");
const app_1 = require("./http/app");
const flow_trace_1 = require("./log/flow-trace");
const logger_1 = require("./log/logger");
const client_auth_1 = require("./oauth/client-auth");
const data_folder_1 = require("./data-folder");
const notifications_1 = require("./ops/notifications");
const version_1 = require("./version");
var version_2 = require("./version");
Object.defineProperty(exports, "VERSION", { enumerable: true, get: function () { return version_2.VERSION; } });
var data_dir_2 = require("./config/data-dir");
Object.defineProperty(exports, "resolveDataDir", { enumerable: true, get: function () { return data_dir_2.resolveDataDir; } });
const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Rows looked at per purge step (the expired among them are deleted); requests never wait long behind a step. */
const PURGE_BATCH = 500;
async function start(options) {
    const { config, dataDir } = options;
    const log = options.log ?? (0, logger_1.createLogger)(config.logLevel);
    // Before the store: a database that cannot be opened at start-up is a fault to notify too.
    const notifier = (0, notifications_1.notifierFor)(config, options.supervisor, log, options.now);
    // Never throws for a storage reason: a database that cannot be opened is reported (log, /health) and retried in
    // the background while the server answers what it can, instead of exiting into a restart loop.
    const folder = (0, data_folder_1.openDataFolder)(dataDir, {
        config,
        log,
        now: options.now,
        onFault: (fault, reason) => notifier.notify({ cause: 'storage_fault', fault, reason }),
        onRecovered: (fault, lastedMs) => notifier.notify({ cause: 'storage_recovered', fault, lastedMs }),
    });
    const { store, grants, sessions } = folder;
    const storeState = store.status();
    // The store logged the fault itself, once: say only what it means for the server.
    if (!storeState.ok)
        log.error(`starting without a usable database (fault "${storeState.fault}"); token requests answer 503 until it recovers`);
    const trace = (0, flow_trace_1.createFlowTrace)(dataDir, log, options.trace);
    trace.subscribe((entry) => notifier.onTraceEntry(entry));
    const metrics = (0, metrics_1.createMetrics)(trace);
    const users = (0, options_users_1.createUserAuthenticator)({
        options: config.users.length > 0 ? (0, options_users_1.createOptionsUserCheck)(config.users) : undefined,
        homeAssistant: options.homeAssistantAuth,
        haAllowedUsers: config.haAllowedUsers,
    });
    if (!users.hasSources) {
        log.warn('no one can log in to link an account: add a user under Configuration → users, or enable Home Assistant login (auth_api)');
    }
    const startedAt = Date.now();
    const publicApp = (0, app_1.createApp)({
        config,
        store,
        grants,
        sessions,
        clients: new client_auth_1.ClientRegistry(config.clients),
        users,
        log,
        trace,
        version: version_1.VERSION,
        startedAt,
        metrics,
    }, options.rateLimits);
    // What the admin page, diagnose and the status shown in the database know about this process.
    const runtime = {
        pid: process.pid,
        startedAt,
        clockBaseline: { wall: grants.now(), mono: node_perf_hooks_1.performance.now() },
        listeners: {},
        loginSources: users.hasSources,
    };
    const adminContext = { dataDir, version: version_1.VERSION, config, store, grants, trace, log, runtime, metrics, notices: notifier };
    const admin = await (0, admin_1.startAdmin)({ context: adminContext, listen: options.admin });
    const server = (await new Promise((resolve, reject) => {
        const s = (0, node_http_1.createServer)(publicApp.listener).listen(options.port ?? 8096, options.host ?? '0.0.0.0');
        s.once('listening', () => resolve(s));
        s.once('error', reject);
    }).catch(async (err) => {
        await admin.stop();
        publicApp.shutdown();
        metrics.stop();
        notifier.close();
        folder.close();
        throw err.code === 'EADDRINUSE'
            ? new Error(`port ${options.port} is already in use: another copy of this server (or another add-on) is listening on it; stop it or set PORT`)
            : err;
    }));
    // Alexa allows 4.5 s for a token response; a stuck socket must not hold resources for minutes.
    server.requestTimeout = 30_000;
    server.headersTimeout = 20_000;
    // The purge walks the table a window of rows at a time, deleting the expired ones and yielding to requests between
    // steps (a long downtime can leave hundreds of thousands).
    const purge = async () => {
        let removed = 0;
        try {
            let after;
            do {
                const step = store.purgeStep(after, PURGE_BATCH);
                removed += step.removed;
                after = step.next;
                await new Promise((resolve) => setImmediate(resolve));
            } while (after !== undefined);
            if (removed > 0)
                log.debug('purged expired records', { removed });
        }
        catch (err) {
            log.warn('could not purge expired records', { error: String(err) });
        }
    };
    const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS);
    purgeTimer.unref();
    const firstPurge = setTimeout(purge, 30_000);
    firstPurge.unref();
    const address = server.address();
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    runtime.listeners.oauth = `http://${host}:${address.port}`;
    // What `oauth-admin status` shows about this process; it reads the database, not a socket.
    const runtimeRecord = () => ({ pid: process.pid, startedAt, version: version_1.VERSION, listeners: runtime.listeners });
    try {
        folder.storage.transaction((tx) => tx.server.saveRuntime(runtimeRecord()));
    }
    catch {
        /* the store reports its fault; the CLI then shows the server as not running */
    }
    log.info(`listening on http://${host}:${address.port}`, {
        version: version_1.VERSION,
        dataDir,
        publicUrl: config.publicUrl ?? '(derived from each request)',
    });
    let stopping;
    return {
        url: `http://${address.address === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
        port: address.port,
        deps: { config, store, grants, sessions, trace, metrics, log },
        admin: { url: admin.url, port: admin.port, context: adminContext },
        stop: () => (stopping ??= (async () => {
            clearInterval(purgeTimer);
            clearTimeout(firstPurge);
            const closed = new Promise((resolve) => server.close(() => resolve()));
            server.closeIdleConnections();
            const force = setTimeout(() => server.closeAllConnections(), 10_000);
            await closed;
            clearTimeout(force);
            await admin.stop();
            publicApp.shutdown();
            metrics.stop();
            await trace.close();
            try {
                folder.storage.transaction((tx) => {
                    if (tx.server.runtime()?.pid === process.pid)
                        tx.server.saveRuntime(undefined);
                });
            }
            catch {
                /* a stale record is recognised by its pid */
            }
            folder.close();
            notifier.close();
        })()),
    };
}
async function runFromEnvironment(env = process.env) {
    const dataDir = (0, data_dir_1.resolveDataDir)(env);
    const inAddon = Boolean(env.SUPERVISOR_TOKEN) || dataDir === '/data';
    const optionsFile = node_path_1.default.join(dataDir, 'options.json');
    const fix = inAddon ? 'set it in the add-on Configuration tab' : `edit ${optionsFile}`;
    const bootLog = (0, logger_1.createLogger)('info');
    let config;
    try {
        if (!inAddon && missingFile(optionsFile)) {
            const { mkdirSync } = await import('node:fs');
            try {
                mkdirSync(dataDir, { recursive: true });
                (0, local_defaults_1.writeLocalDefaults)(optionsFile);
            }
            catch (err) {
                // One line and exit 78, like any other configuration problem (not a stack trace and a restart loop).
                const code = err.code ?? String(err);
                throw new load_config_1.ConfigError([
                    {
                        option: optionsFile,
                        problem: `does not exist and local defaults cannot be written there (${code})`,
                        fix: 'create the file, or set DATA_DIR to a writable folder',
                    },
                ]);
            }
            bootLog.warn(`no options file: wrote local defaults to ${optionsFile} (client amazon-alexa and user owner, with generated secrets: read them there)`);
        }
        const loaded = (0, load_config_1.loadConfigFile)(optionsFile, fix);
        config = loaded.config;
        for (const w of loaded.warnings)
            bootLog.warn(`configuration: ${(0, load_config_1.problemLine)(w)}`);
    }
    catch (err) {
        if (err instanceof load_config_1.ConfigError) {
            bootLog.error(`cannot start: ${err.problems.length} problem(s) in ${optionsFile}`);
            for (const p of err.problems)
                bootLog.error((0, load_config_1.problemLine)(p));
            process.exitCode = 78; // EX_CONFIG: s6's finish script stops the add-on instead of restarting into the same error
            return;
        }
        throw err;
    }
    const log = (0, logger_1.createLogger)(config.logLevel);
    const port = env.PORT ? Number(env.PORT) : 8096;
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        log.error(`PORT: "${env.PORT}" is not a port number (0-65535); unset it to use 8096`);
        process.exitCode = 78;
        return;
    }
    const host = env.HOST ?? (inAddon ? '0.0.0.0' : '127.0.0.1');
    let admin;
    try {
        admin = (0, admin_1.adminListenFromEnv)(env, inAddon);
    }
    catch (err) {
        log.error(err.message);
        process.exitCode = 78;
        return;
    }
    let server;
    try {
        server = await start({
            config,
            dataDir,
            port,
            host,
            log,
            homeAssistantAuth: homeAssistantAuthFrom(env, log),
            admin,
            supervisor: (0, notifications_1.homeAssistantFromEnv)(env),
        });
    }
    catch (err) {
        log.error(`cannot start: ${err.message}`);
        process.exitCode = 1;
        return;
    }
    const shutdown = (signal) => {
        log.info(`${signal} received: finishing in-flight requests and closing the store`);
        server.stop().then(() => {
            log.info('stopped cleanly');
            process.exit(0);
        }, (err) => {
            log.error('error while stopping', { error: String(err) });
            process.exit(1);
        });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
}
/** Only a file that is truly absent gets local defaults; one that cannot be read (EACCES, ...) is reported as such. */
function missingFile(file) {
    try {
        (0, node_fs_1.lstatSync)(file);
        return false;
    }
    catch (err) {
        return err.code === 'ENOENT';
    }
}
function homeAssistantAuthFrom(env, log) {
    const check = (0, supervisor_auth_1.supervisorAuthFromEnv)(env);
    if (check)
        log.info('Home Assistant login enabled through the Supervisor auth API');
    return check;
}
if (require.main === module) {
    runFromEnvironment().catch((err) => {
        console.error(`fatal: ${err instanceof Error ? err.stack : String(err)}`);
        process.exit(1);
    });
}
//# sourceMappingURL=main.js.map