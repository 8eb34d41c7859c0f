"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.resolveDataDir = resolveDataDir;
const node_fs_1 = require("node:fs");
const node_path_1 = __importDefault(require("node:path"));
/** DATA_DIR, else /data when it exists (inside the add-on), else ./data. */
function resolveDataDir(env) {
    if (env.DATA_DIR)
        return node_path_1.default.resolve(env.DATA_DIR);
    return (0, node_fs_1.existsSync)('/data') ? '/data' : node_path_1.default.resolve('data');
}
//# sourceMappingURL=data-dir.js.map