/**
 * The add-on's runtime without Docker: the repository's own rootfs service (run, finish), run.sh and backup
 * helper, supervised by Debian's s6-svscan (addon/supervise.ts), serving the compiled server from dist/.
 * A crash is survived with every token intact; a configuration the server refuses stops the add-on instead
 * of looping; a hot backup restores to a working link.
 */
import { expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadManifest, REPO_ROOT } from '../../addon/manifest';
import { renderOptions, writeOptionsFile } from '../../addon/render-options';
import { RunningAddon, startAddon } from '../../addon/supervise';
import { OAuthClient, introspection, linkAccount, refreshOk } from '../helpers/alexa-client';
import { fixedPort } from '../helpers/test-server';
import { waitFor, waitForHealthy } from './helpers';

jest.setTimeout(90_000);

const manifest = loadManifest();
const alexa: OAuthClient = {
  clientId: 'amazon-alexa',
  clientSecret: 'test-secret-with-more-than-32-characters',
  redirectUri: 'https://pitangui.amazon.com/api/skill/link/M1ABCDEF123456',
  scope: 'music.read music.control',
};
const owner = { username: 'owner', password: 'correct horse battery staple' };
const validOptions = {
  users: [owner],
  clients: [
    {
      client_id: alexa.clientId,
      client_type: 'confidential',
      client_secret: alexa.clientSecret,
      redirect_uris: [alexa.redirectUri],
      scopes: ['music.read', 'music.control'],
    },
  ],
};

const cleanup: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!();
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Renders options.json as the Supervisor would, then starts the add-on under s6 on a loopback port it keeps across
 * restarts, as the add-on does (fixedPort: port 0 would move after a kill -9). `root`: another copy of the app.
 */
async function startWith(
  dataDir: string,
  userOptions: Record<string, unknown>,
  root?: string,
): Promise<{ addon: RunningAddon; base: string }> {
  const { options } = renderOptions({ manifest, userOptions });
  writeOptionsFile(dataDir, options);
  const port = await fixedPort();
  const addon = startAddon({ dataDir, port, host: '127.0.0.1', root });
  cleanup.push(() => addon.stop());
  return { addon, base: `http://127.0.0.1:${port}` };
}

/** The container's exit, once it halts; fails with its log if it is still running after `ms`. */
async function exitWithin(addon: RunningAddon, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    addon.exited,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still running:\n${addon.output()}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The pid of the server s6 started in place of `before`. */
function serverRestarted(addon: RunningAddon, before: number | undefined): Promise<number> {
  return waitFor('s6 to start the server again', () => {
    const pid = addon.servicePid();
    return pid !== undefined && pid !== before ? pid : undefined;
  });
}

function requireTool(tool: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) {
    throw new Error(`${tool} is not installed: apt-get install ${pkg} (CI installs it)`);
  }
}

beforeAll(() => {
  requireTool('s6-svscan', 's6');
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'main.js'))) {
    throw new Error('dist/main.js is missing: run `npm run build` (npm test does)');
  }
});

