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
import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  statfsSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { DatabaseSync, StatementSync } from 'node:sqlite';
import { STARTS_OVER, StoreError, StoreEvents, StoreFault, StoreHealth } from '../faults';
import { Kv, KvRow, KvTx, decodeRow, encodeRow } from '../kv';
import { SchemaError, TABLE, prepareSchema } from './schema';
import { WalFlusher, flushWalInBackground } from './wal-flusher';

export const DB_FILE = 'oauth.sqlite';
/**
 * Written next to the database once it exists, and kept in backups with it: while it is there, a missing database
 * file is a fault to report at start-up too, never a reason to start an empty one (which would unlink every user
 * without a word). Deleting it is how an operator starts over on purpose.
 */
export const CREATED_MARK = `${DB_FILE}-created`;
/** Left by rootfs oauth-backup when it put a backup's database in place; the server records it and removes it. */
export const RESTORED_MARK = `${DB_FILE}-restored`;
const CREATED_MARK_TEXT = `The add-on's database ${DB_FILE} was created in this folder. While this file is here, the add-on does not
replace a missing ${DB_FILE} with an empty one: restore the add-on from a backup instead. To start over with no
links, use "Start over" on the add-on's admin page (or delete ${DB_FILE}, ${DB_FILE}-wal, ${DB_FILE}-shm and this file).
`;
/** The database file and the two SQLite keeps beside it in WAL mode, by their suffix. */
const DB_SUFFIXES = ['', '-wal', '-shm'] as const;

/**
 * Whether a database is, or was, in this folder: its file, a file SQLite keeps beside it, or the mark. An empty
 * oauth.sqlite alone is none: the server's first statement writes its first page.
 */
export function holdsDatabase(dataDir: string): boolean {
  const file = path.join(dataDir, DB_FILE);
  return existsSync(path.join(dataDir, CREATED_MARK)) || fileBytes(file) > 0 || keptBeside(file).length > 0;
}

/** The files SQLite keeps beside a database (its WAL, its shared memory) that are there, by name. */
function keptBeside(file: string): string[] {
  return DB_SUFFIXES.filter((suffix) => suffix !== '' && existsSync(file + suffix)).map((suffix) => DB_FILE + suffix);
}

/** The size of a file, 0 when it is not there or cannot be looked at. */
function fileBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
const SQLITE_MAGIC = 'SQLite format 3\0';
const PROBE_KEY = 'health:probe';
/** Connections to a file emptied under them, kept from the garbage collector, whose finaliser would close them. */
const NEVER_CLOSED: DatabaseSync[] = [];
/** Files up to this size are integrity-checked before the store opens; larger ones just after (see connect). */
const DEEP_CHECK_AT_OPEN_BYTES = 16 * 1024 * 1024;
/** Bytes per page of a new database file (see connect). */
export const PAGE_SIZE = 8192;
/** The WAL is checkpointed once it holds this many bytes of pages (see connect). */
export const CHECKPOINT_BYTES = 2 * 1024 * 1024;
/** How soon after start-up a large file gets its integrity check. */
const DEFERRED_CHECK_MS = 1000;
/** Larger than any record the server writes: when the disk is nearly full the probe fails first. */
const PROBE_PAD = '.'.repeat(4 * 1024);

export interface SqliteStore extends Kv {
  readonly file: string;
  /**
   * Checks the file (header, still the same file, integrity now and then) and, with `write` (the default), writes,
   * reads back and deletes a probe record; clears a fault that is gone.
   */
  check(opts?: { write?: boolean }): StoreHealth;
  /** The last known state, without touching the database. */
  status(): StoreHealth;
  /** PRAGMA integrity_check on a fresh connection: ['ok'] or the problems found (at most 20). Problems mark the store damaged. */
  integrityCheck(): string[];
  /** Size of the database files in bytes. */
  sizeBytes(): number;
  /**
   * The way out of a missing or damaged database when there is no backup (the admin page offers it): what is left
   * of the database is kept under new names, never deleted, the mark goes, and an empty database is opened. Every
   * link is gone with it. Refused while the database is usable or has any other fault.
   */
  startOver(): StartOverResult;
  close(): void;
}

export type StartOverResult = { done: true; kept: string[]; health: StoreHealth } | { done: false; reason: string };

/** Where the store reports faults and recoveries (the add-on log); winston's Logger fits. */
export interface StoreLog {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
}

