/**
 * The records the server keeps, and the storage interfaces the protocol uses, one small interface per record kind
 * (after ory/fosite's handler/oauth2/storage.go). Codes are keyed by tokenHash(raw value), access and refresh tokens
 * by tokenKey(raw value) (a refresh token's hash behind its grant's id), never by the value itself. Every method is
 * synchronous and runs inside one OAuthStorage transaction.
 *
 * A refresh token names its grant and has its row under the grant's, `grant:<grant id>/<hash>`: the store keeps rows
 * in key order, so a grant and its refresh tokens (at most the live ones and the grace window's) share a B-tree page,
 * and a refresh (the grant rewritten, a new refresh token, the superseded one rewritten, the oldest deleted) writes
 * that page and the new access token's, where rows at random keys were five pages. Access tokens have their rows at
 * `token:<issue second>.<hash>`, not under their grant: one is issued per refresh and lives its whole lifetime, so a
 * client that refreshes often would pile hundreds of them into its grant's pages. In the order they are issued, a
 * new one goes to the last page, and the ones in use (the last hour's) share a few pages, however many expired ones
 * wait for the purge. Tokens from before (1.0.0's too) keep their rows at `token:<hash>`.
 */
import { Kv, KvTx } from './kv';

export interface SessionRecord {
  username: string;
  source: 'options' | 'home-assistant';
  createdAt: number;
}

export interface CodeRecord {
  clientId: string;
  redirectUri: string;
  redirectUriGiven: boolean;
  scopes: string[];
  username: string;
  codeChallenge?: string;
  issuedAt: number;
  expiresAt: number;
  /** The grant this code creates; derived from the code so a retried exchange after a crash rewrites the same grant. */
  grantId: string;
  consumedAt?: number;
}

/** A refresh token superseded by a newer one, and when. */
export interface SupersededToken {
  /** Its tokenKey (the field keeps the name it had when keys were bare hashes). */
  hash: string;
  supersededAt: number;
  /** The generation it was live in; absent in a grant carried over from 1.0.0 (then counted by its position). */
  generation?: number;
  /** Never presented: an answer the client may not have kept; the first to go when a grant holds too many. */
  unused?: true;
}

/** Which refresh tokens of a grant are honoured (the rules: oauth/grants/refresh-policy.ts). */
export interface RefreshState {
  /** Keys (tokenKey) valid now: the newest token; for a public client also its racing siblings. */
  live: string[];
  /** Public client: the token the live ones were issued from; presenting it again is a retry until one of them is rotated. */
  parent?: string;
  /** Earlier tokens, newest first, bounded: honoured within the grace window for a confidential client; reuse for a public one. */
  previous: SupersededToken[];
  /** How many generations the grant has had: a refresh with an earlier token of a confidential client adds none. */
  generation: number;
}

export interface GrantRecord {
  id: string;
  clientId: string;
  username: string;
  scopes: string[];
  createdAt: number;
  lastRefreshAt?: number;
  refreshCount: number;
  refresh: RefreshState;
  /**
   * HMAC key (base64url, 128 bits) this grant's refresh tokens are signed with (crypto/tokens.ts). In the grant, so
   * checking a token costs no other read, and a restored backup holds the key of each link it holds. Absent in a
   * grant from before signed tokens: made at its next refresh.
   */
  signingKey?: string;
  revokedAt?: number;
  revokedReason?: string;
}

export interface TokenRecord {
  kind: 'access' | 'refresh';
  grantId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  /**
   * An access token's client and user, copied from its grant when it is issued (neither ever changes on a grant):
   * its validation then reads the grant's revocation mark instead of the grant (oauth/access-tokens.ts). Absent in
   * tokens issued before, which are validated against the grant.
   */
  clientId?: string;
  username?: string;
}

/** A grant was revoked: written with the revocation, read when an access token is validated. */
export interface RevocationMark {
  at: number;
  reason?: string;
}

/** The owner's decision on one authorization request, kept so a double tap answers the same redirect. */
export interface ConsentDecision {
  approved: boolean;
  username: string;
  decidedAt: number;
}

/** Keys that do not expire and belong to the server itself. */
export interface ServerKeys {
  /** AES-256-GCM key (base64url) sealing pending authorization requests; rotated by "revoke all". */
  sealing: string;
}

/** The server started on data restored from a backup at `at` (ms). */
export interface RestoreRecord {
  at: number;
}

/** The running server's facts for `oauth-admin status` (the CLI reads them; no socket needed). */
export interface RuntimeRecord {
  pid: number;
  startedAt: number;
  version: string;
  listeners: { oauth?: string; admin?: string; adminAllow?: string[] };
}

export interface CodeStorage {
  create(hash: string, record: CodeRecord, expires: number): void;
  find(hash: string): CodeRecord | undefined;
  /** Marks the code redeemed; the record stays until `expires`, so a replay is recognised and explained. */
  consume(hash: string, record: CodeRecord, at: number, expires: number): void;
  remove(hash: string): void;
  list(): Array<{ hash: string; record: CodeRecord }>;
}

