"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.CliError = void 0;
exports.connect = connect;
/**
 * The CLI's view of a data folder. It opens the database itself, with the same factory as the server: every write
 * is one SQLite transaction (BEGIN IMMEDIATE), atomic against the server's own decisions, so a revocation is never
 * lost to a racing refresh whether or not the server runs. Whether it runs is read from the record the server keeps
 * in the database (its pid, checked to be alive).
 */
const node_fs_1 = require("node:fs");
const node_os_1 = require("node:os");
const node_path_1 = __importDefault(require("node:path"));
const load_config_1 = require("../config/load-config");
const diagnose_1 = require("../ops/diagnose");
const admin_service_1 = require("../ops/admin-service");
const data_folder_1 = require("../data-folder");
const flow_trace_1 = require("../log/flow-trace");
const logger_1 = require("../log/logger");
const version_1 = require("../version");
const settled_1 = require("../settled");
class CliError extends Error {
}
exports.CliError = CliError;
function osUser() {
    try {
        return (0, node_os_1.userInfo)().username;
    }
    catch {
        return undefined;
    }
}
/** The server's record, if that process is still alive (a kill -9 leaves the record behind). */
function liveServer(record) {
    if (!record)
        return undefined;
    try {
        process.kill(record.pid, 0);
        return record;
    }
    catch (err) {
        return err.code === 'EPERM' ? record : undefined;
    }
}
/** The API for a data folder. */
function connect(dataDir, env = process.env) {
    return (0, settled_1.settled)(() => {
        if (!(0, node_fs_1.existsSync)(dataDir))
            throw new CliError(`there is no data folder at ${dataDir}; set DATA_DIR (or --data-dir) to the server's data folder`);
        const optionsFile = node_path_1.default.join(dataDir, 'options.json');
        let config;
        let configProblems;
        let configWarnings;
        const inAddon = Boolean(env.SUPERVISOR_TOKEN) || dataDir === '/data';
        try {
            const loaded = (0, load_config_1.loadConfigFile)(optionsFile, inAddon ? 'set it in the add-on Configuration tab' : `edit ${optionsFile}`);
            config = loaded.config;
            configWarnings = loaded.warnings;
        }
        catch (err) {
            if (!(err instanceof load_config_1.ConfigError))
                throw err;
            configProblems = err.problems;
        }
        const quiet = (0, logger_1.createLogger)('error', true);
        const folder = (0, data_folder_1.openDataFolder)(dataDir, { config, log: quiet });
        const serverRecord = (() => {
            try {
                return liveServer(folder.storage.read((tx) => tx.server.runtime()));
            }
            catch {
                return undefined; // the store's fault is reported by status and diagnose
            }
        })();
        const ctx = {
            dataDir,
            version: version_1.VERSION,
            config,
            configProblems,
            configWarnings,
            store: folder.store,
            grants: folder.grants,
            serverRecord,
        };
        let trace;
        // Admin actions are traced like the server traces them; the trace file is only opened for a write.
        const writable = () => {
            trace ??= (0, flow_trace_1.createFlowTrace)(dataDir, quiet);
            return { ...ctx, trace };
        };
        const actor = { via: serverRecord ? 'cli' : 'cli-direct', user: osUser() };
        return {
            via: serverRecord ? 'server' : 'direct',
            status: () => (0, admin_service_1.status)(ctx),
            clients: () => (0, settled_1.settled)(() => (0, admin_service_1.listClients)(ctx)),
            grants: (all) => (0, admin_service_1.listGrants)(ctx, { all }),
            async revoke(ids) {
                const resolved = [];
                for (const id of ids)
                    resolved.push(await (0, admin_service_1.resolveGrantId)(ctx, id).catch((err) => Promise.reject(new CliError(err.message))));
                return (0, admin_service_1.revokeGrants)(writable(), resolved, actor);
            },
            revokeAll: () => (0, admin_service_1.revokeAll)(writable(), actor),
            activity: (q) => (0, admin_service_1.activity)(ctx, q),
            diagnose: () => (0, diagnose_1.diagnose)(ctx, { serverRunning: serverRecord !== undefined, homeAssistantLogin: Boolean(env.SUPERVISOR_TOKEN) }),
            async close() {
                await trace?.close();
                folder.close();
            },
        };
    });
}
//# sourceMappingURL=admin-api.js.map