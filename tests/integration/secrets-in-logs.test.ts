/**
 * Codes, tokens, verifiers, client secrets, passwords, cookies and Authorization header values never reach the
 * add-on log (stdout, at debug level) or the flow trace (DATA_DIR/flow-trace.jsonl), over a full link and every
 * kind of failure; where the trace refers to one, it does so by its short fingerprint.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprint } from '../../src/crypto/tokens';
import {
  ACCESS_TOKEN,
  Browser,
  REFRESH_TOKEN,
  TokenBody,
  alexaAuthorize,
  basicAuth,
  consentAfterLogin,
  decide,
  exchangeCode,
  linkInBrowser,
  openLoginPage,
  pkcePair,
  rawTokenRequest,
  refresh,
  revoke,
  submitLogin,
  tokenRequest,
} from '../helpers/alexa-client';
import { FlowEntry } from '../../src/log/flow-trace';
import {
  ALEXA_REDIRECT,
  CLIENT_SECRET,
  OWNER,
  RESOURCE_SERVER,
  ServerProcess,
  killServer,
  spawnServer,
  tempDataDir,
  testOptions,
} from '../helpers/test-server';

const FORM = 'application/x-www-form-urlencoded';

/** Every secret the run handles, by name, so a failure says which one leaked. */
const secrets = new Map<string, string>();
const keep = (name: string, value: string | undefined | null): string => {
  if (value) secrets.set(name, value);
  return value ?? '';
};
/**
 * A token's secret is what follows the dot: a refresh token's grant id (the log and the trace name grants by it) and
 * an access token's second of issue are not secret.
 */
const keepToken = (name: string, token: string, shape: RegExp): void => {
  expect(token).toMatch(shape);
  keep(name, token.slice(token.indexOf('.') + 1));
};
const keepRefreshToken = (name: string, token: string): void => keepToken(name, token, REFRESH_TOKEN);
const keepAccessToken = (name: string, token: string): void => keepToken(name, token, ACCESS_TOKEN);

let proc: ServerProcess;
let stdout = '';
let traceText = '';
let trace: FlowEntry[] = [];
let dataDir: string;

