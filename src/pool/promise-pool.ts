/**
 * The mysql2/promise-shaped view of a dual-write pool. It is mysql2's own promise wrapper (`PromisePool`) around
 * the callback {@link DualPool}, as mysql2 itself builds `mysql2/promise` over its callback core: results, errors,
 * events and connection wrappers are exactly mysql2/promise's, and the one engine serves both APIs.
 *
 * @module
 */
import * as mysqlPromise from 'mysql2/promise';
import type { Pool as MysqlPromisePool } from 'mysql2/promise';
import type { FlagState } from '../mode/flag-provider.js';
import type { Mode } from '../mode/modes.js';
import type { DualPool } from './dual-pool.js';
import type { DualPoolStats } from './engine.js';

/** What the dual-write pool adds to mysql2/promise's Pool. */
export interface DualPoolControls {
  /** The mode in force for new writes. */
  readonly mode: Mode;
  /** The flag provider's state in force. */
  readonly flagState: FlagState;
  /**
   * Switches the mode (built-in in-memory provider only), or with `table` the mode of that one `schema.table`;
   * resolves once the switch is in force in this process.
   */
  setMode(mode: Mode, options?: { source?: string; table?: string }): Promise<FlagState>;
  /** Counters since the pool was created. */
  stats(): DualPoolStats;
}

/**
 * A dual-write pool with mysql2/promise's Pool API (`query`, `execute`, `getConnection`, `end`, `escape`, `format`,
 * events) plus {@link DualPoolControls}. `pool` is the callback {@link DualPool}.
 */
export type DualPromisePool = Omit<MysqlPromisePool, 'pool'> &
  DualPoolControls & {
    /** The callback-API dual-write pool underneath (as mysql2/promise's `pool.pool`). */
    readonly pool: DualPool;
  };

/** mysql2's PromisePool class (exported at run time by mysql2/promise, not declared in its typings). */
const PromisePool = (mysqlPromise as unknown as { PromisePool: new (pool: DualPool) => object }).PromisePool;

/** Wraps a callback {@link DualPool} in mysql2's promise wrapper and adds the dual-write controls. */
export function promisePool(core: DualPool): DualPromisePool {
  const view = new PromisePool(core);
  Object.defineProperties(view, {
    mode: { get: () => core.mode, enumerable: true },
    flagState: { get: () => core.flagState, enumerable: true },
    setMode: { value: (mode: Mode, options?: { source?: string; table?: string }) => core.setMode(mode, options) },
    stats: { value: () => core.stats() },
  });
  return view as DualPromisePool;
}
