/**
 * The adaptive chunk size of backfill: each chunk's size comes from the measured rate of the
 * chunks before it, so a chunk takes about `targetMs` whatever the row width, the server's load
 * or the network (start small, grow while chunks are fast, shrink as soon as they are slow).
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';

/** Options of {@link AdaptiveChunkSizer} (backfill's `chunk` option). */
export interface ChunkSizeOptions {
  /**
   * Rows of the first chunk, before any rate was measured.
   * @defaultValue 100
   */
  readonly initialRows?: number;
  /**
   * Time one chunk should take (source read under a shared lock, target write, both commits), in milliseconds.
   * The shared locks are held for about this long, so it bounds how long a concurrent write may wait.
   * @defaultValue 500
   */
  readonly targetMs?: number;
  /**
   * Fewest rows per chunk.
   * @defaultValue 10
   */
  readonly minRows?: number;
  /**
   * Most rows per chunk.
   * @defaultValue 20000
   */
  readonly maxRows?: number;
}

/** {@link ChunkSizeOptions} with every default filled in. */
export type ResolvedChunkSizeOptions = Required<ChunkSizeOptions>;

/** The defaults of {@link ChunkSizeOptions}. */
export const DEFAULT_CHUNK_SIZE: ResolvedChunkSizeOptions = Object.freeze({ initialRows: 100, targetMs: 500, minRows: 10, maxRows: 20_000 });

/** Weight of the newest measurement in the smoothed rate (exponential moving average). */
const SMOOTHING = 0.5;
/** The next chunk is at most this many times the last one (growth is gradual, so one fast chunk does not overshoot). */
const MAX_GROWTH = 2;
/** ... or this many times, after a chunk that took less than a quarter of `targetMs` (the first chunks are small on purpose). */
const FAST_GROWTH = 4;
/** The next chunk is at least this fraction of the last one. */
const MAX_SHRINK = 0.25;

/**
 * Checks chunk options and fills in defaults.
 *
 * @throws {@link InvalidOptionError} for a value that is not a positive integer, or `minRows` above `maxRows`
 */
export function resolveChunkSizeOptions(options: ChunkSizeOptions = {}): ResolvedChunkSizeOptions {
  const resolved = { ...DEFAULT_CHUNK_SIZE, ...definedOnly(options) };
  for (const name of ['initialRows', 'targetMs', 'minRows', 'maxRows'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value < 1) throw new InvalidOptionError(`backfill chunk.${name}`, value, 'a positive integer');
  }
  if (resolved.minRows > resolved.maxRows) {
    throw new InvalidOptionError('backfill chunk.minRows', resolved.minRows, `at most chunk.maxRows (${resolved.maxRows})`);
  }
  return Object.freeze(resolved);
}

function definedOnly(options: ChunkSizeOptions): ChunkSizeOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}

/**
 * Picks the size of each chunk of one table from the measured time of the chunks before it.
 *
 * The rate (rows per millisecond) is smoothed with an exponential moving average (weight 0.5 on the
 * newest chunk); the next size is that rate times `targetMs` — or the last chunk's own rate when that
 * chunk took longer than `targetMs`, so one slow chunk shrinks the next at once — changed by at most
 * ÷4 or ×2 from the last chunk (×4 after a chunk that took less than a quarter of `targetMs`, so the
 * small first chunks reach a useful size in a few steps), and clamped to `[minRows, maxRows]`. Not
 * shared between tables: rows differ in width.
 */
export class AdaptiveChunkSizer {
  readonly #options: ResolvedChunkSizeOptions;
  #rows: number;
  #rate: number | null = null;

  /** @param options - see {@link ChunkSizeOptions} */
  constructor(options: ChunkSizeOptions = {}) {
    this.#options = resolveChunkSizeOptions(options);
    this.#rows = clamp(this.#options.initialRows, this.#options.minRows, this.#options.maxRows);
  }

  /** Rows to read in the next chunk. */
  get next(): number {
    return this.#rows;
  }

  /** The smoothed rate in rows per second, or null before the first measurement. */
  get rowsPerSecond(): number | null {
    return this.#rate === null ? null : this.#rate * 1000;
  }

  /**
   * Records a finished chunk and sizes the next one.
   *
   * @param rows - rows the chunk held (a last, short chunk still measures the rate)
   * @param elapsedMs - how long the chunk took
   */
  record(rows: number, elapsedMs: number): void {
    if (rows <= 0) return;
    const rate = rows / Math.max(elapsedMs, 1);
    this.#rate = this.#rate === null ? rate : SMOOTHING * rate + (1 - SMOOTHING) * this.#rate;
    // A chunk that overran the target held its locks too long: shrink from its own rate, not the smoothed one.
    const basis = elapsedMs > this.#options.targetMs ? Math.min(rate, this.#rate) : this.#rate;
    const wanted = basis * this.#options.targetMs;
    const growth = elapsedMs * 4 < this.#options.targetMs ? FAST_GROWTH : MAX_GROWTH;
    const bounded = Math.min(Math.max(wanted, this.#rows * MAX_SHRINK), this.#rows * growth);
    this.#rows = clamp(Math.round(bounded), this.#options.minRows, this.#options.maxRows);
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}
