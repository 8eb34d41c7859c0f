/**
 * Every failure kind the server can record has its own plain-words explanation and fix. The compiler sees to the
 * first half: the OAuth errors and the trace take only kinds of the FailureKind union (src/oauth/failures.ts), and
 * the explainers are declared per kind of it. This checks that each explainer answers, for an entry with facts
 * and for one written before facts were recorded.
 */
import { CREDENTIAL_BACKED_KINDS } from '../../src/log/trace-policy';
import { FAILURE_KINDS, FAILURE_OUTCOME, FailureFacts, isFailureKind } from '../../src/oauth/failures';
import { explain } from '../../src/ops/explain';
import { NOTIFIED_KINDS } from '../../src/ops/notification-causes';

it('lists the failure kinds of the seed guide', () => {
  for (const k of [
    'redirect_uri_mismatch',
    'pkce_mismatch',
    'code_expired',
    'unknown_client',
    'client_secret_mismatch',
    'client_secret_missing',
    'public_client_secret',
    'code_replay',
    'refresh_reuse',
    'rate_limited',
  ]) {
    expect({ k, listed: isFailureKind(k) }).toEqual({ k, listed: true });
  }
});

/** Facts of every kind, as the server records them (the compiler wants one per kind). */
const SAMPLE: { [K in keyof FailureFacts]: FailureFacts[K] } = {
  client_id_missing: {},
  unknown_client: { clientId: 'Amazon-Alexa', configured: ['amazon-alexa'] },
  redirect_uri_missing: { registered: ['https://a.example/cb', 'https://b.example/cb'] },
  redirect_uri_mismatch: {
    asked: 'https://layla.amazon.com/api/skill/link/M2OTHER',
    registered: ['https://layla.amazon.com/api/skill/link/M2TEST'],
    closest: 'https://layla.amazon.com/api/skill/link/M2TEST',
  },
  response_type_missing: {},
  unsupported_response_type: { responseType: 'token' },
  pkce_missing: {},
  pkce_method: { method: 'plain' },
  pkce_malformed: { challengeLength: 12 },
  scope_malformed: { malformed: ['a"b'] },
  scope_not_allowed: { clientId: 'amazon-alexa', asked: ['admin'], allowed: ['music.read'] },
  scope_widened: { asked: ['admin'], granted: ['music.read'] },
  repeated_parameter: { parameter: 'code', count: 2 },
  parameter_too_long: { parameter: 'state', length: 5000, max: 2048 },
  content_type: { contentType: 'application/json' },
  malformed_body: { status: 413, parser: 'entity.too.large', message: 'request entity too large' },
  grant_type_missing: {},
  unsupported_grant_type: { grantType: 'password' },
  token_missing: {},
  store_unavailable: { fault: 'full', reason: 'the disk is full' },
  client_auth_missing: {},
  client_credentials_removed: { carried: 'refresh_token', clientId: 'amazon-alexa' },
  client_auth_malformed: { reason: 'not_basic', scheme: 'bearer' },
  client_auth_multiple: {},
  client_id_conflict: { basic: 'amazon-alexa', body: 'other' },
  public_client_secret: { clientId: 'public-app', scheme: 'basic' },
  client_secret_missing: { clientId: 'amazon-alexa' },
  client_secret_mismatch: { clientId: 'amazon-alexa', received: '#00000000', configured: '#11111111', scheme: 'body' },
  introspect_public_client: { clientId: 'public-app' },
  resource_server_secret_mismatch: { resourceServer: 'music-assistant', received: '#00000000' },
  code_missing: {},
  code_unknown: { codeFingerprint: '#00000000' },
  code_client_mismatch: { issuedTo: 'amazon-alexa', presentedBy: 'public-app' },
  code_replay: { codeFingerprint: '#00000000', grantId: 'g1', redeemedSecondsAgo: 3 },
  code_expired: { ageSeconds: 301, lifetimeSeconds: 300 },
  pkce_mismatch: { verifierFingerprint: '#00000000', storedChallenge: 'a'.repeat(43), verifierS256: 'b'.repeat(43) },
  pkce_downgrade: {},
  refresh_missing: {},
  refresh_unknown: { tokenFingerprint: '#00000000', idleLifetimeSeconds: 86400 },
  refresh_expired: { tokenFingerprint: '#00000000', idleLifetimeSeconds: 86400 },
  grant_missing: { tokenFingerprint: '#00000000', grantId: 'g1' },
  refresh_client_mismatch: { issuedTo: 'amazon-alexa', presentedBy: 'public-app' },
  grant_revoked: { grantId: 'g1', username: 'owner', revokedAt: '2026-01-01T00:00:00.000Z', reason: 'revoked by oauth-admin' },
  refresh_reuse: { tokenFingerprint: '#00000000', grantId: 'g1', username: 'owner', clientId: 'public-app' },
  refresh_superseded: {
    tokenFingerprint: '#00000000',
    grantId: 'g1',
    username: 'owner',
    behind: 12,
    supersededSecondsAgo: 60,
    graceGenerations: 10,
    gracePeriodSeconds: 1209600,
  },
  request_missing: {},
  request_expired: { decidedSecondsAgo: 5 },
  flow_mismatch: {},
  csrf_mismatch: { form: 'login' },
  login_failed: {},
  login_unavailable: { reason: 'the Supervisor did not answer' },
  ha_user_not_allowed: {},
  access_denied: { repeated: false },
  unknown_endpoint: { method: 'POST', path: '/token', expected: '/alexa/token', authenticated: true },
  rate_limited: { limiter: 'token-client', target: 'amazon-alexa', retryAfter: 900, lockoutStarted: true, refusedSinceLastReport: 0 },
  admin_forbidden: { allowed: ['172.30.32.2'] },
  admin_wrong_host: { host: 'evil.example' },
  admin_csrf: { crossSite: true },
  security_events_coalesced: { total: 7, counts: { csrf_mismatch: 7 } },
};

it.each(FAILURE_KINDS.map((kind) => [kind]))('explains %s with a title, the problem and the fix, with its facts and without', (kind) => {
  const outcome = FAILURE_OUTCOME[kind];
  for (const step of ['authorize', 'token']) {
    for (const x of [explain({ step, outcome, kind, facts: SAMPLE[kind] }), explain({ step, outcome, kind, cause: 'the precise cause' })]) {
      expect({ kind, fields: Object.keys(x ?? {}).sort(), severity: x?.severity }).toEqual({
        kind,
        fields: ['fix', 'problem', 'severity', 'title'],
        severity: outcome,
      });
      expect({ kind, title: x!.title.length > 0, problem: x!.problem.length > 0, fix: x!.fix.length > 0 }).toEqual({
        kind,
        title: true,
        problem: true,
        fix: true,
      });
      expect(x!.title).not.toMatch(/^Failed/); // its own explainer, not the fallback
    }
  }
});

it('names only failure kinds in the trace policy and the notifications', () => {
  expect([...CREDENTIAL_BACKED_KINDS].filter((k) => !isFailureKind(k))).toEqual([]);
  expect(NOTIFIED_KINDS.filter((k) => !isFailureKind(k))).toEqual([]);
});

it('falls back to the recorded cause for a kind it does not know', () => {
  const x = explain({ step: 'token', outcome: 'error', kind: 'brand_new_kind', error: 'invalid_request', cause: 'the precise cause' });
  expect(x).toMatchObject({ problem: 'the precise cause', severity: 'error' });
  expect(explain({ step: 'token', outcome: 'ok' })).toBeUndefined();
});
