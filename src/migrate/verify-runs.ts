/**
 * Completed verify runs, recorded in a state table on the target (`dualwrite_verify_runs`), so that a
 * guarded cut-over can ask "was there a recent clean verification of these tables?". One row per
 * completed run; an interrupted run records nothing.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { queryExact, quoteIdentifier, type ExactQueryable } from './codec.js';
import { storedText } from './state-table.js';

/** Default name of the table of verify runs. */
export const DEFAULT_VERIFY_RUNS_TABLE = 'dualwrite_verify_runs';

/** One completed verify run, as recorded. */
export interface VerifyRun {
  /** The row's id (increasing). */
  readonly id: number;
  /** When the run started, in milliseconds since the epoch. */
  readonly startedAt: number;
  /** When it completed, in milliseconds since the epoch. */
  readonly finishedAt: number;
  /** The tables compared, as `schema.table` (the source's database). */
  readonly tables: readonly string[];
  /** Source rows checked, over every table. */
  readonly rowsChecked: number;
  /** Rows reported different (missing, extra and different), over every table. */
  readonly differences: number;
  /** Whether every table was compared and nothing differed. */
  readonly identical: boolean;
  /** The normalisation profile used (JSON), or `null` for an exact comparison. */
  readonly normalisation: string | null;
}

/** What is recorded for a run (the id is given by the table). */
export type VerifyRunRecord = Omit<VerifyRun, 'id'>;

/**
 * The `CREATE TABLE IF NOT EXISTS` of the runs table. Times are milliseconds since the epoch (BIGINT), so they
 * compare the same whatever the session time zone.
 */
function createSql(table: string): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${table} (` +
    'id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, ' +
    'started_at_ms BIGINT NOT NULL, finished_at_ms BIGINT NOT NULL, ' +
    'tables_list MEDIUMTEXT NOT NULL, rows_checked BIGINT UNSIGNED NOT NULL, differences BIGINT UNSIGNED NOT NULL, ' +
    'identical TINYINT(1) NOT NULL, normalisation TEXT NULL, KEY finished (finished_at_ms)' +
    ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4'
  );
}

/**
 * The runs table as `name` (in the runner's default database) or `db.name`, quoted.
 *
 * @throws {@link InvalidOptionError} for an empty name or more than one dot
 */
export function verifyRunsTable(name: string = DEFAULT_VERIFY_RUNS_TABLE): string {
  const parts = typeof name === 'string' ? name.split('.') : [];
  if (parts.length < 1 || parts.length > 2 || parts.some((part) => part === '')) {
    throw new InvalidOptionError('verify runs table', name, 'a table name, or "database.table"');
  }
  return parts.map(quoteIdentifier).join('.');
}

/**
 * Records a completed run (creating the table on first use).
 *
 * @param runner - the target's pool or connection
 * @param run - what to record
 * @param table - `name` or `db.name` @defaultValue `'dualwrite_verify_runs'`
 * @returns the new row's id
 */
export async function recordVerifyRun(runner: ExactQueryable, run: VerifyRunRecord, table?: string): Promise<number> {
  const quoted = verifyRunsTable(table);
  await runner.query({ sql: createSql(quoted) });
  const [result] = await runner.query({
    sql: `INSERT INTO ${quoted} (started_at_ms, finished_at_ms, tables_list, rows_checked, differences, identical, normalisation) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    values: [run.startedAt, run.finishedAt, JSON.stringify(run.tables), run.rowsChecked, run.differences, run.identical ? 1 : 0, run.normalisation],
  });
  return Number((result as { insertId?: unknown }).insertId ?? 0);
}

/**
 * The latest recorded runs, newest first; an empty list when the table does not exist.
 *
 * @param runner - the target's pool or connection
 * @param options - `limit` (default 20), `since` (finished at or after, ms since the epoch), `table`
 */
export async function latestVerifyRuns(runner: ExactQueryable, options: { readonly limit?: number; readonly since?: number; readonly table?: string } = {}): Promise<VerifyRun[]> {
  const quoted = verifyRunsTable(options.table);
  const limit = options.limit ?? 20;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError('latestVerifyRuns limit', limit, 'a whole number of runs, at least 1');
  let rows;
  try {
    rows = await queryExact(
      runner,
      `SELECT id, started_at_ms, finished_at_ms, tables_list, rows_checked, differences, identical, normalisation FROM ${quoted} WHERE finished_at_ms >= ? ORDER BY finished_at_ms DESC, id DESC LIMIT ${limit}`,
      [options.since ?? 0],
    );
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ER_NO_SUCH_TABLE') return [];
    throw error;
  }
  return rows.map((row) => {
    let tables: string[] = [];
    try {
      const parsed = JSON.parse(storedText(row[3])) as unknown;
      if (Array.isArray(parsed)) tables = parsed.filter((item): item is string => typeof item === 'string');
    } catch {
      // a damaged row covers no table
    }
    return {
      id: Number(storedText(row[0])),
      startedAt: Number(storedText(row[1])),
      finishedAt: Number(storedText(row[2])),
      tables,
      rowsChecked: Number(storedText(row[4])),
      differences: Number(storedText(row[5])),
      identical: storedText(row[6]) === '1',
      normalisation: row[7] === null ? null : storedText(row[7]),
    };
  });
}
