/**
 * The image's production install, made here without Docker: a clean folder holding only what the Dockerfile
 * installs from and copies into the runtime stage (package.json, package-lock.json, the compiled dist/), then
 * `npm ci --omit=dev` as the Dockerfile's deps stage runs it, with install scripts allowed so that any dependency
 * needing one would show. It must install exactly the lock's production packages, with no native addon and no
 * install script, and `node dist/main.js` from that folder, on Node.js 24 like the image's, must link an Alexa
 * account end to end over HTTP: authorize, log in, approve, exchange the code, refresh, introspect.
 * tests/addon/image.test.ts checks that the Dockerfile does what this test does.
 */
import { expect } from '@jest/globals';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../addon/manifest';
import { runShNodeFlags } from '../../addon/run-sh';
import { introspectAsResourceServer, linkAccount, refresh, TokenBody } from '../helpers/alexa-client';
import { killServer, testOptions } from '../helpers/test-server';
import { eventually } from '../helpers/wait';
import { waitForHealthy } from './helpers';

jest.setTimeout(120_000);

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; engines: { node: string } };
const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean; hasInstallScript?: boolean }>;
};
/** What the Dockerfile's deps stage installs from and its runtime stage copies, besides node_modules. */
const SHIPPED = ['package.json', 'package-lock.json', 'dist'];
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

const dirs: string[] = [];
let app: string;
let server: { child: ChildProcess; base: string; admin: string; output: () => string; exited: Promise<number | null> } | undefined;

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** The environment of a child npm or node: this Node.js first on PATH, nothing of the npm or jest running us. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) && !/^npm_config_(cache|registry|userconfig)$/i.test(key)) continue;
    if (['NODE_OPTIONS', 'NODE_ENV', 'JEST_WORKER_ID'].includes(key)) continue;
    env[key] = value;
  }
  env.PATH = [path.dirname(process.execPath), process.env.PATH].join(path.delimiter);
  return { ...env, ...extra };
}

/** Every installed package folder, as the lock names it (node_modules/a, node_modules/a/node_modules/b). */
function installedPackages(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.name.startsWith('@')) {
        walk(full);
      } else if (existsSync(path.join(full, 'package.json'))) {
        found.push(path.relative(root, full).split(path.sep).join('/'));
        walk(path.join(full, 'node_modules'));
      }
    }
  };
  walk(path.join(root, 'node_modules'));
  return found.sort();
}

