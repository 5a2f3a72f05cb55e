/**
 * A connection checked out of the dual-write pool (`getConnection()`), shaped like mysql2's PoolConnection.
 * It keeps the mode it was checked out in until it is released, holds one primary connection, and mirrors its
 * session and transactions on one secondary connection (taken on first need).
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { PoolConnection, QueryOptions, QueryResult } from 'mysql2';
import * as mysqlPromise from 'mysql2/promise';
import type { PoolConnection as PromisePoolConnection } from 'mysql2/promise';
import { DdlRefusedError, DualWriteError, ReplayFailedError, TableModesConflictError } from '../errors.js';
import type { FlagState } from '../mode/flag-provider.js';
import { hasTableModes } from '../mode/table-modes.js';
import { oppositeSide, primarySide, writesBothSides, type Mode, type Side } from '../mode/modes.js';
import type { ModePin } from '../mode/switch-gate.js';
import type { ReplayFailure } from '../replay/failure.js';
import { autocommitWrite, forgetTables, notReplayed, refuseByPolicy } from './autocommit-write.js';
import { DualQuery, type QueryHandle } from './dual-query.js';
import type { DualEngine } from './engine.js';
import { forwardEvents } from './forward-events.js';
import { runPrimaryStep } from './primary-step.js';
import { replayHeldOnPool, replayOnPool, type ReplayContext, type SecondaryWork } from './secondary.js';
import { lostConnection, secondaryCommitFailed, type HeldReplay, type IntentBatch } from './intents.js';
import { SecondarySession } from './secondary-session.js';
import { send, type Method, type Outcome, type QueryCallback, type ResultCallback } from './side-io.js';
import { observeCall } from '../telemetry/health.js';
import { traceCommit, tracePrimary, traceWrite } from '../telemetry/telemetry.js';
import type { Statement } from './statement.js';
import { connectionMode, currentOn, modeForWrite, refuseStaleWrite, tableModesOf } from './table-modes.js';

/** mysql2 errno of a deadlock: the server rolled the whole transaction back. */
const ER_LOCK_DEADLOCK = 1213;

/** A mysql2-PoolConnection-shaped connection of the dual-write pool. See the module description. */
export class DualConnection extends EventEmitter {
  readonly #engine: DualEngine;
  readonly #pin: ModePin;
  readonly #primary: PoolConnection;
  readonly #primarySide: Side;
  readonly #context: ReplayContext;
  /** The mode the session works in: the pinned default mode, or its `*_first` form for per-table modes ({@link connectionMode}). */
  readonly #mode: Mode;
  /** Whether the pinned state gives some tables a mode of their own (each statement's tables are then checked). */
  readonly #tableModes: boolean;
  #session: SecondarySession | null = null;
  #database: string | null;
  #inTransaction = false;
  #autocommit = true;
  /** Writes of the open transaction, counted as acknowledged when it commits. */
  #transactionWrites = 0;
  #tail: Promise<unknown> = Promise.resolve();
  #busy = 0;
  #released = false;
  readonly #unforward: () => void;
  #finished: Promise<void> = Promise.resolve();

  /**
   * @param engine - the pool's engine
   * @param pin - the mode pin this connection holds until it is released
   * @param primary - a connection of the primary side of the pinned mode
   * @internal the pool creates its connections
   */
  constructor(engine: DualEngine, pin: ModePin, primary: PoolConnection) {
    super();
    this.#engine = engine;
    this.#pin = pin;
    this.#primary = primary;
    this.#primarySide = primarySide(pin.mode);
    this.#mode = connectionMode(pin.state);
    this.#tableModes = hasTableModes(pin.state);
    this.#context = { engine, mode: this.#mode, secondary: oppositeSide(this.#primarySide) };
    this.#database = engine.sides[this.#primarySide].database;
    this.#unforward = forwardEvents(this, [primary], ['error', 'drain', 'connect', 'end', 'enqueue']);
  }

  /** The mode this connection runs in (fixed from check-out to release). */
  get mode(): Mode {
    return this.#pin.mode;
  }

  /** The flag state this connection is pinned to (its default mode and per-table modes, fixed until release). */
  get flagState(): FlagState {
    return this.#pin.state;
  }

  /** The primary side's connection configuration (mysql2's `connection.config`). */
  get config(): PoolConnection['config'] {
    return this.#primary.config;
  }

