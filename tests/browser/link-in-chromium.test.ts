/**
 * The owner's side of a link in a real browser (Debian's Chromium, driven by playwright-core): open the authorize
 * URL as the Alexa app does, log in, approve on the consent page, and land on Alexa's redirect URL with code, state
 * and iss. Alexa's backend then exchanges the code over HTTP. Screenshots go to test-artifacts/ for a human to see.
 *
 * No request leaves this machine: Chromium resolves no host name but 127.0.0.1, and the Alexa host is answered with
 * a stub page. The stub uses the DevTools Fetch domain rather than page.route, because the consent POST reaches
 * Alexa through our 303 and Playwright's routing never sees requests that follow a redirect (microsoft/playwright
 * #12527, #33882); the Fetch domain does, so the browser follows our real 303 exactly as it would for Alexa.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BrowserContext, Page, chromium } from 'playwright-core';
import { RunningServer } from '../../src/main';
import { TokenBody, alexaAuthorize, authorizeUrl, pkcePair, tokenRequest } from '../helpers/alexa-client';
import { CHROMIUM, CHROMIUM_ARGS as HEADLESS_ARGS } from '../helpers/chromium';
import { ALEXA_REDIRECT, OWNER, startInProcess } from '../helpers/test-server';

const ARTIFACTS = path.join(__dirname, '..', '..', 'test-artifacts');
const ALEXA_ORIGIN = new URL(ALEXA_REDIRECT).origin;

const CHROMIUM_ARGS = [
  ...HEADLESS_ARGS,
  // Belt and braces for "no network": every host name except our loopback server fails to resolve.
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

let server: RunningServer & { dataDir: string };
let context: BrowserContext;
let userDataDir: string;
/** Every URL the browser asked for outside our server (stubbed or refused, never fetched). */
const outside: string[] = [];

/** Answers requests to the Alexa host with a stub page, refuses every other host, lets our server through. */
async function stubAlexa(page: Page): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  // A request still paused when its page closes (a favicon, say) cannot be answered any more: ignore that.
  const answer = (method: 'Fetch.continueRequest' | 'Fetch.fulfillRequest' | 'Fetch.failRequest', params: Record<string, unknown>) =>
    cdp.send(method, params as never).catch(() => undefined);
  cdp.on('Fetch.requestPaused', (event: { requestId: string; request: { url: string } }) => {
    const { requestId, request } = event;
    if (request.url.startsWith(server.url)) {
      void answer('Fetch.continueRequest', { requestId });
      return;
    }
    outside.push(request.url);
    if (request.url.startsWith(`${ALEXA_ORIGIN}/`)) {
      const body = '<!doctype html><title>Alexa</title><p>Account linked (stub of the Alexa app page)</p>';
      void answer('Fetch.fulfillRequest', {
        requestId,
        responseCode: 200,
        responseHeaders: [{ name: 'Content-Type', value: 'text/html' }],
        body: Buffer.from(body).toString('base64'),
      });
      return;
    }
    void answer('Fetch.failRequest', { requestId, errorReason: 'BlockedByClient' });
  });
  await cdp.send('Fetch.enable', { patterns: [{ urlPattern: '*', requestStage: 'Request' }] });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await startInProcess();
  userDataDir = mkdtempSync(path.join(tmpdir(), 'maoauth-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 480, height: 760 },
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await server?.stop();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
});

async function openAuthorize(page: Page, challenge: string): Promise<void> {
  const response = await page.goto(
    `${server.url}${authorizeUrl(alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256', state: 'browser-state-42' }))}`,
  );
  expect(response?.status()).toBe(200);
}

