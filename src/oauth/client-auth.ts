/**
 * Client identification and authentication at the token endpoint (RFC 6749 §2.3). Alexa sends credentials either
 * as HTTP Basic or as client_id/client_secret in the form body, whichever the skill owner chose: both are accepted.
 */
import { ClientConfig, ResourceServerConfig } from '../config/config';
import { untrusted } from '../log/untrusted';
import { BasicHeader, MAX_AUTHORIZATION_LENGTH, MalformedReason, namedClientId } from './basic-auth';
import { InvalidClient, InvalidRequest } from './errors';
import { AuthScheme, FailureFacts } from './failures';
import { SecretDigest, fingerprint, matchesSecret, secretDigest } from '../crypto/tokens';

export type { AuthScheme } from './failures';

export interface ClientCredentials {
  scheme: AuthScheme;
  clientId?: string;
  clientSecret?: string;
  /** The undecoded Basic values, for clients that skip the form-encoding RFC 6749 §2.3.1 asks for. */
  rawSecret?: string;
}

const MALFORMED: Record<MalformedReason, string> = {
  too_long: `it is longer than ${MAX_AUTHORIZATION_LENGTH} characters`,
  not_basic: 'it does not start with a scheme name such as Basic',
  not_base64: 'the Basic credentials are not base64',
  no_colon: 'the Basic credentials have no ":" between client id and secret',
};

/** The live code or refresh token a request without client credentials held (see FailureFacts). */
export type CarriedGrant = FailureFacts['client_credentials_removed'];

/**
 * invalid_client for a request with no client credentials at all. With `carried`, the request held a live code or
 * refresh token of that client: most likely its credentials were sent and removed on the way, which the operator
 * is told; the client is answered the same either way.
 */
export function clientAuthMissing(carried?: CarriedGrant): InvalidClient {
  const none = 'the request carried neither an Authorization: Basic header nor client_id in the body';
  if (!carried) return new InvalidClient('client authentication required', { kind: 'client_auth_missing', facts: {}, debug: none });
  const what = carried.carried === 'code' ? 'authorization code' : 'refresh token';
  return new InvalidClient('client authentication required', {
    kind: 'client_credentials_removed',
    facts: carried,
    debug: `${none}, but a live ${what} of client "${carried.clientId}": most likely the client sent its credentials and something on the way removed them, a reverse proxy or tunnel that drops the Authorization header; make it pass the header on unchanged, or choose "Credentials in request body" as the Authentication Scheme in the Alexa console (anyone else holding a copy of the ${what} is refused the same way)`,
  });
}

/**
 * Names what is wrong with a refused Authorization header for the operator without echoing any of its value: a
 * client that sends its raw secret or bare base64 credentials must not find a piece of it in the log.
 */
export function describeMalformed(facts: FailureFacts['client_auth_malformed']): string {
  if (facts.reason === 'not_basic' && facts.scheme) return `it uses the ${facts.scheme} scheme`;
  return MALFORMED[facts.reason];
}

/**
 * Reads credentials from the (already parsed) Authorization header and/or the body, refusing two methods at once.
 * The client id is namedClientId's answer, the same one the per-client rate limit counts failures against.
 */
export function readClientCredentials(basic: BasicHeader, body: { client_id?: string; client_secret?: string }): ClientCredentials {
  if (basic.form === 'malformed') {
    const facts = { reason: basic.reason, ...(basic.scheme === undefined ? {} : { scheme: basic.scheme }) };
    throw new InvalidClient('client authentication failed', {
      kind: 'client_auth_malformed',
      facts,
      debug:
        basic.reason === 'no_colon'
          ? describeMalformed(facts)
          : `the Authorization header is not "Basic <base64>" (${describeMalformed(facts)}); use HTTP Basic or put client_id and client_secret in the body`,
    });
  }
  const clientId = namedClientId(basic, body.client_id);
  if (basic.form === 'basic') {
    if (body.client_secret !== undefined) {
      throw new InvalidRequest('client credentials were sent both in the Authorization header and in the body', {
        kind: 'client_auth_multiple',
        facts: {},
        debug: 'the request used HTTP Basic and also carried client_secret in the body; RFC 6749 §2.3 allows one method per request',
      });
    }
    if (body.client_id !== undefined && body.client_id !== clientId) {
      throw new InvalidRequest('client_id in the body differs from the authenticated client', {
        kind: 'client_id_conflict',
        facts: { basic: basic.clientId, body: body.client_id },
        debug: `body client_id "${untrusted(body.client_id)}" differs from Basic client id "${untrusted(clientId)}"`,
      });
    }
    return { scheme: 'basic', clientId, clientSecret: basic.clientSecret, rawSecret: basic.rawSecret };
  }
  if (clientId !== undefined) {
    return { scheme: body.client_secret !== undefined ? 'body' : 'none', clientId, clientSecret: body.client_secret };
  }
  return { scheme: 'none' };
}

