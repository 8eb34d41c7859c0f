/**
 * The database's layout, and the upgrade from release 1.0.0 (Keyv over @keyv/sqlite 4: table `keyv`, keys
 * `oauth:<kind>:<id>`). Version 2 is one table `kv` in Keyv's envelope with the expiry in a column of its own,
 * so the purge finds expired rows without parsing JSON; PRAGMA user_version says which layout a file has.
 *
 * The upgrade is one transaction: it commits whole or not at all, so a kill -9 in the middle leaves the 1.0.0
 * table as it was and the next start simply runs it again. Before it, a copy of the 1.0.0 file is made beside it.
 */
import { DatabaseSync } from 'node:sqlite';
import { encodeRow } from '../kv';

export const SCHEMA_VERSION = 2;
export const TABLE = 'kv';
const LEGACY_TABLE = 'keyv';
const LEGACY_PREFIX = 'oauth:';

/** The upgrade cannot proceed (or the file is from a newer release): the data is left as it is. */
export class SchemaError extends Error {}

export interface SchemaLog {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
}

const tableExists = (db: DatabaseSync, name: string): boolean =>
  db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

function createSchema(db: DatabaseSync): void {
  db.exec(`CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER) WITHOUT ROWID`);
  db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
}

/**
 * Files written before 1.1.0's last changes have an index on the expiry for the purge, which now walks the table
 * by key instead: the index only made every write dearer (a third of the pages a refresh wrote). Dropping it
 * changes no data, so the layout version stays; an older 1.1.0 reading such a file purges without the index.
 * Best effort: on a file that cannot be written now, a later start drops it.
 */
function dropExpiryIndex(db: DatabaseSync): void {
  try {
    db.exec(`DROP INDEX IF EXISTS ${TABLE}_expires`);
  } catch {
    /* the store reports what is wrong with the file when it writes */
  }
}

/**
 * Brings the file to SCHEMA_VERSION. `backup` is called with the file path before a 1.0.0 upgrade and must leave a
 * copy of the file (the caller uses VACUUM INTO).
 */
export function prepareSchema(db: DatabaseSync, log: SchemaLog | undefined, now: number, backup: () => string | undefined): void {
  const version = Number((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version);
  if (version === SCHEMA_VERSION) {
    dropExpiryIndex(db);
    return;
  }
  if (version > SCHEMA_VERSION) {
    throw new SchemaError(
      `the database was written by a newer release of this add-on (layout ${version}, this release reads ${SCHEMA_VERSION}); nothing was changed: update the add-on again, or restore the backup made before the downgrade`,
    );
  }
  if (!tableExists(db, LEGACY_TABLE)) {
    db.exec('BEGIN IMMEDIATE');
    try {
      createSchema(db);
      db.exec('COMMIT');
    } catch (err) {
      db.exec('ROLLBACK');
      throw err;
    }
    return;
  }
  const copy = backup();
  let counts: Record<string, number>;
  db.exec('BEGIN IMMEDIATE');
  try {
    counts = migrateFrom100(db, now);
    db.exec('COMMIT');
  } catch (err) {
    db.exec('ROLLBACK');
    throw new SchemaError(
      `the upgrade of the database from release 1.0.0 could not proceed (${err instanceof Error ? err.message : String(err)}); the 1.0.0 data was left untouched${copy ? ` (a copy is at ${copy})` : ''}: report this, and keep running release 1.0.0 until it is fixed`,
      { cause: err },
    );
  }
  log?.info(
    `database upgraded from release 1.0.0: ${Object.entries(counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')}${copy ? `; the 1.0.0 file is kept at ${copy}` : ''}`,
  );
}

interface LegacyGrant {
  id: string;
  refreshCount?: number;
  lastRefreshAt?: number;
  revokedAt?: number;
  refresh?: { parent?: string; live?: string[]; settled?: boolean };
  [field: string]: unknown;
}

/** Rewrites every live 1.0.0 record into the version 2 table; pending browser flows are dropped (users start again). */
function migrateFrom100(db: DatabaseSync, now: number): Record<string, number> {
  createSchema(db);
  const insert = db.prepare(`INSERT OR REPLACE INTO ${TABLE} (key, value, expires) VALUES (?, ?, ?)`);
  const rows = db.prepare(`SELECT key, value FROM ${LEGACY_TABLE}`).all() as Array<{ key: string; value: string }>;
  const byKind = new Map<string, Array<{ id: string; value: unknown; expires?: number }>>();
  for (const row of rows) {
    if (!row.key.startsWith(LEGACY_PREFIX)) continue;
    const [kind, ...rest] = row.key.slice(LEGACY_PREFIX.length).split(':');
    const parsed = JSON.parse(row.value) as { value: unknown; expires?: number | null };
    const expires = typeof parsed.expires === 'number' ? parsed.expires : undefined;
    if (expires !== undefined && expires <= now) continue;
    if (kind === undefined) continue;
    const list = byKind.get(kind) ?? [];
    list.push({ id: rest.join(':'), value: parsed.value, expires });
    byKind.set(kind, list);
  }
  const counts = { grants: 0, tokens: 0, codes: 0, sessions: 0 };
  const referenced = new Set<string>();
  for (const g of byKind.get('grant') ?? []) {
    const old = g.value as LegacyGrant;
    const family = old?.refresh;
    if (
      typeof old !== 'object' ||
      old === null ||
      typeof family !== 'object' ||
      !Array.isArray(family.live) ||
      !family.live.every((h) => typeof h === 'string')
    ) {
      throw new Error(`grant ${g.id} is not a 1.0.0 grant record (no list of live refresh tokens)`);
    }
    const live = family.live;
    // 1.0.0 allowed the parent again until the family settled, for ever: it stays usable (an earlier generation
    // for a confidential client, a retry for a public one), its grace window counted from the upgrade. Counted from
    // the last 1.0.0 refresh, a skill left unused for two weeks before the upgrade would have lost the link.
    const parent = family.settled === false && typeof family.parent === 'string' ? family.parent : undefined;
    for (const h of live) referenced.add(h);
    if (parent) referenced.add(parent);
    const previous = parent ? [{ hash: parent, supersededAt: now }] : [];
    const grant = { ...old, refresh: { live, parent, previous, generation: old.refreshCount ?? 0 } };
    insert.run(`grant:${g.id}`, encodeRow(grant, g.expires), g.expires ?? null);
    counts.grants++;
  }
  for (const t of byKind.get('token') ?? []) {
    const token = t.value as { kind?: string };
    // A refresh token 1.0.0 had superseded would only ever have been "reuse": not carried over.
    if (token.kind === 'refresh' && !referenced.has(t.id)) continue;
    insert.run(`token:${t.id}`, encodeRow(t.value, t.expires), t.expires ?? null);
    counts.tokens++;
  }
  for (const kind of ['code', 'session'] as const) {
    for (const r of byKind.get(kind) ?? []) {
      insert.run(`${kind}:${r.id}`, encodeRow(r.value, r.expires), r.expires ?? null);
      counts[`${kind}s` as const]++;
    }
  }
  db.exec(`DROP TABLE ${LEGACY_TABLE}`);
  return counts;
}
