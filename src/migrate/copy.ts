/**
 * The two halves of copying rows exactly between the sides, used by backfill
 * (and by repair for missing rows): {@link readExactRows} reads rows with the
 * lossless codec, {@link insertIgnoreRows} writes them to the other side with
 * `INSERT IGNORE` semantics, so a row the dual-write pool already wrote there
 * (newer than the copy) is kept, never overwritten.
 *
 * Both use the codec's rules (see `./codec.ts`): values travel as exact text or
 * bytes, TIMESTAMP as UTC text written in a `+00:00` session, generated columns
 * are never written.
 *
 * @module
 */
import { CopyChangedValueError, InvalidOptionError, ReplayPlanError } from '../errors.js';
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import {
  columnReadExpression,
  decodeColumnValue,
  isTimestampColumn,
  queryExact,
  quoteIdentifier,
  sizedBatches,
  withSessionTimeZone,
  type ExactQueryable,
  type ExactRow,
} from './codec.js';

/** Rows read exactly, with the names of the columns they hold, in order. */
export interface ExactRows {
  /** Column names, in the order of the values of each row (the table's non-generated columns). */
  readonly columns: readonly string[];
  /** The rows, decoded ({@link decodeColumnValue}): ready for {@link insertIgnoreRows}. */
  readonly rows: readonly ExactRow[];
}

/**
 * The columns a copy reads and writes: every column of the table in table order (invisible ones
 * included), except generated columns, which the target computes itself.
 */
export function copyColumns(table: TableMetadata): ColumnMetadata[] {
  return table.columns.filter((column) => column.generated === null);
}

/** `` `schema`.`table` ``, or `` `table` `` when `schema` is null (the connection's default database). */
function tableName(schema: string | null, table: TableMetadata): string {
  return (schema === null ? '' : quoteIdentifier(schema) + '.') + quoteIdentifier(table.name);
}

/**
 * Reads rows of `table` exactly: `SELECT <copy columns> FROM schema.table <tail>`, each column through
 * its exact read expression, decoded so the rows can be written with {@link insertIgnoreRows}.
 *
 * `tail` is the rest of the statement, e.g. `WHERE id > ? ORDER BY id LIMIT 500 LOCK IN SHARE MODE`;
 * run it inside the caller's transaction to hold the lock until the rows are written. When the table
 * has a TIMESTAMP column the read runs in a `+00:00` session (the previous zone is restored after), so
 * TIMESTAMP values bound in `tail` — e.g. a keyset bound taken from a previous chunk, which is UTC text —
 * compare as the instants they name.
 *
 * @param connection - a connection on the side read (a checked-out connection when `tail` locks)
 * @param table - metadata of the table read (its `schema` qualifies the name)
 * @param tail - SQL after the table name: WHERE / ORDER BY / LIMIT / locking clause, with `?` placeholders
 * @param values - values of the placeholders of `tail`
 * @throws {@link ReplayPlanError} when a value cannot be read exactly (a connection that is not utf8mb4)
 */
export async function readExactRows(connection: ExactQueryable, table: TableMetadata, tail = '', values: readonly unknown[] = []): Promise<ExactRows> {
  const columns = copyColumns(table);
  if (columns.length === 0) throw new ReplayPlanError(`table \`${table.name}\` has no column that can be copied`);
  const sql = `SELECT ${columns.map((c) => columnReadExpression(c)).join(', ')} FROM ${tableName(table.schema, table)} ${tail}`.trimEnd();
  const read = async (): Promise<ExactRows> => {
    const raw = await queryExact(connection, sql, values);
    const rows = raw.map((row) => row.map((value, i) => decodeColumnValue(columns[i] as ColumnMetadata, value)));
    return { columns: columns.map((c) => c.name), rows };
  };
  return columns.some(isTimestampColumn) ? withSessionTimeZone(connection, '+00:00', read) : read();
}

/** Options of {@link insertIgnoreRows}. */
export interface InsertIgnoreOptions {
  /**
   * The database written: `null` for the connection's default database. The target database may be
   * named differently from the source's.
   * @defaultValue `table.schema`
   */
  readonly schema?: string | null;
  /**
   * Rows per INSERT statement.
   * @defaultValue 500
   */
  readonly batchRows?: number;
  /**
   * Approximate bytes of values per INSERT statement, kept well under `max_allowed_packet`
   * (a row larger than this is sent alone).
   * @defaultValue 4 MiB
   */
  readonly batchBytes?: number;
}

const DEFAULT_BATCH_ROWS = 500;
const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

/** The part of mysql2's `ResultSetHeader` read here. */
interface InsertHeader {
  readonly affectedRows?: unknown;
  readonly warningStatus?: unknown;
}