/** Files anywhere under dir whose name matches. */
function filesNamed(dir: string, match: (name: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (match(entry.name)) found.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return found;
}

beforeAll(() => {
  // The image runs Alpine's Node.js 24: the same major must run this install and the server.
  const major = Number(process.versions.node.split('.')[0]);
  expect({ node: process.versions.node, atLeast24: major >= 24 }).toEqual({ node: process.versions.node, atLeast24: true });
  expect(pkg.engines.node).toBe('>=24');
  if (!existsSync(path.join(REPO_ROOT, 'dist', 'main.js'))) {
    throw new Error(`${path.join(REPO_ROOT, 'dist', 'main.js')} does not exist: run \`npm run build\` first (npm test does)`);
  }
  app = tempDir('maoauth-prod-app-');
  for (const entry of SHIPPED) cpSync(path.join(REPO_ROOT, entry), path.join(app, entry), { recursive: true });
});

afterAll(async () => {
  await killServer(server);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('the production install the image makes', () => {
  let installOutput = '';

  it('installs with npm ci --omit=dev on the committed lock, running no install script', () => {
    expect(readdirSync(app).sort()).toEqual([...SHIPPED].sort());
    const npm = spawnSync(
      'npm',
      ['ci', '--omit=dev', '--ignore-scripts=false', '--foreground-scripts', '--prefer-offline', '--no-audit', '--no-fund'],
      {
        cwd: app,
        env: cleanEnv(),
        encoding: 'utf8',
        timeout: 100_000,
      },
    );
    installOutput = `${npm.stdout}\n${npm.stderr}`;
    if (npm.error) throw new Error(`npm could not run: ${npm.error.message}`);
    expect({ status: npm.status, output: npm.status === 0 ? '' : installOutput }).toEqual({ status: 0, output: '' });
    // With --foreground-scripts npm prints a "> name@version install" banner for every lifecycle script it runs.
    expect(installOutput).not.toMatch(new RegExp(`^> \\S+ (${INSTALL_SCRIPTS.join('|')}|prepare)$`, 'm'));
  });

  it("holds exactly the lock's production packages, none of which has an install script", () => {
    const production = Object.entries(lock.packages)
      .filter(([key, entry]) => key !== '' && !entry.dev && !entry.devOptional)
      .map(([key]) => key)
      .sort();
    expect(production.length).toBeGreaterThan(20);
    expect(installedPackages(app)).toEqual(production);
    for (const dev of ['typescript', 'jest', 'ts-jest', 'supertest', '@types/node']) {
      expect({ dev, installed: existsSync(path.join(app, 'node_modules', dev)) }).toEqual({ dev, installed: false });
    }
    expect(production.filter((key) => lock.packages[key]?.hasInstallScript)).toEqual([]);
    const withScripts = installedPackages(app).filter((key) => {
      const manifest = JSON.parse(readFileSync(path.join(app, key, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
      return INSTALL_SCRIPTS.some((script) => manifest.scripts?.[script]);
    });
    expect(withScripts).toEqual([]);
  });

  it('has no native addon: no compiled *.node file and no binding.gyp for node-gyp to build', () => {
    expect(filesNamed(path.join(app, 'node_modules'), (name) => name.endsWith('.node') || name === 'binding.gyp')).toEqual([]);
  });

  it('serves from that folder: /health answers with the shipped version', async () => {
    const dataDir = tempDir('maoauth-prod-data-');
    writeFileSync(path.join(dataDir, 'options.json'), JSON.stringify(testOptions({ log_level: 'info' })));
    // run.sh's command line, from the app folder the image uses as WORKDIR, with the image's NODE_ENV; both
    // listeners on port 0, their ports read from the lines the server logs at info level once it listens.
    const child = spawn(process.execPath, [...runShNodeFlags(path.join(REPO_ROOT, 'run.sh')), path.join(app, 'dist', 'main.js')], {
      cwd: app,
      env: cleanEnv({
        DATA_DIR: dataDir,
        PORT: '0',
        HOST: '127.0.0.1',
        ADMIN_PORT: '0',
        ADMIN_HOST: '127.0.0.1',
        NODE_ENV: 'production',
      }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    server = { child, base: '', admin: '', output: () => output, exited };

    // Listening and healthy within 30 s, or the reason: a server that exits (a missing module, say) ends the wait at once.
    let body: Record<string, unknown>;
    try {
      const listening = await eventually(
        'the server to log where it listens',
        () => {
          if (child.exitCode !== null) return 'exited';
          const base = /INFO\s+listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
          const admin = /INFO\s+admin page on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
          return base && admin ? { base, admin } : undefined;
        },
        30_000,
        50,
      );
      if (listening === 'exited') throw new Error(`the server exited with code ${child.exitCode} before it listened`);
      Object.assign(server, listening);
      const died = exited.then((code) => {
        throw new Error(`the server exited with code ${code} before /health answered`);
      });
      died.catch(() => undefined); // the server exits later, on purpose, in the last test
      body = await Promise.race([waitForHealthy(server.base, 30_000), died]);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nserver output:\n${output}`, { cause: err });
    }
    expect(body).toMatchObject({ version: pkg.version });
    // The admin page is compiled into dist/ too, and answers on its own port.
    const admin = await fetch(`${server.admin}/`);
    expect(admin.status).toBe(200);
  });

  it('links an Alexa account end to end: authorize, log in, approve, code, token, refresh, introspect', async () => {
    if (!server) throw new Error('the server did not start (see the test above)');
    const base = server.base;
    try {
      const tokens: TokenBody = await linkAccount(base, 'basic');
      expect(tokens).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        access_token: expect.any(String),
        refresh_token: expect.any(String),
      });

      const refreshed = await refresh(base, tokens.refresh_token, 'body');
      expect(refreshed.status).toBe(200);
      const next = (await refreshed.json()) as TokenBody;
      expect(next).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
      expect(next.access_token).not.toBe(tokens.access_token);

      const introspection = await introspectAsResourceServer(base, next.access_token);
      expect(introspection.status).toBe(200);
      expect(await introspection.json()).toMatchObject({ active: true, client_id: 'amazon-alexa' });
    } catch (err) {
      throw new Error(`${(err as Error).message}\nserver output:\n${server.output()}`, { cause: err });
    }
  });

  it('stops cleanly on SIGTERM, as `docker stop` and s6 stop it', async () => {
    if (!server) throw new Error('the server did not start (see the test above)');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve('still running 15 s after SIGTERM'), 15_000);
    });
    server.child.kill('SIGTERM');
    const code = await Promise.race([server.exited, timeout]);
    clearTimeout(timer);
    expect({ code, output: code === 0 ? '' : server.output() }).toEqual({ code: 0, output: '' });
  });
});
