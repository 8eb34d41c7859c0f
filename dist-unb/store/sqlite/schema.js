"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.SchemaError = exports.TABLE = exports.SCHEMA_VERSION = void 0;
exports.prepareSchema = prepareSchema;
const kv_1 = require("../kv");
exports.SCHEMA_VERSION = 2;
exports.TABLE = 'kv';
const LEGACY_TABLE = 'keyv';
const LEGACY_PREFIX = 'oauth:';
/** The upgrade cannot proceed (or the file is from a newer release): the data is left as it is. */
class SchemaError extends Error {
}
exports.SchemaError = SchemaError;
const tableExists = (db, name) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
function createSchema(db) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${exports.TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires INTEGER) WITHOUT ROWID`);
    db.exec(`PRAGMA user_version = ${exports.SCHEMA_VERSION}`);
}
/**
 * Files written before 1.1.0's last changes have an index on the expiry for the purge, which now walks the table
 * by key instead: the index only made every write dearer (a third of the pages a refresh wrote). Dropping it
 * changes no data, so the layout version stays; an older 1.1.0 reading such a file purges without the index.
 * Best effort: on a file that cannot be written now, a later start drops it.
 */
function dropExpiryIndex(db) {
    try {
        db.exec(`DROP INDEX IF EXISTS ${exports.TABLE}_expires`);
    }
    catch {
        /* the store reports what is wrong with the file when it writes */
    }
}
/**
 * Brings the file to SCHEMA_VERSION. `backup` is called with the file path before a 1.0.0 upgrade and must leave a
 * copy of the file (the caller uses VACUUM INTO).
 */
function prepareSchema(db, log, now, backup) {
    const version = Number(db.prepare('PRAGMA user_version').get().user_version);
    if (version === exports.SCHEMA_VERSION) {
        dropExpiryIndex(db);
        return;
    }
    if (version > exports.SCHEMA_VERSION) {
        throw new SchemaError(`the database was written by a newer release of this add-on (layout ${version}, this release reads ${exports.SCHEMA_VERSION}); nothing was changed: update the add-on again, or restore the backup made before the downgrade`);
    }
    if (!tableExists(db, LEGACY_TABLE)) {
        db.exec('BEGIN IMMEDIATE');
        try {
            createSchema(db);
            db.exec('COMMIT');
        }
        catch (err) {
            db.exec('ROLLBACK');
            throw err;
        }
        return;
    }
    const copy = backup();
    let counts;
    db.exec('BEGIN IMMEDIATE');
    try {
        counts = migrateFrom100(db, now);
        db.exec('COMMIT');
    }
    catch (err) {
        db.exec('ROLLBACK');
        throw new SchemaError(`the upgrade of the database from release 1.0.0 could not proceed (${err instanceof Error ? err.message : String(err)}); the 1.0.0 data was left untouched${copy ? ` (a copy is at ${copy})` : ''}: report this, and keep running release 1.0.0 until it is fixed`, { cause: err });
    }
    log?.info(`database upgraded from release 1.0.0: ${Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')}${copy ? `; the 1.0.0 file is kept at ${copy}` : ''}`);
}
/** Rewrites every live 1.0.0 record into the version 2 table; pending browser flows are dropped (users start again). */
function migrateFrom100(db, now) {
    createSchema(db);
    const insert = db.prepare(`INSERT OR REPLACE INTO ${exports.TABLE} (key, value, expires) VALUES (?, ?, ?)`);
    const rows = db.prepare(`SELECT key, value FROM ${LEGACY_TABLE}`).all();
    const byKind = new Map();
    for (const row of rows) {
        if (!row.key.startsWith(LEGACY_PREFIX))
            continue;
        const [kind, ...rest] = row.key.slice(LEGACY_PREFIX.length).split(':');
        const parsed = JSON.parse(row.value);
        const expires = typeof parsed.expires === 'number' ? parsed.expires : undefined;
        if (expires !== undefined && expires <= now)
            continue;
        if (kind === undefined)
            continue;
        const list = byKind.get(kind) ?? [];
        list.push({ id: rest.join(':'), value: parsed.value, expires });
        byKind.set(kind, list);
    }
    const counts = { grants: 0, tokens: 0, codes: 0, sessions: 0 };
    const referenced = new Set();
    for (const g of byKind.get('grant') ?? []) {
        const old = g.value;
        const family = old?.refresh;
        if (typeof old !== 'object' ||
            old === null ||
            typeof family !== 'object' ||
            !Array.isArray(family.live) ||
            !family.live.every((h) => typeof h === 'string')) {
            throw new Error(`grant ${g.id} is not a 1.0.0 grant record (no list of live refresh tokens)`);
        }
        const live = family.live;
        // 1.0.0 allowed the parent again until the family settled: it stays usable (an earlier generation for a
        // confidential client, a retry for a public one), superseded as of the last refresh.
        const parent = family.settled === false && typeof family.parent === 'string' ? family.parent : undefined;
        for (const h of live)
            referenced.add(h);
        if (parent)
            referenced.add(parent);
        const supersededAt = typeof old.lastRefreshAt === 'number' ? old.lastRefreshAt : now;
        const previous = parent ? [{ hash: parent, supersededAt }] : [];
        const grant = { ...old, refresh: { live, parent, previous, generation: old.refreshCount ?? 0 } };
        insert.run(`grant:${g.id}`, (0, kv_1.encodeRow)(grant, g.expires), g.expires ?? null);
        counts.grants++;
    }
    for (const t of byKind.get('token') ?? []) {
        const token = t.value;
        // A refresh token 1.0.0 had superseded would only ever have been "reuse": not carried over.
        if (token.kind === 'refresh' && !referenced.has(t.id))
            continue;
        insert.run(`token:${t.id}`, (0, kv_1.encodeRow)(t.value, t.expires), t.expires ?? null);
        counts.tokens++;
    }
    for (const kind of ['code', 'session']) {
        for (const r of byKind.get(kind) ?? []) {
            insert.run(`${kind}:${r.id}`, (0, kv_1.encodeRow)(r.value, r.expires), r.expires ?? null);
            counts[`${kind}s`]++;
        }
    }
    db.exec(`DROP TABLE ${LEGACY_TABLE}`);
    return counts;
}
//# sourceMappingURL=schema.js.map