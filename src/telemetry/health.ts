/**
 * Per-side health counters: how many statements the pool ran on each side as the primary side, how many failed
 * (split between the side's own faults and the statement's own errors), and a latency histogram with fixed
 * bucket bounds. Cheap enough for the pool's raw fast path: one clock read when a statement starts, and a few
 * integer increments when it ends.
 *
 * @module
 */
import type { Side } from '../mode/modes.js';

/**
 * Upper bounds of the latency buckets, in milliseconds. The histogram in {@link SideHealthStats} has one more
 * bucket after these (everything slower than the last bound). Fixed, so two samples can always be subtracted.
 */
export const HEALTH_BUCKET_BOUNDS_MS: readonly number[] = Object.freeze([0.25, 0.5, 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000]);

/**
 * One side's health since the pool was created, as {@link DualPoolStats.health} reports it. All counts only grow,
 * so the difference between two samples ({@link healthBetween}) describes the interval between them.
 *
 * Counted: every statement a caller ran through the pool (pool `query`/`execute`, and checked-out connections)
 * for which this side was the primary side — reads, writes, transaction control, in every mode — plus pool reads
 * routed to this side (gray reads). Not counted: the pool's own statements (replays on the secondary side,
 * repair-log rows, metadata queries, shadow reads). A statement streamed without a callback through mysql2's Query
 * events is counted when it ends, as a success: its error cannot be seen without listening to `error`, which
 * would change what mysql2 does with it.
 */
export interface SideHealthStats {
  /** Statements finished (successfully or not). */
  readonly statements: number;
  /**
   * Statements that failed through the side's fault: connection errors, timeouts, server errors that do not
   * depend on the statement's data or syntax (lock wait timeouts, deadlocks, read-only server, missing table or
   * column, denied privilege, server shutting down…). A guarded cut-over watches this.
   */
  readonly errors: number;
  /**
   * Statements that failed through their own fault, as they would on any healthy server: data errors (SQLSTATE
   * class 22), constraint violations such as a duplicate key (class 23), cardinality (class 21), syntax errors
   * (ER_PARSE_ERROR, ER_SYNTAX_ERROR), statements the pool refused by policy, and bad arguments mysql2 rejects
   * before sending. Not in {@link SideHealthStats.errors}.
   */
  readonly statementErrors: number;
  /**
   * Latency histogram, cumulative like Prometheus' `le` buckets: `latencyBuckets[i]` is the number of statements
   * that took at most {@link HEALTH_BUCKET_BOUNDS_MS}`[i]` ms; the last entry (one past the bounds) equals
   * `statements`. Latency is what the caller waited for, from the call to its callback: for a dual write it
   * includes the replay on the secondary side when the pool replays while holding the row locks.
   */
  readonly latencyBuckets: readonly number[];
}

/** What a side did between two samples of {@link SideHealthStats}, as {@link healthBetween} computes it. */
export interface SideHealth {
  /** Statements finished in the interval. */
  readonly statements: number;
  /** Statements that failed through the side's fault in the interval (see {@link SideHealthStats.errors}). */
  readonly errors: number;
  /** `errors / statements`, or 0 when no statement finished. */
  readonly errorRate: number;
  /**
   * Median latency in milliseconds, interpolated inside its histogram bucket (so accurate to the bucket's width),
   * or `null` when no statement finished. A value in the bucket past the last bound reports that last bound.
   */
  readonly p50Ms: number | null;
  /** 99th percentile latency in milliseconds, as `p50Ms`. */
  readonly p99Ms: number | null;
}

/**
 * The health of one side between two samples of `stats().health[side]`: `before` taken first, `after` later,
 * from the same pool. A guarded cut-over takes a sample when it switches, another a while later, and compares.
 *
 * @throws `RangeError` when `after` is older than `before` (counts went down) or the histograms differ in size
 */
export function healthBetween(before: SideHealthStats, after: SideHealthStats): SideHealth {
  const statements = after.statements - before.statements;
  const errors = after.errors - before.errors;
  if (statements < 0 || errors < 0 || after.latencyBuckets.length !== before.latencyBuckets.length) {
    throw new RangeError(
      'healthBetween(before, after): `after` must be a later sample of the same pool side than `before` (its counts are lower, or its ' +
        'histogram has another size). Pass the older sample first.',
    );
  }
  const cumulative = after.latencyBuckets.map((count, i) => count - (before.latencyBuckets[i] ?? 0));
  return {
    statements,
    errors,
    errorRate: statements === 0 ? 0 : errors / statements,
    p50Ms: quantile(cumulative, 0.5),
    p99Ms: quantile(cumulative, 0.99),
  };
}

/** The `q` quantile of a cumulative histogram over {@link HEALTH_BUCKET_BOUNDS_MS}, linearly interpolated in its bucket. */
function quantile(cumulative: readonly number[], q: number): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  const bounds = HEALTH_BUCKET_BOUNDS_MS;
  for (let i = 0; i < cumulative.length; i++) {
    const count = cumulative[i] ?? 0;
    if (count < rank) continue;
    if (i >= bounds.length) return bounds[bounds.length - 1] ?? null;
    const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
    const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
    const inBucket = count - below;
    const upper = bounds[i] ?? lower;
    return inBucket <= 0 ? upper : lower + ((upper - lower) * (rank - below)) / inBucket;
  }
  return bounds[bounds.length - 1] ?? null;
}

/** mysql2 errnos of syntax errors: the statement's own fault on any server. */
const SYNTAX_ERRNOS = new Set([1064, 1149]);

