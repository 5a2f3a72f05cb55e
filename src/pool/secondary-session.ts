/**
 * The secondary side of a checked-out connection: one secondary connection, taken on first need, that mirrors
 * the primary connection's session (SET, USE, temporary tables) and transactions (BEGIN, savepoints, COMMIT,
 * ROLLBACK). Its statements run in order on a queue the caller does not wait for, so a transaction's statements
 * cost the caller only the primary side's time; COMMIT waits for the queue before it commits.
 *
 * Session state (SET, USE) mirrored here is remembered: when the secondary connection has to be replaced (it was
 * closed after a timeout, or could not be reached), the new one gets the same session statements before anything
 * else, so later replays run with the same time zone, sql_mode and default database as on the primary side.
 *
 * Inside a transaction, the first failure breaks the secondary transaction: it is rolled back, the writes it had
 * applied and every later write of the transaction become failures, and COMMIT writes them all to the repair log
 * inside the primary side's transaction.
 *
 * @module
 */
import type { PoolConnection } from 'mysql2';
import { ReplayTimeoutError } from '../errors.js';
import type { ReplayFailure } from '../replay/failure.js';
import { asError } from './engine.js';
import { failedHold, lostConnection, type HeldReplay } from './intents.js';
import { failureOf, guarded, type ReplayContext, type SecondaryWork } from './secondary.js';
import { acquire, inTransaction as runInTransaction, send } from './side-io.js';

/** A write of the current transaction, kept until COMMIT so it can be recorded if the transaction breaks. */
type Written = Pick<SecondaryWork, 'table' | 'keys' | 'sql' | 'otherTables'>;

/** See the module description. */
export class SecondarySession {
  readonly #context: ReplayContext;
  #connection: Promise<PoolConnection> | null = null;
  #tail: Promise<void> = Promise.resolve();
  #inTransaction = false;
  #broken: Error | null = null;
  #written: Written[] = [];
  #failures: ReplayFailure[] = [];
  /** Session-state statements tried so far, in order: what a replacement connection must run first. */
  readonly #state: { readonly sql: string; readonly values: unknown }[] = [];

  /** @param context - the engine, the mode and the secondary side */
  constructor(context: ReplayContext) {
    this.#context = context;
  }

  /** True while the secondary side mirrors an open transaction. */
  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** Queues a session statement (SET, USE, SET TRANSACTION, CREATE TEMPORARY TABLE …). A failure is recorded. */
  session(sql: string, values?: unknown): void {
    this.#enqueue({ kind: 'statement', table: null, keys: null, sql, atomic: false, run: async (c) => void (await send(c, 'query', sql, values)) });
  }

