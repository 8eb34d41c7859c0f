"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.openDataFolder = openDataFolder;
const config_1 = require("./config/config");
const keyv_adapter_1 = require("./store/keyv-adapter");
const records_1 = require("./store/records");
const sqlite_store_1 = require("./store/sqlite/sqlite-store");
function openDataFolder(dataDir, options = {}) {
    const now = options.now ?? Date.now;
    const { config } = options;
    const store = (0, sqlite_store_1.openSqliteStore)(dataDir, { log: options.log, now, onFault: options.onFault, onRecovered: options.onRecovered });
    const storage = (0, records_1.createOAuthStorage)(store);
    const types = new Map(config?.clients.map((c) => [c.clientId, c.clientType]));
    const grants = {
        storage,
        lifetimes: {
            accessToken: config?.accessTokenLifetime ?? config_1.DEFAULTS.access_token_lifetime,
            authCode: config?.authCodeLifetime ?? config_1.DEFAULTS.auth_code_lifetime,
            refreshIdle: config?.refreshTokenIdleLifetime ?? config_1.DEFAULTS.refresh_token_idle_lifetime,
        },
        grace: {
            generations: config?.refreshTokenGraceGenerations ?? config_1.DEFAULTS.refresh_token_grace_generations,
            periodSeconds: config?.refreshTokenGracePeriod ?? config_1.DEFAULTS.refresh_token_grace_period,
        },
        clientType: (clientId) => types.get(clientId),
        now,
    };
    return { dataDir, store, storage, grants, sessions: (0, keyv_adapter_1.createKeyv)(store, now), close: () => store.close() };
}
//# sourceMappingURL=data-folder.js.map