/**
 * Backfill: copies the rows that existed before dual-writing began from the source to the target,
 * in keyset chunks over each table's primary key, correct while the dual-write pool writes.
 *
 * ## Why a chunk cannot overwrite a newer row
 *
 * Each chunk is copied in this order ({@link ChunkCopier}):
 *
 * 1. source: `START TRANSACTION`, then read the chunk with `LOCK IN SHARE MODE` (next-key shared locks on
 *    every row read and on the gaps between them);
 * 2. target: `START TRANSACTION`, `INSERT IGNORE` the rows, save the checkpoint (the key of the chunk's
 *    last row, rows copied), `COMMIT`;
 * 3. source: `COMMIT` (the shared locks are released).
 *
 * A dual-write to a row of the chunk (UPDATE, DELETE, or an INSERT into one of its gaps) needs an
 * exclusive lock on the source, so it waits until step 3: the target then already holds the copied row,
 * and the write's replay lands on top of it. A write that got its exclusive lock first makes the read of
 * step 1 wait until it commits; the dual-write pool (with `replayWhileLocked`, its default) replays on the
 * target before it commits on the source, so by the time the chunk reads the row the target already has
 * whatever the replay did — and the copy either inserts the row as it now is (the replay found nothing to
 * change there: the pool records that as a divergence, which this copy resolves) or skips it because
 * the replay already inserted it (`INSERT IGNORE` never overwrites a row the target has). Either way an
 * older copy never replaces a newer row, and no write is lost. A row deleted on the source before its chunk
 * is simply never read.
 *
 * ## Two lanes: the next chunk is read and written while this one is
 *
 * With `pipeline` (the default) each table copies on two lanes (`./backfill-lanes.ts`), each a source and a
 * target connection that take one chunk at a time through steps 1–3. Reads take turns in key order (a lane reads the chunk after
 * the last one read, by either lane); the writes of the two lanes run side by side. The source reads while
 * the target writes, and the target writes on two threads, where `mariadb-dump | mariadb` writes on one.
 * What keeps this as safe as one chunk at a time:
 *
 * - The argument above is about one chunk's own transactions, and each chunk still follows steps 1–3: it
 *   holds its shared locks from its read until after its rows committed on the target. The ranges of two
 *   chunks (each strictly after the previous chunk's last key, up to its own last key) never overlap, so a
 *   dual-write waits for, or is waited for by, exactly one chunk, as described.
 * - The checkpoint only ever names a key when every chunk up to it is committed on the target. Commits
 *   take turns (a lane's checkpoint write and COMMIT run while the other lane's cannot); a chunk that
 *   commits while an earlier one is still being written saves no checkpoint, and the earlier one's commit
 *   then saves the checkpoint past both. The checkpoint is written inside the chunk's target transaction,
 *   so it commits with the rows it names, or not at all. A copy stopped or killed at any point resumes
 *   after the last chunk committed without a gap before it: no row is skipped and none counted twice
 *   (rows of a later chunk that were committed are read again and skipped by `INSERT IGNORE`).
 * - No lane waits for the other while holding locks the other may need: a lane waits for its commit turn
 *   only after its INSERTs, and the turn's holder runs only its checkpoint write (one row no one else
 *   writes meanwhile) and COMMIT, neither of which waits on a lock. The two lanes' INSERTs may wait on each
 *   other's row locks (a duplicate found on a unique key takes a shared lock on it); a cycle among them,
 *   or with any other transaction, is a deadlock InnoDB breaks by rolling one transaction back: a chunk
 *   rolled back that way is written again, its rows still locked on the source.
 * - Throttle signals are asked before every chunk's read; while one says pause no read starts, and the
 *   chunk already read on the other lane is written (holding its locks through a pause would make writes
 *   wait for the pause). An abort, or a failure on one lane, lets the other lane finish its chunk.
 *
 * ## Speed
 *
 * The source server renders each row as an SQL tuple while reading it (`./row-literals.ts`), so a row
 * crosses Node.js as one string, is never parsed or escaped value by value, and the INSERTs carry about
 * 1 MiB of rows each; columns of a type without a rendering are copied through the codec instead
 * (`./backfill-chunk.ts`). Chunks are ranges of the primary key that start strictly after the previous
 * chunk's last key (never OFFSET), so every chunk costs the same however far the copy got. Their size adapts
 * so that a chunk's shared locks are held about `chunk.targetMs` ({@link AdaptiveChunkSizer}, measured from
 * the read to the source's COMMIT, a wait for the commit turn included), which is also about how long a
 * concurrent write may wait on them.
 *
 * @module
 */
