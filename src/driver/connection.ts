/**
 * `DualDriverConnection`: what the driver module's `createConnection()` returns — a dual-write connection shaped
 * like mysql2's Connection (`connect`, `query`/`execute` returning EventEmitters with `.stream()`, transactions,
 * `end`/`destroy`, the `connect`/`error`/`end` events, `promise()`), for ORMs that keep their own pool of
 * connections (Sequelize, Knex).
 *
 * It holds one connection per side and follows the mode: between transactions, the first statement after a mode
 * switch (the default mode or a table's mode) moves the session to the new modes (the session statements it ran are replayed first on a side that has
 * not seen them). A transaction, `SET autocommit = 0`, temporary tables and LOCK TABLES keep the mode they began in
 * until they end, as a checked-out connection of the pool does.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import type { ConnectionOptions, PoolConnection, QueryOptions, QueryResult } from 'mysql2';
import * as mysqlPromise from 'mysql2/promise';
import type { Connection as PromiseConnection } from 'mysql2/promise';
import { QueryRelay } from './relay.js';
import { SessionTracker } from './session.js';
import type { SessionSidePool } from './side-pool.js';
import { DualWriteError } from '../errors.js';
import { primarySide, type Mode, type Side } from '../mode/modes.js';
import type { WriteTicket } from '../mode/switch-gate.js';
import { sameModes } from '../mode/table-modes.js';
import type { DualConnection } from '../pool/dual-connection.js';
import type { DualPool } from '../pool/dual-pool.js';
import type { QueryHandle } from '../pool/dual-query.js';
import type { Method, QueryCallback, ResultCallback } from '../pool/side-io.js';
import { callArguments, textAndValues } from '../pool/statement.js';

/** The parts of its driver a connection uses. */
export interface DriverConnectionHost {
  /** Creates the dual-write pool over the connection's two sides. */
  openPool(sides: Record<Side, SessionSidePool>): DualPool;
  /** Called once the connection is closed. */
  closed(pool: DualPool): void;
}

/** See the module description. */
export class DualDriverConnection extends EventEmitter {
  readonly #pool: DualPool;
  readonly #sides: Record<Side, SessionSidePool>;
  readonly #host: DriverConnectionHost;
  readonly #session = new SessionTracker();
  #current: DualConnection | null = null;
  /** Statements waiting for a check-out or a write ticket, in the order sent. */
  readonly #queue: Pending[] = [];
  #pumping = false;
  /** Set by `reset()`: the next statement takes a new check-out. */
  #forceMove = false;
  /** Number of session statements among the statements sent so far. */
  #sentHistory = 0;
  /** Index of the first session statement the current check-out itself carries to both sides. */
  #checkoutStart = 0;
  /** Each side's connection, once it was used. */
  readonly #physical: Partial<Record<Side, PoolConnection>> = {};
  /** Connections the current check-out used (they carry its session statements when it ends). */
  readonly #usedByCheckout = new Set<PoolConnection>();
  readonly #watched = new WeakSet<PoolConnection>();
  #connected = false;
  #lastStream: Duplex | undefined;
  #fatal: Error | null = null;
  #closing = false;
  #closed: Promise<void> | null = null;

