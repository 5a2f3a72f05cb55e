/**
 * The session settings a repair batch runs under, set and restored with as few round trips as possible: one
 * `SELECT` of the current values and one `SET` of those that differ per connection, and one `SET` to restore
 * them, the two connections in parallel.
 *
 * - both sides: `time_zone = '+00:00'` (TIMESTAMP values travel as UTC text, see ./codec);
 * - the repaired side: `foreign_key_checks = 0` too (a child may be repaired before its parent; deletes do not
 *   cascade — the children are differences of their own).
 *
 * @module
 */
import { DualWriteError, ReplayPlanError } from '../errors.js';
import { queryExact, type ExactQueryable } from './codec.js';

/** A session variable and the value a batch needs. */
interface Wanted {
  readonly name: 'time_zone' | 'foreign_key_checks';
  readonly value: string;
}

const AUTH: readonly Wanted[] = [{ name: 'time_zone', value: '+00:00' }];
const OTHER: readonly Wanted[] = [
  { name: 'time_zone', value: '+00:00' },
  { name: 'foreign_key_checks', value: '0' },
];

/**
 * `SET SESSION a = …, SESSION b = …` of `entries`, or null when there is nothing to set. A boolean variable takes
 * 0/1 as a number, not a quoted string, so `foreign_key_checks` is written inline (its value is checked to be a
 * plain word first); the time zone is bound.
 */
function setStatement(entries: readonly { name: string; value: string }[]): { sql: string; values: unknown[] } | null {
  if (entries.length === 0) return null;
  const values: unknown[] = [];
  const terms = entries.map(({ name, value }) => {
    if (name !== 'time_zone') return `SESSION ${name} = ${value}`;
    values.push(value);
    return `SESSION ${name} = ?`;
  });
  return { sql: `SET ${terms.join(', ')}`, values };
}

/** Sets `wanted` on a connection; resolves to the statement that restores the previous values (null: nothing changed). */
async function apply(connection: ExactQueryable, wanted: readonly Wanted[]): Promise<{ sql: string; values: unknown[] } | null> {
  const [row] = await queryExact(connection, `SELECT ${wanted.map(({ name }) => `@@session.${name}`).join(', ')}`);
  const previous = wanted.map(({ name }, i) => {
    const value = row?.[i];
    if (value === null || value === undefined) throw new ReplayPlanError(`SELECT @@session.${name} returned nothing`);
    return { name, value: value.toString() };
  });
  const changed = previous.filter((entry, i) => entry.value !== (wanted[i] as Wanted).value);
  const bad = changed.find((entry) => entry.name === 'foreign_key_checks' && !/^\w+$/.test(entry.value));
  if (bad !== undefined) {
    throw new DualWriteError(
      'ER_DUALWRITE_SESSION_VARIABLE',
      `the session's ${bad.name} is ${JSON.stringify(bad.value)}, which repair could not restore after its batch: set it to 0 or 1 on the pool's connections`,
    );
  }
  const set = setStatement(wanted.filter((entry, i) => entry.value !== (previous[i] as { value: string }).value));
  if (set !== null) await connection.query(set);
  return setStatement(changed);
}

/**
 * Runs `work` with both connections in a repair batch's session settings (see the module notes), then restores
 * the previous values (also when `work` fails; an error of the restore then does not hide the error of `work`).
 *
 * @param auth - a connection on the authoritative side
 * @param other - a connection on the repaired side
 * @param work - the batch
 */
export async function withRepairSessions<T>(auth: ExactQueryable, other: ExactQueryable, work: () => Promise<T>): Promise<T> {
  const settled = await Promise.allSettled([apply(auth, AUTH), apply(other, OTHER)]);
  const restores = settled.map((entry) => (entry.status === 'fulfilled' ? entry.value : null));
  const restore = (): Promise<unknown> =>
    Promise.all([auth, other].map((connection, i) => {
      const statement = restores[i];
      return statement === null || statement === undefined ? Promise.resolve() : connection.query(statement);
    }));
  const failed = settled.find((entry): entry is PromiseRejectedResult => entry.status === 'rejected');
  if (failed !== undefined) {
    await restore().catch(() => undefined);
    throw failed.reason;
  }
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await restore().catch(() => undefined);
    throw error;
  }
  await restore();
  return result;
}
