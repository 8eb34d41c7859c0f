/**
 * Times every request of the public app for the metrics (GET /metrics on the admin listener): from when its locals
 * were made (request-context.ts) to when Node reports its response finished on the `http.server.response.finish`
 * diagnostics channel, which Node publishes to only while someone subscribes. A 'finish' listener added to every
 * response cost an introspection about 3 µs of CPU on the bench (docs/benchmark.md).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Express, Request, Response } from 'express';
import type { Metrics } from '../ops/metrics';

const RESPONSE_FINISHED = 'http.server.response.finish';

/** Starts timing the requests `app` answers; returns what stops it. */
export function timeRequests(app: Express, metrics: Pick<Metrics, 'observeRequest'>): () => void {
  const finished = (message: unknown): void => {
    const { request, response } = message as { request: Partial<Request>; response: Partial<Response> };
    // Every HTTP server of the process publishes here: only this app's requests (Express gave them its prototype).
    if (request.app !== app || response.locals?.receivedNs === undefined) return;
    try {
      const path = request.path;
      if (path !== undefined)
        metrics.observeRequest(path, response.statusCode ?? 0, Number(process.hrtime.bigint() - response.locals.receivedNs) / 1e9);
    } catch {
      // A subscriber's exception would be rethrown on its own and end the process: a metric is not worth that.
    }
  };
  subscribe(RESPONSE_FINISHED, finished);
  return () => unsubscribe(RESPONSE_FINISHED, finished);
}
