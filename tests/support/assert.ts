/**
 * Minimal assertions over `node:assert/strict` (JSR's @std/assert is not reachable here).
 */
import assert from "node:assert/strict";

/** Deep strict equality. */
export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}

/** Asserts a truthy value. */
export function assert_(value: unknown, message?: string): asserts value {
  assert.ok(value, message);
}

/** Asserts `fn` throws an instance of `cls`; returns the error. */
export function assertThrows<E extends Error>(
  fn: () => unknown,
  cls: new (...args: never[]) => E,
  includes?: string,
): E {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    if (includes !== undefined && !e.message.includes(includes)) {
      throw new Error(
        `error message ${JSON.stringify(e.message)} lacks ${JSON.stringify(includes)}`,
      );
    }
    return e;
  }
  throw new Error(`expected ${cls.name}, nothing was thrown`);
}

/** Async variant of {@link assertThrows}. */
export async function assertRejects<E extends Error>(
  fn: () => Promise<unknown>,
  cls: new (...args: never[]) => E,
  includes?: string,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof cls)) throw new Error(`expected ${cls.name}, got ${e}`);
    if (includes !== undefined && !e.message.includes(includes)) {
      throw new Error(
        `error message ${JSON.stringify(e.message)} lacks ${JSON.stringify(includes)}`,
      );
    }
    return e;
  }
  throw new Error(`expected ${cls.name}, nothing was rejected`);
}
