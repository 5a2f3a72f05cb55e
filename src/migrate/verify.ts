/**
 * `verify()`: proves that the source and the target hold the same rows, table by table, and
 * reports the keys that differ.
 *
 * 1. **Chunks.** Chunk boundaries are found on the source in keyset order: the key `chunkRows`
 *    rows after the previous boundary (`WHERE key > boundary ORDER BY key LIMIT chunkRows - 1, 1`:
 *    the server steps over one chunk of the primary key and sends one key; never an OFFSET from the
 *    start of the table). Each chunk is the key range
 *    `(previous boundary, boundary]`; the first is open downward and the last open upward, so rows
 *    the target holds below the source's smallest key or above its largest are inside a chunk too.
 *    A table of `n` source rows gives `floor(n / chunkRows) + 1` chunks (one for an empty table).
 *    The next boundary is read while the current chunk is compared.
 * 2. **Checksums.** Both sides compute the chunk's row count and order-independent checksum
 *    (`chunkChecksum`, in the manner of pt-table-checksum) in parallel, split into 32 buckets by a
 *    hash of the primary key; a few numbers per side cross the network, no rows.
 * 3. **Drill-down.** Only for a chunk whose checksums differ, and only for the rows of the buckets
 *    whose (rows, checksum) differ: per-row hashes of both sides, matched by exact primary key (see
 *    `verify-drill`).
 * 4. **Recheck.** A key found different is not reported at once: it is re-read exactly on both
 *    sides after `recheck.delayMs`, up to `recheck.attempts` times, beside the scan; only a key
 *    still different on the last re-read is reported, as `missing` (on the target), `extra` (on
 *    the target) or `different` (with the differing columns, compared value by value). A write
 *    that reached one side a few milliseconds before the other is therefore not reported.
 *
 * Differences are streamed to `onDifference` as they are confirmed; the report keeps counts only
 * (unless `collect: true`), so memory stays bounded by the chunk size, whatever the table size.
 *
 * Tables are refused before anything is compared when a table has no primary key (or an ENUM/SET
 * key column) or does not exist on the source. A table missing on the target, or whose columns
 * or primary key differ between the sides, is not compared row by row: its report entry has the
 * status `missing_on_target` or `schema_mismatch` (with `detail`), and the run is not identical.
 *
 * Reads use connections checked out from the pools (four on the source, three on the target per
 * table), each with `time_zone = '+00:00'` for the run (restored before release), so TIMESTAMP
 * keys compare as the instants they name. `source` and `target` must be the sides' primary
 * servers: the recheck reads them. The first pass (boundaries, checksums, drill-downs) may read
 * replicas instead (`replicas`), to keep its load off the primaries: a replica's lag then shows as
 * candidates, which the recheck on the primaries drops (`resolvedOnRecheck`), so a lagging replica
 * costs re-reads but never a false report.
 *
 * Limits: keys are matched byte for byte, so two keys a case-insensitive collation holds equal
 * (`'a'` on one side, `'A'` on the other) are reported as one missing and one extra row.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { loadServerSettings } from '../schema/index.js';
import type { TableMetadata } from '../schema/types.js';
import { CHECKSUM_BUCKETS, chunkChecksum, differingBuckets, type KeyRange } from './checksum.js';
import { checkProfile, checkZoneKnown, describeRule, type NormalizationProfile } from './normalize.js';
import { queryExact, type ExactQueryable, type ExactValue } from './codec.js';
import { keyOfRow, keysetChunkQuery, type KeyTuple } from './keyset.js';
import { countsOf, TableCheckpointer, VerifyCheckpointStore, ZERO_COUNTS, type ResumePoint } from './verify-checkpoints.js';
import { checkOutBoth, differenceCollector, prepareTable, schemaOf, verifiedReport, type Prepared } from './verify-setup.js';
import { drillRange, Rechecker, type DifferenceKind, type VerifySide } from './verify-drill.js';
import { recordVerifyRun, verifyRunsTable } from './verify-runs.js';

export type { DifferenceKind } from './verify-drill.js';

/** A checked-out connection as verify uses it (a mysql2/promise `PoolConnection` fits). */
export interface VerifyConnection extends ExactQueryable {
  /** Returns the connection to its pool. */
  release(): void;
}

