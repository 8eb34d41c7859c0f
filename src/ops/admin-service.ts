/**
 * What the admin page and the CLI do, free of HTTP: status, the Alexa console values, linked accounts (grants),
 * revocation, the activity timeline. Every write is one database transaction, so the CLI runs this on the data
 * folder directly, whether or not the server is running.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Config, DEFAULTS } from '../config/config';
import { ConfigProblem, problemLine } from '../config/load-config';
import { FlowEntry, FlowTrace } from '../log/flow-trace';
import { Logger } from '../log/logger';
import { fingerprint } from '../crypto/tokens';
import { rotateSealingKeyIn } from '../oauth/authorization-flow';
import type { Notifier } from './notifications';
import { GrantDeps, revokeGrantIn } from '../oauth/grant-deps';
import { TraceRecorder } from '../oauth/failures';
import { ALEXA_PATHS } from '../oauth/metadata';
import { GrantRecord, RuntimeRecord } from '../store/records';
import { StoreFault, isStoreError } from '../store/faults';
import { SqliteStore, StartOverResult, holdsDatabase } from '../store/sqlite/sqlite-store';
import { Explanation, explain } from './explain';
import { Metrics } from './metrics';
import { HourBucket, TraceFilesInfo, hourlyActivity, readActivity, traceInfo } from './trace-reader';
import { settled } from '../settled';

export interface RuntimeInfo {
  pid: number;
  startedAt: number;
  /** Wall and monotonic clock at start-up: their drift since shows clock jumps. */
  clockBaseline: { wall: number; mono: number };
  listeners: { oauth?: string; admin?: string; adminAllow?: string[] };
  /** Whether anyone can log in to approve a link (options users or Home Assistant login). */
  loginSources: boolean;
}

export interface AdminContext {
  dataDir: string;
  version: string;
  /** Undefined when options.json cannot be loaded (CLI on a broken configuration). */
  config?: Config;
  /** Why options.json was refused (the CLI on a broken configuration), and what it warned about. */
  configProblems?: ConfigProblem[];
  configWarnings?: ConfigProblem[];
  store: SqliteStore;
  grants: GrantDeps;
  /** Where admin actions are recorded (and flushed before the trace is read); absent for read-only use. */
  trace?: TraceRecorder & Pick<FlowTrace, 'flush'>;
  log?: Logger;
  /** Present inside the running server only. */
  runtime?: RuntimeInfo;
  /** What a running server recorded about itself in the database (the CLI's view of it). */
  serverRecord?: RuntimeRecord;
  metrics?: Metrics;
  /** The Home Assistant notifications of the running server: what was sent, or would have been. */
  notices?: Pick<Notifier, 'recent' | 'mode'>;
}

/** Who performed an admin action, for the log and the trace. */
export interface Actor {
  via: 'admin-page' | 'cli' | 'cli-direct';
  /** The Home Assistant user the Ingress proxy names, or the OS user of the CLI. */
  user?: string;
  ip?: string;
}

export interface AlexaConsoleValues {
  /** False when public_url is not set: the URIs then show a placeholder host. */
  publicUrlSet: boolean;
  authorizationUri: string;
  accessTokenUri: string;
  authenticationScheme: string;
  defaultAccessTokenExpiration: number;
  clients: Array<{ clientId: string; clientType: string; scopes: string[]; redirectUris: string[] }>;
}

export interface StatusReport {
  version: string;
  running: boolean;
  pid?: number;
  startedAt?: string;
  uptimeSeconds?: number;
  health: { ok: boolean; reason?: string; fault?: StoreFault };
  dataDir: string;
  /** `created`: whether a database is, or was, in the folder (false: no server has started with it yet). */
  store: { file: string; bytes: number; created: boolean };
  trace: TraceFilesInfo;
  publicUrl?: string;
  listeners: RuntimeInfo['listeners'];
  /** Undefined while the database cannot be read: the health says why. */
  grants?: { active: number; revoked: number };
  alexa?: AlexaConsoleValues;
  /** The configuration's problems, one line each ("option: problem; fix"). */
  configProblems?: string[];
}

export interface ClientView {
  clientId: string;
  clientType: string;
  /** Fingerprint of the configured secret (to compare with the one a failure reports), never the secret. */
  secret?: string;
  redirectUris: string[];
  scopes: string[];
}

export interface GrantView {
  id: string;
  clientId: string;
  username: string;
  scopes: string[];
  linkedAt: string;
  lastRefreshAt?: string;
  /** When the link lapses if Alexa stops refreshing (refresh_token_idle_lifetime after the last use). */
  expiresAt: string;
  refreshCount: number;
  status: 'active' | 'revoked';
  revokedAt?: string;
  revokedReason?: string;
}

export interface ActivityEntry extends FlowEntry {
  explanation?: Explanation;
}

