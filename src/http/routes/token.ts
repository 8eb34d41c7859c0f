/** POST /alexa/token: HTTP <-> oauth/token-endpoint. Every outcome is one flow-trace entry. */
import express, { Router } from 'express';
import { InvalidRequest, OAuthError, TemporarilyUnavailable } from '../../oauth/errors';
import { TokenRequestContext, handleTokenRequest } from '../../oauth/token-endpoint';
import { HttpDeps } from '../deps';
import { sendOAuthError, SECURITY_KINDS } from '../oauth-responses';

export function tokenRoutes(deps: HttpDeps, tokenLimiter: express.RequestHandler): Router {
  const router = Router();
  router.post('/alexa/token', tokenLimiter, express.urlencoded({ extended: false, limit: '16kb', parameterLimit: 32 }), async (req, res) => {
    const started = process.hrtime.bigint();
    const context: TokenRequestContext = {};
    const params = (req.body ?? {}) as Record<string, string | string[]>;
    const trace = {
      requestId: res.locals.requestId,
      step: 'token' as const,
      ip: req.ip,
      redirectUri: typeof params.redirect_uri === 'string' ? params.redirect_uri : undefined,
    };
    try {
      if (!req.is('application/x-www-form-urlencoded')) {
        throw new InvalidRequest(
          'the request body must be application/x-www-form-urlencoded',
          `Content-Type was ${JSON.stringify(req.get('content-type')?.slice(0, 100) ?? '(none)')}; RFC 6749 §4.1.3 requires a form body`,
          'content_type',
        );
      }
      const issued = await handleTokenRequest(deps.grants, deps.clients, { params, authorization: req.get('authorization') }, context);
      res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' }).json(issued.body);
      deps.trace.record({
        ...trace,
        outcome: 'ok',
        clientId: context.clientId,
        grantType: context.grantType,
        grantId: issued.grantId,
        username: issued.username,
        detail: { authScheme: context.authScheme, accessToken: issued.fingerprints.access, refreshToken: issued.fingerprints.refresh, ms: msSince(started) },
      });
    } catch (err) {
      const error = err instanceof OAuthError ? err : storeFailure(err);
      if (!(err instanceof OAuthError)) deps.log.error('token request failed on a store error', { requestId: trace.requestId, error: String(err) });
      sendOAuthError(res, error);
      deps.trace.record({
        ...trace,
        outcome: SECURITY_KINDS.has(error.kind) ? 'security' : 'error',
        clientId: context.clientId,
        grantType: context.grantType,
        error: error.code,
        kind: error.kind,
        cause: error.cause,
        detail: { authScheme: context.authScheme, status: error.status, ms: msSince(started) },
      });
    }
  });
  return router;
}

function storeFailure(err: unknown): OAuthError {
  return new TemporarilyUnavailable(
    'the server cannot reach its database right now; retry shortly',
    `database error: ${err instanceof Error ? err.message : String(err)}; see /health`,
    'store_unavailable',
  );
}

function msSince(start: bigint): number {
  return Number((process.hrtime.bigint() - start) / 1000n) / 1000;
}
