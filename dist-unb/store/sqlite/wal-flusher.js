"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.flushWalInBackground = flushWalInBackground;
/**
 * Syncs the WAL to disk on the thread pool after commits, so the event loop does not have to.
 *
 * With `synchronous = NORMAL`, a commit writes its pages to the WAL without syncing them. SQLite syncs the WAL only
 * at a checkpoint, on the event loop, and every queued request waits for that sync. On the disk measured here,
 * syncing the 1,000 pages (4 MB) written since the last checkpoint took 5–6 ms; 100 pages took 0.6 ms. Two things
 * follow from syncing in the background after every commit, one sync at a time:
 * - a checkpoint's own sync of the WAL finds little left to write;
 * - a power cut loses at most the commits of the last sync or two, where before it could lose those of the last
 *   30 s (the kernel's writeback): at one refresh an hour, that is a link's newest token.
 * Under load, the commits made while one sync runs are covered by the next. A failed background sync changes
 * nothing: SQLite's own sync at the checkpoint still decides, and reports the failure.
 */
const node_fs_1 = require("node:fs");
/** After the WAL could not be opened (say, out of descriptors), the checkpoints alone sync it for this long. */
const OPEN_RETRY_MS = 60_000;
function flushWalInBackground(walFile, sync = node_fs_1.fdatasync, now = Date.now) {
    let fd;
    /** When opening the WAL may be tried again after it failed; until then, SQLite's checkpoints sync it alone. */
    let openRetryAt = 0;
    let unsynced = false;
    let running = false;
    let closing = false;
    const release = () => {
        if (fd === undefined)
            return;
        try {
            (0, node_fs_1.closeSync)(fd);
        }
        catch {
            /* a read-only descriptor: nothing can be lost by closing it */
        }
        fd = undefined;
    };
    const start = () => {
        if (fd === undefined) {
            if (now() < openRetryAt)
                return;
            try {
                // Opened at the first commit, when the WAL surely exists. Read-only is enough for fdatasync on Linux, and
                // this descriptor can never write to the WAL.
                fd = (0, node_fs_1.openSync)(walFile, 'r');
            }
            catch {
                openRetryAt = now() + OPEN_RETRY_MS;
                return;
            }
        }
        unsynced = false;
        running = true;
        sync(fd, () => {
            running = false;
            if (closing)
                release();
            else if (unsynced)
                start();
        });
    };
    return {
        committed() {
            if (closing)
                return;
            unsynced = true;
            if (!running)
                start();
        },
        close() {
            closing = true;
            if (!running)
                release();
        },
    };
}
//# sourceMappingURL=wal-flusher.js.map