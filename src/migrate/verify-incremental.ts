/**
 * The two narrow modes of verify: {@link verifyIncremental} re-checks only the rows changed since
 * a point in time (by an `updated_at`-style column) plus the rows deleted on the source but still
 * on the target, and {@link verifyKeys} checks exactly a given list of keys (e.g. the keys of the
 * dual-write pool's repair log). Both report in the shapes of `verify()` ({@link VerifyReport},
 * {@link Difference}) and confirm every candidate with the same {@link Rechecker} (a delayed
 * exact re-read of both sides), so an in-flight write is not reported.
 *
 * **Forward pass** (incremental). Reads, on the source, the primary keys of the rows whose
 * `changedColumn >= since`, one page of `batchKeys` keys at a time (keyset paging, never
 * OFFSET), and compares the rows of each page exactly on both sides ({@link compareKeys}: a
 * `WHERE` on the page's keys, read with the lossless codec). When an index of the source table
 * starts with `changedColumn`, pages are walked in `(changedColumn, primary key)` order, an index
 * range that reads only the changed rows; otherwise in primary-key order with the condition as a
 * filter, which reads the whole clustered index once (cheap per row, nothing is hashed, and only
 * the changed keys cross the network) — add an index on the column for large tables.
 *
 * **Reverse pass** (incremental, on by default). Rows deleted on the source leave no changed row
 * behind, so the forward pass cannot see them: the reverse pass walks every primary key of the
 * *target* in keyset order (`batchKeys` at a time, index-only) and looks each page up on the
 * source by key; a key absent on the source is a candidate `extra`. Its cost is a full walk of
 * the target's primary key plus one key lookup per target row on the source — O(rows), not
 * O(changes); turn it off (`reversePass: false`) to run only the forward pass, e.g. between two
 * full runs.
 *
 * **`nextSince`.** The source server's UTC time, read at the start of the run (truncated to the
 * column's fractional-second precision), to pass as `since` to the next run, so writes made
 * during this run are covered by the next one. When the table is not compared (missing on the
 * target, or schema mismatch) `nextSince` is the `since` given, so nothing is skipped.
 *
 * Memory is bounded by `batchKeys` (plus the recheck queue), whatever the table size; differences
 * stream to `onDifference`.
 *
 * Limits:
 * - A TIMESTAMP `changedColumn` is compared as UTC (sessions use `time_zone = '+00:00'`), and
 *   `since` / `nextSince` are UTC text. A DATETIME column has no zone: it is compared as the text
 *   stored, so `nextSince` is right only when the writers' sessions use UTC.
 * - A row changed by a transaction that began before the run but committed after the forward
 *   pass passed its key carries an `updated_at` older than `nextSince` and is missed by the next
 *   run; give `overlapMs` (subtracted from `nextSince`) at least the longest write transaction.
 * - A row whose `changedColumn` is set by the application to a time in the past, or a row written
 *   on the target only (not by the source), is not seen by the forward pass.
 * - A key can be reported twice when it changes during the run (it moves forward in the
 *   `(changedColumn, key)` order, or is deleted between the two passes).
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { checkProfile, checkZoneKnown } from './normalize.js';
import { loadServerSettings } from '../schema/index.js';
import type { ColumnMetadata, TableMetadata } from '../schema/types.js';
import { columnReadExpression, decodeColumnValue, queryExact, quoteIdentifier, type ExactValue } from './codec.js';
import { encodeKeyJson } from './key-json.js';
import { keyOrderBy, keysetChunkQuery, keyOfRow, primaryKeyColumns, qualifiedTableName, tupleComparison, type KeyTuple } from './keyset.js';
import type { Difference, TableVerifyReport, VerifyConnection, VerifyOptions, VerifyPool, VerifyReport } from './verify.js';
import { checkOutBoth, differenceCollector, prepareTable, schemaOf, verifiedReport, type Prepared } from './verify-setup.js';
import { compareKeys, keysWhere, Rechecker, type VerifySide } from './verify-drill.js';

/** Options shared by {@link verifyIncremental} and {@link verifyKeys}. */
/** Re-check, streaming, collecting and aborting work as in `verify()`. */
export interface KeyedVerifyOptions extends Pick<VerifyOptions, 'recheck' | 'onDifference' | 'collect' | 'signal' | 'normalize'> {
  /** The source side's pool (read its primary server, not a replica). */
  readonly source: VerifyPool;
  /** The target side's pool. */
  readonly target: VerifyPool;
  /**
   * The source database.
   * @defaultValue the source pool's database
   */
  readonly sourceSchema?: string;
  /**
   * The target database.
   * @defaultValue the target pool's database
   */
  readonly targetSchema?: string;
  /** The table to check (it must have a primary key); the same name on both sides. */
  readonly table: string;
  /**
   * Keys read and compared per statement.
   * @defaultValue 500
   */
  readonly batchKeys?: number;
}