  /**
   * @param host - the driver
   * @param sides - the session's connection of each side
   * @param _config - the settings the ORM passed (kept by the sides)
   * @internal the driver's `createConnection()` creates them
   */
  constructor(host: DriverConnectionHost, sides: Record<Side, SessionSidePool>, _config?: ConnectionOptions) {
    super();
    this.#host = host;
    this.#sides = sides;
    this.#pool = host.openPool(sides);
    for (const side of ['source', 'target'] as const) sides[side].on('acquire', (connection: PoolConnection) => this.#acquired(side, connection));
    this.#enqueue({ pinned: false, write: false, entered: null, send: () => undefined, fail: () => undefined }); // opens at once, as mysql2 connects at once
  }

  /** The mode this connection's statements run in now (it follows the driver's mode between transactions). */
  get mode(): Mode {
    return this.#current?.mode ?? this.#pool.mode;
  }

  /** The dual-write pool behind this connection (its `stats()`, events and mode). */
  get pool(): DualPool {
    return this.#pool;
  }

  /** mysql2's connection configuration of the primary side. */
  get config(): PoolConnection['config'] {
    return (this.#sides[primarySide(this.mode)].config as unknown as { connectionConfig: PoolConnection['config'] }).connectionConfig;
  }

  /** The primary side's connection id (`null` before the connection is open). */
  get threadId(): number | null {
    return this.#current?.threadId ?? this.#physical[primarySide(this.mode)]?.threadId ?? null;
  }

  /**
   * The primary side's socket (ORMs check `stream.destroyed` to validate a connection); while the connection moves
   * to another mode, the socket of the last primary side.
   */
  get stream(): Duplex | undefined {
    return this.#current?.stream ?? this.#lastStream;
  }

  /** The error that ended this connection, as mysql2's `_fatalError`. */
  get _fatalError(): Error | null {
    return this.#fatal;
  }

  /** mysql2's `_protocolError` (a protocol error of the primary side's connection). */
  get _protocolError(): Error | null {
    return this.#current?._protocolError ?? null;
  }

  /** True once `end()` or `destroy()` was called. */
  get _closing(): boolean {
    return this.#closing;
  }

  /** mysql2's connection state: `error`, `disconnected`, `authenticated`, or `connecting` before the first check-out. */
  get state(): string {
    if (this.#fatal !== null) return 'error';
    if (this.#closing) return 'disconnected';
    return this.#connected ? 'authenticated' : 'connecting';
  }

  /** mysql2's `connect(callback)`: calls back once the connection is open (at once if it is), or with the error that ended it. */
  connect(callback?: (error: Error | null, connection?: this) => void): void {
    if (callback === undefined) return;
    if (this.#fatal !== null) return process.nextTick(callback, this.#fatal);
    if (this.#connected) return process.nextTick(callback, null, this);
    const onConnect = (): void => {
      this.off('error', onError);
      callback(null, this);
    };
    const onError = (error: Error): void => {
      this.off('connect', onConnect);
      callback(error);
    };
    this.once('connect', onConnect);
    this.once('error', onError);
  }

  /** mysql2's `query(sql | options, values?, callback?)`. */
  query<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown, callback?: QueryCallback<T>): QueryHandle {
    return this.#dispatch('query', sql, values, callback);
  }

  /** mysql2's `execute(sql | options, values?, callback?)` (a prepared statement on each side). */
  execute<T extends QueryResult = QueryResult>(sql: string | QueryOptions, values?: unknown, callback?: QueryCallback<T>): QueryHandle {
    return this.#dispatch('execute', sql, values, callback);
  }

  /** Starts a transaction (on both sides in the dual-write modes). */
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
    this.#whenReady((connection, error) => {
      if (connection === null) callback?.(error);
      else connection.ping(callback);
    });
  }

  /** Not supported (see `DualConnection.prepare`): calls back with `ER_DUALWRITE_UNSUPPORTED`. */
  prepare(_options: unknown, callback?: (error: Error | null) => void): void {
    refuse('prepare()', 'use execute(sql, values), which prepares and caches the statement on each side', callback);
  }

  /** Not supported: the two sides would run as different users. Calls back with `ER_DUALWRITE_UNSUPPORTED`. */
  changeUser(_options: unknown, callback?: (error: Error | null) => void): void {
    refuse('changeUser()', 'create the driver with the other credentials for both sides', callback);
  }

  /** Resets the session: forgets its state, and each side's connection is reset before its next use. */
  reset(callback?: (error: Error | null) => void): void {
    this.#session.reset();
    this.#sentHistory = 0;
    this.#forceMove = true;
    this.#enqueue({ pinned: false, write: false, entered: null, send: () => callback?.(null), fail: (e) => callback?.(e) });
  }

  /** Pauses the primary side's connection (streaming reads). */
  pause(): void {
    this.#current?.pause();
  }

  /** Resumes the primary side's connection. */
  resume(): void {
    this.#current?.resume();
  }

  /** mysql2's `escape`, with this connection's settings. */
  escape(value: unknown): string {
    return this.#sides.source.escape(value);
  }

  /** mysql2's `escapeId`. */
  escapeId(value: string | string[]): string {
    return this.#sides.source.escapeId(value as string);
  }

  /** mysql2's `format`, with this connection's settings. */
  format(sql: string, values?: unknown): string {
    return this.#sides.source.format(sql, values);
  }

  /** The mysql2/promise-shaped view of this connection (mysql2's own PromiseConnection around it). */
  promise(): PromiseConnection {
    return new PromiseConnectionClass(this);
  }

  /**
   * Closes the connection: statements already sent finish, an open transaction is rolled back on both sides, both
   * sides' connections are closed; then `callback` and the `end` event.
   */
  end(callback?: (error?: Error | null) => void): void {
    void this.#close(false).then(
      () => callback?.(null),
      (error: Error) => callback?.(error),
    );
  }

  /** Closes both sides' connections at once. */
  destroy(): void {
    void this.#close(true).catch(() => undefined);
  }

  /** mysql2's `close()`: like {@link DualDriverConnection.destroy}. */
  close(): void {
    this.destroy();
  }

  #close(destroy: boolean): Promise<void> {
    if (this.#closed !== null) return this.#closed;
    this.#closing = true;
    this.#failQueue(closedError());
    this.#closed = (async () => {
      while (this.#pumping) await new Promise((resolve) => setImmediate(resolve)); // a check-out under way ends first
      const current = this.#current;
      this.#current = null;
      if (current !== null) {
        if (destroy) current.destroy();
        else current.release();
        await current.finished.catch(() => undefined);
      }
      await new Promise<void>((resolve, reject) => this.#pool.end((error) => (error ? reject(error) : resolve())));
    })().finally(() => {
      this.#host.closed(this.#pool);
      this.emit('end');
    });
    return this.#closed;
  }

  #dispatch(method: Method, sql: string | QueryOptions, values: unknown, callback: unknown): QueryHandle {
    const args = callArguments(sql, values, callback);
    const { text, values: bound } = textAndValues(args);
    if (this.#closing || this.#fatal !== null) {
      const relay = new QueryRelay(text, bound, args.callback);
      relay.fail(this.#fatal ?? closedError());
      return relay;
    }
    const analysis = this.#pool.engine.analyzer.analyze(text);
    const pinned = this.#session.pinned;
    const entry = this.#session.track(analysis, args.sqlArg, args.valuesArg);
    const history = this.#session.length;
    let cb = args.callback;
    if (entry !== null && cb !== undefined) {
      const caller = cb;
      cb = (error, result, fields) => {
        if (error) entry.failed = true; // refused by the primary side: nothing to run anywhere else
        caller(error, result, fields);
      };
    }
    // A write outside a transaction holds a write ticket, as a write on the pool does: a mode switch waits for it,
    // so no write of this connection lands in the old mode after the switch is in force.
    const write = !pinned && (analysis.class === 'write' || analysis.class === 'ddl' || analysis.class === 'other');
    const send = (connection: DualConnection, leave: (() => void) | null): QueryHandle => {
      this.#sentHistory = history;
      const done = leave === null ? cb : wrapLeave(cb, leave);
      const handle = args.valuesArg === undefined ? connection[method](args.sqlArg, done) : connection[method](args.sqlArg, args.valuesArg, done);
      if (leave !== null && cb === undefined) handle.once('end', leave);
      return handle;
    };
    const current = this.#current;
    if (current !== null && this.#queue.length === 0 && !this.#pumping && !this.#forceMove && (pinned || sameModes(current.flagState, this.#pool.flagState))) {
      if (!write) return send(current, null);
      const entered = this.#pool.engine.gate.enter();
      if (!(entered instanceof Promise) && sameModes(entered.state, current.flagState)) return send(current, once(() => entered.leave()));
      const relay = new QueryRelay(text, bound, cb);
      this.#enqueue({ pinned, write, entered, send: (c, leave) => relay.attach(send(c, leave)), fail: (e) => relay.fail(e) });
      return relay;
    }
    const relay = new QueryRelay(text, bound, cb);
    this.#enqueue({ pinned, write, entered: null, send: (c, leave) => relay.attach(send(c, leave)), fail: (e) => relay.fail(e) });
    return relay;
  }

  #enqueue(item: Pending): void {
    this.#queue.push(item);
    void this.#pump();
  }

