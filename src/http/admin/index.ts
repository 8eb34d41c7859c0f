/**
 * Starting the admin side of the server: the admin listener for the Ingress page (when configured). It may not take
 * the OAuth server down: if the admin port is taken, the server logs why and runs on without the page. The CLI needs
 * no channel to the server: it works on the database, whose transactions make its writes safe while the server runs.
 */
import { Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { INGRESS_PROXY, LOOPBACK } from './access';
import { createAdminApp } from './admin-app';
import { Logger } from '../../log/logger';
import { Metrics } from '../../ops/metrics';
import { AdminContext, RuntimeInfo } from '../../ops/admin-service';

/** The add-on's ingress_port (config.yaml); 8099, the Supervisor's default, may not be written there. */
export const DEFAULT_ADMIN_PORT = 8098;

export interface AdminListenOptions {
  port: number;
  host: string;
  /** Peer addresses allowed to connect (exact IPs, compared with the socket's remote address). */
  allow: string[];
  /**
   * Serve only requests addressed to this listener's own names (access.ts listenerHostOnly, against DNS
   * rebinding). On unless false; false only behind Ingress, whose proxy alone connects and sets the Host.
   */
  hostCheck?: boolean;
}

/** What the admin page runs on: the running server's own context, with its runtime record and metrics. */
export interface AdminDeps {
  context: AdminContext & { runtime: RuntimeInfo; metrics: Metrics; log: Logger };
  /** Where to listen; without it the page is off. */
  listen?: AdminListenOptions;
}

export interface AdminHandle {
  /** The admin page's URL, when its listener runs. */
  url?: string;
  port?: number;
  stop(): Promise<void>;
}

/**
 * ADMIN_PORT (default 8098; "off" disables the page), ADMIN_HOST and ADMIN_ALLOW (comma-separated peer IPs).
 * In the add-on the page listens on all interfaces for the Ingress proxy 172.30.32.2 only; elsewhere on
 * loopback for loopback only.
 */
export function adminListenFromEnv(env: NodeJS.ProcessEnv, inAddon: boolean): AdminListenOptions | undefined {
  if (env.ADMIN_PORT === 'off') return undefined;
  const port = env.ADMIN_PORT ? Number(env.ADMIN_PORT) : DEFAULT_ADMIN_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`ADMIN_PORT: "${env.ADMIN_PORT}" is not a port number (0-65535) or "off"; unset it to use ${DEFAULT_ADMIN_PORT}`);
  }
  const allow = env.ADMIN_ALLOW
    ? env.ADMIN_ALLOW.split(',')
        .map((a) => a.trim())
        .filter(Boolean)
    : inAddon
      ? [INGRESS_PROXY]
      : LOOPBACK;
  const ingress = allow.length === 1 && allow[0] === INGRESS_PROXY;
  return { port, host: env.ADMIN_HOST ?? (inAddon ? '0.0.0.0' : '127.0.0.1'), allow, hostCheck: !ingress };
}

function closeServer(server: Server): Promise<void> {
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
export async function startAdmin({ context, listen }: AdminDeps): Promise<AdminHandle> {
  const { log, runtime, metrics } = context;
  let admin: Server | undefined;
  let url: string | undefined;
  let port: number | undefined;
  if (listen) {
    const { host, allow } = listen;
    const app = createAdminApp({ ctx: context, allow, metrics, hostCheck: listen.hostCheck !== false });
    try {
      admin = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(listen.port, host);
        s.once('listening', () => resolve(s));
        s.once('error', reject);
      });
      admin.requestTimeout = 30_000;
      const a = admin.address() as AddressInfo;
      port = a.port;
      const shownHost = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      url = `http://${a.address === '0.0.0.0' ? '127.0.0.1' : shownHost}:${a.port}`;
      runtime.listeners.admin = `http://${shownHost}:${a.port}`;
      runtime.listeners.adminAllow = allow;
      log.info(`admin page on http://${shownHost}:${a.port} (connections from ${allow.join(', ')} only)`);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      log.error(
        e.code === 'EADDRINUSE'
          ? `admin page: port ${listen.port} is already in use, so the admin page is off (OAuth keeps working); free the port or set ADMIN_PORT`
          : `admin page cannot listen: ${String(err)} (OAuth keeps working)`,
      );
      admin = undefined;
    }
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    stop: () =>
      (stopping ??= (async () => {
        if (admin) await closeServer(admin);
      })()),
  };
}
