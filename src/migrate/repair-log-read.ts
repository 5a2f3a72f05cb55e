/**
 * Reading the dual-write pool's repair log: its pending rows (`repaired_at IS NULL`) a page at a time in `id`
 * order, their logged primary keys as exact values, and the rows of a page grouped per table. Shared by
 * `drainRepairLog` (which repairs and marks them) and the command line's `verify --from-repair-log` (which only
 * compares the keys they name); nothing here writes.
 *
 * The log lives on the primary side of the mode a write ran in (see `src/replay/repair-log.ts` for its format):
 * a row's `secondary_side` names the side that did not get the write, so the other side is authoritative for it.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { quoteIdentifier, type ExactValue } from './codec.js';
import type { DrainProblem } from './repair-log-drain.js';
import type { RepairSide } from './repair-settings.js';

/** A pool or connection the log is read through (a mysql2/promise pool fits). */
export interface RepairLogReader {
  /** Runs `sql` with `?` placeholders bound to `values`; resolves to `[rows, fields]`. */
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
}

/** One pending row of the repair log, as read (text columns as text). */
export interface RepairLogRow {
  /** The row's id (decimal text). */
  readonly id: string;
  /** `table_schema`: the database as the primary side named it, or null when unknown. */
  readonly schema: string | null;
  /** `table_name`, or null when the write's table is unknown. */
  readonly table: string | null;
  /** `primary_keys`: a JSON array of {column: value}, or null when only the table is known. */
  readonly keys: string | null;
  /** `secondary_side`: the side that did not get the write (`source` or `target`). */
  readonly secondarySide: string;
}

/** The pending rows of one page that name the same table. */
export interface RepairLogGroup {
  /** The database the rows name (the primary pool's database when they name none). */
  readonly schema: string;
  /** The table. */
  readonly table: string;
  /** The log rows' ids. */
  readonly ids: string[];
  /** The primary keys the rows name (one entry per logged key, duplicates kept). */
  readonly keys: Record<string, ExactValue>[];
  /** True when a row names the table without keys: the whole table is to be checked. */
  whole: boolean;
  /** The authoritative side: the one the rows do not name as secondary (null when they name neither). */
  side: RepairSide | null;
}

const NAME_PART = /^[\w$]{1,64}$/;

/**
 * The log table's name checked and quoted for SQL.
 *
 * @param name - `table` or `db.table`
 * @param option - the option's name for the error, e.g. `drainRepairLog logTable`
 * @throws {@link InvalidOptionError} for a name that is not letters, digits, `_` and `$` (optionally qualified)
 */
export function repairLogTableSql(name: string, option: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((part) => !NAME_PART.test(part))) {
    throw new InvalidOptionError(option, name, 'a table name of letters, digits, _ and $, optionally qualified as db.table');
  }
  return parts.map(quoteIdentifier).join('.');
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? String(value) : JSON.stringify(value);
}

/**
 * Up to `batch` pending rows with an id above `afterId`, in id order.
 *
 * @param pool - the primary side's pool
 * @param logTable - the log table as SQL (see {@link repairLogTableSql})
 * @throws the database error (ER_NO_SUCH_TABLE when no failure was ever logged there)
 */
export async function pendingRepairLogPage(pool: RepairLogReader, logTable: string, afterId: string, batch: number, intentGraceMs?: number): Promise<RepairLogRow[]> {
  const young = intentGraceMs === undefined ? '' : ` AND NOT (${YOUNG_INTENT})`;
  const [raw] = await pool.query(
    `SELECT CAST(id AS CHAR) AS id, table_schema, table_name, primary_keys, secondary_side FROM ${logTable} ` +
      `WHERE repaired_at IS NULL AND id > ?${young} ORDER BY id LIMIT ?`,
    intentGraceMs === undefined ? [afterId, batch] : [afterId, graceMicroseconds(intentGraceMs), batch],
  );
  return (raw as Record<string, unknown>[]).map((row) => ({
    id: text(row.id) ?? '0',
    schema: text(row.table_schema),
    table: text(row.table_name),
    keys: text(row.primary_keys),
    secondarySide: text(row.secondary_side) ?? '',
  }));
}

