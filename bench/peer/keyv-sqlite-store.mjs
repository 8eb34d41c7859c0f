// A Keyv (v6) storage adapter on node:sqlite (built into Node 24: no native module to compile).
// One table: key TEXT PRIMARY KEY, value TEXT (what Keyv serialized), expires INTEGER (ms since epoch, or NULL).
// WAL, synchronous=NORMAL, journal_size_limit 4 MiB: the same settings as the server under test.
// node:sqlite is synchronous; the methods are async only because Keyv's contract is.
import { EventEmitter } from 'node:events';
import { DatabaseSync } from 'node:sqlite';
import { keyvStorageCapability } from 'keyv';

export class KeyvNodeSqlite extends EventEmitter {
  constructor(file, { table = 'keyv', busyTimeoutMs = 5000 } = {}) {
    super();
    this.namespace = undefined;
    this.db = new DatabaseSync(file, { timeout: busyTimeoutMs });
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA synchronous = NORMAL');
    this.db.exec('PRAGMA journal_size_limit = 4194304');
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER)`);
    this.sql = {
      get: this.db.prepare(`SELECT value, expires FROM ${table} WHERE key = ?`),
      set: this.db.prepare(
        `INSERT INTO ${table} (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
      ),
      del: this.db.prepare(`DELETE FROM ${table} WHERE key = ?`),
      clearAll: this.db.prepare(`DELETE FROM ${table}`),
      clearPrefix: this.db.prepare(`DELETE FROM ${table} WHERE key >= ? AND key < ?`),
      count: this.db.prepare(`SELECT count(*) AS n FROM ${table}`),
    };
  }

  /** Declares the v6 contract: set() receives an absolute `expires` (ms), so Keyv uses this adapter directly. */
  get capabilities() {
    return keyvStorageCapability(this);
  }

  k(key) {
    return this.namespace ? `${this.namespace}:${key}` : key;
  }

  async get(key) {
    const row = this.sql.get.get(this.k(key));
    if (!row) return undefined;
    if (row.expires !== null && row.expires <= Date.now()) {
      this.sql.del.run(this.k(key));
      return undefined;
    }
    return row.value;
  }

  async getMany(keys) {
    const out = [];
    for (const key of keys) out.push(await this.get(key));
    return out;
  }

  async set(key, value, expires) {
    const v = typeof value === 'string' ? value : JSON.stringify(value);
    this.sql.set.run(this.k(key), v, typeof expires === 'number' && Number.isFinite(expires) ? Math.ceil(expires) : null);
    return true;
  }

  async setMany(entries) {
    const out = [];
    for (const { key, value, expires } of entries) out.push(await this.set(key, value, expires));
    return out;
  }

  async delete(key) {
    return this.sql.del.run(this.k(key)).changes > 0;
  }

  async deleteMany(keys) {
    const out = [];
    for (const key of keys) out.push(await this.delete(key));
    return out;
  }

  async has(key) {
    return (await this.get(key)) !== undefined;
  }

  async hasMany(keys) {
    const out = [];
    for (const key of keys) out.push(await this.has(key));
    return out;
  }

  async clear() {
    if (this.namespace) this.sql.clearPrefix.run(`${this.namespace}:`, `${this.namespace};`);
    else this.sql.clearAll.run();
  }

  rows() {
    return Number(this.sql.count.get().n);
  }

  async disconnect() {
    this.db.close();
  }
}
