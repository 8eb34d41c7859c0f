/**
 * The server's few outgoing requests, all plain HTTP to a neighbour: the Supervisor's /auth, Home Assistant's
 * notification service through the Supervisor, and the diagnosis probing this server's own listeners. They use
 * node:http, which the server has loaded anyway: fetch would load undici on its first call, about 15 MB of
 * resident memory that the process then keeps (an idle server is about 70 MB).
 */
import { request } from 'node:http';

export interface LocalRequest {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as is, with its Content-Length. */
  body?: string;
  /** Aborts the request: a timeout (AbortSignal.timeout) or the server stopping. */
  signal?: AbortSignal;
}

export interface LocalAnswer {
  status: number;
  /** The body as text, at most MAX_ANSWER_BYTES (these answers are small JSON documents). */
  text: string;
}

/** Why no answer came: it took too long or was abandoned, or it failed (no connection, a broken or oversized answer). */
export class LocalRequestFailed extends Error {
  constructor(
    readonly reason: 'aborted' | 'failed',
    /** The system error code (ECONNREFUSED, ENOTFOUND, ...) when there is one. */
    readonly code: string | undefined,
    message: string,
  ) {
    super(message);
  }
}

export type LocalSend = (url: URL, init?: LocalRequest) => Promise<LocalAnswer>;

const MAX_ANSWER_BYTES = 1024 * 1024;

export const sendLocal: LocalSend = (url, init = {}) =>
  new Promise((resolve, reject) => {
    if (url.protocol !== 'http:') {
      reject(new LocalRequestFailed('failed', undefined, `${url.protocol} is not plain HTTP`));
      return;
    }
    const fail = (err: Error & { code?: string }) =>
      reject(
        init.signal?.aborted || err.name === 'AbortError'
          ? new LocalRequestFailed('aborted', undefined, String(init.signal?.reason ?? err.message))
          : new LocalRequestFailed('failed', err.code, err.message),
      );
    const headers = { ...init.headers, ...(init.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(init.body)) }) };
    const req = request(url, { method: init.method ?? 'GET', headers, signal: init.signal }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end(init.body);
  });