import { DualWriteError, InvalidOptionError, TableNotFoundError } from '../errors.js';
import { loadServerSettings } from '../schema/server-settings.js';
import { loadTable } from '../schema/load-table.js';
import type { MetadataQueryable, TableMetadata } from '../schema/types.js';
import { ChunkCopier } from './backfill-chunk.js';
import { checkOutSerially, copyChunks, type Lane, type LaneContext } from './backfill-lanes.js';
import { databaseOrDefault } from './default-database.js';
import { CheckpointStore, DEFAULT_CHECKPOINT_TABLE, type Checkpoint } from './checkpoints.js';
import { AdaptiveChunkSizer, resolveChunkSizeOptions, type ChunkSizeOptions } from './chunk-size.js';
import { isTimestampColumn, queryExact, quoteIdentifier, withSessionTimeZone, withSessionVariable, type ExactQueryable, type ExactRow } from './codec.js';
import { primaryKeyColumns, type KeyTuple } from './keyset.js';
import { checkLiteralSqlMode } from './row-literals.js';
import { selectTables, type SelectedTable } from './table-selection.js';
import type { ThrottleSignal } from './throttle.js';

export { pauseFlag, threadsRunningAbove, replicaLagAbove, customQuery, type ThrottleSignal, type ThrottleDecision } from './throttle.js';
export type { ChunkSizeOptions } from './chunk-size.js';

/** A checked-out connection: a mysql2/promise `PoolConnection` fits (structural type). */
export interface BackfillConnection extends ExactQueryable {
  /** Returns the connection to its pool. */
  release(): void;
}

/** What backfill needs from each side: a mysql2/promise `Pool` fits (structural type, so this module never loads mysql2). */
export interface BackfillPool extends ExactQueryable {
  /** Checks a connection out (a chunk's transaction needs one connection). */
  getConnection(): Promise<BackfillConnection>;
}

/** Progress of one table, reported after each chunk and while paused. */
export interface BackfillProgress {
  /** The table (its name on the source). */
  readonly table: string;
  /** Rows copied so far, earlier runs of the job included. */
  readonly rowsCopied: number;
  /** information_schema's estimate of the table's rows (never below `rowsCopied`). */
  readonly rowsTotalEstimate: number;
  /** Rows per second copied by this run, pauses included. */
  readonly rowsPerSecond: number;
  /** Seconds left at the current rate, by the estimate; null before a rate is known; 0 once done. */
  readonly etaSeconds: number | null;
  /** Rows of the last chunk (0 in a report sent while paused). */
  readonly chunkRows: number;
  /** Set while a throttle signal holds the copy back: the signal's reason. */
  readonly paused?: string;
}

