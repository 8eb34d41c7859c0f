/**
 * dist/main.js is one file: `npm run build` bundles the compiled server and its dependencies with esbuild, so a
 * start reads and compiles one file instead of resolving and loading some 300 modules (docs/benchmark.md: start to
 * healthy about 100 ms sooner). Run from a folder holding only that file and package.json, with a preload that
 * refuses to load anything but Node's built-in modules, it must still serve everything a link needs.
 */
import { expect } from '@jest/globals';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../../addon/manifest';
import { introspectAsResourceServer, linkAccount, refresh, TokenBody } from '../helpers/alexa-client';
import { listeningPorts } from '../helpers/listening-ports';
import { ServerProcess, killServer, spawnServer, testOptions } from '../helpers/test-server';

jest.setTimeout(60_000);

/** Loaded before the server: any module that is not built into Node.js ends the process with its name. */
const ONLY_BUILTINS = `
const Module = require('node:module');
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if (!isMain && !Module.isBuiltin(request)) throw new Error('the bundle loaded a module from outside: ' + request);
  return load.apply(this, arguments);
};
`;

let folder: string;
let server: ServerProcess | undefined;

beforeAll(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'maoauth-bundle-'));
  mkdirSync(path.join(folder, 'app', 'dist'), { recursive: true });
  mkdirSync(path.join(folder, 'data'));
  cpSync(path.join(REPO_ROOT, 'package.json'), path.join(folder, 'app', 'package.json'));
  cpSync(path.join(REPO_ROOT, 'dist', 'main.js'), path.join(folder, 'app', 'dist', 'main.js'));
  writeFileSync(path.join(folder, 'only-builtins.js'), ONLY_BUILTINS);
});

afterAll(async () => {
  await killServer(server);
  rmSync(folder, { recursive: true, force: true });
});

describe('dist/main.js, the bundled server', () => {
  it('is ASCII only, so V8 keeps its source as one byte per character', () => {
    // Any other character makes Node decode the 1.6 MB file on its slow path, and one above U+00FF makes the
    // whole source a two-byte string for as long as the server runs (1.6 MB more). esbuild escapes them in strings
    // and plain templates, not in tagged ones (html`...`, t`...`): write an HTML entity there, or a string value.
    const source = readFileSync(path.join(REPO_ROOT, 'dist', 'main.js'), 'latin1');
    const found = [...source.matchAll(/[\x80-\xff]+/g)].slice(0, 5).map((m) => source.slice(Math.max(0, m.index - 60), m.index + 20));
    expect(found).toEqual([]);
    // tsc's map was for the file the bundle replaced: kept beside it, it would point debuggers at the wrong code.
    expect(existsSync(path.join(REPO_ROOT, 'dist', 'main.js.map'))).toBe(false);
  });

  it('needs no module besides the ones built into Node.js: it links, refreshes, introspects and shows the admin page', async () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    server = await spawnServer(
      path.join(folder, 'data'),
      testOptions({ log_level: 'debug' }),
      { ADMIN_PORT: '0', ADMIN_HOST: '127.0.0.1', NODE_ENV: 'production' },
      { main: path.join(folder, 'app', 'dist', 'main.js'), nodeArgs: ['--require', path.join(folder, 'only-builtins.js')] },
    );
    const running = server;
    try {
      const health = await fetch(`${running.url}/health`);
      // The version comes from the package.json beside dist/, as in the image.
      expect(await health.json()).toMatchObject({ version: pkg.version });

      const tokens: TokenBody = await linkAccount(running.url, 'basic');
      const refreshed = await refresh(running.url, tokens.refresh_token, 'body');
      expect(refreshed.status).toBe(200);
      const next = (await refreshed.json()) as TokenBody;
      const introspection = await introspectAsResourceServer(running.url, next.access_token);
      expect(await introspection.json()).toMatchObject({ active: true, client_id: 'amazon-alexa' });

      const adminPort = listeningPorts(running.child.pid!).find((port) => port !== running.port);
      const admin = await fetch(`http://127.0.0.1:${adminPort}/`);
      expect(admin.status).toBe(200);
      expect(await admin.text()).toContain('amazon-alexa');
    } catch (err) {
      throw new Error(`${(err as Error).message}\nserver output:\n${running.output()}`, { cause: err });
    }
    expect(running.output()).not.toContain('loaded a module from outside');
  });
});
