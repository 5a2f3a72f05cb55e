/**
 * The lossless value codec: reads column values exactly as the server stores
 * them and writes them back unchanged, whatever the client's conversion
 * options (mysql2's defaults turn DOUBLE, DECIMAL, BIGINT, DATETIME(6) and JSON
 * into lossy JavaScript values).
 *
 * Reading: every value arrives as the raw bytes of the text protocol
 * ({@link exactTypeCast}) and {@link decodeExactRows} turns them into an
 * {@link ExactValue} using the result's field descriptions, never parsing a
 * number or a date:
 * - numbers, DECIMAL, dates, times, YEAR: the server's text (`'0.1'`, `'2024-02-29 12:00:00.000001'`);
 * - JSON (MySQL's binary JSON type): its UTF-8 text;
 * - character strings, ENUM, SET: JavaScript strings;
 * - binary strings, BLOB, BIT, GEOMETRY, VECTOR: `Buffer`s of the stored bytes;
 * - NULL: `null`.
 *
 * Some columns need a read expression ({@link columnReadExpression}) to be exact:
 * - TIMESTAMP is printed in the reading session's `time_zone`, which is ambiguous in a DST
 *   fold and differs between connections. It is read as `UNIX_TIMESTAMP(col)` (the stored
 *   instant, independent of the session) and turned into UTC text by {@link decodeColumnValue};
 *   it must be written in a session whose `time_zone` is `+00:00` ({@link withSessionTimeZone}).
 *   Limits: the zero TIMESTAMP `0000-00-00 00:00:00` is kept as that text and needs a
 *   `sql_mode` without NO_ZERO_DATE on the writing side, like any zero date.
 * - FLOAT (and DOUBLE(M,D)) is printed with too few digits to round-trip; `col + 0e0` prints the
 *   stored value as a DOUBLE, which does. The sign of a negative zero is not kept.
 *
 * Writing: bind the values with `?` placeholders through mysql2 `query()`: strings are
 * escaped as strings, `Buffer`s as `X'…'`, `null` as NULL, and the server converts the text
 * of a number or date into the column's type exactly. Character strings travel in the
 * connection's character set, so both connections must use `utf8mb4` (mysql2's default);
 * a result in another character set is refused rather than decoded approximately.
 *
 * @module
 */
import { DualWriteError, ReplayPlanError } from '../errors.js';
import type { ColumnMetadata } from '../schema/types.js';

/** A column value read exactly: the server's text, a string, the stored bytes, or `null` for SQL NULL. */
export type ExactValue = string | Buffer | null;

/** A row of {@link ExactValue}s, in select-list order. */
export type ExactRow = readonly ExactValue[];

/**
 * What the codec needs from a client: a mysql2/promise `Connection` or `PoolConnection` fits
 * (structural type, so this module never loads mysql2).
 */
export interface ExactQueryable {
  /** Runs a statement; resolves to `[rows, fields]` (mysql2's shape). */
  query(options: { sql: string; values?: unknown; typeCast?: unknown; rowsAsArray?: boolean }): Promise<[unknown, unknown]>;
}

/** The part of a mysql2 typeCast field the codec uses. */
export interface CastField {
  /** The field's raw bytes, or null for SQL NULL. */
  buffer(): Buffer | null;
}

/**
 * A mysql2 `typeCast` that returns every value as the raw bytes of the text protocol
 * (`null` for NULL): nothing is parsed, so nothing is rounded or shifted. Decode the
 * rows with {@link decodeExactRows}.
 */
export function exactTypeCast(field: CastField): Buffer | null {
  return field.buffer();
}

/** The field description mysql2 returns beside the rows (`FieldPacket`), as far as the codec reads it. */
interface ResultField {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly columnType?: unknown;
  readonly characterSet?: unknown;
  readonly encoding?: unknown;
}

/** Protocol types whose text is ASCII digits, signs, points, dashes and colons. */
const TEXT_TYPES = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 17, 18, 19, 246]);
const JSON_TYPE = 245;
const BINARY_CHARSET = 63;
const UTF8_ENCODINGS = new Set(['utf8', 'utf-8', 'cesu8']);

/**
 * Turns rows read with {@link exactTypeCast} and `rowsAsArray: true` into {@link ExactRow}s,
 * using the field descriptions of the result (`[rows, fields]`).
 *
 * @throws {@link ReplayPlanError} when the result is not a list of array rows, or when a
 * character string arrives in a character set other than UTF-8 (the connection's `charset`
 * is not utf8mb4), which could not be written back exactly.
 */
