/**
 * The image as far as it can be checked without a Docker engine: the Dockerfile's instructions against the
 * repository (every COPY source exists and reaches the build context, the HEALTHCHECK hits /health on the
 * add-on's port, the labels are there), build.yaml's pinned bases, and the s6 scripts: shellcheck-clean,
 * executable, and doing what finish promises for each way the server can end.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadManifest, loadYaml, REPO_ROOT } from '../../addon/manifest';

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
    const [cmd, ...rest] = l.split(/\s+/);
    return { cmd: cmd.toUpperCase(), args: rest.join(' ').replace(/\s+/g, ' ').trim() };
  });
}

/** .dockerignore patterns (Go filepath.Match, relative to the context root; a match also covers what is below). */
function dockerIgnored(patterns: string[], file: string): boolean {
  const toRegex = (p: string) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')}(?:/.*)?$`);
  return patterns.some((p) => toRegex(p.replace(/^\/+|\/+$/g, '')).test(file));
}

const manifest = loadManifest();
const port = Number(Object.keys(manifest.ports ?? {})[0]?.split('/')[0]);
const dockerfile = parseDockerfile(readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const ignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
const build = loadYaml<{ build_from: Record<string, string>; labels?: Record<string, string> }>(path.join(REPO_ROOT, 'build.yaml'));
const S6 = path.join(REPO_ROOT, 'rootfs', 'etc', 's6-overlay', 's6-rc.d');
const SCRIPTS = {
  'run.sh': path.join(REPO_ROOT, 'run.sh'),
  run: path.join(S6, 'oauth-server', 'run'),
  finish: path.join(S6, 'oauth-server', 'finish'),
  'oauth-backup': path.join(REPO_ROOT, 'rootfs', 'usr', 'local', 'bin', 'oauth-backup'),
};

describe('Dockerfile', () => {
  const stages = dockerfile.filter((i) => i.cmd === 'FROM');

  it('builds in two stages, both FROM the pinned Home Assistant base of build.yaml', () => {
    expect(stages.map((s) => s.args)).toEqual(['${BUILD_FROM} AS build', '${BUILD_FROM}']);
    const arg = dockerfile.find((i) => i.cmd === 'ARG' && i.args.startsWith('BUILD_FROM'));
    expect(arg?.args).toBe(`BUILD_FROM=${build.build_from.amd64}`);
    expect(Object.keys(build.build_from).sort()).toEqual([...manifest.arch].sort());
    for (const [arch, image] of Object.entries(build.build_from)) {
      expect(image).toMatch(new RegExp(`^ghcr\\.io/home-assistant/${arch}-base:\\d+\\.\\d+$`));
    }
  });

  it('compiles TypeScript and the native sqlite3 module in the build stage, from packages only', () => {
    const buildStage = dockerfile.slice(dockerfile.indexOf(stages[0]), dockerfile.indexOf(stages[1]));
    const runs = buildStage.filter((i) => i.cmd === 'RUN').map((i) => i.args).join('\n');
    expect(runs).toMatch(/apk add --no-cache .*\bnodejs\b.*\bnpm\b.*\bpython3\b.*\bmake\b.*\bg\+\+/);
    expect(runs).toContain('npm ci');
    expect(runs).toContain('npm run build');
    expect(runs).toContain('npm prune --omit=dev');
    const env = buildStage.filter((i) => i.cmd === 'ENV').map((i) => i.args).join(' ');
    expect(env).toContain('npm_config_build_from_source=true');
    for (const i of dockerfile.filter((x) => x.cmd === 'RUN')) {
      expect(i.args).not.toMatch(/\b(curl|wget|git clone)\b/);
    }
  });

  it('runs on Node.js from apk with production dependencies only, and the sqlite3 CLI for backups', () => {
    const runtime = dockerfile.slice(dockerfile.indexOf(stages[1]));
    expect(runtime.filter((i) => i.cmd === 'RUN').map((i) => i.args)).toEqual(['apk add --no-cache nodejs sqlite']);
    const copies = runtime.filter((i) => i.cmd === 'COPY').map((i) => i.args);
    expect(copies).toEqual(expect.arrayContaining([
      '--from=build /build/package.json ./package.json',
      '--from=build /build/node_modules ./node_modules',
      '--from=build /build/dist ./dist',
      'rootfs /',
      'run.sh /run.sh',
    ]));
    expect(runtime.find((i) => i.cmd === 'WORKDIR')?.args).toBe('/app');
    // The scripts' defaults point where the image puts things.
    expect(readFileSync(SCRIPTS.run, 'utf8')).toContain('exec "${ADDON_RUN_SH:-/run.sh}"');
    expect(readFileSync(SCRIPTS['run.sh'], 'utf8')).toContain('app_dir="${ADDON_APP_DIR:-/app}"');
    expect(readFileSync(SCRIPTS['run.sh'], 'utf8')).toContain(`export PORT="\${PORT:-${port}}"`);
  });

  it('copies only sources that exist and reach the build context', () => {
    const stageNames = stages.map((s) => / AS (\S+)$/i.exec(s.args)?.[1]).filter(Boolean);
    const copies = dockerfile.filter((i) => i.cmd === 'COPY' || i.cmd === 'ADD');
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
  });

  it('checks /health on the add-on port as its HEALTHCHECK', () => {
    expect(port).toBe(8096);
    const health = dockerfile.filter((i) => i.cmd === 'HEALTHCHECK');
    expect(health).toHaveLength(1);
    expect(health[0].args).toMatch(new RegExp(`CMD .*http://127\\.0\\.0\\.1:${port}/health\\b`));
    expect(health[0].args).toMatch(/--fail/);
  });

  it('carries the io.hass and OCI labels', () => {
    const labels = dockerfile.filter((i) => i.cmd === 'LABEL').map((i) => i.args).join(' ');
    for (const label of [
      'io.hass.name', 'io.hass.description', 'io.hass.arch', 'io.hass.version',
      'org.opencontainers.image.title', 'org.opencontainers.image.description', 'org.opencontainers.image.version',
      'org.opencontainers.image.source', 'org.opencontainers.image.licenses',
    ]) {
      expect(labels).toMatch(new RegExp(`${label.replace(/\./g, '\\.')}="[^"]+"`));
    }
    expect(labels).toContain('io.hass.type="addon"');
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

  it('starts run and finish with s6-overlay\'s with-contenv', () => {
    for (const file of [SCRIPTS.run, SCRIPTS.finish]) {
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#!/command/with-contenv sh');
    }
  });
});

describe('finish, for each way the server can end', () => {
  /** Runs finish as s6-supervise would; reports the recorded container exit code and whether it halted. */
  function finish(args: string[], recorded = '0'): { exitcode: string; halted: boolean; output: string } {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'finish-'));
    try {
      writeFileSync(path.join(dir, 'exitcode'), `${recorded}\n`);
      const halt = path.join(dir, 'halt');
      writeFileSync(halt, `#!/bin/sh\n: > ${JSON.stringify(path.join(dir, 'halted'))}\n`, { mode: 0o755 });
      const run = spawnSync('sh', [SCRIPTS.finish, ...args], {
        env: { PATH: process.env.PATH, ADDON_RESULTS_DIR: dir, ADDON_HALT: halt },
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
    expect(finish(['1', '0'], '137')).toMatchObject({ exitcode: '137', halted: true });
  });
});
