/** Everything the HTTP layer is built from; assembled once in main.ts. */
import type { Metrics } from '../admin/metrics';
import { Config } from '../config/config';
import { UserAuthenticator } from '../auth/user-authenticator';
import { FlowTrace } from '../log/flow-trace';
import { Logger } from '../log/logger';
import { ClientRegistry } from '../oauth/client-auth';
import { GrantDeps } from '../oauth/grant-deps';
import { Store } from '../store/open-store';

export interface HttpDeps {
  config: Config;
  store: Store;
  grants: GrantDeps;
  clients: ClientRegistry;
  users: UserAuthenticator;
  log: Logger;
  trace: FlowTrace;
  version: string;
  startedAt: number;
  /** Counts requests for GET /metrics on the admin listener. */
  metrics?: Metrics;
}
