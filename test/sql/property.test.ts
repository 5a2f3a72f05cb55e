/**
 * Properties of the statement analyzer over generated texts. Each runs
 * 10,000 cases; on failure fast-check prints the seed and the shrunk
 * counterexample. Set FC_SEED to replay a run.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StatementAnalyzer, analyze } from '../../src/sql/index.js';
import type { StatementAnalysis, StatementClass, UnsafeReason } from '../../src/sql/index.js';
import { hiddenWrite, placeholderSoup, readStatement, tokenSoup } from './arbitraries.js';

const RUNS = 10_000;
const params = (): fc.Parameters<unknown> => ({
  numRuns: RUNS,
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
});

const CLASSES: readonly StatementClass[] = ['read', 'write', 'transaction', 'session', 'ddl', 'other'];
const REASONS: readonly UnsafeReason[] = [
  'time_function',
  'sysdate',
  'uuid',
  'random',
  'session_function',
  'user_variable',
  'system_variable',
  'limit_without_order_by',
  'insert_select',
  'on_duplicate_key_update',
  'ignore',
  'replace',
  'multi_table',
  'subquery',
  'load_data',
  'nondeterministic_function',
  'unknown_function',
  'executable_comment',
  'multiple_statements',
  'time_default',
  'unknown',
];

/** Every problem with the shape of `a` as an analysis of `sql`; empty when well formed. */
function malformations(sql: string, a: StatementAnalysis): string[] {
  const bad: string[] = [];
  const n = sql.length;
  if (!CLASSES.includes(a.class)) bad.push(`class ${String(a.class)}`);
  if (typeof a.verb !== 'string' || a.verb !== a.verb.toLowerCase()) bad.push(`verb ${a.verb}`);
  if (a.placeholderCount !== a.placeholders.length) bad.push('placeholderCount !== placeholders.length');
  a.placeholders.forEach((p, i) => {
    if (!Number.isInteger(p) || p < 0 || p >= n) bad.push(`placeholder offset ${p} outside the text`);
    else if (sql[p] !== '?') bad.push(`placeholder offset ${p} is not a ?`);
    if (i > 0 && p <= (a.placeholders[i - 1] as number)) bad.push('placeholder offsets not increasing');
  });
  if (a.write !== null && a.class !== 'write') bad.push('write details on a non-write');
  if (a.class === 'write' && a.write === null) bad.push('write without details');
  if ((a.transaction !== null) !== (a.class === 'transaction')) bad.push('transaction details vs class');
  if ((a.session !== null) !== (a.class === 'session')) bad.push('session details vs class');
  if ((a.ddl !== null) !== (a.class === 'ddl')) bad.push('ddl details vs class');
  if (a.primaryOnly && a.class !== 'read') bad.push('primaryOnly on a non-read');
  if (a.understood === a.unsafe.some((f) => f.reason === 'unknown')) bad.push('understood vs unknown finding');
  if (a.multiStatement !== a.unsafe.some((f) => f.reason === 'multiple_statements')) bad.push('multiStatement vs finding');
  for (const f of a.unsafe) if (!REASONS.includes(f.reason)) bad.push(`reason ${String(f.reason)}`);

  // Every span anywhere in the analysis lies inside the text; every offset-valued field too.
  const walk = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => walk(x, `${path}[${i}]`));
      return;
    }
    const o = v as Record<string, unknown>;
    if (typeof o.start === 'number' && typeof o.end === 'number') {
      if (!(0 <= o.start && o.start <= o.end && o.end <= n)) bad.push(`span ${path} = [${o.start}, ${o.end}) of ${n}`);
    }
    for (const k of ['afterTable', 'sourceStart', 'bodyStart']) {
      const x = o[k];
      if (typeof x === 'number' && !(0 <= x && x <= n)) bad.push(`${path}.${k} = ${x} of ${n}`);
    }
    for (const [k, x] of Object.entries(o)) walk(x, `${path}.${k}`);
  };
  walk(a, '$');

  // Placeholder indexes named anywhere are valid indexes into the values array.
  const checkIndexes = (v: unknown, path: string): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => checkIndexes(x, `${path}[${i}]`));
      return;
    }
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'placeholders' && path !== '$' && Array.isArray(x)) {
        for (const i of x) if (!Number.isInteger(i) || i < 0 || i >= a.placeholderCount) bad.push(`${path}.placeholders has ${i}`);
      } else checkIndexes(x, `${path}.${k}`);
    }
  };
  checkIndexes(a, '$');
  return bad;
}

