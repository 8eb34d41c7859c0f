// Fills the peer over HTTP with real account links, each exactly what Alexa does once per user: GET /auth (code
// flow, PKCE S256) -> dev-interaction login -> consent -> redirect with the code -> POST /token with the code, the
// verifier and HTTP Basic. Every link runs with its own cookie jar (its own browser), so each one makes its own
// session and its own grant. Returns the access and refresh tokens the token endpoint answered.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SCOPE } from './peer-config.mjs';

const require = createRequire(import.meta.url);
// The repository's compiled bench settings (npx tsc -p bench/tsconfig.json): <repo>/dist-bench/bench/settings.js.
const S = require(path.resolve(import.meta.dirname, '../../dist-bench/bench/settings.js'));

async function link(base, deadline) {
  const jar = new Map();
  const send = async (method, url, body, headers = {}) => {
    if (Date.now() > deadline) throw new Error('peer fill: deadline passed');
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(new URL(url, base), {
      method,
      redirect: 'manual',
      headers: { ...(cookie ? { cookie } : {}), ...(body ? { 'content-type': S.FORM } : {}), ...headers },
      body,
      signal: AbortSignal.timeout(10_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      jar.set(pair.slice(0, i), pair.slice(i + 1));
    }
    const text = await res.text();
    return { status: res.status, location: res.headers.get('location'), text };
  };
  const expectRedirect = (r, what) => {
    if (r.status !== 303 && r.status !== 302) throw new Error(`peer fill: ${what} answered ${r.status} ${r.text.slice(0, 300)}`);
    return r.location;
  };

  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const state = randomBytes(8).toString('hex');
  const q = new URLSearchParams({
    client_id: S.CLIENT.id,
    response_type: 'code',
    redirect_uri: S.REDIRECT,
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  let loc = expectRedirect(await send('GET', `/auth?${q}`), 'authorize');
  let code;
  for (let step = 0; step < 6 && !code; step++) {
    if (loc.startsWith(S.REDIRECT)) {
      const u = new URL(loc);
      if (u.searchParams.get('error')) throw new Error(`peer fill: authorization error ${u.search}`);
      if (u.searchParams.get('state') !== state) throw new Error('peer fill: state mismatch');
      code = u.searchParams.get('code');
      break;
    }
    if (loc.includes('/interaction/')) {
      const page = await send('GET', loc);
      const prompt = /name="prompt" value="(\w+)"/.exec(page.text)?.[1];
      if (!prompt) throw new Error(`peer fill: interaction page without a prompt: ${page.status} ${page.text.slice(0, 300)}`);
      const body = prompt === 'login' ? S.form({ prompt, login: S.OWNER.username, password: S.OWNER.password }) : S.form({ prompt });
      loc = expectRedirect(await send('POST', loc, body), `interaction ${prompt}`);
    } else {
      loc = expectRedirect(await send('GET', loc), `resume ${loc}`);
    }
  }
  if (!code) throw new Error(`peer fill: no code after the interactions (last location ${loc})`);
  const token = await send(
    'POST',
    '/token',
    S.form({ grant_type: 'authorization_code', code, redirect_uri: S.REDIRECT, code_verifier: verifier }),
    { authorization: S.CLIENT_HEADERS.authorization },
  );
  if (token.status !== 200) throw new Error(`peer fill: token answered ${token.status} ${token.text.slice(0, 300)}`);
  const body = JSON.parse(token.text);
  if (!body.access_token || !body.refresh_token) throw new Error(`peer fill: token answer lacks tokens: ${token.text.slice(0, 300)}`);
  return body;
}

/** `count` links against the peer at `base`, `parallel` at a time, within `seconds`. */
export async function fillPeer(base, count, { parallel = 4, seconds = 600 } = {}) {
  const deadline = Date.now() + seconds * 1000;
  const access = new Array(count);
  const refresh = new Array(count);
  let next = 0;
  let first;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const body = await link(base, deadline);
        first ??= body;
        access[i] = body.access_token;
        refresh[i] = body.refresh_token;
      }
    }),
  );
  return { access, refresh, sample: first };
}
