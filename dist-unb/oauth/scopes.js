"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.parseScope = parseScope;
exports.resolveScopes = resolveScopes;
exports.narrowScopes = narrowScopes;
/** Scope strings (RFC 6749 §3.3): space-delimited, case-sensitive, limited to the client's configured scopes. */
const untrusted_1 = require("../log/untrusted");
const errors_1 = require("./errors");
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
function parseScope(scope) {
    if (scope === undefined)
        return undefined;
    const parts = scope.split(' ').filter((s) => s !== '');
    return [...new Set(parts)];
}
/** The scopes a request is granted: all allowed ones when none are asked for, else exactly those asked. */
function resolveScopes(requested, allowed, clientId) {
    if (requested === undefined || requested.length === 0)
        return [...allowed];
    const malformed = requested.filter((s) => !SCOPE_TOKEN.test(s));
    if (malformed.length > 0) {
        throw new errors_1.InvalidScope('malformed scope', {
            kind: 'scope_malformed',
            facts: { malformed },
            debug: `scope contains invalid characters: ${(0, untrusted_1.untrusted)(JSON.stringify(malformed))}`,
        });
    }
    const unknown = requested.filter((s) => !allowed.includes(s));
    if (unknown.length > 0) {
        throw new errors_1.InvalidScope(`scope not allowed: ${(0, untrusted_1.untrusted)(unknown.join(' '), 128)}`, {
            kind: 'scope_not_allowed',
            facts: { clientId, asked: unknown, allowed },
            debug: `client "${clientId}" asked for ${(0, untrusted_1.untrusted)(unknown.map((s) => `"${s}"`).join(', '))}, not among its configured scopes (${allowed.join(', ') || 'none'}); make the Scopes in the Alexa console match clients[].scopes`,
        });
    }
    return requested;
}
/** A refresh may narrow the granted scope, never widen it (RFC 6749 §6). */
function narrowScopes(requested, granted) {
    if (requested === undefined || requested.length === 0)
        return granted;
    const extra = requested.filter((s) => !granted.includes(s));
    if (extra.length > 0) {
        throw new errors_1.InvalidScope(`scope exceeds the original grant: ${extra.join(' ')}`, {
            kind: 'scope_widened',
            facts: { asked: extra, granted },
            debug: `refresh asked for ${(0, untrusted_1.untrusted)(extra.join(', '))}, beyond the granted ${granted.join(', ')}`,
        });
    }
    return requested;
}
//# sourceMappingURL=scopes.js.map