/**
 * The image as far as it can be checked without a Docker engine: the Dockerfile against the April 2026 builder
 * migration (every stage FROM the multi-arch ghcr.io/home-assistant/base at a supported tag, labels in the
 * Dockerfile, no build.yaml), against what it must not ship (a compiler, dev dependencies, a native module's
 * toolchain), and against the repository (every COPY source exists and reaches the build context, the HEALTHCHECK
 * hits /health on the add-on's port, the labels say what config.yaml says); the workflows that build, publish and
 * lint it; and the s6 scripts: shellcheck-clean, executable, and doing what finish promises for each way the
 * server can end. tests/addon/production-install.test.ts makes the image's production install and runs it.
 */
import { expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadManifest, loadYaml, REPO_ROOT } from '../../addon/manifest';
import { runShNodeFlags } from '../../addon/run-sh';
import { defined } from '../helpers/defined';
import { text } from '../../src/log/text';

interface Instruction {
  cmd: string;
  args: string;
}

/** Dockerfile instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  return logical.map((l) => {
    const [cmd = '', ...rest] = l.split(/\s+/);
    return { cmd: cmd.toUpperCase(), args: rest.join(' ').replace(/\s+/g, ' ').trim() };
  });
}

interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function stagesOf(instructions: Instruction[]): Stage[] {
  const stages: Stage[] = [];
  for (const i of instructions) {
    if (i.cmd === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
      if (!m?.[1]) throw new Error(`cannot read FROM ${i.args}`);
      stages.push({ from: m[1], name: m[2], instructions: [] });
    } else {
      stages.at(-1)?.instructions.push(i);
    }
  }
  return stages;
}

/** key="value" pairs of LABEL instructions (the form the Dockerfile uses). */
function labelsOf(instructions: Instruction[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const i of instructions.filter((x) => x.cmd === 'LABEL')) {
    for (const [, key = '', value = ''] of i.args.matchAll(/([\w.-]+)="((?:[^"\\]|\\.)*)"/g)) labels[key] = value;
  }
  return labels;
}

/** ARG defaults (ARG NAME=value). */
function argDefaults(instructions: Instruction[]): Record<string, string | undefined> {
  const args: Record<string, string | undefined> = {};
  for (const i of instructions.filter((x) => x.cmd === 'ARG')) {
    const [name = '', ...value] = i.args.split('=');
    args[name] = value.length > 0 ? value.join('=').replace(/^"|"$/g, '') : undefined;
  }
  return args;
}

/** The packages of every `apk add` in a RUN, without their version constraints. */
function apkPackages(run: string): Array<{ name: string; constraint: string }> {
  const packages: Array<{ name: string; constraint: string }> = [];
  for (const [, words = ''] of run.matchAll(/apk add((?:\s+[^&|;]+)*)/g)) {
    for (const word of words.trim().split(/\s+/)) {
      if (word.startsWith('-')) continue;
      const [, name, constraint] = /^([a-z0-9+._-]+?)((?:[<>=~]+).*)?$/.exec(word) ?? [];
      packages.push({ name: name ?? word, constraint: constraint ?? '' });
    }
  }
  return packages;
}

/** .dockerignore (Go filepath.Match per path segment; a match also covers what is below; the last matching line wins, `!` lets back in). */
function dockerIgnored(patterns: string[], file: string): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      `^${p
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '[^/]*')
        .replace(/\?/g, '[^/]')}(?:/.*)?$`,
    );
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = (negated ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
    if (toRegex(pattern).test(file)) ignored = !negated;
  }
  return ignored;
}