export interface StoreOptions extends StoreEvents {
  log?: StoreLog;
  /**
   * How long a statement waits for another program's lock (ms). The wait blocks the event loop (the driver is
   * synchronous), so it is short: the CLI's and the backup's transactions take milliseconds.
   */
  busyTimeoutMs?: number;
  /** First and longest pause between background recovery attempts while a fault lasts (ms). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Least time between integrity checks of the file on a fresh connection while healthy (ms). */
  integrityCheckIntervalMs?: number;
  /** The clock expiry is measured by (tests move it). */
  now?: () => number;
  /**
   * Never create the database: a folder without one reports it as `unopened`, or the fault that would keep the server
   * from creating one there (read-only, full, not a folder). The CLI on a folder the server has not started in, or on
   * a mistyped one, must not leave an empty database there.
   */
  existingOnly?: boolean;
}

interface Statements {
  // Transaction control, prepared once: exec() would parse the SQL again for every decision.
  beginWrite: StatementSync;
  beginRead: StatementSync;
  commit: StatementSync;
  rollback: StatementSync;
  /** Rows as arrays (valueOf). */
  get: StatementSync;
  put: StatementSync;
  del: StatementSync;
  scan: StatementSync;
  purgeWindow: StatementSync;
  purgeRange: StatementSync;
}

/** A statement whose rows come back as arrays: a third cheaper per read than rows as objects keyed by column name. */
function valueOf(statement: StatementSync): StatementSync {
  statement.setReturnArrays(true);
  return statement;
}

interface Connection {
  /** Inode of the file this connection opened: another inode under the same name is another file. */
  ino: number;
  db: DatabaseSync;
  sql: Statements;
  wal: WalFlusher;
}

interface Fault {
  kind: StoreFault;
  reason: string;
  since: number;
}

/** SQLite's primary result codes (the low byte of an extended code). */
const FAULT_BY_CODE: Record<number, StoreFault> = {
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
const REOPEN_AFTER = new Set<StoreFault>(['damaged', 'missing', 'io', 'read_only', 'unopened']);
/** Faults a successful write proves gone (not "full": a small write can fit where the next does not). */
const CLEARED_BY_WRITE = new Set<StoreFault>(['locked', 'read_only', 'io']);
/** While another program holds the lock, statements give up quickly: every queued request would wait in turn. */
const LOCKED_BUSY_MS = 100;

/** A read-only unit's record of writes: it never writes (txFor refuses). */
const NOTHING_WRITTEN = { any: false };

/** An error the unit of work itself threw: rolled back, then rethrown as it is (it is no storage fault). */
class WorkFailed {
  constructor(readonly error: unknown) {}
}

/**
 * What a unit of work throws once its transaction is closed: a statement's failure (or a record that does not parse)
 * as it is, for run() to classify as a storage fault; anything else the work threw wrapped, to be passed on as is.
 */
function unitFailure(err: unknown): unknown {
  return sqliteCode(err) !== undefined || err instanceof StoreError || err instanceof SyntaxError ? err : new WorkFailed(err);
}

/** A fault found while opening, before any StoreError exists: its kind and the concrete detail. */
class OpenFault extends Error {
  constructor(
    readonly kind: StoreFault,
    readonly detail: string,
  ) {
    super(detail);
  }
}

function sqliteCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; errcode?: unknown } | null;
  return e?.code === 'ERR_SQLITE_ERROR' && typeof e.errcode === 'number' ? e.errcode & 0xff : undefined;
}

const errnoText: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is mounted read-only',
  EACCES: 'permission denied (check the owner and mode)',
  EPERM: 'operation not permitted (the file or folder may be immutable: check chattr/lsattr)',
};

const errno = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? 'error';

