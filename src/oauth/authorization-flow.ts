/**
 * The authorization request between GET /authorize and the owner's decision (RFC 6749 §4.1.1-4.1.2), free of HTTP.
 *
 * Nothing is stored for an anonymous visitor: the validated request is sealed (AES-256-GCM with the server's key)
 * and carried by the login and consent forms, so a flood of authorize requests writes nothing to disk. The owner's
 * decision is the first write, and it is one transaction: the decision and the code are recorded together, and a
 * repeated decision on the same request (a double tap on a slow phone, a resubmitted form) answers the first one
 * again, with the same code (derived from the key and the request id, so it is never stored in clear).
 */
import { derive, newKey, seal, unseal } from '../crypto/seal';
import { randomToken, tokenHash } from '../crypto/tokens';
import { OAuthTx, ServerKeys } from '../store/records';
import { GrantDeps } from './grant-deps';
import { CODE_RECORD_GRACE_MS } from './grants/authorization-code';
import { ValidAuthorizeRequest } from './authorize-request';

/** How long a person has from the authorize page to the decision. */
export const FLOW_TTL_MS = 15 * 60 * 1000;
/** A repeated decision within this time answers the first again; later it is "already completed". */
export const REPEAT_DECISION_WINDOW_MS = 2 * 60 * 1000;

const SEAL_PURPOSE = 'authorization-request/v1';

/** A validated authorization request waiting for login and consent, as sealed in the forms. */
export interface PendingRequest {
  /** Random id: names the decision, and the code is derived from it. */
  id: string;
  clientId: string;
  redirectUri: string;
  /** Whether redirect_uri was in the request: then the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriGiven: boolean;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
  /** Hash of the flow cookie of the browser that started this request: the request is bound to it. */
  flowHash: string;
  /** Anti-CSRF token carried by the login and consent forms. */
  csrf: string;
  createdAt: number;
}

/** The server's sealing key, made on first use and kept in the database (so pending requests survive a restart). */
function sealingKey(deps: GrantDeps): Buffer {
  // A read first: the write lock is taken only the one time the key is made.
  const keys: ServerKeys =
    deps.storage.read((tx) => tx.server.keys()) ??
    deps.storage.transaction((tx) => {
      const existing = tx.server.keys();
      if (existing) return existing;
      const made = { sealing: newKey().toString('base64url') };
      tx.server.saveKeys(made);
      return made;
    });
  return Buffer.from(keys.sealing, 'base64url');
}

/**
 * What a browser's device cookie holds once it logged in as a username (its lock key, config/username.ts): made
 * with the sealing key, so "revoke all" forgets every device too.
 */
export function deviceProof(deps: GrantDeps, lockKey: string): string {
  return derive(sealingKey(deps), 'trusted-device', lockKey);
}

/** Drops every pending request at once ("revoke all"), inside the caller's transaction: they were sealed with the old key. */
export function rotateSealingKeyIn(tx: OAuthTx): void {
  tx.server.saveKeys({ sealing: newKey().toString('base64url') });
}

export function startAuthorization(
  deps: GrantDeps,
  request: ValidAuthorizeRequest,
  flowHash: string,
): { pending: PendingRequest; sealed: string } {
  const pending: PendingRequest = {
    id: randomToken(16),
    clientId: request.client.clientId,
    redirectUri: request.redirectUri,
    redirectUriGiven: request.redirectUriGiven,
    scopes: request.scopes,
    state: request.state,
    codeChallenge: request.codeChallenge,
    flowHash,
    csrf: randomToken(16),
    createdAt: deps.now(),
  };
  return { pending, sealed: seal(sealingKey(deps), SEAL_PURPOSE, pending) };
}

export type OpenedRequest =
  /** `expired`: genuine, but older than FLOW_TTL_MS: only a repeat of a decision already made may use it. */
  { ok: true; pending: PendingRequest; expired: boolean } | { ok: false; kind: 'request_missing' | 'request_expired' };

/** The sealed request a form carried back; forged or foreign blobs are simply "expired". */
export function openPendingRequest(deps: GrantDeps, sealed: string | undefined): OpenedRequest {
  if (!sealed) return { ok: false, kind: 'request_missing' };
  if (sealed.length > 8192) return { ok: false, kind: 'request_expired' };
  const pending = unseal<PendingRequest>(sealingKey(deps), SEAL_PURPOSE, sealed);
  if (!pending || typeof pending.id !== 'string' || typeof pending.createdAt !== 'number') return { ok: false, kind: 'request_expired' };
  return { ok: true, pending, expired: deps.now() - pending.createdAt > FLOW_TTL_MS };
}

export type Decision =
  | { outcome: 'approved'; code: string; repeated: boolean }
  | { outcome: 'denied'; repeated: boolean }
  /** Decided before, longer ago than the repeat window: nothing new is issued. */
  | { outcome: 'already_decided'; decidedAt: number }
  /** No decision yet, and the request is past its time: nothing is issued. */
  | { outcome: 'expired' };

/**
 * The owner's decision, as one transaction. The first decision on a request wins: a later one within the repeat
 * window gets the same answer (the same code), later still "already decided". Never a second code. A request past
 * its FLOW_TTL_MS (`expired`) can only repeat a decision made in time.
 */
export function decide(deps: GrantDeps, pending: PendingRequest, username: string, approve: boolean, expired = false): Decision {
  const key = sealingKey(deps);
  const code = derive(key, 'authorization-code', pending.id);
  return deps.storage.transaction((tx): Decision => {
    const now = deps.now();
    const earlier = tx.consents.find(pending.id);
    if (earlier) {
      if (now - earlier.decidedAt > REPEAT_DECISION_WINDOW_MS) return { outcome: 'already_decided', decidedAt: earlier.decidedAt };
      return earlier.approved ? { outcome: 'approved', code, repeated: true } : { outcome: 'denied', repeated: true };
    }
    if (expired) return { outcome: 'expired' };
    // Kept as long as the sealed request could be posted again, so a late repeat is refused, not answered anew.
    tx.consents.record(
      pending.id,
      { approved: approve, username, decidedAt: now },
      pending.createdAt + FLOW_TTL_MS + REPEAT_DECISION_WINDOW_MS,
    );
    if (!approve) return { outcome: 'denied', repeated: false };
    const hash = tokenHash(code);
    const expiresAt = now + deps.lifetimes.authCode * 1000;
    tx.codes.create(
      hash,
      {
        clientId: pending.clientId,
        redirectUri: pending.redirectUri,
        redirectUriGiven: pending.redirectUriGiven,
        scopes: pending.scopes,
        username,
        codeChallenge: pending.codeChallenge,
        issuedAt: now,
        expiresAt,
        grantId: tokenHash(`grant:${hash}`).slice(0, 22),
      },
      expiresAt + CODE_RECORD_GRACE_MS,
    );
    return { outcome: 'approved', code, repeated: false };
  });
}
