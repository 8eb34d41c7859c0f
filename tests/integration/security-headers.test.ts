/**
 * helmet's headers on every response, and on the pages a person sees: no framing (CSP frame-ancestors 'none',
 * X-Frame-Options DENY), Referrer-Policy no-referrer (the code in the redirect URL must not leak), no scripts.
 */
import { RunningServer } from '../../src/main';
import {
  Browser,
  alexaAuthorize,
  authorizeUrl,
  decide,
  linkAccount,
  openConsentPage,
  openLoginPage,
  submitLogin,
  tokenRequest,
} from '../helpers/alexa-client';
import { startInProcess } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess({ rateLimits: { loginFailuresPerUser: 1 } });
});
afterAll(async () => server.stop());

function csp(res: Response): Map<string, string> {
  const header = res.headers.get('content-security-policy');
  expect(header).not.toBeNull();
  return new Map(
    header!
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => {
        const [name, ...values] = d.split(/\s+/);
        return [name, values.join(' ')] as [string, string];
      }),
  );
}

function expectHelmetHeaders(res: Response): void {
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  expect(res.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(res.headers.get('x-powered-by')).toBeNull();
  expect(csp(res).get('frame-ancestors')).toBe("'none'");
}

/** One response of each kind the server gives. */
const responses: Array<[string, () => Promise<Response>]> = [
  ['the login page', async () => new Browser(server.url).request(authorizeUrl(alexaAuthorize()))],
  [
    'the consent page',
    async () => {
      const browser = new Browser(server.url);
      const form = await openLoginPage(browser);
      const login = await submitLogin(browser, form);
      return browser.follow(login);
    },
  ],
  ['the authorize error page', async () => fetch(`${server.url}${authorizeUrl(alexaAuthorize({ client_id: 'nobody' }))}`)],
  [
    'the authorize error redirect',
    async () => fetch(`${server.url}${authorizeUrl(alexaAuthorize({ response_type: 'token' }))}`, { redirect: 'manual' }),
  ],
  [
    'the approve redirect',
    async () => {
      const browser = new Browser(server.url);
      const form = await openConsentPage(browser);
      return decide(browser, form);
    },
  ],
  [
    'a failed login',
    async () => {
      const browser = new Browser(server.url);
      return submitLogin(browser, await openLoginPage(browser), { username: 'someone', password: 'wrong-password' });
    },
  ],
  [
    'a rate-limited login',
    async () => {
      const browser = new Browser(server.url);
      const form = await openLoginPage(browser);
      await submitLogin(browser, form, { username: 'limited', password: 'wrong-password' });
      const res = await submitLogin(browser, form, { username: 'limited', password: 'wrong-password' });
      expect(res.status).toBe(429);
      return res;
    },
  ],
  [
    'a token success',
    async () => {
      const tokens = await linkAccount(server.url);
      return tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
    },
  ],
  ['a token error', async () => tokenRequest(server.url, { grant_type: 'password' }, 'basic', 'x', 'y')],
  [
    'a body that is too large',
    async () =>
      fetch(`${server.url}/alexa/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'a='.padEnd(40_000, 'x'),
      }),
  ],
  ['the health check', async () => fetch(`${server.url}/health`)],
  ['a page that does not exist', async () => fetch(`${server.url}/nothing-here`)],
];

it.each(responses)('helmet headers on %s', async (_what, make) => {
  const res = await make();
  expectHelmetHeaders(res);
  // These answers are no-store or carry a fresh nonce: an ETag could never match, so none is computed.
  expect(res.headers.get('etag')).toBeNull();
});

/** Every header helmet sets by default, bar the policy (which differs between pages and JSON answers). */
const HELMET_HEADERS = [
  'cross-origin-opener-policy',
  'cross-origin-resource-policy',
  'origin-agent-cluster',
  'referrer-policy',
  'strict-transport-security',
  'x-content-type-options',
  'x-dns-prefetch-control',
  'x-download-options',
  'x-frame-options',
  'x-permitted-cross-domain-policies',
  'x-xss-protection',
];

it.each(['/alexa/token', '/alexa/revoke', '/alexa/introspect'])('%s answers JSON under a policy that allows nothing', async (endpoint) => {
  const res = await fetch(`${server.url}${endpoint}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'token=x',
  });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  // helmet's headers, made once for these answers, are the ones it sets on a page, each once.
  const page = await new Browser(server.url).request(authorizeUrl(alexaAuthorize()));
  for (const name of HELMET_HEADERS) {
    expect([name, res.headers.get(name)]).toEqual([name, page.headers.get(name)]);
    expect([name, res.headers.get(name)]).not.toEqual([name, null]);
  }
  const policy = csp(res);
  expect(policy.get('default-src')).toBe("'none'");
  expect(policy.get('form-action')).toBe("'none'");
  expect(policy.has('style-src')).toBe(false);
  expect(res.headers.get('content-security-policy')).not.toContain('nonce-');
});

describe('the pages', () => {
  it("allow no script at all and only the page's own nonce-tagged style", async () => {
    const res = await new Browser(server.url).request(authorizeUrl(alexaAuthorize()));
    const policy = csp(res);
    expect(policy.get('default-src')).toBe("'none'");
    expect(policy.has('script-src')).toBe(false);
    expect(policy.get('base-uri')).toBe("'none'");
    const html = await res.text();
    const nonce = /<style nonce="([^"]+)">/.exec(html)?.[1];
    expect(nonce).toBeDefined();
    expect(policy.get('style-src')).toBe(`'nonce-${nonce}'`);
    expect(html).not.toMatch(/<script|\son\w+=/i);
  });

  it('use a fresh nonce per response', async () => {
    const a = csp(await new Browser(server.url).request(authorizeUrl(alexaAuthorize()))).get('style-src');
    const b = csp(await new Browser(server.url).request(authorizeUrl(alexaAuthorize()))).get('style-src');
    expect(a).not.toBe(b);
  });

  it('let the consent form end at the registered Alexa hosts (form-action governs the redirect after the POST)', async () => {
    const res = await new Browser(server.url).request(authorizeUrl(alexaAuthorize()));
    const formAction = csp(res).get('form-action')!.split(' ');
    expect(formAction).toEqual(
      expect.arrayContaining(["'self'", 'https://layla.amazon.com', 'https://pitangui.amazon.com', 'https://alexa.amazon.co.jp']),
    );
  });

  it('are never cached', async () => {
    const res = await new Browser(server.url).request(authorizeUrl(alexaAuthorize()));
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
