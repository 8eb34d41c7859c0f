/**
 * Plays the two outside parties of a link over real HTTP: the owner's browser (authorize, log in, approve, with
 * cookies) and Alexa's backend (the token endpoint, with either client-authentication style).
 */
import { createHash, randomBytes } from 'node:crypto';
import { ALEXA_REDIRECT, CLIENT_SECRET, OWNER, RESOURCE_SERVER } from './test-server';

export class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(readonly baseUrl: string) {}

  async request(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(pathOrUrl, this.baseUrl), { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  async postForm(pathOrUrl: string, form: Record<string, string>): Promise<Response> {
    return this.request(pathOrUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }

  forgetCookies(): void {
    this.cookies.clear();
  }

  /** The value of a cookie this browser holds (e.g. to check it never reaches a log). */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }
}

export function hiddenField(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no hidden field ${name} in page:\n${html.slice(0, 2000)}`);
  return m[1];
}

export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

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
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v);
  return `/alexa/authorize?${q}`;
}

export const alexaAuthorize = (extra: AuthorizeParams = {}): AuthorizeParams => ({
  client_id: 'amazon-alexa',
  redirect_uri: ALEXA_REDIRECT,
  response_type: 'code',
  state: 'alexa-state-123',
  scope: 'music.read music.control',
  ...extra,
});

/** Authorize -> login -> approve; returns the final redirect's URL (code, state, iss). */
export async function linkInBrowser(browser: Browser, params: AuthorizeParams = alexaAuthorize(), user = OWNER): Promise<URL> {
  const page = await browser.request(authorizeUrl(params));
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${await page.text()}`);
  let html = await page.text();
  if (html.includes('name="password"')) {
    const login = await browser.postForm('/alexa/login', {
      request_id: hiddenField(html, 'request_id'),
      csrf: hiddenField(html, 'csrf'),
      username: user.username,
      password: user.password,
    });
    if (login.status !== 303) throw new Error(`login answered ${login.status}: ${await login.text()}`);
    const consent = await browser.request(new URL(login.headers.get('location')!, `${browser.baseUrl}/alexa/login`).href);
    html = await consent.text();
  }
  const approve = await browser.postForm('/alexa/consent', {
    request_id: hiddenField(html, 'request_id'),
    csrf: hiddenField(html, 'csrf'),
    decision: 'approve',
  });
  if (approve.status !== 303) throw new Error(`consent answered ${approve.status}: ${await approve.text()}`);
  return new URL(approve.headers.get('location')!);
}

export type AuthStyle = 'basic' | 'body';

/** Alexa's backend at the token endpoint. */
export async function tokenRequest(baseUrl: string, form: Record<string, string>, auth: AuthStyle | 'none' = 'basic', clientId = 'amazon-alexa', secret = CLIENT_SECRET): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  const body = new URLSearchParams(form);
  if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
  } else if (auth === 'body') {
    body.set('client_id', clientId);
    body.set('client_secret', secret);
  } else {
    body.set('client_id', clientId);
  }
  return fetch(`${baseUrl}/alexa/token`, { method: 'POST', headers, body: body.toString() });
}

export interface TokenBody {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope: string;
}

