/**
 * The delayed half of the repair-loop check. A repair batch reads its written rows back inside its own
 * transaction (./repair-table); a row that does not read back as the authoritative row is a **suspect**, handed
 * here once the batch committed. Each suspect is read again on both sides (no lock) after `delayMs`, up to
 * `attempts` times — a concurrent write may be on its way — and one still different after the last read is a
 * **repair loop**, reported (never repaired again by the same run). With `attempts` 0, suspects are loops at once.
 *
 * The checks run in the background, beside the next batches, so a batch never waits for another's delay; at most
 * `maxInFlight` run at a time (a batch that would start one more waits for one to end), and `finish()` waits for
 * all. A check holds no connection while it sleeps.
 *
 * @module
 */
import type { TableMetadata } from '../schema/types.js';
import type { ExactRow } from './codec.js';
import { encodeKeyJson } from './key-json.js';
import type { KeyTuple } from './keyset.js';
import type { RepairRows } from './repair-rows.js';
import type { DifferenceKind, VerifyConnection, VerifyPool } from './verify.js';

/** A key that differs between the sides, with both rows as read (null: absent). */
export interface KeyDifference {
  readonly key: KeyTuple;
  /** Seen from the repaired side: `missing` there, `extra` there, or `different`. */
  readonly kind: DifferenceKind;
  /** For `different`: the columns that differ. */
  readonly columns?: readonly string[];
  readonly authRow: ExactRow | null;
  readonly otherRow: ExactRow | null;
}

/** How one side is read. */
export interface LoopCheckSide {
  readonly pool: VerifyPool;
  readonly table: TableMetadata;
  readonly rows: RepairRows;
}

/** Compares the authoritative row and the repaired side's row of one key; null when they are equal (or both absent). */
export function compareKey(rows: RepairRows, key: KeyTuple, authRow: ExactRow | null, otherRow: ExactRow | null): KeyDifference | null {
  if (authRow === null && otherRow === null) return null;
  if (authRow === null) return { key, kind: 'extra', authRow, otherRow };
  if (otherRow === null) return { key, kind: 'missing', authRow, otherRow };
  const columns = rows.differingColumns(authRow, otherRow);
  return columns.length === 0 ? null : { key, kind: 'different', columns, authRow, otherRow };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Runs the delayed re-reads of suspects (see the module notes). */
export class RepairLoopChecker {
  readonly #auth: LoopCheckSide;
  readonly #other: LoopCheckSide;
  readonly #delayMs: number;
  readonly #attempts: number;
  readonly #maxInFlight: number;
  readonly #onLoops: (loops: readonly KeyDifference[]) => Promise<void>;
  readonly #running = new Set<Promise<void>>();
  #failure: { error: unknown } | null = null;

  /**
   * @param init.onLoops - receives the keys still different after the last re-read (at least one), once per check
   */
  constructor(init: {
    auth: LoopCheckSide;
    other: LoopCheckSide;
    delayMs: number;
    attempts: number;
    maxInFlight: number;
    onLoops: (loops: readonly KeyDifference[]) => Promise<void>;
  }) {
    this.#auth = init.auth;
    this.#other = init.other;
    this.#delayMs = init.delayMs;
    this.#attempts = init.attempts;
    this.#maxInFlight = Math.max(1, init.maxInFlight);
    this.#onLoops = init.onLoops;
  }

  /** The first error of a check, if one failed (the run should stop). */
  get failure(): { error: unknown } | null {
    return this.#failure;
  }

  /** Starts the check of `suspects` (at least one); resolves once it has started (after waiting for a free slot). */
  add(suspects: readonly KeyDifference[]): Promise<void> {
    return this.#start(() => this.#check(suspects));
  }

  /**
   * Starts the check of keys not read yet (rows a repair deleted and will not write again): they are read at once,
   * then like suspects.
   */
  addUnread(keys: readonly KeyTuple[]): Promise<void> {
    return this.#start(async () => this.#check(await this.#reread(keys)));
  }

  async #start(work: () => Promise<void>): Promise<void> {
    while (this.#running.size >= this.#maxInFlight) await Promise.race(this.#running);
    const check = work().catch((error: unknown) => {
      this.#failure ??= { error };
    });
    this.#running.add(check);
    void check.finally(() => this.#running.delete(check));
  }

  /**
   * Waits for every check started.
   *
   * @throws the first error of a check
   */
  async finish(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
    if (this.#failure !== null) throw this.#failure.error;
  }

  async #check(suspects: readonly KeyDifference[]): Promise<void> {
    if (suspects.length === 0) return;
    let differing = suspects;
    for (let attempt = 0; attempt < this.#attempts && differing.length > 0; attempt++) {
      await sleep(this.#delayMs);
      differing = await this.#reread(differing.map((entry) => entry.key));
    }
    if (differing.length > 0) await this.#onLoops(differing);
  }

  /** Reads `keys` on both sides (no lock) and returns those that differ. */
  async #reread(keys: readonly KeyTuple[]): Promise<KeyDifference[]> {
    const auth: VerifyConnection = await this.#auth.pool.getConnection();
    let other: VerifyConnection;
    try {
      other = await this.#other.pool.getConnection();
    } catch (error) {
      auth.release();
      throw error;
    }
    try {
      const [authRows, otherRows] = await Promise.all([
        this.#auth.rows.readByKeys(auth, this.#auth.table, keys, false),
        this.#other.rows.readByKeys(other, this.#other.table, keys, false),
      ]);
      return keys.flatMap((key) => {
        const id = encodeKeyJson(key);
        const difference = compareKey(this.#auth.rows, key, authRows.get(id) ?? null, otherRows.get(id) ?? null);
        return difference === null ? [] : [difference];
      });
    } finally {
      auth.release();
      other.release();
    }
  }
}
