import { existsSync } from 'node:fs';
import path from 'node:path';

/** DATA_DIR, else /data when it exists (inside the add-on), else ./data. */
export function resolveDataDir(env: NodeJS.ProcessEnv): string {
  if (env.DATA_DIR) return path.resolve(env.DATA_DIR);
  return existsSync('/data') ? '/data' : path.resolve('data');
}
