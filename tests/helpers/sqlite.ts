/** A second connection to a server's database, as another program (the sqlite3 shell, a backup tool) would open it. */
import { DatabaseSync } from 'node:sqlite';

/** Takes the database's write lock and keeps it until released. */
export function holdWriteLock(file: string): { release(): void } {
  const db = new DatabaseSync(file, { timeout: 5000 });
  db.exec('BEGIN EXCLUSIVE');
  db.prepare(`INSERT INTO kv (key, value) VALUES ('lock-holder', '{}') ON CONFLICT(key) DO NOTHING`).run();
  return {
    release() {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

/** Runs SQL on a database file with a separate connection (the server may be running or dead). */
export function sqlAll(file: string, sql: string, opts: { readOnly?: boolean } = {}): Array<Record<string, unknown>> {
  const db = new DatabaseSync(file, { timeout: 5000, readOnly: opts.readOnly ?? false });
  try {
    return db.prepare(sql).all();
  } finally {
    db.close();
  }
}