  /**
   * Sends the waiting statements in order, each on a check-out in the right mode: the current one while the session
   * is pinned, else one in the mode now in force (moving the session there first); a write outside a transaction
   * also takes a write ticket of that mode.
   */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#closing && this.#fatal === null) {
        const item = this.#queue[0] as Pending;
        let ticket: WriteTicket | null = null;
        let entered = item.entered;
        for (;;) {
          const current = this.#current;
          if (current === null || this.#forceMove || (!item.pinned && !sameModes(current.flagState, this.#pool.flagState))) {
            if (entered !== null) {
              // Never wait for a check-out while holding a ticket: a switch waiting for the ticket would wait forever.
              (entered instanceof Promise ? await entered : entered).leave();
              entered = null;
            }
            await this.#checkOut();
            continue;
          }
          if (!item.write) break;
          const got = entered ?? this.#pool.engine.gate.enter();
          entered = null;
          ticket = got instanceof Promise ? await got : got;
          if (sameModes(ticket.state, current.flagState) && this.#current === current) break;
          ticket.leave(); // a switch came in between: move to its mode first
          ticket = null;
        }
        this.#queue.shift();
        const held = ticket;
        item.send(this.#current as DualConnection, held === null ? null : once(() => held.leave()));
      }
    } catch (error) {
      this.#die(error as Error);
    } finally {
      this.#pumping = false;
      if (this.#closing || this.#fatal !== null) this.#failQueue(this.#fatal ?? closedError());
    }
  }

