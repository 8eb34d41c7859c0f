/**
 * Interop: oauth4webapi, a strict, widely used client, discovers the server from its RFC 8414 metadata and runs
 * the whole life of a link: PKCE authorization, response validation (state, iss), code exchange, refresh,
 * introspection, revocation. Nothing here knows our server's internals.
 */
import * as oauth from 'oauth4webapi';
import { RunningServer } from '../../src/main';
import { Browser, consentAfterLogin, decide, readForm, submitLogin } from '../helpers/alexa-client';
import { ALEXA_REDIRECT, CLIENT_SECRET, OWNER, RESOURCE_SERVER, startInProcess } from '../helpers/test-server';

let server: RunningServer;
beforeAll(async () => {
  server = await startInProcess();
});
afterAll(async () => server.stop());

const insecure = { [oauth.allowInsecureRequests]: true }; // the test server speaks http on 127.0.0.1

async function discover(): Promise<oauth.AuthorizationServer> {
  const issuer = new URL(server.url);
  const res = await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure });
  return oauth.processDiscoveryResponse(issuer, res);
}

/** The owner's part, in a browser: log in and approve. Returns the redirect the client receives. */
async function ownerApproves(authorizationUrl: URL): Promise<URL> {
  const browser = new Browser(server.url);
  const login = await submitLogin(browser, await readForm(await browser.request(authorizationUrl), 'login'), OWNER);
  expect(login.status).toBe(303);
  const approved = await decide(browser, await consentAfterLogin(browser, login));
  expect(approved.status).toBe(303);
  return new URL(approved.headers.get('location')!);
}

const cases: Array<{ name: string; client: oauth.Client; auth: () => oauth.ClientAuth; redirectUri: string }> = [
  {
    name: 'confidential client (client_secret_basic)',
    client: { client_id: 'amazon-alexa' },
    auth: () => oauth.ClientSecretBasic(CLIENT_SECRET),
    redirectUri: ALEXA_REDIRECT,
  },
  {
    name: 'confidential client (client_secret_post)',
    client: { client_id: 'amazon-alexa' },
    auth: () => oauth.ClientSecretPost(CLIENT_SECRET),
    redirectUri: ALEXA_REDIRECT,
  },
  {
    name: 'public client (none)',
    client: { client_id: 'public-app' },
    auth: () => oauth.None(),
    redirectUri: 'https://app.example.com/callback',
  },
];

describe.each(cases)('$name', ({ client, auth, redirectUri }) => {
  it('links, refreshes, introspects, revokes', async () => {
    const as = await discover();
    expect(as.issuer).toBe(server.url);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'music.read',
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();

    const callback = await ownerApproves(url);
    const params = oauth.validateAuthResponse(as, client, callback, state);
    const codeResponse = await oauth.authorizationCodeGrantRequest(as, client, auth(), params, redirectUri, verifier, insecure);
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, codeResponse);
    expect(tokens.token_type).toBe('bearer'); // oauth4webapi lower-cases it
    expect(tokens.scope).toBe('music.read');
    expect(tokens.expires_in).toBeGreaterThanOrEqual(360);

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, auth(), tokens.refresh_token!, insecure),
    );
    expect(refreshed.access_token).not.toBe(tokens.access_token);

    // A resource server (Music Assistant) introspects with its own credential, as RFC 7662 intends.
    const rs: oauth.Client = { client_id: RESOURCE_SERVER.id };
    const introspect = async (token: string) =>
      oauth.processIntrospectionResponse(
        as,
        rs,
        await oauth.introspectionRequest(as, rs, oauth.ClientSecretBasic(RESOURCE_SERVER.secret), token, insecure),
      );
    const active = await introspect(refreshed.access_token);
    expect(active).toMatchObject({
      active: true,
      client_id: client.client_id,
      username: OWNER.username,
      scope: 'music.read',
      token_type: 'Bearer',
    });
    expect(typeof active.exp).toBe('number');
    expect(typeof active.iat).toBe('number');

    const revoked = await oauth.revocationRequest(as, client, auth(), refreshed.refresh_token!, insecure);
    await oauth.processRevocationResponse(revoked);

    expect(await introspect(refreshed.access_token)).toEqual({ active: false });
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
    // revoking the refresh token ended the grant: it cannot be refreshed any more
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, auth(), refreshed.refresh_token!, insecure),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
