/**
 * The driver module: an object shaped like the `mysql2` module (`createPool`, `createConnection`,
 * `createPoolCluster`, `escape`, `escapeId`, `format`, `raw`, `Types`, `Charsets`) whose pools and connections
 * write to both databases. It is what an ORM takes in place of mysql2 — TypeORM's `driver` option, Sequelize's
 * `dialectModule`, the client of `dualwrite/knex`.
 *
 * Every pool and connection it creates shares one mode: `driver.setMode()` (or the `flags` provider) switches them
 * all. The settings the ORM passes to `createPool(config)` / `createConnection(config)` are combined with each
 * side's settings as `driver-config.ts` describes: where and as whom to connect stays each side's; how values are
 * read and sent (typeCast, dateStrings, supportBigNumbers, timezone, charset, flags, pool sizes, …) is the ORM's,
 * on both sides.
 *
 * @example
 * ```ts
 * import { createDriver } from 'dualwrite';
 * const driver = createDriver({ source: process.env.OLD_DB_URL, target: process.env.NEW_DB_URL, mode: 'source_first', ddl: 'both' });
 * new DataSource({ type: 'mysql', driver, database: 'shop', entities: [...] });   // TypeORM
 * new Sequelize('shop', 'app', null, { dialect: 'mysql', dialectModule: driver }); // Sequelize
 * await driver.setMode('target_first');
 * ```
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import mysql, { type ConnectionOptions, type Pool, type PoolOptions } from 'mysql2';
import { DualPoolCluster, type DualPoolClusterOptions } from './cluster.js';
import { checkDriverSide, databaseOf, sideSettings, type DriverSideOption } from './config.js';
import { DualDriverConnection } from './connection.js';
import { SessionSidePool } from './side-pool.js';
import { ClosedError, DualWriteError } from '../errors.js';
import type { FlagProvider, FlagState } from '../mode/flag-provider.js';
import { InMemoryFlagProvider } from '../mode/in-memory-flag-provider.js';
import { parseMode, type Mode, type Side } from '../mode/modes.js';
import { DualPool } from '../pool/dual-pool.js';
import type { DualPoolStats } from '../pool/engine.js';
import { resolveOptions, type DualPoolOptions } from '../pool/options.js';
import type { ReplayFailure } from '../replay/failure.js';
import type { CircuitState } from '../replay/circuit-breaker.js';
import { sumHealth } from '../telemetry/health.js';

/**
 * Options of {@link createDriver}: those of `createPool` ({@link DualPoolOptions}), with each side given as mysql2
 * connection options or a URI (the driver creates every pool itself, with the settings the ORM asks for).
 */
export interface DualDriverOptions extends Omit<DualPoolOptions, 'source' | 'target'> {
  /** The database being migrated away from: mysql2 options (host, user, password, database, …) or a URI. */
  readonly source: DriverSideOption;
  /** The database being migrated to. */
  readonly target: DriverSideOption;
}

/** The events a {@link DualDriver} passes on from every pool and connection it created. */
export interface DualDriverEvents {
  /** A write the secondary side does not have; `recorded` tells whether it reached the repair log. */
  replayFailure: [failure: ReplayFailure, recorded: boolean];
  /** The repair log could not be written: these failures are known only through this event. */
  repairLogError: [error: Error, failures: readonly ReplayFailure[]];
  /** The circuit breaker of a secondary side changed state (in one of the driver's pools). */
  circuit: [side: Side, state: CircuitState];
}

/** Most connections of the pool each side keeps for the engine's own statements of driver connections. */
const SHARED_POOL_LIMIT = 4;

/** A dual-write pool of the driver: tells the driver when it is ended. */
class DriverPool extends DualPool {
  readonly #ended: (pool: DriverPool) => void;

  constructor(options: DualPoolOptions, ended: (pool: DriverPool) => void) {
    super(options);
    this.#ended = ended;
  }

  override end(callback?: (error?: Error) => void): void {
    if (!this._closed) this.#ended(this);
    super.end(callback);
  }
}

/** See the module description. Create it with {@link createDriver}. */
export class DualDriver extends EventEmitter {
  /** Where every pool and connection of the driver takes its mode from. */
  readonly flags: FlagProvider;
  readonly #ownFlags: InMemoryFlagProvider | null;
  readonly #options: DualDriverOptions;
  readonly #pools = new Set<DriverPool>();
  readonly #sessionPools = new Set<DriverPool>();
  readonly #connections = new Set<DualDriverConnection>();
  readonly #shared = new Map<string, Pool>();
  readonly #endedStats: DualPoolStats[] = [];

  /**
   * @param options - see {@link DualDriverOptions}
   * @throws {@link InvalidOptionError} for a bad option (a side given as a pool, an unknown mode, …)
   */
  constructor(options: DualDriverOptions) {
    super();
    checkDriverSide('source', options?.source);
    checkDriverSide('target', options?.target);
    resolveOptions(options); // every other option is checked now, not at the ORM's first query
    this.#options = options;
    if (options.flags) {
      this.#ownFlags = null;
      this.flags = options.flags;
    } else {
      const own = new InMemoryFlagProvider(options.mode ?? 'source_only', { source: 'createDriver' });
      this.#ownFlags = own;
      this.flags = own;
    }
  }

