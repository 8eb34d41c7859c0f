/** POST /alexa/token, /alexa/revoke and /alexa/introspect: HTTP <-> the oauth/ handlers. */
import type { RequestHandler } from 'express';
import { InvalidClient } from '../../oauth/errors';
import { handleTokenRequest, runTokenRequest } from '../../oauth/token-endpoint';
import { IntrospectionCaller, introspectToken, requireToken, revokeToken } from '../../oauth/token-management';
import { Config } from '../../config/config';
import { GrantDeps } from '../../oauth/grant-deps';
import { ClientRegistry, ResourceServerRegistry } from '../../oauth/client-auth';
import { FormEndpointDeps, FormLimiters, formEndpoint } from '../form-endpoint';
import { issuerFor } from '../request-context';

export interface TokenRouteDeps extends FormEndpointDeps {
  grants: GrantDeps;
  clients: ClientRegistry;
  config: Pick<Config, 'publicUrl' | 'resourceServers'>;
}

/** The token endpoints' POST routes, path -> handlers (app.ts serves them with and without Express's router). */
export function createTokenRoutes(deps: TokenRouteDeps, limiters: FormLimiters): Map<string, RequestHandler[]> {
  const routes = new Map<string, RequestHandler[]>();
  const { grants, clients } = deps;
  const resourceServers = new ResourceServerRegistry(deps.config.resourceServers);

  routes.set(
    '/alexa/token',
    formEndpoint(deps, 'token', limiters, (input) =>
      runTokenRequest(input, (request) => {
        const { issued, detail } = handleTokenRequest(grants, clients, request);
        return {
          body: issued.body,
          trace: {
            grantId: issued.grantId,
            username: issued.username,
            detail: { accessToken: issued.fingerprints.access, refreshToken: issued.fingerprints.refresh, ...detail },
          },
        };
      }),
    ),
  );

  routes.set(
    '/alexa/revoke',
    formEndpoint(deps, 'revoke', limiters, (input) =>
      runTokenRequest(input, ({ params, credentials }) => {
        const client = clients.authenticate(credentials);
        const result = revokeToken(grants, client, requireToken(params));
        // RFC 7009 §2.2: 200 whether or not the token was known, so revocation cannot probe for valid tokens.
        return {
          body: {},
          provesPossession: result.revoked !== 'nothing',
          trace: { grantId: result.grantId, detail: { revoked: result.revoked } },
        };
      }),
    ),
  );

  routes.set(
    '/alexa/introspect',
    formEndpoint(deps, 'introspect', limiters, (input, req) =>
      runTokenRequest(input, ({ params, credentials }) => {
        const resourceServer = resourceServers.authenticate(credentials);
        let caller: IntrospectionCaller;
        if (resourceServer) {
          caller = { kind: 'resource_server', id: resourceServer.id };
        } else {
          const client = clients.authenticate(credentials);
          if (client.clientType !== 'confidential') {
            throw new InvalidClient('client authentication required', {
              kind: 'introspect_public_client',
              facts: { clientId: client.clientId },
              debug: `public client "${client.clientId}" cannot introspect: use a resource_servers credential or a confidential client`,
            });
          }
          caller = { kind: 'client', client };
        }
        const result = introspectToken(grants, caller, requireToken(params), issuerFor(req, deps.config));
        return {
          body: result.response,
          provesPossession: result.response.active,
          trace: {
            grantId: result.found?.grant.id,
            username: result.found?.grant.username,
            detail: { active: result.response.active, reason: result.reason },
          },
        };
      }),
    ),
  );

  return routes;
}
