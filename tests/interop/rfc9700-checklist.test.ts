/**
 * The RFC 9700 (OAuth 2.0 Security Best Current Practice) checklist, one named test per item that applies to an
 * authorization-code server, each probed from outside over HTTP.
 */
import { RunningServer } from '../../src/main';
import {
  Browser,
  TokenBody,
  alexaAuthorize,
  authorizeUrl,
  consentAfterLogin,
  decide,
  exchangeCode,
  introspection,
  issueCode,
  linkInBrowser,
  linkPublic,
  openConsentPage,
  openLoginPage,
  pkcePair,
  refresh,
  refreshPublic,
  submitLogin,
  tokenRequest,
} from '../helpers/alexa-client';
import { ALEXA_REDIRECT, CLIENT_SECRET, OWNER, startInProcess, testOptions } from '../helpers/test-server';

let server: RunningServer;
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

/** A code for Alexa (without PKCE unless `params` asks for it). */
async function codeFor(params = alexaAuthorize()): Promise<string> {
  return (await issueCode(server.url, { params })).code;
}

/** Alexa's code exchange, without a code_verifier unless `extra` adds one. */
const exchange = (code: string, extra: Record<string, string> = {}) => exchangeCode(server.url, code, undefined, extra);
const introspect = (token: string) => introspection(server.url, token);

