/**
 * Read routing of pool-level reads in the dual-write modes: gray reads (a share served by the secondary side,
 * sticky per routing key) and shadow reads (a sampled share also run on the secondary side and compared). Reads
 * inside checked-out connections never come here: they stay on the connection's primary side. See
 * docs/read-routing.md.
 *
 * @module
 */
import type { FlagState } from '../mode/flag-provider.js';
import { oppositeSide, primarySide, writesBothSides, type Side } from '../mode/modes.js';
import { tableMode } from '../mode/table-modes.js';
import { observed } from '../telemetry/health.js';
import { DualQuery, type QueryHandle } from './dual-query.js';
import type { DualEngine } from './engine.js';
import type { ResolvedReadRouting } from './options.js';
import { currentReadRequest, recentlyWrote } from './read-scope.js';
import { readShape, shadowRead, type ShadowContext, type ShadowReadMismatch } from './shadow-read.js';
import { send, type Outcome, type ResultCallback } from './side-io.js';
import type { Statement } from './statement.js';

/** Buckets a routing key maps to: a gray share has a resolution of 0.01 %. */
export const GRAY_BUCKETS = 10_000;

/**
 * The bucket (0 to {@link GRAY_BUCKETS} − 1) of a routing key: a stable hash (FNV-1a with a final mix), the same
 * in every process and version of this library, so a key stays on its side across the fleet and across restarts.
 */
export function grayBucket(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  // Murmur3's finaliser: keys that differ only in their last characters spread over all buckets.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % GRAY_BUCKETS;
}

/**
 * Whether a read with routing key `key` is gray at a share of `percent`: its bucket is below the share. Raising
 * the share only adds buckets, so keys only ever move from the primary to the secondary side (and back when it
 * is lowered).
 *
 * @param key - the routing key
 * @param percent - the gray share, 0 to 100
 */
export function isGrayKey(key: string, percent: number): boolean {
  return grayBucket(key) < percent * (GRAY_BUCKETS / 100);
}

/** The read-routing counters of a pool's stats, live (each field is documented on `DualPoolStats`). */
export interface ReadRoutingCounters {
  /** `DualPoolStats.grayDecisions`. */
  grayDecisions: number;
  /** `DualPoolStats.grayReads`. */
  grayReads: Record<Side, number>;
  /** `DualPoolStats.grayFallbacks`. */
  grayFallbacks: number;
  /** `DualPoolStats.shadowReads`. */
  shadowReads: number;
  /** `DualPoolStats.shadowReadsDropped`. */
  shadowReadsDropped: number;
  /** `DualPoolStats.shadowReadsCompared`. */
  shadowReadsCompared: number;
  /** `DualPoolStats.shadowReadMismatches`. */
  shadowReadMismatches: number;
}

/** Routes a pool's reads; one per pool. */
export class ReadRouter {
  readonly #engine: DualEngine;
  readonly #options: ResolvedReadRouting;
  readonly #stats: ReadRoutingCounters;
  readonly #shadow: ShadowContext;
  #shadowsInFlight = 0;
  /** True when the pool's own options turn some routing on (the flag state may still do so when false). */
  readonly configured: boolean;

  /**
   * @param engine - the pool's engine (sides, options, stats, breakers)
   * @param report - emits the pool's `shadowReadMismatch` event
   */
  constructor(engine: DualEngine, report: (mismatch: ShadowReadMismatch) => void) {
    this.#engine = engine;
    this.#options = engine.options.readRouting;
    this.#stats = engine.stats;
    this.configured = this.#options.grayReadPercent > 0 || this.#options.shadowReadPercent > 0;
    this.#shadow = {
      options: this.#options,
      sides: engine.sides,
      stats: engine.stats,
      report,
      done: () => (this.#shadowsInFlight -= 1),
    };
  }

