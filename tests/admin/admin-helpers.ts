/**
 * The admin side under test: the real server with its admin listener on a runtime port, a stand-in for Home
 * Assistant's Ingress proxy (strips /api/hassio_ingress/<token>, adds X-Ingress-Path, connects from its own
 * address like 172.30.32.2 does), raw HTTP from a chosen source address, and Chromium.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { IncomingHttpHeaders, Server, createServer, request } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { RateLimitSettings } from '../../src/http/rate-limits';
import { RunningServer } from '../../src/main';
import { CHROMIUM, CHROMIUM_ARGS } from '../helpers/chromium';
import { startInProcess } from '../helpers/test-server';

export const INGRESS_PREFIX = '/api/hassio_ingress/Xk3tQ9vRtestTOKEN';
/** Plays 172.30.32.2: the only address the admin listener accepts in these tests. */
export const PROXY_ADDRESS = '127.0.0.2';
export const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts', 'admin');

export type AdminServer = RunningServer & { dataDir: string; adminUrl: string };

export interface AdminServerOptions {
  allow?: string[];
  options?: Record<string, unknown>;
  dataDir?: string;
  now?: () => number;
  rateLimits?: Partial<RateLimitSettings>;
  /** The Host check against DNS rebinding (on unless false; the add-on turns it off behind Ingress). */
  hostCheck?: boolean;
}

export async function startWithAdmin(opts: AdminServerOptions = {}): Promise<AdminServer> {
  const { allow, hostCheck, ...rest } = opts;
  const server = await startInProcess({ ...rest, admin: { port: 0, host: '127.0.0.1', allow: allow ?? [PROXY_ADDRESS], hostCheck } });
  if (!server.admin.url) throw new Error('the admin listener did not start');
  return Object.assign(server, { adminUrl: server.admin.url });
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request from a chosen local (source) address: node's http, because fetch cannot pick one. */
export function rawRequest(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; localAddress?: string } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: u.pathname + u.search,
        method: init.method ?? 'GET',
        headers: init.headers,
        localAddress: init.localAddress,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

export interface IngressProxy {
  /** http://127.0.0.1:<port><INGRESS_PREFIX> */
  base: string;
  close(): Promise<void>;
}

/**
 * What Home Assistant's Ingress does: serves the add-on under /api/hassio_ingress/<token>/, forwards the rest of
 * the path, adds X-Ingress-Path and the user headers, and connects from its own address.
 */
export async function startIngressProxy(adminUrl: string, fromAddress = PROXY_ADDRESS): Promise<IngressProxy> {
  const target = new URL(adminUrl);
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(`${INGRESS_PREFIX}/`) && url !== INGRESS_PREFIX) {
      res.writeHead(404).end('not an ingress path');
      return;
    }
    const rest = url.slice(INGRESS_PREFIX.length) || '/';
    const headers = {
      ...req.headers,
      host: target.host,
      'x-ingress-path': INGRESS_PREFIX,
      'x-remote-user-name': 'admin',
      'x-remote-user-display-name': 'Test Admin',
    };
    const upstream = request(
      { host: target.hostname, port: target.port, path: rest, method: req.method, headers, localAddress: fromAddress },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('bad gateway'));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}${INGRESS_PREFIX}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Debian's Chromium with a fresh profile. */
export async function launchBrowser(colorScheme: 'light' | 'dark' = 'light'): Promise<BrowserContext> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(tmpdir(), 'maoauth-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    colorScheme,
    viewport: { width: 1200, height: 900 },
  });
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The admin page as the Ingress proxy reaches it: a GET, a form POST, and the CSRF token of a page. */
export function fromProxy(server: AdminServer) {
  const get = (urlPath: string, init: Parameters<typeof rawRequest>[1] = {}) =>
    rawRequest(`${server.adminUrl}${urlPath}`, { localAddress: PROXY_ADDRESS, ...init });
  const post = (urlPath: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    get(urlPath, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(form).toString(),
    });
  return { get, post };
}

export const csrfOf = (html: string): string => {
  const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error('the page has no csrf field');
  return token;
};
