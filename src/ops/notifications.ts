/**
 * Home Assistant notifications: tells the owner inside Home Assistant when linking breaks, a link is about to
 * be dropped, someone attacks, or the database fails (notification-causes.ts says about what, and in which words).
 *
 * Sent as persistent notifications through the Supervisor's Core API proxy (add-ons with `homeassistant_api:
 * true`): POST {SUPERVISOR_URL}/core/api/services/persistent_notification/create, `Authorization: Bearer
 * $SUPERVISOR_TOKEN`, JSON {title, message, notification_id}. Core answers 200 with the JSON list of states the
 * call changed; the proxy (supervisor/api/proxy.py) answers a token it does not accept, or an add-on without
 * homeassistant_api, with a bare 401, a stopped or unreachable Core with 502, and 400 {"result":"error"} while
 * the Supervisor is starting.
 *
 * The OAuth server must never wait for Home Assistant: notify() returns at once, the request runs in the
 * background with a short timeout, and a failure is logged once (until delivery works again), not per event.
 * At most one notice per cause (and configured client, where the fix names it) per throttle window; the stable
 * notification_id makes Home Assistant replace the previous notice of the same cause.
 */
import { Config, configuredSecrets } from '../config/config';
import {
  CATEGORY,
  NoticeCategory,
  NotificationCause,
  NotificationEvent,
  TraceFacts,
  WordsContext,
  eventFromTrace,
  identify,
  wordsFor,
} from './notification-causes';
import { LocalRequestFailed, LocalSend, sendLocal } from './local-http';
import { Text, cleanValue, finishText, toMarkdown, words } from './notice-text';

export const DEFAULT_SUPERVISOR_URL = 'http://supervisor';
/** config.yaml's slug; installed from a repository the Supervisor prefixes it (see homeAssistantFromEnv). */
export const ADDON_SLUG = 'music_assistant_alexa_oauth';
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

/** The Supervisor's API as an add-on sees it. */
export interface SupervisorApi {
  url: string;
  token: string;
  /** The admin page inside Home Assistant: /hassio/ingress/<full slug>. */
  adminPath: string;
}

/** How a notice fared. `off`: the option is off; `no_supervisor`: not running as an add-on. */
export type Delivery = 'sending' | 'delivered' | 'failed' | 'off' | 'no_supervisor';

export interface NoticeRecord {
  at: number;
  cause: NotificationCause;
  category: NoticeCategory;
  notificationId: string;
  title: string;
  happened: Text;
  why: Text;
  fix: Text;
  /** The message as sent to Home Assistant (Markdown). */
  message: string;
  delivery: Delivery;
  /** Why it was not delivered. */
  problem?: string;
  /** Later occurrences of the same cause within the throttle window, not sent separately. */
  repeats: number;
}

export interface NotifierLog {
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
}

export interface NotifierDeps {
  /** Undefined when not running under the Supervisor (no SUPERVISOR_TOKEN): notices are only listed. */
  supervisor?: SupervisorApi;
  /** The `notifications` option. */
  enabled: boolean;
  /** Configured clients: which client ids are ours, and their redirect URIs (for the advice). */
  clients: WordsContext['clients'];
  /** Every secret and password of the configuration: removed from any value a notice would show. */
  secrets: readonly string[];
  log: NotifierLog;
  now?: () => number;
  send?: LocalSend;
  throttleMs?: number;
  timeoutMs?: number;
}

export interface Notifier {
  /** Never throws, never waits: builds the notice, throttles it and sends it in the background. */
  notify(event: NotificationEvent): void;
  /** A flow-trace listener: notifies the entries notification-causes.ts maps to a cause. */
  onTraceEntry(entry: TraceFacts): void;
  /** Newest first: what was sent, or would have been. */
  recent(): NoticeRecord[];
  /** One line on whether notices reach Home Assistant, and why not. */
  readonly mode: string;
  /** Resolves when every notice queued so far has been answered or given up on (tests). */
  settled(): Promise<void>;
  /** Abandons requests under way and timers. */
  close(): void;
}