describe('the add-on under s6 supervision', () => {
  it('restarts the server after kill -9, and every token issued before still works', async () => {
    const { addon, base } = await startWith(tempDir('addon-data-'), validOptions);
    expect(await waitForHealthy(base)).toMatchObject({ status: 'ok' });

    const tokens = await linkAccount(base, { client: alexa, user: owner });
    expect(tokens).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(await introspection(base, tokens.access_token, alexa)).toMatchObject({ active: true });

    const before = addon.servicePid();
    expect(before).toBeDefined();
    process.kill(before!, 'SIGKILL');

    const after = await serverRestarted(addon, before);
    expect(after).not.toBe(before);
    expect(await waitForHealthy(base)).toMatchObject({ status: 'ok' });

    // Issued before the crash: the access token is still active and the refresh token still refreshes.
    expect(await introspection(base, tokens.access_token, alexa)).toMatchObject({ active: true });
    const refreshed = await refreshOk(base, tokens.refresh_token, 'basic', alexa);
    expect(refreshed).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String), refresh_token: expect.any(String) });
    expect(await introspection(base, refreshed.access_token, alexa)).toMatchObject({ active: true });

    const log = addon.output();
    expect(log).toContain('[oauth-server] the server was killed by signal 9');
    expect(log).toContain('[oauth-server] restarting it');

    // Still supervised; a later stop goes down cleanly. The HA convention keeps the first crash's code (128+9).
    const exit = await addon.stop();
    expect(exit).toEqual({ exitCode: 137 });
  });

  it('stops the add-on, without a restart loop, when the server refuses its options', async () => {
    // Valid for the Supervisor (client_secret is optional there), refused by the server: the defaults as shipped.
    const { addon } = await startWith(tempDir('addon-data-'), {});
    expect(await exitWithin(addon, 30_000)).toEqual({ exitCode: 78 });

    const log = addon.output();
    const problem = 'clients[0].client_secret: required when client_type is confidential';
    expect(log).toContain(problem);
    expect(log.split(problem)).toHaveLength(2); // started exactly once
    expect(log).toContain('[oauth-server] the server exited with code 78; stopping the add-on');
  });

  /**
   * A copy of the app whose server dies of an uncaught exception (exit code 1, as any runtime bug ends in Node):
   * each time the file `crash-now` appears in the data folder, or `crash-at-start` is there when it starts.
   */
  function crashingApp(): string {
    const root = tempDir('addon-root-');
    for (const p of ['rootfs', 'run.sh', 'dist', 'package.json']) cpSync(path.join(REPO_ROOT, p), path.join(root, p), { recursive: true });
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(root, 'node_modules'));
    appendFileSync(
      path.join(root, 'dist', 'main.js'),
      `\n;(() => {
        const fs = require('node:fs');
        const flag = (name) => require('node:path').join(process.env.DATA_DIR, name);
        const crash = () => { throw new Error('simulated runtime bug'); };
        if (fs.existsSync(flag('crash-at-start'))) setTimeout(crash, 300);
        setInterval(() => { if (fs.existsSync(flag('crash-now'))) { fs.rmSync(flag('crash-now')); crash(); } }, 50).unref();
      })();\n`,
    );
    return root;
  }

  it('restarts the server after a crash (an uncaught exception), and every token issued before still works', async () => {
    const dataDir = tempDir('addon-data-');
    const { addon, base } = await startWith(dataDir, validOptions, crashingApp());
    await waitForHealthy(base);
    const tokens = await linkAccount(base, { client: alexa, user: owner });

    const before = addon.servicePid();
    writeFileSync(path.join(dataDir, 'crash-now'), '');
    await serverRestarted(addon, before);
    expect(await waitForHealthy(base)).toMatchObject({ status: 'ok' });
    expect(await refreshOk(base, tokens.refresh_token, 'basic', alexa)).toMatchObject({ token_type: 'Bearer' });
    const log = addon.output();
    expect(log).toContain('simulated runtime bug');
    expect(log).toContain('[oauth-server] the server crashed (exit code 1, see the lines above); restarting it');
    expect(log).not.toContain('stopping the add-on');
  });

  it('stops the add-on after the 5th crash within 5 minutes instead of restarting it for ever', async () => {
    const dataDir = tempDir('addon-data-');
    writeFileSync(path.join(dataDir, 'crash-at-start'), '');
    const { addon } = await startWith(dataDir, validOptions, crashingApp());
    expect(await exitWithin(addon, 60_000)).toEqual({ exitCode: 1 });
    const log = addon.output();
    expect(log.split('see the lines above); restarting it')).toHaveLength(5); // four restarts
    expect(log).toContain(
      '[oauth-server] the server crashed 5 times within 300 s (exit code 1); stopping the add-on instead of restarting it again',
    );
  });

  it('stops cleanly like `docker stop`: SIGTERM to the server, exit code 0, no restart', async () => {
    const { addon, base } = await startWith(tempDir('addon-data-'), validOptions);
    await waitForHealthy(base);
    const pid = addon.servicePid()!;
    expect(await addon.stop()).toEqual({ exitCode: 0 });
    expect(() => process.kill(pid, 0)).toThrow(); // the server process is gone
  });

  it('restores a hot backup taken with backup_pre/backup_post to a working link, even after Alexa refreshed since', async () => {
    const live = tempDir('addon-live-');
    const { addon, base } = await startWith(live, validOptions);
    await waitForHealthy(base);
    const tokens = await linkAccount(base, { client: alexa, user: owner });

    // What the Supervisor does for a hot backup: backup_pre inside the running add-on, tar /data without the
    // backup_exclude patterns, backup_post.
    const helper = (command: string, dataDir: string) => {
      const [bin = '', ...args] = command.split(' ');
      const run = spawnSync(path.join(REPO_ROOT, 'rootfs', bin), args, { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' });
      expect({ command, status: run.status, stderr: run.stderr }).toEqual({ command, status: 0, stderr: '' });
    };
    helper(manifest.backup_pre as string, live);
    const backup = tempDir('addon-backup-');
    const excluded = manifest.backup_exclude as string[];
    cpSync(live, backup, { recursive: true, filter: (src) => !excluded.includes(path.basename(src)) });
    helper(manifest.backup_post as string, live);
    expect(readdirSync(live)).not.toContain('snapshot');
    expect(readdirSync(path.join(backup, 'snapshot'))).toEqual(['oauth.sqlite']);
    // Alexa goes on refreshing after the backup: the token it holds at the restore is one the backup never saw.
    let held = tokens;
    for (let i = 0; i < 3; i++) held = await refreshOk(base, held.refresh_token, 'basic', alexa);
    await addon.stop();

    // Restore: a fresh /data from the backup, then the add-on starts on it.
    const { addon: restored, base: restoredBase } = await startWith(backup, validOptions);
    await waitForHealthy(restoredBase);
    expect(restored.output()).toContain('[oauth-backup] data restored from a backup: putting the database snapshot in place');
    expect(readdirSync(backup)).not.toContain('snapshot');
    const next = await refreshOk(restoredBase, held.refresh_token, 'basic', alexa);
    expect(await refreshOk(restoredBase, next.refresh_token, 'basic', alexa)).toMatchObject({ token_type: 'Bearer' });
    expect(await refreshOk(restoredBase, tokens.refresh_token, 'basic', alexa)).toMatchObject({ token_type: 'Bearer' });
  });
});
