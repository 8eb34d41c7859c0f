"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.linesOf = linesOf;
exports.linesFromEnd = linesFromEnd;
exports.findLine = findLine;
/**
 * A JSON-lines file read a chunk at a time, never whole. The trace files of a long-running add-on are at their
 * bounds (5 × 2 MiB of flow trace, 10 × 2 MiB of security events): reading them whole at every start-up and every
 * hourly prune held them in memory several times over (the text, its lines), and the heap V8 grew for that stayed:
 * a restarted add-on idled at about 125 MB of RSS instead of 69.
 */
const promises_1 = require("node:fs/promises");
const CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;
/** The file's non-blank lines in order, with where each starts; a last line without its \n included. */
async function* linesOf(file) {
    const handle = await (0, promises_1.open)(file, 'r');
    try {
        const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        let carry = Buffer.alloc(0); // the start of a line that the chunk read so far does not end
        let carryStart = 0;
        let position = 0;
        for (;;) {
            const { bytesRead } = await handle.read(chunk, 0, CHUNK_BYTES, position);
            if (bytesRead === 0)
                break;
            const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, bytesRead)]) : chunk.subarray(0, bytesRead);
            const dataStart = carry.length > 0 ? carryStart : position;
            position += bytesRead;
            let from = 0;
            for (let end = data.indexOf(NEWLINE); end >= 0; end = data.indexOf(NEWLINE, from)) {
                const line = data.toString('utf8', from, end);
                if (line.trim() !== '')
                    yield { line, start: dataStart + from };
                from = end + 1;
            }
            carry = Buffer.from(data.subarray(from)); // a copy: the chunk is read into again
            carryStart = dataStart + from;
        }
        const last = carry.toString('utf8');
        if (last.trim() !== '')
            yield { line: last, start: carryStart };
    }
    finally {
        await handle.close();
    }
}
/**
 * The file's non-blank lines from the last to the first, read a chunk at a time from its end: the newest entries
 * of a trace file without reading the older ones. Newlines never occur inside a UTF-8 sequence, so cutting at
 * them never splits a character.
 */
async function* linesFromEnd(file) {
    const handle = await (0, promises_1.open)(file, 'r');
    try {
        let position = (await handle.stat()).size;
        let carry = Buffer.alloc(0); // the end of a line whose start is further back
        while (position > 0) {
            const start = Math.max(0, position - CHUNK_BYTES);
            const chunk = Buffer.allocUnsafe(position - start);
            const { bytesRead } = await handle.read(chunk, 0, chunk.length, start);
            const data = Buffer.concat([chunk.subarray(0, bytesRead), carry]);
            position = start;
            let end = data.length;
            for (let nl = end > 0 ? data.lastIndexOf(NEWLINE, end - 1) : -1; nl >= 0; nl = end > 0 ? data.lastIndexOf(NEWLINE, end - 1) : -1) {
                const line = data.toString('utf8', nl + 1, end);
                if (line.trim() !== '')
                    yield line;
                end = nl;
            }
            carry = data.subarray(0, end);
        }
        const first = carry.toString('utf8');
        if (first.trim() !== '')
            yield first;
    }
    finally {
        await handle.close();
    }
}
/** The first line for which `accept` is true (read no further than it), or undefined. */
async function findLine(file, accept) {
    for await (const at of linesOf(file))
        if (accept(at.line))
            return at;
    return undefined;
}
//# sourceMappingURL=jsonl-lines.js.map