/**
 * The concurrent A/B fixed-window method the pool and flags benchmarks share (bench/README.md, "Method"): arm A
 * and its baseline B run at the same time, `PER_ARM` callers each, for fixed windows; the figure is the median of
 * the per-window ratios A/B, so whatever disturbs a window disturbs both arms alike.
 *
 * @module
 */

/** Callers in all, split evenly between the two arms. */
export const CALLERS = 16;
/** Callers per arm. */
export const PER_ARM = CALLERS / 2;
/** Length of one measured window (`DUALWRITE_BENCH_WINDOW_MS`). */
export const WINDOW_MS = envNumber('DUALWRITE_BENCH_WINDOW_MS', 1200);
/** Measured windows per case (`DUALWRITE_BENCH_WINDOWS`). */
export const WINDOWS = envNumber('DUALWRITE_BENCH_WINDOWS', 7);
/** Length of the warm-up window (`DUALWRITE_BENCH_WARMUP_MS`). */
export const WARMUP_MS = envNumber('DUALWRITE_BENCH_WARMUP_MS', 1000);

/** A positive number from the environment, or `fallback`. @throws Error when set to anything else */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got ${raw}`);
  return value;
}

/** One operation of one caller. */
export type Op = (caller: number) => Promise<unknown>;

/** What a concurrent A/B run measured. */
export interface AbResult {
  /** Median of the per-window ratios A/B. */
  readonly ratio: number;
  /** Lowest and highest per-window ratio. */
  readonly spread: readonly [number, number];
  /** Median operations per second of arm A (`PER_ARM` callers). */
  readonly aOps: number;
  /** Median operations per second of arm B. */
  readonly bOps: number;
}

/** The median of `values` (at least one). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** {@link abRun}, or `null` and a note when the case stalled. */
export async function measure(a: Op, b: Op, notes: string[]): Promise<AbResult | null> {
  try {
    return await abRun(a, b);
  } catch (error) {
    if (!(error instanceof StallError)) throw error;
    notes.push(`STALLED: ${error.message}`);
    return null;
  }
}

/** How long a window may go without any operation completing before the case is declared stalled. */
const STALL_MS = 20_000;

/** A window in which no operation completed for {@link STALL_MS}: a hang, not a slow case. */
export class StallError extends Error {
  constructor(readonly doneA: number, readonly doneB: number) {
    super(`no operation completed for ${STALL_MS / 1000} s (arm A had completed ${doneA}, arm B ${doneB} in the window)`);
  }
}

/** Runs both arms at once for `ms`; returns how many operations each completed inside the window. */
async function window(a: Op, b: Op, ms: number): Promise<[number, number]> {
  let doneA = 0;
  let doneB = 0;
  let lastProgress = performance.now();
  const deadline = lastProgress + ms;
  const caller = async (op: Op, id: number, count: () => void): Promise<void> => {
    while (performance.now() < deadline) {
      await op(id);
      lastProgress = performance.now();
      if (lastProgress <= deadline) count();
    }
  };
  const callers: Promise<void>[] = [];
  // Interleaved start: neither arm gets its callers going first.
  for (let i = 0; i < PER_ARM; i++) {
    callers.push(caller(a, i, () => doneA++));
    callers.push(caller(b, i, () => doneB++));
  }
  let watchdog: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    watchdog = setInterval(() => {
      if (performance.now() - lastProgress > STALL_MS) reject(new StallError(doneA, doneB));
    }, 1000);
  });
  try {
    await Promise.race([Promise.all(callers), stalled]);
  } finally {
    clearInterval(watchdog);
  }
  return [doneA, doneB];
}

/**
 * The concurrent A/B fixed-window method: a warm-up window, then `WINDOWS` measured windows, median ratio.
 *
 * @throws {@link StallError} when a window makes no progress for 20 s; Error when the baseline completed nothing in a window
 */
export async function abRun(a: Op, b: Op): Promise<AbResult> {
  await window(a, b, WARMUP_MS);
  const ratios: number[] = [];
  const aOps: number[] = [];
  const bOps: number[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const [doneA, doneB] = await window(a, b, WINDOW_MS);
    if (doneB === 0) throw new Error('the baseline arm completed no operation in a window; the servers are overloaded or stuck');
    ratios.push(doneA / doneB);
    aOps.push((doneA * 1000) / WINDOW_MS);
    bOps.push((doneB * 1000) / WINDOW_MS);
  }
  return { ratio: median(ratios), spread: [Math.min(...ratios), Math.max(...ratios)], aOps: median(aOps), bOps: median(bOps) };
}
