/**
 * Fills a data folder with grants through the server's own code paths, in this process, while no server runs on
 * the folder: openDataFolder (the factory the server and the CLI use) on the build under test (dist/, or
 * BENCH_DIST), then for each grant what the endpoints do: startAuthorization (GET /alexa/authorize),
 * decide(approve) (POST /alexa/consent: the decision issues the code) and exchangeCode with PKCE (POST
 * /alexa/token). Each grant ends up exactly as an Alexa link does: a consent decision, a spent code, a grant, an
 * access token and a refresh token.
 *
 * The modules are loaded from the build at run time (typed by the sources), so the fill runs the very code the
 * measured server runs, and BENCH_DIST compares another build with the same internal API.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { ClientConfig } from '../src/config/config';
import type * as LoadConfigModule from '../src/config/load-config';
import type * as DataFolderModule from '../src/data-folder';
import type { DataFolder } from '../src/data-folder';
import type * as FlowModule from '../src/oauth/authorization-flow';
import type { ValidAuthorizeRequest } from '../src/oauth/authorize-request';
import type * as CodeGrantModule from '../src/oauth/grants/authorization-code';
import type * as RefreshModule from '../src/oauth/grants/refresh-token';
import { DEADLINE, DIST, REDIRECT, SETTINGS, checkDeadline, log } from './settings';

const requireFromBuild = createRequire(path.join(DIST, 'main.js'));

/** A module of the build under test (dist/ or BENCH_DIST), typed by its source. */
export function loadFromBuild<T>(relative: string): T {
  return requireFromBuild(`./${relative}`) as T;
}

const { validateOptions } = loadFromBuild<typeof LoadConfigModule>('config/load-config');
const { openDataFolder } = loadFromBuild<typeof DataFolderModule>('data-folder');
const { startAuthorization, decide } = loadFromBuild<typeof FlowModule>('oauth/authorization-flow');
const { exchangeCode } = loadFromBuild<typeof CodeGrantModule>('oauth/grants/authorization-code');
const { refreshTokens } = loadFromBuild<typeof RefreshModule>('oauth/grants/refresh-token');

export interface BenchFolder {
  folder: DataFolder;
  client: ClientConfig;
  close(): void;
}

/** Opens a data folder as the server would, with the configuration of its options. */
export function openBenchFolder(dataDir: string, options: Record<string, unknown>, now?: () => number): BenchFolder {
  const { config } = validateOptions(options, 'fix the bench options (bench/settings.ts)');
  const folder = openDataFolder(dataDir, { config, now });
  const status = folder.store.status();
  if (!status.ok) throw new Error(`the bench cannot open ${dataDir}: ${status.reason}`);
  const client = config.clients[0];
  if (!client) throw new Error('the bench options have no client');
  return { folder, client, close: () => folder.close() };
}

/** A code as the consent redirect delivers it, with the PKCE verifier Alexa keeps for it. */
export interface CodeGrant {
  code: string;
  verifier: string;
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');

/** GET /alexa/authorize, then the owner's approval at POST /alexa/consent: one code. */
function approvedCode(b: BenchFolder): CodeGrant {
  const verifier = randomBytes(32).toString('base64url');
  const request: ValidAuthorizeRequest = {
    client: b.client,
    redirectUri: REDIRECT,
    redirectUriGiven: true,
    scopes: b.client.scopes,
    state: 'bench-state',
    codeChallenge: s256(verifier),
  };
  const flowHash = createHash('sha256').update(randomBytes(16)).digest('base64url');
  const { pending } = startAuthorization(b.folder.grants, request, flowHash);
  const decision = decide(b.folder.grants, pending, 'owner', true);
  if (decision.outcome !== 'approved') throw new Error(`the fill's consent was not approved: ${decision.outcome}`);
  return { code: decision.code, verifier };
}

function checkFillDeadline(done: number, count: number): void {
  if (Date.now() > DEADLINE)
    throw new Error(
      `the fill did not finish before the bench's deadline (${done} of ${count} done; BENCH_DEADLINE_S=${SETTINGS.deadlineSeconds})`,
    );
}

/** Issues `count` codes (consent approved), ready for the token endpoint. */
export function issueCodes(b: BenchFolder, count: number): CodeGrant[] {
  const codes: CodeGrant[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) checkFillDeadline(i, count);
    codes.push(approvedCode(b));
  }
  return codes;
}

export interface FilledTokens {
  access: string[];
  refresh: string[];
}

