/**
 * The two row-level steps of verify, used only for chunks whose checksums differ:
 *
 * - {@link drillRange}: per-row hashes of both sides over the chunk's key range (only the rows of
 *   the buckets whose checksums differ), matched by exact primary key; a key present on one side
 *   only, or with different hashes, is a *candidate*. The source side's rows of the chunk are read
 *   at once (a chunk of the source is bounded by the chunk size) beside the target's first page;
 *   the target side is read in pages of at most `pageRows` rows, so memory stays bounded even when
 *   the target holds many rows the source lacks (the last range is open upward).
 * - {@link compareKeys}: reads the candidates' full rows exactly on both sides
 *   ({@link readExactRows}) and classifies each key: equal now, `missing` on the target, `extra`
 *   on the target, or `different` with the names of the differing columns.
 *
 * {@link Rechecker} runs {@link compareKeys} after a delay, and again for keys that still differ,
 * beside the chunk scan (not blocking it), so an in-flight write that reached one side a few
 * milliseconds before the other is not reported.
 *
 * Both sides' connections must use `time_zone = '+00:00'` when a key column is a TIMESTAMP
 * (keys are UTC text, see keyset).
 *
 * @module
 */
import type { TableMetadata } from '../schema/types.js';
import { rowHashesQuery, type HashOptions, type KeyRange, type RowHash } from './checksum.js';
import { columnReadExpression, decodeColumnValue, isTimestampColumn, queryExact, quoteIdentifier, withSessionTimeZone, type ExactQueryable, type ExactValue } from './codec.js';
import { copyColumns, readExactRows, type ExactRows } from './copy.js';
import { hasRules, normalizedColumn } from './normalize.js';
import { encodeKeyJson } from './key-json.js';
import { keyValueSql, primaryKeyColumns, type KeyTuple } from './keyset.js';

/** The kinds of difference verify reports, seen from the target: a row `missing` there, `extra` there, or `different`. */
export type DifferenceKind = 'missing' | 'extra' | 'different';

/** How one key compares on both sides, read exactly: `null` when the rows are equal (or absent on both sides). */
export interface KeyComparison {
  /** The kind of difference. */
  readonly kind: DifferenceKind;
  /** For `different`: names of the columns whose values differ, in table order. */
  readonly columns?: readonly string[];
}

/** One side of a table: a connection (time zone `+00:00`) and the table's metadata on that side. */
export interface VerifySide {
  /** A checked-out connection on this side. */
  readonly connection: ExactQueryable;
  /** The table's metadata on this side (its `schema` qualifies the name). */
  readonly table: TableMetadata;
  /** How rows are hashed and compared on this side: exactly, or under a normalisation profile. */
  readonly hash?: HashOptions;
}

/** Row hashes of `range` (of `buckets` only when given), in key order; at most `limit` rows when given. */
async function rowHashPage(side: VerifySide, range: KeyRange, buckets: readonly number[] | undefined, limit?: number): Promise<RowHash[]> {
  const query = rowHashesQuery(side.table, range, buckets, side.hash);
  const keyColumns = primaryKeyColumns(side.table);
  const rows = await queryExact(side.connection, limit === undefined ? query.sql : `${query.sql} LIMIT ?`, limit === undefined ? query.values : [...query.values, limit]);
  return rows.map((row) => ({ key: keyColumns.map((column, i) => decodeColumnValue(column, row[i] ?? null)), hash: String(row[keyColumns.length]) }));
}

/**
 * Finds the keys of `range` whose rows differ between the sides by their row hashes, and hands
 * them to `onCandidates` one page at a time (awaited, so a slow consumer slows the drill-down).
 *
 * The source's rows of the range are read whole, beside the target's first page: the range is a
 * chunk of the source (bounded by the chunk size), while the target may hold any number of rows
 * the source lacks, so the target is read in pages of `pageRows` and matched against the source's
 * rows as it goes.
 *
 * @param source - the source side
 * @param target - the target side
 * @param range - the chunk's key range (a chunk of the source: its source rows are held at once)
 * @param pageRows - at most this many target rows are held at once
 * @param onCandidates - receives the keys that differ (on one side only, or with different hashes)
 * @param buckets - only the rows of these buckets (those whose checksums differ); every row when omitted
 */
