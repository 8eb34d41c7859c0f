/**
 * The one OAuth client of the tests: every outside party of a link, over real HTTP.
 *
 * - The owner's browser (`Browser`, with cookies): authorize, log in, consent (`openLoginPage`, `submitLogin`,
 *   `openConsentPage`, `decide`, `linkInBrowser`).
 * - A client at the token endpoint (`tokenRequest`), in each credential style: HTTP Basic, client_secret in the
 *   body, or no secret (a public client); the code exchange (`issueCode`, `exchangeCode`), a whole link
 *   (`linkAccount`, `linkPublic`), refresh (`refresh`, `refreshOk`, `refreshPublic`, `refreshOnce`).
 * - Revocation (RFC 7009, `revoke`) and introspection (RFC 7662) as the resource server (Music Assistant,
 *   `introspectAsResourceServer`, `introspection`, `isActive`, `introspectOnce`) or as a client
 *   (`introspectAsClient`).
 * - Requests built verbatim, for tests about what a client sends wrong (`rawAuthorizeUrl`, `rawTokenRequest`,
 *   `basicAuth`).
 *
 * Alexa (client amazon-alexa of testOptions()) is the default client everywhere; `PUBLIC_APP` is the public one.
 * Functions named `...Ok`, `linkAccount`, `linkInBrowser`, `introspection` and the page openers throw, with the
 * server's answer, when a step does not succeed; the others return the Response for the test to check.
 */
import { createHash, randomBytes } from 'node:crypto';
import { ALEXA_REDIRECT, CLIENT_SECRET, OWNER, RESOURCE_SERVER } from './test-server';
import { text } from '../../src/log/text';

// ---------------------------------------------------------------------------------------------------------------
// Clients and the browser

/** A client as registered in the options: the redirect URI it uses and the scope it asks for. */
export interface OAuthClient {
  clientId: string;
  /** Absent for a public client. */
  clientSecret?: string;
  redirectUri: string;
  scope: string;
}

export const PUBLIC_REDIRECT = 'https://app.example.com/callback';
/** A refresh token as the server issues them: its grant's id (22 characters), a dot, 256 random bits. */
export const REFRESH_TOKEN = /^[\w-]{22}\.[\w-]{43}$/;
/** An access token as the server issues them: the second it was issued in (8 hex digits), a dot, 256 random bits. */
export const ACCESS_TOKEN = /^[0-9a-f]{8}\.[\w-]{43}$/;
/** Alexa's skill, as testOptions() registers it (confidential). */
export const ALEXA: OAuthClient = {
  clientId: 'amazon-alexa',
  clientSecret: CLIENT_SECRET,
  redirectUri: ALEXA_REDIRECT,
  scope: 'music.read music.control',
};
/** The public client of testOptions(): no secret, PKCE, rotation with reuse detection. */
export const PUBLIC_APP: OAuthClient = { clientId: 'public-app', redirectUri: PUBLIC_REDIRECT, scope: 'music.read' };

export interface User {
  username: string;
  password: string;
}