  /**
   * Ends the current check-out (its statements finish first) and checks out a dual-write connection in the mode now
   * in force. Rejects when no connection can be had (the connection is then dead, as a mysql2 connection whose
   * server went away).
   */
  async #checkOut(): Promise<void> {
    const previous = this.#current;
    this.#current = null;
    this.#forceMove = false;
    const end = this.#sentHistory;
    if (previous !== null) {
      // Both sides' connections of the check-out ran its session statements (the secondary side through its mirror).
      for (const connection of this.#usedByCheckout) this.#session.applied(connection, end);
      this.#usedByCheckout.clear();
      previous.release();
      await previous.finished.catch(() => undefined);
    }
    this.#checkoutStart = end;
    const connection = await new Promise<DualConnection>((resolve, reject) =>
      this.#pool.getConnection((error, c) => (error ? reject(error) : resolve(c))),
    );
    if (this.#closing) {
      connection.release();
      throw closedError();
    }
    this.#current = connection;
    this.#lastStream = connection.stream;
    if (this.#session.autocommitOff) connection.query('SET autocommit = 0', (e: Error | null) => e && this.#die(e)); // the session's setting, on the new pair
    if (!this.#connected) {
      this.#connected = true;
      this.emit('connect');
    }
  }

  /** Runs `then` on the connection once the statements sent before have been sent (at once when none wait). */
  #whenReady(then: (connection: DualConnection | null, error: Error | null) => void): void {
    if (this.#fatal !== null || this.#closing) return then(null, this.#fatal ?? closedError());
    this.#enqueue({ pinned: true, write: false, entered: null, send: (c) => then(c, null), fail: (e) => then(null, e) });
  }

  /**
   * A side's connection was handed out (to the session's check-out, or to its secondary side's mirror): it first
   * runs the session statements it has not run, in order, ahead of anything else (mysql2 runs a connection's
   * commands in order).
   */
  #acquired(side: Side, connection: PoolConnection): void {
    this.#physical[side] = connection;
    this.#usedByCheckout.add(connection);
    if (!this.#watched.has(connection)) {
      this.#watched.add(connection);
      connection.on('error', (error: Error & { fatal?: boolean }) => {
        if (error.fatal === true && this.#current !== null && this.#physical[primarySide(this.#current.mode)] === connection) this.#die(error);
      });
    }
    const { reset, entries } = this.#session.catchUp(connection, this.#checkoutStart);
    const failed = (error: Error | null): void => {
      if (error === null) return;
      connection.destroy();
      this.#die(
        new DualWriteError(
          'ER_DUALWRITE_SESSION_RESTORE',
          `The ${side} side's connection could not take this session's settings (${error.message}), so it would read or write values ` +
            'differently from the other side. The connection is closed; open a new one (your ORM does this by itself).',
          { cause: error },
        ),
      );
    };
    if (reset) connection.reset((error) => failed(error ?? null));
    for (const entry of entries) {
      const done = (error: Error | null): void => failed(error);
      if (entry.values === undefined) connection.query(entry.sql as string, done);
      else connection.query(entry.sql as string, entry.values as never, done);
    }
  }

