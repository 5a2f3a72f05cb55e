/**
 * `DualPool`: the mysql2-callback-shaped dual-write pool. Reads and single-side modes go straight to mysql2 (its
 * own Query objects come back); writes in the dual-write modes run through the engine.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Pool, PoolConnection, QueryOptions, QueryResult } from 'mysql2';
import { DualWriteError } from '../errors.js';
import type { FlagState } from '../mode/flag-provider.js';
import { parseMode, primarySide, writesBothSides, type Mode, type Side } from '../mode/modes.js';
import type { ModePin, WriteTicket } from '../mode/switch-gate.js';
import type { CircuitState } from '../replay/circuit-breaker.js';
import type { ReplayFailure } from '../replay/failure.js';
import { autocommitWrite } from './autocommit-write.js';
import { DualConnection } from './dual-connection.js';
import { DualQuery, type QueryHandle } from './dual-query.js';
import type { Statement } from './statement.js';
import { connectionMode, readSide, refuseStaleWrite, writeMode } from './table-modes.js';
import { ReadRouter } from './read-routing.js';
import { trackCheckout, trackWrite } from './read-scope.js';
import type { ShadowReadMismatch } from './shadow-read.js';
import { DualEngine, type DualPoolStats, type ModeChange } from './engine.js';
import { forwardEvents } from './forward-events.js';
import type { DualPoolOptions } from './options.js';
import { promisePool, type DualPromisePool } from './promise-pool.js';
import { acquire, send, type Method, type QueryCallback, type ResultCallback } from './side-io.js';
import { observeHandle, observed } from '../telemetry/health.js';

/**
 * The events a {@link DualPool} emits besides mysql2's pool events (`connection`, `acquire`, `release`, `enqueue`, from
 * both sides). They are emitted while a write is finishing: a listener that throws never changes the outcome the
 * caller gets (its error is emitted as `error` when the pool has an `error` listener, else thrown on the next tick,
 * as Node does for a throwing callback).
 */
export interface DualPoolEvents {
  /** A write the secondary side does not have; `recorded` tells whether it reached the repair log. */
  replayFailure: [failure: ReplayFailure, recorded: boolean];
  /** The repair log could not be written: these failures are known only through this event. */
  repairLogError: [error: Error, failures: readonly ReplayFailure[]];
  /** The circuit breaker of a secondary side changed state. */
  circuit: [side: 'source' | 'target', state: CircuitState];
  /** A mode switch took effect in this process. */
  modeChange: [change: ModeChange];
  /** A shadow read's answers differed between the sides (never thrown; see docs/read-routing.md). */
  shadowReadMismatch: [mismatch: ShadowReadMismatch];
}

/**
 * A mysql2-compatible callback pool over a source and a target database. Create it with `createPool()` from
 * `dualwrite`; `promise()` gives the mysql2/promise-shaped view of the same engine.
 */
export class DualPool extends EventEmitter {
  /** @internal The engine shared with connections and the promise view. */
  readonly engine: DualEngine;
  readonly #reads: ReadRouter;
  #closed = false;

  /** @param options - see {@link DualPoolOptions} */
  constructor(options: DualPoolOptions) {
    super();
    this.engine = new DualEngine(options, {
      replayFailure: (failure, recorded) => this.#notify('replayFailure', failure, recorded),
      repairLogError: (error, failures) => {
        // An unhandled 'error'-like event must not crash the application: only emit when someone listens.
        if (this.listenerCount('repairLogError') > 0) this.#notify('repairLogError', error, failures);
      },
      circuit: (side, state) => this.#notify('circuit', side, state),
      modeChange: (change) => this.#notify('modeChange', change),
    });
    this.#reads = new ReadRouter(this.engine, (mismatch) => this.#notify('shadowReadMismatch', mismatch));
    const { source, target } = this.engine.sides;
    forwardEvents(this, [source.pool, target.pool], ['connection', 'acquire', 'release', 'enqueue']);
    this.engine.telemetry?.watch(this);
  }

