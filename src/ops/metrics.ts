/**
 * Prometheus metrics in the text exposition format (version 0.0.4), served at GET /metrics on the admin listener.
 * Counters come from the flow trace (every step records exactly one entry, so counting entries counts events) and
 * from a timing middleware on the public app; gauges are read at scrape time. Counters start at zero with the
 * process, as Prometheus expects.
 *
 * Label values come from fixed sets (steps, failure kinds of our own code, a route table), never from what a
 * client sent, so a hostile client cannot blow up the number of series.
 */
import { FlowEvent, FlowTrace } from '../log/flow-trace';

type Labels = Record<string, string>;

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5, 10];

/** Public routes by path; anything else is "other". */
const ROUTES = new Set([
  '/alexa/authorize',
  '/alexa/login',
  '/alexa/consent',
  '/alexa/token',
  '/alexa/revoke',
  '/alexa/introspect',
  '/health',
  '/.well-known/oauth-authorization-server',
  '/alexa/.well-known/oauth-authorization-server',
]);
const KIND = /^[a-z][a-z0-9_]{0,48}$/;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function num(n: number): string {
  return Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : '-Inf';
}

/**
 * A series' key: its label values in the metric's fixed order. Every request counts in two or three series, and
 * this is cheaper than JSON.stringify of the labels; the values come from fixed sets and never hold a NUL.
 */
function seriesKey<L extends string>(names: readonly L[], labels: Record<L, string>): string {
  let key = '';
  for (const name of names) key += `${labels[name]}\u0000`;
  return key;
}

/** A counter whose series are told apart by exactly the labels `labelNames` lists (the compiler holds callers to them). */
class Counter<L extends string> {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
  ) {}
  inc(labels: Record<L, string>, by = 1): void {
    const key = seriesKey(this.labelNames, labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels: Record<L, string>): number {
    return this.values.get(seriesKey(this.labelNames, labels))?.value ?? 0;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${num(value)}`);
    return lines;
  }
}

class Histogram<L extends string> {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    readonly buckets: number[],
  ) {}
  observe(labels: Record<L, string>, value: number): void {
    const key = seriesKey(this.labelNames, labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= (this.buckets[i] ?? 0)) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }
  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((le, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(le) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${num(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

export interface GaugeValues {
  activeGrants: number;
  revokedGrants: number;
  storeBytes: number;
  traceBytes: number;
  storeOk: boolean;
}

export interface Metrics {
  /** Counts one flow-trace event (subscribed to the trace by createMetrics). */
  count(entry: FlowEvent): void;
  /** One answered request of the public app: latency and count by route and status class (http/request-timing.ts). */
  observeRequest(path: string, status: number, seconds: number): void;
  /** The exposition text, with gauges read by the caller at scrape time. */
  render(gauges: GaugeValues, info: { version: string; startedAt: number }): string;
  /** For tests and the status page. */
  tokensIssued(grantType?: string): number;
  failures(kind: string): number;
  stop(): void;
}

export function createMetrics(trace?: FlowTrace): Metrics {
  const tokens = new Counter('maoauth_tokens_issued_total', 'Token responses issued (access + refresh token pairs), by grant type.', [
    'grant_type',
  ]);
  const failures = new Counter(
    'maoauth_failures_total',
    'Failed steps of the OAuth flow, by step, failure kind (the cause) and outcome (error or security).',
    ['step', 'kind', 'outcome'],
  );
  const events = new Counter('maoauth_flow_events_total', 'Flow-trace entries, by step and outcome.', ['step', 'outcome']);
  const requests = new Counter('maoauth_http_requests_total', 'Requests to the public OAuth listener, by route and status class.', [
    'route',
    'status',
  ]);
  const latency = new Histogram(
    'maoauth_http_request_duration_seconds',
    'Time to answer a request on the public OAuth listener, by route (Alexa allows 4.5 s at /alexa/token).',
    ['route'],
    LATENCY_BUCKETS,
  );

  const metrics: Metrics = {
    count(entry) {
      const step = String(entry.step);
      events.inc({ step, outcome: entry.outcome });
      if (entry.outcome === 'ok') {
        if (step === 'token') tokens.inc({ grant_type: entry.grantType === 'refresh_token' ? 'refresh_token' : 'authorization_code' });
        return;
      }
      const kind = typeof entry.kind === 'string' && KIND.test(entry.kind) ? entry.kind : 'other';
      failures.inc({ step, kind, outcome: entry.outcome });
    },
    observeRequest(path, status, seconds) {
      const route = ROUTES.has(path) ? path : 'other';
      latency.observe({ route }, seconds);
      requests.inc({ route, status: `${Math.floor(status / 100)}xx` });
    },
    render(g, info) {
      const gauge = (name: string, help: string, value: number, labels: Labels = {}) => [
        `# HELP ${name} ${help}`,
        `# TYPE ${name} gauge`,
        `${name}${labelText(labels)} ${num(value)}`,
      ];
      return (
        [
          ...gauge('maoauth_info', 'Version of the add-on.', 1, { version: info.version }),
          ...gauge('maoauth_start_time_seconds', 'When the server started, seconds since the epoch.', Math.floor(info.startedAt / 1000)),
          ...gauge('maoauth_active_grants', 'Linked accounts (grants) that are not revoked or expired.', g.activeGrants),
          ...gauge('maoauth_revoked_grants', 'Revoked grants still kept for reuse detection.', g.revokedGrants),
          ...gauge('maoauth_store_ok', '1 when the database can be written and read back.', g.storeOk ? 1 : 0),
          ...gauge('maoauth_store_bytes', 'Size of the database files.', g.storeBytes),
          ...gauge('maoauth_flow_trace_bytes', 'Size of the flow-trace files.', g.traceBytes),
          ...tokens.render(),
          ...failures.render(),
          ...events.render(),
          ...requests.render(),
          ...latency.render(),
        ].join('\n') + '\n'
      );
    },
    tokensIssued: (grantType) =>
      grantType
        ? tokens.get({ grant_type: grantType })
        : tokens.get({ grant_type: 'authorization_code' }) + tokens.get({ grant_type: 'refresh_token' }),
    failures: (kind) =>
      ['error', 'security'].reduce(
        (sum, outcome) =>
          sum +
          ['authorize', 'login', 'consent', 'token', 'revoke', 'introspect', 'admin'].reduce(
            (s, step) => s + failures.get({ step, kind, outcome }),
            0,
          ),
        0,
      ),
    stop: () => undefined,
  };
  if (trace) {
    const unsubscribe = trace.subscribe((e) => metrics.count(e));
    metrics.stop = () => void unsubscribe();
  }
  return metrics;
}
