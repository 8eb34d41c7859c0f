/**
 * The `diagnose` report: configuration, login, public URL, store, flow trace, listeners, clock and the recent
 * failures, as findings with fixes. Shown on the Status page and by `oauth-admin diagnose`.
 */
import { ALEXA_REDIRECT_HOSTS } from '../config/alexa';
import { existsSync, statfsSync } from 'node:fs';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FlowEntry, TRACE_LIMITS } from '../log/flow-trace';
import { requestsIn } from '../log/trace-policy';
import { FAULT_FIX, notStartedYet } from '../store/faults';
import { holdsDatabase } from '../store/sqlite/sqlite-store';
import { explain } from './explain';
import { AdminContext } from './admin-service';
import { LocalRequestFailed, sendLocal } from './local-http';
import { eachActivityEntry, isFailure, traceInfo } from './trace-reader';

export type FindingLevel = 'ok' | 'info' | 'warn' | 'error';

export interface Finding {
  area: string;
  level: FindingLevel;
  title: string;
  detail?: string;
  fix?: string;
}

export interface DiagnoseReport {
  ok: boolean;
  generatedAt: string;
  counts: Record<FindingLevel, number>;
  findings: Finding[];
}

export interface DiagnoseOptions {
  /** Whether a server runs on this DATA_DIR (always true inside the server). */
  serverRunning: boolean;
  /** Whether Home Assistant login is available (SUPERVISOR_TOKEN), for the CLI's offline view. */
  homeAssistantLogin?: boolean;
  /** How far back "recent failures" looks. */
  failureWindowMs?: number;
}

const CONFIG = 'the add-on Configuration tab';
const EARLIEST_PLAUSIBLE = Date.parse('2025-01-01T00:00:00Z');
const CLOCK_JUMP_MS = 2000;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

function configFindings(ctx: AdminContext, opts: DiagnoseOptions): Finding[] {
  const out: Finding[] = [];
  const area = 'configuration';
  for (const p of ctx.configProblems ?? [])
    out.push({ area, level: 'error', title: `${p.option}: ${p.problem}`, fix: p.fix ?? `correct it in ${CONFIG}` });
  for (const w of ctx.configWarnings ?? []) out.push({ area, level: 'warn', title: `${w.option}: ${w.problem}`, fix: w.fix });
  const config = ctx.config;
  if (!config) return out;

  for (const client of config.clients) {
    const alexaUris = client.redirectUris.filter((u) => ALEXA_REDIRECT_HOSTS.some((h) => u.startsWith(`https://${h}/`)));
    const placeholders = client.redirectUris.filter((u) => /\/api\/skill\/link\/(M2X+|REPLACEWITHVENDORID)$/.test(u));
    if (placeholders.length) {
      out.push({
        area,
        level: 'error',
        title: `clients → ${client.clientId}: redirect_uris still hold the placeholder vendor id (${placeholders[0]})`,
        detail: 'Alexa will ask for the Redirect URLs of your skill, and each attempt to link fails with "Redirect URI not registered".',
        fix: `Copy the three "Alexa Redirect URLs" from the Alexa developer console (Build → Account Linking) into clients → redirect_uris in ${CONFIG}.`,
      });
    }
    if (alexaUris.length === 0) continue;
    if (client.clientType === 'public') {
      out.push({
        area,
        level: 'error',
        title: `clients → ${client.clientId} is public, but Alexa always sends a client secret`,
        detail:
          'Every token request from Alexa would be refused ("public client sent a secret"). The old guide advised "public"; it is wrong for Alexa.',
        fix: `Set client_type to confidential and client_secret to the value of "Your Secret" in the Alexa console.`,
      });
    }
    const hosts = new Set(alexaUris.map((u) => new URL(u).hostname));
    const missing = ALEXA_REDIRECT_HOSTS.filter((h) => !hosts.has(h));
    if (missing.length) {
      out.push({
        area,
        level: 'warn',
        title: `clients → ${client.clientId}: no redirect URI for ${missing.join(', ')}`,
        detail: "Alexa uses the host of the user's account region; users of a missing region cannot link.",
        fix: 'Add all three Alexa Redirect URLs the Alexa console lists.',
      });
    }
  }
  if (!out.some((f) => f.level === 'error')) {
    out.push({
      area,
      level: 'ok',
      title: `options.json is valid: ${config.clients.length} client(s) (${config.clients.map((c) => c.clientId).join(', ')}), ${config.users.length} extra user(s)`,
    });
  }

  const canLogin = ctx.runtime ? ctx.runtime.loginSources : config.users.length > 0 || Boolean(opts.homeAssistantLogin);
  out.push(
    canLogin
      ? { area: 'login', level: 'ok', title: 'Owners can log in to approve a link' }
      : {
          area: 'login',
          level: 'error',
          title: 'No one can log in to approve a link',
          detail: 'There are no users in the options and Home Assistant login is not available.',
          fix: `Add a user under Configuration → users, or keep auth_api enabled so Home Assistant accounts work.`,
        },
  );
  return out;
}

