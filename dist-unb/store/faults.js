"use strict";
/** What can be wrong with the database, as data the HTTP layer, /health and the admin page act on. */
Object.defineProperty(exports, "__esModule", { value: true });
exports.StoreError = void 0;
exports.isStoreError = isStoreError;
/** A store operation failed for a storage reason: the caller answers 503, never "not found" or invalid_grant. */
class StoreError extends Error {
    fault;
    constructor(fault, message, options) {
        super(message, options);
        this.fault = fault;
        this.name = 'StoreError';
    }
}
exports.StoreError = StoreError;
function isStoreError(err) {
    return err instanceof StoreError;
}
//# sourceMappingURL=faults.js.map