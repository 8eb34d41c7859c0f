"use strict";
var __createBinding = (this && this.__createBinding) || (Object.create ? (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    var desc = Object.getOwnPropertyDescriptor(m, k);
    if (!desc || ("get" in desc ? !m.__esModule : desc.writable || desc.configurable)) {
      desc = { enumerable: true, get: function() { return m[k]; } };
    }
    Object.defineProperty(o, k2, desc);
}) : (function(o, m, k, k2) {
    if (k2 === undefined) k2 = k;
    o[k2] = m[k];
}));
var __setModuleDefault = (this && this.__setModuleDefault) || (Object.create ? (function(o, v) {
    Object.defineProperty(o, "default", { enumerable: true, value: v });
}) : function(o, v) {
    o["default"] = v;
});
var __importStar = (this && this.__importStar) || (function () {
    var ownKeys = function(o) {
        ownKeys = Object.getOwnPropertyNames || function (o) {
            var ar = [];
            for (var k in o) if (Object.prototype.hasOwnProperty.call(o, k)) ar[ar.length] = k;
            return ar;
        };
        return ownKeys(o);
    };
    return function (mod) {
        if (mod && mod.__esModule) return mod;
        var result = {};
        if (mod != null) for (var k = ownKeys(mod), i = 0; i < k.length; i++) if (k[i] !== "default") __createBinding(result, mod, k[i]);
        __setModuleDefault(result, mod);
        return result;
    };
})();
Object.defineProperty(exports, "__esModule", { value: true });
exports.KvKeyvAdapter = void 0;
exports.createKeyv = createKeyv;
/**
 * Keyv (the design card's persistence API) over our store's table: a Keyv v6 storage adapter, so `new Keyv({ store })`
 * reads and writes the same rows, in the same envelope, as the synchronous protocol layer. Records that need no
 * read-decide-write atomicity (login sessions, the server's runtime record) go through Keyv; protocol decisions go
 * through Kv.transaction, which Keyv's asynchronous, one-call-at-a-time API cannot express.
 */
const keyv_1 = __importStar(require("keyv"));
const settled_1 = require("../settled");
/** The adapter stores Keyv's encoded envelope as it is; `expires` also goes to the indexed column. */
/** Shaped as Keyv's KeyvStorageAdapter (that type also demands an event emitter; errors are thrown here instead). */
class KvKeyvAdapter {
    kv;
    now;
    capabilities;
    namespace;
    /** `now`: the store's clock. Keyv computes `expires` on the wall clock; rows expire on the store's (tests move it). */
    constructor(kv, now = Date.now) {
        this.kv = kv;
        this.now = now;
        this.capabilities = (0, keyv_1.keyvStorageCapability)(this);
    }
    get(key) {
        return (0, settled_1.settled)(() => this.kv.read((tx) => envelopeText(tx.get(key))));
    }
    async getMany(keys) {
        return Promise.all(keys.map((k) => this.get(k)));
    }
    async has(key) {
        return (await this.get(key)) !== undefined;
    }
    async hasMany(keys) {
        return Promise.all(keys.map((k) => this.has(k)));
    }
    set(key, value, expires) {
        return (0, settled_1.settled)(() => {
            const envelope = typeof value === 'string' ? JSON.parse(value) : value;
            this.kv.transaction((tx) => tx.put(key, envelope.value, this.onStoreClock(expires)));
            return true;
        });
    }
    setMany(entries) {
        return (0, settled_1.settled)(() => {
            this.kv.transaction((tx) => {
                for (const e of entries) {
                    const envelope = typeof e.value === 'string' ? JSON.parse(e.value) : e.value;
                    tx.put(e.key, envelope.value, this.onStoreClock(e.expires));
                }
            });
            return entries.map(() => true);
        });
    }
    onStoreClock(expires) {
        return expires === undefined ? undefined : this.now() + (expires - Date.now());
    }
    delete(key) {
        return (0, settled_1.settled)(() => this.kv.transaction((tx) => {
            const existed = tx.get(key) !== undefined;
            tx.delete(key);
            return existed;
        }));
    }
    async deleteMany(keys) {
        return Promise.all(keys.map((k) => this.delete(k)));
    }
    /** Refused: the table holds every link; wiping it through a cache API must never be one call away. */
    clear() {
        return Promise.reject(new Error('clear() is not supported: the table holds the OAuth records; revoke links through oauth-admin'));
    }
    disconnect() {
        return Promise.resolve(); // the store's owner closes it
    }
    async *iterator(namespace) {
        const rows = await (0, settled_1.settled)(() => this.kv.read((tx) => tx.scan(namespace ? `${namespace}:` : '')));
        for (const r of rows)
            yield [r.key, JSON.stringify({ value: r.value, expires: r.expires })];
    }
}
exports.KvKeyvAdapter = KvKeyvAdapter;
/** Keyv's decoder takes the envelope as JSON text (its serializer is JSON here). */
function envelopeText(value) {
    return value === undefined ? undefined : JSON.stringify({ value });
}
/** A Keyv over the store with plain JSON (our records are plain objects), errors thrown rather than swallowed. */
function createKeyv(kv, now = Date.now) {
    const keyv = new keyv_1.default({
        store: new KvKeyvAdapter(kv, now),
        serialization: { stringify: JSON.stringify, parse: JSON.parse },
        throwOnErrors: true,
    });
    return keyv;
}
//# sourceMappingURL=keyv-adapter.js.map