/**
 * Small SQL builders shared by row-image reading and applying: table names,
 * key predicates, and how a key value is written so that the comparison is exact.
 *
 * @module
 */
import { columnReadExpression, quoteIdentifier } from '../migrate/codec.js';
import { keyValueSql } from '../migrate/keyset.js';
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import { ReplayPlanError } from '../errors.js';
import type { KeyTuple, RowImageTable, SqlFragment } from './row-image-types.js';

/** Rows (or keys) per statement when reading or writing in batches. */
export const BATCH_ROWS = 500;

/** `` `schema`.`name` `` or `` `name` ``, as the statement names the table. */
export function tableSql(table: RowImageTable): string {
  return (table.schema === null ? '' : quoteIdentifier(table.schema) + '.') + quoteIdentifier(table.name);
}

/** The column's metadata, or a ReplayPlanError (metadata and statement disagree: a bug or a schema change). */
export function columnOf(metadata: TableMetadata, name: string): ColumnMetadata {
  const column = metadata.columnsByName.get(name.toLowerCase());
  if (column === undefined) throw new ReplayPlanError(`column \`${name}\` is not in the metadata of \`${metadata.name}\``);
  return column;
}

export { NUMBER_TEXT, isNumericColumn, keyValueSql } from '../migrate/keyset.js';

/**
 * `pk IN (…)` for a one-column key, `(a = … AND b = …) OR …` for a composite one
 * (both use the primary key's index on MariaDB and MySQL).
 */
export function keysPredicate(metadata: TableMetadata, primaryKey: readonly string[], keys: readonly KeyTuple[], qualifier = ''): SqlFragment {
  const columns = primaryKey.map((name) => columnOf(metadata, name));
  const ref = (column: ColumnMetadata): string => (qualifier === '' ? '' : qualifier + '.') + quoteIdentifier(column.name);
  const values: unknown[] = [];
  const push = (fragment: SqlFragment): string => {
    values.push(...fragment.values);
    return fragment.sql;
  };
  if (columns.length === 1) {
    const column = columns[0] as ColumnMetadata;
    const list = keys.map((key) => push(keyValueSql(column, key[0] ?? null)));
    return { sql: `${ref(column)} IN (${list.join(', ')})`, values };
  }
  const terms = keys.map((key) => '(' + columns.map((column, i) => `${ref(column)} = ${push(keyValueSql(column, key[i] ?? null))}`).join(' AND ') + ')');
  return { sql: terms.join(' OR '), values };
}

/** The select-list expressions that read the primary key exactly. */
export function keyReadList(metadata: TableMetadata, primaryKey: readonly string[], qualifier?: string): string[] {
  return primaryKey.map((name) => columnReadExpression(columnOf(metadata, name), qualifier));
}

/** A text identity of a key, for sets and maps (bytes as hex, so `'a'` and `Buffer('a')` differ). */
export function keyId(key: KeyTuple): string {
  return JSON.stringify(key.map((value) => (Buffer.isBuffer(value) ? { hex: value.toString('hex') } : value)));
}

/** Splits a list into batches of `size`. */
export function batches<T>(items: readonly T[], size = BATCH_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Keys without duplicates, in first-seen order. */
export function distinctKeys(keys: Iterable<KeyTuple>): KeyTuple[] {
  const seen = new Map<string, KeyTuple>();
  for (const key of keys) {
    const id = keyId(key);
    if (!seen.has(id)) seen.set(id, key);
  }
  return [...seen.values()];
}
