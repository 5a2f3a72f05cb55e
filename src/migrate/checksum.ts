/**
 * Server-side chunk checksums in the manner of pt-table-checksum: both sides compute, over the
 * same primary-key range, `COUNT(*)` and an order-independent aggregate of per-row hashes for each
 * of 32 buckets of the rows, so a few numbers cross the network per chunk, not rows; a drill-down
 * ({@link rowHashesQuery}) returns a key and a hash per row, only for the buckets whose checksums differ.
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
 * beyond `max_allowed_packet`). The values are joined with `#`, NULL written as `N`. A number or
 * a date-time prints with digits, signs, `.`, `:`, `-`, `e` and spaces only, so it enters as its text;
 * any other value (strings, bytes) enters as `<byte length>:<bytes>`. Read left to right, the joined
 * text gives back every value, so two different rows cannot hash alike by the way they are joined,
 * and NULL differs from `''`, `0` and `'NULL'`.
 *
 * The chunk aggregate is `BIT_XOR` of the first 64 bits of the row hashes, as pt-table-checksum
 * does with its 64-bit hash: XOR does not depend on row order, rows never cancel out because the
 * primary key is hashed, and a chunk whose rows differ while the counts match shows the same
 * aggregate with probability 2^-64. The hash is named once in the statement, so the server computes
 * it once per row (two slices of it would make the server compute it twice: the derived table is merged).
 *
 * **Buckets.** A chunk's checksum is computed per *bucket*: rows are split into {@link CHECKSUM_BUCKETS}
 * buckets by a hash of their primary key (`CRC32` of the key's text, the same on both sides), and
 * each bucket has its own count and XOR. A missing or extra row changes only its own bucket (unlike
 * a split by row number, which would shift every row after it), so the drill-down reads only the rows
 * of the buckets that differ: a 1,000-row chunk with a few differences sends a few dozen rows, not
 * a thousand. The bucket rows cost the server a `GROUP BY` over at most 32 values.
 *
 * Ranges are written with the keyset helpers, so numeric bounds are exact and the same SQL text
 * runs on both sides. A TIMESTAMP key column needs sessions with `time_zone = '+00:00'` (see keyset).
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { ColumnMetadata, ServerFlavor, TableMetadata } from '../schema/types.js';
import { columnReadExpression, decodeColumnValue, queryExact, type ExactQueryable } from './codec.js';
import { hasRules, normalizedColumn, type NormalizationProfile } from './normalize.js';
import { keyOrderBy, primaryKeyColumns, qualifiedTableName, tupleComparison, type KeyTuple, type SqlFragment } from './keyset.js';

/** A primary-key range: keys `> lowerExclusive` and `<= upperInclusive`; null leaves that end open. */
export interface KeyRange {
  /** Keys strictly after this one, or null from the smallest key. */
  readonly lowerExclusive: KeyTuple | null;
  /** Keys up to and including this one, or null up to the largest key. */
  readonly upperInclusive: KeyTuple | null;
}

/**
 * How one side's rows are hashed: exactly (no profile), or with the columns a normalisation
 * profile covers replaced by their normal forms (see normalize).
 */
export interface HashOptions {
  /** The normalisation rules; none means exact values. */
  readonly profile?: NormalizationProfile;
  /** This side's server flavour (a rule's SQL may depend on it). */
  readonly flavor?: ServerFlavor;
  /**
   * Columns whose exact values also get a digest per chunk (XOR of 64 bits of each value's MD5), to tell which
   * differences disappear only after normalisation. The same list on both sides.
   */
  readonly digestColumns?: readonly string[];
}

/** How many buckets a chunk's checksum is split into (see the module notes). */
export const CHECKSUM_BUCKETS = 32;

/** The checksum of the rows of one bucket of a chunk. */
export interface BucketChecksum {
  /** The bucket, 0 to {@link CHECKSUM_BUCKETS} - 1. */
  readonly bucket: number;
  /** Rows of the chunk in this bucket (at least 1: empty buckets are not listed). */
  readonly rows: number;
  /** 16 hex digits: the XOR of the first 64 bits of the bucket's row hashes. */
  readonly checksum: string;
}

