"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.apiSecurityHeaders = apiSecurityHeaders;
exports.pageSecurityHeaders = pageSecurityHeaders;
const helmet_1 = __importDefault(require("helmet"));
/**
 * The JSON endpoints (token, revocation, introspection) render nothing: the same helmet headers with a fixed policy
 * that allows nothing, so no nonce is drawn for them (Alexa's refreshes are most of the traffic).
 */
function apiSecurityHeaders() {
    return (0, helmet_1.default)({
        contentSecurityPolicy: {
            useDefaults: false,
            directives: {
                'default-src': ["'none'"],
                'form-action': ["'none'"],
                'frame-ancestors': ["'none'"],
                'base-uri': ["'none'"],
            },
        },
        frameguard: { action: 'deny' },
        referrerPolicy: { policy: 'no-referrer' },
    });
}
function pageSecurityHeaders(opts) {
    const nonce = (_req, res) => `'nonce-${res.locals.nonce}'`;
    return (0, helmet_1.default)({
        contentSecurityPolicy: {
            useDefaults: false,
            directives: {
                'default-src': ["'none'"],
                'style-src': [nonce],
                ...(opts.nonceScripts ? { 'script-src': [nonce] } : {}),
                'img-src': ["'self'", 'data:'],
                'form-action': ["'self'", ...(opts.formTargets ?? [])],
                'frame-ancestors': [opts.framing === 'none' ? "'none'" : "'self'"],
                'base-uri': ["'none'"],
            },
        },
        frameguard: { action: opts.framing === 'none' ? 'deny' : 'sameorigin' },
        referrerPolicy: { policy: 'no-referrer' },
    });
}
//# sourceMappingURL=security-headers.js.map