const ER_DUP_ENTRY = 1062;

/**
 * Writes `rows` (from {@link readExactRows}) into `table` with `INSERT IGNORE INTO … (columns) VALUES …`,
 * in batches of at most `batchRows` rows and about `batchBytes` bytes: a row whose primary or unique key
 * is already present on this side is left as it is (it was written by the dual-write pool, and is newer).
 *
 * - Generated columns named in `columns` are left out (with their values): the server computes them.
 * - When a TIMESTAMP column is written, the session's `time_zone` is `+00:00` for the writes and is
 *   restored after, so the UTC text of the codec means the same instant whatever the session's zone.
 * - Values must be exact: IGNORE also turns conversion errors into warnings and changed values, so any
 *   warning other than a skipped duplicate raises {@link CopyChangedValueError} (after the statement ran:
 *   run the call in a transaction on this side to undo it).
 *
 * @param connection - a connection on the side written (the caller opens and commits any transaction)
 * @param table - metadata of the table (from either side; only names and types are used)
 * @param columns - the column names of each row's values, in order
 * @param rows - the rows; each has one value per entry of `columns`
 * @param options - database written and batch bounds
 * @returns the number of rows the server inserted (`affectedRows` summed): rows skipped as duplicates are not counted
 * @throws {@link InvalidOptionError} for a batch bound that is not a positive integer
 * @throws {@link ReplayPlanError} for a column unknown to `table` or a row of the wrong length
 * @throws {@link CopyChangedValueError} when the server changed a value
 * @throws the database error of a statement that fails
 */
export async function insertIgnoreRows(
  connection: ExactQueryable,
  table: TableMetadata,
  columns: readonly string[],
  rows: readonly ExactRow[],
  options: InsertIgnoreOptions = {},
): Promise<number> {
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new InvalidOptionError('insertIgnoreRows batchRows', batchRows, 'a positive integer');
  if (!Number.isSafeInteger(batchBytes) || batchBytes < 1) throw new InvalidOptionError('insertIgnoreRows batchBytes', batchBytes, 'a positive integer');
  const metadata = columns.map((name) => {
    const column = table.columnsByName.get(name.toLowerCase());
    if (column === undefined) throw new ReplayPlanError(`column \`${name}\` is not in the metadata of \`${table.name}\``);
    return column;
  });
  const kept = metadata.flatMap((column, i) => (column.generated === null ? [i] : []));
  if (kept.length === 0 || rows.length === 0) return 0;
  for (const row of rows) {
    if (row.length !== columns.length) throw new ReplayPlanError(`a row of ${row.length} values was given for ${columns.length} columns of \`${table.name}\``);
  }
  const written = kept.length === columns.length ? rows : rows.map((row) => kept.map((i) => row[i] ?? null));
  const names = kept.map((i) => quoteIdentifier((metadata[i] as ColumnMetadata).name));
  const into = `INSERT IGNORE INTO ${tableName(options.schema === undefined ? table.schema : options.schema, table)} (${names.join(', ')}) VALUES `;
  const tuple = `(${names.map(() => '?').join(', ')})`;

  const work = async (): Promise<number> => {
    let inserted = 0;
    for (const batch of sizedBatches(written, batchRows, batchBytes)) {
      const [header] = (await connection.query({ sql: into + batch.map(() => tuple).join(', '), values: batch.flat() })) as [InsertHeader, unknown];
      const affected = Number(header.affectedRows ?? 0);
      const warnings = Number(header.warningStatus ?? 0);
      // Each skipped duplicate gives one warning; any more means a value was changed.
      if (warnings > batch.length - affected) await refuseChangedValues(connection, table.name);
      inserted += affected;
    }
    return inserted;
  };
  return kept.some((i) => isTimestampColumn(metadata[i] as ColumnMetadata)) ? withSessionTimeZone(connection, '+00:00', work) : work();
}

/**
 * Reads the warnings of the last statement and raises {@link CopyChangedValueError} with those that are not
 * duplicates (shared with the rendered-row INSERTs of `./row-literals.ts`).
 *
 * @param connection - the connection that ran the statement
 * @param table - the table written, for the message
 */
export async function refuseChangedValues(connection: ExactQueryable, table: string): Promise<never> {
  const warnings = await queryExact(connection, 'SHOW WARNINGS').catch(() => []);
  const other = warnings.filter((row) => row[1] !== String(ER_DUP_ENTRY));
  const detail = other
    .slice(0, 3)
    .map((row) => `${String(row[0])} ${String(row[1])}: ${String(row[2])}`)
    .join('; ');
  throw new CopyChangedValueError(table, detail === '' ? 'the server reported warnings other than duplicate keys' : detail);
}
