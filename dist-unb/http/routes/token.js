"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createTokenRoutes = createTokenRoutes;
const errors_1 = require("../../oauth/errors");
const token_endpoint_1 = require("../../oauth/token-endpoint");
const token_management_1 = require("../../oauth/token-management");
const client_auth_1 = require("../../oauth/client-auth");
const form_endpoint_1 = require("../form-endpoint");
const request_context_1 = require("../request-context");
/** The token endpoints' POST routes, path -> handlers (app.ts serves them with and without Express's router). */
function createTokenRoutes(deps, limiters) {
    const routes = new Map();
    const { grants, clients } = deps;
    routes.set('/alexa/token', (0, form_endpoint_1.formEndpoint)(deps, 'token', limiters, (input) => (0, token_endpoint_1.runTokenRequest)(input, (request) => {
        const { issued, detail } = (0, token_endpoint_1.handleTokenRequest)(grants, clients, request);
        return {
            body: issued.body,
            trace: {
                grantId: issued.grantId,
                username: issued.username,
                detail: { accessToken: issued.fingerprints.access, refreshToken: issued.fingerprints.refresh, ...detail },
            },
        };
    })));
    routes.set('/alexa/revoke', (0, form_endpoint_1.formEndpoint)(deps, 'revoke', limiters, (input) => (0, token_endpoint_1.runTokenRequest)(input, ({ params, credentials }) => {
        const client = clients.authenticate(credentials);
        const result = (0, token_management_1.revokeToken)(grants, client, (0, token_management_1.requireToken)(params));
        // RFC 7009 §2.2: 200 whether or not the token was known, so revocation cannot probe for valid tokens.
        return {
            body: {},
            provesPossession: result.revoked !== 'nothing',
            trace: { grantId: result.grantId, detail: { revoked: result.revoked } },
        };
    })));
    routes.set('/alexa/introspect', (0, form_endpoint_1.formEndpoint)(deps, 'introspect', limiters, (input, req) => (0, token_endpoint_1.runTokenRequest)(input, ({ params, credentials }) => {
        const resourceServer = (0, client_auth_1.authenticateResourceServer)(credentials, deps.config.resourceServers);
        let caller;
        if (resourceServer) {
            caller = { kind: 'resource_server', id: resourceServer.id };
        }
        else {
            const client = clients.authenticate(credentials);
            if (client.clientType !== 'confidential') {
                throw new errors_1.InvalidClient('client authentication required', {
                    kind: 'introspect_public_client',
                    facts: { clientId: client.clientId },
                    debug: `public client "${client.clientId}" cannot introspect: use a resource_servers credential or a confidential client`,
                });
            }
            caller = { kind: 'client', client };
        }
        const result = (0, token_management_1.introspectToken)(grants, caller, (0, token_management_1.requireToken)(params), (0, request_context_1.issuerFor)(req, deps.config));
        return {
            body: result.response,
            provesPossession: result.response.active,
            trace: {
                grantId: result.found?.grant.id,
                username: result.found?.grant.username,
                detail: { active: result.response.active, reason: result.reason },
            },
        };
    })));
    return routes;
}
//# sourceMappingURL=token.js.map