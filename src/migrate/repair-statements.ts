/**
 * The statements repair runs on the repaired side, built from exact rows (values bound with `?`, keys written as
 * the server compares them; see ./keyset):
 *
 * - one row: `INSERT INTO t (…) VALUES (…)`, `UPDATE t SET <every column> WHERE <key>`, `DELETE FROM t WHERE <key>`;
 * - several rows: `INSERT INTO t (…) VALUES (…), (…)` for rows absent there, `DELETE FROM t WHERE <keys>` for rows
 *   absent on the authoritative side, and — for rows present on both sides with other values — the **update by
 *   insert** `INSERT INTO t (…) VALUES (…), (…) ON DUPLICATE KEY UPDATE <every column> = VALUES(<column>)`.
 *
 * Why the update by insert is exact: it is sent only for rows whose primary key is present on the repaired side
 * and locked by the repair's transaction, and it assigns every column, the primary key's included. Each row's
 * insert then collides with its own row, which gets every value, exactly as the one-row UPDATE would set them —
 * unless another row holds one of its unique values. In that case the statement fails whichever row the server
 * picks: updating its own row collides on the other unique key, and updating the other row would give it the
 * primary key of its own row, which exists. So it never updates a row other than the one it names; a failure
 * (ER_DUP_ENTRY) rolls the statement back and repair writes the rows one by one, with the collision handling of
 * ./repair-table. It also fires INSERT triggers, so repair uses it only on a table without triggers.
 *
 * `VALUES(col)` in ON DUPLICATE KEY UPDATE works on MariaDB and MySQL (MySQL 8.0.20+ warns that it is deprecated
 * in favour of a row alias, which MariaDB does not parse).
 *
 * @module
 */
import type { TableMetadata } from '../schema/types.js';
import { quoteIdentifier, type ExactRow } from './codec.js';
import { qualifiedTableName, type KeyTuple, type SqlFragment } from './keyset.js';
import type { RepairRows } from './repair-rows.js';

/** Builds the statements that change one table of the repaired side. */
export class RepairStatements {
  readonly #rows: RepairRows;
  readonly #table: string;
  readonly #names: readonly string[];

  /**
   * @param rows - the repaired side's row shape
   * @param table - the repaired side's metadata (its schema qualifies the name)
   */
  constructor(rows: RepairRows, table: TableMetadata) {
    this.#rows = rows;
    this.#table = qualifiedTableName(table);
    this.#names = rows.columns.map((column) => quoteIdentifier(column.name));
  }

  /** `INSERT INTO t (…) VALUES (…), …` of `rows` (at least one). */
  insert(rows: readonly ExactRow[]): SqlFragment {
    const tuple = `(${this.#names.map(() => '?').join(', ')})`;
    return { sql: `INSERT INTO ${this.#table} (${this.#names.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')}`, values: rows.flat() };
  }

  /** The update by insert of `rows` (at least one), each present on the repaired side (see the module notes). */
  updateByInsert(rows: readonly ExactRow[]): SqlFragment {
    const insert = this.insert(rows);
    return { sql: `${insert.sql} ON DUPLICATE KEY UPDATE ${this.#names.map((name) => `${name} = VALUES(${name})`).join(', ')}`, values: insert.values };
  }

  /** `UPDATE t SET <every column> = ? WHERE <key>`. */
  update(row: ExactRow, key: KeyTuple): SqlFragment {
    const where = this.#rows.keyPredicate(key);
    return { sql: `UPDATE ${this.#table} SET ${this.#names.map((name) => `${name} = ?`).join(', ')} WHERE ${where.sql}`, values: [...row, ...where.values] };
  }

  /** `DELETE FROM t WHERE <keys>` of `keys` (at least one). */
  delete(keys: readonly KeyTuple[]): SqlFragment {
    const where = keys.length === 1 ? this.#rows.keyPredicate(keys[0] as KeyTuple) : this.#rows.keysPredicate(keys);
    return { sql: `DELETE FROM ${this.#table} WHERE ${where.sql}`, values: where.values };
  }
}