export function decodeExactRows(result: readonly [unknown, unknown]): ExactRow[] {
  const [rows, fields] = result;
  if (!Array.isArray(rows)) throw new ReplayPlanError('a row read returned no row list');
  const described: readonly ResultField[] = Array.isArray(fields) ? (fields as ResultField[]) : [];
  return rows.map((row: unknown) => {
    if (!Array.isArray(row)) throw new ReplayPlanError('a row read did not return array rows (rowsAsArray was not honoured)');
    return row.map((value: unknown, index) => decodeValue(value, described[index]));
  });
}

function decodeValue(value: unknown, field: ResultField | undefined): ExactValue {
  if (value === null || value === undefined) return null;
  if (!Buffer.isBuffer(value)) {
    // A client that ignored the typeCast: only text is safe to accept as it is.
    if (typeof value === 'string') return value;
    throw new ReplayPlanError(`a row read returned a ${typeof value} instead of raw bytes (the typeCast option was not honoured)`);
  }
  const type = typeof field?.columnType === 'number' ? field.columnType : typeof field?.type === 'number' ? field.type : -1;
  if (TEXT_TYPES.has(type)) return value.toString('latin1');
  if (type === JSON_TYPE) return value.toString('utf8');
  if (field?.characterSet === BINARY_CHARSET) return value;
  const encoding = typeof field?.encoding === 'string' ? field.encoding.toLowerCase() : undefined;
  // mysql2 has no name for MariaDB's newer collation ids; those are all Unicode collations.
  if (encoding === undefined || UTF8_ENCODINGS.has(encoding)) return value.toString('utf8');
  throw new ReplayPlanError(
    `column ${String(field?.name)} arrived in the character set "${encoding}": row values are read and written exactly only ` +
      'over utf8mb4 connections (mysql2\'s default charset); remove the charset option of the pool',
  );
}

/**
 * Runs a read and returns its rows as {@link ExactRow}s.
 *
 * @param runner - the connection
 * @param sql - the statement, with `?` placeholders
 * @param values - bound values; an empty list sends the text as it is (no `?` substitution)
 */
export async function queryExact(runner: ExactQueryable, sql: string, values: readonly unknown[] = []): Promise<ExactRow[]> {
  const result = await runner.query({ sql, values: values.length === 0 ? undefined : [...values], typeCast: exactTypeCast, rowsAsArray: true });
  return decodeExactRows(result);
}

/** Quotes an identifier with backticks (a backtick inside is doubled). */
export function quoteIdentifier(name: string): string {
  return '`' + name.replaceAll('`', '``') + '`';
}

/** True for a TIMESTAMP column, whose text depends on the session's time zone. */
export function isTimestampColumn(column: ColumnMetadata): boolean {
  return column.dataType === 'timestamp';
}

/** True when the column's plain text does not round-trip (FLOAT, or a DOUBLE/REAL printed with a fixed scale). */
function printsInexactly(column: ColumnMetadata): boolean {
  if (column.dataType === 'float') return true;
  return (column.dataType === 'double' || column.dataType === 'real') && column.columnType.includes(',');
}

/**
 * The select-list expression that reads `column` exactly (see the module notes):
 * `UNIX_TIMESTAMP(col)` for TIMESTAMP, `(col + 0e0)` for FLOAT, the column itself otherwise.
 *
 * @param column - the column
 * @param qualifier - already-quoted table qualifier (`` `t` `` or `` `db`.`t` ``), or omitted
 */
export function columnReadExpression(column: ColumnMetadata, qualifier?: string): string {
  const ref = (qualifier === undefined ? '' : qualifier + '.') + quoteIdentifier(column.name);
  if (isTimestampColumn(column)) return `UNIX_TIMESTAMP(${ref})`;
  if (printsInexactly(column)) return `(${ref} + 0e0)`;
  return ref;
}

/**
 * Finishes a value read with {@link columnReadExpression}: a TIMESTAMP's Unix time becomes
 * UTC text (`2023-11-14 22:13:20.123456`), to be written under `time_zone = '+00:00'`;
 * other values are returned as they are.
 */
export function decodeColumnValue(column: ColumnMetadata, value: ExactValue): ExactValue {
  if (value === null || !isTimestampColumn(column)) return value;
  return unixTimeToUtcText(typeof value === 'string' ? value : value.toString('latin1'));
}