  /**
   * Runs a pool-level read: on the side read routing picks, or through `forward(side)` (mysql2's own call on that
   * side) when it does not apply.
   *
   * @param statement - the analyzed read
   * @param callback - the caller's callback (routing applies only to calls with one: event-style and streamed reads stay on `side`)
   * @param side - the side current for the read (`readSide()` in table-modes.ts)
   * @param state - the flag state in force
   * @param forward - runs the call as is on a side
   */
  route(statement: Statement, callback: ResultCallback | undefined, side: Side, state: FlagState, forward: (side: Side) => QueryHandle): QueryHandle {
    const routing = state.readRouting;
    const gray = routing?.grayReadPercent ?? this.#options.grayReadPercent;
    const shadow = routing?.shadowReadPercent ?? this.#options.shadowReadPercent;
    if ((gray <= 0 && shadow <= 0) || callback === undefined) return forward(side);
    const analysis = statement.analysis;
    if (analysis.primaryOnly || analysis.multiStatement || !analysis.understood || statement.namedPlaceholders === true) return forward(side);
    const secondary = oppositeSide(side);
    if (!this.#secondaryCurrent(statement, state, side)) return forward(side);
    if (gray > 0 && this.#grayAllowed(secondary)) {
      this.#stats.grayDecisions += 1;
      const key = this.#key();
      if (key === undefined ? Math.random() * 100 < gray : isGrayKey(key, gray)) return this.#gray(statement, callback, side, secondary);
    }
    if (shadow > 0 && analysis.tablesRead.length > 0 && Math.random() * 100 < shadow) {
      const shape = readShape(statement);
      if (shape.unshadowable !== null) return forward(side);
      if (this.#shadowsInFlight >= this.#options.maxShadowReadsInFlight) {
        this.#stats.shadowReadsDropped += 1;
        return forward(side);
      }
      this.#shadowsInFlight += 1;
      this.#stats.shadowReads += 1;
      // The primary leg is an ordinary read of the primary side: its health counts it, as forward() would.
      const observedCallback = observed(this.#engine.health[side], callback) ?? callback;
      return shadowRead(this.#shadow, statement, observedCallback, side, secondary, shape) as QueryHandle;
    }
    return forward(side);
  }

  /** Whether every table the read names is in a dual-write mode whose primary is `side` (the other side is current too). */
  #secondaryCurrent(statement: Statement, state: FlagState, side: Side): boolean {
    const tables = statement.analysis.tablesRead;
    if (tables.length === 0) return writesBothSides(state.mode) && primarySide(state.mode) === side;
    const database = this.#engine.sides[side].database;
    for (const ref of tables) {
      const mode = tableMode(state, ref.schema ?? database, ref.name);
      if (!writesBothSides(mode) || primarySide(mode) !== side) return false;
    }
    return true;
  }

  /** A gray read may go to `secondary`: its circuit is not open, and the request has no recent write. */
  #grayAllowed(secondary: Side): boolean {
    if (this.#engine.breakers[secondary]?.state === 'open') return false;
    const request = currentReadRequest();
    return request === undefined || !recentlyWrote(request, this.#engine.options.now(), this.#options.readYourWritesMs);
  }

  #key(): string | undefined {
    const scoped = currentReadRequest()?.key;
    if (scoped !== undefined) return scoped;
    const key = this.#options.key?.();
    return typeof key === 'string' || typeof key === 'number' ? String(key) : undefined;
  }

  /**
   * Serves a read from the secondary side. Any error there (connection lost, a table or column missing, a
   * timeout) retries the read once on the primary side, whose answer the caller gets: a gray read never makes
   * the application less available than the primary alone. Counted in `grayFallbacks`.
   */
  #gray(statement: Statement, callback: ResultCallback, primary: Side, secondary: Side): QueryHandle {
    const query = new DualQuery(statement.text, statement.values, callback);
    const { method, sqlArg, valuesArg } = statement;
    const health = this.#engine.health;
    // Each leg counts in the health of the side that ran it, as a forwarded read does.
    const run = (side: Side): Promise<Outcome> => {
      const startedAt = performance.now();
      return send(this.#engine.sides[side].pool, method, sqlArg, valuesArg).then(
        (outcome) => {
          health[side].observe(startedAt, null);
          return outcome;
        },
        (error: Error) => {
          health[side].observe(startedAt, error);
          throw error;
        },
      );
    };
    run(secondary).then(
      ([result, fields]) => {
        this.#stats.grayReads[secondary] += 1;
        query.settle(null, result, fields);
      },
      () => {
        this.#stats.grayFallbacks += 1;
        run(primary).then(
          ([result, fields]) => query.settle(null, result, fields),
          (error: Error) => query.settle(error),
        );
      },
    );
    return query;
  }
}
