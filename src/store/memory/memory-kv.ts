/**
 * The in-memory Kv: the same contract as the SQLite store (transactions that roll back when they throw, expiry,
 * Keyv's envelope), for the grant logic's table-driven unit tests and the benchmark's fill.
 */
import { Kv, KvRow, KvTx, decodeRow, encodeRow } from '../kv';

interface Stored {
  text: string;
  expires?: number;
}

export function createMemoryKv(now: () => number = Date.now): Kv & { size(): number } {
  const rows = new Map<string, Stored>();
  let inTransaction = false;

  const live = (s: Stored | undefined): s is Stored => s !== undefined && (s.expires === undefined || s.expires > now());

  function unit<T>(work: (tx: KvTx) => T, writable: boolean): T {
    if (inTransaction) throw new Error('transactions do not nest: a decision is one unit of work');
    // Values are kept as JSON text, like the database, so a caller can never mutate a stored record in place.
    const undo = new Map<string, Stored | undefined>();
    const remember = (key: string) => {
      if (!undo.has(key)) undo.set(key, rows.get(key));
    };
    const tx: KvTx = {
      get: <V>(key: string) => {
        const s = rows.get(key);
        return live(s) ? decodeRow<V>(s.text) : undefined;
      },
      put: (key, value, expires) => {
        if (!writable) throw new Error('read(): a read-only unit of work cannot write');
        remember(key);
        rows.set(key, { text: encodeRow(value, expires), expires });
      },
      delete: (key) => {
        if (!writable) throw new Error('read(): a read-only unit of work cannot write');
        remember(key);
        rows.delete(key);
      },
      scan: <V>(prefix: string, keep?: (key: string) => boolean) => {
        const out: Array<KvRow<V>> = [];
        for (const [key, s] of [...rows].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
          if (key.startsWith(prefix) && live(s) && (!keep || keep(key))) out.push({ key, value: decodeRow<V>(s.text), expires: s.expires });
        }
        return out;
      },
    };
    inTransaction = true;
    try {
      return work(tx);
    } catch (err) {
      for (const [key, before] of undo) {
        if (before === undefined) rows.delete(key);
        else rows.set(key, before);
      }
      throw err;
    } finally {
      inTransaction = false;
    }
  }

  return {
    transaction: (work) => unit(work, true),
    read: (work) => unit(work, false),
    purgeStep(after, limit) {
      const window = [...rows.keys()]
        .filter((key) => after === undefined || key > after)
        .sort()
        .slice(0, limit);
      let removed = 0;
      for (const key of window) {
        const s = rows.get(key);
        if (s && !live(s)) {
          rows.delete(key);
          removed++;
        }
      }
      return { removed, next: window.length === limit ? window[window.length - 1] : undefined };
    },
    size: () => rows.size,
  };
}
