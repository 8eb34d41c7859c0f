/**
 * What the owner is told in Home Assistant, and about what: the causes of a notification as a typed union with
 * their facts, the one table that maps flow-trace failures to them, and the words of each (what happened, why,
 * what to do). Facts are data, never a parsed `cause` string; the `cause` texts of the trace, which carry
 * fingerprints and compared values for the log, are never copied into a notification.
 */
import { parseAlexaRedirect } from '../config/alexa';
import { FailureFacts, FailureKind, isFailureKind } from '../oauth/failures';
import { FAULT_FIX, isStoreFault } from '../store/faults';
import { Text, prose, t, words } from './notice-text';

export type NotificationEvent =
  // A linking attempt fails for a set-up reason.
  | { cause: 'redirect_uri_unregistered'; clientId?: string; redirectUri?: string }
  | { cause: 'redirect_uri_changed'; clientId?: string }
  | { cause: 'unknown_client'; clientId?: string }
  | { cause: 'client_secret_mismatch'; clientId?: string; scheme?: string }
  | { cause: 'client_secret_missing'; clientId?: string }
  | { cause: 'public_client_secret'; clientId?: string }
  | { cause: 'pkce_mismatch'; clientId?: string }
  | { cause: 'scope_not_allowed'; clientId?: string; asked: string[]; allowed: string[] }
  | { cause: 'implicit_grant'; clientId?: string }
  | { cause: 'public_client_without_pkce'; clientId?: string }
  | { cause: 'wrong_endpoint'; clientId?: string; method: string; path: string; expected: string }
  | { cause: 'client_credentials_removed'; clientId?: string; carried: 'code' | 'refresh_token' }
  // A refresh was answered invalid_grant for a link that existed: Alexa drops the link now.
  | { cause: 'grant_revoked'; clientId?: string }
  | { cause: 'refresh_expired'; clientId?: string }
  | { cause: 'refresh_superseded'; clientId?: string }
  // Security.
  | { cause: 'code_replay'; clientId?: string }
  | { cause: 'refresh_reuse'; clientId?: string }
  | { cause: 'login_lockout'; by: 'address' | 'username'; target?: string; retryAfterSeconds?: number }
  | { cause: 'client_lockout'; by: 'address' | 'client'; target?: string; retryAfterSeconds?: number }
  // The database.
  | { cause: 'storage_fault'; fault: string; reason: string }
  | { cause: 'storage_recovered'; fault: string; lastedMs: number; startedOver?: boolean };

export type NotificationCause = NotificationEvent['cause'];
export type NoticeCategory = 'setup' | 'link' | 'security' | 'storage';

export const CATEGORY: Record<NotificationCause, NoticeCategory> = {
  redirect_uri_unregistered: 'setup',
  redirect_uri_changed: 'setup',
  unknown_client: 'setup',
  client_secret_mismatch: 'setup',
  client_secret_missing: 'setup',
  public_client_secret: 'setup',
  pkce_mismatch: 'setup',
  scope_not_allowed: 'setup',
  implicit_grant: 'setup',
  public_client_without_pkce: 'setup',
  wrong_endpoint: 'setup',
  client_credentials_removed: 'setup',
  grant_revoked: 'link',
  refresh_expired: 'link',
  refresh_superseded: 'link',
  code_replay: 'security',
  refresh_reuse: 'security',
  login_lockout: 'security',
  client_lockout: 'security',
  storage_fault: 'storage',
  storage_recovered: 'storage',
};

/** The fields of a flow-trace entry this module reads (FlowEntry fits). */
export interface TraceFacts {
  step: string;
  outcome: string;
  kind?: string;
  clientId?: string;
  redirectUri?: string;
  facts?: Readonly<Record<string, unknown>>;
  detail?: Record<string, unknown>;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A notification for one failure kind, from the entry and that kind's facts (this server's entries, live: they have them). */
type FromTrace<K extends FailureKind> = (e: TraceFacts, facts: FailureFacts[K] | undefined) => NotificationEvent | undefined;

/**
 * Flow-trace failure kind -> notification. Kinds absent here are not notified: they are the client's or a
 * guesser's business (an unknown refresh token, a malformed request) and the admin page's Activity explains them.
 */
