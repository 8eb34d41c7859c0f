/**
 * The one persistent store: Keyv over @keyv/sqlite in DATA_DIR, tuned for a small server (WAL so readers never
 * wait for the writer, a busy timeout so a concurrent CLI or backup does not fail requests at once, an index on
 * the expiry so the background purge does not scan every record).
 *
 * Storage faults are part of the design, not an afterthought:
 * - Every SQLite failure becomes a StoreError naming the fault (locked, full, read_only, io, damaged, missing,
 *   unopened) with a reason for the operator, refined by looking at the filesystem (is the folder read-only, is
 *   the disk full, is the file still there). The first failure of a kind is logged once; /health reports it.
 * - The server never crash-loops on its database: when it cannot be opened at start-up the store starts
 *   "unopened" and keeps retrying in the background, like after any fault at run time. A fault clears by itself
 *   once a probe (write, read back, and for a damaged file an integrity check on a fresh connection) passes; a
 *   connection that may be stale (damaged, replaced or read-only file) is reopened, so no restart is needed.
 * - A read that fails is never "not found" (Keyv's throwOnErrors), and while the file is known to be damaged a
 *   record that cannot be found is an error too: a damaged index must not make a healthy link look revoked,
 *   which would make Alexa unlink. Writes are refused while the file is damaged, so nothing new is mixed into it.
 * - A database file that disappears while the server runs is never silently replaced by an empty one (that
 *   would unlink every user); the open connection keeps serving reads until the file is put back.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readSync, statSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import Keyv from 'keyv';
import KeyvSqlite from '@keyv/sqlite';
import sqlite3 from 'sqlite3';

export const DB_FILE = 'oauth.sqlite';
const TABLE = 'keyv';
const NAMESPACE = 'oauth';
const SQLITE_MAGIC = 'SQLite format 3\0';
/** Expired records deleted per statement by purgeExpired: bounds how long a request can wait behind the purge. */
const PURGE_BATCH = 1000;
const PROBE_PAD = '.'.repeat(16 * 1024);

/** What is wrong with the store; `unopened`: it has not been opened since start-up. */
export type StoreFault = 'locked' | 'full' | 'read_only' | 'io' | 'damaged' | 'missing' | 'unopened';