export async function drillRange(
  source: VerifySide,
  target: VerifySide,
  range: KeyRange,
  pageRows: number,
  onCandidates: (keys: KeyTuple[]) => Promise<void>,
  buckets?: readonly number[],
): Promise<void> {
  let lower = range.lowerExclusive;
  const [sourceRows, firstPage] = await Promise.all([rowHashPage(source, range, buckets), rowHashPage(target, range, buckets, pageRows)]);
  const sourceHashes = new Map(sourceRows.map((row) => [encodeKeyJson(row.key), row]));
  let targetPage = firstPage;
  for (;;) {
    const full = targetPage.length === pageRows;
    const candidates: KeyTuple[] = [];
    for (const row of targetPage) {
      const id = encodeKeyJson(row.key);
      const sourceRow = sourceHashes.get(id);
      if (sourceRow === undefined || sourceRow.hash !== row.hash) candidates.push(row.key);
      sourceHashes.delete(id);
    }
    if (!full) {
      // Every target row of the range was seen: the source rows left are not on the target.
      for (const row of sourceHashes.values()) candidates.push(row.key);
      if (candidates.length > 0) await onCandidates(candidates);
      return;
    }
    if (candidates.length > 0) await onCandidates(candidates);
    lower = (targetPage[targetPage.length - 1] as RowHash).key;
    targetPage = await rowHashPage(target, { lowerExclusive: lower, upperInclusive: range.upperInclusive }, buckets, pageRows);
  }
}

/** Two exact values are equal: same bytes, or same text, or both NULL. */
function sameValue(a: ExactValue, b: ExactValue): boolean {
  if (a === null || b === null) return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const bytes = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
  return bytes(a).equals(bytes(b));
}

/** `WHERE (k = … AND …) OR (…)` matching exactly `keys`. */
export function keysWhere(table: TableMetadata, keys: readonly KeyTuple[]): { sql: string; values: unknown[] } {
  const keyColumns = primaryKeyColumns(table);
  const values: unknown[] = [];
  const terms = keys.map((key) => {
    const parts = keyColumns.map((column, i) => {
      const literal = keyValueSql(column, key[i] ?? null);
      values.push(...literal.values);
      return `${quoteIdentifier(column.name)} = ${literal.sql}`;
    });
    return `(${parts.join(' AND ')})`;
  });
  return { sql: `WHERE ${terms.join(' OR ')}`, values };
}

/** The rows read, by the exact JSON of their primary key. */
function rowsByKey(table: TableMetadata, read: ExactRows): Map<string, readonly ExactValue[]> {
  const positions = table.primaryKey.map((name) => read.columns.findIndex((column) => column.toLowerCase() === name.toLowerCase()));
  return new Map(read.rows.map((row) => [encodeKeyJson(positions.map((position) => row[position] ?? null)), row]));
}

/**
 * Reads the rows matching `where` on one side as they are compared: exactly, or, under a
 * normalisation profile, with the covered columns as their normal forms (key columns always exact,
 * so rows are matched by their exact keys).
 */
