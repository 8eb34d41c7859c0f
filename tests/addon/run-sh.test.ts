/**
 * runShNodeFlags reads node's options from run.sh's exec line: what the bench and the production-install test start
 * the server with. A run.sh it cannot read must stop them with the reason, never run them with no options.
 */
import { expect } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runShNodeFlags } from '../../addon/run-sh';

const dir = mkdtempSync(path.join(os.tmpdir(), 'maoauth-run-sh-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runSh(body: string): string {
  const file = path.join(dir, `run-${Math.random().toString(36).slice(2)}.sh`);
  writeFileSync(file, `#!/bin/sh\nset -eu\napp_dir="/app"\n${body}\n`);
  return file;
}

describe('runShNodeFlags', () => {
  it('returns the options in their order, with and without values', () => {
    expect(runShNodeFlags(runSh('exec node --max-semi-space-size=2 --no-opt --v8-pool-size=1 "${app_dir}/dist/main.js"'))).toEqual([
      '--max-semi-space-size=2',
      '--no-opt',
      '--v8-pool-size=1',
    ]);
  });

  it('accepts V8 spellings with underscores', () => {
    expect(runShNodeFlags(runSh('exec node --max_semi_space_size=2 "${app_dir}/dist/main.js"'))).toEqual(['--max_semi_space_size=2']);
  });

  it('returns no options for a bare exec line', () => {
    expect(runShNodeFlags(runSh('exec node "${app_dir}/dist/main.js"'))).toEqual([]);
  });

  it('ignores a commented-out line and reads the real one', () => {
    expect(runShNodeFlags(runSh('# exec node --old "${app_dir}/dist/main.js"\nexec node --new "${app_dir}/dist/main.js"'))).toEqual([
      '--new',
    ]);
  });

  it.each([
    ['no exec line', 'node "${app_dir}/dist/main.js"'],
    ['another entry point', 'exec node --v8-pool-size=1 "${app_dir}/dist/cli.js"'],
    ['an option that is not a flag', 'exec node -r ./x.js "${app_dir}/dist/main.js"'],
    ['an unquoted path', 'exec node --v8-pool-size=1 ${app_dir}/dist/main.js'],
  ])('throws, naming run.sh and the line it looks for, on %s', (_what, body) => {
    const file = runSh(body);
    expect(() => runShNodeFlags(file)).toThrow(`${file} has no line 'exec node [--option ...] "\${app_dir}/dist/main.js"'`);
  });
});
