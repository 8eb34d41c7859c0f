"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SESSION_PREFIX = exports.EXPIRED_RECORD_KEPT_MS = void 0;
exports.createOAuthStorage = createOAuthStorage;
const strip = (prefix, key) => key.slice(prefix.length);
/**
 * How long a refresh token's record outlives the token: a late refresh is then told "expired from disuse" (and the
 * operator why), not "unknown". Its grant is kept as long (oauth/grant-deps.ts grantExpiry).
 */
exports.EXPIRED_RECORD_KEPT_MS = 30 * 86_400_000;
function bind(tx) {
    return {
        codes: {
            create: (hash, record, expires) => tx.put(`code:${hash}`, record, expires),
            find: (hash) => tx.get(`code:${hash}`),
            consume: (hash, record, at, expires) => tx.put(`code:${hash}`, { ...record, consumedAt: at }, expires),
            remove: (hash) => tx.delete(`code:${hash}`),
            list: () => tx.scan('code:').map((r) => ({ hash: strip('code:', r.key), record: r.value })),
        },
        grants: {
            find: (id) => tx.get(`grant:${id}`),
            save: (grant, expires) => tx.put(`grant:${grant.id}`, grant, expires),
            list: () => tx.scan('grant:').map((r) => r.value),
        },
        tokens: {
            create: (hash, record) => tx.put(`token:${hash}`, record, record.expiresAt + (record.kind === 'refresh' ? exports.EXPIRED_RECORD_KEPT_MS : 0)),
            find: (hash) => tx.get(`token:${hash}`),
            expireAt: (hash, record, expires) => tx.put(`token:${hash}`, record, Math.min(expires, record.expiresAt)),
            remove: (hash) => tx.delete(`token:${hash}`),
        },
        consents: {
            find: (id) => tx.get(`consent:${id}`),
            record: (id, decision, expires) => tx.put(`consent:${id}`, decision, expires),
        },
        sessions: {
            list: () => tx.scan('session:').map((r) => strip('session:', r.key)),
            remove: (hash) => tx.delete(`session:${hash}`),
        },
        server: {
            keys: () => tx.get('server:keys'),
            saveKeys: (keys) => tx.put('server:keys', keys),
            runtime: () => tx.get('server:runtime'),
            saveRuntime: (record) => (record ? tx.put('server:runtime', record) : tx.delete('server:runtime')),
        },
    };
}
/** The protocol's storage over a Kv: the SQLite store in production, the memory one in unit tests. */
function createOAuthStorage(kv) {
    return {
        transaction: (work) => kv.transaction((tx) => work(bind(tx))),
        read: (work) => kv.read((tx) => work(bind(tx))),
    };
}
/** Key prefix of login sessions, which go through Keyv (browser-session.ts). */
exports.SESSION_PREFIX = 'session:';
//# sourceMappingURL=records.js.map