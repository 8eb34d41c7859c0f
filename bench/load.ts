/**
 * The load generator: autocannon in this process, closed loop (each connection sends its next request when the
 * previous answer arrived), keep-alive, no pipelining, loopback. What each request carries comes from a Source.
 */
import autocannon from 'autocannon';
import { CpuTime, cpuMs } from './proc';
import { CodeGrant } from './fill';
import { DRAIN_PATH, REDIRECT, form } from './settings';

/** What autocannon carries from one request's setupRequest to its onResponse. */
export interface LoadContext {
  measured?: boolean;
  token?: string;
}

export interface Source {
  /** The body of the next request; undefined when the pool is dry (the run then ends early). */
  next(context: LoadContext): string | undefined;
  /** Whether an answer is a success. */
  check(status: number, body: string, context: LoadContext): boolean;
  /** Headers of this request on top of the run's. */
  headers?(): Record<string, string>;
  /** After a run: puts back what requests that were never answered took. */
  settle?(): void;
}

export interface LoadOptions {
  url: string;
  path: string;
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  maxRequests?: number;
  source: Source;
  /** The server's pid: its CPU time is read from /proc before and after. */
  pid?: number;
}

export interface RunResult {
  connections: number;
  seconds: number;
  /** Measured requests answered. */
  requests: number;
  ok: number;
  failed: number;
  unanswered: number;
  firstFailure?: string;
  transportErrors: number;
  poolRanDry: boolean;
  rps: number;
  /** Latency (ms) of the answers that passed the check, as autocannon timed them. */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Server CPU per answered request, µs: all threads, and the main thread only. */
  cpuUsPerRequest?: number;
  mainThreadUsPerRequest?: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/**
 * One closed-loop run, bounded by `seconds` and `maxRequests`, ended gracefully: at the deadline the connections
 * switch to a GET that touches no store (DRAIN_PATH), and autocannon is stopped only once every measured request
 * has been answered. Cutting measured requests off mid-flight would count as failures in the server's
 * failure-only rate limiter (express-rate-limit decrements on 'finish' only), and a few runs of 16 aborted
 * requests would exhaust its 30 failures per 15 minutes.
 */
export async function load(opts: LoadOptions): Promise<RunResult> {
  const { source, connections, seconds } = opts;
  const maxRequests = opts.maxRequests ?? 2_000_000;
  const latencies = new Float64Array(Math.min(maxRequests, 2_000_000) + connections);
  let recorded = 0;
  let ok = 0;
  let failed = 0;
  let sent = 0;
  let answered = 0;
  let firstFailure: string | undefined;
  let dry = false;
  let draining = false;
  /** Whether the answer just handled was a measured success: its latency is recorded. */
  let lastWasOk = false;
  let lastAnswerAt = 0;
  const startedAt = performance.now();
  const cpuBefore: CpuTime | undefined = opts.pid ? cpuMs(opts.pid) : undefined;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon<LoadContext>(
      {
        url: opts.url,
        connections,
        pipelining: 1,
        timeout: 30,
        sampleInt: 100,
        duration: seconds + 60, // the real bound is the timer below; this one only backs it up
        requests: [
          {
            method: 'POST',
            path: opts.path,
            headers: opts.headers,
            setupRequest(request, context) {
              if (!draining && sent >= maxRequests) draining = true;
              const body = draining ? undefined : source.next(context);
              if (body === undefined) {
                if (!draining) {
                  dry = true;
                  draining = true;
                }
                context.measured = false;
                return { ...request, method: 'GET', path: DRAIN_PATH, headers: {}, body: '' };
              }
              sent++;
              context.measured = true;
              const extra = source.headers?.();
              return { ...request, body, ...(extra ? { headers: { ...request.headers, ...extra } } : {}) };
            },
            onResponse(status, body, context) {
              lastWasOk = false;
              if (!context.measured) return;
              answered++;
              lastAnswerAt = performance.now();
              if (source.check(status, body, context)) {
                ok++;
                lastWasOk = true;
              } else {
                failed++;
                firstFailure ??= `${status} ${body.slice(0, 300)}`;
              }
            },
          },
        ],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      // onResponse of the same answer ran just before this event.
      if (lastWasOk && recorded < latencies.length) latencies[recorded++] = responseTime;
    });
    const hardStop = startedAt + (seconds + 30) * 1000;
    const tick = setInterval(() => {
      const now = performance.now();
      if (now - startedAt >= seconds * 1000) draining = true;
      if ((draining && answered >= sent) || now > hardStop) {
        clearInterval(tick);
        instance.stop();
      }
    }, 5);
  });
  const cpuAfter = opts.pid ? cpuMs(opts.pid) : undefined;
  const elapsed = ((lastAnswerAt || performance.now()) - startedAt) / 1000;
  const sorted = latencies.slice(0, recorded).sort();
  let sum = 0;
  for (const x of sorted) sum += x;
  const perRequest = (pick: (c: CpuTime) => number) =>
    cpuBefore && cpuAfter && answered > 0 ? ((pick(cpuAfter) - pick(cpuBefore)) * 1000) / answered : undefined;
  return {
    connections,
    seconds: elapsed,
    requests: answered,
    ok,
    failed,
    unanswered: sent - answered,
    firstFailure,
    transportErrors: result.errors,
    poolRanDry: dry,
    rps: ok / elapsed,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
    mean: sorted.length ? sum / sorted.length : NaN,
    // The drain at the end (a cheap GET) is included, so these slightly overstate.
    cpuUsPerRequest: perRequest((c) => c.all),
    mainThreadUsPerRequest: perRequest((c) => c.main),
  };
}

