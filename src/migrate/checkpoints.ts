/**
 * Backfill checkpoints: where each table's copy got to, stored in a state table on the target, so a backfill
 * that was stopped (or killed) resumes after the last chunk it committed instead of starting over.
 *
 * @module
 */
import { queryExact, quoteIdentifier, type ExactQueryable, type ExactValue } from './codec.js';
import { decodeKeyTuple, encodeKeyJson } from './key-json.js';
import { createOnce, storedText } from './state-table.js';

/** Default name of the state table. */
export const DEFAULT_CHECKPOINT_TABLE = 'dualwrite_backfill_state';

/** Where one table's backfill stands. */
export interface Checkpoint {
  /** The backfill job's name (several jobs may copy the same tables independently). */
  readonly job: string;
  /** The table's schema (database) on the source. */
  readonly schema: string;
  /** The table's name on the source. */
  readonly table: string;
  /** The primary key of the last row copied (exact values, key column order), or `null` before the first chunk. */
  readonly after: readonly ExactValue[] | null;
  /** Rows read from the source so far. */
  readonly rowsCopied: number;
  /** True once the last chunk was copied. */
  readonly done: boolean;
}

/** Options of {@link CheckpointStore}. */
export interface CheckpointStoreOptions {
  /**
   * The state table, `name` or `db.name`; created on first use.
   * @defaultValue {@link DEFAULT_CHECKPOINT_TABLE}
   */
  readonly table?: string;
}

/**
 * Reads and writes checkpoints in the state table. Give it a connection or pool of the target side (the state
 * lives where the copy lands, so a checkpoint never claims rows the target does not have: save it in the
 * transaction that writes the chunk's rows, or after that transaction committed).
 */
export class CheckpointStore {
  readonly #runner: ExactQueryable;
  readonly #table: string;
  readonly #ensure: () => Promise<void>;

  /**
   * @param runner - a mysql2/promise connection or pool of the target side
   * @param options - see {@link CheckpointStoreOptions}
   */
  constructor(runner: ExactQueryable, options: CheckpointStoreOptions = {}) {
    this.#runner = runner;
    this.#table = (options.table ?? DEFAULT_CHECKPOINT_TABLE).split('.').map(quoteIdentifier).join('.');
    this.#ensure = createOnce(runner, `CREATE TABLE IF NOT EXISTS ${this.#table} (
  job VARCHAR(64) NOT NULL,
  table_schema VARCHAR(64) NOT NULL,
  table_name VARCHAR(64) NOT NULL,
  last_key LONGTEXT NULL COMMENT 'JSON array of the last copied primary key (exact values; {"$hex"} for bytes)',
  rows_copied BIGINT UNSIGNED NOT NULL DEFAULT 0,
  done TINYINT(1) NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (job, table_schema, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='dualwrite: backfill checkpoints'`);
  }

  /** The checkpoint of one table of a job, or `null` when that table was never started. */
  async load(job: string, schema: string, table: string): Promise<Checkpoint | null> {
    const rows = await this.#select('WHERE job = ? AND table_schema = ? AND table_name = ?', [job, schema, table]);
    return rows[0] ?? null;
  }

  /** Every checkpoint of a job, by schema and table. */
  async list(job: string): Promise<Checkpoint[]> {
    return this.#select('WHERE job = ? ORDER BY table_schema, table_name', [job]);
  }

  /**
   * Writes a checkpoint (insert or replace the table's row).
   *
   * @param checkpoint - the checkpoint
   * @param runner - a connection of the target side to write it on instead of the store's own runner, e.g. the
   *   connection whose open transaction wrote the rows the checkpoint names, so that both commit together (or
   *   neither does). The state table is created, if missing, on the store's runner beforehand.
   */
  async save(checkpoint: Checkpoint, runner: ExactQueryable = this.#runner): Promise<void> {
    await this.#ensure();
    await runner.query({
      sql:
        `INSERT INTO ${this.#table} (job, table_schema, table_name, last_key, rows_copied, done, updated_at) ` +
        'VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6)) ' +
        'ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), rows_copied = VALUES(rows_copied), done = VALUES(done), updated_at = VALUES(updated_at)',
      values: [
        checkpoint.job,
        checkpoint.schema,
        checkpoint.table,
        checkpoint.after === null ? null : encodeKeyJson(checkpoint.after),
        checkpoint.rowsCopied,
        checkpoint.done ? 1 : 0,
      ],
    });
  }

  /** Forgets a job's checkpoints (all its tables, or one), so the next run starts from the first row. */
  async reset(job: string, schema?: string, table?: string): Promise<void> {
    await this.#ensure();
    const where = schema === undefined ? 'job = ?' : table === undefined ? 'job = ? AND table_schema = ?' : 'job = ? AND table_schema = ? AND table_name = ?';
    await this.#runner.query({ sql: `DELETE FROM ${this.#table} WHERE ${where}`, values: [job, schema, table].filter((v) => v !== undefined) });
  }

  async #select(where: string, values: unknown[]): Promise<Checkpoint[]> {
    await this.#ensure();
    const rows = await queryExact(this.#runner, `SELECT job, table_schema, table_name, last_key, rows_copied, done FROM ${this.#table} ${where}`, values);
    return rows.map(([job, schema, table, lastKey, rowsCopied, done]) => ({
      job: storedText(job),
      schema: storedText(schema),
      table: storedText(table),
      after: lastKey === null || lastKey === undefined ? null : decodeKeyTuple(storedText(lastKey)),
      rowsCopied: Number(storedText(rowsCopied)),
      done: storedText(done) === '1',
    }));
  }
}
