"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.routePath = routePath;
exports.dispatchFixedPosts = dispatchFixedPosts;
/** A path as Express's router matches a route: not case-sensitive, one trailing slash allowed; the query ignored. */
function routePath(url) {
    const q = url.indexOf('?');
    const path = (q < 0 ? url : url.slice(0, q)).toLowerCase();
    return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}
/**
 * A request listener: POSTs to a path of `posts` run its chain (errors go to `onError`), everything else goes to
 * `app`. The chains must answer every request they are given.
 */
function dispatchFixedPosts(app, posts, onError) {
    return (incoming, outgoing) => {
        const chain = incoming.method === 'POST' ? posts.get(routePath(incoming.url ?? '/')) : undefined;
        if (!chain) {
            app(incoming, outgoing);
            return;
        }
        // What app.handle and the router do before the first middleware.
        const req = Object.setPrototypeOf(incoming, app.request);
        const res = Object.setPrototypeOf(outgoing, app.response);
        req.res = res;
        res.req = req;
        res.locals = Object.create(null);
        req.originalUrl = req.url;
        req.baseUrl = '';
        let index = 0;
        let failed = false;
        const fail = (err) => {
            if (failed) {
                // The error handler itself failed: end the request rather than leave it hanging.
                if (!res.headersSent)
                    res.status(500).end();
                return;
            }
            failed = true;
            try {
                onError(err, req, res, () => fail(err));
            }
            catch (again) {
                fail(again);
            }
        };
        const next = (err) => {
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
            }
            catch (thrown) {
                fail(thrown);
            }
        };
        next();
    };
}
//# sourceMappingURL=fixed-posts.js.map