#!/usr/bin/env node
/**
 * oauth-admin: the admin page's functions for a shell. Works on the server's DATA_DIR, safely while the server
 * runs (see cli/admin-api.ts). Readable output by default, --json for scripts.
 *
 *   oauth-admin status | clients | grants [--all] | revoke <grant>... | revoke --all [--yes]
 *               activity [--failures] [--limit N] | diagnose | pkce <verifier> <challenge>
 *
 * Exit status: 0 done; 1 a check failed (status not healthy, diagnose found a problem, pkce mismatch) or the command
 * failed; 2 usage. The same with --json.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { formatBytes } from '../ops/diagnose';
import { checkPkce } from '../ops/pkce-check';
import { AdminError } from '../ops/admin-service';
import { resolveDataDir } from '../config/data-dir';
import { AdminApi, CliError, connect } from './admin-api';
import { Style, localTime, pairs, shown, style, table, terminalSafe, wrap } from './format';
import { text } from '../log/text';
import { COALESCED } from '../log/trace-policy';
import { isStoreError, notStartedYet } from '../store/faults';

const USAGE = `usage: oauth-admin <command> [options]

commands:
  status                       health, version, uptime, database, and the values for the Alexa developer console
  clients                      the configured OAuth clients (secrets shown as fingerprints only)
  grants [--all]               linked accounts, one per grant (--all includes revoked ones)
  revoke <grant>...            revoke links by grant id (or a unique prefix of 6+ characters)
  revoke --all [--yes]         revoke every link, unredeemed code and login session (asks first on a terminal)
  activity [--failures] [--limit N]
                               the recent flow trace, newest first, failures with cause and fix
  diagnose                     check configuration, database, listeners, clock and recent failures
  pkce <verifier> <challenge>  check a PKCE pair and explain a mismatch

options:
  --json            machine-readable output
  --data-dir DIR    the server's data folder (default: $DATA_DIR, else /data when it exists, else ./data)
  -h, --help        this text`;

interface Io {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
  color: boolean;
  confirm(question: string): Promise<boolean>;
}

const LEVEL_MARK = { ok: '✓', info: 'i', warn: '!', error: '✗' } as const;

function uptime(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : `${m}m ${seconds % 60}s`;
}

const OPTION_NAMES = new Set(['--json', '--all', '--failures', '--limit', '--yes', '--data-dir', '--help']);

/**
 * Grant ids are base64url, so one in 32 starts with "-": passed as an option, parseArgs refused it and the grant
 * could not be revoked. Such arguments (a dash and 5+ id characters, not one of our options) are positionals.
 */
function idsAsPositionals(argv: string[]): string[] {
  const end = argv.indexOf('--');
  const head = end < 0 ? argv : argv.slice(0, end);
  const tail = end < 0 ? [] : argv.slice(end + 1);
  const ids = head.filter((a) => /^--?[\w-]{5,63}$/.test(a) && !OPTION_NAMES.has(a.split('=')[0] ?? a));
  if (ids.length === 0) return argv;
  return [...head.filter((a) => !ids.includes(a)), '--', ...ids, ...tail];
}

