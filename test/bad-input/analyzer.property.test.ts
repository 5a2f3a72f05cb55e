/**
 * Robustness of the analyzer and the two rewrites on bad input: arbitrary strings, and mutations of the bad-input
 * corpus and of the ORM corpus (cut at every position, quotes/backticks/comment openers inserted, slices
 * duplicated, two statements spliced). analyze() never throws, stays within a bound on algorithmic blow-up (see
 * analyzeBounded), and gives a self-consistent answer; the rewrites never throw on what it gives and keep the
 * placeholders and values aligned. Set FC_SEED to replay a run; fast-check prints the seed on failure.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generatedIdRows,
  planNondeterministicPins,
  withExplicitIds,
  withPinnedValues,
  type PinSite,
  type StatementAnalysis,
} from '../../src/sql/index.js';
import { drizzle } from '../sql/corpus/drizzle.js';
import { edgeCases } from '../sql/corpus/edge.js';
import { knex } from '../sql/corpus/knex.js';
import { kysely } from '../sql/corpus/kysely.js';
import { handWritten } from '../sql/corpus/mysql2.js';
import { prisma } from '../sql/corpus/prisma.js';
import { sequelize } from '../sql/corpus/sequelize.js';
import { typeorm } from '../sql/corpus/typeorm.js';
import { analyzeBounded, formatDisagreement, inconsistencies } from './consistency.js';
import { badInputs, tenMegabytes } from './corpus/index.js';

const RUNS = 3_000;
const params = (): fc.Parameters<unknown> => ({ numRuns: RUNS, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) });

const ORM: readonly string[] = [drizzle, edgeCases, knex, kysely, handWritten, prisma, sequelize, typeorm].flat().map((e) => e.sql);
/** Statements short enough to mutate everywhere (the size group is covered as a whole below). */
const SEEDS: readonly string[] = [...ORM, ...badInputs.map((b) => b.sql)].filter((s) => s.length <= 2_000);

const INSERTS = ["'", '"', '`', '\\', '/*', '*/', '/*!', '/*M!', '-- ', '#', '\n', ';', '?', '??', '(', ')', '\u0000', '\ud800', 'x\'', "N'", '_utf8mb4\''];

/** Analyzes and checks consistency; returns the analysis. */
function checked(sql: string): StatementAnalysis {
  const a = analyzeBounded(sql);
  const bad = inconsistencies(sql, a);
  if (bad.length > 0) throw new Error(`inconsistent analysis of ${JSON.stringify(sql.slice(0, 300))}: ${bad.join('; ')}`);
  return a;
}

/** Distinct markers, one per placeholder, so their order can be followed through a rewrite. */
const markers = (n: number): string[] => Array.from({ length: n }, (_, i) => `v${i}`);

/** Checks the explicit-ID rewrite on one text: no throw, `?` count equals the values, the caller's values kept in order. */
function checkExplicitIds(sql: string, a: StatementAnalysis): void {
  const nulls = Array.from({ length: a.placeholderCount }, () => null);
  for (const values of [markers(a.placeholderCount), nulls, undefined]) {
    for (const column of [{ name: 'id', position: 0 }, { name: 'ID', position: 1, columnCount: 3 }]) {
      const rows = generatedIdRows(sql, a, values, column);
      if (rows === null) continue;
      const ids = rows.filter(Boolean).map((_, i) => 9_000 + i);
      const out = withExplicitIds(sql, a, values, column, ids);
      const again = checked(out.sql);
      if (values !== undefined) {
        expect(out.values?.length, out.sql).toBe(again.placeholderCount);
        // Every ID is bound exactly once; the caller's values (markers: never a generated row) all stay, in order.
        for (const id of ids) expect(out.values?.filter((v) => v === id).length, out.sql).toBe(1);
        if (values !== nulls) expect(out.values?.filter((v) => typeof v === 'string'), out.sql).toEqual(values);
      } else {
        expect(out.values).toBeUndefined();
        expect(again.placeholderCount, out.sql).toBe(a.placeholderCount);
      }
    }
  }
}

/** A well-formed evaluated value for a pinned call. */
function evaluatedFor(site: PinSite): string {
  switch (site.function) {
    case 'UUID':
      return '123e4567-e89b-12d3-a456-426614174000';
    case 'SYS_GUID':
      return '123E4567E89B12D3A456426614174000';
    case 'RAND':
      return '0.5';
    case 'UUID_SHORT':
      return '98765432123456789';
    case 'SYSDATE':
      return `2024-01-02 03:04:05${site.fsp ? `.${'1'.repeat(site.fsp)}` : ''}`;
  }
}