/** A pool as verify uses it (a mysql2/promise `Pool` fits): metadata reads, checkpoints, and connections to check out. */
export interface VerifyPool {
  /** Runs `sql` with `?` placeholders bound to `values` (metadata reads); resolves to `[rows, fields]`. */
  query(sql: string, values?: unknown[]): Promise<[unknown, unknown]>;
  /** Runs a statement given as options (exact reads, checkpoint writes); resolves to `[rows, fields]`. */
  query(options: Parameters<ExactQueryable['query']>[0]): Promise<[unknown, unknown]>;
  /** Checks out a connection. */
  getConnection(): Promise<VerifyConnection>;
}

/** One row that differs between the sides, confirmed by the recheck. */
export interface Difference {
  /** The table's name. */
  readonly table: string;
  /** `missing`: on the source only; `extra`: on the target only; `different`: on both, with other values. */
  readonly kind: DifferenceKind;
  /** The primary key, column name → exact value (TIMESTAMP key values as UTC text). */
  readonly key: Record<string, ExactValue>;
  /** For `different`: the columns whose values differ, in table order. */
  readonly columns?: readonly string[];
}

/** Options of {@link verify}. */
export interface VerifyOptions {
  /** The source side's pool. */
  readonly source: VerifyPool;
  /** The target side's pool. */
  readonly target: VerifyPool;
  /**
   * The source database.
   * @defaultValue the source pool's database (`SELECT DATABASE()`)
   */
  readonly sourceSchema?: string;
  /**
   * The target database (the table names are the same on both sides).
   * @defaultValue the target pool's database (`SELECT DATABASE()`)
   */
  readonly targetSchema?: string;
  /** The tables to compare, by name; each must have a primary key. Compared one after the other, in this order. */
  readonly tables: readonly string[];
  /**
   * Source rows per chunk (and target rows held at once by a drill-down).
   * @defaultValue 1000
   */
  readonly chunkRows?: number;
  /**
   * Replicas to read for the first pass (chunk boundaries, checksums and drill-downs), one side or
   * both; `source` and `target` stay the primaries, and every candidate is re-read there before it
   * is reported. The replicas must hold the same databases under the same names.
   * @defaultValue the first pass reads `source` and `target`
   */
  readonly replicas?: {
    /** A replica of the source, read instead of `source` for the first pass. */
    readonly source?: VerifyPool;
    /** A replica of the target, read instead of `target` for the first pass. */
    readonly target?: VerifyPool;
  };
  /** How keys found different are confirmed before they are reported. */
  readonly recheck?: {
    /**
     * Milliseconds between finding a key different and each re-read.
     * @defaultValue 200
     */
    readonly delayMs?: number;
    /**
     * Delayed re-reads; a key is reported only when it still differs on the last. 0 reports after
     * one immediate exact read (the columns that differ), with no delay.
     * @defaultValue 2
     */
    readonly attempts?: number;
  };
  /**
   * Receives each confirmed difference as soon as it is confirmed (the report keeps only counts).
   * When it returns a promise, verify waits for it before it reports further differences (a slow
   * consumer slows the scan instead of letting differences pile up in memory).
   */
  readonly onDifference?: (difference: Difference) => unknown;
  /**
   * Keep every difference in the report too (memory grows with the differences).
   * @defaultValue false
   */
  readonly collect?: boolean;
  /**
   * Aborts the run: `verify` rejects with the signal's reason once the current step ends. With a
   * `job`, the chunks finished so far are kept in its checkpoints.
   */
  readonly signal?: AbortSignal;
  /**
   * Names the run so that it can be resumed: each table's progress (the last chunk whose every
   * difference was reported, and the counts so far) is saved in `checkpointTable` on the target at
   * most once a second and at the end of the table. A run that is stopped or killed is continued by
   * the next run with the same job; a run that completes removes the job's checkpoints. Without a
   * job nothing is written anywhere.
   */
  readonly job?: string;
  /**
   * With a `job`: continue from its checkpoints (tables already finished are not compared again,
   * their counts are reported). `false` forgets them and compares every table from the start.
   * @defaultValue true
   */
  readonly resume?: boolean;
  /**
   * The checkpoint table on the target, `name` (in the target pool's default database) or `db.name`.
   * @defaultValue `'dualwrite_verify_state'`
   */
  readonly checkpointTable?: string;
  /**
   * Compare some column types by a normal form instead of exactly, for a heterogeneous or changed
   * schema (FLOAT → DOUBLE, DECIMAL scale, TIMESTAMP ↔ DATETIME, CHAR ↔ VARCHAR, case-insensitive
   * collations, JSON): see {@link NormalizationProfile}. The report then lists, per covered column,
   * the chunks whose exact values differed while their normal forms matched (`normalised`).
   * @defaultValue exact comparison
   */
  readonly normalize?: NormalizationProfile;
  /**
   * With a `job`: the least time between two checkpoint saves of a table, in milliseconds (a kill
   * loses at most about this much work; each save is one write on the target).
   * @defaultValue 1000
   */
  readonly checkpointEveryMs?: number;
  /**
   * Record the outcome of a completed run in a table on the target (`true`: `dualwrite_verify_runs`, or
   * a `name`/`db.name`), for the guarded cut-over (see `verify-runs`). An interrupted run records nothing.
   * @defaultValue false
   */
  readonly record?: boolean | string;
}