const FROM_TRACE: { readonly [K in FailureKind]?: FromTrace<K> } = {
  // At the token step the same kind means the redirect_uri changed between authorization and token request.
  redirect_uri_mismatch: (e) =>
    e.step === 'authorize'
      ? { cause: 'redirect_uri_unregistered', clientId: e.clientId, redirectUri: e.redirectUri }
      : { cause: 'redirect_uri_changed', clientId: e.clientId },
  unknown_client: (e) => ({ cause: 'unknown_client', clientId: e.clientId }),
  client_secret_mismatch: (e, facts) => ({
    cause: 'client_secret_mismatch',
    clientId: e.clientId,
    scheme: facts?.scheme ?? str(e.detail?.authScheme),
  }),
  client_secret_missing: (e) => ({ cause: 'client_secret_missing', clientId: e.clientId }),
  public_client_secret: (e) => ({ cause: 'public_client_secret', clientId: e.clientId }),
  pkce_mismatch: (e) => ({ cause: 'pkce_mismatch', clientId: e.clientId }),
  scope_not_allowed: (e, facts) => ({
    cause: 'scope_not_allowed',
    clientId: e.clientId,
    asked: facts?.asked ?? [],
    allowed: facts?.allowed ?? [],
  }),
  unsupported_response_type: (e, facts) =>
    facts?.responseType === 'token' ? { cause: 'implicit_grant', clientId: e.clientId } : undefined,
  // At the authorization step only: a public client linking without PKCE (the token step's is the client's business).
  pkce_missing: (e) => (e.step === 'authorize' ? { cause: 'public_client_without_pkce', clientId: e.clientId } : undefined),
  // Only a request with a configured client's credentials: a stranger's probe of /token is not news.
  unknown_endpoint: (e, facts) =>
    facts?.authenticated
      ? { cause: 'wrong_endpoint', clientId: e.clientId, method: facts.method, path: facts.path, expected: facts.expected }
      : undefined,
  // Only a request that held a live code or refresh token of a confidential client (client_auth_missing, a
  // stranger's bare request, is not news).
  client_credentials_removed: (_e, facts) =>
    facts ? { cause: 'client_credentials_removed', clientId: facts.clientId, carried: facts.carried } : undefined,
  grant_revoked: (e) => ({ cause: 'grant_revoked', clientId: e.clientId }),
  refresh_expired: (e) => ({ cause: 'refresh_expired', clientId: e.clientId }),
  // The grant itself expired from disuse (its record is gone, the token's not yet).
  grant_missing: (e) => ({ cause: 'refresh_expired', clientId: e.clientId }),
  // A refresh token used outside the grace window after it was replaced (confidential clients: no revocation).
  refresh_superseded: (e) => ({ cause: 'refresh_superseded', clientId: e.clientId }),
  code_replay: (e) => ({ cause: 'code_replay', clientId: e.clientId }),
  refresh_reuse: (e) => ({ cause: 'refresh_reuse', clientId: e.clientId }),
  rate_limited: (_e, facts) => {
    if (!facts) return undefined;
    const { limiter, target, retryAfter: retryAfterSeconds } = facts;
    if (limiter === 'login-ip' || limiter === 'login-user')
      return { cause: 'login_lockout', by: limiter === 'login-ip' ? 'address' : 'username', target, retryAfterSeconds };
    return { cause: 'client_lockout', by: limiter === 'token-ip' ? 'address' : 'client', target, retryAfterSeconds };
  },
};

function fromTrace<K extends FailureKind>(kind: K, e: TraceFacts): NotificationEvent | undefined {
  const table: { readonly [Q in FailureKind]?: FromTrace<Q> } = FROM_TRACE;
  const map: FromTrace<K> | undefined = table[kind];
  return map?.(e, e.facts as FailureFacts[K] | undefined);
}

/** The notification a flow-trace entry calls for, if any. */
export function eventFromTrace(e: TraceFacts): NotificationEvent | undefined {
  if (e.outcome === 'ok' || !isFailureKind(e.kind)) return undefined;
  return fromTrace(e.kind, e);
}

/** Every trace kind that can raise a notification. */
export const NOTIFIED_KINDS: readonly FailureKind[] = (Object.keys(FROM_TRACE) as FailureKind[]).filter((k) => FROM_TRACE[k] !== undefined);

export const NOTIFICATION_ID_PREFIX = 'music_assistant_alexa_oauth_';

/** Causes whose fix names the client: one throttle and one notification per configured client. */
const PER_CLIENT = new Set<NotificationCause>([
  'redirect_uri_unregistered',
  'client_secret_mismatch',
  'client_secret_missing',
  'public_client_secret',
  'pkce_mismatch',
  'scope_not_allowed',
  'implicit_grant',
  'public_client_without_pkce',
  'wrong_endpoint',
  'client_credentials_removed',
]);