/**
 * SUPERVISOR_TOKEN (set for every add-on) and SUPERVISOR_URL (tests; default http://supervisor). The admin
 * page's path needs the full slug, which the Supervisor prefixes with the repository's hash ("local" for a
 * local add-on); it is read from the container's host name, the slug with "_" written "-" (apps/model.py).
 */
export function homeAssistantFromEnv(env: NodeJS.ProcessEnv): SupervisorApi | undefined {
  const token = env.SUPERVISOR_TOKEN;
  if (!token) return undefined;
  const host = new RegExp(`^([a-z0-9]+)-${ADDON_SLUG.replace(/_/g, '-')}$`).exec(env.HOSTNAME ?? '');
  const slug = host ? `${host[1]}_${ADDON_SLUG}` : ADDON_SLUG;
  return { url: env.SUPERVISOR_URL || DEFAULT_SUPERVISOR_URL, token, adminPath: `/hassio/ingress/${slug}` };
}

/** The notifier of a running server, from its configuration. */
export function notifierFor(config: Config, supervisor: SupervisorApi | undefined, log: NotifierLog, now?: () => number): Notifier {
  return createNotifier({
    supervisor,
    enabled: config.notifications,
    clients: config.clients,
    secrets: configuredSecrets(config),
    log,
    now,
  });
}

/** What a non-2xx answer of the proxy means, for the one log line. */
function describeAnswer(status: number, body: string): string {
  let message: string | undefined;
  try {
    const m = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof m === 'string') message = cleanValue(m);
  } catch {
    /* a bare aiohttp error page */
  }
  if (status === 401)
    return 'the Supervisor refused the Home Assistant API to this add-on (401): it needs homeassistant_api: true in its config.yaml and its own SUPERVISOR_TOKEN; update or reinstall the add-on';
  if (status === 403) return 'the Supervisor refused the request (403)';
  if (status === 502 || status === 504) return `Home Assistant is not running or does not answer the Supervisor (${status})`;
  if (status === 400 && message?.startsWith('System is not ready')) return `the Supervisor is starting up (${message})`;
  return `Home Assistant answered HTTP ${status}${message ? ` (${message})` : ''}`;
}