  /**
   * mysql2's `createPool(config)`: a dual-write pool ({@link DualPool}) over both sides, with the ORM's settings
   * applied to both (see the module description).
   *
   * @throws {@link DualWriteError} `ER_DUALWRITE_UNSUPPORTED` for `namedPlaceholders` or `queryFormat`
   */
  readonly createPool = (config?: PoolOptions | string): DualPool => {
    const pool = new DriverPool(this.#poolOptions(sideSettings(this.#options.source, config, false), sideSettings(this.#options.target, config, false)), (p) => this.#ended(p));
    return this.#adopt(pool);
  };

  /**
   * mysql2's `createConnection(config)`: a dual-write connection with one connection per side, shaped like mysql2's
   * Connection ({@link DualDriverConnection}); it follows the driver's mode between transactions.
   *
   * @throws {@link DualWriteError} `ER_DUALWRITE_UNSUPPORTED` for `namedPlaceholders` or `queryFormat`
   */
  readonly createConnection = (config?: ConnectionOptions | string): DualDriverConnection => {
    const settings = { source: sideSettings(this.#options.source, config, true), target: sideSettings(this.#options.target, config, true) };
    const sides = {
      source: new SessionSidePool(settings.source, () => this.#sharedPool('source', settings.source)),
      target: new SessionSidePool(settings.target, () => this.#sharedPool('target', settings.target)),
    };
    const connection = new DualDriverConnection(
      {
        openPool: (s) => {
          const pool = new DriverPool(this.#poolOptions(s.source.asPool(), s.target.asPool()), (p) => this.#ended(p));
          this.#sessionPools.add(pool);
          return this.#adopt(pool);
        },
        closed: () => this.#connections.delete(connection),
      },
      sides,
    );
    this.#connections.add(connection);
    return connection;
  };

  /** mysql2's alias of {@link DualDriver.createConnection}. */
  readonly connect = (config?: ConnectionOptions | string): DualDriverConnection => this.createConnection(config);

  /** mysql2's `createPoolCluster(options)`: every node a dual-write pool of this driver (see {@link DualPoolCluster}). */
  readonly createPoolCluster = (options?: DualPoolClusterOptions): DualPoolCluster => new DualPoolCluster((config) => this.createPool(config), options);

  /** mysql2's `escape`. */
  readonly escape: typeof mysql.escape = (...args) => mysql.escape(...args);
  /** mysql2's `escapeId`. */
  readonly escapeId: typeof mysql.escapeId = (...args) => mysql.escapeId(...args);
  /** mysql2's `format`. */
  readonly format: typeof mysql.format = (...args) => mysql.format(...args);
  /** mysql2's `raw`. */
  readonly raw: typeof mysql.raw = (...args) => mysql.raw(...args);

  /** mysql2's column type codes (`Types.LONGLONG`, …), for typeCast functions. */
  get Types(): Record<string, number> {
    return (mysql as unknown as { Types: Record<string, number> }).Types;
  }

  /** mysql2's character set ids. */
  get Charsets(): Record<string, number> {
    return (mysql as unknown as { Charsets: Record<string, number> }).Charsets;
  }

  /** Adds a listener; the driver's events ({@link DualDriverEvents}) are typed. */
  override on<E extends keyof DualDriverEvents>(event: E, listener: (...args: DualDriverEvents[E]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this;
  override on(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }

  /** Like {@link DualDriver.on}, for one call. */
  override once<E extends keyof DualDriverEvents>(event: E, listener: (...args: DualDriverEvents[E]) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this;
  override once(event: string | symbol, listener: (...args: never[]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }

  /** The mode the driver's provider is in (its pools and connections follow it). */
  get mode(): Mode {
    return this.flags.current().mode;
  }

  /** The provider's state. */
  get flagState(): FlagState {
    return this.flags.current();
  }

  /**
   * Switches every pool and connection of the driver to `mode`, and resolves once the switch is in force in all of
   * them (connections in a transaction finish it in the mode it began in). Only with the driver's own in-memory
   * provider; with your own `flags`, change the mode there. With `options.table` (`schema.table`), switches that one
   * table only (per-table modes, docs/modes.md).
   *
   * @throws {@link InvalidModeError} for an unknown mode; {@link DualWriteError} `ER_DUALWRITE_EXTERNAL_FLAGS` with a custom provider
   */
  async setMode(mode: Mode, options: { source?: string; table?: string } = {}): Promise<FlagState> {
    const next = parseMode(mode, 'driver.setMode()');
    if (this.#ownFlags === null) {
      throw new DualWriteError(
        'ER_DUALWRITE_EXTERNAL_FLAGS',
        `driver.setMode('${next}') cannot change the mode: this driver takes its mode from the flags provider it was created with. ` +
          'Change the mode through that provider (every pool and connection of the driver follows), or create the driver without `flags`.',
      );
    }
    const state = this.#ownFlags.set(next, { source: options.source ?? 'driver.setMode()', ...(options.table === undefined ? {} : { table: options.table }) });
    await Promise.all(
      [...this.#pools].map((pool) =>
        pool.engine.gate.whenApplied(state.version).catch((error: unknown) => {
          if (!(error instanceof ClosedError)) throw error; // a pool ended meanwhile has nothing left to switch
        }),
      ),
    );
    return this.flags.current();
  }

  /** Counters of every pool and connection the driver created, added up (ended ones included). */
  stats(): DualPoolStats {
    const all = [...this.#endedStats, ...[...this.#pools].map((pool) => pool.stats())];
    const sum = (pick: (s: DualPoolStats) => number): number => all.reduce((total, s) => total + pick(s), 0);
    const bySide = (pick: (s: DualPoolStats) => Record<Side, number>): Record<Side, number> => ({ source: sum((s) => pick(s).source), target: sum((s) => pick(s).target) });
    return {
      acknowledgedWrites: bySide((s) => s.acknowledgedWrites),
      replayedWrites: bySide((s) => s.replayedWrites),
      rowImageReplays: sum((s) => s.rowImageReplays),
      replayFailures: bySide((s) => s.replayFailures),
      unrecordedFailures: sum((s) => s.unrecordedFailures),
      refusedWrites: sum((s) => s.refusedWrites),
      health: { source: sumHealth(all.map((s) => s.health.source)), target: sumHealth(all.map((s) => s.health.target)) },
      grayDecisions: sum((s) => s.grayDecisions),
      grayReads: bySide((s) => s.grayReads),
      grayFallbacks: sum((s) => s.grayFallbacks),
      shadowReads: sum((s) => s.shadowReads),
      shadowReadsDropped: sum((s) => s.shadowReadsDropped),
      shadowReadsCompared: sum((s) => s.shadowReadsCompared),
      shadowReadMismatches: sum((s) => s.shadowReadMismatches),
    };
  }

  /** Ends every pool and connection the driver created that is still open (your ORM usually ends its own first). */
  async end(): Promise<void> {
    await Promise.all([...this.#connections].map((connection) => new Promise<void>((resolve) => connection.end(() => resolve()))));
    await Promise.all([...this.#pools].map((pool) => new Promise<void>((resolve) => pool.end(() => resolve()))));
    await this.#endShared();
  }

  #poolOptions(source: DualPoolOptions['source'], target: DualPoolOptions['target']): DualPoolOptions {
    const { mode: _mode, flags: _flags, source: _s, target: _t, ...rest } = this.#options;
    return { ...rest, source, target, flags: this.flags };
  }

  #adopt<P extends DriverPool>(pool: P): P {
    this.#pools.add(pool);
    pool.on('replayFailure', (failure, recorded) => this.emit('replayFailure', failure, recorded));
    pool.on('repairLogError', (error, failures) => {
      if (this.listenerCount('repairLogError') > 0) this.emit('repairLogError', error, failures);
    });
    pool.on('circuit', (side, state) => this.emit('circuit', side, state));
    return pool;
  }

  #ended(pool: DriverPool): void {
    if (!this.#pools.delete(pool)) return;
    this.#endedStats.push(pool.stats());
    // The shared pools serve driver connections only; they close with the last one (and reopen with the next).
    if (this.#sessionPools.delete(pool) && this.#sessionPools.size === 0) void this.#endShared();
  }

  /** The pool of `side` for the engine's own statements of driver connections, on the database the session uses. */
  #sharedPool(side: Side, session: PoolOptions): Pool {
    const own: Record<string, unknown> = typeof this.#options[side] === 'string' ? { uri: this.#options[side] } : { ...this.#options[side] };
    const database = databaseOf(session as Record<string, unknown>);
    const key = `${side}\u0000${database ?? ''}`;
    let pool = this.#shared.get(key);
    if (pool === undefined) {
      // The side's own settings (not the ORM's typeCast and the like: the engine parses metadata itself), on the session's database.
      pool = mysql.createPool({ ...own, ...(database === null ? {} : { database }), connectionLimit: SHARED_POOL_LIMIT, maxIdle: 1 } as PoolOptions);
      this.#shared.set(key, pool);
    }
    return pool;
  }

  async #endShared(): Promise<void> {
    const pools = [...this.#shared.values()];
    this.#shared.clear();
    await Promise.all(pools.map((pool) => new Promise<void>((resolve) => pool.end(() => resolve()))));
  }
}

/**
 * Creates the driver module: pass it where an ORM takes the mysql2 module (TypeORM `driver`, Sequelize
 * `dialectModule`, `dualwrite/knex`). See {@link DualDriver}.
 *
 * @param options - the two sides (options or URIs), the starting mode or a flag provider, and the pool's replay settings
 * @throws {@link InvalidOptionError} for a bad option
 */
export function createDriver(options: DualDriverOptions): DualDriver {
  return new DualDriver(options);
}
