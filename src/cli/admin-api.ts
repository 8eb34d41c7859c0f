/**
 * The CLI's view of a data folder. It opens the database itself, with the same factory as the server: every write
 * is one SQLite transaction (BEGIN IMMEDIATE), atomic against the server's own decisions, so a revocation is never
 * lost to a racing refresh whether or not the server runs. Whether it runs is read from the record the server keeps
 * in the database (its pid, checked to be alive).
 */
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { ConfigError, ConfigProblem, loadConfigFile } from '../config/load-config';
import { Config } from '../config/config';
import { DiagnoseReport, diagnose } from '../ops/diagnose';
import {
  ActivityEntry,
  AdminContext,
  ClientView,
  GrantView,
  RevokeAllResult,
  RevokeResult,
  StatusReport,
  activity,
  listClients,
  listGrants,
  resolveGrantId,
  revokeAll,
  revokeGrants,
  status,
} from '../ops/admin-service';
import { openDataFolder } from '../data-folder';
import { FlowTrace, createFlowTrace } from '../log/flow-trace';
import { createLogger } from '../log/logger';
import { RuntimeRecord } from '../store/records';
import { holdsDatabase } from '../store/sqlite/sqlite-store';
import { VERSION } from '../version';
import { settled } from '../settled';

export interface AdminApi {
  /** server: a server is running on this data folder (the CLI still writes the database itself); direct: none is. */
  readonly via: 'server' | 'direct';
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

/** The server's record, if that process is still alive (a kill -9 leaves the record behind). */
function liveServer(record: RuntimeRecord | undefined): RuntimeRecord | undefined {
  if (!record) return undefined;
  try {
    process.kill(record.pid, 0);
    return record;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? record : undefined;
  }
}

/**
 * The API for a data folder. `readsLinks`: the command lists or changes links, so a folder the server never ran in
 * is refused rather than given an empty database (status and diagnose still report on it, its configuration first).
 */
export function connect(dataDir: string, env: NodeJS.ProcessEnv = process.env, readsLinks = false): Promise<AdminApi> {
  return settled(() => {
    if (!existsSync(dataDir))
      throw new CliError(`there is no data folder at ${dataDir}; set DATA_DIR (or --data-dir) to the server's data folder`);
    if (readsLinks && !holdsDatabase(dataDir))
      throw new CliError(
        `there is no database in ${dataDir}: the server has not started with this data folder yet (its first start creates one), or DATA_DIR (--data-dir) names another folder`,
      );
    const optionsFile = path.join(dataDir, 'options.json');
    let config: Config | undefined;
    let configProblems: ConfigProblem[] | undefined;
    let configWarnings: ConfigProblem[] | undefined;
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
    // The CLI never creates the database: only the server's first start in a folder does.
    const folder = openDataFolder(dataDir, { config, log: quiet, existingOnly: true });
    const serverRecord = (() => {
      try {
        return liveServer(folder.storage.read((tx) => tx.server.runtime()));
      } catch {
        return undefined; // the store's fault is reported by status and diagnose
      }
    })();
    const ctx: AdminContext = {
      dataDir,
      version: VERSION,
      config,
      configProblems,
      configWarnings,
      store: folder.store,
      grants: folder.grants,
      serverRecord,
    };
    let trace: FlowTrace | undefined;
    // Admin actions are traced like the server traces them; the trace file is only opened for a write.
    const writable = (): AdminContext => {
      trace ??= createFlowTrace(dataDir, quiet);
      return { ...ctx, trace };
    };
    const actor = { via: serverRecord ? ('cli' as const) : ('cli-direct' as const), user: osUser() };

    return {
      via: serverRecord ? 'server' : 'direct',
      status: () => status(ctx),
      clients: () => settled(() => listClients(ctx)),
      grants: (all) => listGrants(ctx, { all }),
      async revoke(ids) {
        const resolved: string[] = [];
        for (const id of ids) resolved.push(await resolveGrantId(ctx, id).catch((err: Error) => Promise.reject(new CliError(err.message))));
        return revokeGrants(writable(), resolved, actor);
      },
      revokeAll: () => revokeAll(writable(), actor),
      activity: (q) => activity(ctx, q),
      diagnose: () => diagnose(ctx, { serverRunning: serverRecord !== undefined, homeAssistantLogin: Boolean(env.SUPERVISOR_TOKEN) }),
      async close() {
        await trace?.close();
        folder.close();
      },
    };
  });
}