/** A complete link: browser flow then code exchange. */
export async function linkAccount(baseUrl: string, auth: AuthStyle = 'basic'): Promise<TokenBody> {
  const { verifier, challenge } = pkcePair();
  const redirect = await linkInBrowser(new Browser(baseUrl), alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
  const res = await tokenRequest(baseUrl, { grant_type: 'authorization_code', code: redirect.searchParams.get('code')!, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier }, auth);
  if (res.status !== 200) throw new Error(`token exchange answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TokenBody;
}

export async function refresh(baseUrl: string, refreshToken: string, auth: AuthStyle = 'basic'): Promise<Response> {
  return tokenRequest(baseUrl, { grant_type: 'refresh_token', refresh_token: refreshToken }, auth);
}

/** An authorize URL from name/value pairs taken verbatim, so a test can repeat or omit any parameter. */
export function rawAuthorizeUrl(pairs: Array<[string, string]>): string {
  return `/alexa/authorize?${new URLSearchParams(pairs)}`;
}

/** The login page of a fresh authorization request, with the form's hidden fields. */
export interface LoginForm {
  html: string;
  requestId: string;
  csrf: string;
}

export async function openLoginPage(browser: Browser, params: AuthorizeParams = alexaAuthorize()): Promise<LoginForm> {
  const res = await browser.request(authorizeUrl(params));
  const html = await res.text();
  if (res.status !== 200 || !html.includes('name="password"')) throw new Error(`expected the login page, got ${res.status}:\n${html.slice(0, 2000)}`);
  return { html, requestId: hiddenField(html, 'request_id'), csrf: hiddenField(html, 'csrf') };
}

export async function submitLogin(browser: Browser, form: LoginForm, user: { username: string; password: string } = OWNER): Promise<Response> {
  return browser.postForm('/alexa/login', { request_id: form.requestId, csrf: form.csrf, username: user.username, password: user.password });
}

/** Authorize and log in; returns the consent page with its hidden fields. */
export async function openConsentPage(browser: Browser, params: AuthorizeParams = alexaAuthorize()): Promise<LoginForm> {
  const login = await submitLogin(browser, await openLoginPage(browser, params));
  if (login.status !== 303) throw new Error(`login answered ${login.status}: ${await login.text()}`);
  const res = await browser.request(new URL(login.headers.get('location')!, `${browser.baseUrl}/alexa/login`).href);
  const html = await res.text();
  if (res.status !== 200 || !html.includes('value="approve"')) throw new Error(`expected the consent page, got ${res.status}:\n${html.slice(0, 2000)}`);
  return { html, requestId: hiddenField(html, 'request_id'), csrf: hiddenField(html, 'csrf') };
}

/** A fresh authorization code for Alexa's client, with PKCE unless `pkce` is false. */
export async function issueCode(baseUrl: string, opts: { pkce?: boolean; params?: AuthorizeParams } = {}): Promise<{ code: string; verifier?: string }> {
  const pair = opts.pkce === false ? undefined : pkcePair();
  const params = opts.params ?? alexaAuthorize(pair ? { code_challenge: pair.challenge, code_challenge_method: 'S256' } : {});
  const redirect = await linkInBrowser(new Browser(baseUrl), params);
  return { code: redirect.searchParams.get('code')!, verifier: pair?.verifier };
}

/** grant_type=authorization_code with Alexa's redirect URI and the verifier; `extra` overrides or adds fields. */
export async function exchangeCode(baseUrl: string, code: string, verifier: string | undefined, extra: Record<string, string> = {}, auth: AuthStyle | 'none' = 'basic'): Promise<Response> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT };
  if (verifier !== undefined) form.code_verifier = verifier;
  return tokenRequest(baseUrl, { ...form, ...extra }, auth);
}

/** POST /alexa/token with a body and headers given verbatim. */
export async function rawTokenRequest(baseUrl: string, body: string, headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }): Promise<Response> {
  return fetch(`${baseUrl}/alexa/token`, { method: 'POST', headers, body });
}

export function basicAuth(clientId: string, secret: string, encode = true): string {
  const id = encode ? encodeURIComponent(clientId) : clientId;
  const sec = encode ? encodeURIComponent(secret) : secret;
  return `Basic ${Buffer.from(`${id}:${sec}`).toString('base64')}`;
}

/** Music Assistant at POST /alexa/introspect (RFC 7662), with the resource-server credential: any token. */
export async function introspectAsResourceServer(baseUrl: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${baseUrl}/alexa/introspect`, {
    ...init,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basicAuth(RESOURCE_SERVER.id, RESOURCE_SERVER.secret) },
    body: new URLSearchParams({ token }).toString(),
  });
}
