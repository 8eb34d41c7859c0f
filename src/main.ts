/**
 * Composition root: load the configuration, open the store, build the app, listen. `start()` is what tests and
 * the benchmark call; running this file directly reads the environment (DATA_DIR, PORT, HOST) and handles signals.
 */
import { existsSync, lstatSync, rmSync } from 'node:fs';
import { Server, createServer } from 'node:http';
import { ConnectionLimits, DEFAULT_CONNECTION_LIMITS, limitConnections, serverTimeouts } from './http/connection-limits';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type Keyv from 'keyv';
import { createOptionsUserCheck, createUserAuthenticator } from './auth/options-users';
import { supervisorAuthFromEnv } from './auth/supervisor-auth';
import { PasswordCheck } from './auth/user-authenticator';
import { AdminListenOptions, adminListenFromEnv, startAdmin } from './http/admin';
import type { AdminContext, RuntimeInfo } from './ops/admin-service';
import { Metrics, createMetrics } from './ops/metrics';
import { Config, configuredSecrets } from './config/config';
import { resolveDataDir } from './config/data-dir';
import { ConfigError, loadConfigFile, problemLine } from './config/load-config';
import { writeLocalDefaults } from './config/local-defaults';
import { createApp } from './http/app';
import { RateLimitSettings } from './http/rate-limits';
import { FlowTrace, FlowTraceOptions, createFlowTrace } from './log/flow-trace';
import { Logger, createLogger } from './log/logger';
import { ClientRegistry } from './oauth/client-auth';
import { GrantDeps } from './oauth/grant-deps';
import { TAKE_BACK_DAYS } from './oauth/grants/refresh-token';
import { SessionRecord } from './store/records';
import { RESTORED_MARK, SqliteStore } from './store/sqlite/sqlite-store';
import { openDataFolder } from './data-folder';
import { SupervisorApi, homeAssistantFromEnv, notifierFor } from './ops/notifications';
import { VERSION } from './version';

export { VERSION } from './version';
export { resolveDataDir } from './config/data-dir';

const PURGE_INTERVAL_MS = 60 * 60 * 1000;
/** Rows looked at per purge step (the expired among them are deleted); requests never wait long behind a step. */
const PURGE_BATCH = 500;

export interface StartOptions {
  config: Config;
  dataDir: string;
  port?: number;
  host?: string;
  log?: Logger;
  homeAssistantAuth?: PasswordCheck;
  /** Overrides of DEFAULT_RATE_LIMITS. */
  rateLimits?: Partial<RateLimitSettings>;
  /** Clock for tests that move time; defaults to Date.now. */
  now?: () => number;
  /** The admin page's listener (Ingress in the add-on). */
  admin?: AdminListenOptions;
  /** The Supervisor's API (SUPERVISOR_TOKEN set): Home Assistant notifications go through it. */
  supervisor?: SupervisorApi;
  /** Overrides of the flow trace's and security events' bounds (tests shrink them). */
  trace?: FlowTraceOptions;
  /** Overrides of DEFAULT_CONNECTION_LIMITS. */
  connections?: Partial<ConnectionLimits>;
}

/** What a running server is made of, for tests and tools that look inside it. */
export interface ServerParts {
  config: Config;
  store: SqliteStore;
  grants: GrantDeps;
  sessions: Keyv<SessionRecord>;
  trace: FlowTrace;
  metrics: Metrics;
  log: Logger;
}

export interface RunningServer {
  url: string;
  port: number;
  deps: ServerParts;
  /** The admin page, when it listens, and the context its functions (status, activity, diagnose) run on. */
  admin: { url?: string; port?: number; context: AdminContext };
  /** Stops accepting, lets in-flight requests finish, closes the store. */
  stop(): Promise<void>;
}