/** Analyze, turning a throw into a failure that shows the text. */
function analyzeOrFail(sql: string): StatementAnalysis {
  try {
    return analyze(sql);
  } catch (e) {
    throw new Error(`analyze threw on ${JSON.stringify(sql)}: ${String(e)}`);
  }
}

describe('analyze never throws and always returns a well-formed analysis', () => {
  it(`on arbitrary unicode strings (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ unit: 'grapheme', maxLength: 100 }),
          // Raw UTF-16 code units, lone surrogates included: offsets must stay in code units.
          fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
        ),
        (sql) => {
        expect(malformations(sql, analyzeOrFail(sql))).toEqual([]);
        },
      ),
      params(),
    );
  });

  it(`on SQL-ish token soup (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(tokenSoup, (sql) => {
        expect(malformations(sql, analyzeOrFail(sql))).toEqual([]);
      }),
      params(),
    );
  });

  it(`gives the same answer twice, cached or not (${RUNS} runs)`, () => {
    const cached = new StatementAnalyzer({ maxEntries: 64 });
    fc.assert(
      fc.property(fc.oneof(tokenSoup, readStatement.map((r) => r.text), hiddenWrite.map((w) => w.text)), (sql) => {
        const a = analyzeOrFail(sql);
        expect(analyze(sql)).toEqual(a);
        expect(cached.analyze(sql)).toEqual(a);
        expect(cached.analyze(sql)).toEqual(a);
      }),
      params(),
    );
  });
});

describe('a write keyword in code position is never classified as a read', () => {
  it(`a SELECT whose strings, quoted identifiers and comments hold write keywords is a read (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(readStatement, (r) => {
        const a = analyzeOrFail(r.text);
        expect({
          class: a.class,
          multiStatement: a.multiStatement,
          primaryOnly: a.primaryOnly,
          unsafe: a.unsafe.map((f) => `${f.reason}:${f.detail}`),
          write: a.write,
        }).toEqual({ class: 'read', multiStatement: false, primaryOnly: r.lock !== null, unsafe: [], write: null });
        expect(malformations(r.text, a)).toEqual([]);
      }),
      params(),
    );
  });

  it(`a write put in code position (second statement, executable comment, INTO, CTE, leading verb) is not a read (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(hiddenWrite, (w) => {
        const a = analyzeOrFail(w.text);
        expect({ how: w.how, class: a.class }).not.toEqual({ how: w.how, class: 'read' });
        if (w.how === 'second statement') expect(a.multiStatement).toBe(true);
        if (w.how === 'leading write verb' || w.how === 'select into' || w.how === 'select into before from' || w.how === 'cte ending in DML') {
          expect({ how: w.how, class: a.class }).toEqual({ how: w.how, class: 'write' });
        }
        if (w.how.startsWith('executable comment')) expect(a.unsafe.map((f) => f.reason)).toContain('executable_comment');
        expect(malformations(w.text, a)).toEqual([]);
      }),
      params(),
    );
  });
});

describe('placeholders are the `?` in code position, wherever strings, comments and identifiers put others', () => {
  it(`in generated SELECT statements (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(readStatement, (r) => {
        const a = analyzeOrFail(r.text);
        expect(a.placeholderCount).toBe(r.qs.length);
        expect([...a.placeholders]).toEqual([...r.qs]);
      }),
      params(),
    );
  });

  it(`in placeholder soup: glued ?, ?-bearing strings, identifiers, comments, --? (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(placeholderSoup, (p) => {
        const a = analyzeOrFail(p.text);
        expect(a.placeholderCount).toBe(p.qs.length);
        expect([...a.placeholders]).toEqual([...p.qs]);
      }),
      params(),
    );
  });
});
