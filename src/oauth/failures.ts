/**
 * Every kind of failure the server records, with the facts of each as data: what an OAuthError carries
 * (errors.ts) and what the flow trace stores beside the operator's sentence (`facts` next to `cause`). The
 * explanations (ops/explain.ts) and the notifications (ops/notification-causes.ts) read these facts, never the
 * sentence, and are declared per kind, so the compiler names any kind left unexplained.
 *
 * Facts hold no secret: secrets appear only as fingerprints ("#" and 8 hex digits, crypto/tokens.ts). Values a
 * client sent are stored as sent; the trace caps and escapes them with the rest of the entry (log/trace-policy.ts).
 */
import type { FlowEvent } from '../log/flow-trace';
import type { MalformedReason } from './basic-auth';

/** fingerprint() of a secret, token or code: "#" and 8 hex digits, or "(none)"; never the value itself. */
export type Fingerprint = string;

/** The brute-force limits (http/rate-limits.ts): by address or username at the login form, by address or client at the token endpoints. */
export type LimiterName = 'login-ip' | 'login-user' | 'token-ip' | 'token-client';

/** How a token-endpoint request authenticated its client (oauth/client-auth.ts). */
export type AuthScheme = 'basic' | 'body' | 'none';

type NoFacts = Record<string, never>;

/** The facts of each failure kind. Entry fields (clientId, redirectUri, username, grantId, ip) are not repeated here. */
export interface FailureFacts {
  // The authorization request (authorize-request.ts); the first three are shown on a page, never redirected.
  client_id_missing: NoFacts;
  /** At authorize and at the token endpoint: the id sent, and the ones configured then. */
  unknown_client: { clientId: string; configured: string[] };
  /** No redirect_uri, and the client has several (or none) registered. */
  redirect_uri_missing: { registered: string[] };
  /**
   * At authorize: `asked` is not registered (`closest` is the registered one it is most like). At the token
   * endpoint: `asked` (absent: none was sent) is not the redirect URI the code was `authorized` for.
   */
  redirect_uri_mismatch: { asked: string; registered: string[]; closest?: string } | { asked?: string; authorized: string };
  response_type_missing: NoFacts;
  unsupported_response_type: { responseType: string };
  /** At authorize: a public client sent no code_challenge. At the token endpoint: the code has a challenge, the request no verifier. */
  pkce_missing: NoFacts;
  /** `method` absent: none was sent, which means plain. */
  pkce_method: { method?: string };
  pkce_malformed: { methodWithoutChallenge: true } | { challengeLength: number };
  scope_malformed: { malformed: string[] };
  /** `asked`: the scopes asked for that the client is not configured with. */
  scope_not_allowed: { clientId: string; asked: string[]; allowed: string[] };
  /** `asked`: the scopes a refresh asked for beyond those granted. */
  scope_widened: { asked: string[]; granted: string[] };
  repeated_parameter: { parameter: string; count: number };
  parameter_too_long: { parameter: string; length: number; max: number };

  // The token, revocation and introspection requests (token-endpoint.ts, token-management.ts, http/form-endpoint.ts).
  content_type: { contentType?: string };
  /** The body parser refused the body (too large, wrong encoding, unreadable). */
  malformed_body: { status: number; parser: string; message: string };
  grant_type_missing: NoFacts;
  unsupported_grant_type: { grantType: string };
  token_missing: NoFacts;
  /** The database failed; the client was told to retry (503), never that its grant is invalid. */
  store_unavailable: { fault?: string; reason: string };

  // Client authentication (client-auth.ts).
  client_auth_missing: NoFacts;
  /**
   * No client credentials either, but the request held a live code or refresh token of the confidential client
   * `clientId`: most likely that client, whose credentials were removed on the way (a proxy dropping the
   * Authorization header). A kind of its own, so the trace never folds it into strangers' bare requests.
   */
  client_credentials_removed: { carried: 'code' | 'refresh_token'; clientId: string };
  /** The Authorization header is not Basic credentials; `scheme` only when it names a registered scheme. */
  client_auth_malformed: { reason: MalformedReason; scheme?: string };
  client_auth_multiple: NoFacts;
  client_id_conflict: { basic: string; body: string };
  public_client_secret: { clientId: string; scheme: AuthScheme };
  client_secret_missing: { clientId: string };
  client_secret_mismatch: { clientId: string; received: Fingerprint; configured: Fingerprint; scheme: AuthScheme };
  introspect_public_client: { clientId: string };
  resource_server_secret_mismatch: { resourceServer: string; received: Fingerprint };

  // The authorization code grant (grants/authorization-code.ts).
  code_missing: NoFacts;
  code_unknown: { codeFingerprint: Fingerprint };
  code_client_mismatch: { issuedTo: string; presentedBy: string };
  /** The grant the code created, revoked with every token of it. */
  code_replay: { codeFingerprint: Fingerprint; grantId: string; redeemedSecondsAgo: number };
  code_expired: { ageSeconds: number; lifetimeSeconds: number };
  pkce_mismatch: { verifierFingerprint: Fingerprint; storedChallenge: string; verifierS256: string };
  /** A verifier for a code issued without a challenge. */
  pkce_downgrade: NoFacts;

