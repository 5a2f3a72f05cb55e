/**
 * One side of a driver connection (`createConnection`): the connection that serves the ORM's session on that side,
 * shaped as the mysql2 pool the dual-write engine expects. `getConnection()` hands out that one connection (the
 * session's statements, its transaction, its replays); the engine's own short statements (table metadata, the
 * repair log) go through `query()`/`execute()` to a pool the driver shares between its connections, so they never
 * wait for the session's connection and a session costs one connection per side.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import mysql, { type Pool, type PoolConnection, type PoolOptions } from 'mysql2';

/** See the module description. */
export class SessionSidePool extends EventEmitter {
  /** The pool of exactly one connection that serves the session. */
  readonly #own: Pool;
  /** The driver's shared pool of this side, for the engine's bookkeeping. */
  readonly #shared: () => Pool;

  /**
   * @param settings - the side's settings for the session (the ORM's settings applied; see `driver-config.ts`)
   * @param shared - the driver's shared pool of this side
   */
  constructor(settings: PoolOptions, shared: () => Pool) {
    super();
    // One connection, never closed for being idle: it carries the session's state.
    this.#own = mysql.createPool({ ...settings, connectionLimit: 1, maxIdle: 1, waitForConnections: true, queueLimit: 0 });
    this.#shared = shared;
    for (const name of ['connection', 'acquire', 'release', 'enqueue']) this.#own.on(name, (...args: unknown[]) => this.emit(name, ...args));
  }

  /** mysql2's pool configuration of the session's connection (the engine reads its default database). */
  get config(): Pool['config'] {
    return this.#own.config;
  }

  /** The session's connection on this side, once it is free. */
  getConnection(callback: (error: NodeJS.ErrnoException | null, connection: PoolConnection) => void): void {
    this.#own.getConnection(callback);
  }

  /** A statement of the engine's own, on the shared pool. */
  query(...args: unknown[]): unknown {
    return (this.#shared().query as (...a: unknown[]) => unknown)(...args);
  }

  /** A prepared statement of the engine's own, on the shared pool. */
  execute(...args: unknown[]): unknown {
    return (this.#shared().execute as (...a: unknown[]) => unknown)(...args);
  }

  /** Escapes as the session's connection does. */
  escape(value: unknown): string {
    return this.#own.escape(value);
  }

  /** mysql2's `escapeId`. */
  escapeId(value: string): string {
    return this.#own.escapeId(value);
  }

  /** Formats as the session's connection does (its `timezone` and `stringifyObjects`). */
  format(sql: string, values?: unknown): string {
    return this.#own.format(sql, values);
  }

  /** Closes the session's connection (the shared pool belongs to the driver). */
  end(callback?: (error?: Error) => void): void {
    this.#own.end((error) => callback?.(error ?? undefined));
  }

  /** This object, typed as the mysql2 pool the engine takes (it implements what the engine calls). */
  asPool(): Pool {
    return this as unknown as Pool;
  }
}