/** Looks at the filesystem for the concrete cause of a write or open failure. */
function diagnoseFilesystem(dir: string, file: string, hadDatabase: boolean): { kind: StoreFault; detail: string } | undefined {
  if (!existsSync(dir)) return { kind: 'missing', detail: `the data folder ${dir} does not exist` };
  if (hadDatabase && !existsSync(file)) return { kind: 'missing', detail: `${file} was deleted or moved` };
  for (const f of DB_SUFFIXES.map((suffix) => file + suffix)) {
    if (!existsSync(f)) continue;
    try {
      closeSync(openSync(f, 'r+'));
    } catch (err) {
      const code = errno(err);
      return {
        kind: code === 'ENOSPC' ? 'full' : 'read_only',
        detail: `${path.basename(f)} cannot be opened for writing (${code}: ${errnoText[code] ?? String(err)})`,
      };
    }
  }
  const probe = path.join(dir, `.write-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, Buffer.alloc(16 * 1024));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
      unlinkSync(probe);
    }
  } catch (err) {
    const code = errno(err);
    try {
      if (existsSync(probe)) unlinkSync(probe);
    } catch {
      /* best effort */
    }
    const kind: StoreFault =
      code === 'ENOSPC' || code === 'EDQUOT' ? 'full' : code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'read_only' : 'io';
    return { kind, detail: `a file cannot be written in ${dir} (${code}: ${errnoText[code] ?? String(err)})` };
  }
  try {
    const fs = statfsSync(dir);
    const free = Number(fs.bavail) * Number(fs.bsize);
    if (free < 256 * 1024) return { kind: 'full', detail: `only ${Math.floor(free / 1024)} KiB free on the disk holding ${dir}` };
  } catch {
    /* statfs is a refinement only */
  }
  return undefined;
}

/** The first 16 bytes of a non-empty SQLite file are its magic string; anything else is not our database. */
function headerProblem(file: string): string | undefined {
  let fd: number | undefined;
  try {
    if (fileBytes(file) === 0) return undefined;
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    if (n < 16 || buf.toString('latin1') !== SQLITE_MAGIC)
      return 'its header is not an SQLite header (the file was overwritten or is not a database)';
    return undefined;
  } catch {
    return undefined; // unreadable: the SQLite calls report it precisely
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** PRAGMA quick_check / integrity_check on a fresh read-only connection: what is on disk now, not a cache. */
function checkOnFreshConnection(file: string, busyTimeoutMs: number, pragma: 'quick_check' | 'integrity_check(20)'): string[] {
  const db = new DatabaseSync(file, { readOnly: true, timeout: busyTimeoutMs });
  try {
    return (db.prepare(`PRAGMA ${pragma}`).all() as Array<Record<string, unknown>>).map((r) => String(Object.values(r)[0]));
  } finally {
    db.close();
  }
}

/**
 * Opens the store. Never throws for a storage reason: a database that cannot be opened yields a store in the
 * `unopened` fault, which /health reports and which keeps trying to open it in the background.
 */
export function openSqliteStore(dataDir: string, options: StoreOptions = {}): SqliteStore {
  const file = path.join(dataDir, DB_FILE);
  const mark = path.join(dataDir, CREATED_MARK);
  const { log } = options;
  const now = options.now ?? Date.now;
  const busyTimeoutMs = options.busyTimeoutMs ?? 1000;
  const retryMs = options.retryMs ?? 1000;
  const maxRetryMs = options.maxRetryMs ?? 15_000;
  const integrityEveryMs = options.integrityCheckIntervalMs ?? 10 * 60_000;

  let conn: Connection | undefined;
  let fault: Fault | undefined;
  /** Set while startOver opens the empty database, so that the recovery it brings says so. */
  let startingOver = false;
  /** Set once a database was open in this process: from then on a missing file is never recreated empty. */
  let hadDatabase = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMs;
  let lastIntegrityCheck = 0;
  /** Set while the check of a large file, deferred from opening to just after start-up, is pending. */
  let deferredCheck: NodeJS.Timeout | undefined;
  /** The connection whose read transaction this turn of the event loop's reads share (see readUnit). */
  let sharedRead: Connection | undefined;

  const describe = (kind: StoreFault, detail: string): string => {
    const lead = `the database ${file} cannot be read or written`;
    switch (kind) {
      case 'locked':
        return `${lead}: it is locked by another program for longer than ${busyTimeoutMs} ms (${detail}); close the sqlite3 shell, backup tool or second server holding it; requests resume by themselves`;
      case 'full':
        return `${lead}: the disk is full (${detail}); free space on the disk holding ${dataDir}; the server resumes by itself`;
      case 'read_only':
        return `${lead}: the data folder is read-only (${detail}); make ${dataDir} writable again; the server resumes by itself`;
      case 'damaged':
        return `${lead}: the file is damaged (${detail}); restore the add-on from a backup; without one, start over with an empty database from the admin page's Status (every Alexa user must then link again)`;
      case 'missing':
        return (
          `${lead}: the file is gone (${detail}); restore the add-on from a backup, or put the file back` +
          (conn ? '; until then links are served read-only from the copy still open' : '') +
          "; the add-on never starts an empty database in its place by itself: without a backup, start over from the admin page's Status (every Alexa user must then link again)"
        );
      case 'unopened':
        return `${lead}: it cannot be opened (${detail})`;
      default:
        return `${lead}: disk I/O error (${detail}); check the storage holding ${dataDir}`;
    }
  };

  function setBusyTimeout(ms: number): void {
    try {
      conn?.db.exec(`PRAGMA busy_timeout = ${Math.floor(ms)}`);
    } catch {
      /* the next statement reports the fault */
    }
  }

  function setFault(kind: StoreFault, detail: string): Fault {
    const reason = describe(kind, detail);
    if (kind === 'locked' && fault?.kind !== 'locked') setBusyTimeout(LOCKED_BUSY_MS);
    else if (kind !== 'locked' && fault?.kind === 'locked') setBusyTimeout(busyTimeoutMs);
    if (!fault || fault.kind !== kind) {
      // One line per fault (not per failing request), so a lasting fault does not flood the log.
      log?.error(`database fault: ${reason}`, { fault: kind });
      fault = { kind, reason, since: fault?.since ?? Date.now() };
      options.onFault?.(kind, reason);
    } else {
      fault.reason = reason;
    }
    scheduleRecovery();
    return fault;
  }

  function clearFault(): void {
    if (!fault) return;
    const lasted = Date.now() - fault.since;
    log?.info(`database recovered: it can be read and written again (fault "${fault.kind}" lasted ${Math.round(lasted / 1000)} s)`);
    if (fault.kind === 'locked') setBusyTimeout(busyTimeoutMs);
    const kind = fault.kind;
    fault = undefined;
    retryDelay = retryMs;
    options.onRecovered?.(kind, lasted, startingOver);
  }

  /** Turns any failure into a StoreError, recording the fault it shows. */
  function classify(err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const code = sqliteCode(err);
    if (code === undefined) {
      if (err instanceof SyntaxError) {
        // Only JSON is ever written: a record that does not parse was changed outside the server.
        return new StoreError(
          'damaged',
          setFault('damaged', `a record in ${file} is not valid JSON (${err.message}); the file was modified outside the server`).reason,
          { cause: err },
        );
      }
      return new StoreError('io', `database error: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let kind = FAULT_BY_CODE[code] ?? 'io';
    let detail = String((err as Error).message);
    if (kind !== 'locked' && kind !== 'damaged') {
      const found = diagnoseFilesystem(dataDir, file, hadDatabase);
      if (found) {
        kind = found.kind;
        detail = `${detail}; ${found.detail}`;
      }
    }
    return new StoreError(kind, setFault(kind, detail).reason, { cause: err });
  }

  /** What is gone: the file, or the whole data folder with it. */
  const goneDetail = () => (existsSync(dataDir) ? `${file} was deleted or moved` : `the data folder ${dataDir} was deleted or moved`);
  const emptiedDetail = () => `${file} was emptied (0 bytes) while the server had it open`;

  /** Leaves the mark once a database is open (databases older than the mark get it at their next start). */
  function markCreated(): void {
    if (existsSync(mark)) return;
    try {
      writeFileSync(mark, CREATED_MARK_TEXT);
    } catch (err) {
      log?.warn(`${mark} cannot be written (${errno(err)}): a missing database would not be noticed at start-up`);
    }
  }

  /**
   * Why a database should be here though its file is not, or is empty: it was open in this process, or it was
   * before. Opening the database writes its first page at once (journal_mode), so an empty file where one was has
   * lost its content (a copy or restore that failed, a power cut on a file system that delays its writes), and
   * must not be taken for a new database.
   */
  function goneDatabase(): string | undefined {
    const present = existsSync(file);
    if (present && fileBytes(file) > 0) return undefined;
    if (hadDatabase) return present ? emptiedDetail() : goneDetail();
    if (existsSync(mark))
      return present
        ? `${file} is empty (0 bytes), but ${CREATED_MARK} says a database was created in ${dataDir}: its content was lost`
        : `${file} is not there, but ${CREATED_MARK} says it was created in ${dataDir}`;
    const left = keptBeside(file);
    return left.length > 0 ? `${file} is ${present ? 'empty (0 bytes)' : 'not there'}, but its ${left.join(' and ')} are` : undefined;
  }

  /** Opens a connection after checking the file; brings its layout up to date (the 1.0.0 upgrade included). */
  function connect(deep: boolean): Connection {
    // Once a database was here, a missing file is a fault to report, never a reason to start an empty one.
    const gone = goneDatabase();
    if (gone) throw new OpenFault('missing', gone);
    if (options.existingOnly && fileBytes(file) === 0) {
      // A folder the server could not create its database in says why (read-only, full, not a folder), not "yet".
      const found = diagnoseFilesystem(dataDir, file, false);
      if (found) throw new OpenFault(found.kind, found.detail);
      throw new OpenFault('unopened', `there is no database in ${dataDir} yet: the server creates ${DB_FILE} at its first start there`);
    }
    const badHeader = headerProblem(file);
    if (badHeader) throw new OpenFault('damaged', badHeader);
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      const code = errno(err);
      throw new OpenFault(
        code === 'ENOSPC' ? 'full' : 'read_only',
        `the data folder ${dataDir} cannot be created (${code}: ${errnoText[code] ?? String(err)})`,
      );
    }
    // quick_check reads every page (0.4 s for 100,000 links): a large file is checked right after start-up instead,
    // by the background check, so it does not delay the add-on becoming healthy.
    if (deep && existsSync(file) && statSync(file).size <= DEEP_CHECK_AT_OPEN_BYTES) {
      const first = checkOnFreshConnection(file, busyTimeoutMs, 'quick_check')[0] ?? 'no answer';
      if (first !== 'ok') throw new OpenFault('damaged', `integrity check: ${first}`);
      lastIntegrityCheck = Date.now();
    }
    const db = new DatabaseSync(file, { timeout: busyTimeoutMs });
    try {
      // A new file gets 8 KiB pages; an existing one keeps its own (SQLite fixes the size with the first page). A
      // grant lists its earlier refresh tokens (refresh_token_grace_generations, 10 by default): about 1.3 KB, more
      // than a 4 KiB page of a WITHOUT ROWID table keeps in place (1 KB), so every refresh also read and rewrote an
      // overflow page, and the free-list pages with it (docs/benchmark.md).
      db.exec(`PRAGMA page_size = ${PAGE_SIZE}`);
      db.exec('PRAGMA journal_mode = WAL');
      // NORMAL in WAL mode survives a process crash (kill -9) with every committed write; only a power cut can
      // lose the last transactions, and never corrupts the database. The WAL is synced in the background after
      // each commit that wrote (wal-flusher.ts): a power cut loses at most the commits since the last sync began.
      db.exec('PRAGMA synchronous = NORMAL');
      // A WAL that a burst grew is cut back to 4 MiB once it has been checkpointed and starts over.
      db.exec('PRAGMA journal_size_limit = 4194304');
      // A checkpoint runs inside the commit that crosses this many WAL pages, on the event loop: it copies them
      // to the database file and syncs it. 2 MiB of pages, half SQLite's default of 1000 pages of 4 KiB, halves the
      // copy, the longest stall a refresh can meet (p99 at 20,000 and 100,000 grants 5-8 ms lower, req/s 2-5%
      // lower; with 8 KiB pages, 250 against 500 pages: p99 at 100,000 grants 18 against 22.5 ms; docs/benchmark.md).
      const pageSize = (db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size;
      db.exec(`PRAGMA wal_autocheckpoint = ${Math.max(1, Math.floor(CHECKPOINT_BYTES / pageSize))}`);
      prepareSchema(db, log, now(), () => {
        // Copied under a temporary name and renamed: a kill -9 during the copy never leaves a partial "backup".
        const copy = path.join(dataDir, 'oauth-1.0.0.sqlite');
        if (existsSync(copy)) return copy;
        const partial = `${copy}.partial`;
        rmSync(partial, { force: true });
        db.exec(`VACUUM INTO '${partial.replaceAll("'", "''")}'`);
        renameSync(partial, copy);
        return copy;
      });
      const sql: Statements = {
        beginWrite: db.prepare('BEGIN IMMEDIATE'),
        beginRead: db.prepare('BEGIN'),
        commit: db.prepare('COMMIT'),
        rollback: db.prepare('ROLLBACK'),
        get: valueOf(db.prepare(`SELECT value FROM ${TABLE} WHERE key = ? AND (expires IS NULL OR expires > ?)`)),
        put: db.prepare(
          `INSERT INTO ${TABLE} (key, value, expires) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires = excluded.expires`,
        ),
        del: db.prepare(`DELETE FROM ${TABLE} WHERE key = ?`),
        scan: db.prepare(
          `SELECT key, value, expires FROM ${TABLE} WHERE key >= ? AND key < ? AND (expires IS NULL OR expires > ?) ORDER BY key`,
        ),
        // The purge walks the table by key, a window of rows at a time (store/kv.ts purgeStep).
        purgeWindow: db.prepare(
          `SELECT max(key) AS last, count(*) AS n FROM (SELECT key FROM ${TABLE} WHERE key > ? ORDER BY key LIMIT ?)`,
        ),
        purgeRange: db.prepare(`DELETE FROM ${TABLE} WHERE key > ? AND key <= ? AND expires <= ?`),
      };
      hadDatabase = true;
      markCreated();
      return { ino: statSync(file).ino, db, sql, wal: flushWalInBackground(`${file}-wal`) };
    } catch (err) {
      db.close();
      if (err instanceof SchemaError) throw new OpenFault('unopened', err.message);
      throw err;
    }
  }

  /** Replaces the connection with a fresh one that passed the checks; keeps the old one when that fails. */
  function reopen(deep: boolean): boolean {
    try {
      const fresh = connect(deep);
      dropConnection();
      conn = fresh;
      return true;
    } catch (err) {
      openFailed(err);
      return false;
    }
  }

  /** Closes the connection, if any (one to a damaged or deleted file too: closing is best effort). */
  function dropConnection(): void {
    endSharedRead();
    const c = conn;
    conn = undefined;
    c?.wal.close();
    if (c && fileUnder(c) === 'emptied') {
      // Closing would copy the WAL into the emptied file (zeros where the rest was) and delete the WAL, which holds
      // the last writes: the connection stays open until the process ends (process.exit does not close it).
      NEVER_CLOSED.push(c.db);
      return;
    }
    try {
      c?.db.close();
    } catch {
      /* nothing more can be done with it */
    }
  }

  function startOver(): StartOverResult {
    check({ write: false }); // the fault as it is now, not as last seen
    const kind = fault?.kind;
    if (!STARTS_OVER.has(kind))
      return {
        done: false,
        reason: kind ? `the database's fault is "${kind}", which a new database would not cure` : 'the database is usable',
      };
    dropConnection();
    const stamp = new Date(now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    const kept: string[] = [];
    try {
      for (const suffix of DB_SUFFIXES) {
        if (!existsSync(file + suffix)) continue;
        const aside = `${DB_FILE}.replaced-${stamp}${suffix}`;
        renameSync(file + suffix, path.join(dataDir, aside));
        kept.push(aside);
      }
      rmSync(mark, { force: true });
    } catch (err) {
      return { done: false, reason: `the old files cannot be moved aside (${errno(err)}: ${errnoText[errno(err)] ?? String(err)})` };
    }
    hadDatabase = false;
    startingOver = true;
    log?.warn(`database started over: a new, empty ${DB_FILE}; the old files are kept as ${kept.join(', ') || '(none were left)'}`);
    try {
      return { done: true, kept, health: check() };
    } finally {
      startingOver = false;
    }
  }

  /** Records why opening failed: the fault it shows, or `unopened` for a cause that is no storage fault. */
  function openFailed(err: unknown): void {
    if (err instanceof OpenFault) setFault(err.kind, err.detail);
    else if (sqliteCode(err) !== undefined) classify(err);
    else setFault('unopened', err instanceof Error ? err.message : String(err));
  }

  function scheduleRecovery(): void {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || !fault) return;
      if (!check().ok) {
        retryDelay = Math.min(retryDelay * 2, maxRetryMs);
        scheduleRecovery();
      }
    }, retryDelay);
    retryTimer.unref();
  }

  /** What became of the file the connection writes to, looked at now. */
  function fileUnder(c: Connection): 'in place' | 'replaced' | 'emptied' | 'gone' {
    try {
      const st = statSync(file);
      // Emptied in place (a failed copy over it) keeps the inode; an open database is never 0 bytes.
      return st.ino !== c.ino ? 'replaced' : st.size === 0 ? 'emptied' : 'in place';
    } catch {
      return 'gone';
    }
  }

  /**
   * Why the file the connection writes to is no longer the database under its name: deleted, replaced, or emptied.
   * SQLite keeps writing to a deleted or replaced file (and to the WAL, which goes by name), so this is checked
   * before every write.
   */
  function fileMoved(c: Connection): string | undefined {
    const state = fileUnder(c);
    if (state === 'in place') return undefined;
    if (state === 'replaced') return `${file} was replaced by another file while the server ran`;
    return state === 'emptied' ? emptiedDetail() : goneDetail();
  }

  /** `written.any` turns true at the unit's first put or delete. */
  function txFor(c: Connection, writable: boolean, written: { any: boolean }): KvTx {
    const refuse = () => {
      throw new Error('read(): a read-only unit of work cannot write');
    };
    return {
      get: <T>(key: string) => {
        const row = c.sql.get.get(key, now()) as [value: string] | undefined;
        if (row === undefined && fault?.kind === 'damaged') throw new StoreError('damaged', fault.reason);
        return row === undefined ? undefined : decodeRow<T>(row[0]);
      },
      put: writable
        ? (key, value, expires) => {
            written.any = true;
            c.sql.put.run(key, encodeRow(value, expires), expires ?? null);
          }
        : refuse,
      delete: writable
        ? (key) => {
            written.any = true;
            c.sql.del.run(key);
          }
        : refuse,
      scan: <T>(prefix: string, keep?: (key: string) => boolean) => {
        const rows = c.sql.scan.all(prefix, `${prefix}\uffff`, now()) as Array<{ key: string; value: string; expires: number | null }>;
        const out: Array<KvRow<T>> = [];
        for (const r of rows) {
          if (!keep || keep(r.key)) out.push({ key: r.key, value: decodeRow<T>(r.value), expires: r.expires ?? undefined });
        }
        return out;
      },
    };
  }

  /** `probing`: the health probe, which may write to a connection that was just reopened on a repaired file. */
  function run<T>(write: boolean, op: (c: Connection) => T, probing = false): T {
    if (closed) throw new StoreError('unopened', `the database ${file} is closed (the server is stopping)`);
    const c = conn;
    if (!c) throw new StoreError(fault?.kind ?? 'unopened', fault?.reason ?? describe('unopened', 'not opened yet'));
    if (write) {
      const moved = fileMoved(c);
      if (moved) throw new StoreError('missing', setFault('missing', moved).reason);
      if (!probing && fault && (fault.kind === 'damaged' || fault.kind === 'missing')) throw new StoreError(fault.kind, fault.reason);
      // A write (a transaction, a purge step) runs outside the turn's shared read, and so ends it (see readUnit).
      endSharedRead();
    }
    try {
      const result = op(c);
      if (write && fault && CLEARED_BY_WRITE.has(fault.kind) && c === conn) clearFault();
      return result;
    } catch (err) {
      if (err instanceof WorkFailed) throw err.error;
      throw classify(err);
    }
  }

  /** Ends the read transaction this turn's reads share, if one is open. */
  function endSharedRead(): void {
    const c = sharedRead;
    if (!c) return;
    sharedRead = undefined;
    try {
      // Nothing was written in it: COMMIT only releases the snapshot (ROLLBACK would do the same).
      if (c.db.isTransaction) c.sql.commit.run();
    } catch {
      // A read-only transaction has nothing to lose; a connection that fails here reports it at its next statement.
    }
  }

  /**
   * A read-only unit of work. Every read of one turn of the event loop shares one deferred transaction, ended once
   * the turn's callbacks are done (setImmediate) or before anything else runs a statement on the connection (a
   * write, the purge, a reopen, close). A transaction's first read takes a WAL read lock and its end releases it:
   * two fcntl calls, system calls each, which with BEGIN and COMMIT cost an introspection about 20 of its 140 µs on
   * this VM, while at 16 connections several requests are read in one turn (docs/benchmark.md). So a read sees
   * the database as of the turn's first read: a commit by another program (the CLI) shows from the next turn on,
   * as if it had come a moment later; this process's own writes end the shared transaction first, so a read
   * always sees what this process committed before it. Decisions never rest on such a read: each is one write
   * transaction, which reads inside its own BEGIN IMMEDIATE.
   */
  function readUnit<T>(work: (tx: KvTx) => T): T {
    return run(false, (c) => {
      if (sharedRead !== c) {
        endSharedRead();
        c.sql.beginRead.run();
        sharedRead = c;
        setImmediate(() => {
          if (sharedRead === c) endSharedRead();
        });
      }
      try {
        return work(txFor(c, false, NOTHING_WRITTEN));
      } catch (err) {
        sharedRead = undefined;
        if (c.db.isTransaction) c.sql.rollback.run();
        throw unitFailure(err);
      }
    });
  }

  function writeUnit<T>(work: (tx: KvTx) => T, probing = false): T {
    return run(
      true,
      (c) => {
        // BEGIN IMMEDIATE takes the write lock up front: two writers (this server and the CLI) never both read
        // and then both write.
        c.sql.beginWrite.run();
        const written = { any: false };
        let result: T;
        try {
          result = work(txFor(c, true, written));
          c.sql.commit.run();
        } catch (err) {
          // A failed COMMIT (a full disk, an I/O error) may leave the transaction open: close it too, or the next
          // BEGIN on this connection would fail.
          if (c.db.isTransaction) c.sql.rollback.run();
          throw unitFailure(err);
        }
        // Only a unit that wrote has anything to sync: a refused request commits an empty transaction.
        if (written.any) c.wal.committed();
        return result;
      },
      probing,
    );
  }

  /** Decisions throw OAuth errors as values to return, never through here; what does throw is rolled back and rethrown as is. */
  function transaction<T>(work: (tx: KvTx) => T): T {
    return writeUnit(work);
  }

  function check(opts: { write?: boolean } = {}): StoreHealth {
    if (closed) return { ok: false, fault: 'unopened', reason: `the database ${file} is closed` };
    const badHeader = headerProblem(file);
    if (badHeader) {
      setFault('damaged', badHeader);
      return status();
    }
    const moved = conn && fileMoved(conn);
    if (moved) setFault('missing', moved);
    // A pending deferred check is not run again here: the first health probes after start-up stay quick.
    const integrityDue = fault?.kind === 'damaged' || (deferredCheck === undefined && Date.now() - lastIntegrityCheck >= integrityEveryMs);
    if (!conn || (fault && REOPEN_AFTER.has(fault.kind))) {
      if (!reopen(true)) return status();
    } else if (integrityDue && !quickCheck()) {
      return status();
    }
    if (opts.write === false) return status();
    const stamp = `${process.pid}-${Date.now()}`;
    try {
      const back = writeUnit((tx) => {
        tx.put(PROBE_KEY, { stamp, pad: PROBE_PAD }, now() + 60_000);
        const read = tx.get<{ stamp?: string }>(PROBE_KEY);
        tx.delete(PROBE_KEY);
        return read;
      }, true);
      if (back?.stamp !== stamp) {
        setFault('damaged', 'a probe record read back differently than it was written');
        return status();
      }
    } catch {
      return status();
    }
    clearFault();
    return { ok: true };
  }

  function quickCheck(): boolean {
    if (fileBytes(file) === 0) {
      // Nothing to check; and opening an empty file would make SQLite delete a WAL left beside it.
      const gone = goneDatabase();
      if (gone) setFault('missing', gone);
      return gone === undefined;
    }
    try {
      const first = checkOnFreshConnection(file, busyTimeoutMs, 'quick_check')[0] ?? 'no answer';
      lastIntegrityCheck = Date.now();
      if (first !== 'ok') {
        setFault('damaged', `integrity check: ${first}`);
        return false;
      }
      return true;
    } catch (err) {
      classify(err);
      return false;
    }
  }

  function integrityCheck(): string[] {
    if (fileBytes(file) === 0) return [goneDatabase() ?? `${file} ${existsSync(file) ? 'is empty: no database' : 'does not exist'} yet`];
    try {
      const problems = checkOnFreshConnection(file, busyTimeoutMs, 'integrity_check(20)');
      if (problems.length !== 1 || problems[0] !== 'ok') setFault('damaged', `integrity check: ${problems[0]}`);
      return problems;
    } catch (err) {
      throw classify(err);
    }
  }

  function status(): StoreHealth {
    if (closed) return { ok: false, fault: 'unopened', reason: `the database ${file} is closed` };
    if (!fault) return conn ? { ok: true } : { ok: false, fault: 'unopened', reason: describe('unopened', 'not opened yet') };
    return { ok: false, fault: fault.kind, reason: fault.reason, since: new Date(fault.since).toISOString() };
  }

  // First open. A failure is reported and retried in the background instead of stopping the server.
  try {
    conn = connect(true);
  } catch (err) {
    openFailed(err);
  }
  if (conn && lastIntegrityCheck === 0) {
    deferredCheck = setTimeout(() => {
      deferredCheck = undefined;
      if (!closed && lastIntegrityCheck === 0) quickCheck();
    }, DEFERRED_CHECK_MS);
    deferredCheck.unref();
  }

  return {
    file,
    transaction,
    read: readUnit,
    purgeStep: (after, limit) =>
      run(true, (c) => {
        const from = after ?? '';
        const window = c.sql.purgeWindow.get(from, limit) as { last: string | null; n: number };
        if (window.last === null) return { removed: 0 };
        const removed = Number(c.sql.purgeRange.run(from, window.last, now()).changes);
        return { removed, next: window.n === limit ? window.last : undefined };
      }),
    check,
    status,
    integrityCheck,
    sizeBytes() {
      return DB_SUFFIXES.reduce((sum, suffix) => sum + fileBytes(file + suffix), 0);
    },
    startOver,
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      clearTimeout(deferredCheck);
      dropConnection();
    },
  };
}