/** What verify found in one table. */
export interface TableVerifyReport {
  /** The table's name. */
  readonly table: string;
  /**
   * `verified`: compared row by row; `missing_on_target`: the table is not on the target (nothing
   * compared); `schema_mismatch`: columns or primary key differ (nothing compared, see `detail`).
   */
  readonly status: 'verified' | 'missing_on_target' | 'schema_mismatch';
  /** For a status other than `verified`: what is wrong and what to do. */
  readonly detail?: string;
  /** Source rows counted by the chunk checksums. */
  readonly rowsChecked: number;
  /** Chunks compared. */
  readonly chunks: number;
  /** Chunks whose checksums differed (drilled down). */
  readonly chunksDiffered: number;
  /** Keys the drill-down found different, before the recheck. */
  readonly candidates: number;
  /** Candidates equal again on a re-read (in-flight writes), not reported. */
  readonly resolvedOnRecheck: number;
  /** Rows on the source only. */
  readonly missing: number;
  /** Rows on the target only. */
  readonly extra: number;
  /** Rows on both sides with different values. */
  readonly different: number;
  /** Wall time spent on the table, in milliseconds (this run only). */
  readonly durationMs: number;
  /** Every confirmed difference, only with `collect: true` (this run only). */
  readonly differences?: readonly Difference[];
  /**
   * Set when the table was resumed from a job's checkpoint: the chunk bound it continued after
   * (null when an earlier run had finished the table). The counts then include the earlier runs';
   * `candidates`, `resolvedOnRecheck` and `differences` are this run's only.
   */
  readonly resumedAfter?: Record<string, ExactValue> | null;
  /**
   * With a `normalize` profile: each column a rule covers (on either side), the rules, and the
   * chunks in which its exact values differed while every row matched after normalisation — the
   * differences that disappear only after normalisation. Chunks that also held a real difference
   * are not counted (their exact differences cannot be told apart); this run only.
   */
  readonly normalised?: readonly NormalisedColumnReport[];
}

