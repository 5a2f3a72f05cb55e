/**
 * One chunk of backfill: read on the source under shared locks (its transaction stays open), then written
 * on the target in one transaction that also saves the checkpoint, then the source transaction ends. The
 * order, and why it keeps a concurrent dual-write from being overwritten, is in the notes of
 * `./backfill.ts`.
 *
 * The read asks the source server to render every row as an SQL tuple (`./row-literals.ts`), so the rows
 * cross Node.js as one string each, never parsed or escaped value by value. A table with a column type
 * that has no rendering, and a chunk holding a row too large to render within the source's
 * `max_allowed_packet`, are read and written through the codec instead (`readExactRows`' rules and
 * `insertIgnoreRows`), exactly as before.
 *
 * @module
 */
import { ReplayPlanError } from '../errors.js';
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import type { Checkpoint, CheckpointStore } from './checkpoints.js';
import { columnReadExpression, decodeColumnValue, decodeExactRows, queryExact, quoteIdentifier, type ExactQueryable, type ExactRow } from './codec.js';
import { copyColumns, insertIgnoreRows } from './copy.js';
import { keyOrderBy, keysetChunkQuery, primaryKeyColumns, qualifiedTableName, tupleComparison, type KeyTuple } from './keyset.js';
import { insertIgnoreLiterals, rowLiteralExpression } from './row-literals.js';

/** Bytes of values per INSERT: about what `mariadb-dump` sends in one extended INSERT. */
const BATCH_BYTES = 1024 * 1024;
/** Rows per INSERT of the codec path (its byte estimate counts every string twice). */
const CODEC_BATCH_ROWS = 5000;
/** How often a chunk's INSERTs are tried when InnoDB picks them as a deadlock's victim. */
const DEADLOCK_ATTEMPTS = 3;
const ER_LOCK_DEADLOCK = 1213;

/** The part of a mysql2 typeCast field read here. */
interface CastField {
  readonly name?: unknown;
  buffer(): Buffer | null;
}

/** The part of a mysql2 field description read here. */
interface ResultField {
  readonly name?: unknown;
  readonly encoding?: unknown;
}

/** The encodings in which mysql2 decodes a utf8mb4 (or utf8mb3) result, as the codec accepts them. */
const UTF8_ENCODINGS = new Set(['utf8', 'utf-8', 'cesu8']);

/** Refuses a tuple column that arrived in another character set than UTF-8 (the connection is not utf8mb4), as the codec does. */
function checkTupleEncoding(field: ResultField | undefined): void {
  const encoding = typeof field?.encoding === 'string' ? field.encoding.toLowerCase() : undefined;
  if (encoding !== undefined && !UTF8_ENCODINGS.has(encoding)) {
    throw new ReplayPlanError(
      `the rows of a chunk arrived in the character set "${encoding}": row values are read and written exactly only over utf8mb4 ` +
        "connections (mysql2's default charset); remove the charset option of the pool",
    );
  }
}

/** A chunk read on the source: its transaction is open and holds the shared locks until {@link ChunkCopier.commit} or {@link ChunkCopier.discard}. */
export interface ReadChunk {
  /** The source connection whose transaction holds the chunk's locks. */
  readonly connection: ExactQueryable;
  /** `Date.now()` when the read started: the locks are held from about then. */
  readonly startedAt: number;
  /** The rows asked for: a chunk with fewer is the table's last. */
  readonly limit: number;
  /** The rows read. */
  readonly rows: number;
  /** The key of the last row read, or null for an empty chunk. */
  readonly lastKey: KeyTuple | null;
  /** The rows as rendered tuples, or null when they were read through the codec. */
  readonly tuples: readonly string[] | null;
  /** The rows read through the codec (null when rendered). */
  readonly exact: readonly ExactRow[] | null;
}

/**
 * Reads and writes the chunks of one table. Both sessions must use `time_zone = '+00:00'` when the table has a
 * TIMESTAMP column (the caller sets it for the whole table).
 */
export class ChunkCopier {
  readonly #table: TableMetadata;
  readonly #targetSchema: string;
  readonly #columns: readonly ColumnMetadata[];
  readonly #keyColumns: readonly ColumnMetadata[];
  /** `SELECT <key>, <tuple> AS <tupleName> FROM t`, or null when a column has no rendering. */
  readonly #renderedSelect: string | null;
  /** The tuple's column alias: a name no key column has. */
  readonly #tupleName: string;

