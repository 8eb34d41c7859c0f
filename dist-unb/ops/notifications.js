"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ADDON_SLUG = exports.DEFAULT_SUPERVISOR_URL = void 0;
exports.homeAssistantFromEnv = homeAssistantFromEnv;
exports.notifierFor = notifierFor;
exports.createNotifier = createNotifier;
const notification_causes_1 = require("./notification-causes");
const local_http_1 = require("./local-http");
const notice_text_1 = require("./notice-text");
exports.DEFAULT_SUPERVISOR_URL = 'http://supervisor';
/** config.yaml's slug; installed from a repository the Supervisor prefixes it (see homeAssistantFromEnv). */
exports.ADDON_SLUG = 'music_assistant_alexa_oauth';
const DEFAULT_THROTTLE_MS = 3600_000;
/** Core answers a service call in milliseconds; the proxy waits up to 300 s for a hung Core, we do not. */
const DEFAULT_TIMEOUT_MS = 5000;
/**
 * Notices waiting for Home Assistant, beyond the one under way: sent one at a time, so that two notices with
 * the same notification_id (a database fault and its recovery) arrive in order. Throttled causes are few, so
 * this is reached only when Home Assistant hangs; then further notices are listed as not delivered.
 */
const QUEUE_LIMIT = 20;
const RECENT_LIMIT = 50;
/**
 * SUPERVISOR_TOKEN (set for every add-on) and SUPERVISOR_URL (tests; default http://supervisor). The admin
 * page's path needs the full slug, which the Supervisor prefixes with the repository's hash ("local" for a
 * local add-on); it is read from the container's host name, the slug with "_" written "-" (apps/model.py).
 */
