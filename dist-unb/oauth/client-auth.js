"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ClientRegistry = void 0;
exports.describeMalformed = describeMalformed;
exports.readClientCredentials = readClientCredentials;
exports.schemeWords = schemeWords;
exports.authenticateResourceServer = authenticateResourceServer;
const untrusted_1 = require("../log/untrusted");
const basic_auth_1 = require("./basic-auth");
const errors_1 = require("./errors");
const tokens_1 = require("../crypto/tokens");
const MALFORMED = {
    too_long: `it is longer than ${basic_auth_1.MAX_AUTHORIZATION_LENGTH} characters`,
    not_basic: 'it does not start with a scheme name such as Basic',
    not_base64: 'the Basic credentials are not base64',
    no_colon: 'the Basic credentials have no ":" between client id and secret',
};
/**
 * Names what is wrong with a refused Authorization header for the operator without echoing any of its value: a
 * client that sends its raw secret or bare base64 credentials must not find a piece of it in the log.
 */
function describeMalformed(facts) {
    if (facts.reason === 'not_basic' && facts.scheme)
        return `it uses the ${facts.scheme} scheme`;
    return MALFORMED[facts.reason];
}
/**
 * Reads credentials from the (already parsed) Authorization header and/or the body, refusing two methods at once.
 * The client id is namedClientId's answer, the same one the per-client rate limit counts failures against.
 */
function readClientCredentials(basic, body) {
    if (basic.form === 'malformed') {
        const facts = { reason: basic.reason, ...(basic.scheme === undefined ? {} : { scheme: basic.scheme }) };
        throw new errors_1.InvalidClient('client authentication failed', {
            kind: 'client_auth_malformed',
            facts,
            debug: basic.reason === 'no_colon'
                ? describeMalformed(facts)
                : `the Authorization header is not "Basic <base64>" (${describeMalformed(facts)}); use HTTP Basic or put client_id and client_secret in the body`,
        });
    }
    const clientId = (0, basic_auth_1.namedClientId)(basic, body.client_id);
    if (basic.form === 'basic') {
        if (body.client_secret !== undefined) {
            throw new errors_1.InvalidRequest('client credentials were sent both in the Authorization header and in the body', {
                kind: 'client_auth_multiple',
                facts: {},
                debug: 'the request used HTTP Basic and also carried client_secret in the body; RFC 6749 §2.3 allows one method per request',
            });
        }
        if (body.client_id !== undefined && body.client_id !== clientId) {
            throw new errors_1.InvalidRequest('client_id in the body differs from the authenticated client', {
                kind: 'client_id_conflict',
                facts: { basic: basic.clientId, body: body.client_id },
                debug: `body client_id "${(0, untrusted_1.untrusted)(body.client_id)}" differs from Basic client id "${(0, untrusted_1.untrusted)(clientId)}"`,
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
function schemeWords(scheme) {
    return scheme === 'basic' ? 'HTTP Basic' : 'credentials in request body';
}
class ClientRegistry {
    clients;
    byId;
    constructor(clients) {
        this.clients = clients;
        this.byId = new Map(clients.map((c) => [c.clientId, c]));
    }
    find(clientId) {
        return this.byId.get(clientId);
    }
    ids() {
        return this.clients.map((c) => c.clientId);
    }
    describeIds() {
        return this.ids().join(', ') || '(none)';
    }
    /** Identifies and authenticates the client, or throws invalid_client with the exact reason for the operator. */
    authenticate(creds) {
        if (creds.clientId === undefined) {
            throw new errors_1.InvalidClient('client authentication required', {
                kind: 'client_auth_missing',
                facts: {},
                debug: 'the request carried neither an Authorization: Basic header nor client_id in the body',
            });
        }
        const client = this.find(creds.clientId);
        if (!client) {
            throw new errors_1.InvalidClient('unknown client', {
                kind: 'unknown_client',
                facts: { clientId: creds.clientId, configured: this.ids() },
                debug: `client_id "${(0, untrusted_1.untrusted)(creds.clientId)}" is not configured (configured: ${this.describeIds()}); the Client ID in the Alexa console must equal clients[].client_id exactly (case-sensitive)`,
            });
        }
        if (client.clientType === 'public') {
            if (creds.clientSecret !== undefined && creds.clientSecret !== '') {
                throw new errors_1.InvalidClient('client authentication failed', {
                    kind: 'public_client_secret',
                    facts: { clientId: client.clientId, scheme: creds.scheme },
                    debug: `client "${client.clientId}" is public but the request carried a secret (${creds.scheme}); Alexa always sends a secret, so set client_type to confidential and client_secret to the secret from the Alexa console`,
                });
            }
            return client;
        }
        if (creds.clientSecret === undefined || creds.scheme === 'none') {
            throw new errors_1.InvalidClient('client authentication required', {
                kind: 'client_secret_missing',
                facts: { clientId: client.clientId },
                debug: `client "${client.clientId}" is confidential but the request carried no client_secret (only client_id in the body); in the Alexa console set "Your Secret" and either authentication scheme`,
            });
        }
        const expected = client.clientSecret ?? '';
        const matches = (0, tokens_1.safeEqual)(creds.clientSecret, expected) || (creds.rawSecret !== undefined && (0, tokens_1.safeEqual)(creds.rawSecret, expected));
        if (!matches) {
            const facts = {
                clientId: client.clientId,
                received: (0, tokens_1.fingerprint)(creds.clientSecret),
                configured: (0, tokens_1.fingerprint)(expected),
                scheme: creds.scheme,
            };
            throw new errors_1.InvalidClient('client authentication failed', {
                kind: 'client_secret_mismatch',
                facts,
                debug: `client_secret for "${client.clientId}" does not match the configured one (received ${facts.received}, configured ${facts.configured}, scheme ${schemeWords(creds.scheme)}); copy clients[].client_secret into "Your Secret" in the Alexa console`,
            });
        }
        return client;
    }
}
exports.ClientRegistry = ClientRegistry;
/** The resource server named by the credentials, authenticated; undefined when the id is not a resource server's. */
function authenticateResourceServer(creds, servers) {
    const server = servers.find((s) => s.id === creds.clientId);
    if (!server)
        return undefined;
    const secret = creds.clientSecret ?? '';
    if (creds.scheme === 'none' ||
        !((0, tokens_1.safeEqual)(secret, server.secret) || (creds.rawSecret !== undefined && (0, tokens_1.safeEqual)(creds.rawSecret, server.secret)))) {
        const received = (0, tokens_1.fingerprint)(creds.clientSecret);
        throw new errors_1.InvalidClient('client authentication failed', {
            kind: 'resource_server_secret_mismatch',
            facts: { resourceServer: server.id, received },
            debug: `resource server "${server.id}" presented a wrong or no secret (received ${received}); copy resource_servers[].secret into its configuration`,
        });
    }
    return server;
}
//# sourceMappingURL=client-auth.js.map