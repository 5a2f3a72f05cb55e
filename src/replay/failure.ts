/**
 * What the pool knows about a replay on the secondary side that did not happen or did not succeed.
 *
 * @module
 */

/**
 * Why a write is in the repair log.
 * - `statement`: the statement replay failed (error, timeout, or a different number of affected rows).
 * - `row_image`: the row-image replay failed, or the rows could not be read back.
 * - `transaction`: the secondary side's transaction failed to begin, or an earlier statement in it failed, so its later
 *   statements were not replayed; or its COMMIT failed after the primary side committed.
 * - `circuit_open`: the circuit breaker was open, so the replay was not attempted.
 * - `recorded`: the policy says to run the statement on the primary side only and record it.
 * - `ddl`: a schema change failed on the secondary side.
 */
export type ReplayFailureKind = 'statement' | 'row_image' | 'transaction' | 'circuit_open' | 'recorded' | 'ddl';

/** A table a failure is about, as the primary side names it. */
export interface FailedTable {
  /** The database, or `null` when unknown. */
  readonly schema: string | null;
  /** The table name. */
  readonly name: string;
}

/** A table a write changed and the primary keys of its rows there, when known. */
export interface TableKeys {
  /** The table. */
  readonly table: FailedTable;
  /** Primary-key values of the rows, one object per row; `null` when only the table is known. */
  readonly keys: readonly Readonly<Record<string, unknown>>[] | null;
}

/** One write the secondary side does not have (or may not have), as emitted and written to the repair log. */
export interface ReplayFailure {
  /** Why it is in the repair log. */
  readonly kind: ReplayFailureKind;
  /** The side that did not get the write: `source` or `target`. */
  readonly secondarySide: string;
  /** The mode in force for the write. */
  readonly mode: string;
  /** The table written, when known. A transaction's failure lists one failure per table it wrote. */
  readonly table: FailedTable | null;
  /**
   * Primary-key values of the rows affected, one object per row keyed by column name, when known;
   * `null` when only the table is known (the repair tool then checks the whole table).
   */
  readonly keys: readonly Readonly<Record<string, unknown>>[] | null;
  /**
   * The other tables the write changed, with their keys when known (a multi-table UPDATE/DELETE); each gets a
   * repair-log row of its own. Absent for single-table writes.
   */
  readonly otherTables?: readonly TableKeys[];
  /** The statement as the caller sent it (without values). */
  readonly sql: string;
  /** The secondary side's error, or dualwrite's (timeout, divergence, circuit open, not replayed by policy); `null` only when none applies. */
  readonly error: Error | null;
  /** When it happened, in milliseconds since the epoch. */
  readonly at: number;
}
