/**
 * How the settings an ORM passes to the driver module's `createPool(config)` / `createConnection(config)` combine
 * with each side's settings from `createDriver({ source, target })`.
 *
 * - Where and as whom to connect ({@link IDENTITY_KEYS}: host, port, user, password, ssl, uri, …) always comes from
 *   each side's own settings: the ORM knows one database, the driver knows two. The ORM's values for these keys
 *   are ignored, except `database`, which is used for a side whose settings name none.
 * - Everything else (typeCast, dateStrings, supportBigNumbers, bigNumberStrings, timezone, charset, flags,
 *   connectionLimit, …) is the ORM's to decide: its value is applied to both sides, over the side's own, so both
 *   sides return and parse values the same way and count affected rows the same way.
 * - `namedPlaceholders` and `queryFormat` are refused: mysql2 rewrites the statement text with them after the
 *   dual-write pool has analyzed it, so the replay would not be the statement the primary side ran.
 *
 * @module
 */
import type { PoolOptions } from 'mysql2';
import { DualWriteError, InvalidOptionError } from '../errors.js';

/** The settings keys that say where and as whom to connect: always taken from each side's own settings. */
export const IDENTITY_KEYS: readonly string[] = Object.freeze([
  'uri',
  'host',
  'port',
  'socketPath',
  'localAddress',
  'user',
  'password',
  'password1',
  'password2',
  'password3',
  'passwordSha1',
  'database',
  'ssl',
  'authPlugins',
  'authSwitchHandler',
  'stream',
]);

/** Pool-only keys: meaningless for the one connection per side of `createConnection`. */
const POOL_KEYS: readonly string[] = ['connectionLimit', 'maxIdle', 'idleTimeout', 'queueLimit', 'waitForConnections'];

/** A side as `createDriver` takes it: mysql2 connection/pool options, or a connection URI. */
export type DriverSideOption = PoolOptions | string;

/**
 * Checks a side given to `createDriver`: options or a URI, not a pool (the driver creates each pool itself, with
 * the settings the ORM asks for).
 *
 * @throws {@link InvalidOptionError} for anything else
 */
export function checkDriverSide(name: 'source' | 'target', value: unknown): void {
  const isOptions = typeof value === 'string' || (value !== null && typeof value === 'object' && typeof (value as { getConnection?: unknown }).getConnection !== 'function' && !('pool' in value));
  if (!isOptions) {
    throw new InvalidOptionError(
      `createDriver ${name}`,
      value,
      'mysql2 connection options or a connection URI (the driver creates each pool with the settings your ORM passes to createPool, so it cannot use a pool you created)',
    );
  }
}

/**
 * The settings of one side for a pool or connection the ORM asked for: the side's own settings, the ORM's
 * settings over them, and the side's identity keys over everything (see the module description).
 *
 * @param side - the side's settings from `createDriver`
 * @param requested - what the ORM passed to `createPool`/`createConnection` (options or a URI; a URI only names a database, which is ignored like the rest of the identity)
 * @param forConnection - true for `createConnection`: pool-only keys of the ORM's settings are dropped
 * @throws {@link DualWriteError} `ER_DUALWRITE_UNSUPPORTED` for `namedPlaceholders` or `queryFormat`
 */
export function sideSettings(side: DriverSideOption, requested: unknown, forConnection: boolean): PoolOptions {
  const own: Record<string, unknown> = typeof side === 'string' ? { uri: side } : { ...side };
  const asked: Record<string, unknown> = requested !== null && typeof requested === 'object' ? { ...(requested as Record<string, unknown>) } : {};
  refuseRewriting(own, 'createDriver');
  refuseRewriting(asked, forConnection ? 'createConnection' : 'createPool');
  const merged: Record<string, unknown> = { ...own };
  for (const [key, value] of Object.entries(asked)) {
    if (value === undefined || IDENTITY_KEYS.includes(key)) continue;
    if (forConnection && POOL_KEYS.includes(key)) continue;
    merged[key] = value;
  }
  if (databaseOf(own) === null && typeof asked.database === 'string' && asked.database !== '') merged.database = asked.database;
  return merged;
}

/** The database a side's settings name (`database`, or the path of `uri`), or `null`. */
export function databaseOf(settings: Record<string, unknown>): string | null {
  if (typeof settings.database === 'string' && settings.database !== '') return settings.database;
  if (typeof settings.uri !== 'string') return null;
  try {
    const name = decodeURIComponent(new URL(settings.uri).pathname.replace(/^\//, ''));
    return name === '' ? null : name;
  } catch {
    return null; // mysql2 reports a malformed URI itself when it connects
  }
}

function refuseRewriting(settings: Record<string, unknown>, where: string): void {
  if (settings.namedPlaceholders === true) {
    throw new DualWriteError(
      'ER_DUALWRITE_UNSUPPORTED',
      `${where}: namedPlaceholders is not supported by the dual-write driver: mysql2 rewrites \`:name\` placeholders after the pool has ` +
        'analyzed the statement, so its replay would differ from what the primary side ran. Use `?` placeholders (every ORM in the docs does).',
    );
  }
  if (typeof settings.queryFormat === 'function') {
    throw new DualWriteError(
      'ER_DUALWRITE_UNSUPPORTED',
      `${where}: queryFormat is not supported by the dual-write driver: a custom formatter changes the statement text after the pool has ` +
        'analyzed it, so its replay would differ from what the primary side ran. Remove queryFormat and pass values with `?` placeholders.',
    );
  }
}
