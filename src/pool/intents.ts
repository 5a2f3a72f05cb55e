/**
 * Intent rows (pool option `intents`): closing the crash window of the dual write.
 *
 * Without intents, a process killed after the secondary side committed a replay and before the primary side
 * committed (or between the two COMMITs of a transaction) leaves the sides different with nothing in the repair
 * log. With intents, the replay is held in an uncommitted secondary transaction; an intent row naming the keys the
 * write touched is written to the repair log inside the primary side's transaction; the primary side commits; then
 * the secondary side commits, and the intent row is deleted off the caller's path in batches.
 * So an intent row exists exactly when the primary side committed, and it stays until the secondary side committed
 * too: a crash anywhere leaves either nothing on either side or a pending row the drain repairs.
 *
 * A leftover intent row (failed delete, ids of a multi-row INSERT that were not consecutive, a crash before the
 * delete) is harmless: the drain compares the rows before it repairs, and finds them equal.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { PoolConnection } from 'mysql2';
import { DualWriteError } from '../errors.js';
import type { Side } from '../mode/modes.js';
import type { ReplayFailure } from '../replay/failure.js';
import { INTENT_KIND, quoteTableName, repairLogInsert, type RepairLogEntry } from '../replay/repair-log.js';
import { insertIdOf, send, type Sendable } from './side-io.js';
import type { ReplayContext, SecondaryWork } from './secondary.js';

/** What an intent row names: the write's table, keys and statement. */
export type IntentWrite = Pick<SecondaryWork, 'table' | 'keys' | 'sql' | 'otherTables'>;

/** The intent rows one INSERT wrote: deleted together once the secondary side committed. */
export interface IntentBatch {
  /** The side whose repair log holds them (the primary side). */
  readonly side: Side;
  /** Their ids as the INSERT reported them (first id and the following ones; see the module notes). */
  readonly ids: readonly string[];
  /** The token every row of the INSERT carries in `error_message`: the delete matches it as well as the id. */
  readonly token: string;
}

/** A replay held in a secondary transaction that is not committed yet. */
export interface HeldReplay {
  /** The replay's failure (then the secondary transaction was already rolled back), or `null` when it applied. */
  readonly failure: ReplayFailure | null;
  /** Commits the secondary transaction; resolves to `null` or its error (never rejects). */
  commit(): Promise<Error | null>;
  /** Rolls the secondary transaction back (never rejects). */
  rollback(): Promise<void>;
}

/** A held replay that failed: nothing is left open. */
export function failedHold(failure: ReplayFailure): HeldReplay {
  return { failure, commit: () => Promise.resolve(null), rollback: () => Promise.resolve() };
}

/** Deletes are sent this long after the first pending id at the latest, in milliseconds. */
export const INTENT_DELETE_DELAY_MS = 50;
/** ...or as soon as this many ids are pending. */
export const INTENT_DELETE_BATCH = 200;

/** The repair log's intent rows of one pool: writing them and deleting them in batches. */
export class IntentLog {
  readonly #table: string;
  readonly #pools: Readonly<Record<Side, Sendable>>;
  readonly #prefix = randomBytes(8).toString('hex');
  #sequence = 0;
  readonly #pending: Record<Side, IntentBatch[]> = { source: [], target: [] };
  #timer: NodeJS.Timeout | null = null;
  /** Each side's `auto_increment_increment`, read once: the step between the ids of one multi-row INSERT. */
  readonly #increment: Partial<Record<Side, bigint>> = {};
  #flushing: Promise<void> = Promise.resolve();
  /** Rows deleted so far, and deletes that failed (their rows stay, harmless). */
  readonly counts = { deleted: 0, failedDeletes: 0 };

  readonly #timeoutMs: number;

