"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.DEFAULT_SUPERVISOR_URL = void 0;
exports.createSupervisorAuth = createSupervisorAuth;
exports.supervisorAuthFromEnv = supervisorAuthFromEnv;
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
const local_http_1 = require("../ops/local-http");
exports.DEFAULT_SUPERVISOR_URL = 'http://supervisor';
const DEFAULT_TIMEOUT_MS = 5000;
function apiMessage(body) {
    try {
        const parsed = JSON.parse(body);
        return typeof parsed.message === 'string' ? parsed.message : undefined;
    }
    catch {
        return undefined;
    }
}
function createSupervisorAuth(opts) {
    const url = new URL('/auth', opts.baseUrl);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const where = `the Home Assistant Supervisor (${url.origin})`;
    return {
        async check(username, password) {
            // The Supervisor refuses a missing password outright; an empty one can never be right.
            if (!username || !password)
                return 'mismatch';
            let status;
            let body;
            try {
                ({ status, text: body } = await (0, local_http_1.sendLocal)(url, {
                    method: 'POST',
                    headers: { 'X-Supervisor-Token': opts.token, 'Content-Type': 'application/json' },
                    body: JSON.stringify({ username, password }),
                    signal: AbortSignal.timeout(timeoutMs),
                }));
            }
            catch (err) {
                if (err instanceof local_http_1.LocalRequestFailed && err.reason === 'aborted') {
                    return { unavailable: `${where} did not answer the login check within ${timeoutMs} ms` };
                }
                const code = err instanceof local_http_1.LocalRequestFailed ? (err.code ?? err.message) : String(err);
                return { unavailable: `${where} could not be reached for the login check (${code})` };
            }
            if (status === 200) {
                try {
                    if (JSON.parse(body).result === 'ok')
                        return 'match';
                }
                catch {
                    // fall through: a 200 without the API's envelope is not the Supervisor speaking
                }
                return { unavailable: `${where} answered the login check with an unexpected body` };
            }
            if (status === 401)
                return 'mismatch';
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
function supervisorAuthFromEnv(env = process.env) {
    const token = env.SUPERVISOR_TOKEN;
    if (!token)
        return undefined;
    return createSupervisorAuth({ baseUrl: env.SUPERVISOR_URL || exports.DEFAULT_SUPERVISOR_URL, token });
}
//# sourceMappingURL=supervisor-auth.js.map