/**
 * Small helpers shared by the dual-write pool integration tests in this folder (not a test file itself).
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Mode, Side } from '../../src/mode/modes.js';
export { seeded } from '../support/random.js';

/** A random element of a non-empty list. */
export function pick<T>(random: () => number, list: readonly T[]): T {
  const item = list[Math.floor(random() * list.length)];
  if (item === undefined) throw new Error('pick() from an empty list');
  return item;
}

/** The sides a write in `mode` lands on: the primary first. */
export function sidesOf(mode: Mode): Side[] {
  switch (mode) {
    case 'source_only':
      return ['source'];
    case 'source_first':
      return ['source', 'target'];
    case 'target_first':
      return ['target', 'source'];
    case 'target_only':
      return ['target'];
  }
}

/**
 * Waits until `condition()` holds. The deadline is a liveness bound (a hung pool fails the test instead of
 * hanging it), never an assertion about speed.
 */
export async function until(condition: () => boolean, what: string, deadlineMs = 30_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting (${deadlineMs} ms) for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** `promise`'s outcome, or `'pending'` if it has not settled after `ms` (a liveness probe, not a speed assertion). */
export async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ status: 'fulfilled'; value: T } | { status: 'rejected'; reason: unknown } | { status: 'pending' }> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<{ status: 'pending' }>((resolve) => {
    timer = setTimeout(() => resolve({ status: 'pending' }), ms);
  });
  try {
    return await Promise.race([
      promise.then(
        (value) => ({ status: 'fulfilled' as const, value }),
        (reason: unknown) => ({ status: 'rejected' as const, reason }),
      ),
      pending,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Lets transactions run concurrently with each other but not across a mode switch: a transaction holds the
 * barrier from check-out to release, and the test takes it exclusively around `setMode()`. Checked-out
 * connections keep the mode they started with (docs/modes.md, "Pins keep their mode"), so without this an
 * auto-increment INSERT of an old-mode transaction and one of the new mode could be numbered by two different
 * sides at once — the documented switch window, not what these tests are about. Autocommit writes are not held.
 */
export class TransactionBarrier {
  #open = 0;
  #locked: Promise<void> | null = null;
  #unlock: (() => void) | null = null;
  #drained: (() => void) | null = null;

  /** Enters as a transaction; waits while a switch holds the barrier. */
  async enter(): Promise<void> {
    while (this.#locked !== null) await this.#locked;
    this.#open++;
  }

  /** Leaves (after the connection was released). */
  leave(): void {
    this.#open--;
    if (this.#open === 0) this.#drained?.();
  }

  /** Takes the barrier: new transactions wait, and this resolves once the open ones have left. */
  async lock(): Promise<void> {
    while (this.#locked !== null) await this.#locked;
    this.#locked = new Promise((resolve) => (this.#unlock = resolve));
    if (this.#open > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
    this.#drained = null;
  }

  /** Gives the barrier back. */
  unlock(): void {
    const release = this.#unlock;
    this.#locked = null;
    this.#unlock = null;
    release?.();
  }
}

/** Rows of a raw mysql2/promise pool or connection as plain objects. */
export async function rowsOf(runner: Pick<Connection, 'query'>, sql: string, values: (string | number | null)[] = []): Promise<RowDataPacket[]> {
  const [rows] = await runner.query<RowDataPacket[]>(sql, values);
  return rows;
}

/** `'3:17'` → `[3, 17]`: a composite key kept as text. */
export function splitKey(key: string): [number, number] {
  const [a, b] = key.split(':').map(Number);
  if (a === undefined || b === undefined || Number.isNaN(a) || Number.isNaN(b)) throw new Error(`not a composite key: ${key}`);
  return [a, b];
}
