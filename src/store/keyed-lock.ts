/**
 * Serialises work per key inside this process. The server is the only writer of OAuth records (one Node
 * process per add-on), so a per-key queue makes read-check-write sequences such as "consume this code"
 * atomic without a database transaction spanning several Keyv calls.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      // Drop the entry once nothing else queued behind us, so the map stays as small as the live contention.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  get size(): number {
    return this.tails.size;
  }
}