async function run(argv: string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: idsAsPositionals(argv),
      allowPositionals: true,
      options: {
        json: { type: 'boolean', default: false },
        all: { type: 'boolean', default: false },
        failures: { type: 'boolean', default: false },
        limit: { type: 'string' },
        yes: { type: 'boolean', short: 'y', default: false },
        'data-dir': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values: opts, positionals } = parsed;
  const [command, ...args] = positionals;
  if (opts.help || !command || command === 'help') {
    io.out(USAGE);
    return command || opts.help ? 0 : 2;
  }
  const st = style(io.color && !opts.json);
  const json = (value: unknown) => io.out(JSON.stringify(value, null, 2));

  if (command === 'pkce') {
    const [verifier, challenge, ...extra] = args;
    if (verifier === undefined || challenge === undefined || extra.length > 0) {
      io.err('usage: oauth-admin pkce <code_verifier> <code_challenge>');
      return 2;
    }
    const r = checkPkce(verifier, challenge);
    if (opts.json) json(r);
    else {
      io.out(
        pairs([
          [
            'code_verifier',
            `${r.verifier.fingerprint} (${r.verifier.length} characters, ${r.verifier.valid ? 'valid' : st.err('not a valid verifier')})`,
          ],
          ['code_challenge', r.challenge],
          ['S256(code_verifier)', r.computed],
          ['result', r.match ? st.ok('match') : st.err('MISMATCH')],
        ]),
      );
      if (r.hint) io.out(`\n${wrap(r.hint, 100, '')}`);
    }
    return r.match && r.verifier.valid ? 0 : 1;
  }

  const known = ['status', 'clients', 'grants', 'revoke', 'activity', 'diagnose'];
  if (!known.includes(command)) {
    io.err(`unknown command "${command}"\n\n${USAGE}`);
    return 2;
  }
  if (command === 'revoke' && !opts.all && args.length === 0) {
    io.err('usage: oauth-admin revoke <grant>... | oauth-admin revoke --all');
    return 2;
  }
  const limit = opts.limit === undefined ? undefined : Number(opts.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    io.err('--limit takes a positive whole number');
    return 2;
  }

  const dataDir = opts['data-dir'] ? resolveDataDir({ DATA_DIR: opts['data-dir'] }) : resolveDataDir(env);
  let api: AdminApi;
  try {
    api = await connect(dataDir, env, ['grants', 'revoke', 'activity'].includes(command));
  } catch (err) {
    io.err(`oauth-admin: ${(err as Error).message}`);
    return 1;
  }
  try {
    switch (command) {
      case 'status':
        return await statusCommand(api, io, st, opts.json);
      case 'clients': {
        const clients = await api.clients();
        if (opts.json) json(clients);
        else if (clients.length === 0) io.out('No clients: the configuration cannot be read (run `oauth-admin diagnose`).');
        else
          io.out(
            table(
              ['CLIENT ID', 'TYPE', 'SECRET', 'SCOPES', 'REDIRECT URIS'],
              clients.map((c) => [c.clientId, c.clientType, c.secret ?? '-', c.scopes.join(' ') || '-', c.redirectUris.join('\n')]),
              st,
            ),
          );
        return 0;
      }
      case 'grants': {
        const grants = await api.grants(opts.all);
        if (opts.json) json(grants);
        else if (grants.length === 0) io.out(opts.all ? 'No grants.' : 'No linked accounts.');
        else {
          io.out(
            table(
              ['GRANT', 'CLIENT', 'USER', 'SCOPES', 'LINKED', 'LAST REFRESH', 'EXPIRES IF UNUSED', ...(opts.all ? ['STATUS'] : [])],
              grants.map((g) => [
                g.id,
                shown(g.clientId, 128),
                shown(g.username, 128),
                shown(g.scopes.join(' ')),
                localTime(g.linkedAt),
                g.lastRefreshAt ? localTime(g.lastRefreshAt) : 'never',
                localTime(g.expiresAt),
                ...(opts.all ? [g.status === 'active' ? st.ok('active') : st.err(`revoked ${localTime(g.revokedAt)}`)] : []),
              ]),
              st,
            ),
          );
          io.out(
            st.dim(
              `\n${grants.length} ${opts.all ? 'grant' : 'linked account'}${grants.length === 1 ? '' : 's'}${api.via === 'direct' ? ' (read from the data folder: the server is not running)' : ''}`,
            ),
          );
        }
        return 0;
      }
      case 'revoke':
        return await revokeCommand(api, io, st, opts.json, opts.all, opts.yes, args);
      case 'activity': {
        const entries = await api.activity({ failuresOnly: opts.failures, limit: limit ?? 50 });
        if (opts.json) json(entries);
        else if (entries.length === 0) io.out(opts.failures ? 'No failures recorded.' : 'No activity recorded.');
        else {
          for (const e of entries) {
            const mark = e.outcome === 'ok' ? st.ok('✓') : e.outcome === 'security' ? st.err('‼') : st.err('✗');
            const who = [e.clientId, e.username]
              .filter(Boolean)
              .map((v) => shown(v, 256))
              .join(' ');
            const what = shown(
              e.explanation
                ? e.explanation.title
                : e.requestId === COALESCED
                  ? (e.cause ?? 'counted, not listed one by one')
                  : e.step === 'token'
                    ? `tokens issued (${e.grantType ?? '?'})`
                    : e.step === 'admin'
                      ? text(e.detail?.action ?? 'admin action')
                      : 'ok',
            );
            io.out(
              `${localTime(e.ts, true)}  ${mark} ${shown(e.step, 16).padEnd(10)} ${what}${who ? st.dim(`  ${who}`) : ''}${e.kind ? st.dim(`  [${shown(e.kind, 64)}]`) : ''}`,
            );
            if (e.explanation) {
              io.out(`    ${wrap(shown(e.explanation.problem, 2048), 96, '    ')}`);
              io.out(`    ${st.bold('Fix:')} ${wrap(shown(e.explanation.fix, 2048), 91, '    ')}`);
            }
          }
        }
        return 0;
      }
      case 'diagnose': {
        const report = await api.diagnose();
        if (opts.json) json(report);
        else {
          for (const f of report.findings) {
            const mark =
              f.level === 'ok'
                ? st.ok(LEVEL_MARK.ok)
                : f.level === 'info'
                  ? st.dim(LEVEL_MARK.info)
                  : f.level === 'warn'
                    ? st.warn(LEVEL_MARK.warn)
                    : st.err(LEVEL_MARK.error);
            io.out(`${mark} ${st.dim(f.area.padEnd(16))} ${wrap(f.title, 90, ' '.repeat(19))}`);
            if (f.detail) io.out(`${' '.repeat(19)}${wrap(f.detail, 90, ' '.repeat(19))}`);
            if (f.fix) io.out(`${' '.repeat(19)}${st.bold('Fix:')} ${wrap(f.fix, 85, ' '.repeat(19))}`);
          }
          const { error, warn } = report.counts;
          io.out(
            `\n${error ? st.err(`${error} problem${error === 1 ? '' : 's'}`) : st.ok('no problems')}, ${warn} warning${warn === 1 ? '' : 's'}`,
          );
        }
        return report.ok ? 0 : 1;
      }
    }
    return 2;
  } catch (err) {
    // A database fault is the operator's to fix, not a bug: its message says what and how (no stack trace).
    const known = err instanceof CliError || err instanceof AdminError || isStoreError(err);
    io.err(`oauth-admin: ${known ? err.message : ((err as Error).stack ?? String(err))}`);
    return 1;
  } finally {
    await api.close();
  }
}