/** One column compared by its normal form (see {@link TableVerifyReport.normalised}). */
export interface NormalisedColumnReport {
  /** The column's name. */
  readonly column: string;
  /** What the rules do, e.g. `floats rounded to 7 significant digits`. */
  readonly rules: string;
  /** Chunks whose exact values of this column differed while their rows matched after normalisation. */
  readonly chunksEqualOnlyAfterNormalisation: number;
}

/** What {@link verify} found. */
export interface VerifyReport {
  /** True when every table was compared and no difference was confirmed. */
  readonly identical: boolean;
  /** One entry per table, in the order of `tables`. */
  readonly tables: readonly TableVerifyReport[];
  /** Wall time of the run, in milliseconds. */
  readonly durationMs: number;
}

const DEFAULT_CHUNK_ROWS = 1000;
const DEFAULT_CHECKPOINT_EVERY_MS = 1000;
const DEFAULT_DELAY_MS = 200;
const DEFAULT_ATTEMPTS = 2;
const RECHECK_BATCH_KEYS = 200;

interface Settings {
  readonly chunkRows: number;
  readonly delayMs: number;
  readonly attempts: number;
  readonly collect: boolean;
  readonly onDifference: ((difference: Difference) => unknown) | undefined;
  readonly signal: AbortSignal | undefined;
  readonly job: string | undefined;
  readonly resume: boolean;
  readonly checkpointEveryMs: number;
  readonly normalize: NormalizationProfile | undefined;
}

function checkOptions(options: VerifyOptions): Settings {
  const chunkRows = options.chunkRows ?? DEFAULT_CHUNK_ROWS;
  if (!Number.isSafeInteger(chunkRows) || chunkRows < 1) throw new InvalidOptionError('verify chunkRows', chunkRows, 'a positive integer number of rows');
  const delayMs = options.recheck?.delayMs ?? DEFAULT_DELAY_MS;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new InvalidOptionError('verify recheck.delayMs', delayMs, 'a number of milliseconds, 0 or more');
  const attempts = options.recheck?.attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isSafeInteger(attempts) || attempts < 0) throw new InvalidOptionError('verify recheck.attempts', attempts, 'an integer, 0 or more');
  if (!Array.isArray(options.tables) || options.tables.some((name) => typeof name !== 'string' || name === '')) {
    throw new InvalidOptionError('verify tables', options.tables, 'a list of table names');
  }
  if (options.job !== undefined && (typeof options.job !== 'string' || options.job === '' || options.job.length > 64)) {
    throw new InvalidOptionError('verify job', options.job, 'a name of 1 to 64 characters');
  }
  if (options.record !== undefined && typeof options.record !== 'boolean') verifyRunsTable(options.record); // a bad name fails before the run
  const checkpointEveryMs = options.checkpointEveryMs ?? DEFAULT_CHECKPOINT_EVERY_MS;
  if (!Number.isFinite(checkpointEveryMs) || checkpointEveryMs < 0) throw new InvalidOptionError('verify checkpointEveryMs', checkpointEveryMs, 'a number of milliseconds, 0 or more');
  return {
    chunkRows,
    delayMs,
    attempts,
    collect: options.collect === true,
    onDifference: options.onDifference,
    signal: options.signal,
    job: options.job,
    resume: options.resume !== false,
    checkpointEveryMs,
    normalize: options.normalize === undefined ? undefined : checkProfile(options.normalize, 'verify normalize'),
  };
}

/**
 * The upper bound of the next chunk after `after`: the key `chunkRows` rows on, read on the source
 * as one row (`LIMIT chunkRows - 1, 1`: the server steps over the keys in between). Null when fewer
 * rows remain: the last chunk, open upward.
 */
async function nextBoundary(connection: ExactQueryable, table: TableMetadata, after: KeyTuple | null, chunkRows: number): Promise<KeyTuple | null> {
  const query = keysetChunkQuery(table, { after, limit: 1, skip: chunkRows - 1, columns: table.primaryKey });
  const [row] = await queryExact(connection, query.sql, query.values);
  return row === undefined ? null : keyOfRow(query, row);
}

