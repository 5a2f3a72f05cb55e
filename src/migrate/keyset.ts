/**
 * Keyset chunking over any primary key: each chunk starts strictly after the last key of the
 * previous one, so no chunk ever scans the rows before it (no OFFSET, not even for boundary
 * probing — a reader that only needs a chunk's upper bound selects the chunk's keys alone,
 * `columns: table.primaryKey`, an index-only read of `limit` keys, and keeps the last).
 *
 * Tuple comparisons are written expanded, `a >= ? AND ((a > ?) OR (a = ? AND b > ?))`, not as
 * the row constructor `(a, b) > (?, ?)`: older MySQL and MariaDB do not turn a row-constructor
 * inequality into an index range and scan the table, while the expanded form is a union of
 * ranges on the primary key on every version; the redundant leading `a >= ?` gives the range
 * optimizer a simple bound on the first column even where it would not merge the disjuncts.
 *
 * Key values are {@link ExactValue}s as the codec reads them. How each is written decides
 * whether the comparison is exact: a quoted number is compared with a numeric column as a
 * DOUBLE (wrong for BIGINTs above 2^53 and long DECIMALs), so numeric values are inlined as
 * number literals after checking their text; BIT values as the integer of their bytes; strings
 * and bytes are bound as `?` (bytes become `X'…'`, compared byte by byte).
 *
 * Limits: ENUM and SET key columns are refused (ORDER BY sorts them by index, a comparison with
 * text compares text, so the two orders differ). A TIMESTAMP key column is read as UTC text
 * ({@link keyOfRow}), so its chunks must run in a session with `time_zone = '+00:00'`
 * (`withSessionTimeZone` of the codec).
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import { columnReadExpression, decodeColumnValue, quoteIdentifier, type ExactRow, type ExactValue } from './codec.js';

/** The primary-key values of one row, in primary-key column order, as the codec reads them. */
export type KeyTuple = readonly ExactValue[];

/** A piece of SQL and the values of its `?` placeholders, in order (for mysql2 `query()`). */
export interface SqlFragment {
  /** The SQL text. */
  readonly sql: string;
  /** The values of its `?` placeholders. */
  readonly values: readonly unknown[];
}

/** Options of {@link keysetChunkQuery}. */
export interface KeysetChunkOptions {
  /** The last key of the previous chunk (exclusive), or null to start at the smallest key (inclusive). */
  readonly after: KeyTuple | null;
  /** Rows per chunk, a positive integer. */
  readonly limit: number;
  /** Columns to read, by name; default every non-generated column. Missing key columns are added at the end. */
  readonly columns?: readonly string[];
  /** `share` adds `LOCK IN SHARE MODE` (MariaDB and MySQL; `FOR SHARE` is MySQL 8 only). Default `none`. */
  readonly lock?: 'share' | 'none';
  /**
   * Rows to pass over, in key order, before the `limit` rows returned (`LIMIT skip, limit`). Only
   * within the keyset window after `after`, so the server steps over at most `skip` index entries:
   * reading one key `skip` rows ahead finds a chunk boundary without sending the keys in between.
   * Default 0.
   */
  readonly skip?: number;
}

/** A chunk read built by {@link keysetChunkQuery}. */
export interface KeysetChunkQuery extends SqlFragment {
  /** The columns of the select list, in order (each read through the codec's read expression). */
  readonly columns: readonly ColumnMetadata[];
  /** Position in the select list of each primary-key column, in key order. */
  readonly keyPositions: readonly number[];
  /** The chunk size asked for: a chunk with fewer rows is the last one. */
  readonly limit: number;
}

/** Types compared as numbers: their key values are inlined as number literals. */
const NUMERIC_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real', 'year']);

/** True for a column compared as a number: a value for it must be a number literal, never a quoted string (compared as DOUBLE). */
export function isNumericColumn(column: ColumnMetadata): boolean {
  return NUMERIC_TYPES.has(column.dataType);
}
const FLOATING_TYPES = new Set(['float', 'double', 'real']);
/** A decimal number as MySQL reads it in a literal (nothing else may be inlined). */
export const NUMBER_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `` `schema`.`table` ``. */
export function qualifiedTableName(table: TableMetadata): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}

/**
 * The primary-key columns of `table`, checked for keyset use.
 *
 * @throws {@link InvalidOptionError} when the table has no primary key or an ENUM/SET key column.
 */
export function primaryKeyColumns(table: TableMetadata): ColumnMetadata[] {
  const where = `table \`${table.schema}\`.\`${table.name}\``;
  if (table.primaryKey.length === 0) throw new InvalidOptionError(where, table.name, 'a table with a primary key (chunks are ranges of it)');
  return table.primaryKey.map((name) => {
    const column = columnNamed(table, name);
    if (column.dataType === 'enum' || column.dataType === 'set') {
      throw new InvalidOptionError(where, name, 'a primary key without ENUM or SET columns (they sort by index but compare as text)');
    }
    return column;
  });
}

function columnNamed(table: TableMetadata, name: string): ColumnMetadata {
  const column = table.columnsByName.get(name.toLowerCase());
  if (column === undefined) throw new InvalidOptionError(`column of \`${table.name}\``, name, `one of ${table.columns.map((c) => c.name).join(', ')}`);
  return column;
}

/**
 * How a key value is written in a comparison with its column so that the comparison is exact
 * (see the module notes).
 *
 * @throws {@link InvalidOptionError} for NULL (key columns are NOT NULL) or a numeric value that is not a number.
 */
