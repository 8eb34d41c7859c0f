/**
 * The records the server keeps, and a small typed repository per kind. Tokens and codes are keyed by
 * tokenHash(raw value), never by the value itself.
 */
import { Store, StoreEntry } from './open-store';

/** A validated authorization request waiting for login and consent. */
export interface AuthRequestRecord {
  clientId: string;
  redirectUri: string;
  /** Whether redirect_uri was in the request: then the token request must repeat it (RFC 6749 §4.1.3). */
  redirectUriGiven: boolean;
  scopes: string[];
  state?: string;
  codeChallenge?: string;
  /** Hash of the flow cookie set on the browser that started this request: the request is bound to it. */
  flowHash: string;
  /** Anti-CSRF token carried by the login and consent forms. */
  csrf: string;
  createdAt: number;
}

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

/** Refresh-token rotation state of a grant (see oauth/grants/refresh-token.ts for the rules). */
export interface RefreshFamily {
  /** The refresh token the live ones were issued from; presenting it again is a retry while `settled` is false. */
  parent?: string;
  /** Hashes of the refresh tokens valid now: more than one only after retried refreshes. */
  live: string[];
  /** True once the client used a token issued from `parent`: from then on, presenting `parent` is reuse. */
  settled: boolean;
}

export interface GrantRecord {
  id: string;
  clientId: string;
  username: string;
  scopes: string[];
  createdAt: number;
  lastRefreshAt?: number;
  refreshCount: number;
  refresh: RefreshFamily;
  revokedAt?: number;
  revokedReason?: string;
}

export interface TokenRecord {
  kind: 'access' | 'refresh';
  grantId: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  /** For an access token: the refresh token issued with it, so its first use settles the family. */
  refreshHash?: string;
}

export interface Repository<T> {
  get(id: string): Promise<T | undefined>;
  put(id: string, value: T, ttlMs?: number): Promise<void>;
  /** The write `put` would do, for Repositories.write (several records in one transaction). */
  entry(id: string, value: T, ttlMs?: number): StoreEntry;
  remove(id: string): Promise<void>;
  list(): Promise<Array<{ id: string; value: T }>>;
}

function repository<T>(store: Store, prefix: string): Repository<T> {
  const key = (id: string) => `${prefix}:${id}`;
  return {
    get: (id) => store.get<T>(key(id)),
    put: (id, value, ttlMs) => store.set(key(id), value, ttlMs),
    entry: (id, value, ttlMs) => ({ key: key(id), value, ttlMs }),
    remove: (id) => store.delete(key(id)),
    list: async () =>
      (await store.scan<T>(`${prefix}:`)).map(({ key: k, value }) => ({ id: k.slice(prefix.length + 1), value })),
  };
}

export interface Repositories {
  authRequests: Repository<AuthRequestRecord>;
  sessions: Repository<SessionRecord>;
  codes: Repository<CodeRecord>;
  grants: Repository<GrantRecord>;
  tokens: Repository<TokenRecord>;
  /** Writes records of any kinds (from Repository.entry) in one transaction: all of them or none. */
  write(...entries: StoreEntry[]): Promise<void>;
}

export function createRepositories(store: Store): Repositories {
  return {
    authRequests: repository(store, 'authreq'),
    sessions: repository(store, 'session'),
    codes: repository(store, 'code'),
    grants: repository(store, 'grant'),
    tokens: repository(store, 'token'),
    write: (...entries) => store.setMany(entries),
  };
}
