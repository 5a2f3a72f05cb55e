/**
 * Self-consistency checks of analyzer output, and the hang bound, shared by the bad-input property tests
 * (not a test file itself).
 */
import mysql from 'mysql2';
import { analyze } from '../../src/sql/index.js';
import type { StatementAnalysis } from '../../src/sql/index.js';

/** Every way `a` is not a consistent analysis of `sql`; empty when it is. */
export function inconsistencies(sql: string, a: StatementAnalysis): string[] {
  const bad: string[] = [];
  const n = sql.length;
  if (a.placeholderCount !== a.placeholders.length) bad.push('placeholderCount !== placeholders.length');
  a.placeholders.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= n || sql[p] !== '?') bad.push(`placeholder #${i} at ${p} is not a ? of the text`);
    if (i > 0 && p <= (a.placeholders[i - 1] as number)) bad.push('placeholder offsets not increasing');
  });
  if ((a.write !== null) !== (a.class === 'write')) bad.push('write details vs class');
  if ((a.transaction !== null) !== (a.class === 'transaction')) bad.push('transaction details vs class');
  if ((a.session !== null) !== (a.class === 'session')) bad.push('session details vs class');
  if ((a.ddl !== null) !== (a.class === 'ddl')) bad.push('ddl details vs class');
  if (a.understood === a.unsafe.some((f) => f.reason === 'unknown')) bad.push('understood vs unknown finding');
  if (a.multiStatement !== a.unsafe.some((f) => f.reason === 'multiple_statements')) bad.push('multiStatement vs finding');
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.start === 'number' && typeof o.end === 'number' && !(0 <= o.start && o.start <= o.end && o.end <= n)) {
      bad.push(`span ${path} = [${o.start}, ${o.end}) of ${n}`);
    }
    for (const k of ['afterTable', 'sourceStart', 'bodyStart']) {
      const x = o[k];
      if (typeof x === 'number' && !(0 <= x && x <= n)) bad.push(`${path}.${k} = ${x} of ${n}`);
    }
    for (const [k, x] of Object.entries(o)) {
      if (k === 'placeholders' && path !== '$' && Array.isArray(x)) {
        for (const i of x) if (!Number.isInteger(i) || i < 0 || i >= a.placeholderCount) bad.push(`${path}.placeholders has ${String(i)}`);
      } else walk(x, `${path}.${k}`);
    }
  };
  walk(a, '$');
  return bad;
}

/**
 * Where mysql2's `query()` disagrees with the analyzer about which `?` it fills: the text mysql2 would send with one
 * distinct number per analyzer placeholder, against the text with those numbers written at the analyzer's offsets.
 * `null` when they agree. The pool relies on this for `query(sql, [scalars])`: it analyzes the text with `?` and
 * lets mysql2 fill them. `??` runs are mysql2's identifier placeholders, so texts with them are not compared.
 */
export function formatDisagreement(sql: string, a: StatementAnalysis): string | null {
  if (/\?\?/.test(sql)) return null;
  const values = a.placeholders.map((_, i) => 7_000_000 + i);
  const mysql2Text = mysql.format(sql, values);
  let expected = '';
  let at = 0;
  a.placeholders.forEach((p, i) => {
    expected += sql.slice(at, p) + String(values[i]);
    at = p + 1;
  });
  expected += sql.slice(at);
  return mysql2Text === expected ? null : `mysql2 sends ${JSON.stringify(mysql2Text.slice(0, 200))}, the analyzer expects ${JSON.stringify(expected.slice(0, 200))}`;
}

/** Baseline times (ms) of a token-dense plain statement, per power-of-two length: what a linear analysis costs here, now. */
const baselines = new Map<number, number>();

function baselineMs(length: number): number {
  // Above 1 MB the 1 MB baseline is scaled linearly (a linear analysis is what the bound allows).
  if (length > 1 << 20) return (baselineMs(1 << 20) * length) / (1 << 20);
  const bucket = 2 ** Math.ceil(Math.log2(Math.max(length, 1024)));
  let ms = baselines.get(bucket);
  if (ms === undefined) {
    const text = `SELECT ${'1, '.repeat(Math.ceil(bucket / 3))}1`;
    analyze(text); // warm up
    const t = performance.now();
    analyze(text);
    ms = performance.now() - t;
    baselines.set(bucket, ms);
  }
  return ms;
}

/**
 * Analyzes `sql` and throws when it took more than 25 times what a token-dense statement of (at least) the same
 * length takes in this run, plus 250 ms of slack for GC pauses and a loaded machine. This is a bound on
 * algorithmic blow-up (a quadratic pass over 100 KB takes minutes, not milliseconds), not a speed assertion;
 * a true infinite loop is caught by the test's own timeout.
 */
export function analyzeBounded(sql: string): StatementAnalysis {
  const bound = 25 * baselineMs(sql.length) + 250;
  const t = performance.now();
  let a: StatementAnalysis;
  try {
    a = analyze(sql);
  } catch (e) {
    throw new Error(`analyze threw on ${JSON.stringify(sql.slice(0, 300))} (${sql.length} chars): ${String(e)}`);
  }
  const ms = performance.now() - t;
  if (ms > bound) throw new Error(`analyze took ${ms.toFixed(0)} ms (bound ${bound.toFixed(0)} ms) on ${sql.length} chars: ${JSON.stringify(sql.slice(0, 120))}`);
  return a;
}
