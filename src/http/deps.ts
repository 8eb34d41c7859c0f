/** Everything the HTTP layer is built from; assembled once in main.ts. */
import type Keyv from 'keyv';
import type { Metrics } from '../ops/metrics';
import { Config } from '../config/config';
import { UserAuthenticator } from '../auth/user-authenticator';
import { FlowTrace } from '../log/flow-trace';
import { Logger } from '../log/logger';
import { ClientRegistry } from '../oauth/client-auth';
import { GrantDeps } from '../oauth/grant-deps';
import { SessionRecord } from '../store/records';
import { SqliteStore } from '../store/sqlite/sqlite-store';

export interface HttpDeps {
  config: Config;
  store: SqliteStore;
  grants: GrantDeps;
  sessions: Keyv<SessionRecord>;
  clients: ClientRegistry;
  users: UserAuthenticator;
  log: Logger;
  trace: FlowTrace;
  version: string;
  startedAt: number;
  /** Counts requests for GET /metrics on the admin listener. */
  metrics?: Metrics;
}