export async function start(options: StartOptions): Promise<RunningServer> {
  const { config, dataDir } = options;
  const log = options.log ?? createLogger(config.logLevel);
  // Before the store: a database that cannot be opened at start-up is a fault to notify too.
  const notifier = notifierFor(config, options.supervisor, log, options.now);
  /** Records this process for `oauth-admin status`: at start-up, and again once a database that was not usable then is. */
  const runtimeSaver: { save?: () => void } = {};
  // Never throws for a storage reason: a database that cannot be opened is reported (log, /health) and retried in
  // the background while the server answers what it can, instead of exiting into a restart loop.
  const folder = openDataFolder(dataDir, {
    config,
    log,
    now: options.now,
    onFault: (fault, reason) => notifier.notify({ cause: 'storage_fault', fault, reason }),
    onRecovered: (fault, lastedMs, startedOver) => {
      notifier.notify({ cause: 'storage_recovered', fault, lastedMs, startedOver });
      setImmediate(() => runtimeSaver.save?.()); // after the check that found the recovery, not inside it
    },
  });
  const { store, grants, sessions } = folder;
  const storeState = store.status();
  // The store logged the fault itself, once: say only what it means for the server.
  if (!storeState.ok)
    log.error(`starting without a usable database (fault "${storeState.fault}"); token requests answer 503 until it recovers`);
  else noteRestore(dataDir, grants, log);
  const trace = createFlowTrace(dataDir, log, {
    ...options.trace,
    secrets: configuredSecrets(config),
    secretHolders: new Set([
      ...config.clients.filter((c) => c.clientType === 'confidential').map((c) => c.clientId),
      ...config.resourceServers.map((r) => r.id),
    ]),
  });
  trace.subscribe((entry) => notifier.onTraceEntry(entry));
  const metrics = createMetrics(trace);
  const users = createUserAuthenticator({
    options: config.users.length > 0 ? createOptionsUserCheck(config.users) : undefined,
    homeAssistant: options.homeAssistantAuth,
    haAllowedUsers: config.haAllowedUsers,
  });
  if (!users.hasSources) {
    log.warn('no one can log in to link an account: add a user under Configuration → users, or enable Home Assistant login (auth_api)');
  }
  const startedAt = Date.now();
  const publicApp = createApp(
    {
      config,
      store,
      grants,
      sessions,
      clients: new ClientRegistry(config.clients),
      users,
      log,
      trace,
      version: VERSION,
      startedAt,
      metrics,
    },
    options.rateLimits,
  );
  // What the admin page, diagnose and the status shown in the database know about this process.
  const runtime: RuntimeInfo = {
    pid: process.pid,
    startedAt,
    clockBaseline: { wall: grants.now(), mono: performance.now() },
    listeners: {},
    loginSources: users.hasSources,
  };
  const adminContext = { dataDir, version: VERSION, config, store, grants, trace, log, runtime, metrics, notices: notifier };
  const admin = await startAdmin({ context: adminContext, listen: options.admin });

  const connectionLimits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...options.connections };
  const server: Server = (await new Promise((resolve, reject) => {
    const s = createServer(serverTimeouts(connectionLimits), publicApp.listener);
    limitConnections(s, connectionLimits, publicApp.trusted, log);
    s.listen(options.port ?? 8096, options.host ?? '0.0.0.0');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  }).catch(async (err: NodeJS.ErrnoException) => {
    await admin.stop();
    publicApp.shutdown();
    metrics.stop();
    notifier.close();
    folder.close();
    throw err.code === 'EADDRINUSE'
      ? new Error(
          `port ${options.port} is already in use: another copy of this server or another program is listening on it; stop it (outside the add-on, PORT chooses another port)`,
        )
      : err;
  })) as Server;

  // The purge walks the table a window of rows at a time, deleting the expired ones and yielding to requests between
  // steps (a long downtime can leave hundreds of thousands).
  const purge = async () => {
    let removed = 0;
    try {
      let after: string | undefined;
      do {
        const step = store.purgeStep(after, PURGE_BATCH);
        removed += step.removed;
        after = step.next;
        await new Promise((resolve) => setImmediate(resolve));
      } while (after !== undefined);
      if (removed > 0) log.debug('purged expired records', { removed });
    } catch (err) {
      log.warn('could not purge expired records', { error: String(err) });
    }
  };
  const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  const firstPurge = setTimeout(purge, 30_000);
  firstPurge.unref();

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  runtime.listeners.oauth = `http://${host}:${address.port}`;
  // What `oauth-admin status` shows about this process; it reads the database, not a socket.
  const runtimeRecord = () => ({ pid: process.pid, startedAt, version: VERSION, listeners: runtime.listeners });
  runtimeSaver.save = () => {
    try {
      folder.storage.transaction((tx) => tx.server.saveRuntime(runtimeRecord()));
    } catch {
      /* the store reports its fault; the CLI shows the server as not running until the database recovers */
    }
  };
  runtimeSaver.save();
  log.info(`listening on http://${host}:${address.port}`, {
    version: VERSION,
    dataDir,
    publicUrl: config.publicUrl ?? '(derived from each request)',
  });

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${address.address === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    port: address.port,
    deps: { config, store, grants, sessions, trace, metrics, log },
    admin: { url: admin.url, port: admin.port, context: adminContext },
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(purgeTimer);
        clearTimeout(firstPurge);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
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
            if (tx.server.runtime()?.pid === process.pid) tx.server.saveRuntime(undefined);
          });
        } catch {
          /* a stale record is recognised by its pid */
        }
        folder.close();
        notifier.close();
      })()),
  };
}

