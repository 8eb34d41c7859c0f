/**
 * Opens a data folder: the SQLite store, the protocol storage and grant context over it, and the Keyv for login
 * sessions. The one factory both the server (main.ts) and the CLI (cli/admin-api.ts) are built on: the database
 * makes every decision atomic, so the CLI can write while the server runs.
 */
import Keyv from 'keyv';
import { Config, DEFAULTS } from './config/config';
import { GrantDeps } from './oauth/grant-deps';
import { StoreEvents } from './store/faults';
import { createKeyv } from './store/keyv-adapter';
import { OAuthStorage, SessionRecord, createOAuthStorage } from './store/records';
import { SqliteStore, StoreLog, openSqliteStore } from './store/sqlite/sqlite-store';

export interface DataFolder {
  dataDir: string;
  store: SqliteStore;
  storage: OAuthStorage;
  grants: GrantDeps;
  /** Login sessions (Keyv: no decision depends on them). */
  sessions: Keyv<SessionRecord>;
  close(): void;
}

export interface DataFolderOptions extends StoreEvents {
  /** Lifetimes and bounds come from here; without a configuration (the CLI on a broken options file), the defaults. */
  config?: Config;
  log?: StoreLog;
  now?: () => number;
  /** Never create the database (StoreOptions.existingOnly). */
  existingOnly?: boolean;
}

export function openDataFolder(dataDir: string, options: DataFolderOptions = {}): DataFolder {
  const now = options.now ?? Date.now;
  const { config } = options;
  const store = openSqliteStore(dataDir, {
    log: options.log,
    now,
    onFault: options.onFault,
    onRecovered: options.onRecovered,
    existingOnly: options.existingOnly,
  });
  const storage = createOAuthStorage(store);
  const types = new Map(config?.clients.map((c) => [c.clientId, c.clientType]));
  const grants: GrantDeps = {
    storage,
    lifetimes: {
      accessToken: config?.accessTokenLifetime ?? DEFAULTS.access_token_lifetime,
      authCode: config?.authCodeLifetime ?? DEFAULTS.auth_code_lifetime,
      refreshIdle: config?.refreshTokenIdleLifetime ?? DEFAULTS.refresh_token_idle_lifetime,
    },
    grace: {
      generations: config?.refreshTokenGraceGenerations ?? DEFAULTS.refresh_token_grace_generations,
      periodSeconds: config?.refreshTokenGracePeriod ?? DEFAULTS.refresh_token_grace_period,
    },
    clientType: (clientId) => types.get(clientId),
    now,
  };
  return { dataDir, store, storage, grants, sessions: createKeyv<SessionRecord>(store, now), close: () => store.close() };
}
