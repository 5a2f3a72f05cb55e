/**
 * `dualwrite/drizzle`: Drizzle on a dual-write pool.
 *
 * Drizzle's mysql2 driver works with a dual-write pool as it is (it queries through `pool.promise()`, checks out
 * connections for transactions, and streams with `.stream()`); its TypeScript types, however, ask for mysql2's own
 * Pool class. {@link drizzleClient} hands the same pool over under that type.
 *
 * @example
 * ```ts
 * import { drizzle } from 'drizzle-orm/mysql2';
 * import { createPool } from 'dualwrite';
 * import { drizzleClient } from 'dualwrite/drizzle';
 *
 * const pool = createPool({ source: process.env.OLD_DB_URL, target: process.env.NEW_DB_URL, mode: 'source_first' });
 * const db = drizzle({ client: drizzleClient(pool) }); // was: drizzle({ client: mysql.createPool(…) })
 * ```
 *
 * @packageDocumentation
 */
import type { Pool } from 'mysql2';
import { InvalidOptionError } from '../errors.js';
import type { DualPool } from '../pool/dual-pool.js';

/**
 * The dual-write pool itself, typed as the mysql2 callback Pool Drizzle's types ask for (nothing is wrapped).
 *
 * @param pool - a dual-write callback pool (`createPool` from `dualwrite`, or `driver.createPool()`)
 * @throws `InvalidOptionError` (from `dualwrite`) for anything else (a mysql2/promise-shaped pool: pass its `.pool`)
 */
export function drizzleClient(pool: DualPool): Pool {
  // Checked by shape, not instanceof: the ESM and CommonJS builds each have their own DualPool class.
  if (!isDualPool(pool)) {
    throw new InvalidOptionError(
      'drizzleClient() pool',
      pool,
      "a dual-write callback pool: createPool() from 'dualwrite' or driver.createPool() (for a pool from 'dualwrite/promise', pass its .pool)",
    );
  }
  return pool as unknown as Pool;
}

function isDualPool(value: unknown): value is DualPool {
  const pool = value as Partial<DualPool> | null;
  return typeof pool === 'object' && pool !== null && typeof pool.getConnection === 'function' && typeof pool.promise === 'function' && typeof pool.setMode === 'function';
}