export async function runFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const dataDir = resolveDataDir(env);
  const inAddon = Boolean(env.SUPERVISOR_TOKEN) || dataDir === '/data';
  const optionsFile = path.join(dataDir, 'options.json');
  const fix = inAddon ? 'set it in the add-on Configuration tab' : `edit ${optionsFile}`;
  const bootLog = createLogger('info');

  let config: Config;
  try {
    if (!inAddon && missingFile(optionsFile)) {
      const { mkdirSync } = await import('node:fs');
      try {
        mkdirSync(dataDir, { recursive: true });
        writeLocalDefaults(optionsFile);
      } catch (err) {
        // One line and exit 78, like any other configuration problem (not a stack trace and a restart loop).
        const code = (err as NodeJS.ErrnoException).code ?? String(err);
        throw new ConfigError([
          {
            option: optionsFile,
            problem: `does not exist and local defaults cannot be written there (${code})`,
            fix: 'create the file, or set DATA_DIR to a writable folder',
          },
        ]);
      }
      bootLog.warn(
        `no options file: wrote local defaults to ${optionsFile} (client amazon-alexa and user owner, with generated secrets: read them there)`,
      );
    }
    const loaded = loadConfigFile(optionsFile, fix);
    config = loaded.config;
    for (const w of loaded.warnings) bootLog.warn(`configuration: ${problemLine(w)}`);
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLog.error(`cannot start: ${err.problems.length} problem(s) in ${optionsFile}`);
      for (const p of err.problems) bootLog.error(problemLine(p));
      process.exitCode = 78; // EX_CONFIG: s6's finish script stops the add-on instead of restarting into the same error
      return;
    }
    throw err;
  }

  const log = createLogger(config.logLevel);
  const port = env.PORT ? Number(env.PORT) : 8096;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    log.error(`PORT: "${env.PORT}" is not a port number (0-65535); unset it to use 8096`);
    process.exitCode = 78;
    return;
  }
  const host = env.HOST ?? (inAddon ? '0.0.0.0' : '127.0.0.1');
  let admin: AdminListenOptions | undefined;
  try {
    admin = adminListenFromEnv(env, inAddon);
  } catch (err) {
    log.error((err as Error).message);
    process.exitCode = 78;
    return;
  }
  let server: RunningServer;
  try {
    server = await start({
      config,
      dataDir,
      port,
      host,
      log,
      homeAssistantAuth: homeAssistantAuthFrom(env, log),
      admin,
      supervisor: homeAssistantFromEnv(env),
    });
  } catch (err) {
    log.error(`cannot start: ${(err as Error).message}`);
    process.exitCode = 78; // a port it cannot listen on: restarting would only fail again
    return;
  }
  const shutdown = (signal: string) => {
    log.info(`${signal} received: finishing in-flight requests and closing the store`);
    server.stop().then(
      () => {
        log.info('stopped cleanly');
        process.exit(0);
      },
      (err) => {
        log.error('error while stopping', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/**
 * The mark rootfs oauth-backup leaves when it put a backup's database in place: recorded in the database (which the
 * refresh grant reads to take back tokens issued after the backup, grants/refresh-token.ts), then removed. Left
 * for the next start if the database cannot take it.
 */
function noteRestore(dataDir: string, grants: GrantDeps, log: Logger): void {
  const mark = path.join(dataDir, RESTORED_MARK);
  if (!existsSync(mark)) return;
  try {
    grants.storage.transaction((tx) => tx.server.saveRestored({ at: grants.now() }));
    rmSync(mark, { force: true });
    log.info(
      `started on data restored from a backup: for ${TAKE_BACK_DAYS} days, a refresh token Alexa was given after the backup was taken is recognised by its signature and taken back`,
    );
  } catch (err) {
    log.warn(`${mark} cannot be recorded yet (${(err as Error).message}); it is tried again at the next start`);
  }
}

/** Only a file that is truly absent gets local defaults; one that cannot be read (EACCES, ...) is reported as such. */
function missingFile(file: string): boolean {
  try {
    lstatSync(file);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

function homeAssistantAuthFrom(env: NodeJS.ProcessEnv, log: Logger): PasswordCheck | undefined {
  const check = supervisorAuthFromEnv(env);
  if (check) log.info('Home Assistant login enabled through the Supervisor auth API');
  return check;
}

if (require.main === module) {
  runFromEnvironment().catch((err) => {
    console.error(`fatal: ${err instanceof Error ? err.stack : String(err)}`);
    process.exit(1);
  });
}