const PLACEHOLDER_ORIGIN = 'https://<your public address>';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function alexaConsoleValues(config: Config): AlexaConsoleValues {
  const base = config.publicUrl ?? PLACEHOLDER_ORIGIN;
  return {
    publicUrlSet: config.publicUrl !== undefined,
    authorizationUri: `${base}${ALEXA_PATHS.authorize}`,
    accessTokenUri: `${base}${ALEXA_PATHS.token}`,
    authenticationScheme: 'HTTP Basic (Recommended)',
    defaultAccessTokenExpiration: config.accessTokenLifetime,
    clients: config.clients.map((c) => ({
      clientId: c.clientId,
      clientType: c.clientType,
      scopes: c.scopes,
      redirectUris: c.redirectUris,
    })),
  };
}

function refreshIdleMs(ctx: AdminContext): number {
  return (ctx.config?.refreshTokenIdleLifetime ?? DEFAULTS.refresh_token_idle_lifetime) * 1000;
}

export function grantView(ctx: AdminContext, id: string, g: GrantRecord): GrantView {
  return {
    id,
    clientId: g.clientId,
    username: g.username,
    scopes: g.scopes,
    linkedAt: iso(g.createdAt)!,
    lastRefreshAt: iso(g.lastRefreshAt),
    expiresAt: iso((g.lastRefreshAt ?? g.createdAt) + refreshIdleMs(ctx))!,
    refreshCount: g.refreshCount,
    status: g.revokedAt === undefined ? 'active' : 'revoked',
    revokedAt: iso(g.revokedAt),
    revokedReason: g.revokedReason,
  };
}

/** Every grant, newest link first; revoked ones only with `all`. */
export function listGrants(ctx: AdminContext, opts: { all?: boolean } = {}): Promise<GrantView[]> {
  return settled(() => {
    const rows = ctx.grants.storage.read((tx) => tx.grants.list());
    return rows
      .map((g) => grantView(ctx, g.id, g))
      .filter((g) => opts.all || g.status === 'active')
      .sort((a, b) => b.linkedAt.localeCompare(a.linkedAt));
  });
}

export function listClients(ctx: AdminContext): ClientView[] {
  return (ctx.config?.clients ?? []).map((c) => ({
    clientId: c.clientId,
    clientType: c.clientType,
    secret: c.clientSecret ? fingerprint(c.clientSecret) : undefined,
    redirectUris: c.redirectUris,
    scopes: c.scopes,
  }));
}

export async function status(ctx: AdminContext): Promise<StatusReport> {
  const health = ctx.store.check();
  // A missing or damaged database must not take the report down with it: the report is how the operator learns why.
  const all = await listGrants(ctx, { all: true }).catch((err: unknown) => {
    if (isStoreError(err)) return undefined;
    throw err;
  });
  const rt = ctx.runtime ?? ctx.serverRecord;
  return {
    version: ctx.version,
    running: rt !== undefined,
    pid: rt?.pid,
    startedAt: iso(rt?.startedAt),
    // In the server, from the monotonic clock; for the CLI, from the wall clock the server recorded (never negative).
    uptimeSeconds: ctx.runtime
      ? Math.round((performance.now() - ctx.runtime.clockBaseline.mono) / 1000)
      : rt
        ? Math.max(0, Math.round((Date.now() - rt.startedAt) / 1000))
        : undefined,
    health,
    dataDir: ctx.dataDir,
    store: { file: ctx.store.file, bytes: ctx.store.sizeBytes(), created: holdsDatabase(ctx.dataDir) },
    trace: await traceInfo(ctx.dataDir),
    publicUrl: ctx.config?.publicUrl,
    listeners: rt?.listeners ?? {},
    grants: all && { active: all.filter((g) => g.status === 'active').length, revoked: all.filter((g) => g.status === 'revoked').length },
    alexa: ctx.config ? alexaConsoleValues(ctx.config) : undefined,
    configProblems: ctx.configProblems?.map(problemLine),
  };
}

export class AdminError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** A grant by its id or a unique prefix of at least 6 characters (ids are long to type). */
export function resolveGrantId(ctx: AdminContext, idOrPrefix: string): Promise<string> {
  return settled(() => {
    if (!/^[\w-]{1,64}$/.test(idOrPrefix)) throw new AdminError(`"${idOrPrefix.slice(0, 64)}" is not a grant id`);
    if (ctx.grants.storage.read((tx) => tx.grants.find(idOrPrefix))) return idOrPrefix;
    if (idOrPrefix.length < 6) throw new AdminError(`no grant ${idOrPrefix}; give the full id, or at least 6 characters of it`, 404);
    const matches = ctx.grants.storage.read((tx) => tx.grants.list()).filter((g) => g.id.startsWith(idOrPrefix));
    if (matches.length === 1) return matches[0]!.id;
    if (matches.length === 0) throw new AdminError(`no grant ${idOrPrefix}: see \`oauth-admin grants\` for the ids`, 404);
    throw new AdminError(`${matches.length} grants start with ${idOrPrefix}; give more characters`);
  });
}

function describeActor(actor: Actor): string {
  const how = actor.via === 'admin-page' ? 'the admin page' : actor.via === 'cli' ? 'oauth-admin' : 'oauth-admin (server stopped)';
  return actor.user ? `${actor.user} via ${how}` : how;
}

export interface RevokeResult {
  revoked: GrantView[];
  alreadyRevoked: GrantView[];
}