function homeAssistantFromEnv(env) {
    const token = env.SUPERVISOR_TOKEN;
    if (!token)
        return undefined;
    const host = new RegExp(`^([a-z0-9]+)-${exports.ADDON_SLUG.replace(/_/g, '-')}$`).exec(env.HOSTNAME ?? '');
    const slug = host ? `${host[1]}_${exports.ADDON_SLUG}` : exports.ADDON_SLUG;
    return { url: env.SUPERVISOR_URL || exports.DEFAULT_SUPERVISOR_URL, token, adminPath: `/hassio/ingress/${slug}` };
}
/** The notifier of a running server, from its configuration. */
function notifierFor(config, supervisor, log, now) {
    return createNotifier({
        supervisor,
        enabled: config.notifications,
        clients: config.clients,
        secrets: [
            ...config.clients.map((c) => c.clientSecret ?? ''),
            ...config.users.map((u) => u.password),
            ...config.resourceServers.map((r) => r.secret),
        ].filter(Boolean),
        log,
        now,
    });
}
/** What a non-2xx answer of the proxy means, for the one log line. */
function describeAnswer(status, body) {
    let message;
    try {
        const m = JSON.parse(body).message;
        if (typeof m === 'string')
            message = (0, notice_text_1.cleanValue)(m);
    }
    catch {
        /* a bare aiohttp error page */
    }
    if (status === 401)
        return 'the Supervisor refused the Home Assistant API to this add-on (401): it needs homeassistant_api: true in its config.yaml and its own SUPERVISOR_TOKEN; update or reinstall the add-on';
    if (status === 403)
        return 'the Supervisor refused the request (403)';
    if (status === 502 || status === 504)
        return `Home Assistant is not running or does not answer the Supervisor (${status})`;
    if (status === 400 && message?.startsWith('System is not ready'))
        return `the Supervisor is starting up (${message})`;
    return `Home Assistant answered HTTP ${status}${message ? ` (${message})` : ''}`;
}
function createNotifier(deps) {
    const now = deps.now ?? Date.now;
    const send = deps.send ?? local_http_1.sendLocal;
    const throttleMs = deps.throttleMs ?? DEFAULT_THROTTLE_MS;
    const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const supervisor = deps.enabled ? deps.supervisor : undefined;
    const adminPath = deps.supervisor?.adminPath ?? `/hassio/ingress/${exports.ADDON_SLUG}`;
    const configured = new Set(deps.clients.map((c) => c.clientId));
    const ctx = { clients: deps.clients };
    const mode = !deps.enabled
        ? 'Home Assistant notifications are off (option notifications: false); the admin page lists the notices'
        : !deps.supervisor
            ? 'Home Assistant notifications are inactive: not running under the Home Assistant Supervisor (no SUPERVISOR_TOKEN); the admin page lists the notices'
            : `Home Assistant notifications are on: set-up failures, links about to be dropped, attacks and database faults are reported there, at most one per cause every ${Math.round(throttleMs / 60_000)} min`;
    deps.log.info(mode);
    /** The last notice of each throttle key. Keys are causes and configured clients only, so this stays small. */
    const last = new Map();
    const recent = [];
    const closing = new AbortController();
    let deliveryProblem;
    /** Whether Home Assistant was told of the current database fault: only then is its recovery worth a notice. */
    let faultShown = false;
    /** A database fault that fell into the throttle window: sent when the window ends, unless it recovers first. */
    let heldFault;
    /** `stopping`: the server stops; that is no delivery problem to report. */
    function failed(record, problem, stopping = false) {
        record.delivery = 'failed';
        record.problem = problem;
        if (stopping)
            return;
        if (deliveryProblem === undefined) {
            deps.log.warn(`Home Assistant notifications cannot be delivered: ${problem}; the admin page lists them (logged once until delivery works again)`);
        }
        deliveryProblem = problem;
    }
    const queue = [];
    let sending;
    function deliver(record) {
        if (queue.length >= QUEUE_LIMIT) {
            failed(record, `Home Assistant has not taken the ${QUEUE_LIMIT} notices before this one yet`);
            return;
        }
        queue.push(record);
        pump();
    }
    function pump() {
        const record = sending || !supervisor ? undefined : queue.shift();
        if (!record || !supervisor)
            return;
        sending = post(record, supervisor).finally(() => {
            sending = undefined;
            pump();
        });
    }
    async function post(record, api) {
        const url = new URL('/core/api/services/persistent_notification/create', api.url);
        try {
            const res = await send(url, {
                method: 'POST',
                headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
                body: JSON.stringify({ title: record.title, message: record.message, notification_id: record.notificationId }),
                signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), closing.signal]),
            });
            if (res.status < 200 || res.status > 299)
                return failed(record, describeAnswer(res.status, res.text));
            record.delivery = 'delivered';
            if (deliveryProblem !== undefined)
                deps.log.info('Home Assistant notifications are delivered again');
            deliveryProblem = undefined;
        }
        catch (err) {
            if (closing.signal.aborted)
                return failed(record, 'the server stopped before Home Assistant answered', true);
            failed(record, err instanceof local_http_1.LocalRequestFailed && err.reason === 'aborted'
                ? `Home Assistant did not answer within ${timeoutMs} ms (through the Supervisor at ${url.origin})`
                : `the Supervisor at ${url.origin} cannot be reached (${err instanceof local_http_1.LocalRequestFailed ? (err.code ?? err.message) : String(err)})`);
        }
    }
    function emit(event, key, notificationId, previous) {
        const w = (0, notification_causes_1.wordsFor)(event, ctx);
        const finish = (text) => (0, notice_text_1.finishText)(text, deps.secrets);
        const record = {
            at: now(),
            cause: event.cause,
            category: notification_causes_1.CATEGORY[event.cause],
            notificationId,
            title: w.title,
            happened: finish(w.happened),
            why: finish(w.why),
            fix: finish(w.fix),
            message: '',
            delivery: supervisor ? 'sending' : deps.enabled ? 'no_supervisor' : 'off',
            repeats: 0,
        };
        const since = previous?.repeats
            ? (0, notice_text_1.words)(`\n\nThis happened ${previous.repeats} more time${previous.repeats === 1 ? '' : 's'} after the previous notice of ${new Date(previous.at).toISOString()}.`)
            : [];
        record.message = (0, notice_text_1.toMarkdown)([
            ...(0, notice_text_1.words)('**What happened:** '),
            ...record.happened,
            ...(0, notice_text_1.words)('\n\n**Why:** '),
            ...record.why,
            ...(0, notice_text_1.words)('\n\n**What to do:** '),
            ...record.fix,
            ...since,
            ...(0, notice_text_1.words)(`\n\n[Open the Alexa linking admin page](${adminPath}) for the details (Activity tab).`),
        ]);
        last.set(key, record);
        recent.unshift(record);
        recent.length = Math.min(recent.length, RECENT_LIMIT);
        if (event.cause === 'storage_fault')
            faultShown = true;
        if (supervisor)
            deliver(record);
    }
    function notify(event) {
        try {
            const { key, notificationId } = (0, notification_causes_1.identify)(event, (id) => configured.has(id));
            if (event.cause === 'storage_recovered') {
                clearTimeout(heldFault);
                heldFault = undefined;
                // A recovery replaces the fault's notice; with no fault notice shown there is nothing to replace.
                if (!faultShown)
                    return;
                faultShown = false;
                emit(event, key, notificationId);
                return;
            }
            const previous = last.get(key);
            const wait = previous ? previous.at + throttleMs - now() : 0;
            if (previous && wait > 0) {
                previous.repeats++;
                if (event.cause === 'storage_fault') {
                    // Its notice must not stay replaced by an earlier "works again" while the database is faulty.
                    clearTimeout(heldFault);
                    heldFault = setTimeout(() => {
                        heldFault = undefined;
                        emit(event, key, notificationId, last.get(key));
                    }, wait);
                    heldFault.unref();
                }
                return;
            }
            emit(event, key, notificationId, previous);
        }
        catch (err) {
            // A notice is never worth failing the request or the store that raised it.
            deps.log.warn('could not build a Home Assistant notification', { cause: event.cause, error: String(err) });
        }
    }
    return {
        notify,
        onTraceEntry(entry) {
            const event = (0, notification_causes_1.eventFromTrace)(entry);
            if (event)
                notify(event);
        },
        recent: () => [...recent],
        mode,
        settled: async () => {
            while (sending)
                await sending;
        },
        close() {
            clearTimeout(heldFault);
            heldFault = undefined;
            for (const record of queue.splice(0))
                failed(record, 'the server stopped before it was sent', true);
            closing.abort();
        },
    };
}
//# sourceMappingURL=notifications.js.map