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
import { closeSync, fdatasync, openSync } from 'node:fs';

export interface WalFlusher {
  /** A write transaction committed: sync the WAL now, or when the sync already running ends. */
  committed(): void;
  /** Closes the WAL's descriptor, once a running sync has ended. */
  close(): void;
}

export type SyncFile = (fd: number, done: (err: NodeJS.ErrnoException | null) => void) => void;

export function flushWalInBackground(walFile: string, sync: SyncFile = fdatasync): WalFlusher {
  let fd: number | undefined;
  /** Set when the WAL cannot be opened: SQLite's checkpoints sync it, as without this module. */
  let unavailable = false;
  let unsynced = false;
  let running = false;
  let closing = false;

  const release = (): void => {
    if (fd === undefined) return;
    try {
      closeSync(fd);
    } catch {
      /* a read-only descriptor: nothing can be lost by closing it */
    }
    fd = undefined;
  };

  const start = (): void => {
    if (fd === undefined) {
      try {
        // Opened at the first commit, when the WAL surely exists. Read-only is enough for fdatasync on Linux, and
        // this descriptor can never write to the WAL.
        fd = openSync(walFile, 'r');
      } catch {
        unavailable = true;
        return;
      }
    }
    unsynced = false;
    running = true;
    sync(fd, () => {
      running = false;
      if (closing) release();
      else if (unsynced) start();
    });
  };

  return {
    committed() {
      if (closing || unavailable) return;
      unsynced = true;
      if (!running) start();
    },
    close() {
      closing = true;
      if (!running) release();
    },
  };
}
