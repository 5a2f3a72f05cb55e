/**
 * The two mysql2 callback pools behind a dual-write pool: created from options, or taken from the application.
 *
 * @module
 */
import mysql, { type Pool, type PoolOptions } from 'mysql2';
import { DualWriteError, InvalidOptionError } from '../errors.js';
import type { Side } from '../mode/modes.js';
import type { SideOption } from './options.js';

/** One side's mysql2 callback pool, and whether the dual-write pool created it. */
export interface SidePool {
  /** `source` or `target`. */
  readonly side: Side;
  /** The mysql2 callback pool. */
  readonly pool: Pool;
  /** The default database of the pool's connections (unqualified table names resolve to it), or `null`. */
  readonly database: string | null;
}

/**
 * Turns a {@link SideOption} into a mysql2 callback pool.
 *
 * @throws {@link DualWriteError} `ER_DUALWRITE_UNSUPPORTED` for a pool with a custom `queryFormat`
 * @throws {@link InvalidOptionError} for a `uri` mysql2 cannot parse (the URI is not echoed: it may hold a password)
 */
export function openSide(side: Side, option: SideOption): SidePool {
  const pool = toCallbackPool(side, option);
  const config = (pool as unknown as { config?: { connectionConfig?: { database?: string; queryFormat?: unknown } } }).config?.connectionConfig;
  if (typeof config?.queryFormat === 'function') {
    throw new DualWriteError(
      'ER_DUALWRITE_UNSUPPORTED',
      `The ${side} side's pool has a custom queryFormat, which the dual-write pool does not support: mysql2 formats the statement with it ` +
        'after the pool has analyzed and planned the replay (explicit IDs, pinned values), so the replay could differ from what the ' +
        'primary side ran. Remove queryFormat and pass values with `?` placeholders.',
    );
  }
  const database = config?.database;
  return { side, pool, database: database === undefined || database === '' ? null : database };
}

function toCallbackPool(side: Side, option: SideOption): Pool {
  if (typeof option === 'string') return createHidingUrl(side, option as unknown as PoolOptions);
  if (isCallbackPool(option)) return option;
  const inner = (option as { pool?: unknown }).pool;
  if (isCallbackPool(inner)) return inner;
  return createHidingUrl(side, option);
}

/**
 * mysql2's createPool, except that a URI it cannot parse is reported without the URI: Node's URL error carries the
 * whole text (`input`), password included (typically one with an unencoded `/` or `@`).
 */
function createHidingUrl(side: Side, options: PoolOptions): Pool {
  try {
    return mysql.createPool(options);
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ERR_INVALID_URL') throw error;
    throw new InvalidOptionError(
      `${side} uri`,
      '(not shown: a connection URL may hold a password)',
      'a URL mysql2 can parse, such as mysql://user:password@host:3306/database, with `/`, `@`, `:` and `#` in the user or password percent-encoded (encodeURIComponent)',
    );
  }
}

function isCallbackPool(value: unknown): value is Pool {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Pool).getConnection === 'function' &&
    typeof (value as Pool).query === 'function' &&
    typeof (value as { config?: { connectionConfig?: unknown } }).config?.connectionConfig === 'object'
  );
}