async function verifyTable(
  name: string,
  prepared: Extract<Prepared, { hash: unknown }>,
  options: VerifyOptions,
  settings: Settings,
  start: ResumePoint,
  checkpoints: { store: VerifyCheckpointStore; job: string; schema: string } | null,
): Promise<TableVerifyReport> {
  const started = Date.now();
  const { counts, differences, report } = differenceCollector(name, prepared.source.primaryKey, settings);
  let rowsChecked = 0;
  let chunks = 0;
  let chunksDiffered = 0;

  // Source: boundaries, checksums, drill-downs, re-reads; target: checksums, drill-downs, re-reads.
  // First pass (replicas when given): boundaries, checksums, drill-downs; re-reads on the primaries.
  const [sourceSession, targetSession] = await checkOutBoth(options.replicas?.source ?? options.source, 3, options.replicas?.target ?? options.target, 2);
  // Checkpoints are saved through a connection this run holds and leaves idle at save time (a save through the pool
  // could wait for a connection the run holds): the target's checksum connection, or, when that one is a replica's,
  // one more connection of the target.
  const savesBesideReplica = checkpoints !== null && options.replicas?.target !== undefined;
  let recheckSessions: Awaited<ReturnType<typeof checkOutBoth>>;
  try {
    recheckSessions = await checkOutBoth(options.source, 1, options.target, savesBesideReplica ? 2 : 1);
  } catch (error) {
    await Promise.allSettled([sourceSession.release(), targetSession.release()]);
    throw error;
  }
  const [boundaryConnection, sourceConnection, sourceDrill] = sourceSession.connections as [VerifyConnection, VerifyConnection, VerifyConnection];
  const [targetConnection, targetDrill] = targetSession.connections as [VerifyConnection, VerifyConnection];
  const [sourceRecheck, targetRecheck] = [recheckSessions[0].connections[0] as VerifyConnection, recheckSessions[1].connections[0] as VerifyConnection];
  const saver = savesBesideReplica ? (recheckSessions[1].connections[1] as VerifyConnection) : targetConnection;
  const checkpointer =
    checkpoints === null
      ? null
      : new TableCheckpointer(new VerifyCheckpointStore(saver, options.checkpointTable), { job: checkpoints.job, schema: checkpoints.schema, table: name }, start.counts, settings.checkpointEveryMs);
  const source: VerifySide = { connection: sourceDrill, table: prepared.source, hash: prepared.hash.source };
  const target: VerifySide = { connection: targetDrill, table: prepared.target, hash: prepared.hash.target };
  const covered = prepared.hash.covered;
  const equalOnlyAfterNormalisation = covered.map(() => 0);
  const rechecker = new Rechecker({
    source: { connection: sourceRecheck, table: prepared.source, hash: prepared.hash.source },
    target: { connection: targetRecheck, table: prepared.target, hash: prepared.hash.target },
    delayMs: settings.delayMs,
    attempts: settings.attempts,
    batchKeys: RECHECK_BATCH_KEYS,
    maxPending: Math.max(settings.chunkRows * 4, RECHECK_BATCH_KEYS),
    report: (key, comparison, seq) => {
      checkpointer?.reported(seq, comparison.kind);
      return report(key, comparison);
    },
    signal: settings.signal,
  });

  let next: Promise<KeyTuple | null> | null = null;
  // One chunk's drill-down runs (on connections of its own) while the next chunk's checksums are computed.
  let drilling: Promise<void> | null = null;
  try {
    let lower: KeyTuple | null = start.after;
    next = nextBoundary(boundaryConnection, prepared.source, lower, settings.chunkRows);
    for (;;) {
      settings.signal?.throwIfAborted();
      if (rechecker.failure !== null) throw rechecker.failure;
      const upper: KeyTuple | null = await next;
      if (upper !== null) {
        next = nextBoundary(boundaryConnection, prepared.source, upper, settings.chunkRows);
        next.catch(() => undefined); // awaited on the next round; an early exit must not leave it unhandled
      }
      const range: KeyRange = { lowerExclusive: lower, upperInclusive: upper };
      const [sourceSum, targetSum] = await Promise.all([
        chunkChecksum(sourceConnection, prepared.source, range, prepared.hash.source),
        chunkChecksum(targetConnection, prepared.target, range, prepared.hash.target),
      ]);
      chunks++;
      rowsChecked += sourceSum.rows;
      const buckets = differingBuckets(sourceSum, targetSum);
      if (buckets.length > 0) chunksDiffered++;
      // Rows all equal after normalisation: a covered column whose exact digest differs differed only before it.
      else for (const [i, digest] of sourceSum.digests.entries()) if (digest !== targetSum.digests[i]) equalOnlyAfterNormalisation[i] = (equalOnlyAfterNormalisation[i] ?? 0) + 1;
      await drilling;
      const mark = { upper, rowsChecked, chunks, chunksDiffered };
      drilling =
        buckets.length === 0
          ? null
          : drillRange(source, target, range, settings.chunkRows, (keys) => rechecker.add(keys), buckets.length === CHECKSUM_BUCKETS ? undefined : buckets);
      // The chunk's keys are all handed to the rechecker once its drill-down ended: the mark is taken then.
      const ended = (): void => checkpointer?.chunkEnded({ ...mark, seqEnd: rechecker.candidates });
      if (drilling === null) ended();
      else drilling = drilling.then(ended);
      drilling?.catch(() => undefined); // awaited on the next round or below
      await checkpointer?.maybeSave(rechecker.settled);
      if (upper === null) break;
      lower = upper;
    }
    await drilling;
    await rechecker.finish();
    await checkpointer?.maybeSave(rechecker.settled, true);
  } catch (error) {
    // The re-reads, the drill-down and the boundary read in flight must end before their connections go back to the pool.
    await Promise.allSettled([rechecker.stop(), next, drilling]);
    // Stopped on purpose: keep what was finished, so the next run of the job continues from there.
    if (settings.signal?.aborted === true) await checkpointer?.maybeSave(rechecker.settled, true).catch(() => undefined);
    throw error;
  } finally {
    await Promise.allSettled([sourceSession.release(), targetSession.release(), recheckSessions[0].release(), recheckSessions[1].release()]);
  }

  const base = start.counts;
  return {
    ...verifiedReport({
      table: name,
      started,
      rowsChecked: base.rowsChecked + rowsChecked,
      chunks: base.chunks + chunks,
      chunksDiffered: base.chunksDiffered + chunksDiffered,
      rechecker,
      counts: { missing: base.missing + counts.missing, extra: base.extra + counts.extra, different: base.different + counts.different },
      differences,
      collect: settings.collect,
    }),
    ...(checkpoints !== null && (start.after !== null || start.counts.chunks > 0) ? { resumedAfter: keyRecord(prepared.source, start.after) } : {}),
    ...(settings.normalize === undefined
      ? {}
      : {
          normalised: covered.map((column, i) => ({
            column: column.name,
            rules: column.rules.map((rule) => describeRule(rule, settings.normalize as NormalizationProfile)).join('; '),
            chunksEqualOnlyAfterNormalisation: equalOnlyAfterNormalisation[i] ?? 0,
          })),
        }),
  };
}

