"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.settled = settled;
/**
 * fn's result as a promise, what it throws as a rejection: what an `async` function without an `await` does, for
 * synchronous work behind a promise-returning interface (Keyv's store, the admin API).
 */
function settled(fn) {
    return new Promise((resolve) => resolve(fn()));
}
//# sourceMappingURL=settled.js.map