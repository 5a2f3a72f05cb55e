/**
 * The ledger of a fault scenario: what the dual-write pool told its callers, and therefore what the authoritative
 * side must hold once the faults are lifted and the repair log is drained.
 *
 * Every key is written by one caller only (the one that inserted it), so per key the ledger is exact. A write whose
 * outcome the caller cannot know (an error on COMMIT, or an autocommit write that failed: the server may have
 * committed before the reply was lost) widens the key's possible states instead of guessing; the caller then leaves
 * that key alone. A row inserted with an unknown outcome and an unknown generated ID is known by its unique tag.
 */

/** The tables of the scenario workload. */
export const LEDGER_TABLES = ['orders', 'notes'] as const;

/** One of {@link LEDGER_TABLES}. */
export type LedgerTable = (typeof LEDGER_TABLES)[number];

/** A row's values, as the ledger compares them (every column but the key; numbers as decimal text). */
export type RowState = Readonly<Record<string, string>>;

/** What the ledger knows of a write's outcome. */
export type Outcome = 'acknowledged' | 'unknown' | 'rolled_back';

/** A write that failed for its caller. */
export interface FailedWrite {
  /** What was attempted (`insert orders`, `transaction commit`, …). */
  readonly what: string;
  /** The error's `code` (mysql2 or DualWriteError), or its name. */
  readonly code: string;
  /** The error's message (first 200 characters). */
  readonly message: string;
  /** Whether the write may have taken effect anyway. */
  readonly outcome: 'unknown' | 'rolled_back';
}

/** A difference between the ledger and a side's rows. */
export interface LedgerMismatch {
  readonly table: LedgerTable;
  readonly key: string;
  /** What the ledger allows (`absent` for a deleted or never-committed row). */
  readonly expected: readonly string[];
  /** What the side holds. */
  readonly actual: string;
}

/** Rows of one table read from one side: key (decimal text) → values. */
export type SideRows = ReadonlyMap<string, RowState>;

const ABSENT = 'absent';

const show = (state: RowState | null): string => (state === null ? ABSENT : JSON.stringify(state));

/** The ledger; see the module notes. */
export class Ledger {
  /** Possible states per `table:key` (null: absent). One state once the outcome is known. */
  readonly #states = new Map<string, (RowState | null)[]>();
  /** Inserts with an unknown outcome and no ID: tag → table and values. */
  readonly #unknownInserts = new Map<string, { table: LedgerTable; state: RowState }>();
  /** Tags of rows written only by rolled-back transactions: never to be found on either side. */
  readonly #rolledBackTags = new Set<string>();
  readonly #failures: FailedWrite[] = [];
  #acknowledged = 0;
  #rolledBack = 0;

  /** Writes acknowledged to their callers (autocommit statements and committed transactions). */
  get acknowledged(): number {
    return this.#acknowledged;
  }

  /** Transactions rolled back (on purpose or after an error before COMMIT). */
  get rolledBack(): number {
    return this.#rolledBack;
  }

  /** Every write that failed for its caller, in order. */
  get failures(): readonly FailedWrite[] {
    return this.#failures;
  }

  /** Writes whose outcome is unknown. */
  get unknown(): number {
    return this.#failures.filter((failure) => failure.outcome === 'unknown').length;
  }

  /** Keys the ledger tracks, per table. */
  keys(table: LedgerTable): string[] {
    const prefix = `${table}:`;
    return [...this.#states.keys()].filter((k) => k.startsWith(prefix)).map((k) => k.slice(prefix.length));
  }

  /** An acknowledged write (or the rows of a committed transaction): each key now holds exactly this state. */
  acknowledge(changes: readonly { table: LedgerTable; key: string; state: RowState | null }[]): void {
    for (const change of changes) this.#states.set(`${change.table}:${change.key}`, [change.state]);
    this.#acknowledged++;
  }

  /**
   * A write whose outcome is unknown: each key may hold its old state or the new one. `unkeyed` are inserts whose
   * generated ID the caller never saw, known by their tag.
   */
  unknownOutcome(what: string, code: string, message: string, changes: readonly { table: LedgerTable; key: string; state: RowState | null }[], unkeyed: readonly { table: LedgerTable; tag: string; state: RowState }[] = []): void {
    for (const change of changes) {
      const id = `${change.table}:${change.key}`;
      const old = this.#states.get(id) ?? [null];
      this.#states.set(id, [...old, change.state]);
    }
    for (const insert of unkeyed) this.#unknownInserts.set(insert.tag, { table: insert.table, state: insert.state });
    this.#failures.push({ what, code, message: message.slice(0, 200), outcome: 'unknown' });
  }

  /**
   * A transaction that did not commit: its inserted keys must stay absent, its tags must be found nowhere, and
   * the rows it updated keep their state. `error` is what ended it, when one did.
   */
  rollBack(what: string, error: { code: string; message: string } | null, inserted: readonly { table: LedgerTable; key: string }[], tags: readonly string[]): void {
    for (const insert of inserted) {
      const id = `${insert.table}:${insert.key}`;
      if (!this.#states.has(id)) this.#states.set(id, [null]);
    }
    for (const tag of tags) this.#rolledBackTags.add(tag);
    this.#rolledBack++;
    if (error !== null) this.#failures.push({ what, code: error.code, message: error.message.slice(0, 200), outcome: 'rolled_back' });
  }

  /** Whether `state` may be the state of `table:key`. */
  allows(table: LedgerTable, key: string, state: RowState | null): boolean {
    const possible = this.#states.get(`${table}:${key}`);
    if (possible === undefined) return false;
    const shown = show(state);
    return possible.some((p) => show(p) === shown);
  }

  /**
   * Compares a side's rows with the ledger. `exact`: every tracked key must hold one of its possible states (the
   * authoritative side). Otherwise (a secondary side before repair) only rows the ledger cannot account for at all
   * are reported: a key never written and no unknown insert's tag, or a rolled-back tag.
   */
  check(table: LedgerTable, rows: SideRows, exact: boolean): LedgerMismatch[] {
    const mismatches: LedgerMismatch[] = [];
    const tracked = new Set(this.keys(table));
    if (exact) {
      for (const key of tracked) {
        const state = rows.get(key) ?? null;
        if (!this.allows(table, key, state)) {
          mismatches.push({ table, key, expected: (this.#states.get(`${table}:${key}`) ?? []).map(show), actual: show(state) });
        }
      }
    }
    const tagsSeen = new Set<string>();
    for (const [key, state] of rows) {
      const tag = state.tag ?? '';
      if (this.#rolledBackTags.has(tag)) {
        mismatches.push({ table, key, expected: [`nothing tagged ${tag} (rolled back)`], actual: show(state) });
        continue;
      }
      if (tracked.has(key)) continue;
      const unknown = this.#unknownInserts.get(tag);
      if (unknown !== undefined && unknown.table === table && show(unknown.state) === show(state) && !tagsSeen.has(tag)) {
        tagsSeen.add(tag);
        continue;
      }
      mismatches.push({ table, key, expected: [ABSENT], actual: show(state) });
    }
    return mismatches;
  }

  /** One line for the test output. */
  summary(): string {
    const codes = new Map<string, number>();
    for (const failure of this.#failures) codes.set(`${failure.code}/${failure.outcome}`, (codes.get(`${failure.code}/${failure.outcome}`) ?? 0) + 1);
    return `acknowledged ${this.#acknowledged}, rolled back ${this.#rolledBack}, failed ${this.#failures.length} (${[...codes].map(([c, n]) => `${c} ×${n}`).join(', ') || 'none'})`;
  }
}
