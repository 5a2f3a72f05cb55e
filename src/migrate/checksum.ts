/**
 * Server-side chunk checksums in the manner of pt-table-checksum: both sides compute, over the
 * same primary-key range, `COUNT(*)` and an order-independent aggregate of per-row hashes, so
 * only two numbers cross the network per chunk; a drill-down ({@link rowHashesQuery}) returns a
 * key and a hash per row, only for chunks whose checksums differ.
 *
 * The row hash is `SHA2(…, 256)` over every non-generated column in table order. Each value
 * is turned into bytes that are the same for the same stored value on both sides, whatever the
 * sessions' settings:
 * - TIMESTAMP as `UNIX_TIMESTAMP(col)` (the instant, not text in the session's `time_zone`);
 * - FLOAT and DOUBLE(M,D) as `col + 0e0` (their own text is rounded; the codec reads them alike);
 * - character columns converted to utf8mb4 (same characters, same bytes across charsets);
 * - everything else as the bytes of its text (numbers, DECIMAL, dates) or its stored bytes
 *   (binary strings, BLOB, BIT, GEOMETRY), JSON as its text (MySQL prints its binary JSON
 *   canonically; MariaDB keeps the text as stored).
 * MEDIUM/LONG TEXT and BLOB and JSON values enter as their own SHA-256 (CONCAT returns NULL
 * beyond `max_allowed_packet`). Each value is written as `<byte length>:<bytes>` and NULL as `N`, so no separator inside a
 * value can make two different rows hash alike, and NULL differs from `''`, `0` and `'NULL'`.
 *
 * The chunk aggregate is `BIT_XOR` of two 64-bit halves of the row hashes (128 bits in all):
 * XOR does not depend on row order, and rows never cancel out because the primary key is hashed.
 *
 * Ranges are written with the keyset helpers, so numeric bounds are exact and the same SQL text
 * runs on both sides. A TIMESTAMP key column needs sessions with `time_zone = '+00:00'` (see keyset).
 *
 * @module
 */
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import { columnReadExpression, decodeColumnValue, queryExact, type ExactQueryable } from './codec.js';
import { keyOrderBy, primaryKeyColumns, qualifiedTableName, tupleComparison, type KeyTuple, type SqlFragment } from './keyset.js';

/** A primary-key range: keys `> lowerExclusive` and `<= upperInclusive`; null leaves that end open. */
export interface KeyRange {
  /** Keys strictly after this one, or null from the smallest key. */
  readonly lowerExclusive: KeyTuple | null;
  /** Keys up to and including this one, or null up to the largest key. */
  readonly upperInclusive: KeyTuple | null;
}

/** The checksum of one chunk on one side. */
export interface ChunkChecksum {
  /** Rows in the range. */
  readonly rows: number;
  /** 32 hex digits: the XOR of the row hashes' first 128 bits (zeros for an empty range). */
  readonly checksum: string;
}

/** One row of a drill-down: its primary key and its hash. */
export interface RowHash {
  /** The primary key, in key order, as keyset's `keyOfRow` gives it (TIMESTAMP keys as UTC text). */
  readonly key: KeyTuple;
  /** 64 hex digits: the row's SHA-256. */
  readonly hash: string;
}

/** The columns a row hash covers: every column except generated ones (computed from the others). */
export function hashedColumns(table: TableMetadata): ColumnMetadata[] {
  return table.columns.filter((column) => column.generated === null);
}

/** Types whose values may be longer than `max_allowed_packet`, the most CONCAT may return (it returns NULL beyond). */
const LONG_TYPES = new Set(['mediumblob', 'longblob', 'mediumtext', 'longtext', 'json']);

/** The bytes of one column's value, as hashed (see the module notes). */
function valueBytes(column: ColumnMetadata): string {
  const read = columnReadExpression(column);
  // Binary strings have the character set `binary` or none; only text is converted.
  const text = column.characterSet !== null && column.characterSet !== 'binary' ? `CONVERT(${read} USING utf8mb4)` : read;
  const bytes = `CAST(${text} AS BINARY)`;
  // A long value enters the row's text as its own hash, so the CONCAT stays short.
  return LONG_TYPES.has(column.dataType) ? `SHA2(${bytes}, 256)` : bytes;
}