  /** The connection cannot go on: remember why, tell the statements waiting and the listeners. */
  #die(error: Error): void {
    if (this.#fatal !== null || this.#closing) return;
    this.#fatal = error;
    this.#failQueue(error);
    // mysql2 emits a connection's fatal error; without a listener it would be an uncaught exception.
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }

  #failQueue(error: Error): void {
    for (const item of this.#queue.splice(0)) {
      if (item.entered !== null) void Promise.resolve(item.entered).then((ticket) => ticket.leave(), () => undefined);
      item.fail(error);
    }
  }
}

/** A statement (or a wait) queued until the connection can send it. */
interface Pending {
  /** The session was pinned when it was sent: it stays on the current check-out. */
  readonly pinned: boolean;
  /** It takes a write ticket. */
  readonly write: boolean;
  /** A ticket asked for already (while a switch was pending), to use or leave. */
  readonly entered: WriteTicket | Promise<WriteTicket> | null;
  /** Sends it on `connection`; `leave` ends its ticket when it completes. */
  readonly send: (connection: DualConnection, leave: (() => void) | null) => void;
  /** It cannot be sent. */
  readonly fail: (error: Error) => void;
}

/** `callback`, after `leave` (a write's ticket ends when its outcome is known). */
function wrapLeave(callback: ResultCallback | undefined, leave: () => void): ResultCallback {
  return (error, result, fields) => {
    leave();
    callback?.(error, result, fields);
  };
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

/** mysql2's PromiseConnection class (exported at run time by mysql2/promise, not declared in its typings). */
const PromiseConnectionClass = (mysqlPromise as unknown as { PromiseConnection: new (connection: DualDriverConnection) => PromiseConnection }).PromiseConnection;

function closedError(): DualWriteError {
  return new DualWriteError('ER_DUALWRITE_CLOSED', "Can't add new command when connection is in closed state: end() or destroy() was called on this dual-write connection. Open a new one.");
}

function refuse(what: string, instead: string, callback?: (error: Error | null) => void): void {
  const error = new DualWriteError('ER_DUALWRITE_UNSUPPORTED', `${what} is not supported on a dual-write connection: it would act on the primary side only. Instead, ${instead}.`);
  if (callback) process.nextTick(callback, error);
  else throw error;
}
