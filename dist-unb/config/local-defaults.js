"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.writeLocalDefaults = writeLocalDefaults;
/**
 * Outside Home Assistant nobody writes options.json, so the first `npm start` writes a working one: an
 * `amazon-alexa` confidential client and an `owner` user, each with a freshly generated secret. The secrets
 * go into the file (mode 0600), never into the log.
 */
const node_fs_1 = require("node:fs");
const tokens_1 = require("../crypto/tokens");
function writeLocalDefaults(file) {
    const options = {
        users: [{ username: 'owner', password: (0, tokens_1.randomToken)(12) }],
        clients: [
            {
                client_id: 'amazon-alexa',
                client_type: 'confidential',
                client_secret: (0, tokens_1.randomToken)(24),
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
    (0, node_fs_1.writeFileSync)(file, `${JSON.stringify(options, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
}
//# sourceMappingURL=local-defaults.js.map