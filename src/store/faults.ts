/** What can be wrong with the database, as data the HTTP layer, /health and the admin page act on. */

/** `unopened`: not opened since start-up (or it cannot be: an upgrade that could not proceed, say). */
export type StoreFault = 'locked' | 'full' | 'read_only' | 'io' | 'damaged' | 'missing' | 'unopened';

/**
 * What the operator does about each fault, for the admin page's checks and explanations (the fault's reason says
 * what happened). A restart fixes neither a missing nor a damaged file: a backup does, or, without one, starting over
 * with an empty database on purpose (SqliteStore.startOver).
 */
export const FAULT_FIX: Record<StoreFault, string> = {
  locked: 'Close the program holding the database (an sqlite3 shell, a backup tool, a second server); requests resume by themselves.',
  full: 'Free space on the Home Assistant host; the add-on resumes by itself.',
  read_only:
    'Make the data folder writable again (a read-only remount usually means a disk error: check the host); the add-on resumes by itself.',
  io: "Check the storage holding the add-on's data (the host's system log shows disk errors); if it persists, restore the add-on from a Home Assistant backup.",
  damaged:
    "Restore the add-on from a Home Assistant backup (Settings → System → Backups), which brings its database back. Without one, start over with an empty database from the admin page's Status: every user must then link again.",
  missing:
    "Restore the add-on from a Home Assistant backup (Settings → System → Backups). It never starts an empty database in place of a missing one by itself; without a backup, start over from the admin page's Status: every user must then link again.",
  unopened:
    "Do what the reason says: a database written by a newer release needs that release again (or the backup made before going back); otherwise the add-on's Log tab says why it cannot be opened.",
};

/** Faults a new, empty database cures, for the operator without a backup (SqliteStore.startOver). */
export const STARTS_OVER: ReadonlySet<StoreFault | undefined> = new Set<StoreFault | undefined>(['missing', 'damaged']);

export const isStoreFault = (value: unknown): value is StoreFault => typeof value === 'string' && Object.hasOwn(FAULT_FIX, value);

/** A store operation failed for a storage reason: the caller answers 503, never "not found" or invalid_grant. */
export class StoreError extends Error {
  constructor(
    readonly fault: StoreFault,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export function isStoreError(err: unknown): err is StoreError {
  return err instanceof StoreError;
}

export interface StoreHealth {
  ok: boolean;
  /** Why the store cannot be used, in words for the operator. */
  reason?: string;
  fault?: StoreFault;
  /** When the current fault was first seen (ISO time). */
  since?: string;
}

/**
 * A folder no server has started with: the store is unopened (a missing database is `missing`) and no database is or
 * was there (`created`: holdsDatabase). Nothing has failed; there is nothing yet.
 */
export function notStartedYet(health: StoreHealth, created: boolean): boolean {
  return !health.ok && health.fault === 'unopened' && !created;
}

/** Told when a fault begins and when it ends (the add-on log does this itself; notifications listen here). */
export interface StoreEvents {
  onFault?: (fault: StoreFault, reason: string) => void;
  /** `startedOver`: the fault ended because an operator replaced the database with an empty one (startOver). */
  onRecovered?: (fault: StoreFault, lastedMs: number, startedOver: boolean) => void;
}
