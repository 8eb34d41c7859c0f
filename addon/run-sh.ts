/**
 * The node options run.sh starts the add-on with, read from run.sh itself: the bench, the peer bench and the
 * production-install test start the server the way the image does, and none of them keeps a copy that could drift.
 */
import { readFileSync } from 'node:fs';

/** run.sh's last line: `exec node <options> "${app_dir}/dist/main.js"`. */
const EXEC_LINE = /^exec node((?: --[a-z0-9_-]+(?:=[^\s"]+)?)*) "\$\{app_dir\}\/dist\/main\.js"$/m;

export function runShNodeFlags(runSh: string): string[] {
  const line = EXEC_LINE.exec(readFileSync(runSh, 'utf8'));
  if (!line) throw new Error(`${runSh} has no line 'exec node [--option ...] "\${app_dir}/dist/main.js"' to read node's options from`);
  return (line[1] ?? '').split(' ').filter(Boolean);
}