describe('RFC 9700 checklist', () => {
  it('§4.1.3 redirect URIs are matched exactly: near misses are refused', async () => {
    const nearMisses = [
      `${ALEXA_REDIRECT}/`,
      ALEXA_REDIRECT.toUpperCase(),
      `${ALEXA_REDIRECT}?x=1`,
      ALEXA_REDIRECT.replace('https://layla.amazon.com', 'https://layla.amazon.com:443'),
      ALEXA_REDIRECT.replace('M2TESTVENDOR', 'M2TESTVENDO'),
      'https://layla.amazon.com.evil.example/api/skill/link/M2TESTVENDOR',
    ];
    for (const uri of nearMisses) {
      const res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: uri }))}`, { redirect: 'manual' });
      expect({ uri, status: res.status }).toEqual({ uri, status: 400 });
    }
  });

  it('§4.1 never redirects to an unregistered URI: an error page instead, with no Location', async () => {
    const res = await fetch(
      `${server.url}${authorizeUrl(alexaAuthorize({ redirect_uri: 'https://attacker.example/cb', response_type: 'token' }))}`,
      { redirect: 'manual' },
    );
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain('redirect_uri is not registered');
  });

  it('§2.1.2 the implicit grant is not offered', async () => {
    const res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ response_type: 'token' }))}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(new URL(res.headers.get('location')!).searchParams.get('error')).toBe('unsupported_response_type');
  });

  it('§2.1.1 PKCE: only S256; plain is refused', async () => {
    const { challenge } = pkcePair();
    const res = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'plain' }))}`, {
      redirect: 'manual',
    });
    const location = new URL(res.headers.get('location')!);
    expect(location.searchParams.get('error')).toBe('invalid_request');
    expect(location.searchParams.get('state')).toBe('alexa-state-123');
  });

  it('§2.1.1 PKCE: a wrong code_verifier is refused', async () => {
    const { challenge } = pkcePair();
    const code = await codeFor(alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
    const res = await exchange(code, { code_verifier: pkcePair().verifier });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('§4.8.2 PKCE downgrade: a code_verifier for a code issued without code_challenge is refused', async () => {
    const code = await codeFor();
    const res = await exchange(code, { code_verifier: pkcePair().verifier });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' });
    // ...and the code is still usable by the legitimate client, which never sent a verifier
    expect((await exchange(code)).status).toBe(200);
  });

  it('§4.5 codes are single-use, and a replay revokes the tokens the first use produced', async () => {
    const code = await codeFor();
    const first = (await (await exchange(code)).json()) as TokenBody;
    expect((await introspect(first.access_token)).active).toBe(true);
    const replay = await exchange(code);
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await introspect(first.access_token)).active).toBe(false);
    expect((await refresh(server.url, first.refresh_token)).status).toBe(400);
  });

  it("§4.14.2 a public client's refresh tokens rotate, and reuse of a superseded one revokes the grant", async () => {
    const tokens = await linkPublic(server.url);
    const second = (await (await refreshPublic(server.url, tokens.refresh_token)).json()) as TokenBody;
    const third = (await (await refreshPublic(server.url, second.refresh_token)).json()) as TokenBody;
    const reuse = await refreshPublic(server.url, tokens.refresh_token);
    expect(reuse.status).toBe(400);
    expect(await reuse.json()).toMatchObject({ error: 'invalid_grant' });
    expect((await refreshPublic(server.url, third.refresh_token)).status).toBe(400);
    expect((await introspect(third.access_token)).active).toBe(false);
  });

  it("§4.14.2 a confidential client's refresh tokens are bound to its authentication: rotation, an earlier one still honoured, never revoked by a refresh", async () => {
    const tokens = (await (await exchange(await codeFor())).json()) as TokenBody;
    const second = (await (await refresh(server.url, tokens.refresh_token)).json()) as TokenBody;
    expect(second.refresh_token).not.toBe(tokens.refresh_token);
    expect((await refresh(server.url, tokens.refresh_token)).status).toBe(200);
    expect((await introspect(second.access_token)).active).toBe(true);
    // Without the client's secret the token is worth nothing.
    expect((await tokenRequest(server.url, { grant_type: 'refresh_token', refresh_token: second.refresh_token }, 'none')).status).toBe(401);
  });

  it('§4.11 the consent POST answers 303 See Other', async () => {
    const browser = new Browser(server.url);
    const login = await submitLogin(browser, await openLoginPage(browser));
    expect(login.status).toBe(303);
    const approve = await decide(browser, await consentAfterLogin(browser, login));
    expect(approve.status).toBe(303);
  });

  it('§4.7 login and consent pages forbid framing', async () => {
    const login = await openLoginPage(new Browser(server.url));
    const consent = await openConsentPage(new Browser(server.url));
    expect(consent.html).toContain('Approve &amp; Link Account');
    for (const { response: res } of [login, consent]) {
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });

  it('§4.4 (RFC 9207) the authorization response carries iss, success and error alike', async () => {
    const ok = await linkInBrowser(new Browser(server.url));
    expect(ok.searchParams.get('iss')).toBe(server.url);
    const err = await fetch(`${server.url}${authorizeUrl(alexaAuthorize({ scope: 'admin' }))}`, { redirect: 'manual' });
    expect(new URL(err.headers.get('location')!).searchParams.get('iss')).toBe(server.url);
  });

  it('RFC 8414 metadata is published, at the root and under /alexa/, with the issuer used in iss', async () => {
    for (const path of ['/.well-known/oauth-authorization-server', '/alexa/.well-known/oauth-authorization-server']) {
      const meta = (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      expect(meta).toMatchObject({
        issuer: server.url,
        authorization_endpoint: `${server.url}/alexa/authorize`,
        token_endpoint: `${server.url}/alexa/token`,
        revocation_endpoint: `${server.url}/alexa/revoke`,
        introspection_endpoint: `${server.url}/alexa/introspect`,
        code_challenge_methods_supported: ['S256'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        response_types_supported: ['code'],
        authorization_response_iss_parameter_supported: true,
      });
      expect(meta.token_endpoint_auth_methods_supported).toEqual(expect.arrayContaining(['client_secret_basic', 'client_secret_post']));
      expect(meta.scopes_supported).toEqual(expect.arrayContaining(['music.read', 'music.control']));
    }
  });

  it("RFC 8414 §3.1: the path-suffixed form answers only for the issuer's own path", async () => {
    expect((await fetch(`${server.url}/.well-known/oauth-authorization-server/whatever`)).status).toBe(404);
    const withPath = await startInProcess({ options: testOptions({ public_url: 'https://ha.example.com/oauth' }) });
    try {
      const meta = await fetch(`${withPath.url}/.well-known/oauth-authorization-server/oauth`);
      expect(meta.status).toBe(200);
      expect(((await meta.json()) as { issuer?: string }).issuer).toBe('https://ha.example.com/oauth');
      for (const other of ['/whatever', '/oauth/more', '/OAUTH'])
        expect({ other, status: (await fetch(`${withPath.url}/.well-known/oauth-authorization-server${other}`)).status }).toEqual({
          other,
          status: 404,
        });
    } finally {
      await withPath.stop();
    }
  });

  it('§2.4 the resource owner password grant is refused', async () => {
    const res = await tokenRequest(server.url, { grant_type: 'password', username: OWNER.username, password: OWNER.password });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });

  it('no CORS on the authorization endpoint (nor on the token endpoint)', async () => {
    const origin = { origin: 'https://attacker.example' };
    const get = await fetch(`${server.url}${authorizeUrl(alexaAuthorize())}`, { headers: origin });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${server.url}/alexa/authorize`, {
      method: 'OPTIONS',
      headers: { ...origin, 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const token = await fetch(`${server.url}/alexa/token`, {
      method: 'POST',
      headers: { ...origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x',
    });
    expect(token.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('client secrets are required and checked for confidential clients', async () => {
    const res = await tokenRequest(
      server.url,
      { grant_type: 'authorization_code', code: await codeFor(), redirect_uri: ALEXA_REDIRECT },
      'basic',
      'amazon-alexa',
      `${CLIENT_SECRET}x`,
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});