/** Options of {@link backfill}. */
export interface BackfillOptions {
  /** The source side (mysql2/promise pool). Rows are read from it under shared locks. */
  readonly source: BackfillPool;
  /** The target side (mysql2/promise pool). Rows are written to it; checkpoints are stored on it. */
  readonly target: BackfillPool;
  /**
   * The database copied from.
   * @defaultValue the source pool's default database
   */
  readonly sourceSchema?: string;
  /**
   * The database copied to (may be named differently from the source's).
   * @defaultValue the target pool's default database
   */
  readonly targetSchema?: string;
  /**
   * Table names or `*` patterns (e.g. `order_*`) of the source schema. Each must match a base table, and every
   * table must have a primary key (a table without one is refused, not guessed at).
   * @defaultValue every base table of the source schema, except the checkpoint table and `dualwrite_repair_log`
   */
  readonly tables?: readonly string[];
  /**
   * The job's name: checkpoints are kept per job, so separate jobs copy independently.
   * @defaultValue `'backfill'`
   */
  readonly job?: string;
  /** Chunk sizing: see {@link ChunkSizeOptions}. */
  readonly chunk?: ChunkSizeOptions;
  /**
   * Tables copied at the same time (largest first, by information_schema's DATA_LENGTH, then TABLE_ROWS).
   * Each holds two source and two target connections while it copies (one of each with `pipeline: false`), so
   * give each pool at least `2 × concurrency` connections, plus what throttle signals use on it.
   * @defaultValue 2
   */
  readonly concurrency?: number;
  /**
   * Copy each table on two lanes, each with its own source and target connection, so that the next chunk is
   * read and written while the current one is (see the module notes for why that is as safe as one chunk at
   * a time). `false` copies one chunk at a time on one source and one target connection: slower, for pools
   * that cannot spare the connections.
   * @defaultValue true
   */
  readonly pipeline?: boolean;
  /**
   * Checked before each chunk, in order; while one answers `pause`, no chunk starts and they are asked again
   * every `throttlePollMs`. See `threadsRunningAbove`, `replicaLagAbove`, `customQuery`, `pauseFlag`.
   * @defaultValue `[]`
   */
  readonly throttle?: readonly ThrottleSignal[];
  /**
   * How long to wait before asking paused throttle signals again, in milliseconds.
   * @defaultValue 1000
   */
  readonly throttlePollMs?: number;
  /**
   * Create a table missing on the target from the source's `SHOW CREATE TABLE` (for same-engine migrations; a
   * heterogeneous target should get its schema from your migration tool first). `false` refuses a missing table.
   * @defaultValue true
   */
  readonly createMissingTables?: boolean;
  /**
   * Continue from the job's checkpoints (tables already done are skipped). `false` forgets the job's checkpoints
   * and copies every table from its first row (rows the target has are still never overwritten).
   * @defaultValue true
   */
  readonly resume?: boolean;
  /**
   * The checkpoint table on the target, `name` (in the target pool's default database) or `db.name`.
   * @defaultValue `'dualwrite_backfill_state'`
   */
  readonly checkpointTable?: string;
  /**
   * Stops the copy after the chunks in progress: their checkpoints are saved, and `backfill()` resolves with
   * `aborted: true` (it does not reject). Run again with the same job to continue.
   */
  readonly signal?: AbortSignal;
  /** Called after each chunk and while paused. Must not throw (an error it throws fails the backfill). */
  readonly onProgress?: (progress: BackfillProgress) => void;
}

/** What happened to one table. */
export interface BackfillTableReport {
  /** The table's name. */
  readonly table: string;
  /** Rows read from the source by this run. */
  readonly rowsRead: number;
  /** Of those, rows inserted on the target; the others were already there (written by the dual-write pool, or by an earlier run). */
  readonly rowsInserted: number;
  /** Chunks copied by this run. */
  readonly chunks: number;
  /** Time spent on the table by this run, in milliseconds (pauses included). */
  readonly durationMs: number;
  /** Time this run waited on throttle signals while copying the table, in milliseconds. */
  readonly pausedMs: number;
  /** The checkpoint this run started from: the key after which it read (null: from the first row, or the table was done already). */
  readonly resumedFrom: KeyTuple | null;
  /** Rows earlier runs of the job had copied. */
  readonly resumedRows: number;
  /** Rows copied in all, earlier runs included. */
  readonly rowsCopied: number;
  /** True when this run created the table on the target. */
  readonly created: boolean;
  /** True once the table's last chunk is copied (by this run or an earlier one). */
  readonly done: boolean;
}

/** What {@link backfill} did. */
export interface BackfillReport {
  /** The job's name. */
  readonly job: string;
  /** The database copied from. */
  readonly sourceSchema: string;
  /** The database copied to. */
  readonly targetSchema: string;
  /** One entry per selected table, in the order they were started (largest first). */
  readonly tables: readonly BackfillTableReport[];
  /** Rows read by this run, all tables. */
  readonly rowsRead: number;
  /** Rows inserted by this run, all tables. */
  readonly rowsInserted: number;
  /** Chunks copied by this run, all tables. */
  readonly chunks: number;
  /** Duration of the run, in milliseconds. */
  readonly durationMs: number;
  /** True when every table is done. */
  readonly done: boolean;
  /** True when `signal` stopped the run before every table was done. */
  readonly aborted: boolean;
}

/** The repair log's default name: the dual-write pool creates it in the source database, and it is not the application's data. */
const REPAIR_LOG_TABLE = 'dualwrite_repair_log';