/** Options of {@link verifyIncremental}. */
export interface VerifyIncrementalOptions extends KeyedVerifyOptions {
  /** An `updated_at`-style DATETIME or TIMESTAMP column of the source table (ideally `ON UPDATE CURRENT_TIMESTAMP`, ideally indexed). */
  readonly changedColumn: string;
  /** Rows with `changedColumn >= since` are compared: UTC text `YYYY-MM-DD hh:mm:ss[.ffffff]`, e.g. a previous run's `nextSince`. */
  readonly since: string;
  /**
   * Walk the target's keys to find rows deleted on the source (a full key walk, see the module notes).
   * @defaultValue true
   */
  readonly reversePass?: boolean;
  /**
   * Milliseconds subtracted from `nextSince`, to cover write transactions still open when the run starts.
   * @defaultValue 0
   */
  readonly overlapMs?: number;
}

/** What {@link verifyIncremental} found in the table: verify's counts plus those of each pass. */
export interface IncrementalTableReport extends TableVerifyReport {
  /** Source rows with `changedColumn >= since` compared by the forward pass (also in `rowsChecked`). */
  readonly changedRows: number;
  /** Target keys walked by the reverse pass (0 when it is off). */
  readonly targetKeysScanned: number;
  /**
   * How the forward pass walked the source: `changedColumn` (an index starts with it: only changed
   * rows are read) or `primaryKey` (no such index: the clustered index is read once, filtered).
   */
  readonly forwardOrder: 'changedColumn' | 'primaryKey';
}

/** What {@link verifyIncremental} found. */
export interface VerifyIncrementalReport extends VerifyReport {
  /** One entry: the table. */
  readonly tables: readonly IncrementalTableReport[];
  /** The `since` of the next run: the source's UTC time at the start of this run (minus `overlapMs`). */
  readonly nextSince: string;
}

/** Options of {@link verifyKeys}. */
export interface VerifyKeysOptions extends KeyedVerifyOptions {
  /** The keys to check, primary-key column name → exact value (TIMESTAMP key values as UTC text); duplicates are checked once per occurrence. */
  readonly keys: readonly Readonly<Record<string, ExactValue>>[];
}

const DEFAULT_BATCH_KEYS = 500;
const DEFAULT_DELAY_MS = 200;
const DEFAULT_ATTEMPTS = 2;
const SINCE_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$/;

