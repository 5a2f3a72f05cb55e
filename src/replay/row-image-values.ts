/**
 * What an INSERT writes into a unique-key column, as far as it can be known
 * before the statement runs, and the predicate that finds the rows a new row
 * may conflict with on one unique key.
 *
 * A value is usable only when comparing it with the column finds every row the
 * server would see as a duplicate: the comparison may find more (a superset is
 * safe to lock), never fewer.
 *
 * @module
 */
import { quoteIdentifier } from '../migrate/codec.js';
import type { ColumnMetadata, UniqueKey } from '../schema/types.js';
import { NUMBER_TEXT, isNumericColumn } from './row-image-sql.js';
import { questionMarks } from './row-image-text.js';
import type { SqlFragment } from './row-image-types.js';

/**
 * A new row's value for one column:
 * - `sql`: comparable SQL (`binary` when it is a byte string compared with a character column);
 * - `null`: SQL NULL, which never conflicts;
 * - `generated`: an auto-increment ID the server generates (found by ID afterwards);
 * - `unknown`: cannot be compared exactly (an expression, a float, a default that is an expression …).
 */
export type KnownValue =
  | { readonly kind: 'sql'; readonly fragment: SqlFragment; readonly binary: boolean }
  | { readonly kind: 'null' }
  | { readonly kind: 'generated' }
  | { readonly kind: 'unknown' };

const UNKNOWN: KnownValue = { kind: 'unknown' };
const NULL: KnownValue = { kind: 'null' };
const SIMPLE_NAME = /^\w+$/;

/** String types: a number written into them is stored as its text. */
const STRING_TYPES = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'binary', 'varbinary', 'tinyblob', 'blob', 'mediumblob', 'longblob']);

/** Types whose comparison with a literal or a bound value is not exact enough to find duplicates. */
const INEXACT_TYPES = new Set(['float', 'bit', 'json', 'geometry', 'point', 'linestring', 'polygon', 'multipoint', 'multilinestring', 'multipolygon', 'geometrycollection']);

function sql(text: string, values: readonly unknown[] = [], binary = false): KnownValue {
  return { kind: 'sql', fragment: { sql: text, values }, binary };
}

/** NULL written into the column: no conflict when it stays NULL; a NOT NULL column would turn it into something else. */
function nullInto(column: ColumnMetadata): KnownValue {
  return column.nullable ? NULL : UNKNOWN;
}

/** The column's default, as the value of a row that omits the column or writes `DEFAULT`. */
export function knownDefault(column: ColumnMetadata): KnownValue {
  switch (column.default.kind) {
    case 'null':
      return nullInto(column);
    case 'literal':
      return sql(`DEFAULT(${quoteIdentifier(column.name)})`);
    default:
      return UNKNOWN;
  }
}

/** A value bound to a `?` (or read from the SELECT of an INSERT … SELECT). */
export function knownFromValue(column: ColumnMetadata, value: unknown): KnownValue {
  if (value === null || value === undefined) return nullInto(column);
  if (INEXACT_TYPES.has(column.dataType)) return UNKNOWN;
  if (isNumericColumn(column)) {
    // A quoted number is compared as a DOUBLE: write it as a number literal instead.
    if (typeof value === 'number') return Number.isFinite(value) ? sql(String(value)) : UNKNOWN;
    if (typeof value === 'bigint') return sql(value.toString());
    if (typeof value === 'boolean') return sql(value ? '1' : '0');
    if (typeof value === 'string' && NUMBER_TEXT.test(value)) return sql(value);
    return UNKNOWN;
  }
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return sql('?', [value], column.characterSet !== null);
  if (typeof value === 'string' || value instanceof Date) return sql('?', [value]);
  if (STRING_TYPES.has(column.dataType)) {
    // A number stored in a string column becomes its digits; compared as a number it would scan (and lock) every row.
    if (typeof value === 'bigint' || (typeof value === 'number' && Number.isSafeInteger(value))) return sql('?', [String(value)]);
    if (typeof value === 'boolean') return sql('?', [value ? '1' : '0']);
    return UNKNOWN;
  }
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return sql('?', [value]);
  return UNKNOWN; // arrays, sets, raw SQL objects: mysql2 writes them as lists or SQL, not as one value
}

const QUOTED = /^(['"])(.*)\1$/s;
const HEX_LITERAL = /^(?:[xXbB]'|0[xb])/;

/** A literal written in the statement (its text as written). */
export function knownFromLiteral(column: ColumnMetadata, text: string): KnownValue {
  if (questionMarks(text) > 0 || INEXACT_TYPES.has(column.dataType)) return UNKNOWN;
  const upper = text.toUpperCase();
  if (isNumericColumn(column)) {
    const compact = text.replace(/\s+/g, '');
    if (NUMBER_TEXT.test(compact)) return sql(compact);
    if (upper === 'TRUE' || upper === 'FALSE') return sql(upper === 'TRUE' ? '1' : '0');
    const quoted = QUOTED.exec(text);
    const content = quoted?.[2];
    if (content !== undefined && !content.includes('\\') && !content.includes(quoted?.[1] as string) && NUMBER_TEXT.test(content)) return sql(content);
    return UNKNOWN;
  }
  if (STRING_TYPES.has(column.dataType)) {
    const compact = text.replace(/\s+/g, '');
    if (/^[+-]?\d+$/.test(compact)) return sql('?', [BigInt(compact).toString()]);
    if (upper === 'TRUE' || upper === 'FALSE') return sql('?', [upper === 'TRUE' ? '1' : '0']);
    if (NUMBER_TEXT.test(compact)) return UNKNOWN; // a decimal or float's text in a string column depends on its formatting
  }
  const binary = column.characterSet !== null && (HEX_LITERAL.test(text) || upper.startsWith('_BINARY'));
  return sql(text, [], binary);
}

/**
 * The predicate finding the rows that conflict with one new row on `key`, or the reason there is none:
 * `skip` when a part is NULL (no conflict) or generated (found by ID), `unknown` when a part cannot be compared.
 */
export function keyDisjunct(key: UniqueKey, columns: readonly ColumnMetadata[], parts: readonly KnownValue[]): SqlFragment | 'skip' | 'unknown' {
  if (parts.some((part) => part.kind === 'generated' || part.kind === 'null')) return 'skip';
  const terms: string[] = [];
  const values: unknown[] = [];
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as KnownValue;
    const column = columns[i] as ColumnMetadata;
    if (part.kind !== 'sql') return 'unknown';
    let right = part.fragment.sql;
    if (part.binary) {
      // Bytes compared with a character column would compare as bytes, not by the column's collation.
      if (!SIMPLE_NAME.test(column.characterSet ?? '') || !SIMPLE_NAME.test(column.collation ?? '')) return 'unknown';
      right = `CONVERT(${right} USING ${column.characterSet as string}) COLLATE ${column.collation as string}`;
    }
    const left = quoteIdentifier(column.name);
    const prefix = key.prefixLengths[i];
    terms.push(prefix === null || prefix === undefined ? `${left} = ${right}` : `LEFT(${left}, ${prefix}) = LEFT(${right}, ${prefix})`);
    values.push(...part.fragment.values);
  }
  return { sql: terms.length === 1 ? (terms[0] as string) : `(${terms.join(' AND ')})`, values };
}
