/**
 * GET /alexa/authorize validation (RFC 6749 §4.1.2.1, RFC 9700): while client_id or redirect_uri is in doubt the
 * answer is an HTML error page and never a redirect; every later error goes back to the verified redirect URI as
 * a 303 with error, error_description, the original state and iss. Everything echoed into HTML is escaped.
 */
import { RunningServer } from '../../src/main';
import { Browser, alexaAuthorize, authorizeUrl, openConsentPage, openLoginPage, pkcePair, rawAuthorizeUrl } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, startInProcess, testOptions } from '../helpers/test-server';
import { defined } from '../helpers/defined';

let server: RunningServer & { dataDir: string };
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

const get = (path: string) => fetch(`${server.url}${path}`, { redirect: 'manual' });

/** The answer must be an HTML error page: 400, no Location, nothing sent towards any redirect URI. */
async function expectErrorPage(res: Response, mentions: RegExp): Promise<string> {
  expect(res.status).toBe(400);
  expect(res.headers.get('location')).toBeNull();
  expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  const html = await res.text();
  expect(html).toMatch(mentions);
  expect(html).not.toContain('name="password"');
  return html;
}

/** The answer must be a 303 back to `redirectUri` carrying error, error_description, state and iss. */
function expectErrorRedirect(res: Response, error: string, state: string | null = 'alexa-state-123', redirectUri = ALEXA_REDIRECT): URL {
  expect(res.status).toBe(303);
  const location = new URL(res.headers.get('location')!);
  expect(location.origin + location.pathname).toBe(redirectUri);
  expect(location.searchParams.get('error')).toBe(error);
  expect(location.searchParams.get('error_description')).toMatch(/\S/);
  expect(location.searchParams.get('error_description')).toMatch(/^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/);
  expect(location.searchParams.get('state')).toBe(state);
  expect(location.searchParams.get('iss')).toBe(server.url);
  expect(location.searchParams.has('code')).toBe(false);
  return location;
}

