/**
 * Home Assistant accounts as a login source: the Supervisor checks a username and password for add-ons that
 * declare `auth_api: true` (supervisor/api/auth.py). The request format is fixed by the Supervisor:
 *   - the add-on's token goes in X-Supervisor-Token. Not in `Authorization: Bearer`: the /auth handler reads any
 *     Authorization header as the Basic credentials to check, and answers a Bearer one with an error;
 *   - the credentials go in a JSON body {"username","password"} with Content-Type exactly application/json
 *     (the handler compares the header verbatim, so no "; charset=" suffix).
 * Answers: 200 {"result":"ok"} when Home Assistant accepts the credentials; a wrong password is 401 on current
 * Supervisors and 400 {"result":"error"} on older ones; 403 means this add-on may not use the API.
 */
import { LocalRequestFailed, sendLocal } from '../ops/local-http';
import { PasswordCheck } from './user-authenticator';

export interface SupervisorAuthOptions {
  /** http://supervisor inside the add-on; the SUPERVISOR_URL environment variable overrides it for tests. */
  baseUrl: string;
  /** SUPERVISOR_TOKEN, which the Supervisor gives every add-on. */
  token: string;
  /** The whole check must answer within this; Home Assistant Core can take 1-2 s on a cold cache. */
  timeoutMs?: number;
}

export const DEFAULT_SUPERVISOR_URL = 'http://supervisor';
const DEFAULT_TIMEOUT_MS = 5000;

type Answer = 'match' | 'mismatch' | { unavailable: string };

function apiMessage(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: unknown };
    return typeof parsed.message === 'string' ? parsed.message : undefined;
  } catch {
    return undefined;
  }
}

export function createSupervisorAuth(opts: SupervisorAuthOptions): PasswordCheck {
  const url = new URL('/auth', opts.baseUrl);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const where = `the Home Assistant Supervisor (${url.origin})`;

  return {
    async check(username: string, password: string): Promise<Answer> {
      // The Supervisor refuses a missing password outright; an empty one can never be right.
      if (!username || !password) return 'mismatch';

      let status: number;
      let body: string;
      try {
        ({ status, text: body } = await sendLocal(url, {
          method: 'POST',
          headers: { 'X-Supervisor-Token': opts.token, 'Content-Type': 'application/json' },
          body: JSON.stringify({ username, password }),
          signal: AbortSignal.timeout(timeoutMs),
        }));
      } catch (err) {
        if (err instanceof LocalRequestFailed && err.reason === 'aborted') {
          return { unavailable: `${where} did not answer the login check within ${timeoutMs} ms` };
        }
        const code = err instanceof LocalRequestFailed ? (err.code ?? err.message) : String(err);
        return { unavailable: `${where} could not be reached for the login check (${code})` };
      }

      if (status === 200) {
        try {
          if ((JSON.parse(body) as { result?: unknown }).result === 'ok') return 'match';
        } catch {
          // fall through: a 200 without the API's envelope is not the Supervisor speaking
        }
        return { unavailable: `${where} answered the login check with an unexpected body` };
      }
      if (status === 401) return 'mismatch';
      if (status === 400) {
        const message = apiMessage(body);
        if (message?.startsWith('System is not ready')) {
          return { unavailable: `${where} is starting up and cannot check logins yet (${message})` };
        }
        // Older Supervisors turn "wrong username or password" into a bare 400.
        return 'mismatch';
      }
      if (status === 403) {
        return {
          unavailable: `${where} refused the login check (403): the add-on needs auth_api: true in config.yaml and its own SUPERVISOR_TOKEN; reinstall or update the add-on`,
        };
      }
      const message = apiMessage(body);
      return { unavailable: `${where} answered the login check with HTTP ${status}${message ? ` (${message})` : ''}` };
    },
  };
}

/** The Supervisor check when running as an add-on (SUPERVISOR_TOKEN set), otherwise undefined. */
export function supervisorAuthFromEnv(env: NodeJS.ProcessEnv = process.env): PasswordCheck | undefined {
  const token = env.SUPERVISOR_TOKEN;
  if (!token) return undefined;
  return createSupervisorAuth({ baseUrl: env.SUPERVISOR_URL || DEFAULT_SUPERVISOR_URL, token });
}
