/**
 * The token endpoint as a pure function of the request's parameters and Authorization header: validate the
 * form, authenticate the client, dispatch on grant_type. HTTP concerns (parsing, headers, status) stay in http/.
 */
import { ClientConfig } from '../config/config';
import { untrusted } from '../log/untrusted';
import { BasicHeader } from './basic-auth';
import { ClientCredentials, ClientRegistry, readClientCredentials } from './client-auth';
import { InvalidRequest, UnsupportedGrantType, parameterTooLong, repeatedParameter } from './errors';
import { GrantDeps, IssuedTokens } from './grant-deps';
import { exchangeCode } from './grants/authorization-code';
import { refreshTokens } from './grants/refresh-token';

export type FormParams = Record<string, string | string[] | undefined>;

export interface TokenRequestInput {
  params: FormParams;
  /** The Authorization header, parsed once per request (basic-auth.ts). */
  basic: BasicHeader;
}

export interface TokenRequestContext {
  grantType?: string;
  clientId?: string;
  authScheme?: string;
}

/** A successful token request: the response, and what the trace records about how it was decided. */
export interface TokenResponse {
  issued: IssuedTokens;
  detail?: Record<string, unknown>;
}

/** Longest value we accept for any token-endpoint parameter; real ones are far shorter. */
const MAX_PARAM_LENGTH = 4096;

/** RFC 6749 §3.1: parameters must not repeat; values are bounded so hostile input stays cheap. */
export function singleParams(params: FormParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      throw repeatedParameter(name, value.length);
    }
    if (value.length > MAX_PARAM_LENGTH) {
      throw parameterTooLong(name, value.length, MAX_PARAM_LENGTH);
    }
    out[name] = value;
  }
  return out;
}

/** Parses the form and reads (not yet checks) the caller's credentials. */
export function readRequest(input: TokenRequestInput, context: TokenRequestContext): { credentials: ClientCredentials; params: Record<string, string> } {
  const params = singleParams(input.params);
  context.grantType = params.grant_type;
  const credentials = readClientCredentials(input.basic, params);
  context.clientId = credentials.clientId;
  context.authScheme = credentials.scheme;
  return { credentials, params };
}

/** Parses the form, identifies and authenticates the client: the common first phase of token, revoke, introspect. */
export function authenticateRequest(clients: ClientRegistry, input: TokenRequestInput, context: TokenRequestContext): { client: ClientConfig; params: Record<string, string> } {
  const { credentials, params } = readRequest(input, context);
  return { client: clients.authenticate(credentials), params };
}

/** Runs one token request; `context` is filled as far as the request got, for the flow trace. */
export function handleTokenRequest(deps: GrantDeps, clients: ClientRegistry, input: TokenRequestInput, context: TokenRequestContext): TokenResponse {
  // Authenticate first so an unknown client learns nothing about grant types or codes.
  const { client, params } = authenticateRequest(clients, input, context);
  const grantType = params.grant_type;
  if (grantType === undefined || grantType === '') {
    throw new InvalidRequest('grant_type is missing', { kind: 'grant_type_missing', facts: {}, debug: 'the token request has no grant_type' });
  }
  if (grantType === 'authorization_code') return { issued: exchangeCode(deps, client, params) };
  if (grantType === 'refresh_token') {
    const { issued, presented, behind } = refreshTokens(deps, client, params);
    return { issued, detail: { presented, ...(behind !== undefined ? { behind } : {}) } };
  }
  // The password and implicit grants are deliberately absent (RFC 9700 §2.1.2, §2.4).
  throw new UnsupportedGrantType(`grant_type ${untrusted(grantType, 64)} is not supported`, {
    kind: 'unsupported_grant_type',
    facts: { grantType },
    debug: `grant_type "${untrusted(grantType, 64)}" is not supported; only authorization_code and refresh_token are`,
  });
}
