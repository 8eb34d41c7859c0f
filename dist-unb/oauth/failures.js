"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.FAILURE_KINDS = exports.FAILURE_OUTCOME = void 0;
exports.isFailureKind = isFailureKind;
/**
 * The outcome each kind is recorded with: `security` for what points at an attack rather than a mistake (the
 * security-events file keeps those), `error` otherwise. Also the runtime list of every kind.
 */
exports.FAILURE_OUTCOME = {
    client_id_missing: 'error',
    unknown_client: 'error',
    redirect_uri_missing: 'error',
    redirect_uri_mismatch: 'error',
    response_type_missing: 'error',
    unsupported_response_type: 'error',
    pkce_missing: 'error',
    pkce_method: 'error',
    pkce_malformed: 'error',
    scope_malformed: 'error',
    scope_not_allowed: 'error',
    scope_widened: 'error',
    repeated_parameter: 'error',
    parameter_too_long: 'error',
    content_type: 'error',
    malformed_body: 'error',
    grant_type_missing: 'error',
    unsupported_grant_type: 'error',
    token_missing: 'error',
    store_unavailable: 'error',
    client_auth_missing: 'error',
    client_auth_malformed: 'error',
    client_auth_multiple: 'error',
    client_id_conflict: 'error',
    public_client_secret: 'error',
    client_secret_missing: 'error',
    client_secret_mismatch: 'error',
    introspect_public_client: 'error',
    resource_server_secret_mismatch: 'error',
    code_missing: 'error',
    code_unknown: 'error',
    code_client_mismatch: 'error',
    code_replay: 'security',
    code_expired: 'error',
    pkce_mismatch: 'error',
    pkce_downgrade: 'security',
    refresh_missing: 'error',
    refresh_unknown: 'error',
    refresh_expired: 'error',
    grant_missing: 'error',
    refresh_client_mismatch: 'error',
    grant_revoked: 'error',
    refresh_reuse: 'security',
    refresh_superseded: 'error',
    request_missing: 'error',
    request_expired: 'error',
    flow_mismatch: 'error',
    csrf_mismatch: 'security',
    login_failed: 'error',
    login_unavailable: 'error',
    ha_user_not_allowed: 'security',
    access_denied: 'error',
    rate_limited: 'security',
    admin_forbidden: 'security',
    admin_wrong_host: 'security',
    admin_csrf: 'security',
    security_events_coalesced: 'security',
};
const KINDS = new Set(Object.keys(exports.FAILURE_OUTCOME));
/** Every failure kind, for tests and readers. */
exports.FAILURE_KINDS = [...KINDS];
/** Whether a kind read back from a trace file is one this version records (older or newer versions may differ). */
function isFailureKind(kind) {
    return typeof kind === 'string' && KINDS.has(kind);
}
//# sourceMappingURL=failures.js.map