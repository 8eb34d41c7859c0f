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

export async function startSupervisorStandIn(opts: StandInOptions): Promise<SupervisorStandIn> {
  const requests: RecordedRequest[] = [];
  const flavour = opts.flavour ?? 'current';

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });

      if (opts.notReady) return json(res, 400, { result: 'error', message: 'System is not ready with state: setup' });

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
          return flavour === 'legacy' ? bare(res, 500) : bare(res, 401, { 'WWW-Authenticate': 'Basic realm="Home Assistant Authentication"' });
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
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
