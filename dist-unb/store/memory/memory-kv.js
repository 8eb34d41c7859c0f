"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.createMemoryKv = createMemoryKv;
/**
 * The in-memory Kv: the same contract as the SQLite store (transactions that roll back when they throw, expiry,
 * Keyv's envelope), for the grant logic's table-driven unit tests and the benchmark's fill.
 */
const kv_1 = require("../kv");
function createMemoryKv(now = Date.now) {
    const rows = new Map();
    let inTransaction = false;
    const live = (s) => s !== undefined && (s.expires === undefined || s.expires > now());
    function unit(work, writable) {
        if (inTransaction)
            throw new Error('transactions do not nest: a decision is one unit of work');
        // Values are kept as JSON text, like the database, so a caller can never mutate a stored record in place.
        const undo = new Map();
        const remember = (key) => {
            if (!undo.has(key))
                undo.set(key, rows.get(key));
        };
        const tx = {
            get: (key) => {
                const s = rows.get(key);
                return live(s) ? (0, kv_1.decodeRow)(s.text) : undefined;
            },
            put: (key, value, expires) => {
                if (!writable)
                    throw new Error('read(): a read-only unit of work cannot write');
                remember(key);
                rows.set(key, { text: (0, kv_1.encodeRow)(value, expires), expires });
            },
            delete: (key) => {
                if (!writable)
                    throw new Error('read(): a read-only unit of work cannot write');
                remember(key);
                rows.delete(key);
            },
            scan: (prefix) => {
                const out = [];
                for (const [key, s] of [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
                    if (key.startsWith(prefix) && live(s))
                        out.push({ key, value: (0, kv_1.decodeRow)(s.text), expires: s.expires });
                }
                return out;
            },
        };
        inTransaction = true;
        try {
            return work(tx);
        }
        catch (err) {
            for (const [key, before] of undo) {
                if (before === undefined)
                    rows.delete(key);
                else
                    rows.set(key, before);
            }
            throw err;
        }
        finally {
            inTransaction = false;
        }
    }
    return {
        transaction: (work) => unit(work, true),
        read: (work) => unit(work, false),
        purgeStep(after, limit) {
            const window = [...rows.keys()]
                .filter((key) => after === undefined || key > after)
                .sort()
                .slice(0, limit);
            let removed = 0;
            for (const key of window) {
                const s = rows.get(key);
                if (s && !live(s)) {
                    rows.delete(key);
                    removed++;
                }
            }
            return { removed, next: window.length === limit ? window[window.length - 1] : undefined };
        },
        size: () => rows.size,
    };
}
//# sourceMappingURL=memory-kv.js.map