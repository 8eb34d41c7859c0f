/**
 * One class per RFC 6749 error code. Each knows its HTTP status and renders the §5.2 body. As in fosite, what the
 * client is told (`description`) and what the operator reads (`debug`: the precise reason and the fix, for the
 * flow trace and the log) are kept apart, and the failure itself is data (`failure`: its kind and facts, see
 * failures.ts). An underlying error it wraps is the standard `cause`. Nothing but the description reaches the client.
 */
import { Failure, FailureKind } from './failures';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'unsupported_response_type'
  | 'server_error'
  | 'temporarily_unavailable';

/**
 * error_description as RFC 6749 §5.2 / §4.1.2.1 allow it on the wire: %x20-21 / %x23-5B / %x5D-7E only. A
 * description that echoes client input (a grant_type, a client_id) may carry anything else; replace it.
 */
export function wireDescription(description: string): string {
  return description.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** What an OAuthError says beyond its description: the failure as data, the operator's sentence, a wrapped error. */
export type OAuthErrorDetails = Failure & {
  /** For the operator: what exactly failed and how to fix it (the trace's `cause`). */
  debug: string;
  /** The underlying error, if this one wraps one (standard Error.cause). */
  cause?: unknown;
};

export abstract class OAuthError extends Error {
  abstract readonly code: OAuthErrorCode;
  readonly status: number = 400;
  /** The failure's kind and facts, recorded in the flow trace. */
  readonly failure: Failure;
  /** For the operator: what exactly failed and how to fix it. */
  readonly debug: string;
  constructor(
    /** Sent to the client as error_description. */
    readonly description: string,
    details: OAuthErrorDetails,
  ) {
    super(description, details.cause === undefined ? undefined : { cause: details.cause });
    const { debug, cause: _cause, ...failure } = details;
    this.failure = failure;
    this.debug = debug;
  }
  /** The failure kind, e.g. redirect_uri_mismatch: for diagnosis and metrics. */
  get kind(): FailureKind {
    return this.failure.kind;
  }
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: wireDescription(this.description) };
  }
}

export class InvalidRequest extends OAuthError {
  readonly code = 'invalid_request';
}
export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  override readonly status = 401;
}
export class InvalidGrant extends OAuthError {
  readonly code = 'invalid_grant';
}
export class UnauthorizedClient extends OAuthError {
  readonly code = 'unauthorized_client';
}
export class UnsupportedGrantType extends OAuthError {
  readonly code = 'unsupported_grant_type';
}
export class InvalidScope extends OAuthError {
  readonly code = 'invalid_scope';
}
export class AccessDenied extends OAuthError {
  readonly code = 'access_denied';
}
export class UnsupportedResponseType extends OAuthError {
  readonly code = 'unsupported_response_type';
}
export class ServerError extends OAuthError {
  readonly code = 'server_error';
  override readonly status = 500;
}
/** The store cannot be read or written: the client should retry, and must not treat it as a revoked grant. */
export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  override readonly status = 503;
}

/** A parameter sent more than once (RFC 6749 §3.1), at any endpoint. */
export function repeatedParameter(parameter: string, count: number): InvalidRequest {
  return new InvalidRequest(`${parameter} is repeated`, {
    kind: 'repeated_parameter',
    facts: { parameter, count },
    debug: `the request carried ${parameter} ${count} times; RFC 6749 §3.1 allows each parameter once`,
  });
}

/** A parameter longer than this server accepts, at any endpoint. */
export function parameterTooLong(parameter: string, length: number, max: number): InvalidRequest {
  return new InvalidRequest(`${parameter} is too long`, {
    kind: 'parameter_too_long',
    facts: { parameter, length, max },
    debug: `${parameter} is ${length} characters; at most ${max} are accepted`,
  });
}
