/**
 * The admin page in real Chromium, reached the way Home Assistant shows it: through an Ingress-style proxy that
 * serves it under /api/hassio_ingress/<token>/ and is the only peer the admin listener accepts.
 */
import { expect } from '@jest/globals';
import type { BrowserContext, Page } from 'playwright-core';
import { ALEXA_REDIRECT, testOptions, waitForTrace } from '../helpers/test-server';
import { TokenBody, alexaAuthorize, authorizeUrl, introspection, linkAccount, refresh, tokenRequest } from '../helpers/alexa-client';
import {
  AdminServer,
  INGRESS_PREFIX,
  IngressProxy,
  launchBrowser,
  rawRequest,
  screenshot,
  startIngressProxy,
  startWithAdmin,
} from './admin-helpers';
import { defined } from '../helpers/defined';

/** The little of the DOM the page functions below use (the tests compile without lib "dom"). */
interface DomElement {
  getAttribute(name: string): string | null;
  querySelector(selector: string): { textContent: string | null } | null;
}

// Browser globals inside page.evaluate callbacks (the tests compile without the DOM library).
declare const getComputedStyle: (el: unknown) => { backgroundColor: string };
declare const navigator: { clipboard: { readText(): Promise<string> } };

const PUBLIC_URL = 'https://music.example.com';
let server: AdminServer;
let proxy: IngressProxy;
let browser: BrowserContext;
let page: Page;

beforeAll(async () => {
  server = await startWithAdmin({ options: testOptions({ public_url: PUBLIC_URL }) });
  proxy = await startIngressProxy(server.adminUrl);
  browser = await launchBrowser();
  page = browser.pages()[0] ?? (await browser.newPage());
});
afterAll(async () => {
  await browser?.close();
  await proxy?.close();
  await server?.stop();
});

function grantIds(): Set<string> {
  return new Set(server.deps.grants.storage.read((tx) => tx.grants.list()).map((g) => g.id));
}

/** Links an account as Alexa does and returns its tokens and the grant it created. */
async function link(): Promise<{ tokens: TokenBody; grantId: string }> {
  const before = grantIds();
  const tokens = await linkAccount(server.url);
  const created = [...grantIds()].filter((id) => !before.has(id));
  expect(created).toHaveLength(1);
  return { tokens, grantId: defined(created[0], 'the new grant') };
}

async function expectDead(tokens: TokenBody): Promise<void> {
  const res = await refresh(server.url, tokens.refresh_token);
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
  expect(await introspection(server.url, tokens.access_token)).toEqual({ active: false });
  expect(await introspection(server.url, tokens.refresh_token)).toEqual({ active: false });
}

describe('Linked accounts', () => {
  it('a link appears as a row with client, user, scopes and dates', async () => {
    const { grantId } = await link();
    await page.goto(`${proxy.base}/accounts`);
    const row = page.locator(`tr[data-grant="${grantId}"]`);
    await expect(row.count()).resolves.toBe(1);
    const text = await row.innerText();
    expect(text).toContain('owner');
    expect(text).toContain('amazon-alexa');
    expect(text).toContain('music.read');
    expect(text).toContain('music.control');
    expect(text).toContain(grantId);
    expect(text).toContain('never'); // last refresh
    expect(await page.locator('nav a[aria-current="page"]').innerText()).toContain('Linked accounts');
  });

  it('Revoke ends the link at once: refresh is invalid_grant and introspection says inactive', async () => {
    const { tokens, grantId } = await link();
    expect(await introspection(server.url, tokens.access_token)).toMatchObject({ active: true });
    await page.goto(`${proxy.base}/accounts`);
    await page.locator(`tr[data-grant="${grantId}"] button`, { hasText: 'Revoke' }).click();
    await page.waitForURL((u) => u.searchParams.get('notice') === 'revoked');
    expect(page.url()).toBe(`${proxy.base}/accounts?notice=revoked&grant=${grantId}`);
    expect(await page.locator('[role="status"]').innerText()).toContain('Revoked the link of owner with amazon-alexa');
    await expect(page.locator(`tr[data-grant="${grantId}"]`).count()).resolves.toBe(0);
    await expectDead(tokens);

    const entry = await waitForTrace(server.dataDir, (e) => e.step === 'admin' && e.grantId === grantId);
    expect(entry).toMatchObject({ outcome: 'ok', username: 'owner', clientId: 'amazon-alexa', ip: '127.0.0.2' });
    expect(entry.detail).toMatchObject({ action: 'revoke', by: 'Test Admin via the admin page' });
  });

  it('"Revoke all" asks to confirm (Cancel keeps every link), then empties the list', async () => {
    const a = await link();
    const b = await link();
    await page.goto(`${proxy.base}/accounts`);
    const rows = await page.locator('tbody tr[data-grant]').count();
    expect(rows).toBeGreaterThanOrEqual(2);

    await page.getByRole('link', { name: 'Revoke all…' }).click();
    expect(page.url()).toBe(`${proxy.base}/accounts/revoke-all`);
    expect(await page.locator('h2#confirm-h').innerText()).toBe(`Revoke all ${rows} linked accounts?`);
    await screenshot(page, 'revoke-all-confirm');
    // asking is not doing: nothing is revoked until the confirmation is submitted
    expect(await introspection(server.url, a.tokens.access_token)).toMatchObject({ active: true });
    await page.getByRole('link', { name: 'Cancel' }).click();
    expect(page.url()).toBe(`${proxy.base}/accounts`);
    await expect(page.locator('tbody tr[data-grant]').count()).resolves.toBe(rows);

    await page.getByRole('link', { name: 'Revoke all…' }).click();
    await page.getByRole('button', { name: 'Yes, revoke all links' }).click();
    await page.waitForURL((u) => u.searchParams.get('notice') === 'revoked-all');
    expect(page.url().startsWith(`${proxy.base}/accounts?`)).toBe(true);
    expect(await page.locator('[role="status"]').innerText()).toContain(`Revoked all links (${rows})`);
    await expect(page.locator('tbody tr[data-grant]').count()).resolves.toBe(0);
    expect(await page.locator('#no-accounts').innerText()).toContain('No linked accounts');
    expect(await page.locator('nav .pill').innerText()).toBe('0');
    await expectDead(a.tokens);
    await expectDead(b.tokens);
    expect(server.deps.grants.storage.read((tx) => tx.grants.list()).filter((g) => g.revokedAt === undefined)).toEqual([]);
  });
});