/** Checks the pin rewrite on one text: no throw, the evaluation SELECT and the pinned statement keep `?` and values aligned. */
function checkPins(sql: string, a: StatementAnalysis): void {
  const values = markers(a.placeholderCount);
  const plan = planNondeterministicPins(sql, a, values);
  if (plan === null) return;
  expect(checked(plan.evaluation.sql).placeholderCount, plan.evaluation.sql).toBe(plan.evaluation.values.length);
  const out = withPinnedValues(sql, a, values, plan, plan.sites.map(evaluatedFor));
  expect(checked(out.sql).placeholderCount, out.sql).toBe(out.values.length);
  // The caller's values outside pinned calls keep their order; the ones inside calls leave with them.
  const inside = new Set(plan.sites.flatMap((s) => s.placeholders));
  expect(out.values.filter((v) => typeof v === 'string' && /^v\d+$/.test(v))).toEqual(values.filter((_, i) => !inside.has(i)));
}

function checkAll(sql: string): void {
  const a = checked(sql);
  checkExplicitIds(sql, a);
  checkPins(sql, a);
}

describe('the bad-input corpus as it is', () => {
  it(`analyzes all ${badInputs.length} entries consistently and within the blow-up bound; the rewrites never throw on them`, () => {
    for (const b of badInputs) checkAll(b.sql);
  });

  it('analyzes the 10 MB statement within the blow-up bound', () => {
    const a = checked(tenMegabytes.sql);
    expect(a.class).toBe('write');
    expect(a.write?.kind).toBe('insert');
  });

  it("fills the same `?` as mysql2's query() formatting, for every corpus and ORM statement without executable comments", () => {
    // /*M! … */ is code to MariaDB and to the analyzer but a comment to mysql2's formatter; the pool refuses writes
    // with executable comments, so a disagreement there never reaches a replay.
    const disagreements = [...ORM, ...badInputs.map((b) => b.sql)]
      .filter((sql) => !sql.includes('/*!') && !sql.includes('/*M!'))
      .flatMap((sql) => formatDisagreement(sql, checked(sql)) ?? []);
    expect(disagreements).toEqual([]);
  });
});

describe('every cut of every statement', () => {
  it(`analyzes every prefix of ${SEEDS.length} corpus statements consistently`, () => {
    let cuts = 0;
    for (const sql of SEEDS.filter((s) => s.length <= 400)) {
      for (let at = 0; at <= sql.length; at++, cuts++) checked(sql.slice(0, at));
    }
    expect(cuts).toBeGreaterThan(10_000);
  });

  it('runs the rewrites on every prefix of the ORM INSERT statements', () => {
    for (const sql of ORM.filter((s) => /^\s*(insert|replace)/i.test(s) && s.length <= 400)) {
      for (let at = 0; at <= sql.length; at++) checkAll(sql.slice(0, at));
    }
  });
});

describe('mutations', () => {
  const seed = fc.constantFrom(...SEEDS);
  const at = (sql: string): fc.Arbitrary<number> => fc.integer({ min: 0, max: sql.length });

  it(`inserting quotes, backticks, comment openers, NUL and lone surrogates anywhere (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        seed.chain((sql) => fc.tuple(fc.constant(sql), fc.array(fc.tuple(at(sql), fc.constantFrom(...INSERTS)), { minLength: 1, maxLength: 4 }))),
        ([sql, edits]) => {
          let text = sql;
          for (const [pos, ins] of [...edits].sort((x, y) => y[0] - x[0])) text = text.slice(0, pos) + ins + text.slice(pos);
          checkAll(text);
        },
      ),
      params(),
    );
  });

  it(`duplicating a slice, deleting a slice, splicing two statements (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        seed,
        seed,
        fc.nat(),
        fc.nat(),
        fc.constantFrom('duplicate', 'delete', 'splice'),
        (a, b, i, j, how) => {
          const [x, y] = [i % (a.length + 1), j % (a.length + 1)].sort((p, q) => p - q) as [number, number];
          const text =
            how === 'duplicate' ? a.slice(0, y) + a.slice(x, y) + a.slice(x) : how === 'delete' ? a.slice(0, x) + a.slice(y) : a.slice(0, x) + b.slice(j % (b.length + 1));
          checkAll(text);
        },
      ),
      params(),
    );
  });

  it(`arbitrary strings, raw UTF-16 units included (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 300 }),
          fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 300 }),
          fc.array(fc.constantFrom(...INSERTS, 'INSERT INTO t (id, a) VALUES ', '(?, ?)', ', ', 'UUID()', 'RAND(?)', 'SYSDATE(3)', ' ON DUPLICATE KEY UPDATE a = ?', ' SET id = ?'), { maxLength: 30 }).map((p) => p.join('')),
        ),
        (sql) => checkAll(sql),
      ),
      params(),
    );
  });
});