export interface GrantStorage {
  find(id: string): GrantRecord | undefined;
  /** Creates or replaces; a grant lives as long as its refresh tokens may sit unused. */
  save(grant: GrantRecord, expires: number): void;
  list(): GrantRecord[];
  /**
   * The revocation of a grant, kept apart from it at `revoked:<id>`: a handful of small rows that stay in the page
   * cache, where a grant (with its earlier refresh tokens) is kilobytes among all the others. Kept for good, never
   * purged: a missing mark reads as "not revoked", so its life must not hang on the clock it was written by (a clock
   * far behind at the revocation would have given it an expiry already past once corrected). A few dozen bytes per
   * revoked link.
   */
  markRevoked(id: string, mark: RevocationMark): void;
  revocation(id: string): RevocationMark | undefined;
}

/** Tokens by tokenKey. */
export interface TokenStorage {
  create(key: string, record: TokenRecord): void;
  find(key: string): TokenRecord | undefined;
  /** Shortens a token's life (a superseded refresh token lives only through its grace window). */
  expireAt(key: string, record: TokenRecord, expires: number): void;
  remove(key: string): void;
}

export interface ConsentStorage {
  find(requestId: string): ConsentDecision | undefined;
  record(requestId: string, decision: ConsentDecision, expires: number): void;
}

export interface SessionStorage {
  list(): string[];
  remove(hash: string): void;
}

export interface ServerStorage {
  keys(): ServerKeys | undefined;
  saveKeys(keys: ServerKeys): void;
  runtime(): RuntimeRecord | undefined;
  saveRuntime(record: RuntimeRecord | undefined): void;
  /** When the server last started on data restored from a backup (rootfs oauth-backup restore), if it did. */
  restored(): RestoreRecord | undefined;
  saveRestored(record: RestoreRecord): void;
}

/** Everything one transaction may touch. */
export interface OAuthTx {
  codes: CodeStorage;
  grants: GrantStorage;
  tokens: TokenStorage;
  consents: ConsentStorage;
  sessions: SessionStorage;
  server: ServerStorage;
}

export interface OAuthStorage {
  /** One decision: read, decide, write, commit; nothing of it is kept if `work` throws. */
  transaction<T>(work: (tx: OAuthTx) => T): T;
  read<T>(work: (tx: OAuthTx) => T): T;
}

const strip = (prefix: string, key: string) => key.slice(prefix.length);

/**
 * How long a refresh token's record outlives the token: a late refresh is then told "expired from disuse" (and the
 * operator why), not "unknown". Its grant is kept as long (oauth/grant-deps.ts grantExpiry).
 */
export const EXPIRED_RECORD_KEPT_MS = 30 * 86_400_000;

/** The row of a token, by its tokenKey: under its grant's row when the key names the grant (see the top). */
const tokenRow = (key: string): string => (key.includes('/') ? `grant:${key}` : `token:${key}`);
/** Under `grant:`, the grants' own rows, not their tokens'. */
const isGrantRow = (row: string): boolean => !row.includes('/');

function bind(tx: KvTx): OAuthTx {
  return {
    codes: {
      create: (hash, record, expires) => tx.put(`code:${hash}`, record, expires),
      find: (hash) => tx.get<CodeRecord>(`code:${hash}`),
      consume: (hash, record, at, expires) => tx.put(`code:${hash}`, { ...record, consumedAt: at }, expires),
      remove: (hash) => tx.delete(`code:${hash}`),
      list: () => tx.scan<CodeRecord>('code:').map((r) => ({ hash: strip('code:', r.key), record: r.value })),
    },
    grants: {
      find: (id) => tx.get<GrantRecord>(`grant:${id}`),
      save: (grant, expires) => tx.put(`grant:${grant.id}`, grant, expires),
      list: () => tx.scan<GrantRecord>('grant:', isGrantRow).map((r) => r.value),
      markRevoked: (id, mark) => tx.put(`revoked:${id}`, mark),
      revocation: (id) => tx.get<RevocationMark>(`revoked:${id}`),
    },
    tokens: {
      create: (key, record) => tx.put(tokenRow(key), record, record.expiresAt + (record.kind === 'refresh' ? EXPIRED_RECORD_KEPT_MS : 0)),
      find: (key) => tx.get<TokenRecord>(tokenRow(key)),
      expireAt: (key, record, expires) => tx.put(tokenRow(key), record, Math.min(expires, record.expiresAt)),
      remove: (key) => tx.delete(tokenRow(key)),
    },
    consents: {
      find: (id) => tx.get<ConsentDecision>(`consent:${id}`),
      record: (id, decision, expires) => tx.put(`consent:${id}`, decision, expires),
    },
    sessions: {
      list: () => tx.scan<SessionRecord>('session:').map((r) => strip('session:', r.key)),
      remove: (hash) => tx.delete(`session:${hash}`),
    },
    server: {
      keys: () => tx.get<ServerKeys>('server:keys'),
      saveKeys: (keys) => tx.put('server:keys', keys),
      runtime: () => tx.get<RuntimeRecord>('server:runtime'),
      saveRuntime: (record) => (record ? tx.put('server:runtime', record) : tx.delete('server:runtime')),
      restored: () => tx.get<RestoreRecord>('server:restored'),
      saveRestored: (record) => tx.put('server:restored', record),
    },
  };
}

/** The protocol's storage over a Kv: the SQLite store in production, the memory one in unit tests. */
export function createOAuthStorage(kv: Kv): OAuthStorage {
  return {
    transaction: (work) => kv.transaction((tx) => work(bind(tx))),
    read: (work) => kv.read((tx) => work(bind(tx))),
  };
}

/** Key prefix of login sessions, which go through Keyv (browser-session.ts). */
export const SESSION_PREFIX = 'session:';
