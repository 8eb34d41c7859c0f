/**
 * The value, or a failure naming what was missing. Under noUncheckedIndexedAccess an element (`list[0]`, `m[1]`,
 * `record[key]`) may be undefined; a test states that it is there with this instead of a bare `!`.
 */
export function defined<T>(value: T | undefined, what = 'a value'): T {
  if (value === undefined) throw new Error(`expected ${what}, found undefined`);
  return value;
}