/**
 * The SQL expression of a row's hash: 64 hex digits of
 * `SHA2(CONCAT(<length>:<bytes> or N for each column>), 256)`.
 */
export function rowHashExpression(table: TableMetadata): string {
  const parts = hashedColumns(table).map((column) => {
    const bytes = valueBytes(column);
    return `COALESCE(CONCAT(LENGTH(${bytes}), ':', ${bytes}), 'N')`;
  });
  return `SHA2(CONCAT(${parts.join(', ')}), 256)`;
}

/** `WHERE …` for a range (empty text for an unbounded one). */
export function rangeWhere(table: TableMetadata, range: KeyRange): SqlFragment {
  const keyColumns = primaryKeyColumns(table);
  const terms: SqlFragment[] = [];
  if (range.lowerExclusive !== null) terms.push(tupleComparison(keyColumns, '>', range.lowerExclusive));
  if (range.upperInclusive !== null) terms.push(tupleComparison(keyColumns, '<=', range.upperInclusive));
  if (terms.length === 0) return { sql: '', values: [] };
  return { sql: `WHERE ${terms.map((term) => `(${term.sql})`).join(' AND ')}`, values: terms.flatMap((term) => term.values) };
}

/**
 * The statement that computes a chunk's checksum: one row of `COUNT(*)` and the two 64-bit
 * halves of the XOR of the row hashes, as decimal text. Read it with {@link parseChunkChecksum}
 * or run it through {@link chunkChecksum}.
 */
export function chunkChecksumQuery(table: TableMetadata, range: KeyRange): SqlFragment {
  const where = rangeWhere(table, range);
  const half = (from: number): string => `BIT_XOR(CAST(CONV(SUBSTRING(h, ${from}, 16), 16, 10) AS UNSIGNED))`;
  // The derived table names the hash once; the optimizer may still evaluate it per reference.
  const sql =
    `SELECT COUNT(*), COALESCE(${half(1)}, 0), COALESCE(${half(17)}, 0) ` +
    `FROM (SELECT ${rowHashExpression(table)} AS h FROM ${qualifiedTableName(table)}${where.sql === '' ? '' : ' ' + where.sql}) AS chunk_rows`;
  return { sql, values: where.values };
}

/**
 * The drill-down statement: the primary key (read exactly) and the row hash of every row in the
 * range, in primary-key order, so both sides' lists can be merged in one pass.
 */
export function rowHashesQuery(table: TableMetadata, range: KeyRange): SqlFragment {
  const keyColumns = primaryKeyColumns(table);
  const where = rangeWhere(table, range);
  const sql =
    `SELECT ${keyColumns.map((column) => columnReadExpression(column)).join(', ')}, ${rowHashExpression(table)} ` +
    `FROM ${qualifiedTableName(table)}${where.sql === '' ? '' : ' ' + where.sql} ${keyOrderBy(keyColumns)}`;
  return { sql, values: where.values };
}

/** Turns the row of a {@link chunkChecksumQuery} (`[count, half1, half2]` as text) into a {@link ChunkChecksum}. */
export function parseChunkChecksum(row: readonly unknown[]): ChunkChecksum {
  const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));
  const hex = (value: unknown): string => BigInt(text(value)).toString(16).padStart(16, '0');
  return { rows: Number(text(row[0])), checksum: hex(row[1]) + hex(row[2]) };
}

/** Runs {@link chunkChecksumQuery} on one side. */
export async function chunkChecksum(runner: ExactQueryable, table: TableMetadata, range: KeyRange): Promise<ChunkChecksum> {
  const query = chunkChecksumQuery(table, range);
  const [row] = await queryExact(runner, query.sql, query.values);
  return parseChunkChecksum(row ?? ['0', '0', '0']);
}

/** Runs {@link rowHashesQuery} on one side. */
export async function rowHashes(runner: ExactQueryable, table: TableMetadata, range: KeyRange): Promise<RowHash[]> {
  const query = rowHashesQuery(table, range);
  const width = table.primaryKey.length;
  const keyColumns = primaryKeyColumns(table);
  const rows = await queryExact(runner, query.sql, query.values);
  // Keys decoded like keyOfRow's (TIMESTAMP as UTC text), so they can bound a range again.
  return rows.map((row) => ({ key: keyColumns.map((column, i) => decodeColumnValue(column, row[i] ?? null)), hash: String(row[width]) }));
}
