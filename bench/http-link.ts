/**
 * Links accounts over HTTP, as the owner's browser and Alexa do: GET /alexa/authorize, POST /alexa/login,
 * GET /alexa/consent, POST /alexa/consent (approve), then POST /alexa/token with the code and its PKCE verifier.
 * Used to fill another build's store (BENCH_BASELINE), whose internal API differs from ours: only the endpoints
 * are common. The browser keeps its session cookie, so every link after the first skips the login.
 */
import { createHash, randomBytes } from 'node:crypto';
import { CLIENT_HEADERS, OWNER, REDIRECT, SCOPES, checkDeadline, form } from './settings';

class Browser {
  private readonly cookies = new Map<string, string>();
  constructor(private readonly baseUrl: string) {}

  async request(pathOrUrl: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(new URL(pathOrUrl, this.baseUrl), {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return res;
  }

  postForm(pathOrUrl: string, fields: Record<string, string>): Promise<Response> {
    return this.request(pathOrUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form(fields),
    });
  }
}

function hiddenField(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!m?.[1]) throw new Error(`no hidden field ${name} in the page:\n${html.slice(0, 1000)}`);
  return m[1].replaceAll('&amp;', '&');
}

export interface LinkedTokens {
  access: string[];
  refresh: string[];
}

async function linkOne(browser: Browser, baseUrl: string): Promise<{ access_token: string; refresh_token: string }> {
  const verifier = randomBytes(32).toString('base64url');
  const query = new URLSearchParams({
    client_id: 'amazon-alexa',
    redirect_uri: REDIRECT,
    response_type: 'code',
    state: 'bench-state',
    scope: SCOPES.join(' '),
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  });
  const page = await browser.request(`/alexa/authorize?${query.toString()}`);
  let html = await page.text();
  if (page.status !== 200) throw new Error(`authorize answered ${page.status}: ${html.slice(0, 500)}`);
  if (html.includes('name="password"')) {
    const login = await browser.postForm('/alexa/login', {
      request_id: hiddenField(html, 'request_id'),
      csrf: hiddenField(html, 'csrf'),
      username: OWNER.username,
      password: OWNER.password,
    });
    if (login.status !== 303) throw new Error(`login answered ${login.status}: ${(await login.text()).slice(0, 500)}`);
    await login.arrayBuffer();
    const consent = await browser.request(new URL(login.headers.get('location') ?? '', `${baseUrl}/alexa/login`).href);
    html = await consent.text();
  }
  const approve = await browser.postForm('/alexa/consent', {
    request_id: hiddenField(html, 'request_id'),
    csrf: hiddenField(html, 'csrf'),
    decision: 'approve',
  });
  await approve.arrayBuffer();
  const location = approve.headers.get('location');
  if (approve.status !== 303 || !location) throw new Error(`consent answered ${approve.status}`);
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`the consent redirect has no code: ${location}`);
  const token = await fetch(`${baseUrl}/alexa/token`, {
    method: 'POST',
    headers: CLIENT_HEADERS,
    body: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, code_verifier: verifier }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await token.text();
  if (token.status !== 200) throw new Error(`the code exchange answered ${token.status}: ${body.slice(0, 500)}`);
  return JSON.parse(body) as { access_token: string; refresh_token: string };
}

/** Links `count` accounts one after the other through the server's endpoints. */
export async function linkOverHttp(baseUrl: string, count: number): Promise<LinkedTokens> {
  const browser = new Browser(baseUrl);
  const access: string[] = [];
  const refresh: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 50 === 0) checkDeadline('the end of the fill over HTTP');
    const t = await linkOne(browser, baseUrl);
    access.push(t.access_token);
    refresh.push(t.refresh_token);
  }
  return { access, refresh };
}
