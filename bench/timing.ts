/**
 * Small timing helpers for micro-benchmarks: run a function in batches and
 * report the median per-call cost, so one GC pause or scheduler hiccup does
 * not decide the figure.
 */

/** Runs `fn` `iterations` times per sample, `samples` times, and returns the median nanoseconds per call. */
export function medianNsPerCall(fn: () => unknown, iterations: number, samples = 7): number {
  const perCall: number[] = [];
  let sink: unknown;
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) sink = fn();
    const elapsed = Number(process.hrtime.bigint() - start);
    perCall.push(elapsed / iterations);
  }
  if (sink === Symbol.for('never')) console.log(sink);
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(perCall.length / 2)] as number;
}

/** Formats nanoseconds for a table: `850 ns` or `12.3 µs`. */
export function formatNs(ns: number): string {
  return ns < 1000 ? `${ns.toFixed(0)} ns` : `${(ns / 1000).toFixed(2)} µs`;
}
