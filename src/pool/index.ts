/**
 * The dual-write pool: mysql2-shaped callback pool and connections, and the mysql2/promise-shaped view.
 *
 * @module
 */
export { DualPool, type DualPoolEvents } from './dual-pool.js';
export { DualConnection } from './dual-connection.js';
export { DualQuery, type QueryHandle } from './dual-query.js';
export type { DualPoolStats, ModeChange } from './engine.js';
export {
  DEFAULT_POOL_OPTIONS,
  type ResolvedOptions,
  type CircuitBreakerOptions,
  type DdlPolicy,
  type DualPoolOptions,
  type SideOption,
  type StaleWritesPolicy,
  type UnreplayableStatementPolicy,
  type UnsafeStatementPolicy,
} from './options.js';
export { type DualPoolControls, type DualPromisePool } from './promise-pool.js';
export type { QueryCallback, ResultCallback } from './side-io.js';
export type { ReadRoutingOptions, ResolvedReadRouting } from './options.js';
export { runWithReadKey } from './read-scope.js';
export { GRAY_BUCKETS, grayBucket, isGrayKey } from './read-routing.js';
export type { ShadowReadMismatch } from './shadow-read.js';
export type { DifferentRow, ResultDiff, ResultRow } from './result-compare.js';
export type { FailedTable, ReplayFailure, ReplayFailureKind, TableKeys } from '../replay/failure.js';
export type { CircuitState } from '../replay/circuit-breaker.js';
