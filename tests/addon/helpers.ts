/**
 * Driving the add-on from outside, as Alexa and the owner's browser do: a free port, waiting for /health, the
 * authorize -> login -> consent -> token flow over real HTTP, and refresh.
 */
import { createHash, randomBytes } from 'node:crypto';
import { eventually as waitFor } from '../helpers/wait';

export { freePort } from '../helpers/test-server';
export { waitFor };

export async function health(base: string): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  try {
    const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

export async function waitForHealthy(base: string, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  return waitFor(`${base}/health to answer 200`, async () => {
    const h = await health(base);
    return h?.status === 200 ? h.body : undefined;
  }, timeoutMs);
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: string;
  expires_in: number;
  scope?: string;
}

/** A browser's cookie jar, reduced to what the login flow needs: name=value pairs. */
class CookieJar {
  private readonly cookies = new Map<string, string>();

  take(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

function hiddenField(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m) throw new Error(`no ${name} field in the page:\n${html.slice(0, 2000)}`);
  return m[1];
}

function basic(client: ClientCredentials): string {
  // RFC 6749 §2.3.1: form-urlencode id and secret before base64.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(client.clientId)}:${enc(client.clientSecret)}`).toString('base64')}`;
}

async function expectStatus(res: Response, status: number, step: string): Promise<void> {
  if (res.status !== status) throw new Error(`${step}: expected HTTP ${status}, got ${res.status}: ${(await res.text()).slice(0, 1000)}`);
}

/** The whole account-linking flow, then the code exchange; returns the token response. */
export async function linkAccount(
  base: string,
  client: ClientCredentials,
  user: { username: string; password: string },
  scope = 'music.read music.control',
): Promise<TokenResponse> {
  const jar = new CookieJar();
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const authorize = new URL(`${base}/alexa/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    state,
    scope,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();

  const loginPage = await fetch(authorize, { redirect: 'manual' });
  await expectStatus(loginPage, 200, 'authorize');
  jar.take(loginPage);
  const loginHtml = await loginPage.text();

  const login = await fetch(`${base}/alexa/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      request_id: hiddenField(loginHtml, 'request_id'),
      csrf: hiddenField(loginHtml, 'csrf'),
      username: user.username,
      password: user.password,
    }),
  });
  await expectStatus(login, 303, 'login');
  jar.take(login);

  const consentPage = await fetch(new URL(login.headers.get('location') ?? '', `${base}/alexa/login`), {
    redirect: 'manual',
    headers: { cookie: jar.header() },
  });
  await expectStatus(consentPage, 200, 'consent page');
  const consentHtml = await consentPage.text();

  const approve = await fetch(`${base}/alexa/consent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      request_id: hiddenField(consentHtml, 'request_id'),
      csrf: hiddenField(consentHtml, 'csrf'),
      decision: 'approve',
    }),
  });
  await expectStatus(approve, 303, 'consent');
  const back = new URL(approve.headers.get('location') ?? '');
  if (`${back.origin}${back.pathname}` !== client.redirectUri || back.searchParams.get('state') !== state) {
    throw new Error(`consent redirected to ${back.href}`);
  }
  const code = back.searchParams.get('code');
  if (!code) throw new Error(`consent redirect has no code: ${back.href}`);

  return tokenRequest(base, client, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: client.redirectUri,
    code_verifier: verifier,
  });
}

export async function tokenRequest(base: string, client: ClientCredentials, form: Record<string, string>): Promise<TokenResponse> {
  const res = await fetch(`${base}/alexa/token`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  await expectStatus(res, 200, `token (${form.grant_type})`);
  return (await res.json()) as TokenResponse;
}

export function refresh(base: string, client: ClientCredentials, refreshToken: string): Promise<TokenResponse> {
  return tokenRequest(base, client, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

/** RFC 7662 introspection with the client's own credentials: whether an access token is still active. */
export async function introspect(base: string, client: ClientCredentials, token: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/alexa/introspect`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }),
  });
  await expectStatus(res, 200, 'introspect');
  return (await res.json()) as Record<string, unknown>;
}