export function keyValueSql(column: ColumnMetadata, value: ExactValue): SqlFragment {
  if (value === null) throw new InvalidOptionError(`key value of \`${column.name}\``, value, 'a non-NULL value (primary-key columns are NOT NULL)');
  if (column.dataType === 'bit') {
    const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value, 'latin1');
    return { sql: bytes.length === 0 ? '0' : BigInt('0x' + bytes.toString('hex')).toString(), values: [] };
  }
  if (!NUMERIC_TYPES.has(column.dataType)) return { sql: '?', values: [value] };
  const text = typeof value === 'string' ? value : value.toString('latin1');
  if (!NUMBER_TEXT.test(text)) throw new InvalidOptionError(`key value of \`${column.name}\``, text, `a number (the column is ${column.columnType})`);
  // A literal without exponent is a DECIMAL; give FLOAT/DOUBLE keys a DOUBLE literal so both sides are doubles.
  return { sql: FLOATING_TYPES.has(column.dataType) && !/[eE]/.test(text) ? `${text}e0` : text, values: [] };
}

/**
 * The expanded tuple comparison `key > bound` (`op` `>`), `key >= bound` (`>=`) or `key <= bound` (`<=`)
 * over `columns` in key order, e.g. for `>`: `a >= 1 AND ((a > 1) OR (a = 1 AND b > ?))`.
 *
 * @throws {@link InvalidOptionError} when `bound` does not have one value per column.
 */
export function tupleComparison(columns: readonly ColumnMetadata[], op: '>' | '>=' | '<=', bound: KeyTuple): SqlFragment {
  if (bound.length !== columns.length) {
    throw new InvalidOptionError('key tuple', bound.length, `${columns.length} values, one per primary-key column (${columns.map((c) => c.name).join(', ')})`);
  }
  const values: unknown[] = [];
  const literal = (i: number): string => {
    const fragment = keyValueSql(columns[i] as ColumnMetadata, bound[i] ?? null);
    values.push(...fragment.values);
    return fragment.sql;
  };
  const ref = (i: number): string => quoteIdentifier((columns[i] as ColumnMetadata).name);
  const strict = op === '<=' ? '<' : '>';
  const last = columns.length - 1;
  // The redundant lead bound comes first in the text, so its placeholder values go first.
  const lead = last === 0 ? null : `${ref(0)} ${op === '<=' ? '<=' : '>='} ${literal(0)}`;
  const disjuncts: string[] = [];
  for (let i = 0; i <= last; i++) {
    const terms: string[] = [];
    for (let j = 0; j < i; j++) terms.push(`${ref(j)} = ${literal(j)}`);
    // Only the last column may be equal to the bound, and only for an inclusive comparison.
    terms.push(`${ref(i)} ${i === last && op !== '>' ? op : strict} ${literal(i)}`);
    disjuncts.push(terms.join(' AND '));
  }
  if (lead === null) return { sql: disjuncts[0] as string, values };
  return { sql: `${lead} AND (${disjuncts.map((d) => `(${d})`).join(' OR ')})`, values };
}

/** `ORDER BY a, b` over the primary key. */
export function keyOrderBy(columns: readonly ColumnMetadata[]): string {
  return `ORDER BY ${columns.map((column) => quoteIdentifier(column.name)).join(', ')}`;
}

/**
 * The statement that reads the next `limit` rows of `table` in primary-key order, strictly after
 * `after` (or from the smallest key when `after` is null). Run it with the codec's `queryExact`,
 * then take the next `after` from the last row with {@link keyOfRow}; a chunk with fewer than
 * `limit` rows is the last.
 *
 * @throws {@link InvalidOptionError} for a bad `limit`, an unknown column, a table without a usable primary key, or a bad `after`.
 */
export function keysetChunkQuery(table: TableMetadata, options: KeysetChunkOptions): KeysetChunkQuery {
  const { after, limit } = options;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidOptionError('keysetChunkQuery limit', limit, 'a positive integer number of rows');
  const skip = options.skip ?? 0;
  if (!Number.isSafeInteger(skip) || skip < 0) throw new InvalidOptionError('keysetChunkQuery skip', skip, 'an integer number of rows, 0 or more');
  const keyColumns = primaryKeyColumns(table);
  const columns = options.columns === undefined ? table.columns.filter((column) => column.generated === null) : options.columns.map((name) => columnNamed(table, name));
  for (const key of keyColumns) if (!columns.includes(key)) columns.push(key);
  const where = after === null ? null : tupleComparison(keyColumns, '>', after);
  const sql =
    `SELECT ${columns.map((column) => columnReadExpression(column)).join(', ')} FROM ${qualifiedTableName(table)}` +
    (where === null ? '' : ` WHERE ${where.sql}`) +
    ` ${keyOrderBy(keyColumns)} LIMIT ${skip === 0 ? '' : '?, '}?` +
    (options.lock === 'share' ? ' LOCK IN SHARE MODE' : '');
  return { sql, values: [...(where?.values ?? []), ...(skip === 0 ? [] : [skip]), limit], columns, keyPositions: keyColumns.map((key) => columns.indexOf(key)), limit };
}

/**
 * The primary key of a row read with a {@link KeysetChunkQuery}, ready to be the next `after`
 * (a TIMESTAMP key value becomes UTC text, see the module notes).
 */
export function keyOfRow(query: KeysetChunkQuery, row: ExactRow): KeyTuple {
  return query.keyPositions.map((position) => decodeColumnValue(query.columns[position] as ColumnMetadata, row[position] ?? null));
}
