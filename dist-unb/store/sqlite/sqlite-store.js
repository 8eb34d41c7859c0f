"use strict";
var __importDefault = (this && this.__importDefault) || function (mod) {
    return (mod && mod.__esModule) ? mod : { "default": mod };
};
Object.defineProperty(exports, "__esModule", { value: true });
exports.DB_FILE = void 0;
exports.openSqliteStore = openSqliteStore;
/**
 * The one persistent store: SQLite in DATA_DIR through Node's built-in `node:sqlite` (synchronous: no thread-pool
 * hop per statement, no native module to compile in the image). WAL, so readers never wait for the writer and a
 * backup can copy while the server writes; a busy timeout, so the CLI or a backup holding the lock briefly makes a
 * request wait instead of fail; the expiry in a column of its own, for the background purge.
 *
 * Storage faults are part of the design:
 * - Every SQLite failure becomes a StoreError naming the fault (locked, full, read_only, io, damaged, missing,
 *   unopened) with a reason for the operator, refined by looking at the filesystem. The first failure of a kind
 *   is logged once; /health reports it.
 * - The server never crash-loops on its database: one that cannot be opened leaves the store "unopened" and a
 *   background retry keeps trying, as after any fault at run time. A fault clears once a probe (write, read back,
 *   and for a damaged file an integrity check on a fresh connection) passes; a connection that may be stale
 *   (damaged, replaced or read-only file) is reopened, so no restart is needed.
 * - A read that fails is never "not found"; while the file is known to be damaged a record that cannot be found is
 *   an error too (a damaged index must not make a healthy link look revoked, which would make Alexa unlink). Writes
 *   are refused while the file is damaged, so nothing new is mixed into it.
 * - A database file that disappears while the server runs is never silently replaced by an empty one (that would
 *   unlink every user); the open connection keeps serving reads until the file is put back.
 */
