/**
 * Verify checkpoints: how far each table's comparison got, stored in a state table on the target,
 * so a verify that was stopped (or killed) continues after the last chunk it finished instead of
 * starting over. A chunk is finished once every key its drill-down found was rechecked and, if
 * still different, reported: a checkpoint never claims a chunk whose differences were not all
 * handed to the caller. A run that completes removes its job's checkpoints, so the next run with
 * the same job compares everything again; only an interrupted run leaves them behind.
 *
 * @module
 */
import { queryExact, quoteIdentifier, type ExactQueryable, type ExactValue } from './codec.js';
import { decodeKeyTuple, encodeKeyJson } from './key-json.js';
import { createOnce, storedText } from './state-table.js';
import type { KeyTuple } from './keyset.js';
import type { DifferenceKind } from './verify-drill.js';

/** Default name of the verify state table. */
export const DEFAULT_VERIFY_CHECKPOINT_TABLE = 'dualwrite_verify_state';

/** The counts a checkpoint carries over to the run that resumes it. */
export interface VerifyCounts {
  /** Source rows counted by the chunk checksums. */
  readonly rowsChecked: number;
  /** Chunks compared. */
  readonly chunks: number;
  /** Chunks whose checksums differed. */
  readonly chunksDiffered: number;
  /** Rows reported missing on the target. */
  readonly missing: number;
  /** Rows reported extra on the target. */
  readonly extra: number;
  /** Rows reported different. */
  readonly different: number;
}

/** Where one table's verification stands. */
export interface VerifyCheckpoint extends VerifyCounts {
  /** The verify job's name. */
  readonly job: string;
  /** The table's schema (database) on the source. */
  readonly schema: string;
  /** The table's name. */
  readonly table: string;
  /** The upper bound of the last finished chunk (exact values, key column order), or `null` before the first. */
  readonly after: readonly ExactValue[] | null;
  /** True once the table's last chunk was finished. */
  readonly done: boolean;
}

const COUNT_NAMES = ['rowsChecked', 'chunks', 'chunksDiffered', 'missing', 'extra', 'different'] as const;

/**
 * Reads and writes verify checkpoints in the state table (created on first use) through a pool or
 * connection of the target side.
 */
export class VerifyCheckpointStore {
  readonly #runner: ExactQueryable;
  readonly #table: string;
  readonly #ensure: () => Promise<void>;

  /**
   * @param runner - a mysql2/promise pool (or connection) of the target side
   * @param table - the state table, `name` (in the runner's default database) or `db.name`
   */
  constructor(runner: ExactQueryable, table: string = DEFAULT_VERIFY_CHECKPOINT_TABLE) {
    this.#runner = runner;
    this.#table = table.split('.').map(quoteIdentifier).join('.');
    this.#ensure = createOnce(runner, `CREATE TABLE IF NOT EXISTS ${this.#table} (
  job VARCHAR(64) NOT NULL,
  table_schema VARCHAR(64) NOT NULL,
  table_name VARCHAR(64) NOT NULL,
  last_key LONGTEXT NULL COMMENT 'JSON array of the last finished chunk''s upper bound (exact values; {"$hex"} for bytes)',
  done TINYINT(1) NOT NULL DEFAULT 0,
  rows_checked BIGINT UNSIGNED NOT NULL DEFAULT 0,
  chunks BIGINT UNSIGNED NOT NULL DEFAULT 0,
  chunks_differed BIGINT UNSIGNED NOT NULL DEFAULT 0,
  missing BIGINT UNSIGNED NOT NULL DEFAULT 0,
  extra BIGINT UNSIGNED NOT NULL DEFAULT 0,
  different BIGINT UNSIGNED NOT NULL DEFAULT 0,
  updated_at DATETIME(6) NOT NULL,
  PRIMARY KEY (job, table_schema, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='dualwrite: verify checkpoints'`);
  }

  /** The checkpoint of one table of a job, or `null` when there is none. */
  async load(job: string, schema: string, table: string): Promise<VerifyCheckpoint | null> {
    await this.#ensure();
    const rows = await queryExact(
      this.#runner,
      `SELECT last_key, done, rows_checked, chunks, chunks_differed, missing, extra, different FROM ${this.#table} WHERE job = ? AND table_schema = ? AND table_name = ?`,
      [job, schema, table],
    );
    const row = rows[0];
    if (row === undefined) return null;
    const [lastKey, done, ...counts] = row;
    return {
      job,
      schema,
      table,
      after: lastKey === null || lastKey === undefined ? null : decodeKeyTuple(storedText(lastKey)),
      done: storedText(done) === '1',
      ...(Object.fromEntries(COUNT_NAMES.map((name, i) => [name, Number(storedText(counts[i]))])) as Record<(typeof COUNT_NAMES)[number], number>),
    };
  }

  /** Writes a checkpoint (insert or replace the table's row). */
  async save(checkpoint: VerifyCheckpoint): Promise<void> {
    await this.#ensure();
    await this.#runner.query({
      sql:
        `INSERT INTO ${this.#table} (job, table_schema, table_name, last_key, done, rows_checked, chunks, chunks_differed, missing, extra, different, updated_at) ` +
        'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6)) ON DUPLICATE KEY UPDATE last_key = VALUES(last_key), done = VALUES(done), ' +
        'rows_checked = VALUES(rows_checked), chunks = VALUES(chunks), chunks_differed = VALUES(chunks_differed), missing = VALUES(missing), ' +
        'extra = VALUES(extra), different = VALUES(different), updated_at = VALUES(updated_at)',
      values: [
        checkpoint.job,
        checkpoint.schema,
        checkpoint.table,
        checkpoint.after === null ? null : encodeKeyJson(checkpoint.after),
        checkpoint.done ? 1 : 0,
        ...COUNT_NAMES.map((name) => checkpoint[name]),
      ],
    });
  }

  /** Forgets a job's checkpoints, so its next run starts from the first row of every table. */
  async reset(job: string): Promise<void> {
    await this.#ensure();
    await this.#runner.query({ sql: `DELETE FROM ${this.#table} WHERE job = ?`, values: [job] });
  }
}