interface Settings {
  readonly batchKeys: number;
  readonly delayMs: number;
  readonly attempts: number;
  readonly collect: boolean;
  readonly onDifference: ((difference: Difference) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

function checkSettings(options: KeyedVerifyOptions, what: string): Settings {
  const batchKeys = options.batchKeys ?? DEFAULT_BATCH_KEYS;
  if (!Number.isSafeInteger(batchKeys) || batchKeys < 1) throw new InvalidOptionError(`${what} batchKeys`, batchKeys, 'a positive integer number of keys');
  const delayMs = options.recheck?.delayMs ?? DEFAULT_DELAY_MS;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new InvalidOptionError(`${what} recheck.delayMs`, delayMs, 'a number of milliseconds, 0 or more');
  const attempts = options.recheck?.attempts ?? DEFAULT_ATTEMPTS;
  if (!Number.isSafeInteger(attempts) || attempts < 0) throw new InvalidOptionError(`${what} recheck.attempts`, attempts, 'an integer, 0 or more');
  if (typeof options.table !== 'string' || options.table === '') throw new InvalidOptionError(`${what} table`, options.table, 'a table name');
  return { batchKeys, delayMs, attempts, collect: options.collect === true, onDifference: options.onDifference, signal: options.signal };
}

/** Loads and checks the table on both sides (as verify does). */
async function prepare(options: KeyedVerifyOptions): Promise<Prepared> {
  const [sourceSchema, targetSchema, sourceSettings, targetSettings] = await Promise.all([
    schemaOf(options.source, options.sourceSchema, 'source'),
    schemaOf(options.target, options.targetSchema, 'target'),
    loadServerSettings(options.source),
    loadServerSettings(options.target),
  ]);
  await checkZoneKnown(options.normalize === undefined ? undefined : checkProfile(options.normalize, 'verify normalize'), [
    { name: 'source', runner: options.source },
    { name: 'target', runner: options.target },
  ]);
  const verifyOptions: VerifyOptions = { source: options.source, target: options.target, tables: [options.table], ...(options.normalize === undefined ? {} : { normalize: options.normalize }) };
  return prepareTable(options.table, { source: sourceSchema, target: targetSchema }, { source: sourceSettings, target: targetSettings }, verifyOptions);
}

function notCompared(name: string, entry: { status: 'missing_on_target' | 'schema_mismatch'; detail: string }): TableVerifyReport {
  return { table: name, status: entry.status, detail: entry.detail, rowsChecked: 0, chunks: 0, chunksDiffered: 0, candidates: 0, resolvedOnRecheck: 0, missing: 0, extra: 0, different: 0, durationMs: 0 };
}

/** The connections and the rechecker of one keyed run; `candidates` hands keys to the recheck. */
interface KeyedRun {
  /** Source side for the scan and the first comparison. */
  readonly source: VerifySide;
  /** Target side for the scan and the first comparison. */
  readonly target: VerifySide;
  /** Queues keys found different (or absent on one side) for the recheck. */
  readonly candidates: (keys: readonly KeyTuple[]) => Promise<void>;
  /** Counts one batch read (a page of the forward pass, the reverse pass, or of the given keys). */
  batch(differed: boolean): void;
}

/**
 * Checks out two connections per side (`+00:00`), starts a {@link Rechecker} beside `work`, and
 * returns verify's table report once `work` ended and every candidate was confirmed or dropped.
 */
async function runKeyed(
  options: KeyedVerifyOptions,
  prepared: Extract<Prepared, { hash: unknown }>,
  settings: Settings,
  work: (run: KeyedRun) => Promise<number>,
): Promise<TableVerifyReport> {
  const started = Date.now();
  const name = options.table;
  const { counts, differences, report } = differenceCollector(name, prepared.source.primaryKey, settings);
  let chunks = 0;
  let chunksDiffered = 0;

  const [sourceSession, targetSession] = await checkOutBoth(options.source, 2, options.target, 2);
  const [sourceConnection, sourceRecheck] = sourceSession.connections as [VerifyConnection, VerifyConnection];
  const [targetConnection, targetRecheck] = targetSession.connections as [VerifyConnection, VerifyConnection];
  const rechecker = new Rechecker({
    source: { connection: sourceRecheck, table: prepared.source, hash: prepared.hash.source },
    target: { connection: targetRecheck, table: prepared.target, hash: prepared.hash.target },
    delayMs: settings.delayMs,
    attempts: settings.attempts,
    batchKeys: settings.batchKeys,
    maxPending: settings.batchKeys * 4,
    report,
    signal: settings.signal,
  });
  let rowsChecked: number;
  try {
    rowsChecked = await work({
      source: { connection: sourceConnection, table: prepared.source, hash: prepared.hash.source },
      target: { connection: targetConnection, table: prepared.target, hash: prepared.hash.target },
      candidates: async (keys) => {
        settings.signal?.throwIfAborted();
        if (rechecker.failure !== null) throw rechecker.failure;
        if (keys.length > 0) await rechecker.add(keys);
      },
      batch: (differed) => {
        chunks++;
        if (differed) chunksDiffered++;
      },
    });
    await rechecker.finish();
  } catch (error) {
    await rechecker.stop();
    throw error;
  } finally {
    await Promise.allSettled([sourceSession.release(), targetSession.release()]);
  }
  return verifiedReport({ table: name, started, rowsChecked, chunks, chunksDiffered, rechecker, counts, differences, collect: settings.collect });
}

/** Compares `keys` exactly on both sides and queues those that differ for the recheck. */
async function compareBatch(run: KeyedRun, keys: readonly KeyTuple[]): Promise<void> {
  const comparisons = await compareKeys(run.source, run.target, keys);
  const differing = keys.filter((_, i) => comparisons[i] !== null);
  run.batch(differing.length > 0);
  await run.candidates(differing);
}

/** True when an index of the source table has `column` as its first column. */
async function hasLeadingIndex(options: KeyedVerifyOptions, table: TableMetadata, column: ColumnMetadata): Promise<boolean> {
  const [rows] = await options.source.query(
    'SELECT 1 AS found FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND SEQ_IN_INDEX = 1 AND COLUMN_NAME = ? LIMIT 1',
    [table.schema, table.name, column.name],
  );
  return Array.isArray(rows) && rows.length > 0;
}

/** `text` cut to `precision` fractional digits (0: none). */
function truncateFraction(text: string, precision: number): string {
  const [whole, fraction = ''] = text.split('.');
  const digits = fraction.slice(0, precision);
  return digits === '' ? (whole as string) : `${whole as string}.${digits}`;
}

/** The source's UTC time now, minus `overlapMs`, as `YYYY-MM-DD hh:mm:ss.ffffff` cut to `precision`. */
async function serverUtcNow(run: KeyedRun, overlapMs: number, precision: number): Promise<string> {
  const micros = Math.round(overlapMs * 1000);
  const [row] = await queryExact(run.source.connection, "SELECT DATE_FORMAT(UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND, '%Y-%m-%d %H:%i:%s.%f')", [micros]);
  const value = row?.[0];
  const text = typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString('latin1') : null;
  if (text === null) throw new InvalidOptionError('verifyIncremental source', null, 'a server that answers UTC_TIMESTAMP(6)');
  return truncateFraction(text, precision);
}

/** The forward pass: every source row with `changed >= since`, compared page by page. Returns the rows compared. */
async function forwardPass(run: KeyedRun, changed: ColumnMetadata, since: string, byIndex: boolean, settings: Settings): Promise<number> {
  const table = run.source.table;
  const keyColumns = primaryKeyColumns(table);
  const order = byIndex ? [changed, ...keyColumns.filter((column) => column !== changed)] : keyColumns;
  const keyPositions = keyColumns.map((column) => order.indexOf(column));
  const select = `SELECT ${order.map((column) => columnReadExpression(column)).join(', ')} FROM ${qualifiedTableName(table)} WHERE ${quoteIdentifier(changed.name)} >= ?`;
  let after: KeyTuple | null = null;
  let rows = 0;
  for (;;) {
    settings.signal?.throwIfAborted();
    const bound = after === null ? null : tupleComparison(order, '>', after);
    const sql = `${select}${bound === null ? '' : ` AND ${bound.sql}`} ${keyOrderBy(order)} LIMIT ?`;
    const page = await queryExact(run.source.connection, sql, [since, ...(bound?.values ?? []), settings.batchKeys]);
    if (page.length === 0) return rows;
    const decoded = page.map((row) => order.map((column, i) => decodeColumnValue(column, row[i] ?? null)));
    rows += decoded.length;
    await compareBatch(
      run,
      decoded.map((row) => keyPositions.map((position) => row[position] ?? null)),
    );
    if (page.length < settings.batchKeys) return rows;
    after = decoded[decoded.length - 1] as KeyTuple;
  }
}

/** The reverse pass: every target key, looked up on the source; keys absent there are candidates. Returns the keys walked. */
async function reversePass(run: KeyedRun, settings: Settings): Promise<number> {
  const target = run.target.table;
  const source = run.source.table;
  const sourceKeys = primaryKeyColumns(source);
  const keySelect = sourceKeys.map((column) => columnReadExpression(column)).join(', ');
  let after: KeyTuple | null = null;
  let walked = 0;
  for (;;) {
    settings.signal?.throwIfAborted();
    const query = keysetChunkQuery(target, { after, limit: settings.batchKeys, columns: target.primaryKey });
    const page = await queryExact(run.target.connection, query.sql, query.values);
    if (page.length === 0) return walked;
    const keys = page.map((row) => keyOfRow(query, row));
    walked += keys.length;
    const where = keysWhere(source, keys);
    const found = await queryExact(run.source.connection, `SELECT ${keySelect} FROM ${qualifiedTableName(source)} ${where.sql}`, where.values);
    const present = new Set(found.map((row) => encodeKeyJson(sourceKeys.map((column, i) => decodeColumnValue(column, row[i] ?? null)))));
    const absent = keys.filter((key) => !present.has(encodeKeyJson(key)));
    run.batch(absent.length > 0);
    await run.candidates(absent);
    if (page.length < settings.batchKeys) return walked;
    after = keys[keys.length - 1] as KeyTuple;
  }
}

/**
 * Re-checks the rows of `table` changed since `since` (forward pass) and finds rows deleted on the
 * source but still on the target (reverse pass); see the module notes for costs and limits.
 *
 * @param options - see {@link VerifyIncrementalOptions}
 * @returns verify's report for the table, with each pass's counts, and `nextSince` for the next run
 * @throws {@link InvalidOptionError} for bad options, a table without a primary key, or a `changedColumn` that is not a DATETIME/TIMESTAMP column of the source table
 * @throws {@link TableNotFoundError} for a table missing on the source
 * @throws the database error of a failed read, or the signal's reason when aborted
 */
export async function verifyIncremental(options: VerifyIncrementalOptions): Promise<VerifyIncrementalReport> {
  const started = Date.now();
  const settings = checkSettings(options, 'verifyIncremental');
  if (typeof options.since !== 'string' || !SINCE_TEXT.test(options.since)) {
    throw new InvalidOptionError('verifyIncremental since', options.since, "UTC date-time text 'YYYY-MM-DD hh:mm:ss[.ffffff]' (e.g. a previous run's nextSince)");
  }
  const overlapMs = options.overlapMs ?? 0;
  if (!Number.isFinite(overlapMs) || overlapMs < 0) throw new InvalidOptionError('verifyIncremental overlapMs', overlapMs, 'a number of milliseconds, 0 or more');
  const prepared = await prepare(options);
  const changed = prepared.source.columnsByName.get(String(options.changedColumn).toLowerCase());
  if (changed === undefined || (changed.dataType !== 'timestamp' && changed.dataType !== 'datetime')) {
    throw new InvalidOptionError(
      'verifyIncremental changedColumn',
      options.changedColumn,
      `a DATETIME or TIMESTAMP column of \`${prepared.source.schema}\`.\`${options.table}\` (an updated_at-style column, ON UPDATE CURRENT_TIMESTAMP)`,
    );
  }
  if ('status' in prepared) {
    const entry: IncrementalTableReport = { ...notCompared(options.table, prepared), changedRows: 0, targetKeysScanned: 0, forwardOrder: 'primaryKey' };
    return { identical: false, tables: [entry], durationMs: Date.now() - started, nextSince: options.since };
  }
  const byIndex = await hasLeadingIndex(options, prepared.source, changed);
  let nextSince = options.since;
  let changedRows = 0;
  let targetKeysScanned = 0;
  const table = await runKeyed(options, prepared, settings, async (run) => {
    nextSince = await serverUtcNow(run, overlapMs, changed.datetimePrecision ?? 0);
    changedRows = await forwardPass(run, changed, options.since, byIndex, settings);
    if (options.reversePass !== false) targetKeysScanned = await reversePass(run, settings);
    return changedRows;
  });
  const entry: IncrementalTableReport = { ...table, changedRows, targetKeysScanned, forwardOrder: byIndex ? 'changedColumn' : 'primaryKey' };
  return { identical: entry.missing + entry.extra + entry.different === 0, tables: [entry], durationMs: Date.now() - started, nextSince };
}

/**
 * Checks exactly `keys` of `table` on both sides (e.g. the keys of the pool's repair log), with
 * the same recheck as `verify()`: a key reported is `missing` on the target, `extra` there, or
 * `different` (with its columns). A key absent on both sides is equal.
 *
 * @param options - see {@link VerifyKeysOptions}
 * @returns verify's report for the table (`rowsChecked`: keys checked)
 * @throws {@link InvalidOptionError} for bad options or a key without a value for a primary-key column
 * @throws {@link TableNotFoundError} for a table missing on the source
 * @throws the database error of a failed read, or the signal's reason when aborted
 */
export async function verifyKeys(options: VerifyKeysOptions): Promise<VerifyReport> {
  const started = Date.now();
  const settings = checkSettings(options, 'verifyKeys');
  const given: unknown = options.keys;
  if (!Array.isArray(given)) throw new InvalidOptionError('verifyKeys keys', given, 'a list of keys (column name → value)');
  const keys = options.keys;
  const prepared = await prepare(options);
  const keyNames = prepared.source.primaryKey;
  const tuples = keys.map((record): KeyTuple => {
    const byName = new Map(Object.entries(record).map(([name, value]): [string, ExactValue] => [name.toLowerCase(), value]));
    return keyNames.map((name): ExactValue => {
      const value = byName.get(name.toLowerCase());
      if (value === undefined || value === null) {
        throw new InvalidOptionError('verifyKeys keys', encodeKeyJson(record), `a value for each primary-key column (${keyNames.join(', ')})`);
      }
      return value;
    });
  });
  if ('status' in prepared) return { identical: false, tables: [notCompared(options.table, prepared)], durationMs: Date.now() - started };
  const table = await runKeyed(options, prepared, settings, async (run) => {
    for (let start = 0; start < tuples.length; start += settings.batchKeys) {
      settings.signal?.throwIfAborted();
      await compareBatch(run, tuples.slice(start, start + settings.batchKeys));
    }
    return tuples.length;
  });
  return { identical: table.missing + table.extra + table.different === 0, tables: [table], durationMs: Date.now() - started };
}
