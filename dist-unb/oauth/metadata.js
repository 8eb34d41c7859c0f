"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ALEXA_PATHS = void 0;
exports.authorizationServerMetadata = authorizationServerMetadata;
exports.ALEXA_PATHS = {
    authorize: '/alexa/authorize',
    token: '/alexa/token',
    revoke: '/alexa/revoke',
    introspect: '/alexa/introspect',
};
function authorizationServerMetadata(issuer, clients) {
    const scopes = [...new Set(clients.flatMap((c) => c.scopes))];
    return {
        issuer,
        authorization_endpoint: `${issuer}${exports.ALEXA_PATHS.authorize}`,
        token_endpoint: `${issuer}${exports.ALEXA_PATHS.token}`,
        revocation_endpoint: `${issuer}${exports.ALEXA_PATHS.revoke}`,
        introspection_endpoint: `${issuer}${exports.ALEXA_PATHS.introspect}`,
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
//# sourceMappingURL=metadata.js.map