/** One run's settings, shared by its tables (the lanes' part in {@link LaneContext}). */
interface Context extends LaneContext {
  readonly source: BackfillPool;
  readonly target: BackfillPool;
  readonly targetSchema: string;
  readonly chunk: ChunkSizeOptions;
  readonly pipeline: boolean;
  readonly resume: boolean;
  readonly onProgress: ((progress: BackfillProgress) => void) | undefined;
  /** Checks out a table's lanes; calls are served one at a time (see {@link checkOutSerially}). */
  readonly checkOut: (lanes: number) => Promise<Lane[]>;
}

interface TablePlan {
  readonly selected: SelectedTable;
  readonly metadata: TableMetadata;
  created: boolean;
}

/**
 * Copies the rows of the selected tables from the source to the target, chunk by chunk, while the dual-write
 * pool keeps writing (see the module notes for why that is safe), resumable from checkpoints on the target.
 *
 * Every table is checked before anything is written: a name or pattern that matches nothing, or a table
 * without a usable primary key, fails the call with an {@link InvalidOptionError} that names it.
 *
 * @param options - see {@link BackfillOptions}
 * @returns what was copied; `done` when every table is complete, `aborted` when `signal` stopped it
 * @throws {@link InvalidOptionError} for a bad option, a pattern matching no table, a table without a primary key
 * @throws {@link TableNotFoundError} for a table missing on the target with `createMissingTables: false`
 * @throws the database error of a chunk that failed (its transactions are rolled back; the checkpoint is that of the last chunk copied)
 */
export async function backfill(options: BackfillOptions): Promise<BackfillReport> {
  const started = Date.now();
  const { source, target } = checkPools(options);
  const job = options.job ?? 'backfill';
  if (typeof job !== 'string' || job === '' || job.length > 64) throw new InvalidOptionError('backfill job', job, 'a name of 1 to 64 characters');
  const concurrency = options.concurrency ?? 2;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) throw new InvalidOptionError('backfill concurrency', concurrency, 'a positive integer');
  const throttlePollMs = options.throttlePollMs ?? 1000;
  if (!Number.isFinite(throttlePollMs) || throttlePollMs < 1) throw new InvalidOptionError('backfill throttlePollMs', throttlePollMs, 'a positive number of milliseconds');
  const throttle = options.throttle ?? [];
  if (!Array.isArray(throttle) || throttle.some((signal) => typeof signal !== 'function')) {
    throw new InvalidOptionError('backfill throttle', throttle, 'a list of throttle signals (functions resolving to { pause, reason? })');
  }
  const chunk = resolveChunkSizeOptions(options.chunk);
  const pipeline = options.pipeline ?? true;
  if (typeof pipeline !== 'boolean') throw new InvalidOptionError('backfill pipeline', pipeline, 'true or false');
  const checkpointTable = options.checkpointTable ?? DEFAULT_CHECKPOINT_TABLE;
  const sourceSchema = await databaseOrDefault(source, options.sourceSchema, 'backfill sourceSchema');
  const targetSchema = await databaseOrDefault(target, options.targetSchema, 'backfill targetSchema');

  // Check every table before writing anything.
  const checkpointName = checkpointTable.split('.').pop() ?? checkpointTable;
  const selected = await selectTables(source, sourceSchema, options.tables, [checkpointName, REPAIR_LOG_TABLE]);
  const metadataSource = metadataQueryable(source);
  const settings = await loadServerSettings(metadataSource);
  const plans: TablePlan[] = [];
  for (const table of selected) {
    const metadata = await loadTable(metadataSource, sourceSchema, table.name, settings);
    if (metadata.primaryKey.length === 0) {
      throw new InvalidOptionError(
        'backfill tables',
        table.name,
        `tables with a primary key: \`${sourceSchema}\`.\`${table.name}\` has none, and backfill copies ranges of the primary key ` +
          '(a table without one is refused, not guessed at); add a primary key or leave the table out of `tables`',
      );
    }
    primaryKeyColumns(metadata); // refuses ENUM/SET key columns with its own message
    plans.push({ selected: table, metadata, created: false });
  }

  await createMissing(source, target, sourceSchema, targetSchema, plans, options.createMissingTables ?? true);
  const store = new CheckpointStore(target, { table: checkpointTable });
  if (options.resume === false) await store.reset(job);

  const controller = new AbortController();
  const userSignal = options.signal;
  const onAbort = (): void => controller.abort();
  if (userSignal?.aborted) controller.abort();
  userSignal?.addEventListener('abort', onAbort, { once: true });
  const context: Context = {
    source,
    target,
    sourceSchema,
    targetSchema,
    job,
    chunk,
    pipeline,
    throttle,
    throttlePollMs,
    resume: options.resume ?? true,
    store,
    stop: controller.signal,
    onProgress: options.onProgress,
    checkOut: checkOutSerially(source, target),
  };

  const reports = new Map<TablePlan, BackfillTableReport>();
  const queue = [...plans];
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    for (let plan = queue.shift(); plan !== undefined; plan = queue.shift()) {
      if (failure !== null) return;
      try {
        reports.set(plan, await copyTable(context, plan));
      } catch (error) {
        failure ??= { error };
        controller.abort(); // the other tables stop after their current chunk
        return;
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(plans.length, 1)) }, worker));
  } finally {
    userSignal?.removeEventListener('abort', onAbort);
  }
  if (failure !== null) throw (failure as { error: unknown }).error;

  const tables = plans.map((plan) => reports.get(plan) ?? notStarted(plan));
  const sum = (pick: (t: BackfillTableReport) => number): number => tables.reduce((total, t) => total + pick(t), 0);
  const done = tables.every((t) => t.done);
  return {
    job,
    sourceSchema,
    targetSchema,
    tables,
    rowsRead: sum((t) => t.rowsRead),
    rowsInserted: sum((t) => t.rowsInserted),
    chunks: sum((t) => t.chunks),
    durationMs: Date.now() - started,
    done,
    aborted: !done && userSignal?.aborted === true,
  };
}

