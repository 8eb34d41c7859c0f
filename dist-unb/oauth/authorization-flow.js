"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.REPEAT_DECISION_WINDOW_MS = exports.FLOW_TTL_MS = void 0;
exports.rotateSealingKeyIn = rotateSealingKeyIn;
exports.startAuthorization = startAuthorization;
exports.openPendingRequest = openPendingRequest;
exports.decide = decide;
/**
 * The authorization request between GET /authorize and the owner's decision (RFC 6749 §4.1.1-4.1.2), free of HTTP.
 *
 * Nothing is stored for an anonymous visitor: the validated request is sealed (AES-256-GCM with the server's key)
 * and carried by the login and consent forms, so a flood of authorize requests writes nothing to disk. The owner's
 * decision is the first write, and it is one transaction: the decision and the code are recorded together, and a
 * repeated decision on the same request (a double tap on a slow phone, a resubmitted form) answers the first one
 * again, with the same code (derived from the key and the request id, so it is never stored in clear).
 */
const seal_1 = require("../crypto/seal");
const tokens_1 = require("../crypto/tokens");
const authorization_code_1 = require("./grants/authorization-code");
/** How long a person has from the authorize page to the decision. */
exports.FLOW_TTL_MS = 15 * 60 * 1000;
/** A repeated decision within this time answers the first again; later it is "already completed". */
exports.REPEAT_DECISION_WINDOW_MS = 2 * 60 * 1000;
const SEAL_PURPOSE = 'authorization-request/v1';
/** The server's sealing key, made on first use and kept in the database (so pending requests survive a restart). */
function sealingKey(deps) {
    // A read first: the write lock is taken only the one time the key is made.
    const keys = deps.storage.read((tx) => tx.server.keys()) ??
        deps.storage.transaction((tx) => {
            const existing = tx.server.keys();
            if (existing)
                return existing;
            const made = { sealing: (0, seal_1.newKey)().toString('base64url') };
            tx.server.saveKeys(made);
            return made;
        });
    return Buffer.from(keys.sealing, 'base64url');
}
/** Drops every pending request at once ("revoke all"), inside the caller's transaction: they were sealed with the old key. */
function rotateSealingKeyIn(tx) {
    tx.server.saveKeys({ sealing: (0, seal_1.newKey)().toString('base64url') });
}
function startAuthorization(deps, request, flowHash) {
    const pending = {
        id: (0, tokens_1.randomToken)(16),
        clientId: request.client.clientId,
        redirectUri: request.redirectUri,
        redirectUriGiven: request.redirectUriGiven,
        scopes: request.scopes,
        state: request.state,
        codeChallenge: request.codeChallenge,
        flowHash,
        csrf: (0, tokens_1.randomToken)(16),
        createdAt: deps.now(),
    };
    return { pending, sealed: (0, seal_1.seal)(sealingKey(deps), SEAL_PURPOSE, pending) };
}
/** The sealed request a form carried back; forged or foreign blobs are simply "expired". */
function openPendingRequest(deps, sealed) {
    if (!sealed)
        return { ok: false, kind: 'request_missing' };
    if (sealed.length > 8192)
        return { ok: false, kind: 'request_expired' };
    const pending = (0, seal_1.unseal)(sealingKey(deps), SEAL_PURPOSE, sealed);
    if (!pending || typeof pending.id !== 'string' || typeof pending.createdAt !== 'number')
        return { ok: false, kind: 'request_expired' };
    return { ok: true, pending, expired: deps.now() - pending.createdAt > exports.FLOW_TTL_MS };
}
/**
 * The owner's decision, as one transaction. The first decision on a request wins: a later one within the repeat
 * window gets the same answer (the same code), later still "already decided". Never a second code. A request past
 * its FLOW_TTL_MS (`expired`) can only repeat a decision made in time.
 */
function decide(deps, pending, username, approve, expired = false) {
    const key = sealingKey(deps);
    const code = (0, seal_1.derive)(key, 'authorization-code', pending.id);
    return deps.storage.transaction((tx) => {
        const now = deps.now();
        const earlier = tx.consents.find(pending.id);
        if (earlier) {
            if (now - earlier.decidedAt > exports.REPEAT_DECISION_WINDOW_MS)
                return { outcome: 'already_decided', decidedAt: earlier.decidedAt };
            return earlier.approved ? { outcome: 'approved', code, repeated: true } : { outcome: 'denied', repeated: true };
        }
        if (expired)
            return { outcome: 'expired' };
        // Kept as long as the sealed request could be posted again, so a late repeat is refused, not answered anew.
        tx.consents.record(pending.id, { approved: approve, username, decidedAt: now }, pending.createdAt + exports.FLOW_TTL_MS + exports.REPEAT_DECISION_WINDOW_MS);
        if (!approve)
            return { outcome: 'denied', repeated: false };
        const hash = (0, tokens_1.tokenHash)(code);
        const expiresAt = now + deps.lifetimes.authCode * 1000;
        tx.codes.create(hash, {
            clientId: pending.clientId,
            redirectUri: pending.redirectUri,
            redirectUriGiven: pending.redirectUriGiven,
            scopes: pending.scopes,
            username,
            codeChallenge: pending.codeChallenge,
            issuedAt: now,
            expiresAt,
            grantId: (0, tokens_1.tokenHash)(`grant:${hash}`).slice(0, 22),
        }, expiresAt + authorization_code_1.CODE_RECORD_GRACE_MS);
        return { outcome: 'approved', code, repeated: false };
    });
}
//# sourceMappingURL=authorization-flow.js.map