describe('Activity', () => {
  it('a redirect_uri mismatch appears highlighted, naming the URI and the fix', async () => {
    const asked = 'https://layla.amazon.com/api/skill/link/XYZ';
    const res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: asked }))}`, { redirect: 'manual' });
    expect(res.status).toBe(400);

    await page.goto(`${proxy.base}/activity`);
    const item = page.locator('ol.timeline > li[data-kind="redirect_uri_mismatch"]').first();
    expect(await item.getAttribute('class')).toContain('error');
    const text = await item.innerText();
    expect(text).toContain('Redirect URI not registered');
    expect(text).toContain(`Alexa asked for ${asked}, which is not a registered redirect URI of amazon-alexa.`);
    expect(text).toContain(`The closest registered one is ${ALEXA_REDIRECT} (the vendor id differs: XYZ instead of M2TESTVENDOR)`);
    expect(text).toContain('Add it under Configuration → clients → redirect_uris.');
    // a failure stands out from the successful steps around it
    const failureBg = await item.locator('.body').evaluate((el) => getComputedStyle(el).backgroundColor);
    const okBg = await page
      .locator('ol.timeline > li.ok .body')
      .first()
      .evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(failureBg).not.toBe(okBg);

    await page.getByRole('link', { name: 'Failures only' }).click();
    expect(page.url()).toBe(`${proxy.base}/activity?failures=1`);
    await expect(page.locator('ol.timeline > li.ok').count()).resolves.toBe(0);
    await expect(page.locator('ol.timeline > li[data-kind="redirect_uri_mismatch"]').count()).resolves.toBeGreaterThan(0);
  });

  it('charts tokens issued and failures per hour', async () => {
    await link();
    await page.goto(`${proxy.base}/activity`);
    const label = await page.locator('.chart svg').getAttribute('aria-label');
    const m = /(\d+) token responses and (\d+) failures/.exec(label ?? '');
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThan(0);
    expect(Number(m![2])).toBeGreaterThan(0);
    await expect(page.locator('.chart rect.tokens').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('.chart rect.failures').count()).resolves.toBeGreaterThan(0);
  });
});

describe('under the Ingress prefix', () => {
  it('every link and form of every page stays under X-Ingress-Path, and the tabs navigate there', async () => {
    await link();
    for (const p of ['/', '/accounts', '/activity', '/accounts/revoke-all']) {
      await page.goto(`${proxy.base}${p}`);
      const targets = await page.$$eval('a[href], form[action]', (els: DomElement[]) =>
        els.map((e) => e.getAttribute('href') ?? e.getAttribute('action') ?? ''),
      );
      expect(targets.length).toBeGreaterThan(3);
      for (const t of targets)
        expect({ page: p, target: t, ok: t.startsWith(`${INGRESS_PREFIX}/`) }).toEqual({ page: p, target: t, ok: true });
    }
    await page.goto(`${proxy.base}/`);
    await page.getByRole('link', { name: 'Activity' }).click();
    expect(page.url()).toBe(`${proxy.base}/activity`);
    await page.getByRole('link', { name: /Linked accounts/ }).click();
    expect(page.url()).toBe(`${proxy.base}/accounts`);
    await page.getByRole('link', { name: 'Status' }).click();
    expect(page.url()).toBe(`${proxy.base}/`);
  });

  it('the Status page gives the Alexa console values, and Copy puts them on the clipboard', async () => {
    await browser.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.goto(`${proxy.base}/`);
    const values = await page.$$eval('.value', (els: DomElement[]) =>
      els.map((e) => (e.querySelector('.label')?.textContent ?? '') + '=' + (e.querySelector('code')?.textContent ?? '')),
    );
    expect(values).toEqual(
      expect.arrayContaining([
        `Web Authorization URI=${PUBLIC_URL}/alexa/authorize`,
        `Access Token URI=${PUBLIC_URL}/alexa/token`,
        'Your Client ID (confidential)=amazon-alexa',
        'Authentication Scheme=HTTP Basic (Recommended)',
      ]),
    );
    expect(await page.locator('main').innerText()).not.toContain('alexa-console-secret'); // the client secret is never shown
    await page.getByRole('button', { name: 'Copy Access Token URI' }).click();
    await page.getByRole('button', { name: 'Copy Access Token URI' }).filter({ hasText: 'Copied' }).waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${PUBLIC_URL}/alexa/token`);
  });
});

