/**
 * Validation of an authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 9700). client_id and redirect_uri are
 * checked first: while either is in doubt, nothing may be sent to the redirect URI (§4.1.2.1), so those
 * failures are shown on an error page. Everything after that is reported back to the client by redirect.
 */
import { ClientConfig } from '../config/config';
import { untrusted } from '../log/untrusted';
import { ClientRegistry } from './client-auth';
import { InvalidRequest, OAuthError, UnsupportedResponseType, parameterTooLong, repeatedParameter } from './errors';
import { isValidPkceValue } from './pkce';
import { closestRedirectUri, isRegisteredRedirectUri } from './redirect-uri';
import { parseScope, resolveScopes } from './scopes';

export interface ValidAuthorizeRequest {
  client: ClientConfig;
  redirectUri: string;
  redirectUriGiven: boolean;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
}

export type AuthorizeValidation =
  | { ok: true; request: ValidAuthorizeRequest }
  /** Cannot trust the redirect target: show an error page, never redirect. */
  | { ok: false; redirect: false; error: OAuthError }
  /** Report to the client at its verified redirect URI. */
  | { ok: false; redirect: true; error: OAuthError; redirectUri: string; state?: string };

export type QueryParams = Map<string, string[]>;

const MAX_STATE_LENGTH = 2048;

function single(params: QueryParams, name: string): string | undefined | OAuthError {
  const values = params.get(name);
  if (values === undefined) return undefined;
  if (values.length > 1) {
    return repeatedParameter(name, values.length);
  }
  return values[0];
}

export function validateAuthorizeRequest(params: QueryParams, clients: ClientRegistry): AuthorizeValidation {
  const page = (error: OAuthError): AuthorizeValidation => ({ ok: false, redirect: false, error });

  const clientId = single(params, 'client_id');
  if (clientId instanceof OAuthError) return page(clientId);
  if (clientId === undefined || clientId === '') {
    return page(
      new InvalidRequest('client_id is missing', {
        kind: 'client_id_missing',
        facts: {},
        debug: 'the authorization request has no client_id parameter; check the Authorization URI in the Alexa console',
      }),
    );
  }
  const client = clients.find(clientId);
  if (!client) {
    return page(
      new InvalidRequest(`unknown client "${untrusted(clientId, 128)}"`, {
        kind: 'unknown_client',
        facts: { clientId, configured: clients.ids() },
        debug: `client_id "${untrusted(clientId)}" is not configured (configured: ${clients.describeIds()}); the Client ID in the Alexa console must equal clients[].client_id exactly (case-sensitive)`,
      }),
    );
  }

  const given = single(params, 'redirect_uri');
  if (given instanceof OAuthError) return page(given);
  let redirectUri: string;
  if (given === undefined) {
    const [only, ...others] = client.redirectUris;
    if (only === undefined || others.length > 0) {
      return page(
        new InvalidRequest('redirect_uri is missing', {
          kind: 'redirect_uri_missing',
          facts: { registered: client.redirectUris },
          debug: `client "${client.clientId}" has ${client.redirectUris.length} registered redirect URIs, so the request must name one`,
        }),
      );
    }
    redirectUri = only;
  } else if (!isRegisteredRedirectUri(given, client.redirectUris)) {
    const closest = closestRedirectUri(given, client.redirectUris);
    return page(
      new InvalidRequest('redirect_uri is not registered for this client', {
        kind: 'redirect_uri_mismatch',
        facts: { asked: given, registered: client.redirectUris, ...(closest === undefined ? {} : { closest }) },
        debug: `redirect_uri "${untrusted(given)}" is not a registered redirect URI of ${client.clientId} (registered: ${client.redirectUris.join(', ')}${closest ? `; closest: ${closest}` : ''}); add it exactly under Configuration → clients → redirect_uris`,
      }),
    );
  } else {
    redirectUri = given;
  }

  const state = single(params, 'state');
  const back = (error: OAuthError): AuthorizeValidation => ({
    ok: false,
    redirect: true,
    error,
    redirectUri,
    state: typeof state === 'string' ? state.slice(0, MAX_STATE_LENGTH) : undefined,
  });
  if (state instanceof OAuthError) return back(state);
  if (state !== undefined && state.length > MAX_STATE_LENGTH) {
    return back(parameterTooLong('state', state.length, MAX_STATE_LENGTH));
  }

  for (const name of ['response_type', 'scope', 'code_challenge', 'code_challenge_method']) {
    const v = single(params, name);
    if (v instanceof OAuthError) return back(v);
  }
  const responseType = params.get('response_type')?.[0];
  if (responseType === undefined || responseType === '') {
    return back(
      new InvalidRequest('response_type is missing', {
        kind: 'response_type_missing',
        facts: {},
        debug: 'the authorization request has no response_type; it must be "code"',
      }),
    );
  }
  if (responseType !== 'code') {
    return back(
      new UnsupportedResponseType('only response_type=code is supported', {
        kind: 'unsupported_response_type',
        facts: { responseType },
        debug: `response_type "${untrusted(responseType, 64)}" is not supported; in the Alexa console choose "Auth Code Grant"`,
      }),
    );
  }

  let scopes: string[];
  try {
    scopes = resolveScopes(parseScope(params.get('scope')?.[0]), client.scopes, client.clientId);
  } catch (err) {
    return back(err as OAuthError);
  }

  const challenge = params.get('code_challenge')?.[0];
  const method = params.get('code_challenge_method')?.[0];
  if (challenge === undefined || challenge === '') {
    if (method !== undefined) {
      return back(
        new InvalidRequest('code_challenge_method without code_challenge', {
          kind: 'pkce_malformed',
          facts: { methodWithoutChallenge: true },
          debug: 'code_challenge_method was sent without code_challenge',
        }),
      );
    }
    if (client.clientType === 'public') {
      return back(
        new InvalidRequest('PKCE is required for this client', {
          kind: 'pkce_missing',
          facts: {},
          debug: `client "${client.clientId}" is public, so it must send code_challenge with code_challenge_method=S256 (RFC 7636)`,
        }),
      );
    }
  } else {
    if (method !== 'S256') {
      return back(
        new InvalidRequest('code_challenge_method must be S256', {
          kind: 'pkce_method',
          facts: method === undefined ? {} : { method },
          debug: `code_challenge_method is ${method === undefined ? 'absent (meaning plain)' : `"${untrusted(method, 32)}"`}; only S256 is accepted (RFC 9700 §2.1.1)`,
        }),
      );
    }
    if (!isValidPkceValue(challenge)) {
      return back(
        new InvalidRequest('code_challenge is malformed', {
          kind: 'pkce_malformed',
          facts: { challengeLength: challenge.length },
          debug: 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~] (base64url of SHA-256 is 43)',
        }),
      );
    }
  }

  return {
    ok: true,
    request: {
      client,
      redirectUri,
      redirectUriGiven: given !== undefined,
      scopes,
      state,
      codeChallenge: challenge === '' ? undefined : challenge,
    },
  };
}