beforeAll(async () => {
  dataDir = tempDataDir();
  proc = await spawnServer(dataDir, testOptions({ log_level: 'debug' }));
  const url = proc.url;
  keep('client secret', CLIENT_SECRET);
  keep('owner password', OWNER.password);

  // A wrong password, then a full link in the same browser.
  const { verifier, challenge } = pkcePair();
  keep('verifier', verifier);
  const browser = new Browser(url);
  const login = await openLoginPage(browser, alexaAuthorize({ code_challenge: challenge, code_challenge_method: 'S256' }));
  keep('login csrf', login.csrf);
  await submitLogin(browser, login, { username: OWNER.username, password: keep('wrong password', 'not-the-password-Zq81x') });
  const loggedIn = await submitLogin(browser, login);
  const consent = await consentAfterLogin(browser, loggedIn);
  keep('consent csrf', consent.csrf);
  keep('flow cookie', browser.cookie('maoauth_flow'));
  keep('session cookie', browser.cookie('maoauth_session'));
  const approve = await decide(browser, consent);
  const code = keep('code', new URL(approve.headers.get('location')!).searchParams.get('code'));

  // Token failures with the code: wrong secret (Basic and body), wrong verifier, Authorization without a scheme.
  const wrongSecret = keep('wrong secret', 'wrong-secret-Kd93hs72nd');
  keep('wrong Basic header', basicAuth('amazon-alexa', wrongSecret));
  await tokenRequest(
    url,
    { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier },
    'basic',
    'amazon-alexa',
    wrongSecret,
  );
  await tokenRequest(
    url,
    { grant_type: 'authorization_code', code, redirect_uri: ALEXA_REDIRECT, code_verifier: verifier },
    'body',
    'amazon-alexa',
    wrongSecret,
  );
  const wrongVerifier = keep('wrong verifier', pkcePair().verifier);
  await exchangeCode(url, code, wrongVerifier);
  const bareHeader = keep('Authorization without scheme', Buffer.from(`amazon-alexa:${CLIENT_SECRET}`).toString('base64'));
  await rawTokenRequest(url, new URLSearchParams({ grant_type: 'authorization_code', code }).toString(), {
    'content-type': FORM,
    authorization: bareHeader,
  });
  await rawTokenRequest(url, new URLSearchParams({ grant_type: 'authorization_code', code }).toString(), {
    'content-type': FORM,
    authorization: CLIENT_SECRET,
  });
  await rawTokenRequest(url, new URLSearchParams({ grant_type: 'authorization_code', code }).toString(), {
    'content-type': FORM,
    authorization: `Bearer ${keep('bearer value', 'bearer-value-Pq72mxk3Lw')}`,
  });
  keep('good Basic header', basicAuth('amazon-alexa', CLIENT_SECRET));

  // The good exchange, then a replay of the code (revokes).
  const first = (await (await exchangeCode(url, code, verifier, {}, 'body')).json()) as TokenBody;
  keepAccessToken('access token 1', first.access_token);
  keepRefreshToken('refresh token 1', first.refresh_token);
  await exchangeCode(url, code, verifier);

  // A second link: refresh, refresh again, an earlier token again (honoured), then revocation and a refresh after it.
  const { verifier: v2, challenge: c2 } = pkcePair();
  keep('verifier 2', v2);
  const redirect2 = await linkInBrowser(new Browser(url), alexaAuthorize({ code_challenge: c2, code_challenge_method: 'S256' }));
  const code2 = keep('code 2', redirect2.searchParams.get('code'));
  const second = (await (await exchangeCode(url, code2, v2)).json()) as TokenBody;
  keepAccessToken('access token 2', second.access_token);
  keepRefreshToken('refresh token 2', second.refresh_token);
  const third = (await (await refresh(url, second.refresh_token, 'body')).json()) as TokenBody;
  keepAccessToken('access token 3', third.access_token);
  keepRefreshToken('refresh token 3', third.refresh_token);
  const fourth = (await (await refresh(url, third.refresh_token)).json()) as TokenBody;
  keepAccessToken('access token 4', fourth.access_token);
  keepRefreshToken('refresh token 4', fourth.refresh_token);
  const fifth = (await (await refresh(url, second.refresh_token)).json()) as TokenBody;
  keepAccessToken('access token 5', fifth.access_token);
  keepRefreshToken('refresh token 5', fifth.refresh_token);
  await revoke(url, fifth.refresh_token);
  await refresh(url, fourth.refresh_token);

  // Configured secrets where a name belongs: the client id and secret swapped (Basic and body), the resource
  // server's secret as its id, the owner's password typed as the username.
  const swapped = { grant_type: 'authorization_code', code: 'swapped-code', redirect_uri: ALEXA_REDIRECT };
  await tokenRequest(url, swapped, 'basic', CLIENT_SECRET, 'amazon-alexa');
  await tokenRequest(url, swapped, 'body', `${CLIENT_SECRET} `, 'amazon-alexa');
  keep('resource server secret', RESOURCE_SERVER.secret);
  await fetch(`${url}/alexa/introspect`, {
    method: 'POST',
    headers: { 'content-type': FORM, authorization: basicAuth(RESOURCE_SERVER.secret, RESOURCE_SERVER.id) },
    body: new URLSearchParams({ token: 'x'.repeat(43) }).toString(),
  });
  const swappedLogin = new Browser(url);
  await submitLogin(swappedLogin, await openLoginPage(swappedLogin), { username: OWNER.password, password: OWNER.username });

  // A PKCE downgrade attempt with a third code.
  const redirect3 = await linkInBrowser(new Browser(url));
  const code3 = keep('code 3', redirect3.searchParams.get('code'));
  await exchangeCode(url, code3, keep('downgrade verifier', pkcePair().verifier));

  proc.child.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  stdout = proc.output();
  traceText = readFileSync(path.join(dataDir, 'flow-trace.jsonl'), 'utf8');
  trace = traceText
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FlowEntry);
});

afterAll(() => killServer(proc));

/** The secrets found in `text`, whole or as any 12-character piece (a prefix in a log line is a leak too). */
function leaked(text: string): string[] {
  const found: string[] = [];
  for (const [name, value] of secrets) {
    const width = Math.min(12, value.length);
    for (let i = 0; i + width <= value.length; i++) {
      if (text.includes(value.slice(i, i + width))) {
        found.push(`${name} (${JSON.stringify(value.slice(i, i + width))})`);
        break;
      }
    }
  }
  return found;
}

it('the run exercised what it claims: the trace holds each step and each failure', () => {
  const kinds = new Set(trace.map((e) => e.kind));
  for (const kind of [
    'login_failed',
    'client_secret_mismatch',
    'pkce_mismatch',
    'client_auth_malformed',
    'code_replay',
    'grant_revoked',
    'pkce_downgrade',
    'unknown_client',
  ]) {
    expect(kinds).toContain(kind);
  }
  for (const step of ['authorize', 'login', 'consent', 'token'])
    expect(trace.some((e) => e.step === step && e.outcome === 'ok')).toBe(true);
  expect(secrets.size).toBeGreaterThanOrEqual(25);
  expect(stdout).toMatch(/SECURITY token/);
});

it('no secret appears in the add-on log (stdout, debug level)', () => {
  expect(leaked(stdout)).toEqual([]);
});

it('no secret appears in the flow trace', () => {
  expect(leaked(traceText)).toEqual([]);
});

it('the trace names secrets by fingerprint: the issued code and the wrong client secret', () => {
  expect(traceText).toContain(fingerprint(secrets.get('code')));
  expect(traceText).toContain(fingerprint(secrets.get('wrong secret')));
});
