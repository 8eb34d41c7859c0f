/** What can be wrong with the database, as data the HTTP layer, /health and the admin page act on. */

/** `unopened`: not opened since start-up (or it cannot be: an upgrade that could not proceed, say). */
export type StoreFault = 'locked' | 'full' | 'read_only' | 'io' | 'damaged' | 'missing' | 'unopened';

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

/** Told when a fault begins and when it ends (the add-on log does this itself; notifications listen here). */
export interface StoreEvents {
  onFault?: (fault: StoreFault, reason: string) => void;
  onRecovered?: (fault: StoreFault, lastedMs: number) => void;
}