/**
 * The throttle key and Home Assistant notification_id of an event: the cause, plus the client id where the fix
 * differs per client and the id is a configured one (ids sent by strangers would let them mint unlimited keys).
 * A database fault and its recovery share one notification, so the recovery replaces the fault.
 */
export function identify(e: NotificationEvent, isConfiguredClient: (id: string) => boolean): { key: string; notificationId: string } {
  if (e.cause === 'storage_fault' || e.cause === 'storage_recovered')
    return { key: e.cause, notificationId: `${NOTIFICATION_ID_PREFIX}storage` };
  const clientId = 'clientId' in e ? e.clientId : undefined;
  if (PER_CLIENT.has(e.cause) && clientId !== undefined && isConfiguredClient(clientId)) {
    const slug = clientId
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 40);
    return { key: `${e.cause}:${clientId}`, notificationId: `${NOTIFICATION_ID_PREFIX}${e.cause}${slug ? `_${slug}` : ''}` };
  }
  return { key: e.cause, notificationId: `${NOTIFICATION_ID_PREFIX}${e.cause}` };
}

export interface NoticeWords {
  title: string;
  happened: Text;
  why: Text;
  fix: Text;
}

/** What the words may look up: the configured clients (trusted, unlike any value a request carries). */
export interface WordsContext {
  clients: ReadonlyArray<{ clientId: string; redirectUris: readonly string[] }>;
}

const CONFIG = words('the add-on Configuration tab');
// A plain string, not template text: dist/main.js stays ASCII only (tests/addon/server-bundle.test.ts).
const ACCOUNT_LINKING = words('Build → Account Linking');
/** After advice that holds only if someone was linking: anyone can send the request that raised it. */
const NOBODY_LINKING = words(' If nobody was linking, someone else sent this request: change nothing.');
const RELINK = words('The user links again in the Alexa app (Skills → Your Skills → the skill → Link Account).');

const client = (id: string | undefined): Text => (id ? t`client ${id}` : words('the client'));
const minutes = (s: number | undefined): Text => words(s ? `${Math.max(1, Math.round(s / 60))} min` : 'a while');
/** A value, or our words when it is unknown (never quote our own fallback as if it were data). */
const valueOr = (v: string | undefined, fallback: string): Text => (v ? t`${v}` : words(fallback));

function redirectAdvice(e: { clientId?: string; redirectUri?: string }, ctx: WordsContext): Text {
  const uri = e.redirectUri ?? '';
  const vendor = parseAlexaRedirect(uri)?.vendorId;
  if (vendor === undefined) {
    // Anyone can send any redirect_uri: never advise registering one that is not Alexa's.
    return t`This is not an Alexa redirect URL. Add it only if it is the address of an app of yours; otherwise someone probed the server and there is nothing to do (the request was refused and nothing was sent to that address).`;
  }
  const registered = ctx.clients.find((c) => c.clientId === e.clientId)?.redirectUris ?? [];
  const vendors = [...new Set(registered.map((r) => parseAlexaRedirect(r)?.vendorId).filter((v): v is string => Boolean(v)))];
  const otherVendor = vendors.length > 0 && !vendors.includes(vendor);
  // Anyone can send an Alexa-shaped URL too: the advice holds only if someone was linking the skill just then.
  if (otherVendor) {
    return t`The registered ones use the vendor ID ${vendors.join(', ')}, this one ${vendor}. If you were linking the skill just then and it moved to another Amazon developer account, copy all three "Alexa Redirect URLs" from the skill's Account Linking page of the Alexa developer console to ${'redirect_uris'} of ${client(e.clientId)} in ${CONFIG}, save, restart the add-on and link again. If nobody was linking, someone else sent this request: change nothing (the request was refused and nothing was sent to that address).`;
  }
  return [
    ...t`If you were linking the skill just then: Alexa uses the URL of the user's Amazon region, so add all three "Alexa Redirect URLs" of the skill's Account Linking page to ${'redirect_uris'} of ${client(e.clientId)} in ${CONFIG} (this one exactly as shown among them), save, restart the add-on and link again.`,
    ...NOBODY_LINKING,
  ];
}

type Wording<C extends NotificationCause> = (e: Extract<NotificationEvent, { cause: C }>, ctx: WordsContext) => NoticeWords;