export function createNotifier(deps: NotifierDeps): Notifier {
  const now = deps.now ?? Date.now;
  const send = deps.send ?? sendLocal;
  const throttleMs = deps.throttleMs ?? DEFAULT_THROTTLE_MS;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const supervisor = deps.enabled ? deps.supervisor : undefined;
  const adminPath = deps.supervisor?.adminPath ?? `/hassio/ingress/${ADDON_SLUG}`;
  const configured = new Set(deps.clients.map((c) => c.clientId));
  const ctx: WordsContext = { clients: deps.clients };

  const mode = !deps.enabled
    ? 'Home Assistant notifications are off (option notifications: false); the admin page lists the notices'
    : !deps.supervisor
      ? 'Home Assistant notifications are inactive: not running under the Home Assistant Supervisor (no SUPERVISOR_TOKEN); the admin page lists the notices'
      : `Home Assistant notifications are on: set-up failures, links about to be dropped, attacks and database faults are reported there, at most one per cause every ${Math.round(throttleMs / 60_000)} min`;
  deps.log.info(mode);

  /** The last notice of each throttle key. Keys are causes and configured clients only, so this stays small. */
  const last = new Map<string, NoticeRecord>();
  const recent: NoticeRecord[] = [];
  const closing = new AbortController();
  let deliveryProblem: string | undefined;
  /** Whether Home Assistant was told of the current database fault: only then is its recovery worth a notice. */
  let faultShown = false;
  /** A database fault that fell into the throttle window: sent when the window ends, unless it recovers first. */
  let heldFault: NodeJS.Timeout | undefined;

  /** `stopping`: the server stops; that is no delivery problem to report. */
  function failed(record: NoticeRecord, problem: string, stopping = false): void {
    record.delivery = 'failed';
    record.problem = problem;
    if (stopping) return;
    if (deliveryProblem === undefined) {
      deps.log.warn(
        `Home Assistant notifications cannot be delivered: ${problem}; the admin page lists them (logged once until delivery works again)`,
      );
    }
    deliveryProblem = problem;
  }

  const queue: NoticeRecord[] = [];
  let sending: Promise<void> | undefined;

  function deliver(record: NoticeRecord): void {
    if (queue.length >= QUEUE_LIMIT) {
      failed(record, `Home Assistant has not taken the ${QUEUE_LIMIT} notices before this one yet`);
      return;
    }
    queue.push(record);
    pump();
  }

  function pump(): void {
    const record = sending || !supervisor ? undefined : queue.shift();
    if (!record || !supervisor) return;
    sending = post(record, supervisor).finally(() => {
      sending = undefined;
      pump();
    });
  }

  async function post(record: NoticeRecord, api: SupervisorApi): Promise<void> {
    const url = new URL('/core/api/services/persistent_notification/create', api.url);
    try {
      const res = await send(url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${api.token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ title: record.title, message: record.message, notification_id: record.notificationId }),
        signal: AbortSignal.any([AbortSignal.timeout(timeoutMs), closing.signal]),
      });
      if (res.status < 200 || res.status > 299) return failed(record, describeAnswer(res.status, res.text));
      record.delivery = 'delivered';
      if (deliveryProblem !== undefined) deps.log.info('Home Assistant notifications are delivered again');
      deliveryProblem = undefined;
    } catch (err) {
      if (closing.signal.aborted) return failed(record, 'the server stopped before Home Assistant answered', true);
      failed(
        record,
        err instanceof LocalRequestFailed && err.reason === 'aborted'
          ? `Home Assistant did not answer within ${timeoutMs} ms (through the Supervisor at ${url.origin})`
          : `the Supervisor at ${url.origin} cannot be reached (${err instanceof LocalRequestFailed ? (err.code ?? err.message) : String(err)})`,
      );
    }
  }

  function emit(event: NotificationEvent, key: string, notificationId: string, previous?: NoticeRecord): void {
    const w = wordsFor(event, ctx);
    const finish = (text: Text) => finishText(text, deps.secrets);
    const record: NoticeRecord = {
      at: now(),
      cause: event.cause,
      category: CATEGORY[event.cause],
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
      ? words(
          `\n\nThis happened ${previous.repeats} more time${previous.repeats === 1 ? '' : 's'} after the previous notice of ${new Date(previous.at).toISOString()}.`,
        )
      : [];
    record.message = toMarkdown([
      ...words('**What happened:** '),
      ...record.happened,
      ...words('\n\n**Why:** '),
      ...record.why,
      ...words('\n\n**What to do:** '),
      ...record.fix,
      ...since,
      ...words(`\n\n[Open the Alexa linking admin page](${adminPath}) for the details (Activity tab).`),
    ]);
    last.set(key, record);
    recent.unshift(record);
    recent.length = Math.min(recent.length, RECENT_LIMIT);
    if (event.cause === 'storage_fault') faultShown = true;
    if (supervisor) deliver(record);
  }

  function notify(event: NotificationEvent): void {
    try {
      const { key, notificationId } = identify(event, (id) => configured.has(id));
      if (event.cause === 'storage_recovered') {
        clearTimeout(heldFault);
        heldFault = undefined;
        // A recovery replaces the fault's notice; with no fault notice shown there is nothing to replace, unless the
        // database was started over: every link is gone, which the owner must hear whatever was shown before.
        if (!faultShown && !event.startedOver) return;
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
    } catch (err) {
      // A notice is never worth failing the request or the store that raised it.
      deps.log.warn('could not build a Home Assistant notification', { cause: event.cause, error: String(err) });
    }
  }

  return {
    notify,
    onTraceEntry(entry) {
      const event = eventFromTrace(entry);
      if (event) notify(event);
    },
    recent: () => [...recent],
    mode,
    settled: async () => {
      while (sending) await sending;
    },
    close() {
      clearTimeout(heldFault);
      heldFault = undefined;
      for (const record of queue.splice(0)) failed(record, 'the server stopped before it was sent', true);
      closing.abort();
    },
  };
}