/** Revokes grants by id, each in one transaction: every token of them stops working at once. */
export function revokeGrants(ctx: AdminContext, ids: string[], actor: Actor): Promise<RevokeResult> {
  return settled(() => {
    const result: RevokeResult = { revoked: [], alreadyRevoked: [] };
    const reason = `revoked by ${describeActor(actor)}`;
    for (const id of ids) {
      const outcome = ctx.grants.storage.transaction((tx) => {
        const before = tx.grants.find(id);
        if (!before) return undefined; // expired since it was listed; callers resolve ids with resolveGrantId first
        if (before.revokedAt !== undefined) return { already: true, grant: before };
        return { already: false, grant: revokeGrantIn(ctx.grants, tx, id, reason)! };
      });
      if (!outcome) continue;
      if (outcome.already) result.alreadyRevoked.push(grantView(ctx, id, outcome.grant));
      else result.revoked.push(grantView(ctx, id, outcome.grant));
    }
    recordRevocations(ctx, result.revoked, actor);
    return result;
  });
}

function recordRevocations(ctx: AdminContext, revoked: GrantView[], actor: Actor): void {
  const requestId = randomUUID();
  for (const view of revoked) {
    ctx.trace?.record({
      requestId,
      step: 'admin',
      outcome: 'ok',
      clientId: view.clientId,
      username: view.username,
      grantId: view.id,
      ip: actor.ip,
      detail: { action: 'revoke', by: describeActor(actor) },
    });
  }
  if (revoked.length) {
    ctx.log?.info(`admin: revoked ${revoked.length} link(s)`, {
      by: describeActor(actor),
      grants: revoked.map((g) => `${g.id} (${g.username}, ${g.clientId})`).join(', '),
    });
  }
}

export interface RevokeAllResult {
  revoked: GrantView[];
  codes: number;
  sessions: number;
}

/**
 * The old guide's emergency procedure ("clear all tokens and codes"), done properly and as one transaction: login
 * sessions are dropped, the key sealing pending link requests is replaced (no approval in progress can finish),
 * unredeemed codes are deleted, and every grant is revoked. A refresh or a code exchange runs wholly before or
 * wholly after it.
 */
export function revokeAll(ctx: AdminContext, actor: Actor): Promise<RevokeAllResult> {
  return settled(() => {
    const reason = `revoked by ${describeActor(actor)} (revoke all)`;
    const done = ctx.grants.storage.transaction((tx) => {
      rotateSealingKeyIn(tx);
      const sessions = tx.sessions.list();
      for (const hash of sessions) tx.sessions.remove(hash);
      let codes = 0;
      for (const { hash, record } of tx.codes.list()) {
        if (record.consumedAt !== undefined) continue; // kept: a replay of it must still be recognised
        tx.codes.remove(hash);
        codes++;
      }
      const revoked: GrantRecord[] = [];
      for (const grant of tx.grants.list()) {
        if (grant.revokedAt === undefined) revoked.push(revokeGrantIn(ctx.grants, tx, grant.id, reason)!);
      }
      return { sessions: sessions.length, codes, revoked };
    });
    const revoked = done.revoked.map((g) => grantView(ctx, g.id, g));
    recordRevocations(ctx, revoked, actor);
    ctx.trace?.record({
      requestId: randomUUID(),
      step: 'admin',
      outcome: 'ok',
      ip: actor.ip,
      detail: { action: 'revoke-all', by: describeActor(actor), grants: revoked.length, codes: done.codes, sessions: done.sessions },
    });
    ctx.log?.warn(`admin: revoked ALL links (${revoked.length}), ${done.codes} unredeemed code(s), ${done.sessions} login session(s)`, {
      by: describeActor(actor),
    });
    return { revoked, codes: done.codes, sessions: done.sessions };
  });
}

/** The admin page's "start over with an empty database" (SqliteStore.startOver), recorded as an admin action. */
export function startOverDatabase(ctx: AdminContext, actor: Actor): StartOverResult {
  const result = ctx.store.startOver();
  if (result.done) {
    ctx.trace?.record({
      requestId: randomUUID(),
      step: 'admin',
      outcome: 'ok',
      ip: actor.ip,
      detail: { action: 'start-over', by: describeActor(actor), kept: result.kept },
    });
  }
  return result;
}

export interface ActivityQuery {
  failuresOnly?: boolean;
  limit?: number;
  sinceMs?: number;
}

/** The recent flow trace and security events, newest first, each failure with its explanation and fix. */
export async function activity(ctx: AdminContext, q: ActivityQuery = {}): Promise<ActivityEntry[]> {
  await ctx.trace?.flush();
  const entries = await readActivity(ctx.dataDir, { failuresOnly: q.failuresOnly, limit: q.limit ?? 200, since: q.sinceMs });
  return entries.map((e) => {
    const explanation = explain(e, { config: ctx.config });
    return explanation ? { ...e, explanation } : e;
  });
}

/** Tokens issued and failures per hour over the last `hours` hours. */
export async function hourlyChart(ctx: AdminContext, hours: number): Promise<HourBucket[]> {
  await ctx.trace?.flush();
  return hourlyActivity(ctx.dataDir, Date.now(), hours);
}