export function publicUrlFindings(publicUrl: string | undefined): Finding[] {
  const area = 'public URL';
  if (!publicUrl) {
    return [
      {
        area,
        level: 'warn',
        title: 'public_url is not set',
        detail:
          'Every published URL is derived from the Host of each request, and this page can only show a placeholder for the Alexa console values.',
        fix: `Set public_url in ${CONFIG} to the https address Alexa reaches this add-on at, e.g. https://ha.example.com.`,
      },
    ];
  }
  const url = new URL(publicUrl);
  const out: Finding[] = [];
  if (url.protocol !== 'https:') {
    out.push({
      area,
      level: 'error',
      title: `${publicUrl} is not https`,
      detail: 'Alexa accepts only https Authorization and Access Token URIs.',
      fix: 'Put an HTTPS reverse proxy with a publicly trusted certificate in front and set public_url to its https address.',
    });
  }
  if (url.port !== '' && url.port !== '443') {
    out.push({
      area,
      level: 'error',
      title: `${publicUrl} uses port ${url.port}`,
      detail: 'Alexa requires the Authorization and Access Token URIs on port 443.',
      fix: 'Serve the add-on through a reverse proxy on 443 and remove the port from public_url.',
    });
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) || host === 'localhost' || /\.(local|lan|home|internal|localdomain)$/.test(host) || !host.includes('.')) {
    out.push({
      area,
      level: 'error',
      title: `${host} is not a public DNS name`,
      detail: "Alexa's servers reach the token endpoint from the internet, and check its certificate.",
      fix: "Use a public domain with a certificate from a public CA (e.g. Let's Encrypt) for public_url.",
    });
  }
  if (url.pathname !== '/' && url.pathname !== '') {
    out.push({
      area,
      level: 'info',
      title: `public_url has the path ${url.pathname}`,
      detail: `The reverse proxy must forward ${url.pathname}/alexa/ to this add-on's /alexa/.`,
    });
  }
  if (out.every((f) => f.level === 'info'))
    out.unshift({ area, level: 'ok', title: `${publicUrl}: https on port 443 with a public host name` });
  return out;
}

function integrityFinding(ctx: AdminContext, area: string): Finding {
  try {
    const problems = ctx.store.integrityCheck();
    return problems.length === 1 && problems[0] === 'ok'
      ? { area, level: 'ok', title: 'Database integrity check passed' }
      : {
          area,
          level: 'error',
          title: 'The database is damaged (PRAGMA integrity_check)',
          detail: problems.slice(0, 5).join('; '),
          fix: FAULT_FIX.damaged,
        };
  } catch (err) {
    return {
      area,
      level: 'error',
      title: 'The database integrity check could not run',
      detail: String(err),
      fix: "Run the check again in a minute; if it keeps failing, the add-on's Log tab says why.",
    };
  }
}

/** The one store finding for a folder the server has not started in: the CLI creates no database there. */
function noDatabaseYet(ctx: AdminContext, area: string): Finding {
  return {
    area,
    level: 'error',
    title: 'No database in this data folder yet',
    detail: `${ctx.store.file} ${existsSync(ctx.store.file) ? 'is empty' : 'does not exist'}: the server creates it at its first start with this folder, and nothing has been linked here.`,
    fix: 'Start the server once with this data folder; if it already runs, DATA_DIR (--data-dir) names another folder than the one it uses.',
  };
}

