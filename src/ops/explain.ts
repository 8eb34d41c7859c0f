/**
 * Diagnosis of one failure: each failure kind of the flow trace (oauth/failures.ts) in plain words, with the fix.
 * Used by the Activity page, the CLI's `activity` and `diagnose`, and /metrics' help.
 *
 * The entry's fields (client, redirect URI, IP), its facts (the data the failure recorded for its kind) and the
 * configuration give the specifics; the operator's sentence (`cause`) is never parsed. There is one explainer per
 * kind, which the compiler checks. An entry written before facts were recorded is explained without them, and
 * one of a kind this version does not know gets its recorded cause.
 */
import { isAlexaHost } from '../config/alexa';
import { Config } from '../config/config';
import { describeMalformed, schemeWords } from '../oauth/client-auth';
import { FailureFacts, FailureKind, LimiterName, isFailureKind } from '../oauth/failures';
import { closestRedirectUri } from '../oauth/redirect-uri';
import { FAULT_FIX, isStoreFault } from '../store/faults';

export interface ExplainableEntry {
  step: string;
  outcome: string;
  kind?: string;
  error?: string;
  cause?: string;
  clientId?: string;
  redirectUri?: string;
  username?: string;
  grantId?: string;
  ip?: string;
  facts?: Readonly<Record<string, unknown>>;
  detail?: Record<string, unknown>;
}

export interface Explanation {
  /** A short title, e.g. "Redirect URI not registered". */
  title: string;
  /** What happened, in plain words, with the facts of this occurrence. */
  problem: string;
  /** What to do about it. */
  fix: string;
  severity: 'error' | 'security';
}

export interface ExplainContext {
  config?: Config;
}

const CONFIG = 'the add-on Configuration tab';
const RELINK = 'The user links again from the Alexa app (Skills → Your Skills → the skill → Link Account).';

function isAlexaUri(uri: string | undefined): boolean {
  if (!uri) return false;
  try {
    return isAlexaHost(new URL(uri).hostname);
  } catch {
    return false;
  }
}

/** "Alexa" when the client is the skill (by its redirect URIs or name), else "Client <id>". */
function who(e: ExplainableEntry, ctx: ExplainContext): string {
  const client = ctx.config?.clients.find((c) => c.clientId === e.clientId);
  if (isAlexaUri(e.redirectUri) || client?.redirectUris.some(isAlexaUri) || /alexa/i.test(e.clientId ?? '')) return 'Alexa';
  return e.clientId ? `Client ${e.clientId}` : 'A client';
}

function idList(ids: readonly string[]): string {
  return ids.length ? ids.join(', ') : '(none)';
}

/** Where two redirect URIs differ, in words an operator recognises. */
function redirectDifference(asked: string, registered: string): string {
  let a: URL;
  let r: URL;
  try {
    a = new URL(asked);
    r = new URL(registered);
  } catch {
    return '';
  }
  if (a.protocol !== r.protocol) return ` (the scheme differs: ${a.protocol.slice(0, -1)} instead of ${r.protocol.slice(0, -1)})`;
  if (a.host !== r.host) {
    return isAlexaHost(a.hostname) && isAlexaHost(r.hostname)
      ? ` (another Alexa region: ${a.hostname} instead of ${r.hostname}; Alexa uses the host of the user's account region, so register all three)`
      : ` (the host differs: ${a.host} instead of ${r.host})`;
  }
  const link = /^\/api\/skill\/link\/([^/]+)$/;
  const av = link.exec(a.pathname)?.[1];
  const rv = link.exec(r.pathname)?.[1];
  if (av && rv && av !== rv) {
    return ` (the vendor id differs: ${av} instead of ${rv}${/^(M2X+|REPLACEWITHVENDORID)$/.test(rv) ? ', which is still the placeholder of the default configuration' : ''})`;
  }
  if (a.pathname !== r.pathname) {
    const lower = a.pathname.toLowerCase() === r.pathname.toLowerCase();
    return lower
      ? ' (they differ only in upper/lower case, and the comparison is exact)'
      : ` (the path differs: ${a.pathname} instead of ${r.pathname})`;
  }
  if (a.search !== r.search) return ' (the query string differs)';
  return ' (they differ in a character that is easy to overlook, e.g. a trailing slash or space)';
}