/** The report of a table an abort kept from starting. */
function notStarted(plan: TablePlan): BackfillTableReport {
  return {
    table: plan.selected.name,
    rowsRead: 0,
    rowsInserted: 0,
    chunks: 0,
    durationMs: 0,
    pausedMs: 0,
    resumedFrom: null,
    resumedRows: 0,
    rowsCopied: 0,
    created: plan.created,
    done: false,
  };
}

/** Copies one table from its checkpoint to its end, or until `context.stop`. */
async function copyTable(context: Context, plan: TablePlan): Promise<BackfillTableReport> {
  const started = Date.now();
  const table = plan.metadata;
  const name = plan.selected.name;
  const checkpoint: Checkpoint | null = context.resume ? await context.store.load(context.job, context.sourceSchema, name) : null;
  const resumedFrom = checkpoint?.after ?? null;
  const resumedRows = checkpoint?.rowsCopied ?? 0;
  const report = {
    table: name,
    rowsRead: 0,
    rowsInserted: 0,
    chunks: 0,
    durationMs: 0,
    pausedMs: 0,
    resumedFrom,
    resumedRows,
    rowsCopied: resumedRows,
    created: plan.created,
    done: checkpoint?.done === true,
  };
  if (report.done) return report;

  const progress = (chunkRows: number, paused?: string): void => {
    if (context.onProgress === undefined) return;
    const seconds = (Date.now() - started) / 1000;
    const rowsPerSecond = seconds > 0 ? report.rowsRead / seconds : 0;
    const rowsTotalEstimate = Math.max(plan.selected.rowsEstimate, report.rowsCopied);
    const etaSeconds = report.done ? 0 : rowsPerSecond > 0 ? (rowsTotalEstimate - report.rowsCopied) / rowsPerSecond : null;
    context.onProgress({ table: name, rowsCopied: report.rowsCopied, rowsTotalEstimate, rowsPerSecond, etaSeconds, chunkRows, ...(paused === undefined ? {} : { paused }) });
  };

  const sizer = new AdaptiveChunkSizer(context.chunk);
  const copier = new ChunkCopier(table, context.targetSchema);
  const lanes = await context.checkOut(context.pipeline ? 2 : 1);
  const connections = lanes.flatMap((lane) => [lane.source, lane.target]);
  // TIMESTAMP values (and keys) travel as UTC text: every session of the table uses +00:00 while it copies.
  const utc = table.columns.some(isTimestampColumn);
  const inZone = <T>(connection: ExactQueryable, work: () => Promise<T>): Promise<T> => (utc ? withSessionTimeZone(connection, '+00:00', work) : work());
  // Children may be copied before their parents: the target checks no foreign key for the copy's own inserts.
  const prepared = <T>(index: number, work: () => Promise<T>): Promise<T> => {
    const lane = lanes[index];
    if (lane === undefined) return work();
    return inZone(lane.source, () => inZone(lane.target, () => withSessionVariable(lane.target, 'foreign_key_checks', '0', () => prepared(index + 1, work))));
  };
  try {
    for (const lane of lanes) await checkLiteralSqlMode(lane.target);
    await prepared(0, () => copyChunks(context, { name, copier, sizer, lanes, report, progress, after: resumedFrom }));
  } finally {
    for (const connection of connections) connection.release();
  }
  report.durationMs = Date.now() - started;
  return report;
}