  // The refresh token grant (grants/refresh-token.ts).
  refresh_missing: NoFacts;
  refresh_unknown: { tokenFingerprint: Fingerprint; idleLifetimeSeconds: number };
  refresh_expired: { tokenFingerprint: Fingerprint; idleLifetimeSeconds: number };
  /** The token's grant expired from disuse. */
  grant_missing: { tokenFingerprint: Fingerprint; grantId: string };
  refresh_client_mismatch: { issuedTo: string; presentedBy: string };
  grant_revoked: { grantId: string; username: string; revokedAt: string; reason?: string };
  /** A public client's rotated token presented again: the grant was revoked. */
  refresh_reuse: { tokenFingerprint: Fingerprint; grantId: string; username: string; clientId: string };
  /**
   * A confidential client's token outside the grace window: `behind` generations back, superseded
   * `supersededSecondsAgo` s before it was presented (both absent: superseded before the window began).
   */
  refresh_superseded: {
    tokenFingerprint: Fingerprint;
    grantId: string;
    username: string;
    behind?: number;
    supersededSecondsAgo?: number;
    graceGenerations: number;
    gracePeriodSeconds: number;
  };

  // The login and consent pages (http/routes/authorize.ts).
  request_missing: NoFacts;
  /** Expired, or (`decidedSecondsAgo`) decided already. */
  request_expired: { decidedSecondsAgo?: number };
  flow_mismatch: NoFacts;
  csrf_mismatch: { form: 'login' | 'consent' };
  login_failed: NoFacts;
  login_unavailable: { reason: string };
  ha_user_not_allowed: NoFacts;
  access_denied: { repeated: boolean };

  /**
   * A request for an address the add-on does not serve that looks like one of its endpoints, or carries a client's
   * credentials: the Alexa console (or a proxy) points at the wrong URL. `authenticated`: a configured client's
   * id and secret by Basic, so the request was Alexa's (or a copy of its credentials), not a stranger's.
   */
  unknown_endpoint: { method: string; path: string; expected: string; authenticated: boolean };

  // The brute-force limits (http/rate-limits.ts): one entry when a lock starts, then at most one a minute.
  rate_limited: {
    limiter: LimiterName;
    /** The address, username or client id locked. */
    target: string;
    retryAfter: number;
    lockoutStarted: boolean;
    refusedSinceLastReport: number;
    /** At the token endpoints, what the refused request would have got (never sent to the client). */
    wouldHaveBeen?: string;
  };

  // The admin listener (http/admin/admin-app.ts).
  admin_forbidden: { allowed: string[] };
  admin_wrong_host: { host: string };
  admin_csrf: { crossSite: boolean };

  /** Written by the trace itself (log/trace-policy.ts): security events counted instead of recorded, per kind. */
  security_events_coalesced: { total: number; counts: Record<string, number> };
}

export type FailureKind = keyof FailureFacts;

/** A failure as data: its kind and the facts of that kind. */
export type Failure = { [K in FailureKind]: { kind: K; facts: FailureFacts[K] } }[FailureKind];

/**
 * The outcome each kind is recorded with: `security` for what points at an attack rather than a mistake (the
 * security-events file keeps those), `error` otherwise. Also the runtime list of every kind.
 */
export const FAILURE_OUTCOME = {
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
  client_credentials_removed: 'error',
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
  unknown_endpoint: 'error',
  rate_limited: 'security',
  admin_forbidden: 'security',
  admin_wrong_host: 'security',
  admin_csrf: 'security',
  security_events_coalesced: 'security',
} as const satisfies Record<FailureKind, 'error' | 'security'>;

const KINDS: ReadonlySet<string> = new Set(Object.keys(FAILURE_OUTCOME));

/** Every failure kind, for tests and readers. */
export const FAILURE_KINDS = [...KINDS] as readonly FailureKind[];

/** Whether a kind read back from a trace file is one this version records (older or newer versions may differ). */
export function isFailureKind(kind: unknown): kind is FailureKind {
  return typeof kind === 'string' && KINDS.has(kind);
}

/**
 * A flow-trace event as the server's own code records it: a success, or a failure of a known kind with its facts.
 * The trace itself (log/) stores any kind; this is the narrower type recording code is checked against.
 */
export type TracedEvent = Omit<FlowEvent, 'kind' | 'facts' | 'outcome'> &
  ({ outcome: 'ok'; kind?: undefined; facts?: undefined } | ({ outcome: 'error' | 'security' } & Failure));

/** The one thing a route or page needs of the flow trace: recording. A FlowTrace is one. */
export interface TraceRecorder {
  record(event: TracedEvent): void;
}