/**
 * Explains one kind. `facts` are the entry's: undefined for an entry written before facts were recorded, and
 * then the explanation does without the specifics.
 */
type Explainer<K extends FailureKind> = (
  e: ExplainableEntry,
  facts: FailureFacts[K] | undefined,
  ctx: ExplainContext,
) => Omit<Explanation, 'severity'>;
type ExplainerTable = { readonly [K in FailureKind]: Explainer<K> };

const secretFix = (client: string) =>
  `Make "Your Secret" in the Alexa developer console (Build → Account Linking) and clients → client_secret of ${client} in ${CONFIG} the same value, then link again.`;

const quoted = (values: readonly string[]) => values.map((v) => `"${v}"`).join(', ');

const LIMITERS: ReadonlySet<string> = new Set<LimiterName>(['login-ip', 'login-user', 'token-ip', 'token-client']);

/** A lockout as entries before facts recorded it (in `detail`), read as data. */
function lockoutOf(
  e: ExplainableEntry,
  facts: FailureFacts['rate_limited'] | undefined,
): { limiter?: LimiterName; target?: string; retryAfter?: number } {
  if (facts) return facts;
  const d = e.detail ?? {};
  return {
    limiter: typeof d.limiter === 'string' && LIMITERS.has(d.limiter) ? (d.limiter as LimiterName) : undefined,
    target: typeof d.target === 'string' ? d.target : undefined,
    retryAfter: typeof d.retryAfter === 'number' ? d.retryAfter : undefined,
  };
}