/** Creates the tables missing on the target from the source's DDL, or refuses them. */
async function createMissing(
  source: BackfillPool,
  target: BackfillPool,
  sourceSchema: string,
  targetSchema: string,
  plans: TablePlan[],
  create: boolean,
): Promise<void> {
  if (plans.length === 0) return;
  const present = new Set(
    (
      await queryExact(
        target,
        `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN (${plans.map(() => '?').join(', ')})`,
        [targetSchema, ...plans.map((plan) => plan.selected.name)],
      )
    ).map((row) => text(row[0])),
  );
  const missing = plans.filter((plan) => !present.has(plan.selected.name));
  if (missing.length === 0) return;
  if (!create) throw new TableNotFoundError(targetSchema, missing[0]!.selected.name);
  const connection = await target.getConnection();
  try {
    const [current] = await queryExact(connection, 'SELECT DATABASE()');
    const previous = current?.[0] === null || current?.[0] === undefined ? null : text(current[0]);
    // Unqualified REFERENCES in the DDL name tables of the target schema.
    if (previous !== targetSchema) await connection.query({ sql: `USE ${quoteIdentifier(targetSchema)}` });
    try {
      await withSessionVariable(connection, 'foreign_key_checks', '0', async () => {
        for (const plan of missing) {
          const [row] = await queryExact(source, `SHOW CREATE TABLE ${quoteIdentifier(sourceSchema)}.${quoteIdentifier(plan.selected.name)}`);
          const ddl = text(row?.[1]);
          const head = /^CREATE TABLE (?:`(?:[^`]|``)+`|\S+)/.exec(ddl);
          if (head === null) throw new DualWriteError('ER_DUALWRITE_BACKFILL_DDL', `SHOW CREATE TABLE \`${plan.selected.name}\` on the source did not return a CREATE TABLE statement; create the table on the target yourself, then run the backfill again.`);
          const statement = `CREATE TABLE IF NOT EXISTS ${quoteIdentifier(targetSchema)}.${quoteIdentifier(plan.selected.name)}${ddl.slice(head[0].length)}`;
          await connection.query({ sql: statement });
          plan.created = true;
        }
      });
    } finally {
      if (previous !== null && previous !== targetSchema) await connection.query({ sql: `USE ${quoteIdentifier(previous)}` });
    }
  } finally {
    connection.release();
  }
}

/** The pools, checked. */
function checkPools(options: BackfillOptions): { source: BackfillPool; target: BackfillPool } {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('backfill options', options, 'an object with `source` and `target` pools');
  for (const side of ['source', 'target'] as const) {
    const pool = options[side] as Partial<BackfillPool> | undefined;
    if (pool === null || typeof pool !== 'object' || typeof pool.query !== 'function' || typeof pool.getConnection !== 'function') {
      throw new InvalidOptionError(`backfill ${side}`, pool, 'a mysql2/promise pool');
    }
  }
  return { source: options.source, target: options.target };
}

/** A {@link MetadataQueryable} view of a pool, for the schema loaders. */
function metadataQueryable(pool: ExactQueryable): MetadataQueryable {
  return { query: (sql, values) => pool.query(values === undefined ? { sql } : { sql, values }) };
}

function text(value: ExactRow[number] | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : value.toString('utf8');
}