async function readComparableRows(side: VerifySide, where: { sql: string; values: unknown[] }): Promise<ExactRows> {
  const profile = side.hash?.profile;
  if (!hasRules(profile)) return readExactRows(side.connection, side.table, where.sql, where.values);
  const columns = copyColumns(side.table);
  const keys = new Set(side.table.primaryKey.map((name) => name.toLowerCase()));
  const expressions = columns.map((column) => (keys.has(column.name.toLowerCase()) ? null : normalizedColumn(column, profile, side.hash?.flavor ?? 'mariadb').expression));
  const select = columns.map((column, i) => expressions[i] ?? columnReadExpression(column)).join(', ');
  const read = async (): Promise<ExactRows> => {
    const raw = await queryExact(side.connection, `SELECT ${select} FROM ${quoteIdentifier(side.table.schema)}.${quoteIdentifier(side.table.name)} ${where.sql}`, where.values);
    const rows = raw.map((row) => row.map((value, i) => (expressions[i] === null ? decodeColumnValue(columns[i] as (typeof columns)[number], value) : value)));
    return { columns: columns.map((column) => column.name), rows };
  };
  return columns.some(isTimestampColumn) ? withSessionTimeZone(side.connection, '+00:00', read) : read();
}

/**
 * Reads the rows of `keys` on both sides (in parallel: exactly, or under the sides' normalisation
 * profile) and compares them value by value.
 * The sides must have the same non-generated columns in the same order (verify checks this).
 *
 * @returns one entry per key, in the order of `keys`
 */
export async function compareKeys(source: VerifySide, target: VerifySide, keys: readonly KeyTuple[]): Promise<(KeyComparison | null)[]> {
  if (keys.length === 0) return [];
  const sourceWhere = keysWhere(source.table, keys);
  const targetWhere = keysWhere(target.table, keys);
  const [sourceRead, targetRead] = await Promise.all([readComparableRows(source, sourceWhere), readComparableRows(target, targetWhere)]);
  const sourceRows = rowsByKey(source.table, sourceRead);
  const targetRows = rowsByKey(target.table, targetRead);
  return keys.map((key) => {
    const id = encodeKeyJson(key);
    const sourceRow = sourceRows.get(id);
    const targetRow = targetRows.get(id);
    if (sourceRow === undefined) return targetRow === undefined ? null : { kind: 'extra' };
    if (targetRow === undefined) return { kind: 'missing' };
    const columns = sourceRead.columns.filter((_, i) => !sameValue(sourceRow[i] ?? null, targetRow[i] ?? null));
    return columns.length === 0 ? null : { kind: 'different', columns };
  });
}

/** Options of {@link Rechecker}. */
export interface RecheckerOptions {
  /** The source side (a connection of its own: the rechecker runs beside the chunk scan). */
  readonly source: VerifySide;
  /** The target side (a connection of its own). */
  readonly target: VerifySide;
  /** Milliseconds between finding a key different and each re-read. */
  readonly delayMs: number;
  /** Delayed re-reads before a key is reported; 0 reports after one immediate exact read. */
  readonly attempts: number;
  /** Keys re-read per statement. */
  readonly batchKeys: number;
  /** Keys waiting at most; {@link Rechecker.add} waits beyond (keeps memory bounded). */
  readonly maxPending: number;
  /**
   * Receives each key still different after the last re-read, with the sequence number
   * {@link Rechecker.add} gave it. A promise it returns is awaited before the next re-read (so a slow
   * consumer slows the rechecker, and through its bounded queue the scan).
   */
  readonly report: (key: KeyTuple, comparison: KeyComparison, seq: number) => void | Promise<void>;
  /** Stops the waits and the worker. */
  readonly signal?: AbortSignal | undefined;
}

interface Pending {
  readonly key: KeyTuple;
  readonly due: number;
  readonly attempt: number;
  /** Numbered in the order keys were added, from 1. */
  readonly seq: number;
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Re-reads candidate keys on both sides after a delay, beside the scan, and reports only those
 * still different after the last attempt. Candidates wait in arrival order (every wait is the
 * same `delayMs`, so the queue is also in due order); due keys are re-read in batches.
 */
export class Rechecker {
  readonly #options: RecheckerOptions;
  readonly #queue: Pending[] = [];
  #head = 0;
  #closed = false;
  #stopped = false;
  #wake: (() => void) | null = null;
  #progress: (() => void)[] = [];
  #failure: Error | null = null;
  readonly #done: Promise<void>;
  /** Sequence numbers of the keys not yet resolved or reported, in insertion (= ascending) order. */
  readonly #outstanding = new Set<number>();
  /** Keys handed to the rechecker. */
  candidates = 0;
  /** Keys found equal on a re-read (an in-flight write, not a difference). */
  resolved = 0;