/** How a secret was sent, in the words of the Alexa console (a confidential client's secret came by Basic or in the body). */
export function schemeWords(scheme: AuthScheme): string {
  return scheme === 'basic' ? 'HTTP Basic' : 'credentials in request body';
}

/** A configured secret and what a request may present for it: decoded from Basic as RFC 6749 asks, or left raw. */
function presentsSecret(creds: ClientCredentials, expected: SecretDigest): boolean {
  return (
    (creds.clientSecret !== undefined && matchesSecret(creds.clientSecret, expected)) ||
    (creds.rawSecret !== undefined && matchesSecret(creds.rawSecret, expected))
  );
}

export class ClientRegistry {
  /** Each client with its secret hashed once: a request's secret is then the only one hashed. */
  private readonly byId: Map<string, { client: ClientConfig; secret: SecretDigest }>;

  constructor(readonly clients: ClientConfig[]) {
    this.byId = new Map(clients.map((client) => [client.clientId, { client, secret: secretDigest(client.clientSecret ?? '') }]));
  }

  find(clientId: string): ClientConfig | undefined {
    return this.byId.get(clientId)?.client;
  }

  ids(): string[] {
    return this.clients.map((c) => c.clientId);
  }

  describeIds(): string {
    return this.ids().join(', ') || '(none)';
  }

  /** Identifies and authenticates the client, or throws invalid_client with the exact reason for the operator. */
  authenticate(creds: ClientCredentials): ClientConfig {
    if (creds.clientId === undefined) throw clientAuthMissing();
    const entry = this.byId.get(creds.clientId);
    if (!entry) {
      throw new InvalidClient('unknown client', {
        kind: 'unknown_client',
        facts: { clientId: creds.clientId, configured: this.ids() },
        debug: `client_id "${untrusted(creds.clientId)}" is not configured (configured: ${this.describeIds()}); the Client ID in the Alexa console must equal clients[].client_id exactly (case-sensitive)`,
      });
    }
    const client = entry.client;
    if (client.clientType === 'public') {
      if (creds.clientSecret !== undefined && creds.clientSecret !== '') {
        throw new InvalidClient('client authentication failed', {
          kind: 'public_client_secret',
          facts: { clientId: client.clientId, scheme: creds.scheme },
          debug: `client "${client.clientId}" is public but the request carried a secret (${creds.scheme}); Alexa always sends a secret, so set client_type to confidential and client_secret to the secret from the Alexa console`,
        });
      }
      return client;
    }
    if (creds.clientSecret === undefined || creds.scheme === 'none') {
      throw new InvalidClient('client authentication required', {
        kind: 'client_secret_missing',
        facts: { clientId: client.clientId },
        debug: `client "${client.clientId}" is confidential but the request carried no client_secret (only client_id in the body); in the Alexa console set "Your Secret" and either authentication scheme`,
      });
    }
    if (!presentsSecret(creds, entry.secret)) {
      const facts = {
        clientId: client.clientId,
        received: fingerprint(creds.clientSecret),
        configured: fingerprint(client.clientSecret),
        scheme: creds.scheme,
      };
      throw new InvalidClient('client authentication failed', {
        kind: 'client_secret_mismatch',
        facts,
        debug: `client_secret for "${client.clientId}" does not match the configured one (received ${facts.received}, configured ${facts.configured}, scheme ${schemeWords(creds.scheme)}); copy clients[].client_secret into "Your Secret" in the Alexa console`,
      });
    }
    return client;
  }
}

/** The resource_servers credentials (RFC 7662 callers), each secret hashed once. */
export class ResourceServerRegistry {
  private readonly byId = new Map<string, { server: ResourceServerConfig; secret: SecretDigest }>();

  constructor(servers: ResourceServerConfig[]) {
    // The first of a repeated id counts, as the options list them.
    for (const server of servers) if (!this.byId.has(server.id)) this.byId.set(server.id, { server, secret: secretDigest(server.secret) });
  }

  /** The resource server named by the credentials, authenticated; undefined when the id is not a resource server's. */
  authenticate(creds: ClientCredentials): ResourceServerConfig | undefined {
    const entry = creds.clientId === undefined ? undefined : this.byId.get(creds.clientId);
    if (!entry) return undefined;
    const { server } = entry;
    if (creds.scheme === 'none' || !presentsSecret(creds, entry.secret)) {
      const received = fingerprint(creds.clientSecret);
      throw new InvalidClient('client authentication failed', {
        kind: 'resource_server_secret_mismatch',
        facts: { resourceServer: server.id, received },
        debug: `resource server "${server.id}" presented a wrong or no secret (received ${received}); copy resource_servers[].secret into its configuration`,
      });
    }
    return server;
  }
}