/** A store operation failed for a storage reason: the caller answers 503, never "not found". */
export class StoreError extends Error {
  constructor(
    readonly fault: StoreFault,
    message: string,
  ) {
    super(message);
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

export interface Store {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Writes several records in one statement (one transaction): all of them or none. */
  setMany(entries: ReadonlyArray<StoreEntry>): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every live record whose key starts with prefix (admin listings; not for request paths). */
  scan<T>(prefix: string): Promise<Array<{ key: string; value: T }>>;
  /** Deletes expired records; returns how many. Keyv only drops an expired record when it is read again. */
  purgeExpired(now?: number): Promise<number>;
  /** Writes, reads back and deletes a probe record (and checks the file's integrity now and then); clears a fault that is gone. */
  check(): Promise<StoreHealth>;
  /** The last known state, without touching the database. */
  status(): StoreHealth;
  /**
   * PRAGMA integrity_check on a fresh connection (the file as it is on disk, not the open connection's cache):
   * ['ok'] or the problems found (at most 20). Problems mark the store damaged.
   */
  integrityCheck(): Promise<string[]>;
  /** Size of the database files in bytes. */
  sizeBytes(): number;
  readonly file: string;
  close(): Promise<void>;
}

/** Where the store reports faults and recoveries (the add-on log); winston's Logger fits. */
export interface StoreLog {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
}

export interface StoreOptions {
  log?: StoreLog;
  /** How long a statement waits for another program's lock before failing (ms). Below Alexa's 4.5 s token deadline. */
  busyTimeoutMs?: number;
  /** First and longest pause between background recovery attempts while a fault lasts (ms). */
  retryMs?: number;
  maxRetryMs?: number;
  /** Least time between integrity checks of the file on a fresh connection while healthy (ms). */
  integrityCheckIntervalMs?: number;
  /** Called where a fault is logged: when one begins or changes kind, not per failing request (notifications). */
  onFault?: (fault: StoreFault, reason: string) => void;
  /** Called when the fault clears, with how long it lasted. */
  onRecovered?: (fault: StoreFault, lastedMs: number) => void;
}

/** One record of a setMany. */
export interface StoreEntry {
  key: string;
  value: unknown;
  ttlMs?: number;
}

type Query = (sql: string, ...params: unknown[]) => Promise<Array<Record<string, unknown>>>;

interface Connection {
  /** Inode of the database file this connection opened: another inode under the same name is another file. */
  ino: number;
  kv: Keyv;
  query: Query;
  adapter: KeyvSqlite;
  inflight: number;
  retired: boolean;
}

interface Fault {
  kind: StoreFault;
  reason: string;
  since: number;
}

const FAULT_KIND: Record<string, StoreFault> = {
  SQLITE_BUSY: 'locked',
  SQLITE_LOCKED: 'locked',
  SQLITE_FULL: 'full',
  SQLITE_READONLY: 'read_only',
  SQLITE_PERM: 'read_only',
  SQLITE_IOERR: 'io',
  SQLITE_CANTOPEN: 'io',
  SQLITE_PROTOCOL: 'io',
  SQLITE_NOLFS: 'io',
  SQLITE_CORRUPT: 'damaged',
  SQLITE_NOTADB: 'damaged',
  SQLITE_FORMAT: 'damaged',
  SQLITE_SCHEMA: 'damaged',
};

/** Faults after which the connection itself may be stale: recovery opens a fresh one. */
const REOPEN_AFTER = new Set<StoreFault>(['damaged', 'missing', 'io', 'read_only', 'unopened']);
/**
 * Faults a successful write proves gone. Not "full": a small write can fit where the next does not, and the
 * fault would flap; the health probe (larger than any record) clears it.
 */
const CLEARED_BY_WRITE = new Set<StoreFault>(['locked', 'read_only', 'io']);

/** A fault found while opening, before any StoreError exists: its kind and the concrete detail. */
class OpenFault extends Error {
  constructor(
    readonly kind: StoreFault,
    readonly detail: string,
  ) {
    super(detail);
  }
}

const sqliteCode = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
};

const errnoText: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is mounted read-only',
  EACCES: 'permission denied (check the owner and mode)',
  EPERM: 'operation not permitted (the file or folder may be immutable: check chattr/lsattr)',
};