async function statusCommand(api: AdminApi, io: Io, st: Style, asJson: boolean): Promise<number> {
  const s = await api.status();
  // Not healthy is a failed check, whatever the format: a script gets the same exit status as a person.
  const exitCode = s.health.ok ? 0 : 1;
  if (asJson) {
    io.out(JSON.stringify(s, null, 2));
    return exitCode;
  }
  const notYet = notStartedYet(s.health, s.store.created);
  io.out(
    st.bold(`Music Assistant Alexa OAuth ${s.version}`) +
      (s.running
        ? st.ok(` — running (pid ${s.pid}, up ${uptime(s.uptimeSeconds)})`)
        : st.err(' — NOT RUNNING (read from the data folder)')),
  );
  io.out('');
  io.out(
    pairs([
      [
        'Health',
        s.health.ok
          ? st.ok('ok: the database can be read and written')
          : notYet
            ? st.warn(
                `not started here yet (there is no database in ${s.dataDir} yet: the server creates oauth.sqlite at its first start there)`,
              )
            : st.err(`FAILING: ${s.health.reason ?? ''}`),
      ],
      ['Data folder', s.dataDir],
      ['Database', `${s.store.file} (${notYet ? 'not created yet' : formatBytes(s.store.bytes)})`],
      [
        'Flow trace',
        `${s.trace.files} file(s), ${formatBytes(s.trace.bytes)}${s.trace.oldest ? `, since ${localTime(s.trace.oldest)}` : ''}`,
      ],
      ['Public URL', s.publicUrl ?? st.warn('not set (derived from each request)')],
      ['OAuth listener', s.listeners.oauth ?? '-'],
      ['Admin page', s.listeners.admin ? `${s.listeners.admin} (only ${s.listeners.adminAllow?.join(', ')})` : '-'],
      [
        'Linked accounts',
        s.grants ? `${s.grants.active} active, ${s.grants.revoked} revoked` : notYet ? 'none yet' : 'unknown (the database cannot be read)',
      ],
    ]),
  );
  if (s.configProblems?.length) {
    io.out(`\n${st.err('The configuration has problems:')}`);
    for (const p of s.configProblems) io.out(`  ${p}`);
  }
  if (s.alexa) {
    io.out(`\n${st.bold('Alexa developer console')} (Build → Account Linking, "Auth Code Grant"):`);
    const rows: Array<[string, string]> = [
      ['Web Authorization URI', s.alexa.authorizationUri],
      ['Access Token URI', s.alexa.accessTokenUri],
      ...s.alexa.clients.map((c): [string, string] => ['Your Client ID', c.clientId]),
      ['Your Secret', 'clients → client_secret from the Configuration tab (not shown)'],
      ['Authentication Scheme', `${s.alexa.authenticationScheme} (credentials in request body work too)`],
      ['Scope', [...new Set(s.alexa.clients.flatMap((c) => c.scopes))].join(', ')],
      ['Default Access Token Expiration Time', String(s.alexa.defaultAccessTokenExpiration)],
    ];
    io.out(pairs(rows, '  '));
    if (!s.alexa.publicUrlSet)
      io.out(st.warn('  public_url is not set: replace the placeholder host with the https address Alexa reaches this add-on at.'));
  }
  return exitCode;
}