/**
 * True when an error is the statement's own fault (see {@link SideHealthStats.statementErrors}), false when it is
 * the side's (see {@link SideHealthStats.errors}).
 */
export function isStatementError(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return true;
  const e = error as { fatal?: unknown; errno?: unknown; sqlState?: unknown; code?: unknown; name?: unknown };
  if (e.fatal === true) return false;
  if (typeof e.sqlState === 'string' && typeof e.errno === 'number') {
    if (SYNTAX_ERRNOS.has(e.errno)) return true;
    const cls = e.sqlState.slice(0, 2);
    return cls === '21' || cls === '22' || cls === '23';
  }
  // Client-side errors: a lost or refused connection, a timeout (codes such as ECONNRESET, PROTOCOL_*, ETIMEDOUT)
  // are the side's; anything else (bad arguments, a refusal by the pool's policy) is the statement's.
  if (typeof e.code === 'string' && /^(E[A-Z]+|PROTOCOL_.*|POOL_.*)$/.test(e.code) && !e.code.startsWith('ER_DUALWRITE')) return false;
  return true;
}

/** The live counters of one side (mutable; {@link SideHealthStats} is its snapshot). */
export class SideHealthCounter {
  /** {@link SideHealthStats.statements}. */
  statements = 0;
  /** {@link SideHealthStats.errors}. */
  errors = 0;
  /** {@link SideHealthStats.statementErrors}. */
  statementErrors = 0;
  /** Told of each statement (the telemetry's duration histogram), or `null`. */
  listener: ((seconds: number, error: unknown) => void) | null = null;
  /** Per-bucket counts (not cumulative: one increment per statement); the last one is past the bounds. */
  readonly #buckets = new Array<number>(HEALTH_BUCKET_BOUNDS_MS.length + 1).fill(0);

  /**
   * Counts one finished statement.
   *
   * @param startedAt - `performance.now()` when it was called
   * @param error - its error, or null/undefined on success
   */
  observe(startedAt: number, error: unknown): void {
    const ms = performance.now() - startedAt;
    this.statements += 1;
    if (error !== null && error !== undefined) {
      if (isStatementError(error)) this.statementErrors += 1;
      else this.errors += 1;
    }
    const bounds = HEALTH_BUCKET_BOUNDS_MS;
    let i = 0;
    while (i < bounds.length && ms > (bounds[i] as number)) i++;
    this.#buckets[i] = (this.#buckets[i] ?? 0) + 1;
    this.listener?.(ms / 1000, error);
  }

  /** A copy with the histogram made cumulative. */
  snapshot(): SideHealthStats {
    let running = 0;
    const latencyBuckets = this.#buckets.map((count) => (running += count));
    return { statements: this.statements, errors: this.errors, statementErrors: this.statementErrors, latencyBuckets };
  }
}

/** Both sides' counters. */
export type HealthCounters = Readonly<Record<Side, SideHealthCounter>>;

/** Fresh counters for both sides. */
export function healthCounters(): HealthCounters {
  return { source: new SideHealthCounter(), target: new SideHealthCounter() };
}

/**
 * Wraps a mysql2 callback so that the statement is counted on `counter` when it calls back. Returns `callback`
 * unchanged (and counts nothing) when there is none: see {@link observeHandle}.
 */
export function observed<F extends (error: Error | null, ...rest: never[]) => void>(counter: SideHealthCounter, callback: F | undefined): F | undefined {
  if (callback === undefined) return undefined;
  const startedAt = performance.now();
  return ((error: Error | null, ...rest: never[]) => {
    counter.observe(startedAt, error);
    callback(error, ...rest);
  }) as F;
}

/**
 * Counts a statement run without a callback (a mysql2 Query streamed through its events) when it ends. Its error
 * cannot be seen without listening to `error`, which would change what mysql2 does with it, so it counts as a success.
 */
export function observeHandle(counter: SideHealthCounter, handle: { once(event: 'end', listener: () => void): unknown } | undefined): void {
  if (handle === undefined || typeof handle.once !== 'function') return;
  const startedAt = performance.now();
  handle.once('end', () => counter.observe(startedAt, null));
}

/**
 * Runs a mysql2-style call `(values, callback)` whose callback may sit in the `values` position (as mysql2 allows),
 * counting the statement on `counter` when it calls back, or when it ends if it has no callback.
 */
export function observeCall<H>(counter: SideHealthCounter, values: unknown, callback: unknown, run: (values: unknown, callback: unknown) => H): H {
  if (typeof callback === 'function') return run(values, observed(counter, callback as (error: Error | null) => void));
  if (typeof values === 'function' && callback === undefined) return run(observed(counter, values as (error: Error | null) => void), undefined);
  const handle = run(values, callback);
  observeHandle(counter, handle as { once(event: 'end', listener: () => void): unknown } | undefined);
  return handle;
}

/** Adds up samples of the same side from several pools (the driver's total over its pools). */
export function sumHealth(samples: readonly SideHealthStats[]): SideHealthStats {
  const latencyBuckets = new Array<number>(HEALTH_BUCKET_BOUNDS_MS.length + 1).fill(0);
  let statements = 0;
  let errors = 0;
  let statementErrors = 0;
  for (const sample of samples) {
    statements += sample.statements;
    errors += sample.errors;
    statementErrors += sample.statementErrors;
    sample.latencyBuckets.forEach((count, i) => (latencyBuckets[i] = (latencyBuckets[i] ?? 0) + count));
  }
  return { statements, errors, statementErrors, latencyBuckets };
}
