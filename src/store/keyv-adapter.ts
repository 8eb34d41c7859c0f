/**
 * Keyv (the design card's persistence API) over our store's table: a Keyv v6 storage adapter, so `new Keyv({ store })`
 * reads and writes the same rows, in the same envelope, as the synchronous protocol layer. Records that need no
 * read-decide-write atomicity (login sessions, the server's runtime record) go through Keyv; protocol decisions go
 * through Kv.transaction, which Keyv's asynchronous, one-call-at-a-time API cannot express.
 */
import Keyv, { KeyvStorageCapability, KeyvStorageEntry, keyvStorageCapability } from 'keyv';
import { Kv } from './kv';
import { settled } from '../settled';

/** The adapter stores Keyv's encoded envelope as it is; `expires` also goes to the indexed column. */
/** Shaped as Keyv's KeyvStorageAdapter (that type also demands an event emitter; errors are thrown here instead). */
export class KvKeyvAdapter {
  readonly capabilities: KeyvStorageCapability;
  namespace?: string;

  /** `now`: the store's clock. Keyv computes `expires` on the wall clock; rows expire on the store's (tests move it). */
  constructor(
    private readonly kv: Kv,
    private readonly now: () => number = Date.now,
  ) {
    this.capabilities = keyvStorageCapability(this);
  }

  get<Value>(key: string): Promise<Value | undefined> {
    return settled(() => this.kv.read((tx) => envelopeText<Value>(tx.get<unknown>(key))));
  }

  async getMany<Value>(keys: string[]): Promise<Array<Value | undefined>> {
    return Promise.all(keys.map((k) => this.get<Value>(k)));
  }

  async has(key: string): Promise<boolean> {
    return (await this.get(key)) !== undefined;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.has(k)));
  }

  set(key: string, value: unknown, expires?: number): Promise<boolean> {
    return settled(() => {
      const envelope = typeof value === 'string' ? (JSON.parse(value) as { value: unknown }) : (value as { value: unknown });
      this.kv.transaction((tx) => tx.put(key, envelope.value, this.onStoreClock(expires)));
      return true;
    });
  }

  setMany<Value>(entries: Array<KeyvStorageEntry<Value>>): Promise<boolean[]> {
    return settled(() => {
      this.kv.transaction((tx) => {
        for (const e of entries) {
          const envelope = typeof e.value === 'string' ? (JSON.parse(e.value) as { value: unknown }) : (e.value as { value: unknown });
          tx.put(e.key, envelope.value, this.onStoreClock(e.expires));
        }
      });
      return entries.map(() => true);
    });
  }

  private onStoreClock(expires: number | undefined): number | undefined {
    return expires === undefined ? undefined : this.now() + (expires - Date.now());
  }

  delete(key: string): Promise<boolean> {
    return settled(() =>
      this.kv.transaction((tx) => {
        const existed = tx.get(key) !== undefined;
        tx.delete(key);
        return existed;
      }),
    );
  }

  async deleteMany(keys: string[]): Promise<boolean[]> {
    return Promise.all(keys.map((k) => this.delete(k)));
  }

  /** Refused: the table holds every link; wiping it through a cache API must never be one call away. */
  clear(): Promise<void> {
    return Promise.reject(new Error('clear() is not supported: the table holds the OAuth records; revoke links through oauth-admin'));
  }

  disconnect(): Promise<void> {
    return Promise.resolve(); // the store's owner closes it
  }

  async *iterator<Value>(namespace?: string): AsyncGenerator<[string, Value]> {
    const rows = await settled(() => this.kv.read((tx) => tx.scan<unknown>(namespace ? `${namespace}:` : '')));
    for (const r of rows) yield [r.key, JSON.stringify({ value: r.value, expires: r.expires }) as Value];
  }
}

/** Keyv's decoder takes the envelope as JSON text (its serializer is JSON here). */
function envelopeText<Value>(value: unknown): Value | undefined {
  return value === undefined ? undefined : (JSON.stringify({ value }) as Value);
}

/** A Keyv over the store with plain JSON (our records are plain objects), errors thrown rather than swallowed. */
export function createKeyv<T>(kv: Kv, now: () => number = Date.now): Keyv<T> {
  const keyv = new Keyv<T>({
    store: new KvKeyvAdapter(kv, now),
    serialization: { stringify: JSON.stringify, parse: JSON.parse },
    throwOnErrors: true,
  });
  return keyv;
}
