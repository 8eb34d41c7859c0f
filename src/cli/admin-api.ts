/**
 * The CLI's view of a data folder. When a server answers on the data folder's control socket, every command —
 * reads and writes — goes to it, so writes happen under the server's per-grant lock (see admin/control.ts). When
 * none answers, the CLI opens the data folder itself (SQLite in WAL mode with a busy timeout, so a server or a
 * backup starting meanwhile waits rather than fails) and, after any write, asks the socket once more: a server
 * that came up during the write re-applies it under its lock, which closes the lost-update window.
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfigFile } from '../config/load-config';
import { Config, DEFAULTS } from '../config/config';
import { controlRequest, controlSocketPath, socketAnswers, untrustedSocketDir } from '../admin/control';
import { DiagnoseReport, diagnose } from '../admin/diagnose';
import {
  ActivityEntry, AdminContext, ClientView, GrantView, RevokeAllResult, RevokeResult, StatusReport, activity, listClients, listGrants,
  resolveGrantId, revokeAll, revokeGrants, status,
} from '../admin/service';
import { FlowTrace, createFlowTrace } from '../log/flow-trace';
import { createLogger } from '../log/logger';
import { KeyedLock } from '../store/keyed-lock';
import { Store, openStore } from '../store/open-store';
import { createRepositories } from '../store/records';

export type Via = 'server' | 'direct';

export interface AdminApi {
  /** server: a running server did the work; direct: none runs, the CLI read or wrote the data folder itself. */
  readonly via: Via;
  status(): Promise<StatusReport>;
  clients(): Promise<ClientView[]>;
  grants(all: boolean): Promise<GrantView[]>;
  revoke(ids: string[]): Promise<RevokeResult>;
  revokeAll(): Promise<RevokeAllResult>;
  activity(q: { failuresOnly?: boolean; limit?: number; sinceMs?: number }): Promise<ActivityEntry[]>;
  diagnose(): Promise<DiagnoseReport>;
  close(): Promise<void>;
}

export class CliError extends Error {}

function osUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

async function call<T>(socket: string, method: 'GET' | 'POST', urlPath: string, body?: unknown): Promise<T> {
  const res = await controlRequest<T & { error?: string }>(socket, method, urlPath, body);
  if (res.status >= 400) throw new CliError((res.body as { error?: string }).error ?? `the server answered ${res.status}`);
  return res.body;
}

function remoteApi(socket: string): AdminApi {
  const actor = { user: osUser() };
  return {
    via: 'server',
    status: () => call(socket, 'GET', '/v1/status'),
    clients: () => call(socket, 'GET', '/v1/clients'),
    grants: (all) => call(socket, 'GET', `/v1/grants${all ? '?all=1' : ''}`),
    revoke: (ids) => call(socket, 'POST', '/v1/revoke', { ids, actor }),
    revokeAll: () => call(socket, 'POST', '/v1/revoke-all', { actor }),
    activity: (q) => {
      const params = new URLSearchParams();
      if (q.failuresOnly) params.set('failures', '1');
      if (q.limit) params.set('limit', String(q.limit));
      if (q.sinceMs) params.set('since', String(q.sinceMs));
      return call(socket, 'GET', `/v1/activity?${params}`);
    },
    diagnose: () => call(socket, 'GET', '/v1/diagnose'),
    close: async () => undefined,
  };
}

async function directApi(dataDir: string, socket: string, env: NodeJS.ProcessEnv): Promise<AdminApi> {
  if (!existsSync(dataDir)) throw new CliError(`there is no data folder at ${dataDir}; set DATA_DIR (or --data-dir) to the server's data folder`);
  const optionsFile = path.join(dataDir, 'options.json');
  let config: Config | undefined;
  let configProblems: string[] | undefined;
  let configWarnings: string[] | undefined;
  const inAddon = Boolean(env.SUPERVISOR_TOKEN) || dataDir === '/data';
  try {
    const loaded = loadConfigFile(optionsFile, inAddon ? 'set it in the add-on Configuration tab' : `edit ${optionsFile}`);
    config = loaded.config;
    configWarnings = loaded.warnings;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    configProblems = err.problems;
  }
  const quiet = createLogger('error', true);
  const store: Store = await openStore(dataDir, { log: quiet });
  const grants = {
    repos: createRepositories(store),
    lock: new KeyedLock(),
    lifetimes: {
      accessToken: config?.accessTokenLifetime ?? DEFAULTS.access_token_lifetime,
      authCode: config?.authCodeLifetime ?? DEFAULTS.auth_code_lifetime,
      refreshIdle: config?.refreshTokenIdleLifetime ?? DEFAULTS.refresh_token_idle_lifetime,
    },
    now: Date.now,
  };
  const { VERSION } = await import('../main');
  const ctx: AdminContext = { dataDir, version: VERSION, config, configProblems, configWarnings, store, grants };
  let trace: FlowTrace | undefined;
  // Admin actions are traced like the server traces them; the trace file is only opened for a write.
  const writable = (): AdminContext => {
    trace ??= createFlowTrace(dataDir, quiet);
    return { ...ctx, trace };
  };
  const actor = { via: 'cli-direct' as const, user: osUser() };
  /**
   * After a direct write: a server that started meanwhile re-applies the revocations under its lock; with none
   * answering, the records are read back, so one that started, overwrote and stopped again in between is caught too.
   */
  const reapply = async (ids: string[]) => {
    let pending = ids;
    for (let round = 0; pending.length > 0; round++) {
      if (await socketAnswers(socket)) {
        await remoteApi(socket).revoke(pending);
        return;
      }
      const lost: string[] = [];
      for (const id of pending) {
        const g = await grants.repos.grants.get(id);
        if (g && g.revokedAt === undefined) lost.push(id);
      }
      if (lost.length && round >= 3) throw new CliError(`the revocation of ${lost.join(', ')} keeps being overwritten; start the server and revoke through it`);
      if (lost.length) await revokeGrants(writable(), lost, actor);
      pending = lost;
    }
  };

  return {
    via: 'direct',
    status: () => status(ctx),
    clients: async () => listClients(ctx),
    grants: (all) => listGrants(ctx, { all }),
    async revoke(ids) {
      const resolved: string[] = [];
      for (const id of ids) resolved.push(await resolveGrantId(ctx, id).catch((err: Error) => Promise.reject(new CliError(err.message))));
      const result = await revokeGrants(writable(), resolved, actor);
      await reapply(result.revoked.map((g) => g.id));
      return result;
    },
    async revokeAll() {
      const result = await revokeAll(writable(), actor);
      await reapply(result.revoked.map((g) => g.id));
      return result;
    },
    activity: (q) => activity(ctx, q),
    diagnose: () => diagnose(ctx, { serverRunning: false, homeAssistantLogin: Boolean(env.SUPERVISOR_TOKEN) }),
    async close() {
      await trace?.close();
      await store.close();
    },
  };
}

/** The API for a data folder: through its running server when one answers, else directly. */
export async function connect(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<AdminApi> {
  const socket = controlSocketPath(dataDir);
  // A socket in a directory others control could be anyone's: neither talk to it nor write behind its back.
  const distrust = untrustedSocketDir(socket);
  if (distrust) throw new CliError(`cannot trust the server's control socket: ${distrust}`);
  if (await socketAnswers(socket)) return remoteApi(socket);
  return directApi(dataDir, socket, env);
}
