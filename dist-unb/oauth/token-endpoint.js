"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.singleParams = singleParams;
exports.runTokenRequest = runTokenRequest;
exports.handleTokenRequest = handleTokenRequest;
/**
 * The token endpoint as a pure function of the request's parameters and Authorization header: validate the
 * form, authenticate the client, dispatch on grant_type. HTTP concerns (parsing, headers, status) stay in http/.
 * Each request returns its outcome with what was learnt about it on the way (grant type, client, scheme), so
 * the flow trace names them however far the request got.
 */
const untrusted_1 = require("../log/untrusted");
const client_auth_1 = require("./client-auth");
const errors_1 = require("./errors");
const authorization_code_1 = require("./grants/authorization-code");
const refresh_token_1 = require("./grants/refresh-token");
/** Longest value we accept for any token-endpoint parameter; real ones are far shorter. */
const MAX_PARAM_LENGTH = 4096;
/** RFC 6749 §3.1: parameters must not repeat; values are bounded so hostile input stays cheap. */
function singleParams(params) {
    const out = {};
    for (const [name, value] of Object.entries(params)) {
        if (value === undefined)
            continue;
        if (Array.isArray(value)) {
            throw (0, errors_1.repeatedParameter)(name, value.length);
        }
        if (value.length > MAX_PARAM_LENGTH) {
            throw (0, errors_1.parameterTooLong)(name, value.length, MAX_PARAM_LENGTH);
        }
        out[name] = value;
    }
    return out;
}
/**
 * Runs a token, revocation or introspection request: parses the form, reads the caller's credentials, then
 * `handle` (which authenticates them as its endpoint requires). What any step throws is the outcome's error.
 */
function runTokenRequest(input, handle) {
    let request = {};
    try {
        const params = singleParams(input.params);
        request = { grantType: params.grant_type };
        const credentials = (0, client_auth_1.readClientCredentials)(input.basic, params);
        request = { ...request, clientId: credentials.clientId, authScheme: credentials.scheme };
        return { request, ok: true, result: handle({ params, credentials }) };
    }
    catch (error) {
        return { request, ok: false, error };
    }
}
/** The token endpoint's work on a read request (RFC 6749 §3.2): authenticate the client, then dispatch on grant_type. */
function handleTokenRequest(deps, clients, { params, credentials }) {
    // Authenticate first so an unknown client learns nothing about grant types or codes.
    const client = clients.authenticate(credentials);
    const grantType = params.grant_type;
    if (grantType === undefined || grantType === '') {
        throw new errors_1.InvalidRequest('grant_type is missing', {
            kind: 'grant_type_missing',
            facts: {},
            debug: 'the token request has no grant_type',
        });
    }
    if (grantType === 'authorization_code')
        return { issued: (0, authorization_code_1.exchangeCode)(deps, client, params) };
    if (grantType === 'refresh_token') {
        const { issued, presented, behind } = (0, refresh_token_1.refreshTokens)(deps, client, params);
        return { issued, detail: { presented, ...(behind !== undefined ? { behind } : {}) } };
    }
    // The password and implicit grants are deliberately absent (RFC 9700 §2.1.2, §2.4).
    throw new errors_1.UnsupportedGrantType(`grant_type ${(0, untrusted_1.untrusted)(grantType, 64)} is not supported`, {
        kind: 'unsupported_grant_type',
        facts: { grantType },
        debug: `grant_type "${(0, untrusted_1.untrusted)(grantType, 64)}" is not supported; only authorization_code and refresh_token are`,
    });
}
//# sourceMappingURL=token-endpoint.js.map