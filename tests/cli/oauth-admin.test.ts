/**
 * oauth-admin (the compiled bin) against a running server on the same DATA_DIR, and with the server stopped:
 * each command's output, the --json shapes, revocations that take effect at once, and never a lost revocation.
 */
import { expect } from '@jest/globals';
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fingerprint } from '../../src/crypto/tokens';
import type { DiagnoseReport } from '../../src/ops/diagnose';
import type { ActivityEntry, GrantView, RevokeAllResult, RevokeResult, StatusReport } from '../../src/ops/admin-service';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store';
import { defined } from '../helpers/defined';
import { ALEXA_REDIRECT, CLIENT_SECRET, OWNER, ServerProcess, spawnServer, tempDataDir, testOptions } from '../helpers/test-server';
import { TokenBody, alexaAuthorize, authorizeUrl, introspection, linkAccount, refresh } from '../helpers/alexa-client';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');
const PUBLIC_URL = 'https://music.example.com';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Everything the CLI printed in this file, checked for secrets at the end. */
const printed: string[] = [];

function cli(dataDir: string, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      printed.push(stdout, stderr);
      resolve({ code, stdout, stderr });
    });
  });
}

async function cliJson<T>(dataDir: string, ...args: string[]): Promise<T> {
  const r = await cli(dataDir, ...args, '--json');
  if (r.stderr) throw new Error(`oauth-admin ${args.join(' ')} wrote to stderr:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

let dataDir: string;
let proc: ServerProcess;

async function startServer(): Promise<ServerProcess> {
  return spawnServer(dataDir, undefined, { ADMIN_PORT: '0' });
}

async function stopServer(p: ServerProcess): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exited).toBe(0);
}

async function expectDead(tokens: TokenBody): Promise<void> {
  const res = await refresh(proc.url, tokens.refresh_token);
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe('invalid_grant');
  expect(await introspection(proc.url, tokens.access_token)).toEqual({ active: false });
}

async function newGrant(): Promise<{ tokens: TokenBody; grant: GrantView }> {
  const before = new Set((await cliJson<GrantView[]>(dataDir, 'grants')).map((g) => g.id));
  const tokens = await linkAccount(proc.url);
  const created = (await cliJson<GrantView[]>(dataDir, 'grants')).filter((g) => !before.has(g.id));
  expect(created).toHaveLength(1);
  return { tokens, grant: defined(created[0], 'the new grant') };
}

beforeAll(async () => {
  dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions({ public_url: PUBLIC_URL })));
  proc = await startServer();
});
afterAll(async () => {
  if (proc.child.exitCode === null) proc.child.kill('SIGTERM');
  await proc.exited;
});

describe('with the server running', () => {
  it('status: health, uptime and the Alexa console values; --json gives the same as data', async () => {
    const r = await cli(dataDir, 'status');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`running (pid ${proc.child.pid}`);
    expect(r.stdout).toMatch(/Health\s+ok: the database can be read and written/);
    expect(r.stdout).toMatch(new RegExp(`Web Authorization URI\\s+${PUBLIC_URL}/alexa/authorize`));
    expect(r.stdout).toMatch(new RegExp(`Access Token URI\\s+${PUBLIC_URL}/alexa/token`));
    expect(r.stdout).toMatch(/Your Client ID\s+amazon-alexa/);
    expect(r.stdout).toMatch(/Authentication Scheme\s+HTTP Basic \(Recommended\)/);
    expect(r.stdout).toMatch(/Scope\s+music\.read, music\.control/);
    expect(r.stdout).toMatch(new RegExp(`OAuth listener\\s+${proc.url}`));

    expect((await cli(dataDir, 'status', '--json')).code).toBe(0);
    const s = await cliJson<StatusReport>(dataDir, 'status');
    expect(s).toMatchObject({
      version: expect.any(String),
      running: true,
      pid: proc.child.pid,
      uptimeSeconds: expect.any(Number),
      health: { ok: true },
      dataDir,
      store: { file: path.join(dataDir, 'oauth.sqlite'), bytes: expect.any(Number), created: true },
      publicUrl: PUBLIC_URL,
      listeners: { oauth: proc.url, admin: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), adminAllow: ['127.0.0.1', '::1'] },
      grants: { active: expect.any(Number), revoked: expect.any(Number) },
      alexa: {
        publicUrlSet: true,
        authorizationUri: `${PUBLIC_URL}/alexa/authorize`,
        accessTokenUri: `${PUBLIC_URL}/alexa/token`,
        authenticationScheme: 'HTTP Basic (Recommended)',
        defaultAccessTokenExpiration: 3600,
      },
    });
    expect(s.alexa?.clients[0]).toEqual({
      clientId: 'amazon-alexa',
      clientType: 'confidential',
      scopes: ['music.read', 'music.control'],
      redirectUris: expect.arrayContaining([ALEXA_REDIRECT]),
    });
  });

  it('clients: a table with each client; secrets only as fingerprints', async () => {
    const r = await cli(dataDir, 'clients');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^CLIENT ID\s+TYPE\s+SECRET\s+SCOPES\s+REDIRECT URIS$/);
    expect(r.stdout).toMatch(
      new RegExp(`amazon-alexa\\s+confidential\\s+${fingerprint(CLIENT_SECRET)}\\s+music\\.read music\\.control\\s+https://pitangui`),
    );
    expect(r.stdout).toMatch(/public-app\s+public\s+-\s+music\.read\s+https:\/\/app\.example\.com\/callback/);
    expect(await cliJson(dataDir, 'clients')).toEqual([
      {
        clientId: 'amazon-alexa',
        clientType: 'confidential',
        secret: fingerprint(CLIENT_SECRET),
        redirectUris: expect.arrayContaining([ALEXA_REDIRECT]),
        scopes: ['music.read', 'music.control'],
      },
      { clientId: 'public-app', clientType: 'public', redirectUris: ['https://app.example.com/callback'], scopes: ['music.read'] },
    ]);
  });

  it('grants: one row per linked account; --json gives the fields', async () => {
    const { grant } = await newGrant();
    expect(grant).toEqual({
      id: expect.stringMatching(/^[\w-]{22}$/),
      clientId: 'amazon-alexa',
      username: 'owner',
      scopes: ['music.read', 'music.control'],
      linkedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      expiresAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      refreshCount: 0,
      status: 'active',
    });
    const r = await cli(dataDir, 'grants');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toMatch(/^GRANT\s+CLIENT\s+USER\s+SCOPES\s+LINKED\s+LAST REFRESH\s+EXPIRES IF UNUSED$/);
    expect(r.stdout).toMatch(
      new RegExp(`${grant.id}\\s+amazon-alexa\\s+owner\\s+music\\.read music\\.control\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d\\s+never`),
    );
  });

  it('revoke <grant prefix>: the tokens stop working at once', async () => {
    const { tokens, grant } = await newGrant();
    expect(await introspection(proc.url, tokens.access_token)).toMatchObject({ active: true });
    const r = await cli(dataDir, 'revoke', grant.id.slice(0, 8));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Revoked grant ${grant.id} (owner, amazon-alexa) in the database, while the server runs.`);
    await expectDead(tokens);
    const again = await cli(dataDir, 'revoke', grant.id);
    expect(again.stdout).toContain(`Grant ${grant.id} (owner, amazon-alexa) was already revoked`);
    const unknown = await cli(dataDir, 'revoke', 'nosuchgrant');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no grant nosuchgrant');
  });

  it('revoke --json: what was revoked, by whom', async () => {
    const { tokens, grant } = await newGrant();
    const r = await cliJson<RevokeResult & { via: string }>(dataDir, 'revoke', grant.id);
    expect(r).toEqual({
      revoked: [expect.objectContaining({ id: grant.id, status: 'revoked', revokedReason: expect.stringMatching(/via oauth-admin$/) })],
      alreadyRevoked: [],
      via: 'server',
    });
    await expectDead(tokens);
  });

  it('revoke --all: every link dies at once', async () => {
    const a = await newGrant();
    const b = await newGrant();
    const r = await cliJson<RevokeAllResult & { via: string }>(dataDir, 'revoke', '--all');
    expect(r).toMatchObject({ codes: expect.any(Number), sessions: expect.any(Number), via: 'server' });
    expect(r.revoked.map((g: GrantView) => g.id)).toEqual(expect.arrayContaining([a.grant.id, b.grant.id]));
    await expectDead(a.tokens);
    await expectDead(b.tokens);
    expect(await cliJson(dataDir, 'grants')).toEqual([]);

    const c = await newGrant();
    const text = await cli(dataDir, 'revoke', '--all');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^Revoked 1 link\(s\) in the database, while the server runs\. Cleared \d+ unredeemed code\(s\), \d+ login session\(s\) and every pending link request\./,
    );
    expect(text.stdout).toContain(`  ${c.grant.id}  owner  amazon-alexa`);
    await expectDead(c.tokens);
    const empty = await cli(dataDir, 'grants');
    expect(empty.stdout.trim()).toBe('No linked accounts.');
  });

  it('a revocation racing a burst of refreshes of the same link is never lost', async () => {
    const { tokens, grant } = await newGrant();
    const refreshes = Array.from({ length: 20 }, () => refresh(proc.url, tokens.refresh_token));
    const revoked = cli(dataDir, 'revoke', grant.id);
    const results = await Promise.all(refreshes);
    expect((await revoked).code).toBe(0);
    // whatever interleaving happened, the link ends revoked and every token issued in the burst is dead
    for (const res of results) {
      if (res.status === 200) await expectDead((await res.json()) as TokenBody);
    }
    await expectDead(tokens);
    expect((await cliJson<GrantView[]>(dataDir, 'grants', '--all')).find((g) => g.id === grant.id)?.status).toBe('revoked');
  });

  it('activity: the timeline with causes and fixes; --failures and --limit; --json entries', async () => {
    await linkAccount(proc.url);
    const asked = 'https://layla.amazon.com/api/skill/link/XYZ';
    expect((await fetch(`${proc.url}${authorizeUrl(alexaAuthorize({ redirect_uri: asked }))}`)).status).toBe(400);

    const r = await cli(dataDir, 'activity');
    expect(r.code).toBe(0);
    const first = r.stdout.split('\n')[0];
    expect(first).toMatch(
      /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}✗ authorize +Redirect URI not registered {2}amazon-alexa {2}\[redirect_uri_mismatch\]$/,
    );
    expect(r.stdout.replace(/\s+/g, ' ')).toContain(`Alexa asked for ${asked}, which is not a registered redirect URI of amazon-alexa.`);
    expect(r.stdout.replace(/\s+/g, ' ')).toContain('Fix: Add it under Configuration → clients → redirect_uris.');
    expect(r.stdout).toMatch(/✓ token +tokens issued \(authorization_code\) {2}amazon-alexa owner/);

    const failuresOnly = await cli(dataDir, 'activity', '--failures');
    expect(failuresOnly.stdout).not.toContain('✓');
    expect(failuresOnly.stdout).toContain('✗ authorize');

    const one = await cliJson<ActivityEntry[]>(dataDir, 'activity', '--limit', '1');
    expect(one).toHaveLength(1);
    expect(one[0]).toMatchObject({
      ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      requestId: expect.any(String),
      step: 'authorize',
      outcome: 'error',
      clientId: 'amazon-alexa',
      redirectUri: asked,
      kind: 'redirect_uri_mismatch',
      cause: expect.any(String),
      explanation: {
        title: 'Redirect URI not registered',
        problem: expect.stringContaining(asked),
        fix: expect.stringContaining('redirect_uris'),
        severity: 'error',
      },
    });
  });

  it('diagnose: findings with fixes; the exit status says whether any is a problem', async () => {
    const r = await cli(dataDir, 'diagnose');
    expect(r.stdout).toMatch(/✓ configuration +options\.json is valid/);
    expect(r.stdout).toMatch(/✓ store +Database integrity check passed/);
    expect(r.stdout).toMatch(/✓ listeners +OAuth endpoints listening on/);
    expect(r.stdout).toMatch(/! recent failures +Redirect URI not registered: 1× \(redirect_uri_mismatch\)/);
    expect(r.stdout).toMatch(/\n\d+ problems?|no problems/);
    const report = await cliJson<DiagnoseReport>(dataDir, 'diagnose');
    expect(report).toMatchObject({
      ok: expect.any(Boolean),
      generatedAt: expect.any(String),
      counts: { ok: expect.any(Number), info: expect.any(Number), warn: expect.any(Number), error: expect.any(Number) },
    });
    for (const f of report.findings)
      expect(f).toEqual({
        area: expect.any(String),
        level: expect.stringMatching(/^(ok|info|warn|error)$/),
        title: expect.any(String),
        ...(f.detail ? { detail: f.detail } : {}),
        ...(f.fix ? { fix: f.fix } : {}),
      });
    expect(r.code).toBe(report.ok ? 0 : 1);
  });
});

describe('pkce', () => {
  const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
  const challenge = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'; // RFC 7636 appendix B

  it('says match for the RFC 7636 example pair', async () => {
    const r = await cli(dataDir, 'pkce', verifier, challenge);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/result\s+match/);
    expect(r.stdout).not.toContain(verifier); // the verifier is shown as a fingerprint
  });

  it('explains a challenge made with standard base64 and padding', async () => {
    const standard = Buffer.from(challenge, 'base64url').toString('base64');
    const r = await cliJson<Record<string, unknown>>(dataDir, 'pkce', verifier, standard);
    expect(r).toEqual({
      verifier: { fingerprint: fingerprint(verifier), length: 43, valid: true },
      challenge: standard,
      computed: challenge,
      match: false,
      hint: expect.stringContaining('standard base64'),
    });
    expect((await cli(dataDir, 'pkce', verifier, standard)).code).toBe(1);
  });

  it('explains method plain', async () => {
    const r = await cli(dataDir, 'pkce', verifier, verifier);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('code_challenge_method=plain');
  });
});

describe('usage', () => {
  it('refuses unknown commands and incomplete ones with status 2', async () => {
    expect((await cli(dataDir, 'frobnicate')).code).toBe(2);
    expect((await cli(dataDir, 'revoke')).code).toBe(2);
    expect((await cli(dataDir, 'pkce', 'only-one')).code).toBe(2);
    const help = await cli(dataDir, '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('revoke --all');
  });
});

describe('with the server stopped', () => {
  it('on a folder whose database is gone: status and grants say so in one line each, with no stack trace', async () => {
    const gone = tempDataDir();
    writeFileSync(path.join(gone, 'options.json'), JSON.stringify(testOptions()));
    const first = await spawnServer(gone);
    await linkAccount(first.url);
    await stopServer(first);
    rmSync(path.join(gone, 'oauth.sqlite'));
    const status = await cli(gone, 'status');
    expect(status.stdout).toMatch(/Health\s+FAILING: .*oauth\.sqlite is not there, but oauth\.sqlite-created says/);
    expect(status.stdout).toMatch(/Linked accounts\s+unknown \(the database cannot be read\)/);
    const grants = await cli(gone, 'grants');
    expect(grants.code).toBe(1);
    expect(grants.stderr).toMatch(/^oauth-admin: the database .* cannot be read or written: the file is gone/);
    for (const r of [status, grants]) expect(r.stdout + r.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads and revokes in the data folder directly; the revocation holds after the server starts again', async () => {
    const { tokens, grant } = await newGrant();
    await stopServer(proc);

    const status = await cli(dataDir, 'status');
    expect(status.stdout).toContain('NOT RUNNING');
    expect((await cliJson<Record<string, unknown>>(dataDir, 'status')).running).toBe(false);
    const diagnose = await cli(dataDir, 'diagnose');
    expect(diagnose.code).toBe(1);
    expect(diagnose.stdout).toMatch(/✗ listeners +The OAuth server is not running/);

    expect((await cliJson<GrantView[]>(dataDir, 'grants')).map((g) => g.id)).toContain(grant.id);
    const r = await cli(dataDir, 'revoke', grant.id);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Revoked grant ${grant.id} (owner, amazon-alexa) directly in the data folder (no server is running).`);

    proc = await startServer();
    await expectDead(tokens);
    const traced = await cliJson<ActivityEntry[]>(dataDir, 'activity', '--limit', '200');
    expect(traced.find((e) => e.step === 'admin' && e.grantId === grant.id)?.detail).toMatchObject({
      action: 'revoke',
      by: expect.stringContaining('oauth-admin (server stopped)'),
    });
  });

  it('diagnose reports configuration errors with their fix when the server cannot start', async () => {
    const broken = tempDataDir();
    const options = testOptions({ access_token_lifetime: 60 });
    delete defined((options.clients as Array<Record<string, unknown>>)[0], 'the first client').client_secret;
    writeFileSync(path.join(broken, 'options.json'), JSON.stringify(options));
    const r = await cli(broken, 'diagnose');
    expect(r.code).toBe(1);
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('✗ configuration clients[0].client_secret: required when client_type is confidential');
    expect(flat).toContain(`Fix: edit ${path.join(broken, 'options.json')}`);
    expect(flat).toContain('✗ configuration access_token_lifetime: must be at least 360');
    expect(flat).toContain('Alexa refuses tokens that live less than 360 seconds');
    const status = await cliJson<StatusReport>(broken, 'status');
    expect(status.configProblems).toHaveLength(2);
  });

  it('says where the data folder is missing', async () => {
    const r = await cli(path.join(tempDataDir(), 'nothing-here'), 'grants');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('there is no data folder at');
  });

  it.each(['grants', 'revoke --all --yes', 'activity'])(
    '%s on a folder where the server never ran: one line saying so, and the folder stays empty',
    async (command) => {
      const empty = tempDataDir();
      const r = await cli(empty, ...command.split(' '));
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining(`there is no database in ${empty}`)]);
      expect(readdirSync(empty)).toEqual([]);
    },
  );

  it('output into a pipe whose reader has gone (`| head`): the command still finishes and records itself, exit 141 as after SIGPIPE, no stack trace', async () => {
    const dataDir = tempDataDir();
    openSqliteStore(dataDir).close(); // the database the server's first start makes
    const child = spawn(process.execPath, [CLI, 'revoke', '--all', '--yes'], {
      env: { PATH: process.env.PATH, DATA_DIR: dataDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first line is written
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect({ code, stderr }).toEqual({ code: 141, stderr: '' });
    // The revocation is in the trace, and the database was closed (no WAL left behind).
    const activity = await cli(dataDir, 'activity');
    expect(activity.stdout).toContain('revoke-all');
    expect(readdirSync(dataDir).filter((f) => f.endsWith('-wal'))).toEqual([]);
  });

  it('an empty oauth.sqlite: "not started yet" when nothing else says a database was there, "its content was lost" when the mark does; never made a database', async () => {
    const fresh = tempDataDir();
    writeFileSync(path.join(fresh, 'oauth.sqlite'), '');
    const status = await cli(fresh, 'status');
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/Health +not started here yet/);
    expect((await cli(fresh, 'diagnose')).stdout.replace(/\s+/g, ' ')).toContain('✗ store No database in this data folder yet');
    expect(readdirSync(fresh)).toEqual(['oauth.sqlite']);
    expect(statSync(path.join(fresh, 'oauth.sqlite')).size).toBe(0);

    const emptied = tempDataDir();
    openSqliteStore(emptied).close(); // the database, and its mark, as the server's first start leaves them
    truncateSync(path.join(emptied, 'oauth.sqlite'), 0);
    const again = await cli(emptied, 'status');
    expect(again.code).toBe(1);
    expect(again.stdout).toMatch(
      /Health +FAILING: .*oauth\.sqlite is empty \(0 bytes\), but oauth\.sqlite-created says a database was created in/,
    );
    expect(statSync(path.join(emptied, 'oauth.sqlite')).size).toBe(0);
  });

  it.each([
    ['a usage error', ['no-such-command'], 2],
    ['a command that fails', ['grants'], 1],
  ])("%s with stderr's reader gone: the exit status still says so (not 1 for the failed write)", async (_what, args, expected) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH, DATA_DIR: tempDataDir() },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.destroy(); // the reader is gone before the first line is written
    expect(await new Promise<number | null>((resolve) => child.once('exit', resolve))).toBe(expected);
  });

  it('a data folder path that is a file: the cause (ENOTDIR), not "no database yet"', async () => {
    const file = path.join(tempDataDir(), 'not-a-folder');
    writeFileSync(file, '');
    const r = await cli(file, 'diagnose');
    expect(r.code).toBe(1);
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('ENOTDIR');
    expect(flat).not.toContain('No database in this data folder yet');
  });

  it('status and diagnose on a folder where the server never ran: they say so, and the folder stays empty', async () => {
    const empty = tempDataDir();
    const status = await cli(empty, 'status');
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`there is no database in ${empty} yet: the server creates oauth.sqlite at its first start there`);
    // Nothing has failed: no alarm, no size of a file that is not there.
    expect(status.stdout).not.toContain('FAILING');
    expect(status.stdout).toMatch(/Database +\S+oauth\.sqlite \(not created yet\)/);
    expect(status.stdout).toMatch(/Linked accounts +none yet/);
    // A script gets the same exit status as a person, and the reason as data.
    const asJson = await cli(empty, 'status', '--json');
    expect(asJson.code).toBe(1);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ health: { ok: false, fault: 'unopened' }, store: { bytes: 0, created: false } });
    const diagnose = await cli(empty, 'diagnose');
    expect(diagnose.code).toBe(1);
    const flat = diagnose.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('✗ store No database in this data folder yet');
    expect(flat).toContain('Fix: Start the server once with this data folder');
    // Not taken for a damaged or missing database, which would advise a restore or starting over.
    expect(flat).not.toContain('damaged');
    expect(flat).not.toContain('Restore the add-on');
    expect(readdirSync(empty)).toEqual([]);
  });
});

describe('in the image', () => {
  const wrapper = path.join(__dirname, '..', '..', 'rootfs', 'usr', 'local', 'bin', 'oauth-admin');

  it('is on PATH: rootfs/usr/local/bin/oauth-admin, copied by `COPY rootfs /`, runs the compiled CLI', () => {
    accessSync(wrapper, constants.X_OK);
    const dockerfile = readFileSync(path.join(__dirname, '..', '..', 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^COPY rootfs \/$/m);
    expect(readFileSync(wrapper, 'utf8')).toContain('exec node "${ADDON_APP_DIR:-/app}/dist/cli/oauth-admin.js" "$@"');
    const run = spawnSync(wrapper, ['--help'], {
      env: { PATH: process.env.PATH, ADDON_APP_DIR: path.join(__dirname, '..', '..') },
      encoding: 'utf8',
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage: oauth-admin');
  });

  it('passes shellcheck', () => {
    const check = spawnSync('shellcheck', [wrapper], { encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });
});

afterAll(() => {
  const all = printed.join('\n');
  expect(all).not.toContain(CLIENT_SECRET);
  expect(all).not.toContain(OWNER.password);
});