/** Looks at the filesystem for the concrete cause of a write or open failure. */
function diagnoseFilesystem(dir: string, file: string, hadDatabase: boolean): { kind: StoreFault; detail: string } | undefined {
  if (!existsSync(dir)) return { kind: 'missing', detail: `the data folder ${dir} does not exist` };
  if (hadDatabase && !existsSync(file)) return { kind: 'missing', detail: `${file} was deleted or moved` };
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f)) continue;
    try {
      closeSync(openSync(f, 'r+'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      return { kind: code === 'ENOSPC' ? 'full' : 'read_only', detail: `${path.basename(f)} cannot be opened for writing (${code}: ${errnoText[code] ?? String(err)})` };
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
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    try {
      if (existsSync(probe)) unlinkSync(probe);
    } catch {
      /* best effort */
    }
    const kind: StoreFault = code === 'ENOSPC' || code === 'EDQUOT' ? 'full' : code === 'EROFS' || code === 'EACCES' || code === 'EPERM' ? 'read_only' : 'io';
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
    if (!existsSync(file) || statSync(file).size === 0) return undefined;
    fd = openSync(file, 'r');
    const buf = Buffer.alloc(16);
    const n = readSync(fd, buf, 0, 16, 0);
    if (n < 16 || buf.toString('latin1') !== SQLITE_MAGIC) return 'its header is not an SQLite header (the file was overwritten or is not a database)';
    return undefined;
  } catch {
    return undefined; // unreadable: the SQLite calls report it precisely
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function rawOpen(file: string, create: boolean): Promise<sqlite3.Database> {
  return new Promise((resolve, reject) => {
    const mode = sqlite3.OPEN_READWRITE | (create ? sqlite3.OPEN_CREATE : 0) | sqlite3.OPEN_FULLMUTEX;
    const db: sqlite3.Database = new sqlite3.Database(file, mode, (err) => (err ? reject(err) : resolve(db)));
  });
}

const rawAll = (db: sqlite3.Database, sql: string) =>
  new Promise<Array<Record<string, unknown>>>((resolve, reject) => db.all(sql, (err, rows) => (err ? reject(err) : resolve(rows as Array<Record<string, unknown>>))));

const rawClose = (db: sqlite3.Database) => new Promise<void>((resolve) => db.close(() => resolve()));

/**
 * Opens the store. Never throws for a storage reason: a database that cannot be opened yields a store in the
 * `unopened` fault, which /health reports and which keeps trying to open it in the background.
 */
export async function openStore(dataDir: string, options: StoreOptions = {}): Promise<Store> {
  const file = path.join(dataDir, DB_FILE);
  const log = options.log;
  const busyTimeoutMs = options.busyTimeoutMs ?? 2500;
  const retryMs = options.retryMs ?? 1000;
  const maxRetryMs = options.maxRetryMs ?? 15_000;
  const integrityEveryMs = options.integrityCheckIntervalMs ?? 60_000;
  // A listener's failure must never become a storage failure.
  const report = (call: () => void) => {
    try {
      call();
    } catch (err) {
      log?.warn('database fault listener failed', { error: String(err) });
    }
  };

  let conn: Connection | undefined;
  let fault: Fault | undefined;
  /** Set once a database was open in this process: from then on a missing file is never recreated empty. */
  let hadDatabase = false;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let retryDelay = retryMs;
  let opening: Promise<StoreHealth> | undefined;
  let lastIntegrityCheck = 0;

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
        return `${lead}: the file is damaged (${detail}); stop the add-on and restore ${DB_FILE} from a backup (or delete it: every Alexa user must then link again)`;
      case 'missing':
        return `${lead}: the file is gone (${detail}); put it back (restore it from a backup); until then links are served read-only from the copy still open. A restart would start an empty database and every user would have to link again`;
      case 'unopened':
        return `${lead}: it cannot be opened (${detail}); the server keeps retrying`;
      default:
        return `${lead}: disk I/O error (${detail}); check the storage holding ${dataDir}`;
    }
  };

  /**
   * All statements share one connection, and SQLite's busy handler sleeps holding it: while another program holds
   * the lock, every queued write would wait the full timeout after the one before it. So during a "locked" fault
   * statements give up quickly (requests answer 503 in well under Alexa's 4.5 s); the full wait returns with the lock.
   */
  const LOCKED_BUSY_MS = 250;
  function setBusyTimeout(ms: number): void {
    conn?.query(`PRAGMA busy_timeout = ${Math.floor(ms)}`).catch(() => undefined);
  }

  function setFault(kind: StoreFault, detail: string): Fault {
    const reason = describe(kind, detail);
    if (kind === 'locked' && fault?.kind !== 'locked') setBusyTimeout(LOCKED_BUSY_MS);
    else if (kind !== 'locked' && fault?.kind === 'locked') setBusyTimeout(busyTimeoutMs);
    if (!fault || fault.kind !== kind) {
      // One line per fault (not per failing request), so a lasting fault does not flood the log.
      log?.error(`database fault: ${reason}`, { fault: kind });
      fault = { kind, reason, since: fault?.since ?? Date.now() };
      report(() => options.onFault?.(kind, reason));
    } else {
      fault.reason = reason;
    }
    scheduleRecovery();
    return fault;
  }

  function clearFault(): void {
    if (!fault) return;
    log?.info(`database recovered: it can be read and written again (fault "${fault.kind}" lasted ${Math.round((Date.now() - fault.since) / 1000)} s)`);
    if (fault.kind === 'locked') setBusyTimeout(busyTimeoutMs);
    const { kind, since } = fault;
    fault = undefined;
    retryDelay = retryMs;
    report(() => options.onRecovered?.(kind, Date.now() - since));
  }

  /** Turns any failure into a StoreError, recording the fault it shows. */
  function classify(err: unknown): StoreError {
    if (err instanceof StoreError) return err;
    const code = sqliteCode(err);
    if (!code) {
      if (err instanceof SyntaxError) {
        // Only JSON is ever written: a record that does not parse was changed outside the server.
        return new StoreError('damaged', `a record in ${file} is not valid JSON (${err.message}); the file was modified outside the server`);
      }
      return new StoreError('io', `database error: ${err instanceof Error ? err.message : String(err)}`);
    }
    let kind = FAULT_KIND[code] ?? 'io';
    let detail = String((err as Error).message);
    if (kind !== 'locked' && kind !== 'damaged') {
      const found = diagnoseFilesystem(dataDir, file, hadDatabase);
      if (found) {
        kind = found.kind;
        detail = `${detail}; ${found.detail}`;
      }
    }
    const f = setFault(kind, detail);
    return new StoreError(kind, f.reason);
  }

  /** Opens a connection after checking the file on a separate, properly closed connection. */
  async function connect(deep: boolean): Promise<Connection> {
    // Once a database was open, a missing file is a fault to report, never a reason to start an empty one.
    if (hadDatabase && !existsSync(file)) throw new OpenFault('missing', `${file} was deleted or moved`);
    const badHeader = headerProblem(file);
    if (badHeader) throw new OpenFault('damaged', badHeader);
    try {
      mkdirSync(dataDir, { recursive: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new OpenFault(code === 'ENOSPC' ? 'full' : 'read_only', `the data folder ${dataDir} cannot be created (${code}: ${errnoText[code] ?? String(err)})`);
    }
    // Validate on a raw connection first: @keyv/sqlite cannot close a connection whose set-up failed.
    const raw = await rawOpen(file, !hadDatabase);
    try {
      raw.configure('busyTimeout', busyTimeoutMs);
      if (deep) {
        const rows = await rawAll(raw, 'PRAGMA quick_check');
        const first = String(Object.values(rows[0] ?? {})[0] ?? 'no answer');
        if (first !== 'ok') throw Object.assign(new Error(`integrity check: ${first}`), { code: 'SQLITE_CORRUPT' });
        lastIntegrityCheck = Date.now();
      } else {
        await rawAll(raw, 'SELECT count(*) FROM sqlite_master');
      }
    } finally {
      await rawClose(raw);
    }

    const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, table: TABLE, busyTimeout: busyTimeoutMs });
    let setupError: unknown;
    adapter.on('error', (err: unknown) => {
      setupError ??= err;
    });
    const query = adapter.query.bind(adapter) as unknown as Query;
    // @keyv/sqlite has no setMany, so Keyv would run one INSERT (one commit) per record; a token response
    // writes three or four records, so one multi-row upsert saves a commit and a thread-pool round trip each.
    (adapter as unknown as { setMany: (entries: Array<{ key: string; value: unknown }>) => Promise<boolean[]> }).setMany = async (entries) => {
      await query(
        `INSERT INTO ${TABLE} (key, value) VALUES ${entries.map(() => '(?, ?)').join(', ')} ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
        ...entries.flatMap((e) => [e.key, e.value]),
      );
      return entries.map(() => true);
    };
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
      await adapter.close().catch(() => undefined);
      throw setupError ?? err;
    }
    hadDatabase = true;
    return { ino: statSync(file).ino, kv, query, adapter, inflight: 0, retired: false };
  }

  function retire(old: Connection): void {
    old.retired = true;
    if (old.inflight === 0) old.adapter.close().catch(() => undefined);
  }

  /** Replaces the connection with a fresh one that passed the checks; keeps the old one when that fails. */
  function reopen(deep: boolean): Promise<StoreHealth> {
    // Cleared by .finally, after the assignment: connect() can fail before its first await.
    opening ??= (async (): Promise<StoreHealth> => {
      try {
        const fresh = await connect(deep);
        const old = conn;
        conn = fresh;
        if (old) retire(old);
        return { ok: true };
      } catch (err) {
        openFailed(err);
        return status();
      }
    })().finally(() => {
      opening = undefined;
    });
    return opening;
  }

  /** Records why opening failed: the fault it shows, or `unopened` for a cause that is no storage fault. */
  function openFailed(err: unknown): void {
    if (err instanceof OpenFault) setFault(err.kind, err.detail);
    else if (sqliteCode(err)) classify(err);
    else setFault('unopened', err instanceof Error ? err.message : String(err));
  }

  function scheduleRecovery(): void {
    if (retryTimer || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed || !fault) return;
      check().then((h) => {
        if (!h.ok) {
          retryDelay = Math.min(retryDelay * 2, maxRetryMs);
          scheduleRecovery();
        }
      }, () => scheduleRecovery());
    }, retryDelay);
    retryTimer.unref();
  }

  /**
   * Whether the file the connection writes to is still the one under the database's name. SQLite keeps writing
   * to a deleted or replaced file (and to the WAL, which goes by name), so this is checked before every write.
   */
  function fileMoved(c: Connection): string | undefined {
    try {
      return statSync(file).ino === c.ino ? undefined : `${file} was replaced by another file while the server ran`;
    } catch {
      return `${file} was deleted or moved`;
    }
  }

  /** `probing`: the health probe, which may write to a connection that was just reopened on a repaired file. */
  async function run<T>(write: boolean, op: (c: Connection) => Promise<T>, probing = false): Promise<T> {
    if (closed) throw new StoreError('unopened', `the database ${file} is closed (the server is stopping)`);
    const c = conn;
    if (!c) throw new StoreError(fault?.kind ?? 'unopened', fault?.reason ?? describe('unopened', 'not opened yet'));
    if (write) {
      const moved = fileMoved(c);
      if (moved) throw new StoreError('missing', setFault('missing', moved).reason);
    }
    if (write && !probing && fault && (fault.kind === 'damaged' || fault.kind === 'missing')) throw new StoreError(fault.kind, fault.reason);
    c.inflight++;
    try {
      const result = await op(c);
      if (write && fault && CLEARED_BY_WRITE.has(fault.kind) && c === conn) clearFault();
      return result;
    } catch (err) {
      throw classify(err);
    } finally {
      c.inflight--;
      if (c.retired && c.inflight === 0) c.adapter.close().catch(() => undefined);
    }
  }

  const prefixed = (key: string) => `${NAMESPACE}:${key}`;

  /** Concurrent health checks share one probe. */
  let checking: Promise<StoreHealth> | undefined;
  function check(): Promise<StoreHealth> {
    checking ??= probe().finally(() => {
      checking = undefined;
    });
    return checking;
  }

  async function probe(): Promise<StoreHealth> {
    if (closed) return { ok: false, fault: 'unopened', reason: `the database ${file} is closed` };
    const badHeader = headerProblem(file);
    if (badHeader) {
      setFault('damaged', badHeader);
      return status();
    }
    const moved = conn && fileMoved(conn);
    if (moved) setFault('missing', moved);
    const integrityDue = fault?.kind === 'damaged' || Date.now() - lastIntegrityCheck >= integrityEveryMs;
    if (!conn || (fault && REOPEN_AFTER.has(fault.kind))) {
      const opened = await reopen(true);
      if (!opened.ok) return status();
    } else if (integrityDue) {
      // The open connection serves pages from its cache: only a fresh one sees what is on disk now.
      const checked = await integrityCheck();
      if (!checked) return status();
    }
    const key = 'health:probe';
    const stamp = `${process.pid}-${Date.now()}`;
    try {
      // Larger than any record the server writes: when the disk is nearly full the probe fails first, so /health
      // turns 503 before (not after) token requests start failing.
      await run(true, (c) => c.kv.set(key, { stamp, pad: PROBE_PAD }, 60_000), true);
      const back = (await run(false, (c) => c.kv.get(key), true)) as { stamp?: string } | undefined;
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

  async function integrityCheck(): Promise<boolean> {
    if (!existsSync(file)) {
      if (hadDatabase) setFault('missing', `${file} was deleted or moved`);
      return !hadDatabase;
    }
    let raw: sqlite3.Database | undefined;
    try {
      raw = await rawOpen(file, false);
      raw.configure('busyTimeout', busyTimeoutMs);
      const rows = await rawAll(raw, 'PRAGMA quick_check');
      const first = String(Object.values(rows[0] ?? {})[0] ?? 'no answer');
      lastIntegrityCheck = Date.now();
      if (first !== 'ok') {
        setFault('damaged', `integrity check: ${first}`);
        return false;
      }
      return true;
    } catch (err) {
      classify(err);
      return false;
    } finally {
      if (raw) await rawClose(raw);
    }
  }

  async function fullIntegrityCheck(): Promise<string[]> {
    if (!existsSync(file)) return [hadDatabase ? `${file} was deleted or moved` : `${file} does not exist yet`];
    let raw: sqlite3.Database | undefined;
    try {
      raw = await rawOpen(file, false);
      raw.configure('busyTimeout', busyTimeoutMs);
      const rows = await rawAll(raw, 'PRAGMA integrity_check(20)');
      const problems = rows.map((r) => String(Object.values(r)[0]));
      if (problems.length !== 1 || problems[0] !== 'ok') setFault('damaged', `integrity check: ${problems[0]}`);
      return problems;
    } catch (err) {
      throw classify(err);
    } finally {
      if (raw) await rawClose(raw);
    }
  }

  function status(): StoreHealth {
    if (closed) return { ok: false, fault: 'unopened', reason: `the database ${file} is closed` };
    if (!fault) return conn ? { ok: true } : { ok: false, fault: 'unopened', reason: describe('unopened', 'not opened yet') };
    return { ok: false, fault: fault.kind, reason: fault.reason, since: new Date(fault.since).toISOString() };
  }

  // First open. A failure is reported and retried in the background instead of stopping the server.
  try {
    conn = await connect(true);
  } catch (err) {
    openFailed(err);
  }

  return {
    file,
    async get<T>(key: string) {
      const value = (await run(false, (c) => c.kv.get(key))) as T | undefined;
      if (value === undefined && fault?.kind === 'damaged') {
        // A damaged b-tree can hide a record: "not found" is not trustworthy now.
        throw new StoreError('damaged', fault.reason);
      }
      return value;
    },
    async set<T>(key: string, value: T, ttlMs?: number) {
      const ok = await run(true, (c) => c.kv.set(key, value, ttlMs));
      if (!ok) throw new StoreError('io', `store write failed for ${key.split(':')[0]} record`);
    },
    async setMany(entries: ReadonlyArray<StoreEntry>) {
      if (entries.length === 0) return;
      const results = await run(true, (c) => c.kv.setMany(entries.map((e) => ({ key: e.key, value: e.value, ttl: e.ttlMs }))));
      if (results.some((ok) => !ok)) throw new StoreError('io', `store write failed for ${entries.map((e) => e.key.split(':')[0]).join(', ')} records`);
    },
    async delete(key: string) {
      await run(true, (c) => c.kv.delete(key));
    },
    async scan<T>(prefix: string) {
      const now = Date.now();
      const rows = await run(false, (c) =>
        c.query(
          `SELECT key, value FROM ${TABLE} WHERE key >= ? AND key < ? AND (json_extract(value, '$.expires') IS NULL OR json_extract(value, '$.expires') > ?)`,
          prefixed(prefix),
          prefixed(prefix) + '\uffff',
          now,
        ),
      );
      return rows.map((r) => ({
        key: String(r.key).slice(NAMESPACE.length + 1),
        value: (JSON.parse(String(r.value)) as { value: T }).value,
      }));
    },
    async purgeExpired(now = Date.now()) {
      // In batches: a single DELETE holds the connection until every expired record is gone (2.7 s for 250,000
      // records after a long downtime), and every token request waits behind it; a batch of 1000 takes ~10 ms.
      let removed = 0;
      for (;;) {
        const rows = await run(true, (c) =>
          c.query(`DELETE FROM ${TABLE} WHERE rowid IN (SELECT rowid FROM ${TABLE} WHERE json_extract(value, '$.expires') < ? LIMIT ${PURGE_BATCH}) RETURNING 1`, now),
        );
        removed += rows.length;
        if (rows.length < PURGE_BATCH) return removed;
      }
    },
    check,
    status,
    integrityCheck: fullIntegrityCheck,
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
      if (closed) return;
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      await opening?.catch(() => undefined);
      const c = conn;
      conn = undefined;
      if (c) await c.kv.disconnect().catch(() => undefined);
    },
  };
}
