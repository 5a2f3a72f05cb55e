/**
 * Rows rendered as SQL literals by the server that holds them, for backfill's fast path: the source
 * server turns each row into the text `('v1', X'0A0B', NULL, …)` while it reads it, and the copy
 * sends those tuples to the other side inside `INSERT IGNORE … VALUES`. No value is parsed or
 * escaped in JavaScript, which is what made the copy slower than `mariadb-dump | mariadb`.
 *
 * Exactness follows the codec's rules (see `./codec.ts`), with the server doing the rendering:
 * - integers and DECIMAL: the server's text, unquoted (an exact number literal, however long);
 * - dates, times, YEAR: the server's text in quotes (it holds no quote or backslash); TIMESTAMP in the
 *   reading session, which must use `time_zone = '+00:00'` (UTC text, as the codec writes it; a zone with
 *   daylight saving would make a fold ambiguous);
 * - FLOAT, DOUBLE, character strings, ENUM, SET and JSON: the server's text ({@link columnReadExpression}:
 *   FLOAT widened to DOUBLE so its text round-trips) converted to utf8mb4, then quoted by `QUOTE()`
 *   (backslash escapes; `QUOTE(NULL)` is the word `NULL`). The conversion is what the codec's reads get from
 *   the connection's utf8mb4 too, and it leaves every piece of a tuple in one character set, so `CONCAT()`
 *   has no mix of character sets or collations to resolve (nor a backslash byte inside a multi-byte
 *   character of, say, GBK to escape);
 * - binary strings, BLOB, BIT and spatial values: `X'<hex of the stored bytes>'` (BIT through
 *   `CAST(… AS BINARY)`, whose bytes are those the text protocol sends; `HEX()` of a BIT prints the
 *   number instead).
 *
 * A column of any other type (MariaDB's INET6, UUID, VECTOR, types of future versions) has no rendering
 * here: {@link rowLiteralExpression} returns null and the caller copies the table through the codec.
 * `QUOTE()` and `CONCAT()` return NULL when their result would exceed the source's `max_allowed_packet`;
 * a NULL tuple means "copy this row through the codec" (see `./backfill-chunk.ts`).
 *
 * The target session must not use the sql_mode `NO_BACKSLASH_ESCAPES` ({@link checkLiteralSqlMode}):
 * it would read the escapes as text. mysql2's own escaping of bound values relies on that too.
 *
 * @module
 */
import { DualWriteError } from '../errors.js';
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import { columnReadExpression, queryExact, quoteIdentifier, withSessionTimeZone, type ExactQueryable } from './codec.js';
import { refuseChangedValues } from './copy.js';

/** Types whose server text is an exact number literal as it is (integers and DECIMAL: no exponent, no quotes needed). */
const NUMBER_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric']);

/** Types whose server text never holds a quote or a backslash: quoted as it is. */
const TEMPORAL_TYPES = new Set(['date', 'datetime', 'timestamp', 'time', 'year']);

/** Types whose server text is quoted and escaped by `QUOTE()`. */
const QUOTED_TYPES = new Set(['float', 'double', 'real', 'char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum', 'set', 'json']);

/** Types copied as their stored bytes, in hex. */
const HEX_TYPES = new Set([
  'binary',
  'varbinary',
  'tinyblob',
  'blob',
  'mediumblob',
  'longblob',
  'geometry',
  'point',
  'linestring',
  'polygon',
  'multipoint',
  'multilinestring',
  'multipolygon',
  'geometrycollection',
  'geomcollection',
]);

/**
 * The select-list expression that renders one value of `column` as an exact SQL literal, or null when the
 * column's type has no rendering here. Every rendering is ASCII or utf8mb4, so the pieces of a row concatenate
 * without a mix of collations.
 */
export function columnLiteralExpression(column: ColumnMetadata): string | null {
  const ref = quoteIdentifier(column.name);
  const type = column.dataType;
  // A number's text in string context is ASCII (the connection's character set only labels it).
  if (NUMBER_TYPES.has(type)) return `IFNULL(${ref}, 'NULL')`;
  // TIMESTAMP prints as UTC text in the +00:00 session this needs; YEAR keeps its 4 digits quoted ('0000', not 0 = 2000).
  if (TEMPORAL_TYPES.has(type)) return `IFNULL(CONCAT('''', ${ref}, ''''), 'NULL')`;
  if (QUOTED_TYPES.has(type)) return `QUOTE(CONVERT(${columnReadExpression(column)} USING utf8mb4))`;
  const bytes = type === 'bit' ? `CAST(${ref} AS BINARY)` : HEX_TYPES.has(type) ? ref : null;
  if (bytes === null) return null;
  return `IF(${ref} IS NULL, 'NULL', CONCAT('X''', HEX(${bytes}), ''''))`;
}

/**
 * The select-list expression that renders a whole row of `columns` as one SQL tuple, `(v1, v2, …)`,
 * ready for `INSERT … VALUES`; null when a column has no rendering ({@link columnLiteralExpression}).
 * It is NULL for a row whose tuple would exceed the source's `max_allowed_packet`.
 *
 * Run it in a session with `time_zone = '+00:00'` when a column is a TIMESTAMP.
 */
