/**
 * The browser steps between authorize and the code: login (no one links without it), the consent decision
 * (approve answers 303 with code, state and iss; deny with access_denied), the CSRF token and flow cookie that bind
 * the forms to this browser, the cookies' flags, one decision per request, and the login rate limits.
 */
import { RunningServer } from '../../src/main';
import { lookupToken } from '../../src/oauth/access-tokens';
import {
  Browser,
  alexaAuthorize,
  authorizeUrl,
  decide,
  exchangeCode,
  hiddenField,
  openConsentPage,
  openLoginPage,
  pkcePair,
  submitLogin,
} from '../helpers/alexa-client';
import { ALEXA_REDIRECT, OWNER, startInProcess } from '../helpers/test-server';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

function expectNoRedirect(res: Response): void {
  expect(res.headers.get('location')).toBeNull();
}

describe('login', () => {
  it('the authorize page asks for a username and password and names the client', async () => {
    const form = await openLoginPage(new Browser(server.url));
    expect(form.html).toContain('amazon-alexa');
    expect(form.html).toMatch(/<input[^>]+name="username"/);
    expect(form.html).toMatch(/<input[^>]+name="password"[^>]+type="password"/);
  });

  it.each([
    ['a wrong password', { username: OWNER.username, password: 'wrong password!' }],
    ['an unknown user', { username: 'mallory', password: OWNER.password }],
    ['an empty password', { username: OWNER.username, password: '' }],
    ['the username in another case', { username: 'OWNER', password: OWNER.password }],
  ])('%s: 401 login page again, no session, no redirect', async (_what, user) => {
    const browser = new Browser(server.url);
    const form = await openLoginPage(browser);
    const res = await submitLogin(browser, form, user);
    expect(res.status).toBe(401);
    expectNoRedirect(res);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('maoauth_session='))).toBe(false);
    const html = await res.text();
    expect(html).toContain('Wrong username or password');
    expect(html).toContain('name="password"');
  });

  it('the right password: 303 to the consent page, with a session cookie', async () => {
    const browser = new Browser(server.url);
    const res = await submitLogin(browser, await openLoginPage(browser));
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toMatch(/^consent\?request=/);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('maoauth_session='))).toBe(true);
  });

  it('a failed login echoes the typed username escaped', async () => {
    const browser = new Browser(server.url);
    const res = await submitLogin(browser, await openLoginPage(browser), {
      username: '"><script>alert(1)</script>',
      password: 'nope-nope',
    });
    const html = await res.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });
});

describe('no login, no link', () => {
  it('approving without having logged in gives the login page (401), never a code', async () => {
    const browser = new Browser(server.url);
    const form = await openLoginPage(browser);
    const res = await decide(browser, form);
    expect(res.status).toBe(401);
    expectNoRedirect(res);
    expect(await res.text()).toContain('name="password"');
  });

  it('the consent page URL opened without a session shows the login form', async () => {
    const browser = new Browser(server.url);
    const form = await openLoginPage(browser);
    const res = await browser.request(`/alexa/consent?request=${form.requestId}`);
    const html = await res.text();
    expect(html).toContain('name="password"');
    expect(html).not.toContain('value="approve"');
  });

  it('a made-up request id is refused', async () => {
    const browser = new Browser(server.url);
    await openLoginPage(browser);
    const res = await browser.postForm('/alexa/login', {
      request_id: 'made-up',
      csrf: 'x',
      username: OWNER.username,
      password: OWNER.password,
    });
    expect(res.status).toBe(400);
    expectNoRedirect(res);
  });
});

