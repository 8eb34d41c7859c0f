/**
 * fn's result as a promise, what it throws as a rejection: what an `async` function without an `await` does, for
 * synchronous work behind a promise-returning interface (Keyv's store, the admin API).
 */
export function settled<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve) => resolve(fn()));
}