export function rowLiteralExpression(columns: readonly ColumnMetadata[]): string | null {
  const values: string[] = [];
  for (const column of columns) {
    const expression = columnLiteralExpression(column);
    if (expression === null) return null;
    values.push(expression);
  }
  if (values.length === 0) return null;
  return `CONCAT('(', ${values.join(", ',', ")}, ')')`;
}

/**
 * Refuses a session whose sql_mode has `NO_BACKSLASH_ESCAPES`: it would store the backslash escapes of
 * rendered (and of mysql2-escaped) string values as text.
 *
 * @param connection - the session that will run the INSERTs
 * @throws {@link DualWriteError} `ER_DUALWRITE_BACKSLASH_ESCAPES` when it does
 */
export async function checkLiteralSqlMode(connection: ExactQueryable): Promise<void> {
  const [row] = await queryExact(connection, 'SELECT @@session.sql_mode');
  const mode = row?.[0];
  const text = mode === null || mode === undefined ? '' : mode.toString();
  if (text.split(',').includes('NO_BACKSLASH_ESCAPES')) {
    throw new DualWriteError(
      'ER_DUALWRITE_BACKSLASH_ESCAPES',
      'The target session uses the sql_mode NO_BACKSLASH_ESCAPES, under which the escaped string values the copy sends (a ' +
        "backslash before ', \\ and NUL) would be stored with their backslashes instead of copied exactly, so nothing was " +
        'written. Remove NO_BACKSLASH_ESCAPES from the sql_mode of the target pool\'s sessions (or of the server) for the copy.',
    );
  }
}

/** Options of {@link insertIgnoreLiterals}. */
export interface InsertLiteralsOptions {
  /**
   * The database written: `null` for the connection's default database.
   * @defaultValue `table.schema`
   */
  readonly schema?: string | null;
  /**
   * Bytes of tuples per INSERT statement (a tuple larger than this is sent alone). About what
   * `mariadb-dump` puts in one extended INSERT.
   * @defaultValue 1 MiB
   */
  readonly batchBytes?: number;
}

const DEFAULT_BATCH_BYTES = 1024 * 1024;

/** The part of mysql2's `ResultSetHeader` read here. */
interface InsertHeader {
  readonly affectedRows?: unknown;
  readonly warningStatus?: unknown;
}

/**
 * Writes rows rendered by {@link rowLiteralExpression} into `table` with `INSERT IGNORE INTO … (columns)
 * VALUES <tuples>`, in statements of about `batchBytes` bytes, with the rules of `insertIgnoreRows`: a row
 * whose primary or unique key the target already has is left as it is, and any warning other than a skipped
 * duplicate raises `CopyChangedValueError` (after the statement ran: run the call in a transaction).
 *
 * @param connection - a connection on the side written (the caller opens and commits any transaction)
 * @param table - metadata of the table (names and types only)
 * @param columns - the columns the tuples hold, in order (no generated column)
 * @param tuples - the rendered rows
 * @param options - database written and batch size
 * @returns the number of rows the server inserted (duplicates skipped are not counted)
 * @throws `CopyChangedValueError` when the server changed a value
 * @throws the database error of a statement that fails
 */
export async function insertIgnoreLiterals(
  connection: ExactQueryable,
  table: TableMetadata,
  columns: readonly ColumnMetadata[],
  tuples: readonly string[],
  options: InsertLiteralsOptions = {},
): Promise<number> {
  if (tuples.length === 0) return 0;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  const schema = options.schema === undefined ? table.schema : options.schema;
  const into =
    `INSERT IGNORE INTO ${schema === null ? '' : quoteIdentifier(schema) + '.'}${quoteIdentifier(table.name)} ` +
    `(${columns.map((column) => quoteIdentifier(column.name)).join(', ')}) VALUES `;
  // The tuples go in as one raw value (mysql2 inserts an object's toSqlString() as it is): mysql2 would otherwise
  // scan the whole statement for `?` placeholders, a cost of the order of the server's. A name holding a `?`
  // (which a client's placeholder scan might not skip) takes the plain route.
  const statement = into.includes('?')
    ? (values: string) => ({ sql: into + values })
    : (values: string) => ({ sql: into + '?', values: [{ toSqlString: () => values }] });
  const work = async (): Promise<number> => {
    let inserted = 0;
    let start = 0;
    while (start < tuples.length) {
      let end = start;
      let bytes = 0;
      // Lengths in UTF-16 units: a statement holds at most 3 bytes per unit, far below any max_allowed_packet.
      while (end < tuples.length && (end === start || bytes + (tuples[end] as string).length <= batchBytes)) bytes += (tuples[end++] as string).length + 1;
      const [header] = (await connection.query(statement(tuples.slice(start, end).join(',')))) as [InsertHeader, unknown];
      const affected = Number(header.affectedRows ?? 0);
      // Each skipped duplicate gives one warning; any more means a value was changed.
      if (Number(header.warningStatus ?? 0) > end - start - affected) await refuseChangedValues(connection, table.name);
      inserted += affected;
      start = end;
    }
    return inserted;
  };
  return columns.some((column) => column.dataType === 'timestamp') ? withSessionTimeZone(connection, '+00:00', work) : work();
}