describe('CSRF token and flow cookie', () => {
  it.each([
    ['missing', undefined],
    ['wrong', 'A'.repeat(22)],
  ])('login with the CSRF token %s: 403', async (_what, csrf) => {
    const browser = new Browser(server.url);
    const form = await openLoginPage(browser);
    const fields: Record<string, string> = { request_id: form.requestId, username: OWNER.username, password: OWNER.password };
    if (csrf !== undefined) fields.csrf = csrf;
    const res = await browser.postForm('/alexa/login', fields);
    expect(res.status).toBe(403);
    expectNoRedirect(res);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('maoauth_session='))).toBe(false);
  });

  it.each([
    ['missing', undefined],
    ['wrong', 'A'.repeat(22)],
  ])('consent with the CSRF token %s: 403, and no code', async (_what, csrf) => {
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser);
    const fields: Record<string, string> = { request_id: form.requestId, decision: 'approve' };
    if (csrf !== undefined) fields.csrf = csrf;
    const res = await browser.postForm('/alexa/consent', fields);
    expect(res.status).toBe(403);
    expectNoRedirect(res);
  });

  it('a login form posted from another browser (its own flow cookie): 403', async () => {
    const victim = new Browser(server.url);
    const form = await openLoginPage(victim);
    const attacker = new Browser(server.url);
    await openLoginPage(attacker); // the attacker has a flow cookie of its own
    const res = await submitLogin(attacker, form);
    expect(res.status).toBe(403);
    expectNoRedirect(res);
  });

  it('a consent form posted from another, logged-in browser: 403, no code', async () => {
    const victim = new Browser(server.url);
    const form = await openConsentPage(victim);
    const attacker = new Browser(server.url);
    await openConsentPage(attacker); // logged in, with its own flow
    const res = await decide(attacker, form);
    expect(res.status).toBe(403);
    expectNoRedirect(res);
    // the victim's own approval still works
    const approve = await decide(victim, form);
    expect(approve.status).toBe(303);
  });

  it('a form posted by a browser without cookies: 403', async () => {
    const browser = new Browser(server.url);
    const form = await openLoginPage(browser);
    browser.forgetCookies();
    const res = await submitLogin(browser, form);
    expect(res.status).toBe(403);
    expectNoRedirect(res);
  });
});

describe('cookies', () => {
  function cookieAttributes(res: Response, name: string): string[] {
    const line = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
    expect(line).toBeDefined();
    return line!.split(';').map((p) => p.trim().toLowerCase());
  }

  it('the flow cookie is HttpOnly, Secure (even on 127.0.0.1) and SameSite=Lax', async () => {
    const res = await new Browser(server.url).request(authorizeUrl(alexaAuthorize()));
    const attrs = cookieAttributes(res, 'maoauth_flow');
    expect(attrs).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/']));
  });

  it('the session cookie is HttpOnly, Secure and SameSite=Lax', async () => {
    const browser = new Browser(server.url);
    const res = await submitLogin(browser, await openLoginPage(browser));
    const attrs = cookieAttributes(res, 'maoauth_session');
    expect(attrs).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=lax', 'path=/']));
    expect(attrs.some((a) => a.startsWith('max-age=') || a.startsWith('expires='))).toBe(true);
  });
});

