/**
 * dualwrite: zero-downtime MySQL/MariaDB migration.
 *
 * This entry point is the mysql2 callback-shaped API (`createPool`), the driver module for ORMs (`createDriver`: an
 * object shaped like the `mysql2` module whose pools and connections write to both databases), plus the parts the
 * pool is built from: the statement analyzer, the table-metadata cache, modes and flag providers, and the error
 * classes. For the mysql2/promise-shaped API, import `dualwrite/promise`; for Knex, `dualwrite/knex`.
 *
 * @packageDocumentation
 */
import { DualPool } from './pool/dual-pool.js';
import type { DualPoolOptions } from './pool/options.js';

export * from './errors.js';
export * from './sql/index.js';
export * from './schema/index.js';
export * from './mode/index.js';
export * from './pool/index.js';
export * from './control/index.js';
export { createDriver, DualDriver, type DualDriverEvents, type DualDriverOptions } from './driver/index.js';
export { DualDriverConnection } from './driver/connection.js';
export { DualPoolCluster, DualPoolNamespace, type ClusterSelector, type ConnectionCallback, type DualPoolClusterOptions } from './driver/cluster.js';
export { IDENTITY_KEYS, type DriverSideOption } from './driver/config.js';
export { healthBetween, HEALTH_BUCKET_BOUNDS_MS, type SideHealth, type SideHealthStats } from './telemetry/health.js';
export { sanitizeSql } from './telemetry/sanitize.js';
export { TELEMETRY_ATTRIBUTES, type ReplayOutcome, type SpanName } from './telemetry/telemetry.js';
export type { TelemetryOption, TelemetryOptions } from './telemetry/options.js';
export { AdminHandlerOptionsError, createAdminHandler, DEFAULT_ADMIN_MAX_BODY_BYTES, MIN_ADMIN_TOKEN_LENGTH, type AdminHandler, type AdminHandlerOptions, type AdminPool, type AdminSwitchOptions, type ModeSwitcher } from './control/admin-handler.js';
export { DEFAULT_OPENFEATURE_MODE_KEY, OpenFeatureFlagProvider, type OpenFeatureClientLike, type OpenFeatureContext, type OpenFeatureDetailsLike, type OpenFeatureEventHandler, type OpenFeatureFlagProviderOptions, type OpenFeatureFlagState } from './mode/openfeature-flag-provider.js';

/**
 * Creates a dual-write pool with mysql2's callback Pool API over a source and a target database
 * (`pool.promise()` gives the mysql2/promise-shaped view of the same pool).
 *
 * @param options - the two sides, the starting mode or a flag provider, and replay/failure settings ({@link DualPoolOptions})
 * @throws {@link InvalidOptionError} for a bad option
 */
export function createPool(options: DualPoolOptions): DualPool {
  return new DualPool(options);
}
