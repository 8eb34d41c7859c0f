/** Times every request of the public app for the metrics (GET /metrics on the admin listener). */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Metrics } from '../ops/metrics';

export function requestTiming(metrics: Pick<Metrics, 'observeRequest'>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => metrics.observeRequest(req.path, res.statusCode, Number(process.hrtime.bigint() - started) / 1e9));
    next();
  };
}