function storeFindings(ctx: AdminContext): Finding[] {
  const area = 'store';
  const out: Finding[] = [];
  const health = ctx.store.check();
  const neverCreated = notStartedYet(health, holdsDatabase(ctx.dataDir));
  out.push(
    neverCreated
      ? noDatabaseYet(ctx, area)
      : health.ok
        ? { area, level: 'ok', title: `Database readable and writable (${ctx.store.file}, ${formatBytes(ctx.store.sizeBytes())})` }
        : {
            area,
            level: 'error',
            title: 'The database cannot be read or written',
            detail: health.reason,
            fix: FAULT_FIX[health.fault ?? 'io'],
          },
  );
  // Nothing to check in a file that is not there: the finding above says so.
  if (health.fault !== 'missing' && !neverCreated) out.push(integrityFinding(ctx, area));
  try {
    const fs = statfsSync(ctx.dataDir);
    const free = fs.bavail * fs.bsize;
    if (free < 50 * 1024 * 1024) {
      out.push({
        area,
        level: 'error',
        title: `Only ${formatBytes(free)} free on the data disk`,
        detail: 'Writes will soon fail, and linking with them.',
        fix: 'Free space on the Home Assistant host (old backups are the usual culprit).',
      });
    } else if (free < 500 * 1024 * 1024) {
      out.push({
        area,
        level: 'warn',
        title: `${formatBytes(free)} free on the data disk`,
        fix: 'Free space on the Home Assistant host before it runs out.',
      });
    }
  } catch {
    /* statfs unsupported: skip */
  }
  return out;
}

async function traceFindings(ctx: AdminContext): Promise<Finding[]> {
  const info = await traceInfo(ctx.dataDir);
  const bound = formatBytes(TRACE_LIMITS.maxBytes * TRACE_LIMITS.maxFiles);
  return [
    {
      area: 'flow trace',
      level: 'ok',
      title: `${info.files} file(s), ${formatBytes(info.bytes)}${info.oldest ? `, oldest entry ${info.oldest}` : ''}`,
      detail: `Kept below ${bound} and ${TRACE_LIMITS.maxAgeMs / 86_400_000} days automatically.`,
    },
  ];
}

/** A GET on the local listener: the status it answered, or why nothing answered. */
async function probe(url: string): Promise<{ status: number } | { error: string }> {
  try {
    return { status: (await sendLocal(new URL(url), { signal: AbortSignal.timeout(3000) })).status };
  } catch (err) {
    return { error: err instanceof LocalRequestFailed ? (err.code ?? err.message) : String(err) };
  }
}

async function listenerFindings(ctx: AdminContext, opts: DiagnoseOptions): Promise<Finding[]> {
  const area = 'listeners';
  const running = ctx.runtime ?? ctx.serverRecord;
  if (!opts.serverRunning || !running) {
    return [
      {
        area,
        level: 'error',
        title: 'The OAuth server is not running',
        detail:
          'No server process holds this data folder: Alexa can neither link nor refresh, and linked users are unlinked when their access token expires.',
        fix: 'Start the add-on (Settings → Add-ons → Music Assistant Alexa OAuth → Start) and read its Log tab if it stops again.',
      },
    ];
  }
  const out: Finding[] = [];
  const { oauth, admin, adminAllow } = running.listeners;
  if (oauth) {
    const health = `${oauth.replace('//0.0.0.0:', '//127.0.0.1:').replace('//[::]:', '//[::1]:')}/health`;
    const answer = await probe(health);
    out.push(
      'error' in answer || (answer.status !== 200 && answer.status !== 503)
        ? {
            area,
            level: 'error',
            title: `OAuth listener ${oauth} does not answer /health`,
            detail: 'error' in answer ? answer.error : `answered ${answer.status}`,
            fix: 'Restart the add-on.',
          }
        : answer.status === 503
          ? // It answers: what /health reports is the database fault, which a restart may make worse (a missing file).
            {
              area,
              level: 'warn',
              title: `OAuth endpoints listening on ${oauth}; /health reports the database fault (see the database check)`,
            }
          : { area, level: 'ok', title: `OAuth endpoints listening on ${oauth}` },
    );
  }
  out.push(
    admin
      ? {
          area,
          level: 'ok',
          title: `Admin page listening on ${admin}`,
          detail: `Connections accepted only from ${adminAllow?.join(', ')}.`,
        }
      : {
          area,
          level: 'warn',
          title: 'The admin listener is not running',
          detail: 'See the add-on log for why (port in use, or ADMIN_PORT=off).',
          fix: 'Restart the add-on.',
        },
  );
  return out;
}