describe('who may connect', () => {
  it('refuses a peer that is not the Ingress proxy with 403, and logs it; the public port has no admin pages', async () => {
    for (const p of ['/', '/accounts', '/metrics']) {
      const direct = await rawRequest(`${server.adminUrl}${p}`, {
        localAddress: '127.0.0.1',
        headers: { 'x-ingress-path': INGRESS_PREFIX },
      });
      expect({ p, status: direct.status }).toEqual({ p, status: 403 });
      expect(direct.body).toContain('only from the Home Assistant Ingress proxy');
    }
    const entry = await waitForTrace(server.dataDir, (e) => e.kind === 'admin_forbidden' && (e as { ip?: string }).ip === '127.0.0.1');
    expect(entry).toMatchObject({ step: 'admin', outcome: 'security' });

    // the same request from the proxy's address is served
    expect((await rawRequest(`${server.adminUrl}/accounts`, { localAddress: '127.0.0.2' })).status).toBe(200);
    // and Chromium going around the proxy is refused too
    const res = await page.goto(`${server.adminUrl}/accounts`);
    expect(res?.status()).toBe(403);

    for (const p of ['/accounts', '/activity', '/metrics', '/accounts/revoke-all']) {
      expect({ p, status: (await fetch(`${server.url}${p}`)).status }).toEqual({ p, status: 404 });
    }
  });
});

describe('screenshots (test-artifacts/admin)', () => {
  it('every page, light and dark', async () => {
    // something to show: two links, one refreshed, and a few failures of the seed guide
    const { tokens } = await link();
    await refresh(server.url, tokens.refresh_token);
    await link();
    await fetch(
      `${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: 'https://pitangui.amazon.com/api/skill/link/M2OTHERVENDOR' }))}`,
    );
    await tokenRequest(
      server.url,
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token },
      'basic',
      'amazon-alexa',
      'not-the-secret',
    );
    for (const scheme of ['light', 'dark'] as const) {
      const ctx = await launchBrowser(scheme);
      const p = ctx.pages()[0] ?? (await ctx.newPage());
      for (const [name, path] of [
        ['status', '/'],
        ['accounts', '/accounts'],
        ['activity', '/activity'],
      ]) {
        const response = await p.goto(`${proxy.base}${path}`);
        expect(response?.status()).toBe(200);
        await screenshot(p, `${name}-${scheme}`);
      }
      await p.setViewportSize({ width: 390, height: 844 });
      await p.goto(`${proxy.base}/accounts`);
      await screenshot(p, `accounts-${scheme}-phone`);
      await ctx.close();
    }
  });
});

describe('Not found', () => {
  it('answers without the count of linked accounts (a wrong path reads nothing from the store); the pages show it', async () => {
    await link();
    const missing = await fetch(`${proxy.base}/no-such-page`);
    expect(missing.status).toBe(404);
    const html = await missing.text();
    expect(html).toContain('There is no admin page at /no-such-page');
    expect(html).not.toContain('class="pill"');
    const active = server.deps.grants.storage.read((tx) => tx.grants.list()).filter((g) => g.revokedAt === undefined).length;
    expect(active).toBeGreaterThan(0);
    expect(await (await fetch(`${proxy.base}/`)).text()).toContain(`<span class="pill">${active}</span>`);
  });
});
