/**
 * POSTs to the token, revocation and introspection endpoints skip Express's router: they go straight to their
 * chain of handlers, and every other request goes to the app as before. On the bare-Express ceiling, app.handle and
 * the router (one layer match per middleware, a finalhandler per request) took half of a request's CPU: a server
 * with the same prototypes, body parser and res.json but without them took 32 µs against 62–73 µs. In this server,
 * skipping them saves about 4% of an introspection's and of a refresh's CPU (docs/benchmark.md). The chain still
 * runs on Express's request and response, with the app's prototypes set as app.handle sets them, so req.ip (trust
 * proxy), req.get, the body parser and res.json behave exactly as behind the router. The router keeps the same
 * routes: a request this dispatcher does not recognise, say an absolute-form request line, is served by them.
 */
import type { ErrorRequestHandler, Express, NextFunction, Request, RequestHandler, Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** A path as Express's router matches a route: not case-sensitive, one trailing slash allowed; the query ignored. */
export function routePath(url: string): string {
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * A request listener: POSTs to a path of `posts` run its chain (errors go to `onError`), everything else goes to
 * `app`. The chains must answer every request they are given.
 */
export function dispatchFixedPosts(app: Express, posts: Map<string, RequestHandler[]>, onError: ErrorRequestHandler): RequestListener {
  return (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chain = incoming.method === 'POST' ? posts.get(routePath(incoming.url ?? '/')) : undefined;
    if (!chain) {
      app(incoming, outgoing);
      return;
    }
    // What app.handle and the router do before the first middleware.
    const req = Object.setPrototypeOf(incoming, app.request) as Request;
    const res = Object.setPrototypeOf(outgoing, app.response) as Response;
    req.res = res;
    res.req = req;
    res.locals = Object.create(null) as Response['locals'];
    req.originalUrl = req.url;
    req.baseUrl = '';

    let index = 0;
    let failed = false;
    const fail = (err: unknown): void => {
      if (failed) {
        // The error handler itself failed: end the request rather than leave it hanging.
        if (!res.headersSent) res.status(500).end();
        return;
      }
      failed = true;
      try {
        onError(err, req, res, () => fail(err));
      } catch (again) {
        fail(again);
      }
    };
    const next: NextFunction = (err?: unknown) => {
      if (err !== undefined && err !== null) {
        fail(err);
        return;
      }
      const handler = chain[index++];
      if (!handler) {
        fail(new Error(`no handler answered POST ${req.path}`));
        return;
      }
      try {
        handler(req, res, next);
      } catch (thrown) {
        fail(thrown);
      }
    };
    next();
  };
}