const node_fs_1 = require("node:fs");
const node_path_1 = __importDefault(require("node:path"));
const node_sqlite_1 = require("node:sqlite");
const faults_1 = require("../faults");
const kv_1 = require("../kv");
const schema_1 = require("./schema");
const wal_flusher_1 = require("./wal-flusher");
exports.DB_FILE = 'oauth.sqlite';
const SQLITE_MAGIC = 'SQLite format 3\0';
const PROBE_KEY = 'health:probe';
/** Files up to this size are integrity-checked before the store opens; larger ones just after (see connect). */
const DEEP_CHECK_AT_OPEN_BYTES = 16 * 1024 * 1024;
/** How soon after start-up a large file gets its integrity check. */
const DEFERRED_CHECK_MS = 1000;
/** Larger than any record the server writes: when the disk is nearly full the probe fails first. */
const PROBE_PAD = '.'.repeat(4 * 1024);
/** SQLite's primary result codes (the low byte of an extended code). */
const FAULT_BY_CODE = {
    3: 'read_only', // SQLITE_PERM
    5: 'locked', // SQLITE_BUSY
    6: 'locked', // SQLITE_LOCKED
    8: 'read_only', // SQLITE_READONLY
    10: 'io', // SQLITE_IOERR
    11: 'damaged', // SQLITE_CORRUPT
    13: 'full', // SQLITE_FULL
    14: 'io', // SQLITE_CANTOPEN
    15: 'io', // SQLITE_PROTOCOL
    17: 'damaged', // SQLITE_SCHEMA
    22: 'io', // SQLITE_NOLFS
    24: 'damaged', // SQLITE_FORMAT
    26: 'damaged', // SQLITE_NOTADB
};
/** Faults after which the connection itself may be stale: recovery opens a fresh one. */
const REOPEN_AFTER = new Set(['damaged', 'missing', 'io', 'read_only', 'unopened']);
/** Faults a successful write proves gone (not "full": a small write can fit where the next does not). */
const CLEARED_BY_WRITE = new Set(['locked', 'read_only', 'io']);
/** While another program holds the lock, statements give up quickly: every queued request would wait in turn. */
const LOCKED_BUSY_MS = 100;
/** An error the unit of work itself threw: rolled back, then rethrown as it is (it is no storage fault). */
class WorkFailed {
    error;
    constructor(error) {
        this.error = error;
    }
}
/** A fault found while opening, before any StoreError exists: its kind and the concrete detail. */
class OpenFault extends Error {
    kind;
    detail;
    constructor(kind, detail) {
        super(detail);
        this.kind = kind;
        this.detail = detail;
    }
}
function sqliteCode(err) {
    const e = err;
    return e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' ? e.errcode & 0xff : undefined;
}
const errnoText = {
    ENOSPC: 'no space left on the device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'the file system is mounted read-only',
    EACCES: 'permission denied (check the owner and mode)',
    EPERM: 'operation not permitted (the file or folder may be immutable: check chattr/lsattr)',
};
const errno = (err) => err.code ?? 'error';
/** Looks at the filesystem for the concrete cause of a write or open failure. */
function diagnoseFilesystem(dir, file, hadDatabase) {
    if (!(0, node_fs_1.existsSync)(dir))
        return { kind: 'missing', detail: `the data folder ${dir} does not exist` };
    if (hadDatabase && !(0, node_fs_1.existsSync)(file))
        return { kind: 'missing', detail: `${file} was deleted or moved` };
    for (const f of [file, `${file}-wal`, `${file}-shm`]) {
        if (!(0, node_fs_1.existsSync)(f))
            continue;
        try {
            (0, node_fs_1.closeSync)((0, node_fs_1.openSync)(f, 'r+'));
        }
        catch (err) {
            const code = errno(err);
            return {
                kind: code === 'ENOSPC' ? 'full' : 'read_only',
                detail: `${node_path_1.default.basename(f)} cannot be opened for writing (${code}: ${errnoText[code] ?? String(err)})`,
            };
        }
    }
    const probe = node_path_1.default.join(dir, `.write-probe-${process.pid}`);
    try {
        const fd = (0, node_fs_1.openSync)(probe, 'w');
        try {
            (0, node_fs_1.writeSync)(fd, Buffer.alloc(16 * 1024));
            (0, node_fs_1.fsyncSync)(fd);
        }
        finally {
            (0, node_fs_1.closeSync)(fd);
            (0, node_fs_1.unlinkSync)(probe);
        }
    }
    catch (err) {
        const code = errno(err);
        try {
            if ((0, node_fs_1.existsSync)(probe))
                (0, node_fs_1.unlinkSync)(probe);
        }
        catch {
            /* best effort */
        }
        const kind = code === 'ENOSPC' || code === 'EDQUOT' ? 'full' : code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'read_only' : 'io';
        return { kind, detail: `a file cannot be written in ${dir} (${code}: ${errnoText[code] ?? String(err)})` };
    }
    try {
        const fs = (0, node_fs_1.statfsSync)(dir);
        const free = Number(fs.bavail) * Number(fs.bsize);
        if (free < 256 * 1024)
            return { kind: 'full', detail: `only ${Math.floor(free / 1024)} KiB free on the disk holding ${dir}` };
    }
    catch {
        /* statfs is a refinement only */
    }
    return undefined;
}
/** The first 16 bytes of a non-empty SQLite file are its magic string; anything else is not our database. */
function headerProblem(file) {
    let fd;
    try {
        if (!(0, node_fs_1.existsSync)(file) || (0, node_fs_1.statSync)(file).size === 0)
            return undefined;
        fd = (0, node_fs_1.openSync)(file, 'r');
        const buf = Buffer.alloc(16);
        const n = (0, node_fs_1.readSync)(fd, buf, 0, 16, 0);
        if (n < 16 || buf.toString('latin1') !== SQLITE_MAGIC)
            return 'its header is not an SQLite header (the file was overwritten or is not a database)';
        return undefined;
    }
    catch {
        return undefined; // unreadable: the SQLite calls report it precisely
    }
    finally {
        if (fd !== undefined)
            (0, node_fs_1.closeSync)(fd);
    }
}
/** PRAGMA quick_check / integrity_check on a fresh read-only connection: what is on disk now, not a cache. */
function checkOnFreshConnection(file, busyTimeoutMs, pragma) {
    const db = new node_sqlite_1.DatabaseSync(file, { readOnly: true, timeout: busyTimeoutMs });
    try {
        return db.prepare(`PRAGMA ${pragma}`).all().map((r) => String(Object.values(r)[0]));
    }
    finally {
        db.close();
    }
}
/**
 * Opens the store. Never throws for a storage reason: a database that cannot be opened yields a store in the
 * `unopened` fault, which /health reports and which keeps trying to open it in the background.
 */
