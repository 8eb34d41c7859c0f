/**
 * The token endpoint as a pure function of the request's parameters and Authorization header: validate the
 * form, authenticate the client, dispatch on grant_type. HTTP concerns (parsing, headers, status) stay in http/.
 * Each request returns its outcome with what was learnt about it on the way (grant type, client, scheme), so
 * the flow trace names them however far the request got.
 */
import { untrusted } from '../log/untrusted';
import { BasicHeader } from './basic-auth';
import { tokenHash } from '../crypto/tokens';
import { isStoreError } from '../store/faults';
import { lookupToken } from './access-tokens';
import { AuthScheme, CarriedGrant, ClientCredentials, ClientRegistry, clientAuthMissing, readClientCredentials } from './client-auth';
import { InvalidRequest, OAuthError, UnsupportedGrantType, parameterTooLong, repeatedParameter } from './errors';
import { GrantDeps, IssuedTokens } from './grant-deps';
import { codeExpired, exchangeCode } from './grants/authorization-code';
import { refreshTokens } from './grants/refresh-token';

export type FormParams = Record<string, string | string[] | undefined>;

export interface TokenRequestInput {
  params: FormParams;
  /** The Authorization header, parsed once per request (basic-auth.ts). */
  basic: BasicHeader;
}

/** What a token, revocation or introspection request was learnt to be, as far as it got: for the flow trace. */
export interface TokenRequestFacts {
  grantType?: string;
  clientId?: string;
  authScheme?: AuthScheme;
}

/** A request's parameters (each once) and the credentials it carries, not yet checked. */
export interface ReadRequest {
  params: Record<string, string>;
  credentials: ClientCredentials;
}

/** How a request ended: its result, or what stopped it (an OAuthError, or a database failure), with what was learnt either way. */
export type TokenOutcome<T> = { request: TokenRequestFacts } & ({ ok: true; result: T } | { ok: false; error: unknown });

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

/**
 * Runs a token, revocation or introspection request: parses the form, reads the caller's credentials, then
 * `handle` (which authenticates them as its endpoint requires). What any step throws is the outcome's error.
 */
export function runTokenRequest<T>(input: TokenRequestInput, handle: (request: ReadRequest) => T): TokenOutcome<T> {
  let request: TokenRequestFacts = {};
  try {
    const params = singleParams(input.params);
    request = { grantType: params.grant_type };
    const credentials = readClientCredentials(input.basic, params);
    request = { ...request, clientId: credentials.clientId, authScheme: credentials.scheme };
    return { request, ok: true, result: handle({ params, credentials }) };
  } catch (error) {
    return { request: clientLearnt(request, error), ok: false, error };
  }
}

/**
 * A request that lost its client credentials is about the client whose live code or refresh token it held
 * (client_credentials_removed): the trace files it under that client, with its scheme still `none`.
 */
function clientLearnt(request: TokenRequestFacts, error: unknown): TokenRequestFacts {
  if (!(error instanceof OAuthError) || error.failure.kind !== 'client_credentials_removed') return request;
  return { ...request, clientId: error.failure.facts.clientId };
}

/** The token endpoint's work on a read request (RFC 6749 §3.2): authenticate the client, then dispatch on grant_type. */
export function handleTokenRequest(deps: GrantDeps, clients: ClientRegistry, { params, credentials }: ReadRequest): TokenResponse {
  // Authenticate first so an unknown client learns nothing about grant types or codes.
  if (credentials.clientId === undefined) throw clientAuthMissing(carriedGrant(deps, clients, params));
  const client = clients.authenticate(credentials);
  const grantType = params.grant_type;
  if (grantType === undefined || grantType === '') {
    throw new InvalidRequest('grant_type is missing', {
      kind: 'grant_type_missing',
      facts: {},
      debug: 'the token request has no grant_type',
    });
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

/**
 * The live code or refresh token of a configured client that a request without client credentials carries, if it
 * does: normally only that client holds one, so most likely its credentials were removed on the way (a reverse proxy
 * dropping the Authorization header, the old guide's "works locally, fails through the proxy"). Only a confidential
 * client's: a public one sends no secret to lose. Read only; the answer is the same invalid_client either way, so it tells the
 * sender nothing. A store that cannot answer just leaves it unsaid.
 */
function carriedGrant(deps: GrantDeps, clients: ClientRegistry, params: Record<string, string>): CarriedGrant | undefined {
  try {
    const { grant_type: grantType, code, refresh_token: refreshToken } = params;
    if (grantType === 'authorization_code' && code) {
      const record = deps.storage.read((tx) => tx.codes.find(tokenHash(code)));
      const live = record && record.consumedAt === undefined && !codeExpired(record, deps.now());
      return live && holdsSecret(clients, record.clientId) ? { carried: 'code', clientId: record.clientId } : undefined;
    }
    if (grantType === 'refresh_token' && refreshToken) {
      const lookup = lookupToken(deps, refreshToken);
      if (!lookup.active || lookup.found.token.kind !== 'refresh') return undefined;
      const { clientId } = lookup.found.grant;
      return holdsSecret(clients, clientId) ? { carried: 'refresh_token', clientId } : undefined;
    }
    return undefined;
  } catch (err) {
    if (isStoreError(err)) return undefined;
    throw err;
  }
}

const holdsSecret = (clients: ClientRegistry, clientId: string): boolean => clients.find(clientId)?.clientType === 'confidential';
