"use strict";
/**
 * The storage primitive under every protocol record: a synchronous key-value table with an expiry per row, where
 * a unit of work is one transaction. Synchronous on purpose: a decision (consume a code, rotate a refresh token,
 * revoke a grant) reads, decides and writes with no `await` in between, so nothing can interleave with it, in
 * this process or another one (the CLI); no lock in memory is needed.
 *
 * Rows are stored in Keyv's envelope, `{"value": …, "expires": …}` as JSON, so the Keyv adapter over the same
 * table (store/keyv-adapter.ts) reads and writes the very same records.
 */
Object.defineProperty(exports, "__esModule", { value: true });
exports.encodeRow = encodeRow;
exports.decodeRow = decodeRow;
/** The envelope Keyv writes; the store keeps `expires` in a column of its own too, for the purge. */
function encodeRow(value, expires) {
    return JSON.stringify(expires === undefined ? { value } : { value, expires });
}
function decodeRow(text) {
    return JSON.parse(text).value;
}
//# sourceMappingURL=kv.js.map