/** A browser: keeps the cookies the server sets and sends them back; never follows redirects by itself. */
export class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(pathOrUrl: string | URL, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(pathOrUrl, this.baseUrl), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return res;
  }

  async postForm(pathOrUrl: string | URL, form: Record<string, string>): Promise<Response> {
    return this.request(pathOrUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** GET the Location of a redirect the server answered, resolved against the request's URL (as a browser does). */
  async follow(res: Response): Promise<Response> {
    const location = res.headers.get('location');
    if (location === null) throw new Error(`expected a redirect, got ${res.status} without Location`);
    return this.request(new URL(location, res.url));
  }

  forgetCookies(): void {
    this.cookies.clear();
  }

  /** Forgets one cookie, as a browser does when it expires. */
  forgetCookie(name: string): void {
    this.cookies.delete(name);
  }

  /** The value of a cookie this browser holds (e.g. to check it never reaches a log). */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

export function hiddenField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no hidden field ${name} in page:\n${html.slice(0, 2000)}`);
  return value;
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

// ---------------------------------------------------------------------------------------------------------------
// Authorize, login, consent

export interface AuthorizeParams {
  client_id?: string;
  redirect_uri?: string;
  response_type?: string;
  state?: string;
  scope?: string;
  code_challenge?: string;
  code_challenge_method?: string;
}

export function authorizeUrl(params: AuthorizeParams): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, text(v));
  return `/alexa/authorize?${q.toString()}`;
}

/** An authorize URL from name/value pairs taken verbatim, so a test can repeat or omit any parameter. */
export function rawAuthorizeUrl(pairs: Array<[string, string]>): string {
  return `/alexa/authorize?${new URLSearchParams(pairs).toString()}`;
}

/** A client's authorization request (response_type=code, its redirect URI and scope); `extra` overrides or adds. */
export const authorizeFor = (client: OAuthClient, extra: AuthorizeParams = {}): AuthorizeParams => ({
  client_id: client.clientId,
  redirect_uri: client.redirectUri,
  response_type: 'code',
  scope: client.scope,
  ...extra,
});

export const alexaAuthorize = (extra: AuthorizeParams = {}): AuthorizeParams => authorizeFor(ALEXA, { state: 'alexa-state-123', ...extra });

/** The public client's request, with the PKCE challenge it must send. */
export const publicAuthorize = (challenge: string, extra: AuthorizeParams = {}): AuthorizeParams =>
  authorizeFor(PUBLIC_APP, { code_challenge: challenge, code_challenge_method: 'S256', ...extra });

/** A page with a form: the login or the consent page, with its hidden fields and the response that served it. */
export interface PageForm {
  html: string;
  requestId: string;
  csrf: string;
  /** Its body already read into html: for status and headers. */
  response: Response;
}

const isLoginPage = (html: string) => html.includes('name="password"');
const isConsentPage = (html: string) => html.includes('value="approve"');

function formOf(html: string, response: Response): PageForm {
  return { html, requestId: hiddenField(html, 'request_id'), csrf: hiddenField(html, 'csrf'), response };
}

/** The login or consent page a response carries, with its form; throws if it is not that page. */
export async function readForm(res: Response, expected: 'login' | 'consent'): Promise<PageForm> {
  const html = await res.text();
  if (res.status !== 200 || !(expected === 'login' ? isLoginPage : isConsentPage)(html))
    throw new Error(`expected the ${expected} page, got ${res.status}:\n${html.slice(0, 2000)}`);
  return formOf(html, res);
}

export async function openLoginPage(browser: Browser, params: AuthorizeParams = alexaAuthorize()): Promise<PageForm> {
  return readForm(await browser.request(authorizeUrl(params)), 'login');
}

/** Posts the login form as `user`; `headers` adds request headers (X-Forwarded-For behind a trusted proxy). */
export async function submitLogin(
  browser: Browser,
  form: PageForm,
  user: User = OWNER,
  headers: Record<string, string> = {},
): Promise<Response> {
  return browser.request('/alexa/login', {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request_id: form.requestId, csrf: form.csrf, username: user.username, password: user.password }).toString(),
  });
}

/** One login attempt from a fresh browser: opens Alexa's login page and submits it; the answer. */
export async function attemptLogin(baseUrl: string, user: User, headers: Record<string, string> = {}): Promise<Response> {
  const browser = new Browser(baseUrl);
  return submitLogin(browser, await openLoginPage(browser), user, headers);
}

/** The consent page a successful login (303) sends the browser to. */
export async function consentAfterLogin(browser: Browser, login: Response): Promise<PageForm> {
  if (login.status !== 303) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  return readForm(await browser.follow(login), 'consent');
}

/** Authorize and log in; returns the consent page with its hidden fields. */
export async function openConsentPage(browser: Browser, params: AuthorizeParams = alexaAuthorize(), user: User = OWNER): Promise<PageForm> {
  return consentAfterLogin(browser, await submitLogin(browser, await openLoginPage(browser, params), user));
}

/** The owner's decision on the consent page ('approve', 'deny', or anything a forged form sends); the answer (303 to the client, or a page). */
export async function decide(browser: Browser, form: PageForm, decision: string = 'approve'): Promise<Response> {
  return browser.postForm('/alexa/consent', { request_id: form.requestId, csrf: form.csrf, decision });
}

/** Authorize -> login (unless the browser's session is still good) -> approve; returns the final redirect's URL (code, state, iss). */
export async function linkInBrowser(browser: Browser, params: AuthorizeParams = alexaAuthorize(), user: User = OWNER): Promise<URL> {
  const page = await browser.request(authorizeUrl(params));
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${await page.text()}`);
  const html = await page.text();
  const consent = isLoginPage(html)
    ? await consentAfterLogin(browser, await submitLogin(browser, formOf(html, page), user))
    : formOf(html, page);
  const approved = await decide(browser, consent);
  if (approved.status !== 303) throw new Error(`consent answered ${approved.status}: ${await approved.text()}`);
  return new URL(approved.headers.get('location')!);
}