  /** @param options - see {@link RecheckerOptions} */
  constructor(options: RecheckerOptions) {
    this.#options = options;
    this.#done = this.#run().catch((error: unknown) => {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      this.#notifyProgress();
    });
  }

  /**
   * Every key numbered up to this was resolved or reported: the keys {@link Rechecker.add} numbered
   * 1 … `settled` are finished with (a checkpoint may name the chunk whose keys end there).
   */
  get settled(): number {
    for (const seq of this.#outstanding) return seq - 1;
    return this.candidates;
  }

  /** The worker's error, once it failed (the scan checks it between chunks). */
  get failure(): Error | null {
    return this.#failure;
  }

  get #pending(): number {
    return this.#queue.length - this.#head;
  }

  /** Queues keys for a re-read; waits while too many keys are pending. Throws the worker's error. */
  async add(keys: readonly KeyTuple[]): Promise<void> {
    const firstDelay = this.#options.attempts > 0 ? this.#options.delayMs : 0;
    for (const key of keys) {
      while (this.#failure === null && this.#pending >= this.#options.maxPending) await new Promise<void>((resolve) => this.#progress.push(resolve));
      if (this.#failure !== null) throw this.#failure;
      this.candidates++;
      this.#queue.push({ key, due: Date.now() + firstDelay, attempt: 1, seq: this.candidates });
      this.#outstanding.add(this.candidates);
    }
    this.#wakeUp();
  }

  /** Waits until every queued key was re-read and reported or dropped. Throws the worker's error. */
  async finish(): Promise<void> {
    this.#closed = true;
    this.#wakeUp();
    await this.#done;
    if (this.#failure !== null) throw this.#failure;
  }

  /** Stops the worker without re-reading the keys still queued, and waits until it stopped (on an error of the scan). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeUp();
    await this.#done;
  }

  #wakeUp(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #notifyProgress(): void {
    const waiting = this.#progress;
    this.#progress = [];
    for (const resolve of waiting) resolve();
  }

  async #run(): Promise<void> {
    const { source, target, delayMs, attempts, batchKeys, report, signal } = this.#options;
    const lastAttempt = Math.max(1, attempts);
    for (;;) {
      if (this.#stopped) return;
      signal?.throwIfAborted();
      if (this.#pending === 0) {
        if (this.#closed) return;
        await new Promise<void>((resolve) => (this.#wake = resolve));
        continue;
      }
      const wait = (this.#queue[this.#head] as Pending).due - Date.now();
      if (wait > 0) await sleep(wait, signal);
      if (this.#stopped) return;
      const now = Date.now();
      const batch: Pending[] = [];
      while (batch.length < batchKeys && this.#pending > 0 && (this.#queue[this.#head] as Pending).due <= now) batch.push(this.#queue[this.#head++] as Pending);
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue.splice(0, this.#head);
        this.#head = 0;
      }
      const comparisons = await compareKeys(source, target, batch.map((entry) => entry.key));
      const again = Date.now() + delayMs;
      const consumers: Promise<void>[] = [];
      batch.forEach((entry, i) => {
        const comparison = comparisons[i] ?? null;
        if (comparison !== null && entry.attempt < lastAttempt) {
          this.#queue.push({ ...entry, due: again, attempt: entry.attempt + 1 });
          return;
        }
        if (comparison === null) this.resolved++;
        else {
          const consumed = report(entry.key, comparison, entry.seq);
          if (consumed !== undefined) consumers.push(consumed);
        }
        this.#outstanding.delete(entry.seq);
      });
      await Promise.all(consumers);
      this.#notifyProgress();
    }
  }
}
