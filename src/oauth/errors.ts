/**
 * One class per RFC 6749 error code. Each knows its HTTP status and renders the §5.2 body; `cause` is the
 * precise reason for the operator (flow trace and log), never sent to the client where it would leak detail.
 */
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

export abstract class OAuthError extends Error {
  abstract readonly code: OAuthErrorCode;
  readonly status: number = 400;
  constructor(
    /** Sent to the client as error_description. */
    readonly description: string,
    /** For the operator: what exactly failed and how to fix it. Defaults to the description. */
    override readonly cause: string = description,
    /** Machine-readable failure kind for diagnosis and metrics, e.g. redirect_uri_mismatch. */
    readonly kind: string = 'other',
  ) {
    super(description);
  }
  toJSON(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.code, error_description: wireDescription(this.description) };
  }
}

export class InvalidRequest extends OAuthError { readonly code = 'invalid_request'; }
export class InvalidClient extends OAuthError {
  readonly code = 'invalid_client';
  override readonly status = 401;
}
export class InvalidGrant extends OAuthError { readonly code = 'invalid_grant'; }
export class UnauthorizedClient extends OAuthError { readonly code = 'unauthorized_client'; }
export class UnsupportedGrantType extends OAuthError { readonly code = 'unsupported_grant_type'; }
export class InvalidScope extends OAuthError { readonly code = 'invalid_scope'; }
export class AccessDenied extends OAuthError { readonly code = 'access_denied'; }
export class UnsupportedResponseType extends OAuthError { readonly code = 'unsupported_response_type'; }
export class ServerError extends OAuthError {
  readonly code = 'server_error';
  override readonly status = 500;
}
/** The store cannot be read or written: the client should retry, and must not treat it as a revoked grant. */
export class TemporarilyUnavailable extends OAuthError {
  readonly code = 'temporarily_unavailable';
  override readonly status = 503;
}