describe('client_id and redirect_uri are checked first: error page, never a redirect', () => {
  it('an unknown client', async () => {
    await expectErrorPage(await get(authorizeUrl(alexaAuthorize({ client_id: 'amazon-alexa-typo' }))), /unknown client/);
  });

  it('a client_id in the wrong case', async () => {
    await expectErrorPage(await get(authorizeUrl(alexaAuthorize({ client_id: 'Amazon-Alexa' }))), /unknown client/);
  });

  it('no client_id', async () => {
    await expectErrorPage(await get(authorizeUrl(alexaAuthorize({ client_id: undefined }))), /client_id is missing/);
  });

  it.each([
    ['an unrelated host', 'https://evil.example.com/api/skill/link/M2TESTVENDOR'],
    ['a trailing slash', `${ALEXA_REDIRECT}/`],
    ['http instead of https', ALEXA_REDIRECT.replace('https:', 'http:')],
    ['the host in capitals', ALEXA_REDIRECT.replace('layla.amazon.com', 'LAYLA.amazon.com')],
    ['an explicit :443', ALEXA_REDIRECT.replace('layla.amazon.com', 'layla.amazon.com:443')],
    ['another vendor id', ALEXA_REDIRECT.replace('M2TESTVENDOR', 'M2OTHERVENDOR')],
    ['a longer path', `${ALEXA_REDIRECT}/extra`],
    ['an added query', `${ALEXA_REDIRECT}?next=https://evil.example.com`],
    ['a fragment', `${ALEXA_REDIRECT}#x`],
    ['a percent-encoded character', ALEXA_REDIRECT.replace('link', 'l%69nk')],
    ['a look-alike host', 'https://layla.amazon.com.evil.example.com/api/skill/link/M2TESTVENDOR'],
    ['userinfo in front of the host', 'https://layla.amazon.com@evil.example.com/api/skill/link/M2TESTVENDOR'],
    ["another client's redirect URI", 'https://app.example.com/callback'],
    ['an empty redirect_uri', ''],
  ])('a redirect_uri that is not registered byte for byte: %s', async (_what, uri) => {
    await expectErrorPage(await get(authorizeUrl(alexaAuthorize({ redirect_uri: uri }))), /redirect_uri is not registered/);
  });

  it('an unregistered redirect_uri wins over every later error (bad response_type, scope, PKCE)', async () => {
    const res = await get(
      authorizeUrl({
        client_id: 'amazon-alexa',
        redirect_uri: 'https://evil.example.com/cb',
        response_type: 'token',
        scope: 'admin',
        code_challenge_method: 'plain',
        state: 's',
      }),
    );
    await expectErrorPage(res, /redirect_uri is not registered/);
  });

  it('no redirect_uri when the client has several registered', async () => {
    await expectErrorPage(await get(authorizeUrl(alexaAuthorize({ redirect_uri: undefined }))), /redirect_uri is missing/);
  });

  it('no redirect_uri when the client has exactly one is fine: that one is used', async () => {
    const { challenge } = pkcePair();
    const res = await get(
      authorizeUrl({ client_id: 'public-app', response_type: 'code', code_challenge: challenge, code_challenge_method: 'S256' }),
    );
    expect(res.status).toBe(200);
  });

  it.each(['client_id', 'redirect_uri'])('a repeated %s', async (name) => {
    const pairs = Object.entries(alexaAuthorize()) as Array<[string, string]>;
    pairs.push([name, pairs.find(([k]) => k === name)![1]]);
    await expectErrorPage(await get(rawAuthorizeUrl(pairs)), new RegExp(`${name} is repeated`));
  });

  it('a client_id with markup is shown escaped', async () => {
    const html = await expectErrorPage(
      await get(authorizeUrl(alexaAuthorize({ client_id: '<script>alert(1)</script>' }))),
      /unknown client/,
    );
    expect(html).not.toContain('<script');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});

describe('later errors redirect back with error, error_description, state and iss (RFC 6749 §4.1.2.1, RFC 9207)', () => {
  it.each(['token', 'id_token', 'code token', 'CODE'])('response_type=%s: unsupported_response_type', async (rt) => {
    expectErrorRedirect(await get(authorizeUrl(alexaAuthorize({ response_type: rt }))), 'unsupported_response_type');
  });

  it('no response_type: invalid_request', async () => {
    expectErrorRedirect(await get(authorizeUrl(alexaAuthorize({ response_type: undefined }))), 'invalid_request');
  });

  it.each([
    ['not configured for the client', 'music.read admin'],
    ['in the wrong case', 'Music.Read'],
    ['with a forbidden character', 'music.read "quoted"'],
  ])('a scope %s: invalid_scope', async (_what, scope) => {
    expectErrorRedirect(await get(authorizeUrl(alexaAuthorize({ scope }))), 'invalid_scope');
  });

  it('code_challenge_method=plain is refused: invalid_request', async () => {
    const { challenge } = pkcePair();
    expectErrorRedirect(
      await get(authorizeUrl(alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'plain' }))),
      'invalid_request',
    );
  });

  it('a code_challenge without a method (meaning plain) is refused: invalid_request', async () => {
    const { challenge } = pkcePair();
    expectErrorRedirect(await get(authorizeUrl(alexaAuthorize({ code_challenge: challenge }))), 'invalid_request');
  });

  it('a method without a challenge: invalid_request', async () => {
    expectErrorRedirect(await get(authorizeUrl(alexaAuthorize({ code_challenge_method: 'S256' }))), 'invalid_request');
  });

  it('a malformed challenge: invalid_request', async () => {
    expectErrorRedirect(
      await get(authorizeUrl(alexaAuthorize({ code_challenge: 'too-short', code_challenge_method: 'S256' }))),
      'invalid_request',
    );
  });

  it('a public client without PKCE: invalid_request, at its own redirect URI', async () => {
    const res = await get(
      authorizeUrl({
        client_id: 'public-app',
        redirect_uri: 'https://app.example.com/callback',
        response_type: 'code',
        state: 'pub-state',
      }),
    );
    expectErrorRedirect(res, 'invalid_request', 'pub-state', 'https://app.example.com/callback');
  });

  it.each(['response_type', 'scope', 'state', 'code_challenge', 'code_challenge_method'])(
    'a repeated %s: invalid_request',
    async (name) => {
      const { challenge } = pkcePair();
      const pairs = Object.entries(alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' })) as Array<[string, string]>;
      pairs.push([name, pairs.find(([k]) => k === name)![1]]);
      expectErrorRedirect(await get(rawAuthorizeUrl(pairs)), 'invalid_request', name === 'state' ? null : 'alexa-state-123');
    },
  );

  it('the original state comes back exactly, whatever it contains', async () => {
    const state = '<script>alert("x")</script> & ü=1+2';
    expectErrorRedirect(await get(authorizeUrl(alexaAuthorize({ response_type: 'token', state }))), 'unsupported_response_type', state);
  });

  it('no state in, no state out', async () => {
    expectErrorRedirect(
      await get(authorizeUrl(alexaAuthorize({ response_type: 'token', state: undefined }))),
      'unsupported_response_type',
      null,
    );
  });
});

describe('a valid request', () => {
  it('shows the login page (200) and does not redirect', async () => {
    const res = await get(authorizeUrl(alexaAuthorize()));
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(await res.text()).toContain('name="password"');
  });

  it('never echoes the state into the page; markup in state stays out of the HTML', async () => {
    const form = await openLoginPage(new Browser(server.url), alexaAuthorize({ state: '<script>alert(1)</script>' }));
    expect(form.html).not.toContain('<script');
    expect(form.html).not.toContain('alert(1)');
  });

  it('accepts each of the three Alexa region redirect URIs', async () => {
    for (const uri of defined((testOptions().clients as Array<{ redirect_uris: string[] }>)[0], 'a client').redirect_uris) {
      expect((await get(authorizeUrl(alexaAuthorize({ redirect_uri: uri })))).status).toBe(200);
    }
  });
});

describe('markup in configured names is escaped on the login and consent pages', () => {
  const EVIL_CLIENT = '<img/src=x/onerror=alert(1)>';
  const EVIL_SCOPE = '<b>bold</b>';
  let evil: RunningServer & { dataDir: string };
  beforeAll(async () => {
    evil = await startInProcess({
      options: testOptions({
        clients: [
          {
            client_id: EVIL_CLIENT,
            client_type: 'confidential',
            client_secret: 'a-secret-of-sufficient-length',
            redirect_uris: [ALEXA_REDIRECT],
            scopes: [EVIL_SCOPE],
          },
        ],
      }),
    });
  });
  afterAll(async () => evil.stop());

  it('client_id and scope appear only as text', async () => {
    const params = { client_id: EVIL_CLIENT, redirect_uri: ALEXA_REDIRECT, response_type: 'code', state: 's' };
    const login = await openLoginPage(new Browser(evil.url), params);
    expect(login.html).not.toContain('<img');
    expect(login.html).toContain('&lt;img/src=x/onerror=alert(1)&gt;');
    const consent = await openConsentPage(new Browser(evil.url), params);
    expect(consent.html).not.toContain('<img');
    expect(consent.html).not.toContain('<b>bold');
    expect(consent.html).toContain('&lt;b&gt;bold&lt;/b&gt;');
  });
});
