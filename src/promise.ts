/**
 * `dualwrite/promise`: the drop-in for `mysql2/promise`. Swap the import and every write lands on both databases.
 *
 * @example
 * ```ts
 * import { createPool } from 'dualwrite/promise';
 * const pool = createPool({ source: { uri: process.env.OLD_DB }, target: { uri: process.env.NEW_DB }, mode: 'source_first' });
 * const [result] = await pool.query('INSERT INTO orders (customer_id) VALUES (?)', [42]);
 * await pool.setMode('target_first');
 * ```
 *
 * @packageDocumentation
 */
import { DualPool } from './pool/dual-pool.js';
import type { DualPoolOptions } from './pool/options.js';
import { promisePool, type DualPromisePool } from './pool/promise-pool.js';

export * from './errors.js';
export * from './mode/index.js';
export * from './pool/index.js';

/**
 * Creates a dual-write pool with mysql2/promise's Pool API over a source and a target database.
 *
 * @param options - the two sides, the starting mode or a flag provider, and replay/failure settings ({@link DualPoolOptions})
 * @throws {@link InvalidOptionError} for a bad option
 */
export function createPool(options: DualPoolOptions): DualPromisePool {
  return promisePool(new DualPool(options));
}

/** The default export mirrors `mysql2/promise`'s module object for `import dualwrite from 'dualwrite/promise'`. */
const dualwrite = {
  /** {@link createPool}. */
  createPool,
};
export default dualwrite;