/**
 * An intent row (see the pool option `intents`) younger than the grace period, bound to one `?` (microseconds):
 * its write may still be in flight in a live process, whose secondary COMMIT and delete are about to follow.
 * `created_at` is the writer's clock in UTC; the database's UTC clock decides the age.
 */
const YOUNG_INTENT = "kind = 'intent' AND created_at > UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND";

function graceMicroseconds(ms: number): number {
  return Math.round(ms * 1000);
}

/**
 * How many pending intent rows are younger than `intentGraceMs` (left for a later drain).
 *
 * @throws the database error (ER_NO_SUCH_TABLE when no failure was ever logged there)
 */
export async function youngIntentCount(pool: RepairLogReader, logTable: string, intentGraceMs: number): Promise<number> {
  const [raw] = await pool.query(`SELECT COUNT(*) AS n FROM ${logTable} WHERE repaired_at IS NULL AND ${YOUNG_INTENT}`, [graceMicroseconds(intentGraceMs)]);
  return Number((raw as { n: unknown }[])[0]?.n ?? 0);
}

/** A logged key value as an exact value (numbers as their text, `{"$hex"}` as bytes). */
function exactValue(value: unknown): ExactValue {
  if (value === null || typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'object' && typeof (value as { $hex?: unknown }).$hex === 'string') return Buffer.from((value as { $hex: string }).$hex, 'hex');
  throw new TypeError(`a logged key value must be text, a number or {"$hex": …}, got ${JSON.stringify(value)}`);
}

/**
 * The keys of a log row's `primary_keys`: a JSON array of {column: value}.
 *
 * @throws {@link TypeError} (or a JSON SyntaxError) when the text is not such an array
 */
export function parseLoggedKeys(text: string): Record<string, ExactValue>[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError('primary_keys is not a JSON array');
  return parsed.map((entry: unknown) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new TypeError('a primary key is not a JSON object');
    return Object.fromEntries(Object.entries(entry as Record<string, unknown>).map(([column, value]) => [column, exactValue(value)]));
  });
}

/**
 * Groups a page of pending rows per table. Rows naming no table, whose keys cannot be read, or naming no database
 * when `primaryDb` is null cannot be checked by key or by table: they are returned in `skipped`, in row order.
 *
 * @param rows - a page from {@link pendingRepairLogPage}
 * @param primaryDb - the primary pool's database, for rows that name none
 */
export function groupRepairLogRows(rows: readonly RepairLogRow[], primaryDb: string | null): { groups: Map<string, RepairLogGroup>; skipped: DrainProblem[] } {
  const groups = new Map<string, RepairLogGroup>();
  const skipped: DrainProblem[] = [];
  for (const row of rows) {
    if (row.table === null) {
      skipped.push({ ids: [row.id], table: null, reason: 'the log row names no table, so neither keys nor a table can be repaired; verify and repair the tables the statement wrote' });
      continue;
    }
    let keys: Record<string, ExactValue>[] | null;
    try {
      keys = row.keys === null ? null : parseLoggedKeys(row.keys);
    } catch (error) {
      skipped.push({ ids: [row.id], table: row.table, reason: `its primary_keys cannot be read: ${error instanceof Error ? error.message : String(error)}` });
      continue;
    }
    const schema = row.schema ?? primaryDb;
    if (schema === null) {
      skipped.push({ ids: [row.id], table: row.table, reason: 'the log row names no database and the primary pool has no default database' });
      continue;
    }
    const id = `${schema}\u0000${row.table}`;
    let group = groups.get(id);
    if (group === undefined) groups.set(id, (group = { schema, table: row.table, ids: [], keys: [], whole: false, side: null }));
    group.ids.push(row.id);
    if (keys === null) group.whole = true;
    else group.keys.push(...keys);
    // The authoritative side is the one the log row does not name as secondary.
    if (row.secondarySide === 'target') group.side = 'source';
    else if (row.secondarySide === 'source') group.side = 'target';
  }
  return { groups, skipped };
}