/** Creates `count` grants (authorize, approve, exchange with PKCE); returns their tokens as Alexa received them. */
export function fillGrants(b: BenchFolder, count: number, label: string): FilledTokens {
  const access: string[] = new Array<string>(count);
  const refresh: string[] = new Array<string>(count);
  const step = Math.max(1000, Math.ceil(count / 10));
  const t0 = Date.now();
  for (let i = 0; i < count; i++) {
    if (i % 1000 === 0) checkFillDeadline(i, count);
    if (i > 0 && i % step === 0) log(`  ${label}: ${i} of ${count} grants (${((i / (Date.now() - t0)) * 1000).toFixed(0)} grants/s)`);
    const { code, verifier } = approvedCode(b);
    const issued = exchangeCode(b.folder.grants, b.client, { code, redirect_uri: REDIRECT, code_verifier: verifier });
    access[i] = issued.body.access_token;
    refresh[i] = issued.body.refresh_token;
  }
  return { access, refresh };
}

export interface PurgeCost {
  /** Rows removed (two days later: every access token, code and consent decision has expired). */
  removed: number;
  batches: number;
  ms: number;
  /** The longest batch: how long a request waits behind one step of the server's background purge. */
  worstBatchMs: number;
  /** One step over the first rows when nothing there has expired. */
  nothingToPurgeMs: number;
  /** PRAGMA quick_check on a fresh read-only connection: what start-up and /health (once a minute) run on the file. */
  quickCheckMs: number;
}

export interface RefreshGrantCost {
  refreshes: number;
  /** CPU of this process per refresh (all its threads, the WAL's background syncs included), µs. */
  cpuUsPerRefresh: number;
}

/**
 * What the refresh grant costs alone, in this process: the token endpoint's refreshTokens (the lookup, the policy,
 * the new tokens and their one transaction, with the checkpoints its commits run and the WAL's background syncs)
 * along `chains` (a refresh token each), 16 between turns of the event loop as a server at 16 connections takes
 * them; no HTTP, client authentication, limits or trace. After half a second of warm-up, for `seconds` (at most
 * 200,000 refreshes). Each entry of `chains` is then its chain's newest token, as the server issued it.
 */
export async function refreshGrantCost(b: BenchFolder, chains: string[], seconds: number): Promise<RefreshGrantCost> {
  if (chains.length === 0) throw new Error('the refresh-grant figure needs at least one refresh token');
  let next = 0;
  const turn = () => {
    for (let k = 0; k < 16; k++) {
      const at = next++ % chains.length;
      const token = chains[at];
      if (token === undefined) throw new Error(`no refresh token at ${at}`);
      chains[at] = refreshTokens(b.folder.grants, b.client, { refresh_token: token }).issued.body.refresh_token;
    }
  };
  const yieldTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
  const warmUntil = Date.now() + 500;
  while (Date.now() < warmUntil) {
    turn();
    await yieldTurn();
  }
  const cpu = process.cpuUsage();
  const until = Date.now() + seconds * 1000;
  let refreshes = 0;
  while (Date.now() < until && refreshes < 200_000) {
    turn();
    refreshes += 16;
    await yieldTurn();
  }
  const used = process.cpuUsage(cpu);
  return { refreshes, cpuUsPerRefresh: (used.user + used.system) / refreshes };
}

/** The server's background purge (steps of PURGE_BATCH rows in key order, as main.ts runs it), timed in-process two days on. */
export function purgeCost(dataDir: string, options: Record<string, unknown>, batch = 500): PurgeCost {
  const file = path.join(dataDir, 'oauth.sqlite');
  const t = process.hrtime.bigint();
  const db = new DatabaseSync(file, { readOnly: true });
  db.prepare('PRAGMA quick_check').all();
  db.close();
  const quickCheckMs = Number(process.hrtime.bigint() - t) / 1e6;

  const later = () => Date.now() + 2 * 86_400_000;
  const b = openBenchFolder(dataDir, options, later);
  try {
    let removed = 0;
    let batches = 0;
    let worst = 0;
    const t0 = process.hrtime.bigint();
    let after: string | undefined;
    do {
      if (batches % 100 === 0) checkDeadline('the end of the purge');
      const tb = process.hrtime.bigint();
      const step = b.folder.store.purgeStep(after, batch);
      worst = Math.max(worst, Number(process.hrtime.bigint() - tb) / 1e6);
      removed += step.removed;
      after = step.next;
      batches++;
    } while (after !== undefined);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const t1 = process.hrtime.bigint();
    b.folder.store.purgeStep(undefined, batch);
    const nothingToPurgeMs = Number(process.hrtime.bigint() - t1) / 1e6;
    return { removed, batches, ms, worstBatchMs: worst, nothingToPurgeMs, quickCheckMs };
  } finally {
    b.close();
  }
}
