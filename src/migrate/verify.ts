/**
 * `verify()`: proves that the source and the target hold the same rows, table by table, and
 * reports the keys that differ.
 *
 * 1. **Chunks.** Chunk boundaries are found on the source by reading primary keys in keyset order
 *    (`chunkRows` keys per chunk, an index-only read, never OFFSET). Each chunk is the key range
 *    `(previous boundary, boundary]`; the first is open downward and the last open upward, so rows
 *    the target holds below the source's smallest key or above its largest are inside a chunk too.
 *    A table of `n` source rows gives `floor(n / chunkRows) + 1` chunks (one for an empty table).
 *    The next boundary is read while the current chunk is compared.
 * 2. **Checksums.** Both sides compute the chunk's row count and order-independent checksum
 *    (`chunkChecksum`, in the manner of pt-table-checksum) in parallel; only two numbers per side
 *    cross the network.
 * 3. **Drill-down.** Only for a chunk whose (rows, checksum) differ: per-row hashes of both sides
 *    over the range, matched by exact primary key (see `verify-drill`).
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
 * Reads use connections checked out from the pools (three on the source, two on the target per
 * table), each with `time_zone = '+00:00'` for the run (restored before release), so TIMESTAMP
 * keys compare as the instants they name. Read the sides' primary servers, not replicas: a
 * replica's lag would look like differences.
 *
 * Limits: keys are matched byte for byte, so two keys a case-insensitive collation holds equal
 * (`'a'` on one side, `'A'` on the other) are reported as one missing and one extra row.
 *
 * @module
 */
import { InvalidOptionError, TableNotFoundError } from '../errors.js';
import { loadServerSettings, loadTable } from '../schema/index.js';
import type { MetadataQueryable, ServerSettings, TableMetadata } from '../schema/types.js';
import { chunkChecksum, hashedColumns, type KeyRange } from './checksum.js';
import { queryExact, type ExactQueryable, type ExactValue } from './codec.js';
import { keyOfRow, keysetChunkQuery, primaryKeyColumns, type KeyTuple } from './keyset.js';
import { drillRange, Rechecker, type DifferenceKind, type KeyComparison, type VerifySide } from './verify-drill.js';

export type { DifferenceKind } from './verify-drill.js';

/** A checked-out connection as verify uses it (a mysql2/promise `PoolConnection` fits). */
export interface VerifyConnection extends ExactQueryable {
  /** Returns the connection to its pool. */
  release(): void;
}

/** A pool as verify uses it (a mysql2/promise `Pool` fits): metadata reads, and connections to check out. */
export interface VerifyPool extends MetadataQueryable {
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
  /** Receives each confirmed difference as soon as it is confirmed (the report keeps only counts). */
  readonly onDifference?: (difference: Difference) => void;
  /**
   * Keep every difference in the report too (memory grows with the differences).
   * @defaultValue false
   */
  readonly collect?: boolean;
  /** Aborts the run: `verify` rejects with the signal's reason once the current step ends. */
  readonly signal?: AbortSignal;
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
  /** Wall time spent on the table, in milliseconds. */
  readonly durationMs: number;
  /** Every confirmed difference, only with `collect: true`. */
  readonly differences?: readonly Difference[];
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
const DEFAULT_DELAY_MS = 200;
const DEFAULT_ATTEMPTS = 2;
const RECHECK_BATCH_KEYS = 200;

interface Settings {
  readonly chunkRows: number;
  readonly delayMs: number;
  readonly attempts: number;
  readonly collect: boolean;
  readonly onDifference: ((difference: Difference) => void) | undefined;
  readonly signal: AbortSignal | undefined;
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
  return { chunkRows, delayMs, attempts, collect: options.collect === true, onDifference: options.onDifference, signal: options.signal };
}

/** The pool's default database, or the schema given. */
export async function schemaOf(pool: VerifyPool, given: string | undefined, side: string): Promise<string> {
  if (given !== undefined) return given;
  const [rows] = await pool.query('SELECT DATABASE() AS name');
  const name = Array.isArray(rows) ? (rows[0] as { name?: unknown } | undefined)?.name : undefined;
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError(`verify ${side}Schema`, given, `a database name (the ${side} pool has no default database: put it in the URL or pass ${side}Schema)`);
  }
  return name;
}

/** A table ready to compare, or the reason it cannot be. */
export type Prepared = { source: TableMetadata; target: TableMetadata } | { source: TableMetadata; status: 'missing_on_target' | 'schema_mismatch'; detail: string };

