/**
 * The shape shared by the token, revocation and introspection endpoints: a urlencoded POST answered with JSON,
 * Cache-Control: no-store, RFC 6749 §5.2 errors, a database failure as 503 (never as invalid_grant, which would
 * make Alexa unlink), and one flow-trace entry per request.
 */
import express, { Request, RequestHandler, Response } from 'express';
import { FlowEvent, FlowStep } from '../log/flow-trace';
import { InvalidRequest, OAuthError, TemporarilyUnavailable } from '../oauth/errors';
import { TokenRequestContext, TokenRequestInput } from '../oauth/token-endpoint';
import { HttpDeps } from './deps';
import { SECURITY_KINDS, sendOAuthError } from './oauth-responses';

export interface FormEndpointResult {
  body: unknown;
  trace?: Partial<FlowEvent>;
}

export type FormHandler = (input: TokenRequestInput, context: TokenRequestContext, req: Request) => Promise<FormEndpointResult>;

export const formBody = express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 });

export function formEndpoint(deps: HttpDeps, step: FlowStep, limiter: RequestHandler, handle: FormHandler): RequestHandler[] {
  const run: RequestHandler = async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const context: TokenRequestContext = {};
    const params = (req.body ?? {}) as Record<string, string | string[]>;
    const base = {
      requestId: res.locals.requestId,
      step,
      ip: req.ip,
      redirectUri: typeof params.redirect_uri === 'string' ? params.redirect_uri.slice(0, 2048) : undefined,
    };
    const elapsed = () => Number((process.hrtime.bigint() - started) / 1000n) / 1000;
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new InvalidRequest(
          'the request body must be application/x-www-form-urlencoded',
          `Content-Type was ${JSON.stringify(req.get('content-type')?.slice(0, 100) ?? '(none)')}; OAuth endpoints take a form body`,
          'content_type',
        );
      }
      const result = await handle({ params, authorization: req.get('authorization') }, context, req);
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(result.body);
      deps.trace.record({
        ...base,
        outcome: 'ok',
        clientId: context.clientId,
        grantType: context.grantType,
        ...result.trace,
        detail: { authScheme: context.authScheme, ms: elapsed(), ...result.trace?.detail },
      });
    } catch (err) {
      const error = err instanceof OAuthError ? err : storeFailure(err);
      if (!(err instanceof OAuthError)) deps.log.error(`${step} request failed on a store error`, { requestId: base.requestId, error: String(err) });
      sendOAuthError(res, error);
      deps.trace.record({
        ...base,
        outcome: SECURITY_KINDS.has(error.kind) ? 'security' : 'error',
        clientId: context.clientId,
        grantType: context.grantType,
        error: error.code,
        kind: error.kind,
        cause: error.cause,
        detail: { authScheme: context.authScheme, status: error.status, ms: elapsed() },
      });
    }
  };
  return [limiter, formBody, run];
}

function storeFailure(err: unknown): OAuthError {
  return new TemporarilyUnavailable(
    'the server cannot reach its database right now; retry shortly',
    `database error: ${err instanceof Error ? err.message : String(err)}; see /health`,
    'store_unavailable',
  );
}
