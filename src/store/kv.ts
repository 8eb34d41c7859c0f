/**
 * The storage primitive under every protocol record: a synchronous key-value table with an expiry per row, where
 * a unit of work is one transaction. Synchronous on purpose: a decision (consume a code, rotate a refresh token,
 * revoke a grant) reads, decides and writes with no `await` in between, so nothing can interleave with it, in
 * this process or another one (the CLI); no lock in memory is needed.
 *
 * Rows are stored in Keyv's envelope, `{"value": …, "expires": …}` as JSON, so the Keyv adapter over the same
 * table (store/keyv-adapter.ts) reads and writes the very same records.
 */

export interface KvRow<T> {
  key: string;
  value: T;
  /** Unix ms; undefined: never expires. */
  expires?: number;
}

/** Access to the table inside one transaction. Expired rows are invisible. */
export interface KvTx {
  get<T>(key: string): T | undefined;
  /** Inserts or replaces. */
  put(key: string, value: unknown, expires?: number): void;
  delete(key: string): void;
  /**
   * Every live row whose key starts with prefix, in key order (admin listings; never on a request path); with
   * `keep`, only the rows whose key it keeps (the others are not decoded).
   */
  scan<T>(prefix: string, keep?: (key: string) => boolean): Array<KvRow<T>>;
}

export interface Kv {
  /**
   * Runs `work` as one transaction (BEGIN IMMEDIATE … COMMIT) and returns what it returns. If it throws, nothing
   * it wrote is kept. A decision that refuses a request but must still write (a reused refresh token revokes its
   * grant) returns the refusal instead of throwing it.
   */
  transaction<T>(work: (tx: KvTx) => T): T;
  /**
   * A read-only unit of work: sees one consistent snapshot, takes no write lock. The SQLite store shares the snapshot
   * among the reads of one turn of the event loop; a write of this process ends it first (sqlite-store.ts readUnit).
   */
  read<T>(work: (tx: KvTx) => T): T;
  /**
   * One step of the background purge: looks at up to `limit` rows in key order after `after` (from the first row
   * when undefined) and deletes the expired ones among them. Walking the table needs no index on the expiry, which
   * every write (each refresh writes four or five rows) would otherwise have to keep up to date.
   */
  purgeStep(after: string | undefined, limit: number): PurgeStep;
}

export interface PurgeStep {
  removed: number;
  /** Where the next step starts; undefined once the last row was looked at. */
  next?: string;
}

/** The envelope Keyv writes; the store keeps `expires` in a column of its own too, for the purge. */
export function encodeRow(value: unknown, expires: number | undefined): string {
  return JSON.stringify(expires === undefined ? { value } : { value, expires });
}

export function decodeRow<T>(text: string): T {
  return (JSON.parse(text) as { value: T }).value;
}