export async function prepareTable(name: string, schemas: { source: string; target: string }, settings: { source: ServerSettings; target: ServerSettings }, options: VerifyOptions): Promise<Prepared> {
  const [source, target] = await Promise.all([
    loadTable(options.source, schemas.source, name, settings.source),
    loadTable(options.target, schemas.target, name, settings.target).catch((error: unknown) => {
      if (error instanceof TableNotFoundError) return null;
      throw error;
    }),
  ]);
  if (source.primaryKey.length === 0) {
    throw new InvalidOptionError(
      'verify tables',
      name,
      `tables with a primary key: \`${schemas.source}\`.\`${name}\` has none on the source. Verify compares rows by primary key ` +
        'and does not guess one from other columns; add a primary key or leave the table out',
    );
  }
  primaryKeyColumns(source); // refuses ENUM/SET key columns
  if (target === null) {
    return { source, status: 'missing_on_target', detail: `table \`${schemas.target}\`.\`${name}\` does not exist on the target: create it (and backfill) before verifying` };
  }
  const columnsOf = (table: TableMetadata): string => hashedColumns(table).map((column) => column.name.toLowerCase()).join(', ');
  const keyOf = (table: TableMetadata): string => table.primaryKey.map((column) => column.toLowerCase()).join(', ');
  if (columnsOf(source) !== columnsOf(target) || keyOf(source) !== keyOf(target)) {
    return {
      source,
      status: 'schema_mismatch',
      detail:
        `the sides differ in columns or primary key: source columns (${columnsOf(source)}) key (${keyOf(source)}), ` +
        `target columns (${columnsOf(target)}) key (${keyOf(target)}); make the target's table definition match the source's`,
    };
  }
  return { source, target };
}

/** Checks out `count` connections of `pool` with `time_zone = '+00:00'`; `release` restores and returns them. */
export async function checkOut(pool: VerifyPool, count: number): Promise<{ connections: VerifyConnection[]; release: () => Promise<void> }> {
  const held: { connection: VerifyConnection; zone: string | null }[] = [];
  const release = async (): Promise<void> => {
    await Promise.all(
      held.map(async ({ connection, zone }) => {
        try {
          if (zone !== null && zone !== '+00:00') await connection.query({ sql: 'SET time_zone = ?', values: [zone] });
        } finally {
          connection.release();
        }
      }),
    );
  };
  try {
    for (let i = 0; i < count; i++) {
      const connection = await pool.getConnection();
      const entry: { connection: VerifyConnection; zone: string | null } = { connection, zone: null };
      held.push(entry);
      const [row] = await queryExact(connection, 'SELECT @@session.time_zone');
      entry.zone = typeof row?.[0] === 'string' ? row[0] : null;
      if (entry.zone !== '+00:00') await connection.query({ sql: "SET time_zone = '+00:00'" });
    }
  } catch (error) {
    await release().catch(() => undefined);
    throw error;
  }
  return { connections: held.map((entry) => entry.connection), release };
}

/** The upper bound of the next chunk after `after`, read on the source (null: the last chunk, open upward). */
async function nextBoundary(connection: ExactQueryable, table: TableMetadata, after: KeyTuple | null, chunkRows: number): Promise<KeyTuple | null> {
  const query = keysetChunkQuery(table, { after, limit: chunkRows, columns: table.primaryKey });
  const rows = await queryExact(connection, query.sql, query.values);
  const last = rows[rows.length - 1];
  return rows.length < chunkRows || last === undefined ? null : keyOfRow(query, last);
}

/** The report of a table compared to the end. */
export function verifiedReport(run: {
  table: string;
  started: number;
  rowsChecked: number;
  chunks: number;
  chunksDiffered: number;
  rechecker: { readonly candidates: number; readonly resolved: number };
  counts: Record<Difference['kind'], number>;
  differences: Difference[];
  collect: boolean;
}): TableVerifyReport {
  return {
    table: run.table,
    status: 'verified',
    rowsChecked: run.rowsChecked,
    chunks: run.chunks,
    chunksDiffered: run.chunksDiffered,
    candidates: run.rechecker.candidates,
    resolvedOnRecheck: run.rechecker.resolved,
    ...run.counts,
    durationMs: Date.now() - run.started,
    ...(run.collect ? { differences: run.differences } : {}),
  };
}

/** Counts reported differences per kind, keeps them when `collect` is set, and streams them to `onDifference`. */
export function differenceCollector(
  table: string,
  keyNames: readonly string[],
  settings: Pick<Settings, 'collect' | 'onDifference'>,
): { counts: Record<Difference['kind'], number>; differences: Difference[]; report: (key: KeyTuple, comparison: KeyComparison) => void } {
  const counts = { missing: 0, extra: 0, different: 0 };
  const differences: Difference[] = [];
  const report = (key: KeyTuple, comparison: KeyComparison): void => {
    const difference: Difference = {
      table,
      kind: comparison.kind,
      key: Object.fromEntries(keyNames.map((column, i) => [column, key[i] ?? null])),
      ...(comparison.columns === undefined ? {} : { columns: comparison.columns }),
    };
    counts[comparison.kind]++;
    if (settings.collect) differences.push(difference);
    settings.onDifference?.(difference);
  };
  return { counts, differences, report };
}

