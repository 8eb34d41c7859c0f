/**
 * The control socket: a Unix domain socket on which the running server answers the CLI. It exists because the
 * server read-modify-writes grant records under an in-process lock (refresh rotation, settling, revocation); a
 * second process writing the same record directly could be overwritten a millisecond later by a refresh that read
 * the record before it (a lost update: the revocation would silently vanish). So while a server runs, every write
 * the CLI wants is done *by the server*, under the same lock as refreshes. Only when nothing answers here does the
 * CLI write directly, and it then asks again afterwards, so a server that came up meanwhile re-applies the change
 * under its lock (see cli/admin-api.ts). The socket is up before the public listener accepts, so "nothing
 * answers" implies "no refresh in flight".
 *
 * It lives in a private directory of the user ($TMPDIR/maoauth-<uid>, mode 0700, checked like tmux and ssh-agent
 * check theirs), named after the data folder, not in DATA_DIR: /data is what Home Assistant backs up, and a socket
 * there trips tools that copy it. The directory's permissions are the authentication: only the same user (who
 * can read the database anyway) can connect.
 */
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, realpathSync, unlinkSync } from 'node:fs';
import { request } from 'node:http';
import { Server, createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

function runtimeDir(): string {
  return path.join(tmpdir(), `maoauth-${process.getuid?.() ?? 'user'}`);
}

/** The control socket of a data folder: one per data folder, in the user's private runtime directory. */
export function controlSocketPath(dataDir: string): string {
  const resolved = existsSync(dataDir) ? realpathSync(dataDir) : path.resolve(dataDir);
  const tag = createHash('sha256').update(resolved).digest('hex').slice(0, 16);
  return path.join(runtimeDir(), `${tag}.sock`);
}

/** Why the socket's directory cannot be trusted (another owner, or others may write in it), or undefined. */
export function untrustedSocketDir(socketPath: string): string | undefined {
  const dir = path.dirname(socketPath);
  let info;
  try {
    info = lstatSync(dir);
  } catch {
    return undefined; // not there yet: nothing to distrust
  }
  if (!info.isDirectory()) return `${dir} is not a directory`;
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid) return `${dir} belongs to uid ${info.uid}, not to this user (${uid})`;
  if ((info.mode & 0o077) !== 0) return `${dir} can be used by other users (mode ${(info.mode & 0o777).toString(8)})`;
  return undefined;
}

/** Whether something accepts connections on the socket (false for a leftover file of a killed server). */
export function socketAnswers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

/**
 * Listens on the control socket. A leftover socket file (the previous server was killed) is replaced; a socket
 * another live server answers on is left alone, and this resolves to false.
 */
export async function listenControl(server: Server, socketPath: string): Promise<boolean> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  const distrust = untrustedSocketDir(socketPath);
  if (distrust) throw new Error(`${distrust}; remove it so that it can be recreated privately`);
  const attempt = () =>
    new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(socketPath, () => {
        server.off('error', onError);
        resolve();
      });
    });
  try {
    await attempt();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    if (await socketAnswers(socketPath)) return false;
    unlinkSync(socketPath);
    await attempt();
  }
  chmodSync(socketPath, 0o600);
  return true;
}

export interface ControlResponse<T> {
  status: number;
  body: T;
}

/** One JSON request over the control socket. Rejects with the socket error (ENOENT, ECONNREFUSED) when no server answers. */
export function controlRequest<T>(socketPath: string, method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<ControlResponse<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path: urlPath,
        headers: payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {},
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
          } catch {
            reject(new Error(`the server answered ${res.statusCode} with something that is not JSON`));
          }
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('the server did not answer on its control socket within 30 s')));
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}