  /** The primary side's connection id. */
  get threadId(): number {
    return this.#primary.threadId;
  }

  /** mysql2's flag read by `Symbol.asyncDispose` of its promise wrapper. */
  get _closing(): boolean {
    return (this.#primary as unknown as { _closing?: boolean })._closing === true;
  }

  /** The primary side connection's fatal error, if it had one (mysql2's `_fatalError`, read by ORMs to validate connections). */
  get _fatalError(): Error | null {
    return (this.#primary as unknown as { _fatalError?: Error | null })._fatalError ?? null;
  }

  /** The primary side connection's protocol error, if it had one (mysql2's `_protocolError`). */
  get _protocolError(): Error | null {
    return (this.#primary as unknown as { _protocolError?: Error | null })._protocolError ?? null;
  }

  /** The primary side connection's socket (mysql2's `connection.stream`; ORMs check `stream.destroyed`). */
  get stream(): Duplex {
    return (this.#primary as unknown as { stream: Duplex }).stream;
  }

  /** The primary side connection's state (`authenticated`, `disconnected`, `error`, …), as mysql2 reports it. */
  get state(): string {
    return (this.#primary as unknown as { state?: string }).state ?? 'authenticated';
  }

  /**
   * The mysql2/promise-shaped view of this connection, like mysql2's `connection.promise()`: mysql2's own
   * PromisePoolConnection around this dual-write connection (TypeORM queries through it).
   */
  promise(): PromisePoolConnection {
    return new PromisePoolConnectionClass(this);
  }

  /** mysql2's `query(sql | options, values?, callback?)`. */
  query<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown, callback?: QueryCallback<T>): QueryHandle {
    return this.#dispatch('query', sql, values, callback);
  }

  /** mysql2's `execute(sql | options, values?, callback?)` (prepared statement on the primary side; replayed likewise). */
  execute<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown, callback?: QueryCallback<T>): QueryHandle {
    return this.#dispatch('execute', sql, values, callback);
  }

  /** Starts a transaction on the primary side and a matching one on the secondary side (dual-write modes). */
  beginTransaction(callback?: ResultCallback): QueryHandle {
    return this.query('START TRANSACTION', callback);
  }

  /** Commits the primary side, then the secondary side. */
  commit(callback?: ResultCallback): QueryHandle {
    return this.query('COMMIT', callback);
  }

  /** Rolls back both sides. */
  rollback(callback?: ResultCallback): QueryHandle {
    return this.query('ROLLBACK', callback);
  }

  /** Pings the primary side. */
  ping(callback?: (error: Error | null) => void): void {
    this.#primary.ping((error) => callback?.(error ?? null));
  }

  /** The primary connection's `escape`. */
  escape(value: unknown): string {
    return this.#primary.escape(value);
  }

  /** The primary connection's `escapeId`. */
  escapeId(value: string | string[]): string {
    return this.#primary.escapeId(value as string);
  }

  /** The primary connection's `format`. */
  format(sql: string, values?: unknown): string {
    return this.#primary.format(sql, values);
  }

  /**
   * Not supported on a dual-write connection: a statement prepared on the primary side alone would run its writes
   * there only. Calls back with `ER_DUALWRITE_UNSUPPORTED`; use `execute()`, which prepares on both sides.
   */
  prepare(_options: unknown, callback?: (error: Error | null) => void): void {
    const error = unsupported('prepare()', 'use execute(sql, values), which prepares and caches the statement on each side');
    if (callback) process.nextTick(callback, error);
    else throw error;
  }

  /** Not supported: the two sides would run as different users. Calls back with `ER_DUALWRITE_UNSUPPORTED`. */
  changeUser(_options: unknown, callback?: (error: Error | null) => void): void {
    const error = unsupported('changeUser()', 'create a dual-write pool with the other credentials for both sides');
    if (callback) process.nextTick(callback, error);
    else throw error;
  }

  /**
   * Resets the session (COM_RESET_CONNECTION) on the primary side, and ends the secondary side's session too
   * (its connection is rolled back and closed; a fresh one mirrors the new session).
   */
  reset(callback?: (error: Error | null) => void): void {
    const session = this.#session;
    this.#session = null;
    this.#inTransaction = false;
    this.#autocommit = true;
    this.#transactionWrites = 0;
    this.#tail = this.#tail.then(async () => {
      await session?.close(true); // closed, not pooled: its session state must not reach the pool's next user
      await new Promise<void>((resolve) => {
        this.#primary.reset((error) => {
          callback?.(error ?? null);
          resolve();
        });
      });
    });
  }

  /** Pauses the primary connection (streaming reads). */
  pause(): void {
    this.#primary.pause();
  }

  /** Resumes the primary connection. */
  resume(): void {
    this.#primary.resume();
  }

  /**
   * Gives the connection back: an open transaction is rolled back on both sides (mysql2 would leave it open for
   * the connection's next user, who would then commit or lose someone else's writes), failures still pending are
   * recorded, both connections return to their pools, and the mode pin is released.
   */
  release(): void {
    this.#finish(false);
  }

  /** mysql2 treats `end()` on a pooled connection as `release()`. */
  end(callback?: (error?: Error | null) => void): void {
    this.#finish(false);
    if (callback) process.nextTick(callback, null);
  }

  /** Closes both connections instead of returning them to their pools. */
  destroy(): void {
    this.#finish(true);
  }

  /**
   * @internal Resolves once a released connection has finished: its statements ran, its transaction was rolled
   * back if open, and both sides' connections are back in their pools (resolves at once if it was not released).
   */
  get finished(): Promise<void> {
    return this.#finished;
  }

  #finish(destroy: boolean): void {
    if (this.#released) return;
    this.#released = true;
    const primary = this.#primary;
    this.#finished = this.#tail
      .then(async () => {
        if (this.#inTransaction && this.#session !== null) await send(primary, 'query', 'ROLLBACK').catch(() => undefined);
        const session = this.#session;
        if (session !== null) {
          const pending = await session.failuresBeforeCommit();
          await this.#engine.recordFailures(this.#primarySide, pending, null);
          await session.close(destroy);
        }
      })
      .finally(() => {
        this.#unforward();
        this.#pin.release();
        if (destroy) primary.destroy();
        else primary.release();
      });
  }

  #dispatch(method: Method, sql: string | QueryOptions, values: unknown, callback: unknown): QueryHandle {
    const primary = this.#primary as unknown as Record<Method, (...args: unknown[]) => QueryHandle>;
    const health = this.#engine.health[this.#primarySide];
    if (!writesBothSides(this.#mode)) {
      if (this.#tableModes || this.#engine.gate.appliedState.stale === true) {
        // Per-table modes or a stale flag state: the statement's tables decide whether it may run here at all.
        const { statement, args } = this.#engine.statement(method, sql, values, callback, this.#primarySide);
        try {
          this.#route(statement);
        } catch (error) {
          return refused(statement, args.callback, error as Error);
        }
        if (statement.analysis.session?.kind === 'use') this.#database = statement.analysis.session.schema;
      }
      return observeCall(health, values, callback, (v, c) => primary[method](sql, v, c));
    }
    const { statement, args } = this.#engine.statement(method, sql, values, callback, this.#primarySide);
    if (statement.analysis.class === 'read' && this.#busy === 0) {
      if (this.#tableModes) {
        try {
          this.#route(statement);
        } catch (error) {
          return refused(statement, args.callback, error as Error);
        }
      }
      // mysql2 runs a connection's commands in order, so an idle connection's read can go straight through.
      return observeCall(health, args.valuesArg, args.callback, (v, c) => (v === undefined ? primary[method](args.sqlArg, c) : primary[method](args.sqlArg, v, c)));
    }
    const query = new DualQuery(statement.text, statement.values, args.callback);
    this.#busy++;
    const startedAt = performance.now();
    const run = this.#tail.then(() => this.#handle(statement));
    this.#tail = run.then(
      ([result, fields]) => (health.observe(startedAt, null), query.settle(null, result, fields)),
      (error: Error) => (health.observe(startedAt, error), query.settle(error)),
    ).finally(() => this.#busy--);
    return query;
  }

  /**
   * The mode `statement` runs in on this connection: {@link DualConnection.#mode}, or `P_only` for a statement on
   * tables in `P_only` (then the primary side alone). Runs in statement order (the session's default database
   * resolves unqualified names).
   *
   * @throws {@link TableModesConflictError} when a table's mode cannot be honoured on this connection (another primary
   *   side, tables in different modes, a read of a table not current on the primary side)
   * @throws {@link FlagsStaleError} for a write in a `*_only` mode while the flag state in force is stale
   */
  #route(statement: Statement): Mode {
    const { analysis } = statement;
    const cls = analysis.class;
    if (cls === 'transaction' || cls === 'session' || (cls === 'ddl' && analysis.ddl?.temporary === true)) return this.#mode;
    const state = this.#pin.state;
    let mode = state.mode;
    if (this.#tableModes) {
      const entries = tableModesOf(state, statement, this.#database);
      if (cls === 'read') {
        if (entries.every((entry) => currentOn(entry.mode as Mode, this.#primarySide))) return this.#mode;
        throw new TableModesConflictError(
          statement.text,
          entries,
          `this connection reads from the ${this.#primarySide} side (its pinned mode is ${state.mode}), whose data is not current for a table it reads`,
          'Read that table on a connection of its own (pool.query() picks a current side), or after the table has moved to a *_first mode.',
        );
      }
      mode = modeForWrite(statement, entries, state.mode);
      if (primarySide(mode) !== this.#primarySide) {
        throw new TableModesConflictError(
          statement.text,
          entries,
          `this connection was checked out with the ${this.#primarySide} side as primary (pinned mode ${state.mode}), but the table written is in ${mode}, whose primary side is the other one`,
          'Release this connection and check out a new one after the switch (it pins the modes then in force), or write the table through pool.query().',
        );
      }
    } else if (cls === 'read') {
      return this.#mode;
    }
    refuseStaleWrite(this.#engine, this.#engine.gate.appliedState, writesBothSides(mode) ? this.#mode : mode, statement);
    return writesBothSides(mode) ? this.#mode : mode;
  }

  async #handle(statement: Statement): Promise<Outcome> {
    const { analysis } = statement;
    const mode = this.#route(statement);
    if (!writesBothSides(mode) && analysis.class !== 'read') {
      // A table in the primary side's *_only mode: the primary side alone, inside the transaction if one is open.
      if (analysis.class === 'ddl') {
        if (this.#inTransaction) await this.#commit(null); // DDL commits an open transaction implicitly
        const outcome = await this.#sendPrimary(statement);
        forgetTables(this.#engine, statement, this.#database);
        return outcome;
      }
      return this.#sendPrimary(statement);
    }
    switch (analysis.class) {
      case 'read':
        return this.#sendPrimary(statement);
      case 'transaction':
        return this.#transactionControl(statement);
      case 'session': {
        const outcome = await this.#sendPrimary(statement);
        if (analysis.session?.kind === 'use') this.#database = analysis.session.schema;
        this.#sessionSide().sessionState(statement.text, statement.values);
        return outcome;
      }
      case 'ddl':
        return this.#ddl(statement);
      default:
        return this.#inTransaction ? traceWrite(this.#engine, statement, this.#mode, this.#database, () => this.#writeInTransaction(statement)) : this.#autocommitWrite(statement);
    }
  }

  #sendPrimary(statement: Statement): Promise<Outcome> {
    return send(this.#primary, statement.method, statement.sqlArg, statement.valuesArg);
  }

  #sessionSide(): SecondarySession {
    this.#session ??= new SecondarySession(this.#context);
    return this.#session;
  }

  #autocommitWrite(statement: Statement): Promise<Outcome> {
    const session = this.#session;
    const replay = (work: SecondaryWork): Promise<ReplayFailure | null> => (session !== null ? session.replayNow(work) : replayOnPool(this.#context, work));
    const replayHeld = (work: SecondaryWork): Promise<HeldReplay> => (session !== null ? session.replayHeld(work) : replayHeldOnPool(this.#context, work));
    return autocommitWrite(this.#engine, statement, this.#mode, { connection: this.#primary, database: this.#database, replay, replayHeld });
  }

  async #writeInTransaction(statement: Statement): Promise<Outcome> {
    const engine = this.#engine;
    if (statement.analysis.class === 'other' && statement.analysis.unsafe.length === 0) return this.#sendPrimary(statement);
    const planned = await engine.plan(statement, this.#primarySide, this.#database);
    refuseByPolicy(engine, statement, planned);
    let step;
    try {
      step = await tracePrimary(engine, statement, this.#mode, this.#database, () => runPrimaryStep(engine, statement, planned, this.#primary));
    } catch (error) {
      if ((error as { errno?: unknown }).errno === ER_LOCK_DEADLOCK) await this.#transactionGone();
      throw error;
    }
    const session = this.#sessionSide();
    if (step.work !== null) session.replay(step.work);
    else session.note(notReplayed(this.#context, planned, statement, step));
    this.#transactionWrites += 1;
    return step.outcome;
  }

  async #transactionControl(statement: Statement): Promise<Outcome> {
    const control = statement.analysis.transaction;
    switch (control?.kind) {
      case 'begin': {
        if (this.#inTransaction) await this.#commit(null); // BEGIN commits an open transaction implicitly
        const outcome = await this.#sendPrimary(statement);
        this.#inTransaction = true;
        this.#sessionSide().begin(statement.text);
        return outcome;
      }
      case 'commit':
        return traceCommit(this.#engine, this.#mode, () => this.#commit(statement, control.chain));
      case 'rollback': {
        const outcome = await this.#sendPrimary(statement);
        await this.#transactionGone(control.chain);
        return outcome;
      }
      case 'savepoint':
      case 'rollback_to_savepoint':
      case 'release_savepoint': {
        const outcome = await this.#sendPrimary(statement);
        if (this.#session?.inTransaction === true) this.#session.savepoint(statement.text);
        return outcome;
      }
      case 'set_autocommit': {
        if (control.value === true && this.#inTransaction) await this.#commit(null); // SET autocommit = 1 commits
        const outcome = await this.#sendPrimary(statement);
        if (control.value !== null) this.#autocommit = control.value;
        if (control.value === false && !this.#inTransaction) {
          this.#inTransaction = true;
          this.#sessionSide().begin(statement.text);
        } else {
          this.#sessionSide().session(statement.text);
        }
        return outcome;
      }
      default: {
        const outcome = await this.#sendPrimary(statement);
        // SET SESSION TRANSACTION lasts; SET TRANSACTION (next transaction only) must not be run again later.
        if (control?.kind === 'set_transaction' && control.scope === 'session') this.#sessionSide().sessionState(statement.text, statement.values);
        else this.#sessionSide().session(statement.text, statement.values);
        return outcome;
      }
    }
  }

  /**
   * COMMIT: waits for the secondary side's queue; records its failures inside the primary transaction; commits the
   * primary side (the caller's statement, or a plain COMMIT for an implicit one); then commits the secondary side.
   */
  async #commit(statement: Statement | null, chain = false): Promise<Outcome> {
    const session = this.#session;
    const primaryCommit = (): Promise<Outcome> => (statement ? this.#sendPrimary(statement) : send(this.#primary, 'query', 'COMMIT'));
    if (!this.#inTransaction || session === null) {
      const outcome = await primaryCommit();
      this.#inTransaction = chain || !this.#autocommit;
      return outcome;
    }
    const failures = await session.failuresBeforeCommit();
    const missed = failures.filter((f) => f.kind !== 'recorded');
    if (missed.length > 0 && this.#engine.options.strict) {
      throw new ReplayFailedError(this.#context.secondary, `${missed.length} write(s) of this transaction`, { cause: missed[0]?.error ?? missed[0]?.kind });
    }
    await this.#engine.recordFailures(this.#primarySide, failures, this.#primary);
    let batch: IntentBatch | null;
    try {
      batch = await this.#writeIntents(session);
    } catch (error) {
      await this.#transactionGone(); // the primary connection was lost: its transaction is gone
      throw error;
    }
    let outcome: Outcome;
    try {
      outcome = await tracePrimary(this.#engine, null, this.#mode, this.#database, primaryCommit);
    } catch (error) {
      if (!commitOutcomeUnknown(error) || batch !== null) {
        // With intent rows, they (and the failures recorded with them) exist exactly when the primary side
        // committed, whatever the COMMIT's outcome: rolling the secondary side back is all that is left to do.
        await this.#transactionGone();
        throw error;
      }
      // The connection was lost before COMMIT's reply: the primary side may have committed. Every write of the
      // transaction (and the failures recorded inside it, which may be gone with it) goes to the repair log through
      // another connection, so a drain makes the secondary side equal to whatever the primary side holds.
      const unknown = await session.abandonUnknownCommit(error as Error);
      this.#inTransaction = false;
      this.#transactionWrites = 0;
      await this.#engine.recordFailures(this.#primarySide, [...failures, ...unknown], null);
      throw error;
    }
    this.#engine.stats.acknowledgedWrites[this.#primarySide] += this.#transactionWrites;
    this.#transactionWrites = 0;
    const late = await session.commit('COMMIT');
    if (batch === null) await this.#engine.recordFailures(this.#primarySide, late, null);
    else if (late.length === 0) this.#engine.intents?.done(batch);
    else this.#engine.countRecorded(late.map((f) => ({ ...f, error: secondaryCommitFailed(this.#context.secondary, f.error ?? new Error(f.kind)) })));
    this.#inTransaction = false;
    if (chain || !this.#autocommit) {
      this.#inTransaction = true;
      session.begin('START TRANSACTION');
    }
    return outcome;
  }

  /**
   * With `intents`: one INSERT of intent rows for the writes the secondary transaction applied, inside the primary
   * side's transaction, before its COMMIT. `null` when there is nothing to protect (intents off, no write applied)
   * or when the INSERT failed with a server error: the transaction then goes on as without intents (its COMMIT
   * records late failures).
   *
   * @throws the error of a lost primary connection (the transaction is gone with it)
   */
  async #writeIntents(session: SecondarySession): Promise<IntentBatch | null> {
    const intents = this.#engine.intents;
    if (intents === null) return null;
    const written = await session.writtenBeforeCommit();
    if (written.length === 0) return null;
    try {
      return await intents.write(this.#primary, this.#primarySide, this.#context, written);
    } catch (error) {
      if (lostConnection(error)) throw error;
      return null;
    }
  }

  /** The primary side's transaction ended without a commit (ROLLBACK, deadlock, failed COMMIT): roll the secondary side back too. */
  async #transactionGone(chain = false): Promise<void> {
    const session = this.#session;
    this.#inTransaction = false;
    this.#transactionWrites = 0;
    if (session === null) return;
    await session.rollback();
    if (chain || !this.#autocommit) {
      this.#inTransaction = true;
      session.begin('START TRANSACTION');
    }
  }

  async #ddl(statement: Statement): Promise<Outcome> {
    const ddl = statement.analysis.ddl;
    if (ddl?.temporary === true) {
      const outcome = await this.#sendPrimary(statement);
      this.#sessionSide().session(statement.text, statement.values);
      return outcome;
    }
    if (this.#engine.options.ddl === 'refuse') {
      this.#engine.stats.refusedWrites += 1;
      throw new DdlRefusedError(statement.text, ddl?.kind ?? statement.analysis.verb);
    }
    if (this.#inTransaction) await this.#commit(null); // DDL commits an open transaction implicitly
    const outcome = await this.#sendPrimary(statement);
    forgetTables(this.#engine, statement, this.#database);
    const session = this.#sessionSide();
    session.session(statement.text, statement.values);
    return outcome;
  }
}

/** mysql2's PromisePoolConnection class (exported at run time by mysql2/promise, not declared in its typings). */
const PromisePoolConnectionClass = (mysqlPromise as unknown as { PromisePoolConnection: new (connection: DualConnection) => PromisePoolConnection })
  .PromisePoolConnection;

/** A statement refused before it ran: its error reaches the caller as mysql2 delivers one (callback or `error` event). */
function refused(statement: Statement, callback: ResultCallback | undefined, error: Error): QueryHandle {
  const query = new DualQuery(statement.text, statement.values, callback);
  query.settle(error);
  return query;
}

function unsupported(what: string, instead: string): DualWriteError {
  return new DualWriteError('ER_DUALWRITE_UNSUPPORTED', `${what} is not supported on a dual-write connection: it would act on the primary side only. Instead, ${instead}.`);
}

/** Client-side errors of a lost connection: the statement may or may not have run on the server. */
const CONNECTION_LOST = new Set(['PROTOCOL_CONNECTION_LOST', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/**
 * True when a COMMIT failed without a reply from the server (the connection was lost: mysql2 marks such errors
 * `fatal`), so it may have committed; false for a server error (the transaction did not commit).
 */
function commitOutcomeUnknown(error: unknown): boolean {
  const { fatal, code, errno } = error as { fatal?: unknown; code?: unknown; errno?: unknown };
  if (typeof errno === 'number' && errno >= 1000 && errno < 10000) return false; // an error the server sent
  return fatal === true || (typeof code === 'string' && CONNECTION_LOST.has(code)) || (error instanceof Error && /closed state/.test(error.message));
}
