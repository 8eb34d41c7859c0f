/** RFC 8414 authorization server metadata: what a standards-following client discovers instead of being told. */
import { ClientConfig } from '../config/config';

export const ALEXA_PATHS = {
  authorize: '/alexa/authorize',
  token: '/alexa/token',
  revoke: '/alexa/revoke',
  introspect: '/alexa/introspect',
} as const;

export function authorizationServerMetadata(issuer: string, clients: ClientConfig[]) {
  const scopes = [...new Set(clients.flatMap((c) => c.scopes))];
  return {
    issuer,
    authorization_endpoint: `${issuer}${ALEXA_PATHS.authorize}`,
    token_endpoint: `${issuer}${ALEXA_PATHS.token}`,
    revocation_endpoint: `${issuer}${ALEXA_PATHS.revoke}`,
    introspection_endpoint: `${issuer}${ALEXA_PATHS.introspect}`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    scopes_supported: scopes,
    authorization_response_iss_parameter_supported: true,
  };
}