const manifest = loadManifest();
const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { license: string; engines: { node: string } };
const port = Number(Object.keys(manifest.ports ?? {})[0]?.split('/')[0]);
const dockerfile = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const stages = stagesOf(dockerfile);
const runtime = defined(stages.at(-1), 'a stage in the Dockerfile');
const stageNamed = (name: string) => stages.find((s) => s.name === name);
const runsOf = (stage: Stage) => stage.instructions.filter((i) => i.cmd === 'RUN').map((i) => i.args);
const ignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const S6 = path.join(REPO_ROOT, 'rootfs', 'etc', 's6-overlay', 's6-rc.d');
const SCRIPTS = {
  'run.sh': path.join(REPO_ROOT, 'run.sh'),
  run: path.join(S6, 'oauth-server', 'run'),
  finish: path.join(S6, 'oauth-server', 'finish'),
  'oauth-backup': path.join(REPO_ROOT, 'rootfs', 'usr', 'local', 'bin', 'oauth-backup'),
  'oauth-admin': path.join(REPO_ROOT, 'rootfs', 'usr', 'local', 'bin', 'oauth-admin'),
};

/**
 * The tags ghcr.io/home-assistant/base is published and maintained for (home-assistant/docker-base builds Alpine
 * 3.22, 3.23 and 3.24). Before adding one, check that its Alpine `nodejs` package is still Node.js 24.
 */
const SUPPORTED_BASE_TAGS = ['3.22', '3.23', '3.24'];
/** Compilers, build tools and headers: none may be installed in any stage (the server has no native module). */
const BUILD_TOOLS = [
  'alpine-sdk',
  'autoconf',
  'automake',
  'build-base',
  'clang',
  'cmake',
  'g++',
  'gcc',
  'libc-dev',
  'make',
  'musl-dev',
  'node-gyp',
  'nodejs-dev',
  'py3-pip',
  'python3',
  'sqlite-dev',
];

