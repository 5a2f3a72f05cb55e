/**
 * `dualwrite/knex`: Knex on the dual-write driver, for every Knex 3.x.
 *
 * Knex >= 3.3 can also take a dual-write pool directly: `knex({ client: 'mysql2', connectionPool: driver.createPool() })`.
 * This adapter works with every Knex 3.x and keeps Knex's own pool: it is Knex's mysql2 client whose driver module
 * is a {@link DualDriver}, so each connection Knex opens is a dual-write connection (one connection per side) that
 * follows the driver's mode between transactions.
 *
 * @example
 * ```ts
 * import knex from 'knex';
 * import { createDriver } from 'dualwrite';
 * import { knexClient } from 'dualwrite/knex';
 *
 * const driver = createDriver({ source: process.env.OLD_DB_URL, target: process.env.NEW_DB_URL, mode: 'source_first', ddl: 'both' });
 * const db = knex({ client: knexClient(driver), connection: { database: 'shop' } }); // was: client: 'mysql2'
 * await driver.setMode('target_first');
 * ```
 *
 * @packageDocumentation
 */
import knex, { type Knex } from 'knex';
import type { DualDriver } from '../driver/index.js';
import { InvalidOptionError } from '../errors.js';

/**
 * Knex's mysql2 client class with `driver` as its driver module. Pass it as Knex's `client`, with a `connection`
 * object (Knex opens no pool without one): where and as whom to connect comes from the driver's sides, Knex's other
 * connection settings (`typeCast`, `dateStrings`, `timezone`, `supportBigNumbers`, …) apply to both sides.
 *
 * @param driver - the dual-write driver (`createDriver()`)
 * @throws `InvalidOptionError` (from `dualwrite`) when `driver` is not a {@link DualDriver}
 */
export function knexClient(driver: DualDriver): typeof Knex.Client {
  // Checked by shape, not instanceof: the ESM and CommonJS builds each have their own DualDriver class.
  if (!isDriver(driver)) {
    throw new InvalidOptionError('knexClient() driver', driver, 'the driver returned by createDriver() from dualwrite');
  }
  // Knex's own mysql2 client class, from the Knex the application installed (a client without a connection opens nothing).
  const Mysql2Client = (knex({ client: 'mysql2' }).client as { constructor: typeof Knex.Client }).constructor;
  class DualWriteKnexClient extends Mysql2Client {
    /** The driver module Knex's mysql2 client loads (`require('mysql2')` in Knex). */
    _driver(): DualDriver {
      return driver;
    }
  }
  return DualWriteKnexClient;
}

function isDriver(value: unknown): value is DualDriver {
  const driver = value as Partial<DualDriver> | null;
  return typeof driver === 'object' && driver !== null && typeof driver.createConnection === 'function' && typeof driver.setMode === 'function';
}
