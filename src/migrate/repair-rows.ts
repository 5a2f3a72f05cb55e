/**
 * The rows of one repaired table as repair handles them: the columns copied (every non-generated column, in
 * table order), where the primary key sits in a row, key predicates, exact reads of a list of keys, and row
 * comparison. Shared by the batch engine (./repair-table), its statements (./repair-statements) and the
 * repair-loop check (./repair-loops).
 *
 * @module
 */
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import { quoteIdentifier, type ExactQueryable, type ExactRow, type ExactValue } from './codec.js';
import { copyColumns, readExactRows } from './copy.js';
import { encodeKeyJson } from './key-json.js';
import { keyValueSql, primaryKeyColumns, type KeyTuple, type SqlFragment } from './keyset.js';

/** Two exact values are equal: same text, same bytes, or both NULL. */
export function sameValue(a: ExactValue, b: ExactValue): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const bytes = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  return bytes(a).equals(bytes(b));
}

/**
 * The shape of one table's rows for repair: built from the authoritative side's metadata (both sides were checked
 * to have the same copied columns and primary key), used to read and compare either side.
 */
export class RepairRows {
  /** The columns read and written, in row order. */
  readonly columns: readonly ColumnMetadata[];
  /** The primary-key columns, in key order. */
  readonly keyColumns: readonly ColumnMetadata[];
  /** Position of each primary-key column in a row. */
  readonly keyPositions: readonly number[];

  /** @param table - the authoritative side's metadata */
  constructor(table: TableMetadata) {
    this.columns = copyColumns(table);
    this.keyColumns = primaryKeyColumns(table);
    this.keyPositions = this.keyColumns.map((column) => this.position(column.name));
  }

  /** Position in a row of the column `name` (case-insensitive), or -1. */
  position(name: string): number {
    return this.columns.findIndex((column) => column.name.toLowerCase() === name.toLowerCase());
  }

  /** The primary key of a row. */
  keyOf(row: ExactRow): KeyTuple {
    return this.keyPositions.map((position) => row[position] ?? null);
  }

  /** A row as an object column → value (for the audit). */
  image(row: ExactRow): Record<string, ExactValue> {
    return Object.fromEntries(this.columns.map((column, i) => [column.name, row[i] ?? null]));
  }

  /** A key as an object column → value. */
  record(key: KeyTuple): Record<string, ExactValue> {
    return Object.fromEntries(this.keyColumns.map((column, i) => [column.name, key[i] ?? null]));
  }

  /** True when both rows hold the same exact values. */
  sameRow(a: ExactRow, b: ExactRow): boolean {
    return a.length === b.length && a.every((value, i) => sameValue(value, b[i] ?? null));
  }

  /** Names of the columns whose values differ between two rows. */
  differingColumns(a: ExactRow, b: ExactRow): string[] {
    return this.columns.filter((_, i) => !sameValue(a[i] ?? null, b[i] ?? null)).map((column) => column.name);
  }

  /** `(a = … AND b = …)` naming one key (values written as the server compares them, see keyset's notes). */
  keyPredicate(key: KeyTuple): SqlFragment {
    const values: unknown[] = [];
    const terms = this.keyColumns.map((column, i) => {
      const literal = keyValueSql(column, key[i] ?? null);
      values.push(...literal.values);
      return `${quoteIdentifier(column.name)} = ${literal.sql}`;
    });
    return { sql: `(${terms.join(' AND ')})`, values };
  }

  /**
   * A predicate naming every key of `keys` (at least one): `` `id` IN (…) `` for a one-column key (a list of point
   * ranges of the primary key), `(a = … AND b = …) OR …` for a composite key.
   */
  keysPredicate(keys: readonly KeyTuple[]): SqlFragment {
    if (this.keyColumns.length === 1 && keys.length > 1) {
      const column = this.keyColumns[0] as ColumnMetadata;
      const values: unknown[] = [];
      const literals = keys.map((key) => {
        const literal = keyValueSql(column, key[0] ?? null);
        values.push(...literal.values);
        return literal.sql;
      });
      return { sql: `${quoteIdentifier(column.name)} IN (${literals.join(', ')})`, values };
    }
    const predicates = keys.map((key) => this.keyPredicate(key));
    return { sql: predicates.map((p) => p.sql).join(' OR '), values: predicates.flatMap((p) => p.values) };
  }

  /**
   * The rows of `keys` (at least one) on one side, by the exact JSON of the key asked for (null: absent), read with
   * one statement. When a row comes back under a key text other than the one asked for (`'1.5'` for a DECIMAL key
   * stored as `1.50`, or another letter case under a case-insensitive collation), the keys are read one by one so
   * that every row is matched to the key that found it.
   *
   * @param connection - a connection on the side read (inside its transaction when `lock` is set)
   * @param table - that side's metadata (its schema qualifies the name)
   * @param keys - the keys, without duplicates
   * @param lock - add `FOR UPDATE`
   */
  async readByKeys(connection: ExactQueryable, table: TableMetadata, keys: readonly KeyTuple[], lock: boolean): Promise<Map<string, ExactRow | null>> {
    const tail = lock ? ' FOR UPDATE' : '';
    const byKey = new Map<string, ExactRow | null>(keys.map((key) => [encodeKeyJson(key), null]));
    if (keys.length === 0) return byKey;
    const where = this.keysPredicate(keys);
    const read = await readExactRows(connection, table, `WHERE ${where.sql}${tail}`, where.values);
    let matched = 0;
    for (const row of read.rows) {
      const id = encodeKeyJson(this.keyOf(row));
      if (byKey.has(id)) {
        byKey.set(id, row);
        matched++;
      }
    }
    if (matched === read.rows.length) return byKey;
    for (const key of keys) {
      const predicate = this.keyPredicate(key);
      const one = await readExactRows(connection, table, `WHERE ${predicate.sql}${tail}`, predicate.values);
      byKey.set(encodeKeyJson(key), one.rows[0] ?? null);
    }
    return byKey;
  }
}