  /**
   * Queues a statement that sets session state lasting beyond the next statement (SET of session variables, USE,
   * SET SESSION TRANSACTION …). Like {@link SecondarySession.session}, and also remembered, so that a replacement
   * connection runs it before anything else.
   */
  sessionState(sql: string, values?: unknown): void {
    const remember = (): void => {
      // The same statement again replaces its earlier copy: only the last effect of identical text matters.
      const same = values === undefined ? this.#state.findIndex((s) => s.sql === sql && s.values === undefined) : -1;
      if (same >= 0) this.#state.splice(same, 1);
      this.#state.push({ sql, values });
    };
    this.#enqueue({
      kind: 'statement',
      table: null,
      keys: null,
      sql,
      atomic: false,
      // Remembered once tried, failed or not: a connection that could not run it now gets it when replaced.
      run: async (c) => {
        try {
          await send(c, 'query', sql, values);
        } finally {
          remember();
        }
      },
    });
  }

  /** Queues the start of a transaction (BEGIN, START TRANSACTION …, or SET autocommit = 0). */
  begin(sql: string): void {
    this.#inTransaction = true;
    this.#broken = null;
    this.#written = [];
    this.#enqueue({ kind: 'statement', table: null, keys: null, sql, atomic: false, control: true, run: async (c) => void (await send(c, 'query', sql)) });
  }

  /** Queues a savepoint statement (SAVEPOINT, ROLLBACK TO, RELEASE SAVEPOINT). */
  savepoint(sql: string): void {
    this.#enqueue({ kind: 'statement', table: null, keys: null, sql, atomic: false, control: true, run: async (c) => void (await send(c, 'query', sql)) });
  }

  /** Queues a write's replay. Inside a broken transaction it is not run: it becomes a failure. */
  replay(work: SecondaryWork): void {
    this.#enqueue(work);
  }

  /** Keeps a failure decided without running anything (a write the policy records instead of replaying) until COMMIT. */
  note(failure: ReplayFailure): void {
    this.#tail = this.#tail.then(() => void this.#failures.push(failure));
  }

  /**
   * Runs a write's replay outside any transaction and waits for it: the replay of an autocommit write, which must
   * land before the primary side commits. Resolves to the failure or `null`.
   */
  async replayNow(work: SecondaryWork): Promise<ReplayFailure | null> {
    await this.#tail;
    let failure: ReplayFailure | null = null;
    const done = this.#run(work).then((f) => void (failure = f));
    this.#tail = done;
    await done;
    return failure;
  }

  /**
   * Like {@link SecondarySession.replayNow}, but the replay runs inside a secondary transaction left open (pool
   * option `intents`) until the caller commits or rolls it back; later statements queue behind it. A failed
   * replay is rolled back here.
   */
  async replayHeld(work: SecondaryWork): Promise<HeldReplay> {
    await this.#tail;
    let finish = (): void => undefined;
    this.#tail = new Promise<void>((resolve) => (finish = resolve));
    const failure = await guarded(
      this.#context,
      work,
      async () => {
        const connection = await this.#connectionNow();
        await send(connection, 'query', 'START TRANSACTION');
        await work.run(connection);
      },
      () => this.#abandon(),
    );
    if (failure !== null) {
      if (lostConnection(failure.error)) this.#abandon();
      else await this.#quietly('ROLLBACK');
      finish();
      return failedHold(failure);
    }
    const holding = this.#connection;
    return {
      failure: null,
      commit: async () => {
        // COMMIT on another connection than the one holding the transaction would commit nothing and say yes.
        const error = this.#connection === holding ? await this.#bounded('COMMIT') : new Error('the secondary connection holding the transaction was closed before COMMIT');
        if (error !== null) {
          // Never leave the session inside the transaction, nor on a connection that is gone.
          if (lostConnection(error)) this.#abandon();
          else await this.#quietly('ROLLBACK');
        }
        finish();
        return error;
      },
      rollback: async () => {
        await this.#quietly('ROLLBACK');
        finish();
      },
    };
  }

  /**
   * The writes of the open transaction the secondary side applied so far (waits for the queue): what the intent
   * rows of its COMMIT name. Empty when the transaction broke (its writes are failures then).
   */
  async writtenBeforeCommit(): Promise<readonly Written[]> {
    await this.#tail;
    return this.#broken === null ? [...this.#written] : [];
  }

  /** Waits for every queued statement, then hands over the failures of the transaction so far (they are cleared). */
  async failuresBeforeCommit(): Promise<ReplayFailure[]> {
    await this.#tail;
    const failures = this.#failures;
    this.#failures = [];
    return failures;
  }

  /**
   * Commits the secondary transaction after the primary side committed (or rolls it back when it broke, its
   * failures having been recorded already). Resolves to the failures the repair log still needs: when COMMIT
   * fails there, every write of the transaction.
   */
  async commit(sql: string): Promise<ReplayFailure[]> {
    await this.#tail;
    const written = this.#written;
    const broken = this.#broken;
    this.#endTransaction();
    if (broken !== null) {
      await this.#quietly('ROLLBACK');
      return [];
    }
    const failure = await guarded(
      this.#context,
      { kind: 'statement', table: null, keys: null, sql },
      async () => {
        const connection = await this.#connectionNow();
        await send(connection, 'query', sql);
      },
      () => this.#abandon(),
    );
    if (failure === null) return [];
    if (lostConnection(failure.error)) this.#abandon(); // a dead connection must not serve the session's next statements
    return written.map((w) => failureOf(this.#context, w, 'transaction', failure.error));
  }

  /**
   * The primary side's COMMIT has an unknown outcome (its connection was lost before the reply): rolls the secondary
   * transaction back and returns every write of the transaction as a `transaction` failure, so that the repair log
   * names them and a drain makes this side equal to whatever the primary side holds — committed or not.
   */
  async abandonUnknownCommit(error: Error): Promise<ReplayFailure[]> {
    await this.#tail;
    const written = this.#written;
    this.#endTransaction();
    this.#failures = [];
    await this.#quietly('ROLLBACK');
    return written.map((w) => failureOf(this.#context, w, 'transaction', error));
  }

  /** Rolls the secondary transaction back (after the primary side's ROLLBACK, or because the primary side's transaction is gone). */
  async rollback(sql = 'ROLLBACK'): Promise<void> {
    await this.#tail;
    this.#endTransaction();
    this.#failures = [];
    await this.#quietly(sql);
  }

  /** Waits for the queue, rolls back an open transaction, and gives the connection back to its pool. */
  async close(destroy = false): Promise<void> {
    await this.#tail;
    if (this.#inTransaction) await this.#quietly('ROLLBACK');
    this.#endTransaction();
    if (this.#connection === null) return;
    const connection = await this.#connection.catch(() => null);
    this.#connection = null;
    if (connection === null) return;
    if (destroy) connection.destroy();
    else connection.release();
  }

  #endTransaction(): void {
    this.#inTransaction = false;
    this.#broken = null;
    this.#written = [];
  }

  #enqueue(work: SecondaryWork): void {
    this.#tail = this.#tail.then(async () => {
      const failure = await this.#run(work);
      if (failure !== null) this.#fail(failure, work.control === true);
      else if (this.#inTransaction && work.table !== null) this.#written.push(work);
    });
  }

  async #run(work: SecondaryWork): Promise<ReplayFailure | null> {
    if (this.#inTransaction && this.#broken !== null) return failureOf(this.#context, work, 'transaction', this.#broken);
    const inTransaction = this.#inTransaction;
    return guarded(
      this.#context,
      work,
      async () => {
        const connection = await this.#connectionNow();
        // Several writes that must land together get their own transaction when the session has none open.
        if (!work.atomic || inTransaction) return work.run(connection);
        return runInTransaction(connection, () => work.run(connection));
      },
      () => this.#abandon(),
    );
  }

  #fail(failure: ReplayFailure, control: boolean): void {
    if (!this.#inTransaction) {
      this.#failures.push(failure);
      return;
    }
    if (this.#broken === null) {
      // The secondary transaction cannot be trusted any more: undo it, and count what it had applied as missing.
      this.#broken = failure.error ?? asError(failure.kind);
      for (const w of this.#written) this.#failures.push(failureOf(this.#context, w, 'transaction', this.#broken));
      this.#written = [];
      void this.#quietly('ROLLBACK');
    }
    // A BEGIN or SAVEPOINT that failed names no data: the writes of the broken transaction are what the log needs.
    if (!control) this.#failures.push(failure);
  }

  #connectionNow(): Promise<PoolConnection> {
    if (this.#connection === null) {
      this.#connection = acquire(this.#context.engine.sides[this.#context.secondary].pool).then((connection) => this.#restore(connection));
      this.#connection.catch(() => (this.#connection = null));
    }
    return this.#connection;
  }

  /** Runs the session statements tried so far on a new connection; one that cannot take them is closed. */
  async #restore(connection: PoolConnection): Promise<PoolConnection> {
    try {
      for (const { sql, values } of [...this.#state]) await send(connection, 'query', sql, values);
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return connection;
  }

  /**
   * Sends a clean-up statement (ROLLBACK), bounded by `replayTimeoutMs`: a hung secondary must not hold up the
   * caller's ROLLBACK or COMMIT. On timeout the connection is closed, which ends its transaction on the server.
   */
  async #quietly(sql: string): Promise<void> {
    if (this.#connection === null) return;
    const connection = await this.#connection.catch(() => null);
    if (connection === null) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#context.engine.options.replayTimeoutMs);
    });
    const outcome = await Promise.race([send(connection, 'query', sql).catch((error: unknown) => (lostConnection(error) ? ('lost' as const) : ('failed' as const))), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout' || outcome === 'lost') this.#abandon();
  }

  /** Sends `sql` bounded by `replayTimeoutMs`; resolves to `null` or the error (on timeout the connection is closed). */
  async #bounded(sql: string): Promise<Error | null> {
    let connection: PoolConnection;
    try {
      connection = await this.#connectionNow();
    } catch (error) {
      return asError(error);
    }
    const timeoutMs = this.#context.engine.options.replayTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<Error>((resolve) => {
      timer = setTimeout(() => resolve(new ReplayTimeoutError(this.#context.secondary, timeoutMs)), timeoutMs);
    });
    const outcome = await Promise.race([send(connection, 'query', sql).then(() => null, (error: unknown) => asError(error)), timedOut]);
    clearTimeout(timer);
    if (outcome instanceof ReplayTimeoutError || lostConnection(outcome)) this.#abandon();
    return outcome;
  }

  /**
   * Closes the session's connection after a statement outlived the timeout (its queue would make every later
   * statement wait behind it), or after the connection was lost (every later statement would fail on it). An open transaction dies with it; its writes are recorded already. The next
   * statement takes a fresh connection.
   */
  #abandon(): void {
    const connection = this.#connection;
    this.#connection = null;
    void connection?.then((c) => c.destroy(), () => undefined);
  }
}
