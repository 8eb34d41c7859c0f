"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.TemporarilyUnavailable = exports.ServerError = exports.UnsupportedResponseType = exports.AccessDenied = exports.InvalidScope = exports.UnsupportedGrantType = exports.UnauthorizedClient = exports.InvalidGrant = exports.InvalidClient = exports.InvalidRequest = exports.OAuthError = void 0;
exports.wireDescription = wireDescription;
exports.repeatedParameter = repeatedParameter;
exports.parameterTooLong = parameterTooLong;
/**
 * error_description as RFC 6749 §5.2 / §4.1.2.1 allow it on the wire: %x20-21 / %x23-5B / %x5D-7E only. A
 * description that echoes client input (a grant_type, a client_id) may carry anything else; replace it.
 */
function wireDescription(description) {
    return description.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}
class OAuthError extends Error {
    description;
    status = 400;
    /** The failure's kind and facts, recorded in the flow trace. */
    failure;
    /** For the operator: what exactly failed and how to fix it. */
    debug;
    constructor(
    /** Sent to the client as error_description. */
    description, details) {
        super(description, details.cause === undefined ? undefined : { cause: details.cause });
        this.description = description;
        const { debug, cause: _cause, ...failure } = details;
        this.failure = failure;
        this.debug = debug;
    }
    /** The failure kind, e.g. redirect_uri_mismatch: for diagnosis and metrics. */
    get kind() {
        return this.failure.kind;
    }
    toJSON() {
        return { error: this.code, error_description: wireDescription(this.description) };
    }
}
exports.OAuthError = OAuthError;
class InvalidRequest extends OAuthError {
    code = 'invalid_request';
}
exports.InvalidRequest = InvalidRequest;
class InvalidClient extends OAuthError {
    code = 'invalid_client';
    status = 401;
}
exports.InvalidClient = InvalidClient;
class InvalidGrant extends OAuthError {
    code = 'invalid_grant';
}
exports.InvalidGrant = InvalidGrant;
class UnauthorizedClient extends OAuthError {
    code = 'unauthorized_client';
}
exports.UnauthorizedClient = UnauthorizedClient;
class UnsupportedGrantType extends OAuthError {
    code = 'unsupported_grant_type';
}
exports.UnsupportedGrantType = UnsupportedGrantType;
class InvalidScope extends OAuthError {
    code = 'invalid_scope';
}
exports.InvalidScope = InvalidScope;
class AccessDenied extends OAuthError {
    code = 'access_denied';
}
exports.AccessDenied = AccessDenied;
class UnsupportedResponseType extends OAuthError {
    code = 'unsupported_response_type';
}
exports.UnsupportedResponseType = UnsupportedResponseType;
class ServerError extends OAuthError {
    code = 'server_error';
    status = 500;
}
exports.ServerError = ServerError;
/** The store cannot be read or written: the client should retry, and must not treat it as a revoked grant. */
class TemporarilyUnavailable extends OAuthError {
    code = 'temporarily_unavailable';
    status = 503;
}
exports.TemporarilyUnavailable = TemporarilyUnavailable;
/** A parameter sent more than once (RFC 6749 §3.1), at any endpoint. */
function repeatedParameter(parameter, count) {
    return new InvalidRequest(`${parameter} is repeated`, {
        kind: 'repeated_parameter',
        facts: { parameter, count },
        debug: `the request carried ${parameter} ${count} times; RFC 6749 §3.1 allows each parameter once`,
    });
}
/** A parameter longer than this server accepts, at any endpoint. */
function parameterTooLong(parameter, length, max) {
    return new InvalidRequest(`${parameter} is too long`, {
        kind: 'parameter_too_long',
        facts: { parameter, length, max },
        debug: `${parameter} is ${length} characters; at most ${max} are accepted`,
    });
}
//# sourceMappingURL=errors.js.map