it('logs in, approves, lands on the Alexa redirect with code, state and iss; the code exchanges for tokens', async () => {
  const { verifier, challenge } = pkcePair();
  const page = await context.newPage();
  await stubAlexa(page);
  await openAuthorize(page, challenge);

  expect(await page.locator('h1').textContent()).toMatch(/Link amazon-alexa with Music Assistant/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'login.png'), fullPage: true });
  await page.fill('input[name="username"]', OWNER.username);
  await page.fill('input[name="password"]', OWNER.password);
  await Promise.all([page.waitForURL(/\/alexa\/consent\?request=/), page.click('button:has-text("Log in")')]);

  const approve = page.getByRole('button', { name: 'Approve & Link Account' });
  expect(await approve.isVisible()).toBe(true);
  expect(await page.getByRole('button', { name: 'Deny' }).isVisible()).toBe(true);
  expect(await page.locator('body').innerText()).toContain('music.read');
  await page.screenshot({ path: path.join(ARTIFACTS, 'consent.png'), fullPage: true });

  // The session cookie as the browser stored it: HttpOnly, Secure, SameSite=Lax.
  const session = (await context.cookies()).find((c) => c.name === 'maoauth_session');
  expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax' });

  await Promise.all([page.waitForURL((url) => url.href.startsWith(ALEXA_REDIRECT)), approve.click()]);
  const landed = new URL(page.url());
  expect(landed.origin + landed.pathname).toBe(ALEXA_REDIRECT);
  expect(landed.searchParams.get('state')).toBe('browser-state-42');
  expect(landed.searchParams.get('iss')).toBe(server.url);
  const code = landed.searchParams.get('code')!;
  expect(code).toMatch(/^[\w-]{43}$/);
  expect(await page.locator('body').innerText()).toContain('Account linked');
  expect(outside.filter((u) => !u.startsWith(`${ALEXA_ORIGIN}/`))).toEqual([]);

  const res = await tokenRequest(
    server.url,
    { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier },
    'basic',
  );
  expect(res.status).toBe(200);
  const tokens = (await res.json()) as TokenBody;
  expect(tokens.token_type).toBe('Bearer');
  await page.close();
});

it('deny in the browser lands on the Alexa redirect with error=access_denied and the state', async () => {
  const { challenge } = pkcePair();
  const page = await context.newPage();
  await stubAlexa(page);
  await openAuthorize(page, challenge); // still logged in from the first test: straight to consent
  await Promise.all([page.waitForURL((url) => url.href.startsWith(ALEXA_REDIRECT)), page.getByRole('button', { name: 'Deny' }).click()]);
  const landed = new URL(page.url());
  expect(landed.searchParams.get('error')).toBe('access_denied');
  expect(landed.searchParams.get('state')).toBe('browser-state-42');
  expect(landed.searchParams.has('code')).toBe(false);
  await page.close();
});

it('a wrong password shows the error on the login page, and another site cannot frame the page', async () => {
  // The "other site": a page on another origin (another port) that frames our authorize URL.
  const authorize = `${server.url}${authorizeUrl(alexaAuthorize())}`;
  const attacker = createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'text/html' })
      .end(`<!doctype html><p>attacker</p><iframe src="${authorize}" width="400" height="600"></iframe>`);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  const fresh = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  try {
    const page = await fresh.newPage({ viewport: { width: 480, height: 760 } });
    const { challenge } = pkcePair();
    await openAuthorize(page, challenge);
    await page.fill('input[name="username"]', OWNER.username);
    await page.fill('input[name="password"]', 'not the password');
    await Promise.all([page.waitForLoadState('load'), page.click('button:has-text("Log in")')]);
    expect(await page.getByRole('alert').innerText()).toBe('Wrong username or password.');
    await page.screenshot({ path: path.join(ARTIFACTS, 'login-failed.png'), fullPage: true });

    const framing = await fresh.newPage();
    const framedResponse = framing.waitForResponse((r) => r.url() === authorize);
    await framing.goto(`http://127.0.0.1:${(attacker.address() as AddressInfo).port}/`);
    expect((await framedResponse).status()).toBe(200); // the server answered; the browser must refuse to show it
    const frame = framing.frames().find((f) => f !== framing.mainFrame());
    expect(frame).toBeDefined();
    expect(await frame!.locator('input[name="password"]').count()).toBe(0);
    expect(await framing.locator('p').innerText()).toBe('attacker'); // the framing page itself did render
  } finally {
    await fresh.close();
    await new Promise((resolve) => attacker.close(resolve));
  }
});