const EXPLAINERS = {
  redirect_uri_mismatch(e, facts, ctx) {
    if (e.step === 'token') {
      const atToken = facts && 'authorized' in facts ? facts : undefined;
      const sent = atToken ? (atToken.asked ?? '(none)') : (e.redirectUri ?? '(none)');
      const original = atToken?.authorized;
      return {
        title: 'Redirect URI changed between authorization and token request',
        problem: `${who(e, ctx)} exchanged a code with redirect_uri ${sent}${original ? `, but linking was started with ${original}` : ', which is not the one linking was started with'}. Both must be identical, byte for byte.`,
        fix: `${RELINK} If it happens again, check that nothing between Alexa and this add-on (a reverse proxy) rewrites the body of /alexa/token.`,
      };
    }
    const atAuthorize = facts && 'registered' in facts ? facts : undefined;
    const asked = atAuthorize?.asked ?? e.redirectUri ?? '(unknown)';
    // The closest URI registered when it failed; for an entry without facts, the closest one registered now.
    const client = ctx.config?.clients.find((c) => c.clientId === e.clientId);
    const closest = atAuthorize ? atAuthorize.closest : client ? closestRedirectUri(asked, client.redirectUris) : undefined;
    return {
      title: 'Redirect URI not registered',
      problem:
        `${who(e, ctx)} asked for ${asked}, which is not a registered redirect URI of ${e.clientId ?? 'the client'}.` +
        (closest ? ` The closest registered one is ${closest}${redirectDifference(asked, closest)}.` : ''),
      fix: `Add it under Configuration → clients → redirect_uris. Copy it exactly as the Alexa developer console lists it under "Alexa Redirect URLs", save, and link again.`,
    };
  },
  redirect_uri_missing: (e) => ({
    title: 'Redirect URI missing',
    problem: `The authorization request named no redirect_uri, and ${e.clientId ?? 'the client'} has several registered, so the server cannot know where to send the user back.`,
    fix: 'Alexa always sends one: check that the Authorization URI in the Alexa console is exactly the one on the Status page.',
  }),
  unknown_client: (e, facts, ctx) => ({
    title: 'Unknown client ID',
    problem: `${e.step === 'authorize' ? 'Linking was started' : 'The token request came'} with client ID "${facts?.clientId ?? e.clientId ?? ''}", which is not configured here (configured: ${idList(facts?.configured ?? ctx.config?.clients.map((c) => c.clientId) ?? [])}). Client IDs are case-sensitive.`,
    fix: `Make "Your Client ID" in the Alexa console (Build → Account Linking) equal clients → client_id in ${CONFIG}, exactly.`,
  }),
  client_id_missing: () => ({
    title: 'No client ID',
    problem: 'An authorization request arrived without client_id.',
    fix: 'Use the Authorization URI from the Status page in the Alexa console; Alexa adds client_id itself.',
  }),
  client_secret_mismatch: (e, facts, ctx) => ({
    title: 'Wrong client secret',
    problem: `${who(e, ctx)} authenticated as ${e.clientId ?? 'the client'} with a secret that is not the configured one${facts ? ` (received ${facts.received}, configured ${facts.configured}, sent by ${schemeWords(facts.scheme)}; these are fingerprints, not the secrets)` : ''}.`,
    fix: secretFix(e.clientId ?? 'the client'),
  }),
  client_secret_missing: (e, _facts, ctx) => ({
    title: 'Client secret missing',
    problem: `${who(e, ctx)} sent only the client ID, no secret, but ${e.clientId ?? 'the client'} is a confidential client.`,
    fix: `In the Alexa console fill in "Your Secret" with clients → client_secret and pick either Authentication Scheme (HTTP Basic or Credentials in request body); both work here.`,
  }),
  public_client_secret: (e, _facts, ctx) => ({
    title: 'Public client sent a secret',
    problem: `${who(e, ctx)} sent a client secret, but ${e.clientId ?? 'the client'} is configured as a public client (the old guide's "client_type: public" advice). Alexa always sends a secret.`,
    fix: `In ${CONFIG} set clients → client_type to confidential and client_secret to the value of "Your Secret" in the Alexa console.`,
  }),
  client_auth_missing: () => ({
    title: 'No client credentials',
    problem: 'A token request carried neither an Authorization: Basic header nor client_id in its body.',
    fix: 'In the Alexa console set "Your Client ID", "Your Secret" and an Authentication Scheme; if a proxy sits in front, make sure it forwards the Authorization header.',
  }),
  client_credentials_removed: (e, facts, ctx) => {
    const id = facts?.clientId ?? e.clientId;
    const sender = who({ ...e, clientId: id }, ctx);
    const held =
      facts?.carried === 'code'
        ? 'a live authorization code'
        : facts?.carried === 'refresh_token'
          ? 'a live refresh token'
          : 'a live code or refresh token';
    return {
      title: 'Client credentials removed on the way',
      problem: `A token request carried ${held} of ${id ?? 'a configured client'} but neither an Authorization: Basic header nor client_id in its body. ${sender === 'Alexa' ? 'Alexa' : 'The client'} sends its credentials with every token request, so most likely something between it and the add-on removed them. (Anyone else holding a copy of the ${facts?.carried === 'code' ? 'code' : 'token'} is refused the same way.)`,
      fix: `If linking or refreshes fail: a reverse proxy or tunnel in front of the add-on drops the Authorization header; make it pass the header on unchanged, or choose "Credentials in request body" as the Authentication Scheme in the Alexa developer console (Build → Account Linking).${facts?.carried === 'code' ? ' Then link again.' : " Until then refreshes fail, so Alexa's access tokens run out and music control stops."}`,
    };
  },
  client_auth_malformed: (e, facts) => {
    const why = facts ? describeMalformed(facts) : e.cause;
    return {
      title: 'Unreadable client authentication',
      problem: `The Authorization header of a token request is not HTTP Basic${why ? ` (${why})` : ''}.`,
      fix: 'Choose "HTTP Basic (Recommended)" or "Credentials in request body" as the Authentication Scheme in the Alexa console; check that no proxy replaces the Authorization header.',
    };
  },
  client_auth_multiple: () => ({
    title: 'Two authentication schemes at once',
    problem: 'A token request sent credentials both in an HTTP Basic header and in the body; only one method per request is allowed.',
    fix: 'Pick one Authentication Scheme in the Alexa console (a custom client must not send client_secret in the body when it uses Basic).',
  }),
  client_id_conflict: () => ({
    title: 'Two different client IDs',
    problem: 'The client ID in the Basic header and the one in the body differ.',
    fix: 'Use one Authentication Scheme; the client ID must be the same wherever it is sent.',
  }),
  pkce_mismatch: (_e, facts) => ({
    title: 'PKCE verification failed',
    problem: facts
      ? `The code_verifier does not belong to this code: the code_challenge stored when linking started is ${facts.storedChallenge}, but S256 of the verifier sent now is ${facts.verifierS256}.`
      : 'The code_verifier sent with the token request does not match the code_challenge of the authorization request.',
    fix: 'Alexa computes the pair correctly, so something between Alexa and the add-on changed the request (a proxy rewriting it), or another client sent it: such a client must send the verifier it generated for this very link, and compute the challenge as BASE64URL(SHA-256(verifier)) without "=" padding. Then link again.',
  }),
  pkce_missing: (e) =>
    e.step === 'token'
      ? {
          title: 'PKCE verifier missing',
          problem: 'Linking started with a code_challenge, but the token request sent no code_verifier.',
          fix: 'The client must send code_verifier with the code; then link again.',
        }
      : {
          title: 'PKCE required',
          problem: `${e.clientId ?? 'The client'} is a public client, so it must send a code_challenge (S256), and this request had none.`,
          fix: `For Alexa, set clients → client_type to confidential with the skill's secret in ${CONFIG}; a public app must use PKCE S256.`,
        },
  pkce_method: () => ({
    title: 'PKCE method not S256',
    problem: 'The authorization request used code_challenge_method plain (or none); only S256 is accepted.',
    fix: 'The client must use code_challenge_method=S256.',
  }),
  pkce_malformed: () => ({
    title: 'Malformed PKCE challenge',
    problem: 'The code_challenge is not 43-128 characters of A-Z a-z 0-9 - . _ ~ (base64url of SHA-256 is 43).',
    fix: 'The client must send BASE64URL(SHA-256(verifier)) without padding, and code_challenge_method=S256.',
  }),
  pkce_downgrade: () => ({
    title: 'PKCE downgrade attempt',
    problem:
      'A code issued without a code_challenge was redeemed with a code_verifier. That is how an attacker tries to use a stolen code.',
    fix: 'Nothing was issued. If your client really sends PKCE, make it send the challenge at authorization too.',
  }),
  code_expired(_e, facts, ctx) {
    const age = facts?.ageSeconds;
    const lifetime = facts?.lifetimeSeconds ?? ctx.config?.authCodeLifetime;
    const jumped = age !== undefined && lifetime !== undefined && (age < 0 || age > lifetime * 10);
    return {
      title: 'Authorization code expired',
      problem:
        (age !== undefined
          ? `The code was redeemed ${age} s after it was issued, but codes live ${lifetime} s (auth_code_lifetime).`
          : `The code was redeemed after its lifetime${lifetime ? ` of ${lifetime} s (auth_code_lifetime)` : ''}.`) +
        " The code is made when Approve is pressed and Alexa redeems it within seconds, so the time was not the user's:" +
        (jumped
          ? ` ${age} s means this machine's clock almost certainly jumped between the two steps.`
          : " this machine's clock moved between the two steps, or Alexa's token request reached the add-on late."),
      fix: jumped
        ? `Check the clock of the Home Assistant host (Settings → System → General, and that NTP time sync works; the admin page's checks report clock jumps), then link again.`
        : `Look at the admin page's checks: a clock jump is reported there (then fix the host's time sync). Otherwise something between Alexa and the add-on delayed the token request (a slow or failing reverse proxy: its log around that time). Then link again: ${RELINK} Raising auth_code_lifetime (up to 600) is the last resort.`,
    };
  },
  code_replay: (_e, facts) => ({
    title: 'Authorization code used twice',
    problem: `An authorization code was presented again${facts ? ` ${facts.redeemedSecondsAgo} s after it had been redeemed` : ''}. A code works once; as a precaution the link it created${facts ? ` (grant ${facts.grantId})` : ''} and all its tokens were revoked.`,
    fix: `${RELINK} A retry usually means Alexa did not get the first answer in time (it allows 4.5 s): check the token latency on /metrics. If nobody was linking, someone may have intercepted a code.`,
  }),
  code_unknown: () => ({
    title: 'Unknown authorization code',
    problem: 'A token request presented a code this server never issued, or one older than a day.',
    fix: `${RELINK} If codes from a just-finished approval are unknown, the database may have been reset or restored from a backup in between.`,
  }),
  code_client_mismatch: () => ({
    title: 'Code redeemed by another client',
    problem: 'A code issued to one client was presented by another.',
    fix: 'Each client must redeem only its own codes; check the client IDs in the console of each app.',
  }),
  code_missing: () => ({
    title: 'Code missing',
    problem: 'grant_type=authorization_code arrived without a code.',
    fix: 'The client must send the code it received.',
  }),
  refresh_reuse: (_e, facts) => ({
    title: 'Refresh token reused: link revoked',
    problem: `An old refresh token of a public client was presented after a newer one from the same link had already been rotated${facts ? ` (grant ${facts.grantId} of ${facts.username})` : ''}. Two parties holding the same link's tokens is how token theft shows, so the link was revoked.`,
    fix: `${RELINK} If it repeats, find what else holds Alexa's tokens (e.g. an older backup of /data restored over newer data, or a test tool sharing the link).`,
  }),
  refresh_superseded(_e, facts) {
    const when =
      facts &&
      (facts.supersededSecondsAgo === undefined
        ? 'before the grace window'
        : `${facts.behind} generation(s) back, superseded ${facts.supersededSecondsAgo} s ago`);
    return {
      title: 'Refresh token too old',
      problem: `A refresh token that newer ones have replaced was presented${facts ? ` (grant ${facts.grantId} of ${facts.username}, ${when})` : ''}, outside the grace window in which earlier tokens stay valid. The link itself was not touched; its newer tokens keep working.`,
      fix: 'Nothing to do if Alexa keeps working. If this repeats for one link, something presents stale tokens (a restored backup of /data, a copy of the tokens); raising refresh_token_grace_generations or refresh_token_grace_period widens the window.',
    };
  },
  refresh_unknown: () => ({
    title: 'Unknown refresh token',
    problem:
      'Alexa presented a refresh token this server does not know: never issued here, or unused for longer than refresh_token_idle_lifetime.',
    fix: `${RELINK} If many users are affected at once, the database was probably replaced (restored from an old backup, or /data wiped).`,
  }),
  refresh_expired: () => ({
    title: 'Link expired from disuse',
    problem: 'A refresh token was unused for longer than refresh_token_idle_lifetime.',
    fix: `${RELINK} Raise refresh_token_idle_lifetime if links of rarely used skills expire.`,
  }),
  grant_missing: () => ({
    title: 'Link no longer exists',
    problem: 'The link of this refresh token expired from disuse.',
    fix: RELINK,
  }),
  grant_revoked: (_e, facts) => ({
    title: 'Token of a revoked link',
    problem: `A token of a link that was revoked${facts ? ` at ${facts.revokedAt}${facts.reason ? ` (${facts.reason})` : ''}` : ''} was presented. Alexa drops the link when it gets this answer.`,
    fix: RELINK,
  }),
  refresh_client_mismatch: () => ({
    title: 'Refresh token of another client',
    problem: 'A refresh token issued to one client was presented by another.',
    fix: 'Each client must use only its own tokens.',
  }),
  refresh_missing: () => ({
    title: 'Refresh token missing',
    problem: 'grant_type=refresh_token arrived without refresh_token.',
    fix: 'The client must send its refresh token.',
  }),
  scope_not_allowed: (e, facts) => ({
    title: 'Scope not configured',
    problem: facts
      ? `${e.clientId ?? 'The client'} asked for ${quoted(facts.asked)}, not among its configured scopes (${facts.allowed.join(', ') || 'none'}).`
      : `${e.clientId ?? 'The client'} asked for a scope that is not among its configured scopes.`,
    fix: `Make the Scope list in the Alexa console (Build → Account Linking) match clients → scopes in ${CONFIG}.`,
  }),
  scope_malformed: () => ({
    title: 'Malformed scope',
    problem: 'The scope parameter contains characters a scope cannot have.',
    fix: 'Scopes are words without spaces or quotes, e.g. music.read; correct them in the Alexa console.',
  }),
  scope_widened: () => ({
    title: 'Refresh asked for more scope',
    problem: 'A refresh asked for scopes beyond those the user approved.',
    fix: 'A refresh may narrow the scope, never widen it; to get more, the user links again.',
  }),
  unsupported_response_type: () => ({
    title: 'Wrong grant type in the Alexa console',
    problem: 'The authorization request asked for a response_type other than code.',
    fix: 'In the Alexa console choose "Auth Code Grant" as the Authorization Grant Type.',
  }),
  response_type_missing: () => ({
    title: 'response_type missing',
    problem: 'The authorization request had no response_type.',
    fix: 'Use the Authorization URI from the Status page; Alexa adds response_type=code itself.',
  }),
  unsupported_grant_type: () => ({
    title: 'Unsupported grant type',
    problem: 'A token request used a grant_type other than authorization_code or refresh_token.',
    fix: 'In the Alexa console choose "Auth Code Grant".',
  }),
  grant_type_missing: () => ({
    title: 'grant_type missing',
    problem: 'A token request had no grant_type.',
    fix: 'Point the Access Token URI at /alexa/token exactly as shown on the Status page.',
  }),
  rate_limited(e, facts) {
    const { limiter, target = limiter === 'token-client' ? e.clientId : e.ip, retryAfter } = lockoutOf(e, facts);
    const during = retryAfter ? ` for ${retryAfter} s` : ' for a while';
    const problems: Record<LimiterName, string> = {
      'login-ip': `Too many failed logins from ${target ?? 'one address'}: its logins are refused${during}.`,
      'login-user': `Too many failed logins as "${target ?? '?'}" from several addresses, which looks like password guessing: logins as this user are refused${during}.`,
      'token-ip': `Too many failed token requests from ${target ?? 'one address'}: its failing requests are answered 429 (too many requests)${during}; requests with valid credentials still succeed.`,
      'token-client': `Too many failed requests naming client "${target ?? '?'}" (secret, code or token guessing): they are answered 429${during}; Alexa's valid refreshes still succeed.`,
    };
    return {
      title: 'Rate limited',
      problem: limiter ? problems[limiter] : `Too many failures from ${e.ip ?? 'one address'}: further attempts are refused${during}.`,
      fix:
        limiter === 'login-user'
          ? 'If it was not you, someone is guessing this password: make it a long passphrase (or use a Home Assistant account). The lock lifts by itself.'
          : 'Wait for the lock to lift, then fix the failure that came before it (the entries just below). If every client shows up with the address of your reverse proxy, add the proxy to trusted_proxies so that each client is limited on its own.',
    };
  },
  login_failed: (e) => ({
    title: 'Wrong username or password',
    problem: `Someone tried to log in as "${e.username ?? ''}" with a wrong password while linking.`,
    fix: `Log in with a Home Assistant account, or a user listed under Configuration → users. Repeated failures from unknown addresses are refused by the rate limit.`,
  }),
  ha_user_not_allowed: (e) => ({
    title: 'Home Assistant user not allowed to link',
    problem: `Home Assistant user "${e.username ?? '?'}" logged in with the right password, but is not listed under ha_allowed_users, so the link was refused.`,
    fix: "If this person may link the skill, add their Home Assistant username to ha_allowed_users in the add-on configuration. If not, nothing to do; consider changing that account's password if you did not expect the attempt (Home Assistant's MFA does not protect this page).",
  }),
  login_unavailable: (e, facts) => ({
    title: 'Login not possible',
    problem: `Login could not be checked: ${facts?.reason ?? e.cause ?? 'no login source answered'}.`,
    fix: 'Add a user under Configuration → users, or make sure Home Assistant is running (Home Assistant login goes through the Supervisor).',
  }),
  request_expired: () => ({
    title: 'Login page expired',
    problem: 'The login or consent form was submitted more than 15 minutes after linking started, or twice.',
    fix: RELINK,
  }),
  request_missing: () => ({
    title: 'Link request missing',
    problem: 'A login or consent form arrived without its link request.',
    fix: RELINK,
  }),
  flow_mismatch: () => ({
    title: 'Different browser',
    problem:
      "The login or consent form was submitted from another browser than the one that started linking, or the browser dropped this site's cookie.",
    fix: `${RELINK} Allow cookies for this site in the Alexa app's browser.`,
  }),
  csrf_mismatch: () => ({
    title: 'Forged form',
    problem:
      'A login or consent form was posted without the token of the page this server showed: a cross-site request forgery attempt, or a very old open page.',
    fix: 'Nothing was approved. If it was you, reload the page and try again.',
  }),
  access_denied: (e) => ({
    title: 'Link denied',
    problem: `${e.username ?? 'The user'} pressed Deny on the consent page.`,
    fix: 'Nothing to fix; link again and choose "Approve & Link Account".',
  }),
  unknown_endpoint: (_e, facts) => ({
    title: 'Request for an address the add-on does not serve',
    problem: facts
      ? `${facts.method} ${facts.path} is not one of the add-on's endpoints${facts.authenticated ? ', yet it carried the client ID and secret of a configured client: Alexa (or something with its credentials) is pointed at the wrong URL' : ''}. The endpoint for it is ${facts.expected}.`
      : 'A request came for an address the add-on does not serve, looking like one of its endpoints.',
    fix: facts?.expected.endsWith('/token')
      ? 'In the Alexa developer console (Build → Account Linking), the "Access Token URI" must be your public address followed by /alexa/token exactly; if a reverse proxy sits in front, check that it passes the path on unchanged. Then link again.'
      : 'In the Alexa developer console (Build → Account Linking), the "Web Authorization URI" must be your public address followed by /alexa/authorize exactly; if a reverse proxy sits in front, check that it passes the path on unchanged. If nobody was linking, someone probed the server: nothing to do.',
  }),
  content_type: () => ({
    title: 'Wrong request format',
    problem: 'A token request body was not application/x-www-form-urlencoded.',
    fix: 'OAuth clients send form bodies; check that no proxy converts the body.',
  }),
  malformed_body: () => ({
    title: 'Unreadable request',
    problem: 'A token request body could not be parsed.',
    fix: 'Check the client and any proxy in between.',
  }),
  repeated_parameter: (e, facts) => ({
    title: 'Repeated parameter',
    problem: facts
      ? `The request carried ${facts.parameter} ${facts.count} times; RFC 6749 §3.1 allows each parameter once.`
      : (e.cause ?? 'A parameter was sent twice.'),
    fix: 'Each OAuth parameter may appear once; check the URL in the Alexa console for duplicates.',
  }),
  parameter_too_long: (e, facts) => ({
    title: 'Parameter too long',
    problem: facts
      ? `${facts.parameter} is ${facts.length} characters; at most ${facts.max} are accepted.`
      : (e.cause ?? 'A parameter was too long.'),
    fix: 'Check the client sending it.',
  }),
  token_missing: () => ({
    title: 'Token missing',
    problem: 'A revocation or introspection request had no token.',
    fix: 'The caller must send token=<the token>.',
  }),
  store_unavailable: (e, facts) => ({
    title: 'Database unavailable',
    problem: `The database could not be read or written, so the request was answered "try again later" (never "invalid", which would unlink users): ${facts?.reason ?? e.cause ?? ''}`,
    fix: isStoreFault(facts?.fault) ? FAULT_FIX[facts.fault] : 'The Status page says what is wrong with the database now, and what to do.',
  }),
  introspect_public_client: () => ({
    title: 'Public client cannot introspect',
    problem: 'A public client called /alexa/introspect.',
    fix: 'Add a resource_servers entry for the service that checks tokens, and use its credentials.',
  }),
  resource_server_secret_mismatch: () => ({
    title: 'Wrong resource server secret',
    problem: 'A resource server presented a wrong or no secret at /alexa/introspect.',
    fix: `Copy resource_servers → secret from ${CONFIG} into that service's settings.`,
  }),
  admin_forbidden: (e) => ({
    title: 'Admin page refused a connection',
    problem: `A connection from ${e.ip ?? 'an unknown address'} reached the admin listener, which only the Home Assistant Ingress proxy (or loopback, outside the add-on) may use.`,
    fix: 'Open the admin page from the Home Assistant sidebar; never publish or forward the ingress port.',
  }),
  security_events_coalesced: (e, facts) => {
    const counted = facts
      ? `${facts.total} more security event(s) that any client can cause were counted here, not recorded one by one (${Object.entries(
          facts.counts,
        )
          .map(([k, n]) => `${k} ×${n}`)
          .join(', ')}).`
      : (e.cause ?? 'Security events that any client can cause arrived faster than they are recorded one by one.');
    return {
      title: 'Many security events from anonymous clients',
      problem: `${counted} Events only a credential holder can cause (a code replay, a reused refresh token) are still recorded one by one.`,
      fix: 'Usually scanners or password guessing, which the rate limits handle; if it persists, check which addresses the flow trace names and block them at your reverse proxy.',
    };
  },
  admin_wrong_host: (e, facts) => {
    // Entries written before facts carried the host in their detail.
    const host = facts?.host ?? (typeof e.detail?.host === 'string' ? e.detail.host : undefined);
    return {
      title: 'Admin page refused a request for another host',
      problem: `A request reached the admin listener from ${e.ip ?? 'this machine'} addressed to another host name${host !== undefined ? ` ("${host}")` : ''}: what a web page using DNS rebinding sends. Nothing was shown or changed.`,
      fix: 'Open the admin page at http://localhost:<port>/ (or 127.0.0.1). If you did not, a web page you visited tried to reach it; nothing is needed.',
    };
  },
  admin_csrf: () => ({
    title: 'Admin form expired or forged',
    problem: 'An admin action was posted without a valid form token.',
    fix: 'Nothing was changed. Reload the admin page and try again.',
  }),
} satisfies ExplainerTable;

/** The explainer of a kind, with the entry's facts as that kind's (they are what this server wrote for it). */
function explainKind<K extends FailureKind>(kind: K, e: ExplainableEntry, ctx: ExplainContext): Omit<Explanation, 'severity'> {
  const table: ExplainerTable = EXPLAINERS;
  const explainer: Explainer<K> = table[kind];
  return explainer(e, e.facts as FailureFacts[K] | undefined, ctx);
}

/** The explanation of a failure entry; undefined for successful entries. */
export function explain(e: ExplainableEntry, ctx: ExplainContext = {}): Explanation | undefined {
  if (e.outcome !== 'error' && e.outcome !== 'security') return undefined;
  const severity = e.outcome === 'security' ? 'security' : 'error';
  if (isFailureKind(e.kind)) {
    try {
      return { ...explainKind(e.kind, e, ctx), severity };
    } catch {
      // facts of another shape than this version writes (a damaged or hand-edited line): explained by the cause
    }
  }
  return {
    title: e.error ? `Failed: ${e.error}` : 'Failed',
    problem: e.cause ?? `The ${e.step} step failed${e.kind ? ` (${e.kind})` : ''}.`,
    fix: 'The details below name the exact cause; the add-on log has the surrounding lines.',
    severity,
  };
}