export const describe = (r: RunResult): string =>
  `${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, ${r.cpuUsPerRequest?.toFixed(0) ?? '-'} µs CPU/req` +
  `${r.poolRanDry ? ' (pool ran dry: shorter run)' : ''}`;

/**
 * Refresh chains, as Alexa refreshes: every request presents the newest refresh token of its grant (the one the
 * previous answer for that grant returned), and that answer's new token goes to the back of the queue. The
 * connections take grants in turn from the queue, so a run walks across all the grants of the pool (the whole
 * store is exercised, not a few hot rows) and no two requests ever race on one grant.
 */
export interface RefreshChains extends Source {
  readonly size: number;
}

export function refreshChains(tokens: string[]): RefreshChains {
  let queue = tokens.slice();
  let head = 0;
  const inFlight = new Set<string>();
  return {
    next(context) {
      const token = queue[head];
      if (token === undefined) return undefined;
      head++;
      if (head > 100_000) {
        queue = queue.slice(head);
        head = 0;
      }
      context.token = token;
      inFlight.add(token);
      return form({ grant_type: 'refresh_token', refresh_token: token });
    },
    check(status, body, context) {
      if (context.token !== undefined) inFlight.delete(context.token);
      if (status !== 200) return false;
      let answer: { access_token?: unknown; refresh_token?: unknown };
      try {
        answer = JSON.parse(body) as typeof answer;
      } catch {
        return false;
      }
      // A success carries an access token and a new refresh token: one not rotated would end its chain unnoticed.
      if (typeof answer.access_token !== 'string' || typeof answer.refresh_token !== 'string') return false;
      if (answer.refresh_token === context.token) return false;
      queue.push(answer.refresh_token);
      return true;
    },
    settle() {
      for (const t of inFlight) queue.push(t);
      inFlight.clear();
    },
    get size() {
      return queue.length - head;
    },
  };
}

/** Code exchange: each request redeems a code issued at consent (with its PKCE verifier), once. */
export function codeExchanges(codes: CodeGrant[]): Source {
  let i = 0;
  return {
    next: () => {
      const grant = codes[i];
      if (grant === undefined) return undefined;
      i++;
      const { code, verifier } = grant;
      return form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier });
    },
    check: (status) => status === 200,
  };
}

/** Introspection of access tokens of settled grants, round robin. */
export function introspections(accessTokens: string[]): Source {
  let i = 0;
  return {
    next: () => {
      const token = accessTokens[i++ % accessTokens.length];
      return token === undefined ? undefined : form({ token, token_type_hint: 'access_token' });
    },
    check: (status, body) => status === 200 && body.includes('"active":true'),
  };
}

/** The same body every time. */
export function fixed(body: string, check: (status: number, body: string) => boolean, headers?: () => Record<string, string>): Source {
  return { next: () => body, check, headers };
}
