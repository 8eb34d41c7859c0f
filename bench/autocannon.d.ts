/**
 * The part of autocannon 8's API the bench uses (the package ships no types, and @types/autocannon is not a
 * dependency). Context: autocannon hands setupRequest and onResponse the same object for one request.
 */
declare module 'autocannon' {
  import { EventEmitter } from 'node:events';

  namespace autocannon {
    interface RequestParams {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    }

    interface Request<Ctx> extends RequestParams {
      /** Called before each request; returns the request to send (falsy: skip). */
      setupRequest?: (request: RequestParams, context: Ctx) => RequestParams;
      onResponse?: (status: number, body: string, context: Ctx, headers: Record<string, string | string[]>) => void;
    }

    interface Options<Ctx> {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      /** Seconds. */
      duration?: number;
      sampleInt?: number;
      requests?: Array<Request<Ctx>>;
      initialContext?: Ctx;
    }

    interface Result {
      errors: number;
      timeouts: number;
      non2xx: number;
    }

    interface Instance extends EventEmitter {
      stop(): void;
      on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTime: number) => void): this;
    }
  }

  function autocannon<Ctx extends object>(
    options: autocannon.Options<Ctx>,
    done: (err: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;
  export = autocannon;
}