  /**
   * Emits one of the pool's own events from inside a write: a listener's exception must not become the write's
   * error (the write succeeded on the primary side), so it goes to `error` listeners, or is thrown on the next tick.
   */
  #notify<E extends keyof DualPoolEvents>(event: E, ...args: DualPoolEvents[E]): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      if (this.listenerCount('error') > 0) this.emit('error', error);
      else
        process.nextTick(() => {
          throw error;
        });
    }
  }

  /** Adds a listener; the pool's own events ({@link DualPoolEvents}) are typed, mysql2's pool events are passed through. */
  override on<E extends keyof DualPoolEvents>(event: E, listener: (...args: DualPoolEvents[E]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** Like {@link DualPool.on}, for one call. */
  override once<E extends keyof DualPoolEvents>(event: E, listener: (...args: DualPoolEvents[E]) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  /** The mode in force for new writes. */
  get mode(): Mode {
    return this.engine.gate.currentMode;
  }

  /** The flag provider's state in force (mode, version, who set it). */
  get flagState(): FlagState {
    return this.engine.gate.appliedState;
  }

  /**
   * The configuration of the source side's mysql2 pool (mysql2's `pool.config`), for code that reads it
   * (mysql2's promise wrapper reads `config.connectionConfig`).
   */
  get config(): Pool['config'] {
    return this.engine.sides.source.pool.config;
  }

  /** mysql2's flag for a closed pool. */
  get _closed(): boolean {
    return this.#closed;
  }

  /** Counters since the pool was created (a fresh copy). */
  stats(): DualPoolStats {
    const { source, target } = this.engine.health;
    return { ...structuredClone(this.engine.stats), health: { source: source.snapshot(), target: target.snapshot() } };
  }

  /**
   * Switches the mode at run time and resolves once the switch is in force in this process (writes of the old
   * mode have finished; new writes run in the new mode). Only for a pool using its built-in in-memory provider;
   * with your own `flags` provider, change the mode there.
   *
   * With `options.table` (`schema.table`), switches that one table only (per-table modes, docs/modes.md): it runs
   * in `mode` whatever the default mode is; in-flight writes drain as for any switch.
   *
   * @throws {@link InvalidModeError} for an unknown mode; {@link InvalidOptionError} for a `table` that is not
   *   `schema.table`; {@link DualWriteError} `ER_DUALWRITE_EXTERNAL_FLAGS` with a custom provider
   */
  async setMode(mode: Mode, options: { source?: string; table?: string } = {}): Promise<FlagState> {
    const next = parseMode(mode, 'setMode()');
    const flags = this.engine.ownFlags;
    if (flags === null) {
      throw new DualWriteError(
        'ER_DUALWRITE_EXTERNAL_FLAGS',
        `setMode('${next}') cannot change the mode: this pool takes its mode from the flags provider it was created with. ` +
          'Change the mode through that provider (every process using it follows), or create the pool without `flags` to use setMode().',
      );
    }
    const state = flags.set(next, { source: options.source ?? 'setMode()', ...(options.table === undefined ? {} : { table: options.table }) });
    return this.engine.gate.whenApplied(state.version);
  }

  /** mysql2's `pool.query(sql | options, values?, callback?)`. Returns mysql2's Query for reads, a {@link DualQuery} for dual writes. */
  query<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown, callback?: QueryCallback<T>): QueryHandle {
    return this.#dispatch('query', sql, values, callback);
  }

  /** mysql2's `pool.execute(sql | options, values?, callback?)`. */
  execute<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown, callback?: QueryCallback<T>): QueryHandle | undefined {
    return this.#dispatch('execute', sql, values, callback);
  }

  /**
   * mysql2's `pool.getConnection(callback)`: a {@link DualConnection} that keeps the mode in force now until it is
   * released, even if the mode changes meanwhile.
   */
  getConnection(callback: (error: NodeJS.ErrnoException | null, connection: DualConnection) => void): void {
    void this.#checkOut().then(
      (connection) => callback(null, connection),
      // As mysql2: on error the connection argument is undefined (its typings declare it as always present).
      (error: Error) => callback(error, undefined as unknown as DualConnection),
    );
  }

  /** The mysql2/promise-shaped view of this pool (same engine, same mode), like mysql2's `pool.promise()`. */
  promise(): DualPromisePool {
    return promisePool(this);
  }

  /** mysql2's `pool.releaseConnection(connection)`. */
  releaseConnection(connection: DualConnection): void {
    connection.release();
  }

  /**
   * Ends both sides' mysql2 pools (also pools the application passed in) and refuses further use, after sending
   * the pending deletes of intent rows (option `intents`).
   */
  end(callback?: (error?: Error) => void): void {
    if (this.#closed) {
      if (callback) process.nextTick(callback);
      return;
    }
    this.#closed = true;
    this.engine.gate.close();
    const { source, target } = this.engine.sides;
    let pending = 2;
    let failed: Error | null = null;
    const done = (error?: Error | null): void => {
      failed ??= error ?? null;
      if (--pending === 0 && callback) callback(failed ?? undefined);
    };
    // Pending intent-row deletes go first (option `intents`); one that fails leaves rows the drain finds equal.
    const flushed = this.engine.intents?.flushWithin(this.engine.options.replayTimeoutMs) ?? Promise.resolve();
    void flushed.then(() => {
      source.pool.end(done);
      target.pool.end(done);
    });
  }

  /** Escapes a value as the source side's pool does (mysql2's `pool.escape`). */
  escape(value: unknown): string {
    return this.engine.sides.source.pool.escape(value);
  }

  /** mysql2's `pool.escapeId`. */
  escapeId(value: string | string[]): string {
    return this.engine.sides.source.pool.escapeId(value as string);
  }

  /** mysql2's `pool.format`. */
  format(sql: string, values?: unknown): string {
    return this.engine.sides.source.pool.format(sql, values);
  }

  async #checkOut(): Promise<DualConnection> {
    const pin: ModePin = await this.engine.gate.pin();
    let primary: PoolConnection;
    try {
      if (writesBothSides(connectionMode(pin.state))) await this.engine.repairLogReady(primarySide(pin.mode));
      primary = await acquire(this.engine.sides[primarySide(pin.mode)].pool);
    } catch (error) {
      pin.release();
      throw error;
    }
    return new DualConnection(this.engine, trackCheckout(pin, this.engine.options.now), primary);
  }

  #dispatch(method: Method, sql: string | QueryOptions, values: unknown, callback: unknown): QueryHandle {
    const engine = this.engine;
    const { statement, args: given } = engine.statement(method, sql, values, callback, primarySide(engine.gate.currentMode));
    let args = given;
    const forward = (side: Side, done?: () => void): QueryHandle => {
      const pool = engine.sides[side].pool as unknown as Record<Method, (...a: unknown[]) => QueryHandle | undefined>;
      const cb = observed(engine.health[side], args.callback);
      const wrapped: ResultCallback | undefined = done === undefined ? cb : (error, result, fields) => {
        done();
        cb?.(error, result, fields);
      };
      const handle = args.valuesArg === undefined ? pool[method](args.sqlArg, wrapped) : pool[method](args.sqlArg, args.valuesArg, wrapped);
      if (done !== undefined && cb === undefined) handle?.once('end', done);
      if (cb === undefined) observeHandle(engine.health[side], handle);
      return handle as QueryHandle;
    };
    const cls = statement.analysis.class;
    if (cls === 'read') {
      const state = engine.gate.appliedState;
      let side: Side;
      try {
        side = readSide(engine, statement, state);
      } catch (error) {
        return refused(statement, args.callback, error as Error); // per-table modes: no side is current for every table read
      }
      // The fast path: no read routing anywhere costs these two field reads.
      if (state.readRouting === undefined && !this.#reads.configured) return forward(side);
      return this.#reads.route(statement, args.callback, side, state, forward);
    }
    if (cls === 'transaction' || cls === 'session') return forward(primarySide(engine.gate.currentMode));
    // Read-your-writes: the caller's request (if any) keeps its reads on the primary side while this runs, and a while after.
    const tracked = trackWrite(args.callback, engine.options.now);
    if (tracked !== args.callback) args = { ...args, callback: tracked };
    const entered = engine.gate.enter();
    // The mode of the written table (per-table modes), checked before anything runs; known now when the gate let
    // the write in at once, else once its ticket arrives.
    let admitted: Mode | undefined;
    if (!(entered instanceof Promise)) {
      try {
        admitted = checkedWriteMode(engine, statement, entered.state);
      } catch (error) {
        entered.leave();
        return refused(statement, args.callback, error as Error);
      }
      if (!writesBothSides(admitted)) return forward(primarySide(admitted), once(() => entered.leave()));
    }
    const query = new DualQuery(statement.text, statement.values, args.callback);
    const startedAt = performance.now();
    void Promise.resolve(entered).then(
      async (ticket: WriteTicket) => {
        let failure: unknown = null;
        let side = primarySide(ticket.mode); // the health counters' side: the write's primary side once known
        try {
          const mode = admitted ?? checkedWriteMode(engine, statement, ticket.state);
          side = primarySide(mode);
          if (!writesBothSides(mode)) {
            const pool = engine.sides[primarySide(mode)].pool;
            const [result, fields] = await send(pool, method, statement.sqlArg, statement.valuesArg);
            query.settle(null, result, fields);
          } else {
            const [result, fields] = await autocommitWrite(engine, statement, mode);
            query.settle(null, result, fields);
          }
        } catch (error) {
          failure = error;
          query.settle(error as Error);
        } finally {
          engine.health[side].observe(startedAt, failure);
          ticket.leave();
        }
      },
      (error: Error) => query.settle(error),
    );
    return query;
  }
}

/** The mode a pool-level write runs in under `state` (per-table modes), refused when stale rules forbid it. */
function checkedWriteMode(engine: DualEngine, statement: Statement, state: FlagState): Mode {
  const mode = writeMode(engine, statement, state);
  refuseStaleWrite(engine, state, mode, statement);
  return mode;
}

/** A query refused before it ran: its error reaches the caller the way mysql2 delivers one (callback or `error` event). */
function refused(statement: Statement, callback: ResultCallback | undefined, error: Error): QueryHandle {
  const query = new DualQuery(statement.text, statement.values, callback);
  query.settle(error);
  return query;
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}