function openSqliteStore(dataDir, options = {}) {
    const file = node_path_1.default.join(dataDir, exports.DB_FILE);
    const { log } = options;
    const now = options.now ?? Date.now;
    const busyTimeoutMs = options.busyTimeoutMs ?? 1000;
    const retryMs = options.retryMs ?? 1000;
    const maxRetryMs = options.maxRetryMs ?? 15_000;
    const integrityEveryMs = options.integrityCheckIntervalMs ?? 10 * 60_000;
    let conn;
    let fault;
    /** Set once a database was open in this process: from then on a missing file is never recreated empty. */
    let hadDatabase = false;
    let closed = false;
    let retryTimer;
    let retryDelay = retryMs;
    let lastIntegrityCheck = 0;
    /** Set while the check of a large file, deferred from opening to just after start-up, is pending. */
    let deferredCheck;
    const describe = (kind, detail) => {
        const lead = `the database ${file} cannot be read or written`;
        switch (kind) {
            case 'locked':
                return `${lead}: it is locked by another program for longer than ${busyTimeoutMs} ms (${detail}); close the sqlite3 shell, backup tool or second server holding it; requests resume by themselves`;
            case 'full':
                return `${lead}: the disk is full (${detail}); free space on the disk holding ${dataDir}; the server resumes by itself`;
            case 'read_only':
                return `${lead}: the data folder is read-only (${detail}); make ${dataDir} writable again; the server resumes by itself`;
            case 'damaged':
                return `${lead}: the file is damaged (${detail}); stop the add-on and restore ${exports.DB_FILE} from a backup (or delete it: every Alexa user must then link again)`;
            case 'missing':
                return `${lead}: the file is gone (${detail}); put it back (restore it from a backup); until then links are served read-only from the copy still open. A restart would start an empty database and every user would have to link again`;
            case 'unopened':
                return `${lead}: it cannot be opened (${detail}); the server keeps retrying`;
            default:
                return `${lead}: disk I/O error (${detail}); check the storage holding ${dataDir}`;
        }
    };
    function setBusyTimeout(ms) {
        try {
            conn?.db.exec(`PRAGMA busy_timeout = ${Math.floor(ms)}`);
        }
        catch {
            /* the next statement reports the fault */
        }
    }
    function setFault(kind, detail) {
        const reason = describe(kind, detail);
        if (kind === 'locked' && fault?.kind !== 'locked')
            setBusyTimeout(LOCKED_BUSY_MS);
        else if (kind !== 'locked' && fault?.kind === 'locked')
            setBusyTimeout(busyTimeoutMs);
        if (!fault || fault.kind !== kind) {
            // One line per fault (not per failing request), so a lasting fault does not flood the log.
            log?.error(`database fault: ${reason}`, { fault: kind });
            fault = { kind, reason, since: fault?.since ?? Date.now() };
            options.onFault?.(kind, reason);
        }
        else {
            fault.reason = reason;
        }
        scheduleRecovery();
        return fault;
    }
    function clearFault() {
        if (!fault)
            return;
        const lasted = Date.now() - fault.since;
        log?.info(`database recovered: it can be read and written again (fault "${fault.kind}" lasted ${Math.round(lasted / 1000)} s)`);
        if (fault.kind === 'locked')
            setBusyTimeout(busyTimeoutMs);
        const kind = fault.kind;
        fault = undefined;
        retryDelay = retryMs;
        options.onRecovered?.(kind, lasted);
    }
    /** Turns any failure into a StoreError, recording the fault it shows. */
    function classify(err) {
        if (err instanceof faults_1.StoreError)
            return err;
        const code = sqliteCode(err);
        if (code === undefined) {
            if (err instanceof SyntaxError) {
                // Only JSON is ever written: a record that does not parse was changed outside the server.
                return new faults_1.StoreError('damaged', setFault('damaged', `a record in ${file} is not valid JSON (${err.message}); the file was modified outside the server`).reason, { cause: err });
            }
            return new faults_1.StoreError('io', `database error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
        }
        let kind = FAULT_BY_CODE[code] ?? 'io';
        let detail = String(err.message);
        if (kind !== 'locked' && kind !== 'damaged') {
            const found = diagnoseFilesystem(dataDir, file, hadDatabase);
            if (found) {
                kind = found.kind;
                detail = `${detail}; ${found.detail}`;
            }
        }
        return new faults_1.StoreError(kind, setFault(kind, detail).reason, { cause: err });
    }
    /** Opens a connection after checking the file; brings its layout up to date (the 1.0.0 upgrade included). */
    function connect(deep) {
        // Once a database was open, a missing file is a fault to report, never a reason to start an empty one.
        if (hadDatabase && !(0, node_fs_1.existsSync)(file))
            throw new OpenFault('missing', `${file} was deleted or moved`);
        const badHeader = headerProblem(file);
        if (badHeader)
            throw new OpenFault('damaged', badHeader);
        try {
            (0, node_fs_1.mkdirSync)(dataDir, { recursive: true });
        }
        catch (err) {
            const code = errno(err);
            throw new OpenFault(code === 'ENOSPC' ? 'full' : 'read_only', `the data folder ${dataDir} cannot be created (${code}: ${errnoText[code] ?? String(err)})`);
        }
        // quick_check reads every page (0.4 s for 100,000 links): a large file is checked right after start-up instead,
        // by the background check, so it does not delay the add-on becoming healthy.
        if (deep && (0, node_fs_1.existsSync)(file) && (0, node_fs_1.statSync)(file).size <= DEEP_CHECK_AT_OPEN_BYTES) {
            const first = checkOnFreshConnection(file, busyTimeoutMs, 'quick_check')[0] ?? 'no answer';
            if (first !== 'ok')
                throw new OpenFault('damaged', `integrity check: ${first}`);
            lastIntegrityCheck = Date.now();
        }
        const db = new node_sqlite_1.DatabaseSync(file, { timeout: busyTimeoutMs });
        try {
            db.exec('PRAGMA journal_mode = WAL');
            // NORMAL in WAL mode survives a process crash (kill -9) with every committed write; only a power cut can
            // lose the last transactions, and never corrupts the database. The WAL is synced in the background after
            // each commit that wrote (wal-flusher.ts): a power cut loses at most the commits since the last sync began.
            db.exec('PRAGMA synchronous = NORMAL');
            // A WAL that a burst grew is cut back to 4 MiB once it has been checkpointed and starts over.
            db.exec('PRAGMA journal_size_limit = 4194304');
            // A checkpoint runs inside the commit that crosses this many WAL pages, on the event loop: it copies them
            // to the database file and syncs it. Half SQLite's default of 1000 halves the copy, the longest stall a
            // refresh can meet (p99 at 20,000 and 100,000 grants 5-8 ms lower, req/s 2-5% lower; docs/benchmark.md).
            db.exec('PRAGMA wal_autocheckpoint = 500');
            (0, schema_1.prepareSchema)(db, log, now(), () => {
                // Copied under a temporary name and renamed: a kill -9 during the copy never leaves a partial "backup".
                const copy = node_path_1.default.join(dataDir, 'oauth-1.0.0.sqlite');
                if ((0, node_fs_1.existsSync)(copy))
                    return copy;
                const partial = `${copy}.partial`;
                (0, node_fs_1.rmSync)(partial, { force: true });
                db.exec(`VACUUM INTO '${partial.replaceAll("'", "''")}'`);
                (0, node_fs_1.renameSync)(partial, copy);
                return copy;
            });
            const sql = {
                beginWrite: db.prepare('BEGIN IMMEDIATE'),
                beginRead: db.prepare('BEGIN'),
                commit: db.prepare('COMMIT'),
                rollback: db.prepare('ROLLBACK'),
                get: db.prepare(`SELECT value FROM ${schema_1.TABLE} WHERE key = ? AND (expires IS NULL OR expires > ?)`),
                put: db.prepare(`INSERT INTO ${schema_1.TABLE} (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires`),
                del: db.prepare(`DELETE FROM ${schema_1.TABLE} WHERE key = ?`),
                scan: db.prepare(`SELECT key, value, expires FROM ${schema_1.TABLE} WHERE key >= ? AND key < ? AND (expires IS NULL OR expires > ?) ORDER BY key`),
                // The purge walks the table by key, a window of rows at a time (store/kv.ts purgeStep).
                purgeWindow: db.prepare(`SELECT max(key) AS last, count(*) AS n FROM (SELECT key FROM ${schema_1.TABLE} WHERE key > ? ORDER BY key LIMIT ?)`),
                purgeRange: db.prepare(`DELETE FROM ${schema_1.TABLE} WHERE key > ? AND key <= ? AND expires <= ?`),
            };
            hadDatabase = true;
            return { ino: (0, node_fs_1.statSync)(file).ino, db, sql, wal: (0, wal_flusher_1.flushWalInBackground)(`${file}-wal`) };
        }
        catch (err) {
            db.close();
            if (err instanceof schema_1.SchemaError)
                throw new OpenFault('unopened', err.message);
            throw err;
        }
    }
    /** Replaces the connection with a fresh one that passed the checks; keeps the old one when that fails. */
    function reopen(deep) {
        try {
            const fresh = connect(deep);
            const old = conn;
            conn = fresh;
            if (old) {
                old.wal.close();
                old.db.close();
            }
            return true;
        }
        catch (err) {
            openFailed(err);
            return false;
        }
    }
    /** Records why opening failed: the fault it shows, or `unopened` for a cause that is no storage fault. */
    function openFailed(err) {
        if (err instanceof OpenFault)
            setFault(err.kind, err.detail);
        else if (sqliteCode(err) !== undefined)
            classify(err);
        else
            setFault('unopened', err instanceof Error ? err.message : String(err));
    }
    function scheduleRecovery() {
        if (retryTimer || closed)
            return;
        retryTimer = setTimeout(() => {
            retryTimer = undefined;
            if (closed || !fault)
                return;
            if (!check().ok) {
                retryDelay = Math.min(retryDelay * 2, maxRetryMs);
                scheduleRecovery();
            }
        }, retryDelay);
        retryTimer.unref();
    }
    /**
     * Whether the file the connection writes to is still the one under the database's name. SQLite keeps writing
     * to a deleted or replaced file (and to the WAL, which goes by name), so this is checked before every write.
     */
    function fileMoved(c) {
        try {
            return (0, node_fs_1.statSync)(file).ino === c.ino ? undefined : `${file} was replaced by another file while the server ran`;
        }
        catch {
            return `${file} was deleted or moved`;
        }
    }
    /** `written.any` turns true at the unit's first put or delete. */
    function txFor(c, writable, written) {
        const refuse = () => {
            throw new Error('read(): a read-only unit of work cannot write');
        };
        return {
            get: (key) => {
                const row = c.sql.get.get(key, now());
                if (row === undefined && fault?.kind === 'damaged')
                    throw new faults_1.StoreError('damaged', fault.reason);
                return row === undefined ? undefined : (0, kv_1.decodeRow)(row.value);
            },
            put: writable
                ? (key, value, expires) => {
                    written.any = true;
                    c.sql.put.run(key, (0, kv_1.encodeRow)(value, expires), expires ?? null);
                }
                : refuse,
            delete: writable
                ? (key) => {
                    written.any = true;
                    c.sql.del.run(key);
                }
                : refuse,
            scan: (prefix) => c.sql.scan.all(prefix, `${prefix}\uffff`, now()).map((r) => ({ key: r.key, value: (0, kv_1.decodeRow)(r.value), expires: r.expires ?? undefined })),
        };
    }
    /** `probing`: the health probe, which may write to a connection that was just reopened on a repaired file. */
    function run(write, op, probing = false) {
        if (closed)
            throw new faults_1.StoreError('unopened', `the database ${file} is closed (the server is stopping)`);
        const c = conn;
        if (!c)
            throw new faults_1.StoreError(fault?.kind ?? 'unopened', fault?.reason ?? describe('unopened', 'not opened yet'));
        if (write) {
            const moved = fileMoved(c);
            if (moved)
                throw new faults_1.StoreError('missing', setFault('missing', moved).reason);
            if (!probing && fault && (fault.kind === 'damaged' || fault.kind === 'missing'))
                throw new faults_1.StoreError(fault.kind, fault.reason);
        }
        try {
            const result = op(c);
            if (write && fault && CLEARED_BY_WRITE.has(fault.kind) && c === conn)
                clearFault();
            return result;
        }
        catch (err) {
            if (err instanceof WorkFailed)
                throw err.error;
            throw classify(err);
        }
    }
    function unit(write, work, probing = false) {
        return run(write, (c) => {
            // BEGIN IMMEDIATE takes the write lock up front: two writers (this server and the CLI) never both read
            // and then both write. A read-only unit uses a deferred transaction: one snapshot, no lock.
            (write ? c.sql.beginWrite : c.sql.beginRead).run();
            const written = { any: false };
            let result;
            try {
                result = work(txFor(c, write, written));
                c.sql.commit.run();
            }
            catch (err) {
                // A failed COMMIT (a full disk, an I/O error) may leave the transaction open: close it too, or the next
                // BEGIN on this connection would fail.
                if (c.db.isTransaction)
                    c.sql.rollback.run();
                // A statement's failure (or a record that does not parse) is a storage fault to classify; anything else
                // the work threw is passed on as is.
                throw sqliteCode(err) !== undefined || err instanceof faults_1.StoreError || err instanceof SyntaxError ? err : new WorkFailed(err);
            }
            // Only a unit that wrote has anything to sync: a refused request commits an empty transaction.
            if (written.any)
                c.wal.committed();
            return result;
        }, probing);
    }
    /** Decisions throw OAuth errors as values to return, never through here; what does throw is rolled back and rethrown as is. */
    function transaction(work) {
        return unit(true, work);
    }
    function check(opts = {}) {
        if (closed)
            return { ok: false, fault: 'unopened', reason: `the database ${file} is closed` };
        const badHeader = headerProblem(file);
        if (badHeader) {
            setFault('damaged', badHeader);
            return status();
        }
        const moved = conn && fileMoved(conn);
        if (moved)
            setFault('missing', moved);
        // A pending deferred check is not run again here: the first health probes after start-up stay quick.
        const integrityDue = fault?.kind === 'damaged' || (deferredCheck === undefined && Date.now() - lastIntegrityCheck >= integrityEveryMs);
        if (!conn || (fault && REOPEN_AFTER.has(fault.kind))) {
            if (!reopen(true))
                return status();
        }
        else if (integrityDue && !quickCheck()) {
            return status();
        }
        if (opts.write === false)
            return status();
        const stamp = `${process.pid}-${Date.now()}`;
        try {
            const back = unit(true, (tx) => {
                tx.put(PROBE_KEY, { stamp, pad: PROBE_PAD }, now() + 60_000);
                const read = tx.get(PROBE_KEY);
                tx.delete(PROBE_KEY);
                return read;
            }, true);
            if (back?.stamp !== stamp) {
                setFault('damaged', 'a probe record read back differently than it was written');
                return status();
            }
        }
        catch {
            return status();
        }
        clearFault();
        return { ok: true };
    }
    function quickCheck() {
        if (!(0, node_fs_1.existsSync)(file)) {
            if (hadDatabase)
                setFault('missing', `${file} was deleted or moved`);
            return !hadDatabase;
        }
        try {
            const first = checkOnFreshConnection(file, busyTimeoutMs, 'quick_check')[0] ?? 'no answer';
            lastIntegrityCheck = Date.now();
            if (first !== 'ok') {
                setFault('damaged', `integrity check: ${first}`);
                return false;
            }
            return true;
        }
        catch (err) {
            classify(err);
            return false;
        }
    }
    function integrityCheck() {
        if (!(0, node_fs_1.existsSync)(file))
            return [hadDatabase ? `${file} was deleted or moved` : `${file} does not exist yet`];
        try {
            const problems = checkOnFreshConnection(file, busyTimeoutMs, 'integrity_check(20)');
            if (problems.length !== 1 || problems[0] !== 'ok')
                setFault('damaged', `integrity check: ${problems[0]}`);
            return problems;
        }
        catch (err) {
            throw classify(err);
        }
    }
    function status() {
        if (closed)
            return { ok: false, fault: 'unopened', reason: `the database ${file} is closed` };
        if (!fault)
            return conn ? { ok: true } : { ok: false, fault: 'unopened', reason: describe('unopened', 'not opened yet') };
        return { ok: false, fault: fault.kind, reason: fault.reason, since: new Date(fault.since).toISOString() };
    }
    // First open. A failure is reported and retried in the background instead of stopping the server.
    try {
        conn = connect(true);
    }
    catch (err) {
        openFailed(err);
    }
    if (conn && lastIntegrityCheck === 0) {
        deferredCheck = setTimeout(() => {
            deferredCheck = undefined;
            if (!closed && lastIntegrityCheck === 0)
                quickCheck();
        }, DEFERRED_CHECK_MS);
        deferredCheck.unref();
    }
    return {
        file,
        transaction,
        read: (work) => unit(false, work),
        purgeStep: (after, limit) => run(true, (c) => {
            const from = after ?? '';
            const window = c.sql.purgeWindow.get(from, limit);
            if (window.last === null)
                return { removed: 0 };
            const removed = Number(c.sql.purgeRange.run(from, window.last, now()).changes);
            return { removed, next: window.n === limit ? window.last : undefined };
        }),
        check,
        status,
        integrityCheck,
        sizeBytes() {
            return ['', '-wal', '-shm'].reduce((sum, suffix) => {
                try {
                    return sum + (0, node_fs_1.statSync)(file + suffix).size;
                }
                catch {
                    return sum;
                }
            }, 0);
        },
        close() {
            if (closed)
                return;
            closed = true;
            clearTimeout(retryTimer);
            clearTimeout(deferredCheck);
            const c = conn;
            conn = undefined;
            c?.wal.close();
            try {
                c?.db.close();
            }
            catch {
                /* closing is best effort */
            }
        },
    };
}
//# sourceMappingURL=sqlite-store.js.map