/** A key tuple as column name → value (null for null). */
function keyRecord(table: TableMetadata, key: KeyTuple | null): Record<string, ExactValue> | null {
  return key === null ? null : Object.fromEntries(table.primaryKey.map((column, i) => [column, key[i] ?? null]));
}

/**
 * Compares `tables` on the source and the target chunk by chunk, drills down into the chunks
 * that differ, rechecks each differing key, and reports those still different (see the module notes).
 *
 * @param options - see {@link VerifyOptions}
 * @returns per-table counts; `identical` is true when every table was compared and nothing differed
 * @throws {@link InvalidOptionError} for bad options, a table without a primary key, or an ENUM/SET key column
 * @throws {@link TableNotFoundError} for a table missing on the source
 * @throws the database error of a failed read, or the signal's reason when aborted
 */
export async function verify(options: VerifyOptions): Promise<VerifyReport> {
  const started = Date.now();
  const settings = checkOptions(options);
  const [sourceSchema, targetSchema, sourceSettings, targetSettings] = await Promise.all([
    schemaOf(options.source, options.sourceSchema, 'source'),
    schemaOf(options.target, options.targetSchema, 'target'),
    loadServerSettings(options.source),
    loadServerSettings(options.target),
  ]);
  await checkZoneKnown(settings.normalize, [
    { name: 'source', runner: options.source },
    { name: 'target', runner: options.target },
    ...(options.replicas?.source === undefined ? [] : [{ name: 'source replica', runner: options.replicas.source }]),
    ...(options.replicas?.target === undefined ? [] : [{ name: 'target replica', runner: options.replicas.target }]),
  ]);
  // Every table is checked before any is compared, so a bad name fails the run at once.
  const prepared: Prepared[] = [];
  for (const name of options.tables) {
    prepared.push(await prepareTable(name, { source: sourceSchema, target: targetSchema }, { source: sourceSettings, target: targetSettings }, options));
  }
  const store = settings.job === undefined ? null : new VerifyCheckpointStore(options.target, options.checkpointTable);
  if (store !== null && !settings.resume) await store.reset(settings.job as string);
  const tables: TableVerifyReport[] = [];
  for (const [i, name] of options.tables.entries()) {
    settings.signal?.throwIfAborted();
    const entry = prepared[i] as Prepared;
    if ('status' in entry) {
      tables.push({ table: name, status: entry.status, detail: entry.detail, rowsChecked: 0, chunks: 0, chunksDiffered: 0, candidates: 0, resolvedOnRecheck: 0, missing: 0, extra: 0, different: 0, durationMs: 0 });
      continue;
    }
    const checkpoints = store === null ? null : { store, job: settings.job as string, schema: sourceSchema };
    const checkpoint = checkpoints === null ? null : await checkpoints.store.load(checkpoints.job, sourceSchema, name);
    if (checkpoint?.done === true) {
      // Finished by an earlier run of the job: its counts stand.
      tables.push({ table: name, status: 'verified', ...countsOf(checkpoint), candidates: 0, resolvedOnRecheck: 0, durationMs: 0, resumedAfter: null });
      continue;
    }
    const start: ResumePoint = checkpoint === null ? { after: null, counts: ZERO_COUNTS } : { after: checkpoint.after, counts: countsOf(checkpoint) };
    tables.push(await verifyTable(name, entry, options, settings, start, checkpoints));
  }
  // The run is complete: the next run of the job starts over.
  if (store !== null) await store.reset(settings.job as string);
  const identical = tables.every((table) => table.status === 'verified' && table.missing + table.extra + table.different === 0);
  if (options.record !== undefined && options.record !== false) {
    await recordVerifyRun(
      options.target,
      {
        startedAt: started,
        finishedAt: Date.now(),
        tables: tables.map((table) => `${sourceSchema}.${table.table}`),
        rowsChecked: tables.reduce((total, table) => total + table.rowsChecked, 0),
        differences: tables.reduce((total, table) => total + table.missing + table.extra + table.different, 0),
        identical,
        normalisation: settings.normalize === undefined ? null : JSON.stringify(settings.normalize),
      },
      options.record === true ? undefined : options.record,
    );
  }
  return { identical, tables, durationMs: Date.now() - started };
}
