"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.sendLocal = exports.LocalRequestFailed = void 0;
/**
 * The server's few outgoing requests, all plain HTTP to a neighbour: the Supervisor's /auth, Home Assistant's
 * notification service through the Supervisor, and the diagnosis probing this server's own listeners. They use
 * node:http, which the server has loaded anyway: fetch would load undici on its first call, about 15 MB of
 * resident memory that the process then keeps (an idle server is about 70 MB).
 */
const node_http_1 = require("node:http");
/** Why no answer came: it took too long or was abandoned, or it failed (no connection, a broken or oversized answer). */
class LocalRequestFailed extends Error {
    reason;
    code;
    constructor(reason, 
    /** The system error code (ECONNREFUSED, ENOTFOUND, ...) when there is one. */
    code, message) {
        super(message);
        this.reason = reason;
        this.code = code;
    }
}
exports.LocalRequestFailed = LocalRequestFailed;
const MAX_ANSWER_BYTES = 1024 * 1024;
const sendLocal = (url, init = {}) => new Promise((resolve, reject) => {
    if (url.protocol !== 'http:') {
        reject(new LocalRequestFailed('failed', undefined, `${url.protocol} is not plain HTTP`));
        return;
    }
    const fail = (err) => reject(init.signal?.aborted || err.name === 'AbortError'
        ? new LocalRequestFailed('aborted', undefined, String(init.signal?.reason ?? err.message))
        : new LocalRequestFailed('failed', err.code, err.message));
    const headers = { ...init.headers, ...(init.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(init.body)) }) };
    const req = (0, node_http_1.request)(url, { method: init.method ?? 'GET', headers, signal: init.signal }, (res) => {
        const chunks = [];
        let size = 0;
        res.on('data', (chunk) => {
            size += chunk.length;
            if (size > MAX_ANSWER_BYTES)
                req.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
            else
                chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', fail);
    });
    req.on('error', fail);
    req.end(init.body);
});
exports.sendLocal = sendLocal;
//# sourceMappingURL=local-http.js.map