"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.VERSION = void 0;
/** The release, read from package.json beside dist/ (one place for the server, the CLI and the admin page). */
const node_fs_1 = require("node:fs");
const node_path_1 = __importDefault(require("node:path"));
exports.VERSION = (() => {
    try {
        return JSON.parse((0, node_fs_1.readFileSync)(node_path_1.default.join(__dirname, '..', 'package.json'), 'utf8')).version;
    }
    catch {
        return 'unknown';
    }
})();
//# sourceMappingURL=version.js.map