describe('Dockerfile', () => {
  it('starts every stage FROM the multi-arch Home Assistant base at one supported tag, with no build.yaml', () => {
    const external = stages.filter((s) => !stages.some((other) => other.name === s.from));
    expect(external.length).toBe(stages.length); // no stage builds on another: each starts clean
    const froms = new Set(external.map((s) => s.from));
    expect(froms.size).toBe(1);
    const [from] = froms;
    // A literal reference (no ${BUILD_FROM}) so Dependabot can propose base updates; one name for every arch.
    const tag = /^ghcr\.io\/home-assistant\/base:(\S+)$/.exec(from ?? '')?.[1];
    expect({ from, supported: tag !== undefined && SUPPORTED_BASE_TAGS.includes(tag) }).toEqual({ from, supported: true });
    expect(dockerfile.filter((i) => i.cmd === 'ARG' && i.args.startsWith('BUILD_FROM'))).toEqual([]);
    // build.yaml is deprecated: the Supervisor still reads it (and would pass its BUILD_FROM), the builder actions don't.
    for (const file of ['build.yaml', 'build.yml', 'build.json']) {
      expect({ file, exists: existsSync(path.join(REPO_ROOT, file)) }).toEqual({ file, exists: false });
    }
  });

  it('installs Node.js 24 from apk and no compiler or build tool in any stage', () => {
    expect(pkg.engines.node).toBe('>=24');
    for (const stage of stages) {
      const packages = runsOf(stage).flatMap(apkPackages);
      const where = stage.name ?? 'runtime';
      expect({ where, nodejs: packages.filter((p) => p.name === 'nodejs') }).toEqual({
        where,
        nodejs: [{ name: 'nodejs', constraint: '~24' }],
      });
      expect({ where, buildTools: packages.filter((p) => BUILD_TOOLS.includes(p.name)).map((p) => p.name) }).toEqual({
        where,
        buildTools: [],
      });
      expect({ where, packages: packages.map((p) => p.name).filter((n) => !['nodejs', 'npm'].includes(n)) }).toEqual({
        where,
        packages: [],
      });
    }
    const env = dockerfile
      .filter((i) => i.cmd === 'ENV')
      .map((i) => i.args)
      .join(' ');
    expect(env).not.toMatch(/npm_config_(build_from_source|nodedir)/);
    for (const run of dockerfile.filter((i) => i.cmd === 'RUN').map((i) => i.args)) {
      expect(run).not.toMatch(/\b(curl|wget|git clone|node-gyp|npm install|npm i|npm rebuild)\b/);
    }
  });

  it('installs production dependencies with npm ci --omit=dev on the committed lock, and compiles in a stage of its own', () => {
    const deps = stageNamed('deps')!;
    const build = stageNamed('build')!;
    expect(deps).toBeDefined();
    expect(build).toBeDefined();
    const copiesBefore = (stage: Stage, run: RegExp) =>
      stage.instructions
        .slice(
          0,
          stage.instructions.findIndex((i) => i.cmd === 'RUN' && run.test(i.args)),
        )
        .filter((i) => i.cmd === 'COPY')
        .map((i) => i.args);
    expect(runsOf(deps)).toContain('npm ci --omit=dev --no-audit --no-fund');
    expect(copiesBefore(deps, /npm ci/)).toEqual(['package.json package-lock.json ./']);
    expect(runsOf(build)).toEqual(expect.arrayContaining([expect.stringMatching(/^npm ci --ignore-scripts\b/), 'npm run build']));
    expect(copiesBefore(build, /npm run build/)).toEqual([
      'package.json package-lock.json ./',
      'tsconfig.json tsconfig.build.json ./',
      'src ./src',
    ]);
    expect(build.instructions.find((i) => i.cmd === 'WORKDIR')?.args).toBe('/build');
    expect(deps.instructions.find((i) => i.cmd === 'WORKDIR')?.args).toBe('/app');
  });

  it('runs on Node.js from apk with dist, production node_modules and package.json only', () => {
    expect(runsOf(runtime)).toEqual(['apk add --no-cache nodejs~24']);
    expect(runtime.instructions.find((i) => i.cmd === 'WORKDIR')?.args).toBe('/app');
    expect(runtime.instructions.filter((i) => i.cmd === 'COPY').map((i) => i.args)).toEqual([
      'package.json ./',
      '--from=deps /app/node_modules ./node_modules',
      '--from=build /build/dist ./dist',
      'rootfs /',
      'run.sh /run.sh',
    ]);
    expect(runtime.instructions.filter((i) => i.cmd === 'ENV').map((i) => i.args)).toEqual(['NODE_ENV=production']);
    // The scripts' defaults point where the image puts things.
    expect(readFileSync(SCRIPTS.run, 'utf8')).toContain('exec "${ADDON_RUN_SH:-/run.sh}"');
    const runSh = readFileSync(SCRIPTS['run.sh'], 'utf8');
    expect(runSh).toContain('app_dir="${ADDON_APP_DIR:-/app}"');
    expect(runSh).toContain(`export PORT="\${PORT:-${port}}"`);
    expect(runShNodeFlags(SCRIPTS['run.sh'])).toEqual(['--max-semi-space-size=2', '--v8-pool-size=1', '--no-concurrent-recompilation']);
    expect(readFileSync(SCRIPTS['oauth-admin'], 'utf8')).toContain('"${ADDON_APP_DIR:-/app}/dist/cli/oauth-admin.js"');
    // The backup hook needs nothing but the image's node (no sqlite3 shell is installed).
    const backup = readFileSync(SCRIPTS['oauth-backup'], 'utf8');
    expect(backup).toContain('require("node:sqlite")');
    expect(backup).not.toMatch(/^\s*sqlite3\b/m);
  });

  it('copies only sources that exist and reach the build context', () => {
    const stageNames = stages.map((s) => s.name).filter(Boolean);
    const copies = dockerfile.filter((i) => i.cmd === 'COPY' || i.cmd === 'ADD');
    expect(dockerfile.filter((i) => i.cmd === 'ADD')).toEqual([]);
    expect(copies.length).toBeGreaterThan(5);
    for (const copy of copies) {
      const words = copy.args.split(' ');
      const from = words.find((w) => w.startsWith('--from='));
      const sources = words.filter((w) => !w.startsWith('--')).slice(0, -1);
      if (from) {
        expect(stageNames).toContain(from.slice('--from='.length));
        continue;
      }
      for (const source of sources) {
        expect({ source, exists: existsSync(path.join(REPO_ROOT, source)) }).toEqual({ source, exists: true });
        expect({ source, ignored: dockerIgnored(ignore, source) }).toEqual({ source, ignored: false });
      }
    }
    // ...and nothing else does: the context is an allowlist.
    for (const other of ['tests', 'node_modules', 'dist', 'data', '.git', 'README.md', 'config.yaml', 'bench']) {
      expect({ other, ignored: dockerIgnored(ignore, other) }).toEqual({ other, ignored: true });
    }
  });

  it('checks /health on the add-on port with curl, probing often while it starts (--start-interval)', () => {
    expect(port).toBe(8096);
    const health = dockerfile.filter((i) => i.cmd === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    const { args } = defined(health[0], 'a HEALTHCHECK');
    expect(runtime.instructions).toContain(health[0]);
    const options = args.slice(0, args.indexOf(' CMD '));
    expect(options).toMatch(/--start-interval=\d+s\b/);
    expect(options).toMatch(/--start-period=\d+s\b/);
    expect(options).toMatch(/--interval=\d+s\b/);
    // The base image installs curl (home-assistant/docker-base alpine/Dockerfile), so the check needs nothing more.
    expect(args).toMatch(new RegExp(`CMD curl .*--fail\\b.*http://127\\.0\\.0\\.1:${port}/health\\b`));
    expect(args).toMatch(/--max-time \d+/);
  });

  it('carries the io.hass and OCI labels, in step with config.yaml and package.json', () => {
    const labels = labelsOf(runtime.instructions);
    const args = argDefaults(runtime.instructions);
    expect(labels).toEqual({
      'io.hass.type': 'app',
      'io.hass.name': manifest.name,
      'io.hass.description': manifest.description,
      'io.hass.url': manifest.url,
      'io.hass.arch': '${BUILD_ARCH}',
      'io.hass.version': '${BUILD_VERSION}',
      'org.opencontainers.image.title': manifest.name,
      'org.opencontainers.image.description': manifest.description,
      'org.opencontainers.image.version': '${BUILD_VERSION}',
      'org.opencontainers.image.source': manifest.url,
      'org.opencontainers.image.licenses': pkg.license,
    });
    // The builder actions and the Supervisor pass BUILD_ARCH and BUILD_VERSION; a plain `docker build` gets the
    // version config.yaml declares, which is what the Supervisor reads back from io.hass.version.
    expect(args).toEqual({ BUILD_ARCH: undefined, BUILD_VERSION: manifest.version });
  });
});

interface Workflow {
  on: Record<string, { branches?: string[]; paths?: string[] } | null>;
  permissions?: Record<string, string>;
  jobs: Record<
    string,
    { if?: string; steps?: Array<{ name?: string; id?: string; uses?: string; run?: string; with?: Record<string, unknown> }> }
  >;
}

const WORKFLOWS = path.join(REPO_ROOT, '.github', 'workflows');
const workflow = (file: string) => loadYaml<Workflow>(path.join(WORKFLOWS, file));
const steps = (w: Workflow) => Object.values(w.jobs).flatMap((j) => j.steps ?? []);
const uses = (w: Workflow, action: string) => steps(w).filter((s) => s.uses?.split('@')[0] === action);
/** Go filepath.Match-style glob (the workflow's shell globs and paths filters) to a regular expression. */
const glob = (pattern: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .split('**')
      .map((part) => part.replace(/\*/g, '[^/]*'))
      .join('.*')}$`,
  );

describe('GitHub workflows', () => {
  const build = workflow('build.yaml');
  const lint = workflow('lint.yaml');
  const owner = new URL(String(manifest.url)).pathname.split('/').slice(1, 3).join('/');

  it("builds and publishes with home-assistant/builder's composite actions, one release of them", () => {
    const actions = ['prepare-multi-arch-matrix', 'build-image', 'publish-multi-arch-manifest'].map(
      (a) => `home-assistant/builder/actions/${a}`,
    );
    const refs = actions.map((a) => {
      const found = uses(build, a);
      expect({ a, count: found.length }).toEqual({ a, count: 1 });
      return found[0]?.uses?.split('@')[1];
    });
    expect(new Set(refs).size).toBe(1);
    expect(refs[0]).toMatch(/^\d{4}\.\d{2}\.\d+$/);
    // The retired all-in-one builder action must not come back.
    expect(steps(build).filter((s) => s.uses?.startsWith('home-assistant/builder@'))).toEqual([]);
    const image = defined(uses(build, 'home-assistant/builder/actions/build-image')[0]?.with, "the build-image step's with:");
    expect(image.context).toBe('.');
    expect(String(image.labels)).toContain('io.hass.type=app');
  });

  it('takes the image name, version and arches from config.yaml, whose arches the builder can build', () => {
    const info = steps(build).find((s) => s.uses?.startsWith('home-assistant/actions/helpers/info@'));
    expect(info?.with?.path).toBe('.');
    expect(existsSync(path.join(REPO_ROOT, String(info?.with?.path), 'config.yaml'))).toBe(true);
    // prepare-multi-arch-matrix accepts amd64 and aarch64 only.
    expect(manifest.arch.filter((a) => !['amd64', 'aarch64'].includes(a))).toEqual([]);
    // Publishing is for the repository config.yaml's url and image name; forks and pull requests only build.
    const text = readFileSync(path.join(WORKFLOWS, 'build.yaml'), 'utf8');
    expect(text).toContain(`"${owner}"`);
    expect(manifest.image).toBe(`ghcr.io/${owner.split('/')[0]}/${manifest.slug}`);
  });

  it('rebuilds when anything the image is built from changes', () => {
    const sources = dockerfile
      .filter((i) => i.cmd === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(' ').slice(0, -1));
    for (const event of ['push', 'pull_request']) {
      const paths = build.on[event]?.paths ?? [];
      for (const file of [...new Set(sources)].concat(['Dockerfile', '.dockerignore', 'config.yaml', '.github/workflows/build.yaml'])) {
        const probe = statSync(path.join(REPO_ROOT, file)).isDirectory() ? `${file}/any-file` : file;
        expect({ event, file, covered: paths.some((p) => glob(p).test(probe)) }).toEqual({ event, file, covered: true });
      }
    }
  });

  it('lints with the add-on linter, hadolint and shellcheck, covering every script', () => {
    expect(uses(lint, 'frenck/action-addon-linter')[0]?.with?.path).toBe('.');
    expect(uses(lint, 'hadolint/hadolint-action')[0]?.with?.dockerfile).toBe('Dockerfile');
    const hadolintConfig = uses(lint, 'hadolint/hadolint-action')[0]?.with?.config;
    if (hadolintConfig) expect(existsSync(path.join(REPO_ROOT, text(hadolintConfig)))).toBe(true);
    const run =
      steps(lint)
        .map((s) => s.run ?? '')
        .find((r) => /^\s*shellcheck\s+--severity/m.test(r)) ?? '';
    const args = run
      .replace(/\\\n/g, ' ')
      .split(/\s+/)
      .filter((w) => w && !w.startsWith('-') && w !== 'shellcheck');
    for (const file of [...Object.values(SCRIPTS), path.join(REPO_ROOT, '.ci', 'run')]) {
      const rel = path.relative(REPO_ROOT, file);
      expect({ rel, linted: args.some((a) => glob(a).test(rel)) }).toEqual({ rel, linted: true });
    }
  });

  it('pins every action to a release or a commit, never a branch', () => {
    for (const file of readdirSync(WORKFLOWS)) {
      for (const step of steps(workflow(file)).filter((s) => s.uses)) {
        const ref = step.uses!.split('@')[1] ?? '';
        expect({ file, uses: step.uses, pinned: /^(v\d+(\.\d+)*|\d{4}\.\d{2}\.\d+|[0-9a-f]{40})$/.test(ref) }).toEqual({
          file,
          uses: step.uses,
          pinned: true,
        });
      }
    }
  });

  it('has Dependabot watch npm, the actions and the base image', () => {
    const dependabot = loadYaml<{ version: number; updates: Array<{ 'package-ecosystem': string; directory: string }> }>(
      path.join(REPO_ROOT, '.github', 'dependabot.yml'),
    );
    expect(dependabot.version).toBe(2);
    expect(dependabot.updates.map((u) => [u['package-ecosystem'], u.directory]).sort()).toEqual([
      ['docker', '/'],
      ['github-actions', '/'],
      ['npm', '/'],
    ]);
  });
});

describe('s6 service and scripts', () => {
  it('declares a longrun in the user bundle, after base', () => {
    expect(readFileSync(path.join(S6, 'oauth-server', 'type'), 'utf8').trim()).toBe('longrun');
    expect(existsSync(path.join(S6, 'oauth-server', 'dependencies.d', 'base'))).toBe(true);
    expect(existsSync(path.join(S6, 'user', 'contents.d', 'oauth-server'))).toBe(true);
  });

  it.each(Object.entries(SCRIPTS))('%s is executable and passes shellcheck', (_name, file) => {
    accessSync(file, constants.X_OK);
    const check = spawnSync('shellcheck', ['--shell=sh', '--severity=style', file], { encoding: 'utf8' });
    if (check.error) throw new Error(`shellcheck could not run (${check.error.message}): apt-get install shellcheck`);
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it("starts run and finish with s6-overlay's with-contenv", () => {
    for (const file of [SCRIPTS.run, SCRIPTS.finish]) {
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#!/command/with-contenv sh');
    }
  });
});

describe('finish, for each way the server can end', () => {
  /** Runs finish as s6-supervise would; reports the recorded container exit code and whether it halted. */
  function finish(args: string[], recorded = '0', earlierCrashes: number[] = []): { exitcode: string; halted: boolean; output: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'finish-'));
    try {
      writeFileSync(path.join(dir, 'exitcode'), `${recorded}\n`);
      const now = Math.floor(Date.now() / 1000);
      writeFileSync(path.join(dir, 'crashes'), earlierCrashes.map((ago) => `${now - ago}\n`).join(''));
      const halt = path.join(dir, 'halt');
      writeFileSync(halt, `#!/bin/sh\n: > ${JSON.stringify(path.join(dir, 'halted'))}\n`, { mode: 0o755 });
      const run = spawnSync('sh', [SCRIPTS.finish, ...args], {
        env: { PATH: process.env.PATH, ADDON_RESULTS_DIR: dir, ADDON_HALT: halt, ADDON_CRASH_LOG: path.join(dir, 'crashes') },
        encoding: 'utf8',
      });
      expect(run.status).toBe(0);
      return {
        exitcode: readFileSync(path.join(dir, 'exitcode'), 'utf8').trim(),
        halted: existsSync(path.join(dir, 'halted')),
        output: run.stdout,
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('lets s6 restart the server after a clean exit', () => {
    expect(finish(['0', '0'])).toMatchObject({ exitcode: '0', halted: false });
  });

  it('lets s6 restart the server after kill -9, recording 137', () => {
    expect(finish(['256', '9'])).toMatchObject({ exitcode: '137', halted: false });
  });

  it('halts on SIGTERM (the container is stopping), recording 143', () => {
    expect(finish(['256', '15'])).toMatchObject({ exitcode: '143', halted: true });
  });

  it('halts on an error exit such as invalid options, recording the code', () => {
    const result = finish(['78', '0']);
    expect(result).toMatchObject({ exitcode: '78', halted: true });
    expect(result.output).toContain('exited with code 78');
  });

  it('keeps the first recorded failure', () => {
    expect(finish(['78', '0'], '137')).toMatchObject({ exitcode: '137', halted: true });
  });

  it.each<[string, number[]]>([
    ['the first crash', []],
    ['the 5th crash, the others more than 5 minutes ago', [301, 400, 500, 600]],
    ['the 4th crash within 5 minutes', [10, 100, 290]],
  ])('lets s6 restart the server after %s (an uncaught error: exit code 1)', (_what, earlier) => {
    const result = finish(['1', '0'], '0', earlier);
    expect(result).toMatchObject({ exitcode: '0', halted: false });
    expect(result.output).toContain('the server crashed (exit code 1, see the lines above); restarting it');
  });

  it('halts on the 5th crash within 5 minutes, recording its code', () => {
    const result = finish(['1', '0'], '0', [10, 100, 200, 290, 1000]);
    expect(result).toMatchObject({ exitcode: '1', halted: true });
    expect(result.output).toContain('crashed 5 times within 300 s');
  });
});
