"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.jsonlFiles = jsonlFiles;
exports.createJsonlFile = createJsonlFile;
/**
 * A JSON-lines file in DATA_DIR, bounded without cron, by size and by age: when <name>.jsonl reaches maxBytes it
 * rotates (<name>1.jsonl ... <name><maxFiles-1>.jsonl, newest first, the oldest dropped); at start-up and every
 * hour, entries older than maxAge are pruned from every file. Appends, rotations and pruning run one after
 * another on a single queue, so pruning never races a write (winston's File transport rotates only by size, and
 * rewriting a file it holds open would race its buffered writes). The flow trace and the security events are
 * two of these, each with its own bounds.
 */
const node_fs_1 = require("node:fs");
const promises_1 = require("node:fs/promises");
const node_path_1 = __importDefault(require("node:path"));
const promises_2 = require("node:stream/promises");
const jsonl_lines_1 = require("./jsonl-lines");
const PRUNE_INTERVAL_MS = 3600 * 1000;
/** The files of `name` in dataDir, newest first: <name>.jsonl, <name>1.jsonl, <name>2.jsonl, ... */
function jsonlFiles(dataDir, name) {
    let names;
    try {
        names = (0, node_fs_1.readdirSync)(dataDir);
    }
    catch {
        return [];
    }
    const prefix = `${name}`;
    return names
        .map((file) => {
        if (!file.startsWith(prefix) || !file.endsWith('.jsonl'))
            return undefined;
        const n = file.slice(prefix.length, -'.jsonl'.length);
        return /^\d*$/.test(n) ? { file, n: Number(n || 0) } : undefined;
    })
        .filter((f) => f !== undefined)
        .sort((a, b) => a.n - b.n)
        .map((f) => node_path_1.default.join(dataDir, f.file));
}
function entryTime(line) {
    try {
        return Date.parse(JSON.parse(line).ts ?? '');
    }
    catch {
        return NaN;
    }
}
/** Whether the file's last byte is not a newline (false for a missing or empty file). */
function endsMidLine(file) {
    let fd;
    try {
        fd = (0, node_fs_1.openSync)(file, 'r');
        const { size } = (0, node_fs_1.fstatSync)(fd);
        const last = Buffer.alloc(1);
        return size > 0 && (0, node_fs_1.readSync)(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
    }
    catch {
        return false;
    }
    finally {
        if (fd !== undefined)
            (0, node_fs_1.closeSync)(fd);
    }
}
function createJsonlFile(dataDir, name, log, limits, now) {
    const maxFiles = Math.max(1, limits.maxFiles);
    const numbered = (n) => node_path_1.default.join(dataDir, n === 0 ? `${name}.jsonl` : `${name}${n}.jsonl`);
    const file = numbered(0);
    let size = (0, node_fs_1.existsSync)(file) ? (0, node_fs_1.statSync)(file).size : 0;
    let pending = [];
    let scheduled = false;
    let closed = false;
    let failing = false;
    /** The file may end in a partial line: after a failed append, or a kill -9 or power cut during one. */
    let midLine = endsMidLine(file);
    let queue = Promise.resolve();
    // Diagnostic files: a full disk must not take the OAuth server down with them.
    const failed = (err) => {
        if (!failing)
            log.warn(`${name} cannot be written`, { error: String(err) });
        failing = true;
        midLine = true;
    };
    function enqueue(op) {
        const next = queue.then(op).catch((err) => {
            failed(err);
            return undefined;
        });
        queue = next;
        return next;
    }
    async function rotate() {
        if (maxFiles === 1) {
            await (0, promises_1.unlink)(file).catch(() => undefined);
        }
        else {
            for (let n = maxFiles - 1; n >= 1; n--) {
                await (0, promises_1.rename)(numbered(n - 1), numbered(n)).catch((err) => {
                    if (err.code !== 'ENOENT')
                        throw err;
                });
            }
        }
        size = 0;
    }
    async function write() {
        scheduled = false;
        const lines = pending;
        pending = [];
        if (lines.length === 0)
            return;
        // Start on a fresh line after a partial one, so the damage stays one unreadable line instead of swallowing
        // this entry too (readers skip blank lines).
        const data = (midLine ? '\n' : '') + lines.join('');
        await (0, promises_1.appendFile)(file, data, 'utf8');
        failing = false;
        midLine = false;
        size += Buffer.byteLength(data);
        if (size >= limits.maxBytes)
            await rotate();
    }
    async function pruneNow() {
        const cutoff = now() - limits.maxAgeMs;
        const result = { removedEntries: 0, removedFiles: 0 };
        for (const f of jsonlFiles(dataDir, name)) {
            const info = await (0, promises_1.stat)(f).catch(() => undefined);
            if (!info)
                continue;
            // Nothing was written to a file since its mtime: one last written before the cutoff holds older entries
            // only. In another, entries are in time order: the older ones are the lines before the first one inside
            // the window, and a file that starts inside it is left as it is after reading its first line.
            const allOlder = info.mtimeMs < cutoff;
            let older = 0;
            const inside = await (0, jsonl_lines_1.findLine)(f, (line) => {
                if (!allOlder && entryTime(line) >= cutoff)
                    return true;
                older++;
                return false;
            });
            if (allOlder) {
                await (0, promises_1.unlink)(f);
                result.removedFiles++;
                result.removedEntries += older;
                if (f === file) {
                    size = 0;
                    midLine = false;
                }
                continue;
            }
            if (older === 0)
                continue;
            const tmp = `${f}.tmp`;
            if (inside)
                await (0, promises_2.pipeline)((0, node_fs_1.createReadStream)(f, { start: inside.start }), (0, node_fs_1.createWriteStream)(tmp));
            else
                await (0, promises_1.writeFile)(tmp, '');
            const keptBytes = (await (0, promises_1.stat)(tmp)).size;
            await (0, promises_1.rename)(tmp, f); // atomic: a reader sees the old or the new file, never half of one
            result.removedEntries += older;
            if (f === file) {
                size = keptBytes;
                midLine = endsMidLine(file); // the tail is kept as it was, a partial last line included
            }
        }
        if (result.removedEntries > 0)
            log.debug(`${name}: pruned old entries`, { ...result, maxAgeDays: limits.maxAgeMs / 86_400_000 });
        return result;
    }
    const prune = async () => (await enqueue(pruneNow)) ?? { removedEntries: 0, removedFiles: 0 };
    void prune();
    const timer = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
    timer.unref();
    return {
        append(lines) {
            if (closed || lines.length === 0)
                return;
            pending.push(...lines);
            if (!scheduled) {
                scheduled = true;
                void enqueue(write);
            }
        },
        flush: async () => {
            await enqueue(() => Promise.resolve());
        },
        prune,
        close: async () => {
            clearInterval(timer);
            closed = true;
            await queue;
        },
    };
}
//# sourceMappingURL=jsonl-file.js.map