/** Checks out `sourceCount` connections of the source and `targetCount` of the target (the source's given back if the target's fail). */
export async function checkOutBoth(
  source: VerifyPool,
  sourceCount: number,
  target: VerifyPool,
  targetCount: number,
): Promise<[Awaited<ReturnType<typeof checkOut>>, Awaited<ReturnType<typeof checkOut>>]> {
  const sourceSession = await checkOut(source, sourceCount);
  try {
    return [sourceSession, await checkOut(target, targetCount)];
  } catch (error) {
    await sourceSession.release();
    throw error;
  }
}

async function verifyTable(name: string, prepared: { source: TableMetadata; target: TableMetadata }, options: VerifyOptions, settings: Settings): Promise<TableVerifyReport> {
  const started = Date.now();
  const { counts, differences, report } = differenceCollector(name, prepared.source.primaryKey, settings);
  let rowsChecked = 0;
  let chunks = 0;
  let chunksDiffered = 0;

  const [sourceSession, targetSession] = await checkOutBoth(options.source, 3, options.target, 2);
  const [boundaryConnection, sourceConnection, sourceRecheck] = sourceSession.connections as [VerifyConnection, VerifyConnection, VerifyConnection];
  const [targetConnection, targetRecheck] = targetSession.connections as [VerifyConnection, VerifyConnection];
  const source: VerifySide = { connection: sourceConnection, table: prepared.source };
  const target: VerifySide = { connection: targetConnection, table: prepared.target };
  const rechecker = new Rechecker({
    source: { connection: sourceRecheck, table: prepared.source },
    target: { connection: targetRecheck, table: prepared.target },
    delayMs: settings.delayMs,
    attempts: settings.attempts,
    batchKeys: RECHECK_BATCH_KEYS,
    maxPending: Math.max(settings.chunkRows * 4, RECHECK_BATCH_KEYS),
    report,
    signal: settings.signal,
  });

  let next: Promise<KeyTuple | null> | null = null;
  try {
    let lower: KeyTuple | null = null;
    next = nextBoundary(boundaryConnection, prepared.source, null, settings.chunkRows);
    for (;;) {
      settings.signal?.throwIfAborted();
      if (rechecker.failure !== null) throw rechecker.failure;
      const upper: KeyTuple | null = await next;
      if (upper !== null) {
        next = nextBoundary(boundaryConnection, prepared.source, upper, settings.chunkRows);
        next.catch(() => undefined); // awaited on the next round; an early exit must not leave it unhandled
      }
      const range: KeyRange = { lowerExclusive: lower, upperInclusive: upper };
      const [sourceSum, targetSum] = await Promise.all([chunkChecksum(sourceConnection, prepared.source, range), chunkChecksum(targetConnection, prepared.target, range)]);
      chunks++;
      rowsChecked += sourceSum.rows;
      if (sourceSum.rows !== targetSum.rows || sourceSum.checksum !== targetSum.checksum) {
        chunksDiffered++;
        await drillRange(source, target, range, settings.chunkRows, (keys) => rechecker.add(keys));
      }
      if (upper === null) break;
      lower = upper;
    }
    await rechecker.finish();
  } catch (error) {
    // The re-reads and the boundary read in flight must end before their connections go back to the pool.
    await Promise.allSettled([rechecker.stop(), next]);
    throw error;
  } finally {
    await Promise.allSettled([sourceSession.release(), targetSession.release()]);
  }

  return verifiedReport({ table: name, started, rowsChecked, chunks, chunksDiffered, rechecker, counts, differences, collect: settings.collect });
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
  // Every table is checked before any is compared, so a bad name fails the run at once.
  const prepared: Prepared[] = [];
  for (const name of options.tables) {
    prepared.push(await prepareTable(name, { source: sourceSchema, target: targetSchema }, { source: sourceSettings, target: targetSettings }, options));
  }
  const tables: TableVerifyReport[] = [];
  for (const [i, name] of options.tables.entries()) {
    settings.signal?.throwIfAborted();
    const entry = prepared[i] as Prepared;
    if ('status' in entry) {
      tables.push({ table: name, status: entry.status, detail: entry.detail, rowsChecked: 0, chunks: 0, chunksDiffered: 0, candidates: 0, resolvedOnRecheck: 0, missing: 0, extra: 0, different: 0, durationMs: 0 });
    } else {
      tables.push(await verifyTable(name, entry, options, settings));
    }
  }
  const identical = tables.every((table) => table.status === 'verified' && table.missing + table.extra + table.different === 0);
  return { identical, tables, durationMs: Date.now() - started };
}