function clockFindings(ctx: AdminContext): Finding[] {
  const area = 'clock';
  const now = ctx.grants.now();
  const out: Finding[] = [];
  if (now < EARLIEST_PLAUSIBLE) {
    out.push({
      area,
      level: 'error',
      title: `The clock says ${new Date(now).toISOString()}, which is in the past`,
      detail: 'Certificates, backups and token lifetimes all go wrong with a clock this far off.',
      fix: 'Make sure the Home Assistant host synchronises its time (NTP) and has network access to a time server.',
    });
  }
  const rt = ctx.runtime;
  if (rt) {
    const wall = now - rt.clockBaseline.wall;
    const mono = performance.now() - rt.clockBaseline.mono;
    const drift = Math.round(wall - mono);
    out.push(
      Math.abs(drift) > CLOCK_JUMP_MS
        ? {
            area,
            level: 'warn',
            title: `The wall clock jumped ${drift > 0 ? 'forward' : 'back'} ${Math.abs(Math.round(drift / 1000))} s since the server started`,
            detail:
              'Measured against the monotonic clock: an NTP correction, a manual change, or a suspended host. Codes issued around that moment may have expired early (or late).',
            fix: 'Keep NTP time sync on for the Home Assistant host; if a link failed with "code expired" at that time, link again.',
          }
        : { area, level: 'ok', title: `No clock jump since start (wall vs monotonic drift ${drift} ms)` },
    );
  }
  out.push({
    area,
    level: 'info',
    title: 'This add-on cannot ask a time server itself',
    detail:
      'Codes and tokens are timed by this machine alone (expires_in is relative), so an offset from Amazon does no harm; a jump while a code is outstanding does. Home Assistant OS keeps the host in sync by NTP.',
  });
  return out;
}

async function failureFindings(ctx: AdminContext, windowMs: number): Promise<Finding[]> {
  const area = 'recent failures';
  const since = Date.now() - windowMs;
  // Per kind, its latest entry and how many there are, counted while the files are read.
  const byKind = new Map<string, { latest: FlowEntry; count: number }>();
  await eachActivityEntry(ctx.dataDir, since, (f) => {
    if (!isFailure(f)) return;
    const key = f.kind ?? f.error ?? 'other';
    const seen = byKind.get(key);
    if (!seen) byKind.set(key, { latest: f, count: requestsIn(f) });
    else {
      seen.count += requestsIn(f);
      if (f.ts > seen.latest.ts) seen.latest = f;
    }
  });
  const days = Math.round(windowMs / 86_400_000);
  if (byKind.size === 0) return [{ area, level: 'ok', title: `No failures in the last ${days > 1 ? `${days} days` : '24 hours'}` }];
  return [...byKind.entries()]
    .sort((a, b) => b[1].count - a[1].count || (a[1].latest.ts < b[1].latest.ts ? 1 : a[1].latest.ts > b[1].latest.ts ? -1 : 0))
    .map(([kind, { latest, count }]) => {
      const why = explain(latest, { config: ctx.config })!;
      return {
        area,
        level: latest.outcome === 'security' ? 'error' : 'warn',
        title: `${why.title}: ${count}× (${kind}), last at ${latest.ts}`,
        detail: why.problem,
        fix: why.fix,
      } satisfies Finding;
    });
}

export async function diagnose(ctx: AdminContext, opts: DiagnoseOptions): Promise<DiagnoseReport> {
  await ctx.trace?.flush();
  const findings: Finding[] = [
    ...configFindings(ctx, opts),
    ...(ctx.config ? publicUrlFindings(ctx.config.publicUrl) : []),
    ...storeFindings(ctx),
    ...(await traceFindings(ctx)),
    ...(await listenerFindings(ctx, opts)),
    ...clockFindings(ctx),
    ...(await failureFindings(ctx, opts.failureWindowMs ?? 7 * 86_400_000)),
  ];
  const counts = { ok: 0, info: 0, warn: 0, error: 0 };
  for (const f of findings) counts[f.level]++;
  return { ok: counts.error === 0, generatedAt: new Date().toISOString(), counts, findings };
}