/** A chunk compared to the end of its drill-down: finished once the rechecker settled every key up to `seqEnd`. */
export interface ChunkMark {
  readonly upper: KeyTuple | null;
  readonly seqEnd: number;
  readonly rowsChecked: number;
  readonly chunks: number;
  readonly chunksDiffered: number;
}

/** Where a table's comparison starts: from scratch, or after a job's checkpoint. */
export interface ResumePoint {
  readonly after: KeyTuple | null;
  readonly counts: VerifyCounts;
}

/** The counts of a table not compared yet. */
export const ZERO_COUNTS: VerifyCounts = { rowsChecked: 0, chunks: 0, chunksDiffered: 0, missing: 0, extra: 0, different: 0 };

/**
 * Saves a table's checkpoints as its chunks finish: a chunk is finished when the rechecker settled
 * every key found up to the end of its drill-down, and the counts saved are those of the differences
 * reported for those keys (differences of later chunks already reported are carried to a later save).
 */
export class TableCheckpointer {
  readonly #marks: ChunkMark[] = [];
  readonly #unsaved: { seq: number; kind: DifferenceKind }[] = [];
  readonly #saved: Record<DifferenceKind, number>;
  #lastSave = Date.now();

  constructor(
    private readonly store: VerifyCheckpointStore,
    private readonly where: { job: string; schema: string; table: string },
    private readonly base: VerifyCounts,
    private readonly everyMs: number,
  ) {
    this.#saved = { missing: base.missing, extra: base.extra, different: base.different };
  }

  /** Notes a reported difference and the key's sequence number. */
  reported(seq: number, kind: DifferenceKind): void {
    this.#unsaved.push({ seq, kind });
  }

  /** Notes a chunk whose drill-down ended. */
  chunkEnded(mark: ChunkMark): void {
    this.#marks.push(mark);
  }

  /** Saves the last finished chunk when `everyMs` passed since the last save (or always with `force`). */
  async maybeSave(settled: number, force = false): Promise<void> {
    if (!force && Date.now() - this.#lastSave < this.everyMs) return;
    let finished: ChunkMark | undefined;
    while (this.#marks.length > 0 && (this.#marks[0] as ChunkMark).seqEnd <= settled) finished = this.#marks.shift();
    if (finished === undefined) return;
    const seqEnd = finished.seqEnd;
    for (let i = this.#unsaved.length - 1; i >= 0; i--) {
      const entry = this.#unsaved[i] as { seq: number; kind: DifferenceKind };
      if (entry.seq > seqEnd) continue;
      this.#saved[entry.kind]++;
      this.#unsaved.splice(i, 1);
    }
    this.#lastSave = Date.now();
    await this.store.save({
      ...this.where,
      after: finished.upper,
      done: finished.upper === null,
      rowsChecked: this.base.rowsChecked + finished.rowsChecked,
      chunks: this.base.chunks + finished.chunks,
      chunksDiffered: this.base.chunksDiffered + finished.chunksDiffered,
      ...this.#saved,
    });
  }
}

/** The counts of a checkpoint. */
export function countsOf(checkpoint: VerifyCounts): VerifyCounts {
  const { rowsChecked, chunks, chunksDiffered, missing, extra, different } = checkpoint;
  return { rowsChecked, chunks, chunksDiffered, missing, extra, different };
}