  /**
   * @param table - the table's metadata on the source
   * @param targetSchema - the database written on the target
   */
  constructor(table: TableMetadata, targetSchema: string) {
    this.#table = table;
    this.#targetSchema = targetSchema;
    this.#columns = copyColumns(table);
    this.#keyColumns = primaryKeyColumns(table);
    const tuple = rowLiteralExpression(this.#columns);
    let tupleName = 'dualwrite_row';
    while (this.#keyColumns.some((column) => column.name === tupleName)) tupleName += '_';
    this.#tupleName = tupleName;
    this.#renderedSelect =
      tuple === null
        ? null
        : `SELECT ${this.#keyColumns.map((column) => columnReadExpression(column)).join(', ')}, ${tuple} AS ${quoteIdentifier(tupleName)} FROM ${qualifiedTableName(table)}`;
  }

  /**
   * Starts a transaction on `connection` and reads, under shared locks, the next `limit` rows after `after`.
   * The transaction is rolled back if the read fails.
   */
  async read(connection: ExactQueryable, after: KeyTuple | null, limit: number): Promise<ReadChunk> {
    const startedAt = Date.now();
    await connection.query({ sql: 'START TRANSACTION' });
    try {
      const rendered = this.#renderedSelect === null ? null : await this.#readRendered(connection, after, limit);
      if (rendered !== null) return { connection, startedAt, limit, ...rendered, exact: null };
      // Through the codec: a table without a rendering, or the chunk again, in the same transaction and under the
      // locks its rendered read took, so the very same rows.
      const query = keysetChunkQuery(this.#table, { after, limit, lock: 'share' });
      const raw = await queryExact(connection, query.sql, query.values);
      const exact = raw.map((row) => row.map((value, i) => decodeColumnValue(query.columns[i]!, value)));
      const last = exact[exact.length - 1];
      const lastKey = last === undefined ? null : query.keyPositions.map((position) => last[position] ?? null);
      return { connection, startedAt, limit, rows: exact.length, lastKey, tuples: null, exact };
    } catch (error) {
      await connection.query({ sql: 'ROLLBACK' }).catch(() => undefined);
      throw error;
    }
  }

  /** The rendered read; null when a row's tuple did not fit the source's `max_allowed_packet` (read it through the codec). */
  async #readRendered(connection: ExactQueryable, after: KeyTuple | null, limit: number): Promise<Pick<ReadChunk, 'rows' | 'lastKey' | 'tuples'> | null> {
    const where = after === null ? null : tupleComparison(this.#keyColumns, '>', after);
    const sql = `${this.#renderedSelect} ${where === null ? '' : `WHERE ${where.sql} `}${keyOrderBy(this.#keyColumns)} LIMIT ${limit} LOCK IN SHARE MODE`;
    // Key values as the codec's raw bytes (only the last row's are decoded); the tuple as mysql2 decodes text.
    const tupleName = this.#tupleName;
    const typeCast = (field: CastField, next: () => unknown): unknown => (field.name === tupleName ? next() : field.buffer());
    const [rows, fields] = await connection.query({ sql, values: where?.values ?? [], typeCast, rowsAsArray: true });
    if (!Array.isArray(rows) || !Array.isArray(fields)) throw new ReplayPlanError('a chunk read returned no rows and fields');
    const width = this.#keyColumns.length;
    checkTupleEncoding(fields[width] as ResultField | undefined);
    const tuples: string[] = new Array<string>(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const tuple = (rows[i] as unknown[])[width];
      if (typeof tuple !== 'string') return null;
      tuples[i] = tuple;
    }
    const last = rows[rows.length - 1] as unknown[] | undefined;
    if (last === undefined) return { rows: 0, lastKey: null, tuples };
    const [raw] = decodeExactRows([[last.slice(0, width)], fields.slice(0, width)]);
    const lastKey = this.#keyColumns.map((column, i) => decodeColumnValue(column, raw?.[i] ?? null));
    return { rows: rows.length, lastKey, tuples };
  }

  /**
   * Starts the chunk's transaction on `target` and `INSERT IGNORE`s its rows there; {@link ChunkCopier.commit}
   * ends it. A deadlock (InnoDB rolled the transaction back) is retried: the source still holds the chunk's
   * locks, so the rows to write are unchanged. On any other failure both of the chunk's transactions are
   * rolled back.
   *
   * @returns the rows the target inserted (the others were there already)
   */
  async insert(target: ExactQueryable, chunk: ReadChunk): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        await target.query({ sql: 'START TRANSACTION' });
        if (chunk.tuples !== null) {
          return await insertIgnoreLiterals(target, this.#table, this.#columns, chunk.tuples, { schema: this.#targetSchema, batchBytes: BATCH_BYTES });
        }
        if (chunk.exact === null || chunk.exact.length === 0) return 0;
        const names = this.#columns.map((column) => column.name);
        return await insertIgnoreRows(target, this.#table, names, chunk.exact, { schema: this.#targetSchema, batchRows: CODEC_BATCH_ROWS, batchBytes: BATCH_BYTES });
      } catch (error) {
        await target.query({ sql: 'ROLLBACK' }).catch(() => undefined);
        if (attempt < DEADLOCK_ATTEMPTS && (error as { errno?: unknown }).errno === ER_LOCK_DEADLOCK) continue;
        await this.discard(chunk);
        throw error;
      }
    }
  }

  /**
   * Ends a chunk written by {@link ChunkCopier.insert}: saves `checkpoint` (if any) in the target transaction,
   * commits it — rows and checkpoint together — then commits the source transaction, releasing the chunk's
   * locks. Both transactions are rolled back if anything fails before the target's COMMIT.
   */
  async commit(target: ExactQueryable, chunk: ReadChunk, checkpoint: Checkpoint | null, store: CheckpointStore): Promise<void> {
    try {
      if (checkpoint !== null) await store.save(checkpoint, target);
      await target.query({ sql: 'COMMIT' });
    } catch (error) {
      await target.query({ sql: 'ROLLBACK' }).catch(() => undefined);
      await this.discard(chunk);
      throw error;
    }
    await chunk.connection.query({ sql: 'COMMIT' });
  }

  /** Ends a chunk that will not be written: rolls back its source transaction (never throws). */
  async discard(chunk: ReadChunk): Promise<void> {
    await chunk.connection.query({ sql: 'ROLLBACK' }).catch(() => undefined);
  }
}