async function revokeCommand(
  api: AdminApi,
  io: Io,
  st: Style,
  asJson: boolean,
  all: boolean,
  yes: boolean,
  ids: string[],
): Promise<number> {
  const where = api.via === 'server' ? 'in the database, while the server runs' : 'directly in the data folder (no server is running)';
  if (all) {
    if (ids.length) {
      io.err('revoke --all takes no grant ids');
      return 2;
    }
    if (io.isTTY && !yes && !asJson) {
      const active = (await api.grants(false)).length;
      const ok = await io.confirm(`Revoke all ${active} linked account(s)? Every user must link again. Type "yes" to continue: `);
      if (!ok) {
        io.out('Nothing was revoked.');
        return 1;
      }
    }
    const r = await api.revokeAll();
    if (asJson) io.out(JSON.stringify({ ...r, via: api.via }, null, 2));
    else {
      io.out(
        st.ok(`Revoked ${r.revoked.length} link(s) ${where}.`) +
          ` Cleared ${r.codes} unredeemed code(s), ${r.sessions} login session(s) and every pending link request.`,
      );
      for (const g of r.revoked) io.out(`  ${g.id}  ${g.username}  ${g.clientId}`);
      io.out('Their tokens stopped working at once; each user links again from the Alexa app.');
    }
    return 0;
  }
  const r = await api.revoke(ids);
  if (asJson) io.out(JSON.stringify({ ...r, via: api.via }, null, 2));
  else {
    for (const g of r.revoked) io.out(st.ok(`Revoked grant ${g.id} (${g.username}, ${g.clientId}) ${where}.`));
    for (const g of r.alreadyRevoked)
      io.out(st.warn(`Grant ${g.id} (${g.username}, ${g.clientId}) was already revoked at ${localTime(g.revokedAt)}.`));
    if (r.revoked.length) io.out('Its tokens stopped working at once; the user links again from the Alexa app.');
  }
  return 0;
}

/** Set once standard output's reader has gone (EPIPE): nothing more is written to it. */
let stdoutGone = false;
/** Set once stderr's reader has gone: messages are dropped, the exit status still says what happened. */
let stderrGone = false;

export async function main(argv = process.argv.slice(2), env = process.env): Promise<number> {
  const io: Io = {
    // Everything printed passes terminalSafe: request data reaches the terminal as escaped text only.
    out: (t) => {
      if (!stdoutGone) process.stdout.write(`${terminalSafe(t)}\n`);
    },
    err: (t) => {
      if (!stderrGone) process.stderr.write(`${terminalSafe(t)}\n`);
    },
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    color: Boolean(process.stdout.isTTY) && !env.NO_COLOR,
    async confirm(question) {
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      try {
        return (await rl.question(question)).trim().toLowerCase() === 'yes';
      } finally {
        rl.close();
      }
    },
  };
  return run(argv, env, io);
}

if (require.main === module) {
  // A reader that stops early (`oauth-admin activity | head`) closes the pipe: the command still finishes (a revoke
  // records itself in the trace, the database is closed) without writing more, and ends as a process killed by
  // SIGPIPE would (128 + 13), instead of with a stack trace for the write that failed.
  const whenReaderGone = (stream: NodeJS.WriteStream, gone: () => void) =>
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
      gone();
    });
  whenReaderGone(process.stdout, () => (stdoutGone = true));
  // The same for stderr, whose messages no one reads then: a usage error still exits 2, not 1 for the failed write.
  whenReaderGone(process.stderr, () => (stderrGone = true));
  main().then(
    (code) => {
      process.exitCode = stdoutGone ? 141 : code;
    },
    (err) => {
      if (!stderrGone) process.stderr.write(`oauth-admin: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