// ---------------------------------------------------------------------------------------------------------------
// The token endpoint

/** How a client authenticates: HTTP Basic, client_id and client_secret in the body, or client_id only (public). */
export type AuthStyle = 'basic' | 'body';
export type Credentials = AuthStyle | 'none';

/** `Basic base64(id:secret)`, both form-urlencoded first (RFC 6749 §2.3.1) unless `encode` is false. */
export function basicAuth(clientId: string, secret: string, encode = true): string {
  const id = encode ? encodeURIComponent(clientId) : clientId;
  const sec = encode ? encodeURIComponent(secret) : secret;
  return `Basic ${Buffer.from(`${id}:${sec}`).toString('base64')}`;
}

/** A form POST to an endpoint with a client's credentials in the given style. */
function clientPost(
  url: string,
  form: Record<string, string>,
  auth: Credentials,
  clientId: string,
  secret: string | undefined,
  init: RequestInit = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/x-www-form-urlencoded');
  const body = new URLSearchParams(form);
  if (auth === 'basic') {
    headers.set('authorization', basicAuth(clientId, secret ?? ''));
  } else {
    body.set('client_id', clientId);
    if (auth === 'body') body.set('client_secret', secret ?? '');
  }
  return fetch(url, { ...init, method: 'POST', headers, body: body.toString() });
}

/** POST /alexa/token as a client (Alexa with its secret over Basic unless told otherwise). */
export async function tokenRequest(
  baseUrl: string,
  form: Record<string, string>,
  auth: Credentials = 'basic',
  clientId = ALEXA.clientId,
  secret = CLIENT_SECRET,
  init: RequestInit = {},
): Promise<Response> {
  return clientPost(`${baseUrl}/alexa/token`, form, auth, clientId, secret, init);
}

/** POST /alexa/token with a body and headers given verbatim. */
export async function rawTokenRequest(
  baseUrl: string,
  body: string,
  headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' },
): Promise<Response> {
  return fetch(`${baseUrl}/alexa/token`, { method: 'POST', headers, body });
}

export interface TokenBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

