/**
 * The one persistent store: Keyv over @keyv/sqlite in DATA_DIR, tuned for a small server (WAL so readers never
 * wait for the writer, a busy timeout so a concurrent CLI or backup does not fail requests, an index on the
 * expiry so the background purge does not scan every record).
 */
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';

export const DB_FILE = 'oauth.sqlite';
const TABLE = 'keyv';
const NAMESPACE = 'oauth';

export interface StoreHealth {
  ok: boolean;
  /** Why the store cannot be used, in words for the operator. */
  reason?: string;
}

export interface Store {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every live record whose key starts with prefix (admin listings; not for request paths). */
  scan<T>(prefix: string): Promise<Array<{ key: string; value: T }>>;
  /** Deletes expired records; returns how many. Keyv only drops an expired record when it is read again. */
  purgeExpired(now?: number): Promise<number>;
  /** Writes, reads back and deletes a probe record. */
  check(): Promise<StoreHealth>;
  /** Size of the database files in bytes. */
  sizeBytes(): number;
  readonly file: string;
  close(): Promise<void>;
}

type Query = (sql: string, ...params: unknown[]) => Promise<Array<Record<string, unknown>>>;

export async function openStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, DB_FILE);
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, table: TABLE, busyTimeout: 5000 });
  const query = adapter.query.bind(adapter) as unknown as Query;
  let openError: unknown;
  adapter.on('error', (err: unknown) => {
    openError ??= err;
  });
  // Plain JSON: our records are plain objects, and JSON.parse is several times faster than Keyv's default.
  const kv = new Keyv({
    store: adapter,
    namespace: NAMESPACE,
    serialize: JSON.stringify,
    deserialize: JSON.parse,
    // Without this Keyv turns a failed read into "not found", which would make a healthy link look revoked.
    throwOnErrors: true,
  });
  kv.on('error', () => undefined); // errors are thrown to the caller (throwOnErrors); the event is redundant

  try {
    await query('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode survives a process crash (kill -9) with every committed write; only a power cut can
    // lose the last transactions, and never corrupts the database.
    await query('PRAGMA synchronous = NORMAL');
    await query(`CREATE INDEX IF NOT EXISTS ${TABLE}_expires ON ${TABLE} (json_extract(value, '$.expires'))`);
  } catch (err) {
    throw new Error(`cannot open the database ${file}: ${String(openError ?? err)}`);
  }

  const prefixed = (key: string) => `${NAMESPACE}:${key}`;

  return {
    file,
    async get<T>(key: string) {
      return (await kv.get(key)) as T | undefined;
    },
    async set<T>(key: string, value: T, ttlMs?: number) {
      const ok = await kv.set(key, value, ttlMs);
      if (!ok) throw new Error(`store write failed for ${key.split(':')[0]} record`);
    },
    async delete(key: string) {
      await kv.delete(key);
    },
    async scan<T>(prefix: string) {
      const now = Date.now();
      const rows = await query(
        `SELECT key, value FROM ${TABLE} WHERE key >= ? AND key < ? AND (json_extract(value, '$.expires') IS NULL OR json_extract(value, '$.expires') > ?)`,
        prefixed(prefix),
        prefixed(prefix) + '\uffff',
        now,
      );
      return rows.map((r) => ({
        key: String(r.key).slice(NAMESPACE.length + 1),
        value: (JSON.parse(String(r.value)) as { value: T }).value,
      }));
    },
    async purgeExpired(now = Date.now()) {
      const rows = await query(
        `DELETE FROM ${TABLE} WHERE json_extract(value, '$.expires') < ? RETURNING key`,
        now,
      );
      return rows.length;
    },
    async check() {
      const key = 'health:probe';
      const stamp = `${process.pid}-${Date.now()}`;
      try {
        await kv.set(key, stamp, 60_000);
        const back = await kv.get(key);
        if (back !== stamp) return { ok: false, reason: 'the database returned a different value than was written' };
        return { ok: true };
      } catch (err) {
        return { ok: false, reason: `the database ${file} cannot be read or written: ${(err as Error).message}` };
      }
    },
    sizeBytes() {
      return ['', '-wal', '-shm'].reduce((sum, suffix) => {
        try {
          return sum + statSync(file + suffix).size;
        } catch {
          return sum;
        }
      }, 0);
    },
    async close() {
      await kv.disconnect();
    },
  };
}