/** The checksum of one chunk on one side. */
export interface ChunkChecksum {
  /** Rows in the range. */
  readonly rows: number;
  /** 16 hex digits: the XOR of the row hashes' first 64 bits (zeros for an empty range). */
  readonly checksum: string;
  /** The non-empty buckets, by bucket number. */
  readonly buckets: readonly BucketChecksum[];
  /** One digest of exact values per entry of {@link HashOptions.digestColumns} (decimal text), when asked for. */
  readonly digests: readonly string[];
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

/** Types whose text uses only digits, signs, `.`, `:`, `-`, `e` and spaces (never `#` or a lone `N`): they enter a row's text as is. */
const PLAIN_TEXT_TYPES = new Set(['tinyint', 'smallint', 'mediumint', 'int', 'integer', 'bigint', 'decimal', 'numeric', 'float', 'double', 'real', 'year', 'date', 'time', 'datetime', 'timestamp']);

/** `<byte length>:<bytes>` of a text or byte value, or `N` for NULL. */
function lengthPrefixed(value: string): string {
  return `COALESCE(CONCAT(LENGTH(${value}), ':', ${value}), 'N')`;
}

/** One column's part of a row's exact text (see the module notes): `N` for NULL, else its text or `<length>:<bytes>`. */
function valueField(column: ColumnMetadata): string {
  const read = columnReadExpression(column);
  if (PLAIN_TEXT_TYPES.has(column.dataType)) return `COALESCE(${read}, 'N')`;
  // Binary strings have the character set `binary` or none; only text is converted.
  const text = column.characterSet !== null && column.characterSet !== 'binary' ? `CONVERT(${read} USING utf8mb4)` : read;
  const bytes = `CAST(${text} AS BINARY)`;
  // A long value enters the row's text as its own hash, so the CONCAT stays short.
  return lengthPrefixed(LONG_TYPES.has(column.dataType) ? `SHA2(${bytes}, 256)` : bytes);
}

/** One column's part of a row's text under `hash`: its normal form when a rule covers it, else its exact text. */
function hashField(column: ColumnMetadata, hash: HashOptions | undefined): string {
  if (!hasRules(hash?.profile)) return valueField(column);
  const normal = normalizedColumn(column, hash.profile, hash.flavor ?? 'mariadb').expression;
  if (normal === null) return valueField(column);
  const bytes = `CAST(${normal} AS BINARY)`;
  return lengthPrefixed(LONG_TYPES.has(column.dataType) ? `SHA2(${bytes}, 256)` : bytes);
}

/** The SQL expression of a row's bucket: `CRC32` of its primary key's text (as in the row hash), modulo {@link CHECKSUM_BUCKETS}. */
export function keyBucketExpression(table: TableMetadata): string {
  return `CRC32(CONCAT_WS(_binary'#', ${primaryKeyColumns(table).map(valueField).join(', ')})) % ${CHECKSUM_BUCKETS}`;
}

/**
 * The SQL expression of a row's hash: 64 hex digits of
 * `SHA2(CONCAT_WS('#', <each column's text, or length:bytes, or N>), 256)`; under a normalisation
 * profile (`hash`), the covered columns enter as their normal forms.
 */
export function rowHashExpression(table: TableMetadata, hash?: HashOptions): string {
  return `SHA2(CONCAT_WS(_binary'#', ${hashedColumns(table).map((column) => hashField(column, hash)).join(', ')}), 256)`;
}

/** The exact-value digest of each of `hash.digestColumns`, as select-list expressions. */
function digestExpressions(table: TableMetadata, hash: HashOptions | undefined): string[] {
  return (hash?.digestColumns ?? []).map((name) => {
    const column = table.columnsByName.get(name.toLowerCase());
    if (column === undefined) throw new InvalidOptionError('checksum digestColumns', name, `a column of \`${table.name}\``);
    // MD5, not CRC32: CRC is linear, so the same change made to an even number of equal-length values cancels out in a XOR.
    return `BIT_XOR(CAST(CONV(LEFT(MD5(${valueField(column)}), 16), 16, 10) AS UNSIGNED))`;
  });
}

/**
 * `WHERE …` for a range, and for the rows of some buckets only when `buckets` is given (empty text
 * for an unbounded range of every bucket).
 */
export function rangeWhere(table: TableMetadata, range: KeyRange, buckets?: readonly number[]): SqlFragment {
  const keyColumns = primaryKeyColumns(table);
  const terms: SqlFragment[] = [];
  if (range.lowerExclusive !== null) terms.push(tupleComparison(keyColumns, '>', range.lowerExclusive));
  if (range.upperInclusive !== null) terms.push(tupleComparison(keyColumns, '<=', range.upperInclusive));
  if (buckets !== undefined) {
    if (buckets.length === 0 || buckets.some((bucket) => !Number.isSafeInteger(bucket) || bucket < 0 || bucket >= CHECKSUM_BUCKETS)) {
      throw new InvalidOptionError('checksum buckets', buckets, `a non-empty list of bucket numbers from 0 to ${CHECKSUM_BUCKETS - 1}`);
    }
    terms.push({ sql: `${keyBucketExpression(table)} IN (${buckets.map(() => '?').join(', ')})`, values: [...buckets] });
  }
  if (terms.length === 0) return { sql: '', values: [] };
  return { sql: `WHERE ${terms.map((term) => `(${term.sql})`).join(' AND ')}`, values: terms.flatMap((term) => term.values) };
}

/**
 * The statement that computes a chunk's checksum: one row per non-empty bucket, with the bucket,
 * its `COUNT(*)` and the XOR of the first 64 bits of its row hashes, as decimal text. Read the rows
 * with {@link parseChunkChecksum} or run it through {@link chunkChecksum}.
 */
export function chunkChecksumQuery(table: TableMetadata, range: KeyRange, hash?: HashOptions): SqlFragment {
  const where = rangeWhere(table, range);
  const digests = digestExpressions(table, hash).map((expression) => `, ${expression}`).join('');
  const sql =
    `SELECT ${keyBucketExpression(table)} AS bucket, COUNT(*), BIT_XOR(CAST(CONV(LEFT(${rowHashExpression(table, hash)}, 16), 16, 10) AS UNSIGNED))${digests} ` +
    `FROM ${qualifiedTableName(table)}${where.sql === '' ? '' : ' ' + where.sql} GROUP BY bucket ORDER BY bucket`;
  return { sql, values: where.values };
}

/**
 * The drill-down statement: the primary key (read exactly) and the row hash of every row in the
 * range (only those of `buckets` when given), in primary-key order, so both sides' lists can be
 * merged in one pass.
 */
export function rowHashesQuery(table: TableMetadata, range: KeyRange, buckets?: readonly number[], hash?: HashOptions): SqlFragment {
  const keyColumns = primaryKeyColumns(table);
  const where = rangeWhere(table, range, buckets);
  const sql =
    `SELECT ${keyColumns.map((column) => columnReadExpression(column)).join(', ')}, ${rowHashExpression(table, hash)} ` +
    `FROM ${qualifiedTableName(table)}${where.sql === '' ? '' : ' ' + where.sql} ${keyOrderBy(keyColumns)}`;
  return { sql, values: where.values };
}

/** Turns the rows of a {@link chunkChecksumQuery} (`[bucket, count, xor, …digests]` as text) into a {@link ChunkChecksum}. */
export function parseChunkChecksum(rows: readonly (readonly unknown[])[], digestCount = 0): ChunkChecksum {
  const text = (value: unknown): string => (Buffer.isBuffer(value) ? value.toString('latin1') : String(value));
  const hex = (value: bigint): string => value.toString(16).padStart(16, '0');
  let total = 0;
  let xor = 0n;
  const digests: bigint[] = Array.from({ length: digestCount }, () => 0n);
  const buckets = rows.map((row) => {
    const count = Number(text(row[1]));
    const bits = BigInt(text(row[2]));
    total += count;
    xor ^= bits;
    for (let i = 0; i < digestCount; i++) digests[i] = (digests[i] as bigint) ^ BigInt(text(row[3 + i]));
    return { bucket: Number(text(row[0])), rows: count, checksum: hex(bits) };
  });
  return { rows: total, checksum: hex(xor), buckets, digests: digests.map(String) };
}

/** The buckets whose rows differ between two checksums of the same range (a bucket on one side only included), in bucket order. */
export function differingBuckets(a: ChunkChecksum, b: ChunkChecksum): number[] {
  const key = (bucket: BucketChecksum): string => `${bucket.rows}:${bucket.checksum}`;
  const of = new Map(a.buckets.map((bucket) => [bucket.bucket, key(bucket)]));
  const differing = new Set<number>();
  for (const bucket of b.buckets) {
    if (of.get(bucket.bucket) !== key(bucket)) differing.add(bucket.bucket);
    of.delete(bucket.bucket);
  }
  for (const bucket of of.keys()) differing.add(bucket);
  return [...differing].sort((x, y) => x - y);
}

/** Runs {@link chunkChecksumQuery} on one side. */
export async function chunkChecksum(runner: ExactQueryable, table: TableMetadata, range: KeyRange, hash?: HashOptions): Promise<ChunkChecksum> {
  const query = chunkChecksumQuery(table, range, hash);
  return parseChunkChecksum(await queryExact(runner, query.sql, query.values), hash?.digestColumns?.length ?? 0);
}

/** Runs {@link rowHashesQuery} on one side. */
export async function rowHashes(runner: ExactQueryable, table: TableMetadata, range: KeyRange, buckets?: readonly number[], hash?: HashOptions): Promise<RowHash[]> {
  const query = rowHashesQuery(table, range, buckets, hash);
  const width = table.primaryKey.length;
  const keyColumns = primaryKeyColumns(table);
  const rows = await queryExact(runner, query.sql, query.values);
  // Keys decoded like keyOfRow's (TIMESTAMP as UTC text), so they can bound a range again.
  return rows.map((row) => ({ key: keyColumns.map((column, i) => decodeColumnValue(column, row[i] ?? null)), hash: String(row[width]) }));
}