async function tokensFrom(res: Response, what: string): Promise<TokenBody> {
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 1000)}`);
  return JSON.parse(text) as TokenBody;
}

/**
 * A fresh authorization code for Alexa, with PKCE unless `pkce` is false; or for the authorization request
 * `params` (its PKCE, if any, is the caller's: no verifier is returned).
 */
export async function issueCode(
  baseUrl: string,
  opts: { pkce?: boolean; params?: AuthorizeParams } = {},
): Promise<{ code: string; verifier?: string }> {
  const pair = opts.pkce === false || opts.params ? undefined : pkcePair();
  const params = opts.params ?? alexaAuthorize(pair ? { code_challenge: pair.challenge, code_challenge_method: 'S256' } : {});
  const redirect = await linkInBrowser(new Browser(baseUrl), params);
  return { code: redirect.searchParams.get('code')!, verifier: pair?.verifier };
}

/** grant_type=authorization_code with Alexa's redirect URI and the verifier; `extra` overrides or adds fields. */
export async function exchangeCode(
  baseUrl: string,
  code: string,
  verifier: string | undefined,
  extra: Record<string, string> = {},
  auth: Credentials = 'basic',
  clientId = ALEXA.clientId,
  secret = CLIENT_SECRET,
): Promise<Response> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT };
  if (verifier !== undefined) form.code_verifier = verifier;
  return tokenRequest(baseUrl, { ...form, ...extra }, auth, clientId, secret);
}

export interface LinkOptions {
  /** Alexa unless given. */
  client?: OAuthClient;
  /** Basic for a client with a secret, none for a public one, unless given. */
  auth?: Credentials;
  user?: User;
  /** The client's scope unless given. */
  scope?: string;
  /** Overrides or adds authorization request parameters (a region's redirect URI, say). */
  params?: AuthorizeParams;
}

export interface Link {
  tokens: TokenBody;
  /** The redirect the browser was sent back with (code, state, iss). */
  redirect: URL;
}

/**
 * A complete link as the client does it: authorize with PKCE and a state, log in, approve, check the redirect
 * (the client's URI, its state), exchange the code. Throws unless every step succeeds.
 */
export async function link(baseUrl: string, opts: LinkOptions = {}): Promise<Link> {
  const client = opts.client ?? ALEXA;
  const auth = opts.auth ?? (client.clientSecret === undefined ? 'none' : 'basic');
  const { verifier, challenge } = pkcePair();
  const params = authorizeFor(client, {
    state: client === ALEXA ? 'alexa-state-123' : randomBytes(8).toString('hex'),
    scope: opts.scope ?? client.scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    ...opts.params,
  });
  const redirect = await linkInBrowser(new Browser(baseUrl), params, opts.user);
  if (`${redirect.origin}${redirect.pathname}` !== params.redirect_uri || redirect.searchParams.get('state') !== (params.state ?? null)) {
    throw new Error(`consent redirected to ${redirect.href}`);
  }
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`consent redirect has no code: ${redirect.href}`);
  const res = await tokenRequest(
    baseUrl,
    { grant_type: 'authorization_code', code, redirect_uri: params.redirect_uri, code_verifier: verifier },
    auth,
    client.clientId,
    client.clientSecret,
  );
  return { tokens: await tokensFrom(res, 'token exchange'), redirect };
}

/** A complete link (see link()); Alexa over Basic unless told otherwise. Returns the tokens. */
export async function linkAccount(baseUrl: string, opts: AuthStyle | LinkOptions = 'basic'): Promise<TokenBody> {
  return (await link(baseUrl, typeof opts === 'string' ? { auth: opts } : opts)).tokens;
}

/** A link of the public test client (no secret, PKCE). */
export async function linkPublic(baseUrl: string): Promise<TokenBody> {
  return linkAccount(baseUrl, { client: PUBLIC_APP });
}

/** grant_type=refresh_token as a client (Alexa over Basic unless told otherwise); `extra` adds fields (scope). */
export async function refresh(
  baseUrl: string,
  refreshToken: string,
  auth: Credentials = 'basic',
  extra: Record<string, string> = {},
  client: OAuthClient = ALEXA,
): Promise<Response> {
  return tokenRequest(
    baseUrl,
    { grant_type: 'refresh_token', refresh_token: refreshToken, ...extra },
    auth,
    client.clientId,
    client.clientSecret,
  );
}

/** A refresh that must succeed: throws with the server's answer otherwise. */
export async function refreshOk(
  baseUrl: string,
  refreshToken: string,
  auth: Credentials = 'basic',
  client: OAuthClient = ALEXA,
): Promise<TokenBody> {
  return tokensFrom(await refresh(baseUrl, refreshToken, auth, {}, client), 'refresh');
}

/** The public client's refresh (client_id only). */
export async function refreshPublic(baseUrl: string, refreshToken: string, extra: Record<string, string> = {}): Promise<Response> {
  return refresh(baseUrl, refreshToken, 'none', extra, PUBLIC_APP);
}

export interface Outcome {
  /** 0 when no answer arrived (network error or timeout). */
  status: number;
  body?: Record<string, unknown>;
  error?: string;
}

/** Alexa's refresh with a timeout, for a server that may be failing: network errors are returned, not thrown. */
export async function refreshOnce(baseUrl: string, refreshToken: string, timeoutMs = 10_000): Promise<Outcome> {
  try {
    const res = await tokenRequest(
      baseUrl,
      { grant_type: 'refresh_token', refresh_token: refreshToken },
      'basic',
      ALEXA.clientId,
      CLIENT_SECRET,
      { signal: AbortSignal.timeout(timeoutMs) },
    );
    const text = await res.text();
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { raw: text };
    }
    return { status: res.status, body };
  } catch (err) {
    return { status: 0, error: String((err as Error).cause ?? err) };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Revocation and introspection

/** A token at a token-management endpoint, with a client's credentials (Alexa over Basic unless told otherwise). */
const tokenPoster =
  (endpoint: '/alexa/revoke' | '/alexa/introspect') =>
  (
    baseUrl: string,
    token: string,
    auth: Credentials = 'basic',
    clientId = ALEXA.clientId,
    secret = CLIENT_SECRET,
    init: RequestInit = {},
  ): Promise<Response> =>
    clientPost(`${baseUrl}${endpoint}`, { token }, auth, clientId, secret, init);

/** POST /alexa/revoke (RFC 7009) as a client. */
export const revoke = tokenPoster('/alexa/revoke');

/** Music Assistant at POST /alexa/introspect (RFC 7662), with the resource-server credential: any token. */
export async function introspectAsResourceServer(baseUrl: string, token: string, init: RequestInit = {}): Promise<Response> {
  return clientPost(`${baseUrl}/alexa/introspect`, { token }, 'basic', RESOURCE_SERVER.id, RESOURCE_SERVER.secret, init);
}

/** POST /alexa/introspect with any credentials (a client's own, for its own tokens; the resource server's, wrong ones). */
export const introspectAsClient = tokenPoster('/alexa/introspect');

export interface Introspection {
  active: boolean;
  [claim: string]: unknown;
}

/** Introspection that must answer 200 (as the resource server, or as `client`); returns the body. */
export async function introspection(baseUrl: string, token: string, client?: OAuthClient): Promise<Introspection> {
  const res = client
    ? await introspectAsClient(baseUrl, token, 'basic', client.clientId, client.clientSecret)
    : await introspectAsResourceServer(baseUrl, token);
  const text = await res.text();
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${text.slice(0, 1000)}`);
  return JSON.parse(text) as Introspection;
}

/** Whether the resource server is told the token is active. */
export async function isActive(baseUrl: string, token: string): Promise<boolean> {
  return (await introspection(baseUrl, token)).active;
}

/** Introspection as the resource server with a timeout, for a server that may be failing: the status and `active`. */
export async function introspectOnce(baseUrl: string, token: string, timeoutMs = 10_000): Promise<{ status: number; active?: boolean }> {
  const res = await introspectAsResourceServer(baseUrl, token, { signal: AbortSignal.timeout(timeoutMs) });
  const body = (await res.json()) as { active?: boolean };
  return { status: res.status, active: body.active };
}
