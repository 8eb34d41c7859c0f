/** The release, read from package.json beside dist/ (one place for the server, the CLI and the admin page). */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
})();
