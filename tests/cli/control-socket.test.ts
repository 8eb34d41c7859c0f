/**
 * The control socket oauth-admin reaches the server by: private to the user, outside the data folder (which Home
 * Assistant backs up), taken over by a server restarted after kill -9, and never trusted when others could
 * have placed it.
 */
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { controlSocketPath } from '../../src/admin/control';
import { freePort, spawnServer, tempDataDir, testOptions, waitForOutput } from '../helpers/test-server';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli', 'oauth-admin.js');

function cli(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

it('lives in a private directory, not in the data folder; a server restarted after kill -9 takes it over', async () => {
  const dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions()));
  const first = await spawnServer(dataDir, undefined, { ADMIN_PORT: 'off' });
  try {
    const socket = controlSocketPath(dataDir);
    expect(lstatSync(socket).isSocket()).toBe(true);
    const dir = lstatSync(path.dirname(socket));
    expect(dir.mode & 0o777).toBe(0o700);
    expect(dir.uid).toBe(process.getuid!());
    // the data folder, which backups copy, holds plain files only
    for (const name of readdirSync(dataDir)) expect({ name, file: lstatSync(path.join(dataDir, name)).isFile() }).toEqual({ name, file: true });

    first.child.kill('SIGKILL');
    await first.exited;
    expect(lstatSync(socket).isSocket()).toBe(true); // left behind by the killed process

    const second = await spawnServer(dataDir, undefined, { ADMIN_PORT: 'off' });
    try {
      const r = await cli({ DATA_DIR: dataDir }, 'status', '--json');
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ running: true, pid: second.child.pid });
    } finally {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    }
  } finally {
    if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
  }
});

it('is not trusted in a directory other users can write to: the CLI refuses instead of acting', async () => {
  const dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions()));
  const tmp = mkdtempSync(path.join(tmpdir(), 'maoauth-tmpdir-'));
  mkdirSync(path.join(tmp, `maoauth-${process.getuid!()}`), { mode: 0o777 });
  const { chmodSync } = await import('node:fs');
  chmodSync(path.join(tmp, `maoauth-${process.getuid!()}`), 0o777); // mkdir's mode is filtered by the umask
  const r = await cli({ DATA_DIR: dataDir, TMPDIR: tmp }, 'revoke', '--all');
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("cannot trust the server's control socket");
  expect(r.stderr).toContain('can be used by other users (mode 777)');
});

it('a server that cannot make its socket private says so and keeps serving OAuth', async () => {
  const dataDir = tempDataDir();
  writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions()));
  const tmp = mkdtempSync(path.join(tmpdir(), 'maoauth-tmpdir-'));
  const dir = path.join(tmp, `maoauth-${process.getuid!()}`);
  mkdirSync(dir);
  const { chmodSync } = await import('node:fs');
  chmodSync(dir, 0o777);
  const proc = await spawnServer(dataDir, undefined, { ADMIN_PORT: String(await freePort()), TMPDIR: tmp });
  try {
    await waitForOutput(proc, 'oauth-admin cannot reach this server');
    expect(proc.output()).toMatch(/WARN +oauth-admin cannot reach this server: the control socket .* cannot be created \(Error: .*can be used by other users \(mode 777\)/);
    expect((await fetch(`${proc.url}/health`)).status).toBe(200);
  } finally {
    proc.child.kill('SIGTERM');
    await proc.exited;
  }
});
