/**
 * Composition root: load the configuration, open the store, build the app, listen. `start()` is what tests and
 * the benchmark call; running this file directly reads the environment (DATA_DIR, PORT, HOST) and handles signals.
 */
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import { createOptionsUserCheck, createUserAuthenticator } from './auth/options-users';
import { supervisorAuthFromEnv } from './auth/supervisor-auth';
import { PasswordCheck } from './auth/user-authenticator';
import { AdminListenOptions, adminListenFromEnv, startAdmin } from './admin';
import { createMetrics } from './admin/metrics';
import { Config } from './config/config';
import { ConfigError, loadConfigFile } from './config/load-config';
import { writeLocalDefaults } from './config/local-defaults';
import { createApp } from './http/app';
import { HttpDeps } from './http/deps';
import { RateLimitSettings } from './http/rate-limits';
import { FlowTraceOptions, createFlowTrace } from './log/flow-trace';
import { Logger, createLogger } from './log/logger';
import { ClientRegistry } from './oauth/client-auth';
import { GrantDeps } from './oauth/grant-deps';
import { KeyedLock } from './store/keyed-lock';
import { openStore } from './store/open-store';
import { createRepositories } from './store/records';

export const VERSION: string = (() => {
  try {
    return JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')).version;
  } catch {
    return 'unknown';
  }
})();

const PURGE_INTERVAL_MS = 60 * 60 * 1000;

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
  /** The admin page's listener (Ingress in the add-on); without it only the CLI's control socket runs. */
  admin?: AdminListenOptions;
  /** Overrides of the flow trace's and security events' bounds (tests shrink them). */
  trace?: FlowTraceOptions;
}

export interface RunningServer {
  url: string;
  port: number;
  deps: HttpDeps;
  /** The admin page (when it listens) and the CLI's control socket (when this server holds it). */
  admin: { url?: string; port?: number; controlSocket?: string };
  /** Stops accepting, lets in-flight requests finish, closes the store. */
  stop(): Promise<void>;
}

export async function start(options: StartOptions): Promise<RunningServer> {
  const { config, dataDir } = options;
  const log = options.log ?? createLogger(config.logLevel);
  // Never throws for a storage reason: a database that cannot be opened is reported (log, /health) and retried in
  // the background while the server answers what it can, instead of exiting into a restart loop.
  const store = await openStore(dataDir, { log });
  const storeState = store.status();
  if (!storeState.ok) log.error(`starting without a usable database; token requests answer 503 until it recovers: ${storeState.reason}`);
  const trace = createFlowTrace(dataDir, log, options.trace);
  const metrics = createMetrics(trace);
  const grants: GrantDeps = {
    repos: createRepositories(store),
    lock: new KeyedLock(),
    lifetimes: { accessToken: config.accessTokenLifetime, authCode: config.authCodeLifetime, refreshIdle: config.refreshTokenIdleLifetime },
    now: options.now ?? Date.now,
  };
  const users = createUserAuthenticator({
    options: config.users.length > 0 ? createOptionsUserCheck(config.users) : undefined,
    homeAssistant: options.homeAssistantAuth,
    haAllowedUsers: config.haAllowedUsers,
  });
  if (!users.hasSources) {
    log.warn('no one can log in to link an account: add a user under Configuration → users, or enable Home Assistant login (auth_api)');
  }
  const deps: HttpDeps = { config, store, grants, clients: new ClientRegistry(config.clients), users, log, trace, version: VERSION, startedAt: Date.now(), metrics };
  const app = createApp(deps, options.rateLimits);
  // Before the public listener: see src/admin/control.ts for why the control socket must be up first.
  const admin = await startAdmin({ deps, dataDir, metrics, listen: options.admin });

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(options.port ?? 8096, options.host ?? '0.0.0.0');
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  }).catch(async (err: NodeJS.ErrnoException) => {
    await admin.stop();
    await store.close();
    throw err.code === 'EADDRINUSE'
      ? new Error(`port ${options.port} is already in use: another copy of this server (or another add-on) is listening on it; stop it or set PORT`)
      : err;
  }) as Server;
  // Alexa allows 4.5 s for a token response; a stuck socket must not hold resources for minutes.
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;

  const purge = async () => {
    try {
      const removed = await store.purgeExpired();
      if (removed > 0) log.debug('purged expired records', { removed });
    } catch (err) {
      log.warn('could not purge expired records', { error: String(err) });
    }
  };
  const purgeTimer = setInterval(purge, PURGE_INTERVAL_MS);
  purgeTimer.unref();
  setTimeout(purge, 30_000).unref();

  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  admin.setPublicListener(`http://${host}:${address.port}`);
  log.info(`listening on http://${host}:${address.port}`, { version: VERSION, dataDir, publicUrl: config.publicUrl ?? '(derived from each request)' });

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${address.address === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}`,
    port: address.port,
    deps,
    admin: { url: admin.url, port: admin.port, controlSocket: admin.controlSocket },
    stop: () =>
      (stopping ??= (async () => {
        clearInterval(purgeTimer);
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), 10_000);
        await closed;
        clearTimeout(force);
        await admin.stop();
        await trace.close();
        await store.close();
      })()),
  };
}

/** DATA_DIR, else /data when it exists (inside the add-on), else ./data. */
export function resolveDataDir(env: NodeJS.ProcessEnv): string {
  if (env.DATA_DIR) return path.resolve(env.DATA_DIR);
  return existsSync('/data') ? '/data' : path.resolve('data');
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
        throw new ConfigError([`${optionsFile}: does not exist and local defaults cannot be written there (${code}); create the file, or set DATA_DIR to a writable folder`]);
      }
      bootLog.warn(`no options file: wrote local defaults to ${optionsFile} (client amazon-alexa and user owner, with generated secrets: read them there)`);
    }
    const loaded = loadConfigFile(optionsFile, fix);
    config = loaded.config;
    for (const w of loaded.warnings) bootLog.warn(`configuration: ${w}`);
  } catch (err) {
    if (err instanceof ConfigError) {
      bootLog.error(`cannot start: ${err.problems.length} problem(s) in ${optionsFile}`);
      for (const p of err.problems) bootLog.error(p);
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
    server = await start({ config, dataDir, port, host, log, homeAssistantAuth: homeAssistantAuthFrom(env, log), admin });
  } catch (err) {
    log.error(`cannot start: ${(err as Error).message}`);
    process.exitCode = 1;
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
