/**
 * Applies a row image on the secondary side: deletes by primary key, then
 * upserts every row with its exact values.
 *
 * @module
 */
import { isTimestampColumn, quoteIdentifier, sizedBatches, withSessionTimeZone } from '../migrate/codec.js';
import { InvalidOptionError, ReplayPlanError } from '../errors.js';
import { BATCH_ROWS, batches, columnOf, keysPredicate, tableSql } from './row-image-sql.js';
import type { RowImage, SqlRunner, TableRowImage } from './row-image-types.js';

/** Options of {@link applyRowImage}. */
export interface ApplyRowImageOptions {
  /**
   * Rows (or deleted keys) per statement.
   * @defaultValue 500
   */
  readonly batchRows?: number;
  /**
   * Approximate bytes of values per upsert statement, kept well under `max_allowed_packet`
   * (a row larger than this is sent alone).
   * @defaultValue 4 MiB
   */
  readonly batchBytes?: number;
}

/** What {@link applyRowImage} sent. */
export interface ApplyRowImageResult {
  /** Keys sent in DELETE statements (rows that no longer exist on the primary side). */
  readonly deletedKeys: number;
  /** Rows sent in upserts. */
  readonly upsertedRows: number;
}

const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Applies `image` on the secondary connection: first deletes the rows whose keys were locked and no
 * longer exist (by primary key, so foreign-key cascades on the secondary side match the primary's), then
 * writes every row with `INSERT INTO t (cols…) VALUES … ON DUPLICATE KEY UPDATE c = VALUES(c), …`
 * (never REPLACE, whose delete-then-insert would fire ON DELETE CASCADE), in batches. Generated
 * (virtual or stored) columns are never written. Tables are named as the statement named them, so the
 * connection must use the same default database as the primary side's.
 *
 * The caller wraps the call in a transaction on the secondary connection. When the image holds TIMESTAMP
 * values, the session's `time_zone` is set to `+00:00` for the duration of the writes and restored after.
 *
 * @throws {@link ReplayPlanError} when the image has a `problem` (it is not a complete replay: record it for repair instead).
 * @throws {@link InvalidOptionError} for a batch size that is not a positive integer.
 * @throws the database error of a statement that fails (the caller rolls back its transaction).
 */
export async function applyRowImage(secondary: SqlRunner, image: RowImage, options: ApplyRowImageOptions = {}): Promise<ApplyRowImageResult> {
  if (image.problem !== null) throw new ReplayPlanError(`applyRowImage() was given an incomplete row image (${image.problem.kind}: ${image.problem.message})`);
  const batchRows = options.batchRows ?? BATCH_ROWS;
  const batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new InvalidOptionError('applyRowImage batchRows', batchRows, 'a positive integer');
  if (!Number.isSafeInteger(batchBytes) || batchBytes < 1) throw new InvalidOptionError('applyRowImage batchBytes', batchBytes, 'a positive integer');
  const work = async (): Promise<ApplyRowImageResult> => {
    let deletedKeys = 0;
    let upsertedRows = 0;
    // Deletes first: a row that moved its unique values to a new row must be gone before the new row arrives.
    for (const table of image.tables) {
      for (const keys of batches(table.deletedKeys, batchRows)) {
        const where = keysPredicate(table.metadata, table.primaryKey, keys);
        await secondary.query({ sql: `DELETE FROM ${tableSql(table.table)} WHERE ${where.sql}`, values: where.values.length === 0 ? undefined : [...where.values] });
        deletedKeys += keys.length;
      }
    }
    for (const table of image.tables) {
      for (const rows of sizedBatches(table.rows, batchRows, batchBytes)) {
        await secondary.query(upsert(table, rows));
        upsertedRows += rows.length;
      }
    }
    return { deletedKeys, upsertedRows };
  };
  const timestamps = image.tables.some((t) => [...t.primaryKey, ...t.columns].some((name) => isTimestampColumn(columnOf(t.metadata, name))));
  // TIMESTAMP values are UTC text (see migrate/codec): write them in a UTC session.
  return timestamps ? withSessionTimeZone(secondary, '+00:00', work) : work();
}

/** One upsert statement for `rows` of `table`. */
function upsert(table: TableRowImage, rows: readonly (readonly unknown[])[]): { sql: string; values: unknown[] } {
  const columns = table.columns.map(quoteIdentifier);
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const sql =
    `INSERT INTO ${tableSql(table.table)} (${columns.join(', ')}) VALUES ${rows.map(() => tuple).join(', ')} ` +
    `ON DUPLICATE KEY UPDATE ${columns.map((c) => `${c} = VALUES(${c})`).join(', ')}`;
  return { sql, values: rows.flat() };
}
