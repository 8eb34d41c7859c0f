/**
 * The dispatcher that serves the token endpoints' POSTs without Express's router (src/http/fixed-posts.ts), on a
 * real listening server: a POST to a fixed path runs its chain on Express's request and response (the app's
 * settings apply: trust proxy, res.json) and never enters the app; the paths match as the router matches them;
 * everything else goes to the app; errors, thrown or passed on, reach the error handler, and a failing error
 * handler still ends the request.
 */
import { afterEach, expect } from '@jest/globals';
import express, { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { AddressInfo } from 'node:net';
import { Server, createServer } from 'node:http';
import { dispatchFixedPosts, routePath } from '../../src/http/fixed-posts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

interface Setup {
  chain: RequestHandler[];
  onError?: ErrorRequestHandler;
}

/** A server whose app counts the requests it sees, with one fixed POST path, /fixed. */
async function serve({ chain, onError }: Setup) {
  const app = express();
  app.set('trust proxy', ['127.0.0.1']);
  const seenByApp: string[] = [];
  app.use((req, res) => {
    seenByApp.push(`${req.method} ${req.url}`);
    res.status(404).json({ app: true });
  });
  const errors: unknown[] = [];
  const handleError: ErrorRequestHandler =
    onError ??
    ((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      errors.push(err);
      res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
    });
  const server = createServer(dispatchFixedPosts(app, new Map([['/fixed', chain]]), handleError));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, seenByApp, errors };
}

const echo: RequestHandler = (req, res) => {
  res.status(201).json({ ip: req.ip, host: req.get('host'), path: req.path, local: typeof res.locals });
};

it('matches a path as the router does: any case, one trailing slash, the query ignored', () => {
  expect(routePath('/alexa/token')).toBe('/alexa/token');
  expect(routePath('/ALEXA/Token/')).toBe('/alexa/token');
  expect(routePath('/alexa/token?x=1')).toBe('/alexa/token');
  expect(routePath('/alexa/token/?x=/')).toBe('/alexa/token');
  expect(routePath('/alexa/token//')).toBe('/alexa/token/');
  expect(routePath('/')).toBe('/');
});

it('runs the chain of a fixed POST on Express request and response objects, without the app', async () => {
  const { base, seenByApp } = await serve({ chain: [echo] });
  for (const path of ['/fixed', '/FIXED/', '/fixed?a=b']) {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // trust proxy from the app's settings: the address comes from X-Forwarded-For, as behind the router.
    expect(await res.json()).toEqual({ ip: '203.0.113.9', host: new URL(base).host, path: path.split('?')[0], local: 'object' });
  }
  expect(seenByApp).toEqual([]);
});

it('sends everything else to the app', async () => {
  const { base, seenByApp } = await serve({ chain: [echo] });
  expect((await fetch(`${base}/fixed`)).status).toBe(404);
  expect((await fetch(`${base}/other`, { method: 'POST' })).status).toBe(404);
  expect((await fetch(`${base}/fixed/x`, { method: 'POST' })).status).toBe(404);
  expect(seenByApp).toEqual(['GET /fixed', 'POST /other', 'POST /fixed/x']);
});

it('runs the handlers in order, each calling the next', async () => {
  const steps: RequestHandler[] = [
    (_req, res, next) => {
      res.locals.trail = ['first'];
      next();
    },
    (_req, res, next) => {
      (res.locals.trail as string[]).push('second');
      next();
    },
    (_req, res) => {
      res.json(res.locals.trail);
    },
  ];
  const { base } = await serve({ chain: steps });
  expect(await (await fetch(`${base}/fixed`, { method: 'POST' })).json()).toEqual(['first', 'second']);
});

it('hands an error thrown, or passed to next, to the error handler', async () => {
  const thrown = await serve({
    chain: [
      () => {
        throw new Error('boom');
      },
    ],
  });
  const res = await fetch(`${thrown.base}/fixed`, { method: 'POST' });
  expect(res.status).toBe(500);
  expect(await res.json()).toEqual({ error: 'boom' });
  expect(thrown.errors).toHaveLength(1);

  const passed = await serve({ chain: [(_req, _res, next) => next(Object.assign(new Error('too large'), { status: 413 }))] });
  expect(await (await fetch(`${passed.base}/fixed`, { method: 'POST' })).json()).toEqual({ error: 'too large' });
});

it('treats a chain that runs out without answering as an error, naming the path', async () => {
  const { base, errors } = await serve({ chain: [(_req, _res, next) => next()] });
  const res = await fetch(`${base}/fixed`, { method: 'POST' });
  expect(res.status).toBe(500);
  expect(await res.json()).toEqual({ error: 'no handler answered POST /fixed' });
  expect(errors).toHaveLength(1);
});

it('ends the request with a 500 when the error handler itself fails', async () => {
  const failingHandler: ErrorRequestHandler = () => {
    throw new Error('the error handler failed');
  };
  const chain: RequestHandler[] = [
    () => {
      throw new Error('boom');
    },
  ];
  const { base } = await serve({ chain, onError: failingHandler });
  const res = await fetch(`${base}/fixed`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(500);
});
