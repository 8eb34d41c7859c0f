/**
 * RFC 7009 revocation and RFC 7662 introspection. Both take a token of either kind; both answer the same way for
 * unknown and foreign tokens, so probing them reveals nothing.
 */
import { ClientConfig } from '../config/config';
import { tokenKey } from '../crypto/tokens';
import { ActiveToken, lookupToken } from './access-tokens';
import { InvalidRequest } from './errors';
import { GrantDeps, revokeGrantIn } from './grant-deps';

export function requireToken(params: Record<string, string>): string {
  const token = params.token;
  if (token === undefined || token === '')
    throw new InvalidRequest('token is missing', { kind: 'token_missing', facts: {}, debug: 'the request has no token parameter' });
  return token;
}

export interface RevocationResult {
  revoked: 'grant' | 'access_token' | 'nothing';
  grantId?: string;
}

/** A refresh token ends its whole grant; an access token only itself. Foreign or unknown tokens: nothing, still 200. */
export function revokeToken(deps: GrantDeps, client: ClientConfig, token: string): RevocationResult {
  const lookup = lookupToken(deps, token);
  if (!lookup.active || lookup.found.grant.clientId !== client.clientId) return { revoked: 'nothing' };
  const { token: record, grant } = lookup.found;
  if (record.kind === 'refresh') {
    deps.storage.transaction((tx) => revokeGrantIn(deps, tx, grant.id, `refresh token revoked by ${client.clientId} (RFC 7009)`));
    return { revoked: 'grant', grantId: grant.id };
  }
  deps.storage.transaction((tx) => tx.tokens.remove(tokenKey(token)));
  return { revoked: 'access_token', grantId: grant.id };
}

/** A resource server may introspect every token; a confidential client only those issued to it. */
export type IntrospectionCaller = { kind: 'client'; client: ClientConfig } | { kind: 'resource_server'; id: string };

export type IntrospectionResponse =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id: string;
      username: string;
      sub: string;
      token_type: 'Bearer' | 'refresh_token';
      exp: number;
      iat: number;
      iss: string;
    };

export function introspectToken(
  deps: GrantDeps,
  caller: IntrospectionCaller,
  token: string,
  issuer: string,
): { response: IntrospectionResponse; found?: ActiveToken; reason?: string } {
  const lookup = lookupToken(deps, token);
  if (!lookup.active) return { response: { active: false }, reason: lookup.reason };
  const { token: record, grant } = lookup.found;
  if (caller.kind === 'client' && grant.clientId !== caller.client.clientId) {
    return { response: { active: false }, reason: `token belongs to ${grant.clientId}, not ${caller.client.clientId}` };
  }
  return {
    found: lookup.found,
    response: {
      active: true,
      scope: record.scopes.join(' '),
      client_id: grant.clientId,
      username: grant.username,
      sub: grant.username,
      token_type: record.kind === 'access' ? 'Bearer' : 'refresh_token',
      exp: Math.floor(record.expiresAt / 1000),
      iat: Math.floor(record.issuedAt / 1000),
      iss: issuer,
    },
  };
}
