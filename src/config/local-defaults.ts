/**
 * Outside Home Assistant nobody writes options.json, so the first `npm start` writes a working one: an
 * `amazon-alexa` confidential client and an `owner` user, each with a freshly generated secret. The secrets
 * go into the file (mode 0600), never into the log.
 */
import { writeFileSync } from 'node:fs';
import { randomToken } from '../crypto/tokens';

export function writeLocalDefaults(file: string): void {
  const options = {
    users: [{ username: 'owner', password: randomToken(12) }],
    clients: [
      {
        client_id: 'amazon-alexa',
        client_type: 'confidential',
        client_secret: randomToken(24),
        redirect_uris: [
          'https://pitangui.amazon.com/api/skill/link/REPLACEWITHVENDORID',
          'https://layla.amazon.com/api/skill/link/REPLACEWITHVENDORID',
          'https://alexa.amazon.co.jp/api/skill/link/REPLACEWITHVENDORID',
        ],
        scopes: ['music.read', 'music.control'],
      },
    ],
    access_token_lifetime: 3600,
    auth_code_lifetime: 300,
    trusted_proxies: [],
    log_level: 'info',
  };
  writeFileSync(file, `${JSON.stringify(options, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}
