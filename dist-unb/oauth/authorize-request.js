"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.validateAuthorizeRequest = validateAuthorizeRequest;
const untrusted_1 = require("../log/untrusted");
const errors_1 = require("./errors");
const pkce_1 = require("./pkce");
const redirect_uri_1 = require("./redirect-uri");
const scopes_1 = require("./scopes");
const MAX_STATE_LENGTH = 2048;
function single(params, name) {
    const values = params.get(name);
    if (values === undefined)
        return undefined;
    if (values.length > 1) {
        return (0, errors_1.repeatedParameter)(name, values.length);
    }
    return values[0];
}
function validateAuthorizeRequest(params, clients) {
    const page = (error) => ({ ok: false, redirect: false, error });
    const clientId = single(params, 'client_id');
    if (clientId instanceof errors_1.OAuthError)
        return page(clientId);
    if (clientId === undefined || clientId === '') {
        return page(new errors_1.InvalidRequest('client_id is missing', {
            kind: 'client_id_missing',
            facts: {},
            debug: 'the authorization request has no client_id parameter; check the Authorization URI in the Alexa console',
        }));
    }
    const client = clients.find(clientId);
    if (!client) {
        return page(new errors_1.InvalidRequest(`unknown client "${(0, untrusted_1.untrusted)(clientId, 128)}"`, {
            kind: 'unknown_client',
            facts: { clientId, configured: clients.ids() },
            debug: `client_id "${(0, untrusted_1.untrusted)(clientId)}" is not configured (configured: ${clients.describeIds()}); the Client ID in the Alexa console must equal clients[].client_id exactly (case-sensitive)`,
        }));
    }
    const given = single(params, 'redirect_uri');
    if (given instanceof errors_1.OAuthError)
        return page(given);
    let redirectUri;
    if (given === undefined) {
        const [only, ...others] = client.redirectUris;
        if (only === undefined || others.length > 0) {
            return page(new errors_1.InvalidRequest('redirect_uri is missing', {
                kind: 'redirect_uri_missing',
                facts: { registered: client.redirectUris },
                debug: `client "${client.clientId}" has ${client.redirectUris.length} registered redirect URIs, so the request must name one`,
            }));
        }
        redirectUri = only;
    }
    else if (!(0, redirect_uri_1.isRegisteredRedirectUri)(given, client.redirectUris)) {
        const closest = (0, redirect_uri_1.closestRedirectUri)(given, client.redirectUris);
        return page(new errors_1.InvalidRequest('redirect_uri is not registered for this client', {
            kind: 'redirect_uri_mismatch',
            facts: { asked: given, registered: client.redirectUris, ...(closest === undefined ? {} : { closest }) },
            debug: `redirect_uri "${(0, untrusted_1.untrusted)(given)}" is not a registered redirect URI of ${client.clientId} (registered: ${client.redirectUris.join(', ')}${closest ? `; closest: ${closest}` : ''}); add it exactly under Configuration → clients → redirect_uris`,
        }));
    }
    else {
        redirectUri = given;
    }
    const state = single(params, 'state');
    const back = (error) => ({
        ok: false,
        redirect: true,
        error,
        redirectUri,
        state: typeof state === 'string' ? state.slice(0, MAX_STATE_LENGTH) : undefined,
    });
    if (state instanceof errors_1.OAuthError)
        return back(state);
    if (state !== undefined && state.length > MAX_STATE_LENGTH) {
        return back((0, errors_1.parameterTooLong)('state', state.length, MAX_STATE_LENGTH));
    }
    for (const name of ['response_type', 'scope', 'code_challenge', 'code_challenge_method']) {
        const v = single(params, name);
        if (v instanceof errors_1.OAuthError)
            return back(v);
    }
    const responseType = params.get('response_type')?.[0];
    if (responseType === undefined || responseType === '') {
        return back(new errors_1.InvalidRequest('response_type is missing', {
            kind: 'response_type_missing',
            facts: {},
            debug: 'the authorization request has no response_type; it must be "code"',
        }));
    }
    if (responseType !== 'code') {
        return back(new errors_1.UnsupportedResponseType('only response_type=code is supported', {
            kind: 'unsupported_response_type',
            facts: { responseType },
            debug: `response_type "${(0, untrusted_1.untrusted)(responseType, 64)}" is not supported; in the Alexa console choose "Auth Code Grant"`,
        }));
    }
    let scopes;
    try {
        scopes = (0, scopes_1.resolveScopes)((0, scopes_1.parseScope)(params.get('scope')?.[0]), client.scopes, client.clientId);
    }
    catch (err) {
        return back(err);
    }
    const challenge = params.get('code_challenge')?.[0];
    const method = params.get('code_challenge_method')?.[0];
    if (challenge === undefined || challenge === '') {
        if (method !== undefined) {
            return back(new errors_1.InvalidRequest('code_challenge_method without code_challenge', {
                kind: 'pkce_malformed',
                facts: { methodWithoutChallenge: true },
                debug: 'code_challenge_method was sent without code_challenge',
            }));
        }
        if (client.clientType === 'public') {
            return back(new errors_1.InvalidRequest('PKCE is required for this client', {
                kind: 'pkce_missing',
                facts: {},
                debug: `client "${client.clientId}" is public, so it must send code_challenge with code_challenge_method=S256 (RFC 7636)`,
            }));
        }
    }
    else {
        if (method !== 'S256') {
            return back(new errors_1.InvalidRequest('code_challenge_method must be S256', {
                kind: 'pkce_method',
                facts: method === undefined ? {} : { method },
                debug: `code_challenge_method is ${method === undefined ? 'absent (meaning plain)' : `"${(0, untrusted_1.untrusted)(method, 32)}"`}; only S256 is accepted (RFC 9700 §2.1.1)`,
            }));
        }
        if (!(0, pkce_1.isValidPkceValue)(challenge)) {
            return back(new errors_1.InvalidRequest('code_challenge is malformed', {
                kind: 'pkce_malformed',
                facts: { challengeLength: challenge.length },
                debug: 'code_challenge must be 43-128 characters of [A-Za-z0-9-._~] (base64url of SHA-256 is 43)',
            }));
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
//# sourceMappingURL=authorize-request.js.map