  /**
   * @param table - the repair-log table (`repairLogTable`)
   * @param pools - each side's pool, for the deletes
   * @param timeoutMs - how long one delete may run (`replayTimeoutMs`)
   */
  constructor(table: string, pools: Readonly<Record<Side, Sendable>>, timeoutMs: number) {
    this.#table = table;
    this.#pools = pools;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Writes one intent row per table `writes` name through `connection` (inside the primary side's open
   * transaction) in one INSERT.
   *
   * @throws the database error of the INSERT
   */
  async write(connection: PoolConnection, primary: Side, context: ReplayContext, writes: readonly IntentWrite[]): Promise<IntentBatch> {
    const token = `intent ${this.#prefix}:${(this.#sequence += 1)}`;
    const at = context.engine.options.now();
    const entries: RepairLogEntry[] = writes.map((w) => ({
      kind: INTENT_KIND,
      secondarySide: context.secondary,
      mode: context.mode,
      table: w.table,
      keys: w.keys,
      ...(w.otherTables === undefined ? {} : { otherTables: w.otherTables }),
      sql: w.sql,
      error: null,
      at,
      token,
    }));
    const rows = entries.reduce((n, e) => n + 1 + (e.otherTables?.length ?? 0), 0);
    if (rows > 1 && this.#increment[primary] === undefined) {
      const [read] = await send(connection, 'query', 'SELECT @@auto_increment_increment AS step');
      const value = (read as { step?: unknown }[])[0]?.step;
      this.#increment[primary] = typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint' ? BigInt(value) : 1n;
    }
    const step = this.#increment[primary] ?? 1n;
    const { sql, values } = repairLogInsert(this.#table, entries);
    const [result] = await send(connection, 'query', sql, values);
    const first = insertIdOf(result);
    // Ids one `auto_increment_increment` apart are what InnoDB gives one multi-row INSERT in the usual lock modes;
    // the token check makes a wrong guess (interleaved lock mode) delete nothing of anybody else's.
    const ids = first === null ? [] : Array.from({ length: rows }, (_, i) => String(first + BigInt(i) * step));
    return { side: primary, ids, token };
  }

  /** The secondary side committed the batch's write(s): its rows are deleted with the next batch. */
  done(batch: IntentBatch): void {
    if (batch.ids.length === 0) return;
    const pending = this.#pending[batch.side];
    pending.push(batch);
    if (pending.reduce((n, b) => n + b.ids.length, 0) >= INTENT_DELETE_BATCH) {
      void this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => void this.flush(), INTENT_DELETE_DELAY_MS);
    this.#timer.unref();
  }

  /**
   * Sends the pending deletes now and waits for them (and for any earlier flush), or until `boundMs` passed (a
   * delete stuck on an unreachable side must not hold up `pool.end()`; its rows stay, harmless). Never rejects.
   */
  async flushWithin(boundMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, boundMs);
    });
    await Promise.race([this.flush(), bound]);
    clearTimeout(timer);
  }

  /** Sends the pending deletes now and waits for them (and for any earlier flush). Never rejects. */
  flush(): Promise<void> {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const batches = { source: this.#pending.source, target: this.#pending.target };
    this.#pending.source = [];
    this.#pending.target = [];
    const run = async (): Promise<void> => {
      for (const side of ['source', 'target'] as const) if (batches[side].length > 0) await this.#delete(side, batches[side]);
    };
    this.#flushing = this.#flushing.then(run);
    return this.#flushing;
  }

  async #delete(side: Side, batches: readonly IntentBatch[]): Promise<void> {
    const ids = batches.flatMap((b) => b.ids);
    const tokens = batches.map((b) => b.token);
    try {
      const sql = `DELETE FROM ${quoteTableName(this.#table)} WHERE id IN (${ids.map(() => '?').join(', ')}) AND kind = ? AND repaired_at IS NULL AND error_message IN (${tokens.map(() => '?').join(', ')})`;
      const [result] = await send(this.#pools[side], 'query', { sql, timeout: this.#timeoutMs }, [...ids, INTENT_KIND, ...tokens]);
      this.counts.deleted += (result as { affectedRows?: number }).affectedRows ?? 0;
    } catch {
      // The rows stay pending: a drain compares them, finds the sides equal, and marks them.
      this.counts.failedDeletes += 1;
    }
  }
}

/** The reason a write whose intent row stays pending gets: the secondary side's COMMIT failed after the primary side committed. */
export function secondaryCommitFailed(side: Side, cause: Error): DualWriteError {
  return new DualWriteError(
    'ER_DUALWRITE_SECONDARY_COMMIT',
    `The secondary side (${side}) did not commit the replay after the primary side committed (${cause.message}). ` +
      'The intent row written with the write stays in the repair log as a pending repair: `dualwrite repair --drain-log` ' +
      '(or drainRepairLog()) copies the rows it names to the secondary side.',
    { cause },
  );
}

/**
 * True for an error of a lost connection (mysql2 marks them `fatal`, or refuses a command on a connection it knows
 * is closed): the statement's transaction is gone with it.
 */
export function lostConnection(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  return (error as { fatal?: unknown }).fatal === true || (error instanceof Error && /closed state/.test(error.message));
}
