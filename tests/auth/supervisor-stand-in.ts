/**
 * A stand-in for the Home Assistant Supervisor's POST /auth, a real HTTP server on 127.0.0.1 that answers the
 * way home-assistant/supervisor does (api/middleware/security.py token_validation + system_validation,
 * api/auth.py APIAuth.auth, api/utils.py api_process):
 *   - the caller's token is taken from X-Supervisor-Token, else X-Hassio-Key, else the last word of
 *     Authorization; none -> bare 401, unknown -> bare 403;
 *   - an add-on without auth_api -> 403 {"result":"error","message":"Can't use Home Assistant auth!"};
 *   - an Authorization header is decoded as Basic credentials (a Bearer one: 401 on current Supervisors,
 *     a 500 on older ones);
 *   - Content-Type compared verbatim with application/json or application/x-www-form-urlencoded, fields
 *     username (or user) and password;
 *   - success 200 {"result":"ok","data":{}}; wrong credentials 401 (current) or 400 with the API's error
 *     envelope (legacy, where False became api_return_error()).
 *
 * And the Core API proxy, POST /core/api/<path> (api/proxy.py APIProxy.api; /core/api/* skips the token
 * middleware, the proxy checks access itself), forwarding to Home Assistant Core's REST API:
 *   - the token is the last word of Authorization (`Bearer <token>`), else X-Ha-Access; unknown, or an add-on
 *     without homeassistant_api -> bare 401;
 *   - a path starting with hassio/ or hassio_ -> bare 403;
 *   - Core not running -> bare 502; a Core that does not answer is waited for (the proxy allows 300 s);
 *   - Core's answer is passed through: POST /api/services/<domain>/<service> with a JSON body -> 200 and the
 *     JSON list of changed states (persistent_notification.create changes none: []); a body that is not JSON
 *     -> 400 {"message":"Data should be valid JSON."}; an unknown service or invalid service data -> bare 400.
 * persistent_notification.create takes message (required), title and notification_id, and nothing else.
 */
import http from 'node:http';
import { AddressInfo } from 'node:net';

export interface StandInOptions {
  token: string;
  users: Record<string, string>;
  authApi?: boolean;
  /** 'current': wrong credentials -> 401. 'legacy': -> 400 {"result":"error",...}. */
  flavour?: 'current' | 'legacy';
  /** Core state other than running: every request gets the system_validation error. */
  notReady?: boolean;
  /** The add-on declares homeassistant_api (default true). */
  homeassistantApi?: boolean;
  /**
   * Home Assistant Core behind the proxy: 'running' (default), 'stopped' (the proxy answers 502), 'hang' (never
   * answers), 'error' (Core answers 500). Changeable at run time through SupervisorStandIn.core.
   */
  core?: CoreState;
}

export type CoreState = 'running' | 'stopped' | 'hang' | 'error';

