/**
 * The database a migration tool works in when the caller names none: the pool's default database
 * (the one in its URL). One place for backfill, verify, repair and the repair-log drain.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { queryExact, type ExactQueryable } from './codec.js';

/** The pool's default database (`SELECT DATABASE()`), or null when it has none. */
export async function poolDatabase(pool: ExactQueryable): Promise<string | null> {
  const [row] = await queryExact(pool, 'SELECT DATABASE()');
  const name = row?.[0];
  if (name === null || name === undefined) return null;
  const text = typeof name === 'string' ? name : name.toString('utf8');
  return text === '' ? null : text;
}

/**
 * `given` when set, else the pool's default database.
 *
 * @param option - the option that names it, as error messages show it (e.g. `verify sourceSchema`)
 * @throws {@link InvalidOptionError} when neither is there, saying to put the database in the URL or pass the option
 */
export async function databaseOrDefault(pool: ExactQueryable, given: string | undefined, option: string): Promise<string> {
  if (given !== undefined) return given;
  const name = await poolDatabase(pool);
  if (name === null) throw new InvalidOptionError(option, given, `a database name (the pool has no default database: put it in the URL or pass ${option.split(' ').pop() ?? option})`);
  return name;
}