describe('consent', () => {
  it('names the client, the user and each scope, with an "Approve & Link Account" button and a way to deny', async () => {
    const { html } = await openConsentPage(new Browser(server.url));
    expect(html).toContain('amazon-alexa');
    expect(html).toContain(OWNER.username);
    expect(html).toContain('music.read');
    expect(html).toContain('music.control');
    expect(html).toContain('layla.amazon.com');
    expect(html).toMatch(/<button[^>]*value="approve"[^>]*>Approve &amp; Link Account<\/button>/);
    expect(html).toMatch(/<button[^>]*value="deny"[^>]*>Deny<\/button>/);
  });

  it('lists only the scopes asked for', async () => {
    const { html } = await openConsentPage(new Browser(server.url), alexaAuthorize({ scope: 'music.read' }));
    expect(html).toContain('music.read');
    expect(html).not.toContain('music.control');
  });

  it('approve: 303 to the redirect URI with code, the exact state and iss (RFC 9207)', async () => {
    const state = 'st&te=with+odd/chars é%20';
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser, alexaAuthorize({ state }));
    const res = await decide(browser, form);
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(ALEXA_REDIRECT);
    expect(location.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(location.searchParams.get('state')).toBe(state);
    expect(location.searchParams.get('iss')).toBe(server.url);
    expect([...location.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
  });

  it('approve without a state sends no state', async () => {
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser, alexaAuthorize({ state: undefined }));
    const res = await decide(browser, form);
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.has('state')).toBe(false);
    expect(location.searchParams.has('code')).toBe(true);
  });

  it('deny: 303 with error=access_denied, the state and iss, and no code', async () => {
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser);
    const res = await decide(browser, form, 'deny');
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(ALEXA_REDIRECT);
    expect(location.searchParams.get('error')).toBe('access_denied');
    expect(location.searchParams.get('state')).toBe('alexa-state-123');
    expect(location.searchParams.get('iss')).toBe(server.url);
    expect(location.searchParams.has('code')).toBe(false);
  });

  it('a decision other than approve is a denial', async () => {
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser);
    const res = await decide(browser, form, 'Approve');
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
  });

  it('a repeated approval (double tap, resubmission) answers the first redirect again, with the same code; the code still redeems once', async () => {
    const browser = new Browser(server.url);
    const { verifier, challenge } = pkcePair();
    const form = await openConsentPage(browser, alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
    const fields = { request_id: form.requestId, csrf: form.csrf, decision: 'approve' };
    const first = await browser.postForm('/alexa/consent', fields);
    const again = await browser.postForm('/alexa/consent', fields);
    expect(first.status).toBe(303);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe(first.headers.get('location'));
    const code = new URL(first.headers.get('location')!).searchParams.get('code')!;
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(200);
    expect((await exchangeCode(server.url, code, verifier)).status).toBe(400);
  });

  it('a consent form posted 5 times at once yields one code, answered to every post', async () => {
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser);
    const fields = { request_id: form.requestId, csrf: form.csrf, decision: 'approve' };
    const responses = await Promise.all(Array.from({ length: 5 }, () => browser.postForm('/alexa/consent', fields)));
    expect(responses.map((r) => r.status)).toEqual([303, 303, 303, 303, 303]);
    const codes = new Set(responses.map((r) => new URL(r.headers.get('location')!).searchParams.get('code')));
    expect(codes.size).toBe(1);
    expect([...codes][0]).toBeTruthy();
  });

  it('after deny, the same form posted with approve answers the denial again: never a code', async () => {
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser);
    const denied = await decide(browser, form, 'deny');
    const res = await decide(browser, form);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe(denied.headers.get('location'));
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('access_denied');
    expect(new URL(res.headers.get('location')!).searchParams.has('code')).toBe(false);
  });

  it('the code is for the user who logged in and exchanges with the PKCE verifier of its request', async () => {
    const { verifier, challenge } = pkcePair();
    const browser = new Browser(server.url);
    const form = await openConsentPage(browser, alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
    const res = await decide(browser, form);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const token = await exchangeCode(server.url, code, verifier);
    expect(token.status).toBe(200);
    const { access_token } = (await token.json()) as { access_token: string };
    const found = lookupToken(server.deps.grants, access_token);
    expect(found.active && found.found.grant.username).toBe(OWNER.username);
  });

  it('an already logged-in browser goes straight from authorize to consent', async () => {
    const browser = new Browser(server.url);
    await openConsentPage(browser);
    const res = await browser.request(authorizeUrl(alexaAuthorize()));
    const html = await res.text();
    expect(html).toContain('value="approve"');
    expect(hiddenField(html, 'csrf')).toMatch(/\S/);
  });
});

describe('login failures are rate limited', () => {
  async function failLogin(srv: RunningServer, username: string): Promise<Response> {
    const browser = new Browser(srv.url);
    return submitLogin(browser, await openLoginPage(browser), { username, password: 'definitely wrong' });
  }

  describe('per username', () => {
    let limited: RunningServer & { dataDir: string };
    beforeAll(async () => {
      limited = await startInProcess({ rateLimits: { loginFailuresPerUser: 3, loginFailuresPerIp: 1000 } });
    });
    afterAll(async () => limited.stop());

    it('after 3 failures for one username: 429 with Retry-After for it (any case), even with the right password; others unaffected', async () => {
      for (let i = 0; i < 3; i++) expect((await failLogin(limited, 'owner')).status).toBe(401);
      const blocked = await failLogin(limited, 'owner');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(blocked.headers.get('content-type')).toMatch(/^text\/html/);
      expect((await failLogin(limited, 'Owner')).status).toBe(429);

      const browser = new Browser(limited.url);
      expect((await submitLogin(browser, await openLoginPage(browser))).status).toBe(429);

      expect((await failLogin(limited, 'someone-else')).status).toBe(401);
    });
  });

  describe('per client IP', () => {
    let limited: RunningServer & { dataDir: string };
    beforeAll(async () => {
      limited = await startInProcess({ rateLimits: { loginFailuresPerUser: 1000, loginFailuresPerIp: 3 } });
    });
    afterAll(async () => limited.stop());

    it('successful logins do not count; after 3 failures from one IP with different usernames: 429 with Retry-After', async () => {
      for (let i = 0; i < 4; i++) {
        const browser = new Browser(limited.url);
        expect((await submitLogin(browser, await openLoginPage(browser))).status).toBe(303);
      }
      for (const name of ['a', 'b', 'c']) expect((await failLogin(limited, name)).status).toBe(401);
      const blocked = await failLogin(limited, 'd');
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });
});