const UNIX_TIME = /^(\d+)(?:\.(\d+))?$/;

/**
 * Turns the text of `UNIX_TIMESTAMP(col)` into the UTC date-time text of the same instant,
 * keeping the fractional digits as given. `0` (the zero TIMESTAMP, since 1970-01-01 00:00:00 UTC
 * cannot be stored) becomes `0000-00-00 00:00:00`.
 *
 * @throws {@link ReplayPlanError} when the text is not a non-negative decimal number.
 */
export function unixTimeToUtcText(text: string): string {
  const match = UNIX_TIME.exec(text);
  if (match === null) throw new ReplayPlanError(`UNIX_TIMESTAMP() returned ${JSON.stringify(text.slice(0, 40))}, not a Unix time`);
  const seconds = BigInt(match[1] as string);
  const fraction = match[2] === undefined ? '' : `.${match[2]}`;
  if (seconds === 0n) return `0000-00-00 00:00:00${fraction}`;
  // Whole seconds are exact in a Date (TIMESTAMP ends in 2106 at the latest); the fraction is kept as text.
  const iso = new Date(Number(seconds) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction}`;
}

/**
 * Runs `work` with the session's `time_zone` set to `zone`, then restores the previous value
 * (also when `work` fails; an error of the restore then does not hide the error of `work`).
 * Sends nothing when the session already uses `zone`.
 */
export async function withSessionTimeZone<T>(runner: ExactQueryable, zone: string, work: () => Promise<T>): Promise<T> {
  const [row] = await queryExact(runner, 'SELECT @@session.time_zone');
  const previous = row?.[0];
  if (typeof previous !== 'string') throw new ReplayPlanError('SELECT @@session.time_zone returned no text');
  if (previous === zone) return work();
  await runner.query({ sql: 'SET time_zone = ?', values: [zone] });
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await runner.query({ sql: 'SET time_zone = ?', values: [previous] }).catch(() => undefined);
    throw error;
  }
  await runner.query({ sql: 'SET time_zone = ?', values: [previous] });
  return result;
}

/**
 * Approximate bytes `value` takes in a statement's text when bound with `?` (a `Buffer` is sent as
 * `X'…'` hex, a string may double in size through its escapes): an upper bound, for batching.
 */
export function exactValueSize(value: ExactValue): number {
  if (value === null) return 4;
  return Buffer.isBuffer(value) ? value.length * 2 + 3 : Buffer.byteLength(value) * 2 + 2;
}

/**
 * Splits `rows` into batches of at most `maxRows` rows and about `maxBytes` bytes of values
 * ({@link exactValueSize}), so that a multi-row statement stays well under `max_allowed_packet`.
 * A row larger than `maxBytes` is sent alone. Shared by row-image replay and backfill.
 */
export function sizedBatches<R extends readonly ExactValue[]>(rows: readonly R[], maxRows: number, maxBytes: number): R[][] {
  const out: R[][] = [];
  let current: R[] = [];
  let bytes = 0;
  for (const row of rows) {
    const size = row.reduce<number>((sum, value) => sum + exactValueSize(value), 0);
    if (current.length > 0 && (current.length >= maxRows || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(row);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Runs `work` with a session variable set to `value` (written inline: boolean variables take 0/1 as numbers, not
 * quoted strings), then restores its previous value.
 *
 * @throws {@link DualWriteError} `ER_DUALWRITE_SESSION_VARIABLE` before changing anything when the previous value is
 *   not a plain word or number, which could not be written back safely
 */
export async function withSessionVariable<T>(runner: ExactQueryable, name: string, value: string, work: () => Promise<T>): Promise<T> {
  const [row] = await queryExact(runner, `SELECT @@session.${name}`);
  const found = row?.[0];
  const previous = found === null || found === undefined ? '' : found.toString();
  if (previous === value) return work();
  if (!/^\w+$/.test(previous)) {
    throw new DualWriteError(
      'ER_DUALWRITE_SESSION_VARIABLE',
      `@@session.${name} is ${JSON.stringify(previous)}, which dualwrite could not restore after setting it to ${value} for its own statements, ` +
        `so nothing was changed. Give the connections a plain value for ${name} (e.g. in the pool's connection settings) and run again.`,
    );
  }
  await runner.query({ sql: `SET SESSION ${name} = ${value}` });
  try {
    return await work();
  } finally {
    await runner.query({ sql: `SET SESSION ${name} = ${previous}` }).catch(() => undefined);
  }
}