/** A persistent notification Home Assistant accepted. */
export interface CreatedNotification {
  title?: string;
  message: string;
  notification_id?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SupervisorStandIn {
  url: string;
  requests: RecordedRequest[];
  /** Every persistent_notification.create Home Assistant carried out, in order. */
  notifications: CreatedNotification[];
  core: CoreState;
  /** Requests to a hanging Core still open, unanswered. */
  readonly hanging: number;
  /** Resolves with the first recorded request (past or future) matching `match`; rejects after timeoutMs. */
  waitForRequest(match: (r: RecordedRequest) => boolean, timeoutMs?: number): Promise<RecordedRequest>;
  close(): Promise<void>;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}

function bare(res: http.ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', ...headers });
  res.end(`${status}: ${http.STATUS_CODES[status]}`);
}

const NOTIFICATION_FIELDS = new Set(['message', 'title', 'notification_id']);

export async function startSupervisorStandIn(opts: StandInOptions): Promise<SupervisorStandIn> {
  const requests: RecordedRequest[] = [];
  const notifications: CreatedNotification[] = [];
  const waiters = new Set<{ match: (r: RecordedRequest) => boolean; resolve: (r: RecordedRequest) => void }>();
  const flavour = opts.flavour ?? 'current';
  const state = { core: opts.core ?? 'running' };
  const held = new Set<http.ServerResponse>();

  /** Home Assistant Core's POST /api/services/<domain>/<service> (components/api). */
  function coreServiceCall(res: http.ServerResponse, path: string, body: string): void {
    if (state.core === 'hang') {
      // The answer never comes; the connection stays open until the caller gives up.
      held.add(res);
      res.once('close', () => held.delete(res));
      return;
    }
    if (state.core === 'error') {
      res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end('500 Internal Server Error\n\nServer got itself in trouble');
      return;
    }
    const m = /^\/services\/([a-z0-9_]+)\/([a-z0-9_]+)$/.exec(path);
    if (!m) return bare(res, 404);
    let data: unknown;
    try {
      data = body ? JSON.parse(body) : null;
    } catch {
      return json(res, 400, { message: 'Data should be valid JSON.' });
    }
    if (m[1] !== 'persistent_notification' || m[2] !== 'create') return bare(res, 400); // ServiceNotFound
    const fields = (data ?? {}) as Record<string, unknown>;
    const valid =
      typeof data === 'object' &&
      data !== null &&
      !Array.isArray(data) &&
      typeof fields.message === 'string' &&
      Object.keys(fields).every((k) => NOTIFICATION_FIELDS.has(k)) &&
      (fields.title === undefined || typeof fields.title === 'string') &&
      (fields.notification_id === undefined || typeof fields.notification_id === 'string');
    if (!valid) return bare(res, 400); // vol.Invalid
    notifications.push(fields as unknown as CreatedNotification);
    return json(res, 200, []);
  }

  /** The Supervisor's Core API proxy (api/proxy.py). */
  function coreProxy(req: http.IncomingMessage, res: http.ServerResponse, body: string): void {
    const authorization = req.headers.authorization;
    const token = authorization ? authorization.split(' ').pop() : (req.headers['x-ha-access'] as string | undefined);
    if (!token || token !== opts.token || opts.homeassistantApi === false) return bare(res, 401);
    const path = (req.url ?? '').slice('/core/api'.length).split('?')[0] ?? '';
    if (/^\/hassio(?:\/|_)/.test(path)) return bare(res, 403);
    if (state.core === 'stopped') return bare(res, 502);
    if (req.method !== 'POST') return bare(res, 405);
    return coreServiceCall(res, path, body);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const recorded = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body };
      requests.push(recorded);
      for (const w of waiters) if (w.match(recorded)) w.resolve(recorded);

      if (opts.notReady) return json(res, 400, { result: 'error', message: 'System is not ready with state: setup' });
      if (req.url?.startsWith('/core/api/')) return coreProxy(req, res, body);

      const authorization = req.headers.authorization;
      const token =
        (req.headers['x-supervisor-token'] as string | undefined) ||
        (req.headers['x-hassio-key'] as string | undefined) ||
        authorization?.split(' ').pop();
      if (!token) return bare(res, 401);
      if (token !== opts.token) return bare(res, 403);

      if (req.url !== '/auth') return bare(res, 404);
      if (req.method !== 'POST' && req.method !== 'GET') return bare(res, 405);
      if (opts.authApi === false) return json(res, 403, { result: 'error', message: "Can't use Home Assistant auth!" });

      const verdict = (username: unknown, password: unknown): void => {
        if (password === undefined || password === null) {
          return json(res, 400, { result: 'error', message: 'Unknown error, see supervisor' });
        }
        if (typeof username === 'string' && opts.users[username] === password) {
          return json(res, 200, { result: 'ok', data: {} });
        }
        if (flavour === 'legacy') return json(res, 400, { result: 'error', message: 'Unknown error, see supervisor' });
        return bare(res, 401);
      };

      if (authorization) {
        const [scheme, encoded] = authorization.split(' ');
        if (scheme !== 'Basic' || !encoded) {
          return flavour === 'legacy'
            ? bare(res, 500)
            : bare(res, 401, { 'WWW-Authenticate': 'Basic realm="Home Assistant Authentication"' });
        }
        const decoded = Buffer.from(encoded, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        return verdict(decoded.slice(0, colon), decoded.slice(colon + 1));
      }
      const contentType = req.headers['content-type'];
      if (contentType === 'application/json') {
        let data: Record<string, unknown>;
        try {
          data = body ? (JSON.parse(body) as Record<string, unknown>) : {};
        } catch {
          return json(res, 400, { result: 'error', message: 'Invalid json' });
        }
        return verdict(data.username || data.user, data.password);
      }
      if (contentType === 'application/x-www-form-urlencoded') {
        const form = new URLSearchParams(body);
        return verdict(form.get('username') || form.get('user'), form.get('password') ?? undefined);
      }
      return bare(res, 401, { 'WWW-Authenticate': 'Basic realm="Home Assistant Authentication"' });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    notifications,
    get core() {
      return state.core;
    },
    set core(value: CoreState) {
      state.core = value;
    },
    get hanging() {
      return held.size;
    },
    waitForRequest(match, timeoutMs = 10_000) {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const waiter = {
          match,
          resolve: (r: RecordedRequest) => {
            clearTimeout(timer);
            waiters.delete(waiter);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`the Supervisor stand-in received no matching request within ${timeoutMs} ms (${requests.length} received)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
