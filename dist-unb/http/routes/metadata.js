"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createMetadataRoutes = createMetadataRoutes;
/**
 * RFC 8414 metadata, at the root well-known path, the path-suffixed form for an issuer with a path, and under
 * /alexa/ for reverse proxies that forward only that prefix.
 */
const express_1 = require("express");
const metadata_1 = require("../../oauth/metadata");
const request_context_1 = require("../request-context");
function createMetadataRoutes(deps) {
    const router = (0, express_1.Router)();
    const paths = [
        '/.well-known/oauth-authorization-server',
        '/.well-known/oauth-authorization-server/*rest',
        '/alexa/.well-known/oauth-authorization-server',
    ];
    // Without public_url the issuer comes from this request's headers: a shared cache must never hand one client's
    // Host header to everyone (cache poisoning), so only public_url's metadata may be cached publicly.
    const caching = deps.config.publicUrl ? 'public, max-age=300' : 'no-store';
    router.get(paths, (req, res) => {
        res.set('Cache-Control', caching).json((0, metadata_1.authorizationServerMetadata)((0, request_context_1.issuerFor)(req, deps.config), deps.config.clients));
    });
    return router;
}
//# sourceMappingURL=metadata.js.map