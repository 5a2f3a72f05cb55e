/**
 * The session of a driver connection (`createConnection`), which lives longer than any one mode: what it must not
 * be moved across a mode switch in the middle of (a transaction, `SET autocommit = 0`, `SET TRANSACTION` before its
 * BEGIN, temporary tables, LOCK TABLES), and the session statements (SET, USE, SET SESSION TRANSACTION) each side's
 * connection must have run before it serves the session, so that both sides read and write values the same way
 * (a `time_zone` missing on one side would store TIMESTAMP values differently there).
 *
 * @module
 */
import type { QueryOptions } from 'mysql2';
import type { StatementAnalysis } from '../sql/types.js';

/** A session statement as the caller sent it. */
export interface SessionEntry {
  /** The SQL argument as given (text or mysql2 query options). */
  readonly sql: string | QueryOptions;
  /** The values argument as given. */
  readonly values: unknown;
  /** Set when the primary side refused it: it changed nothing, so it is not run anywhere else. */
  failed: boolean;
}

/** What a side's connection must run before it serves the session. */
export interface CatchUp {
  /** The connection carries the state of a session that was reset since: reset it first. */
  readonly reset: boolean;
  /** The session statements it has not run yet, in order. */
  readonly entries: readonly SessionEntry[];
}

/** See the module description. */
export class SessionTracker {
  #inTransaction = false;
  #autocommitOff = false;
  #nextTransactionSettings = false;
  #temporaryTables = 0;
  #tableLocks = false;
  #history: SessionEntry[] = [];
  #epoch = 0;
  readonly #applied = new WeakMap<object, { epoch: number; count: number }>();

  /** True while the session must keep the connection (and so the mode) it has. */
  get pinned(): boolean {
    return this.#inTransaction || this.#autocommitOff || this.#nextTransactionSettings || this.#temporaryTables > 0 || this.#tableLocks;
  }

  /** True after `SET autocommit = 0` (until `SET autocommit = 1`). */
  get autocommitOff(): boolean {
    return this.#autocommitOff;
  }

  /** True between BEGIN and its COMMIT/ROLLBACK. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Number of session statements so far. */
  get length(): number {
    return this.#history.length;
  }

  /**
   * Notes a statement the caller sends, in the order sent. Returns its history entry when it sets lasting session
   * state (so the caller can mark it failed), else `null`.
   */
  track(analysis: StatementAnalysis, sql: string | QueryOptions, values: unknown): SessionEntry | null {
    switch (analysis.class) {
      case 'transaction': {
        const control = analysis.transaction;
        switch (control?.kind) {
          case 'begin':
            this.#inTransaction = true;
            this.#nextTransactionSettings = false;
            return null;
          case 'commit':
          case 'rollback':
            this.#inTransaction = control.chain || this.#autocommitOff;
            return null;
          case 'set_autocommit':
            // An expression the analyzer cannot evaluate counts as "off": the session then keeps its mode.
            this.#autocommitOff = control.value !== true;
            this.#inTransaction = this.#autocommitOff;
            return null;
          case 'set_transaction':
            if (control.scope === 'session') return this.#remember(sql, values);
            if (control.scope === 'next') this.#nextTransactionSettings = true;
            return null;
          default:
            return null;
        }
      }
      case 'session':
        return analysis.session?.kind === 'set' && analysis.session.global ? null : this.#remember(sql, values);
      case 'ddl': {
        const ddl = analysis.ddl;
        if (ddl?.temporary === true) {
          const count = Math.max(1, ddl.tables.length);
          this.#temporaryTables = ddl.kind.startsWith('create') ? this.#temporaryTables + count : Math.max(0, this.#temporaryTables - count);
        } else {
          this.#inTransaction = this.#autocommitOff; // DDL commits an open transaction
        }
        return null;
      }
      case 'other':
        if (analysis.verb === 'lock') this.#tableLocks = true;
        else if (analysis.verb === 'unlock') this.#tableLocks = false;
        return null;
      default:
        return null;
    }
  }

  /**
   * What `connection` lacks of the session's statements before index `bound` (the statements from `bound` on reach
   * it through the dual-write connection itself). Counts them as applied.
   */
  catchUp(connection: object, bound: number): CatchUp {
    const known = this.#applied.get(connection);
    const reset = known !== undefined && known.epoch !== this.#epoch;
    const from = known === undefined || reset ? 0 : known.count;
    const upTo = Math.min(bound, this.#history.length);
    this.#applied.set(connection, { epoch: this.#epoch, count: Math.max(from, upTo) });
    return { reset, entries: this.#history.slice(from, upTo).filter((entry) => !entry.failed) };
  }

  /** Records that `connection` has run the session's statements before index `count`. */
  applied(connection: object, count: number): void {
    this.#applied.set(connection, { epoch: this.#epoch, count });
  }

  /** Forgets the session (after `reset()`): connections that carried it are reset before their next use. */
  reset(): void {
    this.#epoch += 1;
    this.#history = [];
    this.#inTransaction = false;
    this.#autocommitOff = false;
    this.#nextTransactionSettings = false;
    this.#temporaryTables = 0;
    this.#tableLocks = false;
  }

  #remember(sql: string | QueryOptions, values: unknown): SessionEntry {
    const entry: SessionEntry = { sql, values, failed: false };
    this.#history.push(entry);
    return entry;
  }
}