const WORDS: { [C in NotificationCause]: Wording<C> } = {
  redirect_uri_unregistered: (e, ctx) => ({
    title: 'Alexa linking failed: redirect URI not registered',
    happened: t`A linking attempt for ${client(e.clientId)} asked to return to ${valueOr(e.redirectUri, 'an address')}, which is not one of its registered redirect URIs.`,
    why: words('Only registered redirect URIs are accepted, exactly as written, so that a login can never be sent to someone else.'),
    fix: redirectAdvice(e, ctx),
  }),
  redirect_uri_changed: (e) => ({
    title: 'Alexa linking failed: redirect URI changed',
    happened: t`The token request of ${client(e.clientId)} named another redirect URI than the one linking started with.`,
    why: words('Both requests must carry the identical redirect URI; something changed it on the way.'),
    fix: [
      ...RELINK,
      ...words(
        ' If it happens again, check that nothing between Alexa and this add-on (a reverse proxy) rewrites the body of /alexa/token.',
      ),
    ],
  }),
  unknown_client: (e, ctx) => ({
    title: 'Alexa linking failed: unknown client ID',
    happened: t`A request came with the client ID ${valueOr(e.clientId, '(none)')}, which is not configured here (configured: ${ctx.clients.map((c) => c.clientId).join(', ') || '(none)'}).`,
    why: words('Client IDs must match exactly, including upper and lower case.'),
    fix: t`Make "Your Client ID" in the Alexa developer console (${ACCOUNT_LINKING}) equal to ${'client_id'} under ${'clients'} in ${CONFIG}, then link again. If you never set up such a client, someone probed the server and there is nothing to do.`,
  }),
  client_secret_mismatch: (e) => ({
    title: 'Alexa linking failed: wrong client secret',
    happened: [
      ...t`A token request of ${client(e.clientId)} carried a client secret that is not the configured one`,
      ...(e.scheme === 'basic'
        ? words(' (sent by HTTP Basic).')
        : e.scheme === 'body'
          ? words(' (sent in the request body).')
          : words('.')),
    ],
    why: words('The Alexa console and this add-on must hold the same secret; Alexa sends it with every token request.'),
    fix: t`If Alexa was linking or refreshing just then: make "Your Secret" in the Alexa developer console (${ACCOUNT_LINKING}) and ${'client_secret'} of ${client(e.clientId)} in ${CONFIG} the same value, then link again. If links keep working, someone else tried a secret: change nothing (repeated tries lock out their address).`,
  }),
  client_secret_missing: (e) => ({
    title: 'Alexa linking failed: client secret missing',
    happened: t`A token request of ${client(e.clientId)} carried no client secret, but the client is configured as confidential.`,
    why: words('A confidential client must authenticate with its secret.'),
    fix: t`In the Alexa developer console fill in "Your Secret" with ${'client_secret'} from ${CONFIG}; either authentication scheme works.`,
  }),
  public_client_secret: (e) => ({
    title: 'Alexa linking failed: public client sent a secret',
    happened: t`A token request of ${client(e.clientId)} carried a client secret, but the client is configured as public.`,
    why: words('Alexa always sends a secret, so its client must be confidential.'),
    fix: t`In ${CONFIG} set ${'client_type'} of ${client(e.clientId)} to ${'confidential'} and ${'client_secret'} to the value of "Your Secret" in the Alexa developer console.`,
  }),
  scope_not_allowed: (e) => ({
    title: 'Alexa linking failed: scope not allowed',
    happened: t`A linking attempt for ${client(e.clientId)} asked for ${e.asked.join(' ') || '(none)'}, a scope the add-on does not allow it; it allows ${e.allowed.join(' ') || '(none)'}.`,
    why: words('A client gets only the scopes configured for it.'),
    fix: [
      ...t`If you were linking the skill just then: make the Scope list of the skill's Account Linking page (${ACCOUNT_LINKING}) and ${'scopes'} of ${client(e.clientId)} in ${CONFIG} the same, save, restart the add-on and link again.`,
      ...NOBODY_LINKING,
    ],
  }),
  implicit_grant: (e) => ({
    title: 'Alexa linking failed: implicit grant selected',
    happened: t`A linking attempt for ${client(e.clientId)} asked for tokens directly (response_type=token, the implicit grant).`,
    why: words(
      'The add-on offers only the authorization code grant, which Alexa supports: the implicit grant puts tokens in the browser (RFC 9700 §2.1.2).',
    ),
    fix: [
      ...t`If you were linking the skill just then: choose "Auth Code Grant" as the Authorization Grant Type on the skill's Account Linking page (${ACCOUNT_LINKING}), save, and link again.`,
      ...NOBODY_LINKING,
    ],
  }),
  public_client_without_pkce: (e) => ({
    title: 'Alexa linking failed: public client without PKCE',
    happened: t`A linking attempt for ${client(e.clientId)}, configured as public, came without a PKCE code_challenge.`,
    why: words(
      'A public client has no secret, so PKCE is what protects its codes; Alexa sends PKCE only when it is enabled, and always sends a secret.',
    ),
    fix: [
      ...t`If this client is Alexa: in ${CONFIG} set ${'client_type'} of ${client(e.clientId)} to ${'confidential'} and ${'client_secret'} to "Your Secret" of the skill's Account Linking page, save, restart the add-on and link again.`,
      ...NOBODY_LINKING,
    ],
  }),
  wrong_endpoint: (e) => ({
    title: 'Alexa linking failed: wrong Access Token URI',
    happened: t`${client(e.clientId)} sent its ID and secret to ${`${e.method} ${e.path}`}, which is not an endpoint of the add-on; its token endpoint is ${e.expected}.`,
    why: words('Alexa sends the token request to the "Access Token URI" of the skill, exactly as written there.'),
    fix: t`In the Alexa developer console (${ACCOUNT_LINKING}) set the "Access Token URI" to your public address followed by ${'/alexa/token'}; if a reverse proxy sits in front, make it pass the path on unchanged. Then link again.`,
  }),
  client_credentials_removed: (e) => ({
    title:
      e.carried === 'code'
        ? 'Alexa linking: a token request lost its client credentials'
        : 'Alexa refresh: a token request lost its client credentials',
    happened: [
      ...words(`A token request carried a live ${e.carried === 'code' ? 'authorization code' : 'refresh token'} of `),
      ...t`${client(e.clientId)}, but no client ID and secret: it arrived with no Authorization header, and was refused.`,
    ],
    why: words(
      'Alexa sends its client ID and secret with every token request, so most likely something between Alexa and the add-on, a reverse proxy or tunnel, removed the Authorization header that carries them. (Anyone else holding a copy of the code or token is refused the same way: without the secret it is worthless.)',
    ),
    fix: [
      ...t`If Alexa's linking or refreshes fail: make the reverse proxy pass the Authorization header on unchanged, or choose "Credentials in request body" as the Authentication Scheme in the Alexa developer console (${ACCOUNT_LINKING}).`,
      ...(e.carried === 'code'
        ? words(' Then link again.')
        : words(" Until then Alexa's refreshes fail, its access tokens run out and music control stops.")),
    ],
  }),
  pkce_mismatch: (e) => ({
    title: 'Alexa linking failed: PKCE verification failed',
    happened: t`The code_verifier of a token request of ${client(e.clientId)} does not match the code_challenge its linking started with.`,
    why: words('The client must send the verifier it generated for this very link (RFC 7636).'),
    fix: words(
      'Alexa computes the pair correctly, so something between Alexa and the add-on changed the request (a proxy rewriting it, or a test script instead of Alexa): check the proxy, then link again from the Alexa app.',
    ),
  }),
  grant_revoked: (e) => ({
    title: 'Alexa link dropped: it was revoked',
    happened: t`A refresh of ${client(e.clientId)} was refused because its link had been revoked. Alexa drops the link on this answer, so music control stops for that user.`,
    why: words(
      'The link was revoked on the admin page, with oauth-admin, by "Revoke all", or automatically after a replayed code or a reused refresh token.',
    ),
    fix: [...words("If nobody revoked it on purpose, look for the revocation in the admin page's Activity. "), ...RELINK],
  }),
  refresh_expired: (e) => ({
    title: 'Alexa link dropped: unused for too long',
    happened: t`A refresh of ${client(e.clientId)} was refused because the link had not been used for longer than ${'refresh_token_idle_lifetime'}. Alexa drops the link on this answer.`,
    why: words('Links expire after that long without any refresh.'),
    fix: [...RELINK, ...t` Raise ${'refresh_token_idle_lifetime'} in ${CONFIG} if links of rarely used skills expire.`],
  }),
  refresh_superseded: (e) => ({
    title: 'Alexa link dropped: outdated refresh token',
    happened: t`A refresh of ${client(e.clientId)} used a refresh token that had been replaced by a newer one, after the grace period for retries. Alexa drops the link on this answer.`,
    why: words(
      "Alexa lost the newer token (for example, the answer that carried it never arrived), or something else presents an old copy of the link's tokens.",
    ),
    fix: [
      ...RELINK,
      ...words(' If it repeats, check that no older copy of /data (a restored backup) or a second copy of this server answers Alexa.'),
    ],
  }),
  code_replay: (e) => ({
    title: 'Security: an authorization code was used twice',
    happened: t`An authorization code of ${client(e.clientId)} was presented a second time. As a precaution the link it created, with all its tokens, was revoked.`,
    why: words('A code works once. A second use means a retry after a lost answer, or that someone else got hold of the code.'),
    fix: [
      ...RELINK,
      ...words(
        " If nobody was linking at that moment, someone may have intercepted a code: check the admin page's Activity for the addresses involved.",
      ),
    ],
  }),
  refresh_reuse: (e) => ({
    title: 'Security: refresh token reused, link revoked',
    happened: t`An old refresh token of ${client(e.clientId)} was presented after a newer one from the same link had been used. The link was revoked.`,
    why: words("Two parties using the same link's tokens is how token theft shows."),
    fix: [
      ...RELINK,
      ...t` If it repeats, change ${'client_secret'} here and in the Alexa developer console, and look in the admin page's Activity for the addresses involved.`,
    ],
  }),
  login_lockout: (e) => ({
    title: 'Security: logins locked after failed attempts',
    happened:
      e.by === 'username'
        ? t`Too many failed logins as ${valueOr(e.target, 'one user')} came from several addresses: logins as this user are refused for ${minutes(e.retryAfterSeconds)}.`
        : t`Too many failed logins came from ${valueOr(e.target, 'one address')}: its logins are refused for ${minutes(e.retryAfterSeconds)}.`,
    why: words('Someone is guessing passwords, or a person mistyped theirs many times.'),
    fix: t`If it was not you, make the password a long passphrase (or log in with a Home Assistant account). The lock lifts by itself. If the address is your reverse proxy's, add it to ${'trusted_proxies'} so that each client is limited on its own.`,
  }),
  client_lockout: (e) => ({
    title: 'Security: token requests locked after failures',
    happened:
      e.by === 'client'
        ? t`Too many failed requests named ${client(e.target)}: failing ones are refused for ${minutes(e.retryAfterSeconds)}. Requests with valid credentials, such as Alexa's refreshes, still work.`
        : t`Too many failed token requests came from ${valueOr(e.target, 'one address')}: its failing requests are refused for ${minutes(e.retryAfterSeconds)}. Requests with valid credentials still work.`,
    why: words('Someone may be guessing a client secret, a code or a token, or a misconfigured client keeps retrying.'),
    fix: t`Fix any set-up failure listed just before it in the admin page's Activity (a wrong secret keeps failing). If the address is your reverse proxy's, add it to ${'trusted_proxies'}. The lock lifts by itself.`,
  }),
  storage_fault: (e) => ({
    title: 'Alexa linking: the database cannot be used',
    happened: [...t`The add-on's database has a fault (${e.fault}): `, ...prose(e.reason)],
    why: words(
      'Until it is fixed, token requests are answered "try again later". No link is lost: Alexa retries, and nothing is answered "invalid", which would unlink users.',
    ),
    fix: words(isStoreFault(e.fault) ? `${FAULT_FIX[e.fault]} A notice here says when it works again.` : 'Do what the message above says.'),
  }),
  storage_recovered: (e) =>
    e.startedOver
      ? {
          title: 'Alexa linking: started over with an empty database',
          happened: [
            ...t`The ${e.fault} database was replaced with an empty one from the add-on's admin page: every link made before is gone.`,
          ],
          why: words('An administrator chose "Start over" because the database was missing or damaged and no backup was restored.'),
          fix: words("Every Alexa user links the skill again in the Alexa app. The old files are kept in the add-on's data folder."),
        }
      : {
          title: 'Alexa linking: the database works again',
          happened: [
            ...t`The database fault (${e.fault}) is over: it can be read and written again, after `,
            ...words(`${Math.max(1, Math.round(e.lastedMs / 1000))} s.`),
          ],
          why: words('The add-on checks the database in the background while a fault lasts.'),
          fix: words('Nothing to do.'),
        },
};

export function wordsFor(e: NotificationEvent, ctx: WordsContext): NoticeWords {
  return (WORDS[e.cause] as Wording<NotificationCause>)(e, ctx);
}
