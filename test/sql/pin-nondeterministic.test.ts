/**
 * planNondeterministicPins / withPinnedValues: UUID(), UUID_SHORT(), SYS_GUID(), RAND() and SYSDATE() calls of
 * an INSERT evaluated once on the primary side and bound in their place, so both sides store the same rows.
 *
 * Unit tables over many statement shapes, a fast-check property over generated INSERTs whose expected rewrite is
 * built alongside the text (set FC_SEED to replay a run), and a section against real servers: the evaluation
 * SELECT runs on SOURCE with a text-keeping typeCast, the rewrite runs on SOURCE and TARGET, the rows are compared
 * byte for byte, and seeded RAND(n) — deterministic, so an oracle — shows that the bound text stores the very
 * double RAND(n) itself stores.
 */
import fc from 'fast-check';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DualWriteError, ReplayPlanError } from '../../src/errors.js';
import { analyze, planNondeterministicPins, withPinnedValues, type PinPlan, type UnsafeReason } from '../../src/sql/index.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

const UUID_A = '3f1c2a4e-8b7d-11ef-9a01-0242ac120002';
const UUID_B = '3f1c2a4f-8b7d-11ef-9a01-0242ac120002';
const GUID = '3f1c2a4e8b7d11ef9a010242ac120002';
const SHORT = '99360344143052801'; // beyond 2^53
const RAND_TEXT = '0.9065021936842261';
const NOW6 = '2024-01-02 03:04:05.123456';

function plan(sql: string, values?: readonly unknown[]): PinPlan | null {
  return planNondeterministicPins(sql, analyze(sql), values);
}

function pinned(sql: string, values: readonly unknown[] | undefined, evaluated: readonly string[]): { sql: string; values: unknown[] } {
  const a = analyze(sql);
  const p = planNondeterministicPins(sql, a, values);
  if (p === null) throw new Error(`no plan for ${sql}`);
  return withPinnedValues(sql, a, values, p, evaluated);
}

describe('planNondeterministicPins and withPinnedValues', () => {
  const date = new Date(Date.UTC(2024, 0, 2));
  const bytes = Buffer.from([1, 2]);
  const cases: Array<{
    name: string;
    sql: string;
    values?: unknown[];
    evaluation: string;
    evaluationValues?: unknown[];
    remaining?: UnsafeReason[];
    evaluated: string[];
    expectedSql: string;
    expectedValues: unknown[];
  }> = [
    {
      name: 'one UUID() with placeholders around it',
      sql: 'INSERT INTO t (a, id, b) VALUES (?, UUID(), ?)',
      values: ['a', 'b'],
      evaluation: 'SELECT UUID() AS `pin0`',
      evaluated: [UUID_A],
      expectedSql: 'INSERT INTO t (a, id, b) VALUES (?, ?, ?)',
      expectedValues: ['a', UUID_A, 'b'],
    },
    {
      name: 'multi-row: each row its own UUID()',
      sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?), (UUID(), ?)',
      values: [1, 2],
      evaluation: 'SELECT UUID() AS `pin0`, UUID() AS `pin1`',
      evaluated: [UUID_A, UUID_B],
      expectedSql: 'INSERT INTO t (id, a) VALUES (?, ?), (?, ?)',
      expectedValues: [UUID_A, 1, UUID_B, 2],
    },
    {
      name: 'SET form, SYSDATE(6) between placeholders',
      sql: 'INSERT INTO t SET a = ?, at = SYSDATE(6), b = ?',
      values: ['a', 'b'],
      evaluation: 'SELECT SYSDATE(6) AS `pin0`',
      evaluated: [NOW6],
      expectedSql: 'INSERT INTO t SET a = ?, at = CAST(? AS DATETIME(6)), b = ?',
      expectedValues: ['a', NOW6, 'b'],
    },
    {
      name: 'RAND(?): the seed leaves the values, the other placeholders keep their order',
      sql: 'INSERT INTO t (a, r, b, c) VALUES (?, RAND(?), ?, ?)',
      values: ['a', 42, 'b', 'c'],
      evaluation: 'SELECT RAND(?) AS `pin0`',
      evaluationValues: [42],
      evaluated: [RAND_TEXT],
      expectedSql: 'INSERT INTO t (a, r, b, c) VALUES (?, (? + 0e0), ?, ?)',
      expectedValues: ['a', RAND_TEXT, 'b', 'c'],
    },
    {
      name: 'every pinnable function, literal and signed seeds',
      sql: "INSERT INTO t VALUES (UUID(), UUID_SHORT(), SYS_GUID(), RAND(), RAND(7), RAND(-?), RAND('s'), RAND(NULL), SYSDATE(), SYSDATE(3), ?)",
      values: [5, 'last'],
      evaluation:
        "SELECT UUID() AS `pin0`, UUID_SHORT() AS `pin1`, SYS_GUID() AS `pin2`, RAND() AS `pin3`, RAND(7) AS `pin4`, RAND(-?) AS `pin5`, RAND('s') AS `pin6`, RAND(NULL) AS `pin7`, SYSDATE() AS `pin8`, SYSDATE(3) AS `pin9`",
      evaluationValues: [5],
      evaluated: [UUID_A, SHORT, GUID, '0.1', '0.2', '0.3', '0.4', '1.5e-7', '2024-01-02 03:04:05', '2024-01-02 03:04:05.123'],
      expectedSql:
        'INSERT INTO t VALUES (?, CAST(? AS UNSIGNED), ?, (? + 0e0), (? + 0e0), (? + 0e0), (? + 0e0), (? + 0e0), CAST(? AS DATETIME), CAST(? AS DATETIME(3)), ?)',
      expectedValues: [UUID_A, SHORT, GUID, '0.1', '0.2', '0.3', '0.4', '1.5e-7', '2024-01-02 03:04:05', '2024-01-02 03:04:05.123', 'last'],
    },
    {
      name: 'unseeded calls inside expressions',
      sql: "INSERT INTO t (id, code, n) VALUES (UNHEX(REPLACE(UUID(), '-', '')), CONCAT('u-', UUID_SHORT()), FLOOR(RAND() * ?))",
      values: [10],
      evaluation: 'SELECT UUID() AS `pin0`, UUID_SHORT() AS `pin1`, RAND() AS `pin2`',
      evaluated: [UUID_A, SHORT, RAND_TEXT],
      expectedSql: "INSERT INTO t (id, code, n) VALUES (UNHEX(REPLACE(?, '-', '')), CONCAT('u-', CAST(? AS UNSIGNED)), FLOOR((? + 0e0) * ?))",
      expectedValues: [UUID_A, SHORT, RAND_TEXT, 10],
    },
    {
      name: 'comments around and inside calls, lower case',
      sql: 'insert /* c1 */ into t (a, b) values (/* id */ uuid() /* after */, rand(/* seed */ ?)) -- done\n',
      values: [3],
      evaluation: 'SELECT uuid() AS `pin0`, rand(/* seed */ ?) AS `pin1`',
      evaluationValues: [3],
      evaluated: [UUID_A, RAND_TEXT],
      expectedSql: 'insert /* c1 */ into t (a, b) values (/* id */ ? /* after */, (? + 0e0)) -- done\n',
      expectedValues: [UUID_A, RAND_TEXT],
    },
    {
      name: 'plain text: the result gets values',
      sql: "INSERT INTO t (id, a) VALUES (UUID(), 'x'), (UUID(), 'y')",
      evaluation: 'SELECT UUID() AS `pin0`, UUID() AS `pin1`',
      evaluated: [UUID_A, UUID_B],
      expectedSql: "INSERT INTO t (id, a) VALUES (?, 'x'), (?, 'y')",
      expectedValues: [UUID_A, UUID_B],
    },
    {
      name: 'ON DUPLICATE KEY UPDATE with the call in VALUES',
      sql: 'INSERT INTO t (k, id) VALUES (?, UUID()) ON DUPLICATE KEY UPDATE id = VALUES(id), n = n + ?',
      values: [1, 2],
      evaluation: 'SELECT UUID() AS `pin0`',
      remaining: ['on_duplicate_key_update'],
      evaluated: [UUID_A],
      expectedSql: 'INSERT INTO t (k, id) VALUES (?, ?) ON DUPLICATE KEY UPDATE id = VALUES(id), n = n + ?',
      expectedValues: [1, UUID_A, 2],
    },
    {
      name: 'row alias and ODKU',
      sql: 'INSERT INTO t (k, id) VALUES (?, UUID()) AS new ON DUPLICATE KEY UPDATE id = new.id',
      values: [1],
      evaluation: 'SELECT UUID() AS `pin0`',
      remaining: ['on_duplicate_key_update'],
      evaluated: [UUID_A],
      expectedSql: 'INSERT INTO t (k, id) VALUES (?, ?) AS new ON DUPLICATE KEY UPDATE id = new.id',
      expectedValues: [1, UUID_A],
    },
    {
      name: 'REPLACE, IGNORE, NOW() and a variable stay listed',
      sql: 'REPLACE INTO t (id, at, v) VALUES (UUID(), NOW(), @v)',
      evaluation: 'SELECT UUID() AS `pin0`',
      remaining: ['replace', 'time_function', 'user_variable'],
      evaluated: [UUID_A],
      expectedSql: 'REPLACE INTO t (id, at, v) VALUES (?, NOW(), @v)',
      expectedValues: [UUID_A],
    },
    {
      name: 'INSERT IGNORE',
      sql: 'INSERT IGNORE INTO t (id) VALUES (UUID())',
      evaluation: 'SELECT UUID() AS `pin0`',
      remaining: ['ignore'],
      evaluated: [UUID_A],
      expectedSql: 'INSERT IGNORE INTO t (id) VALUES (?)',
      expectedValues: [UUID_A],
    },
    {
      name: 'a subquery elsewhere in the row is listed, not refused',
      sql: 'INSERT INTO t (id, n) VALUES (UUID(), (SELECT COUNT(*) FROM u))',
      evaluation: 'SELECT UUID() AS `pin0`',
      remaining: ['subquery'],
      evaluated: [UUID_A],
      expectedSql: 'INSERT INTO t (id, n) VALUES (?, (SELECT COUNT(*) FROM u))',
      expectedValues: [UUID_A],
    },
    {
      name: 'Date, Buffer, bigint, null and undefined values pass through',
      sql: 'INSERT INTO t VALUES (?, ?, ?, UUID(), ?, ?, ?)',
      values: [date, bytes, 2n ** 60n, null, undefined, true],
      evaluation: 'SELECT UUID() AS `pin0`',
      evaluated: [UUID_A],
      expectedSql: 'INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)',
      expectedValues: [date, bytes, 2n ** 60n, UUID_A, null, undefined, true],
    },
    {
      name: 'trailing semicolon',
      sql: 'INSERT INTO t (id) VALUES (UUID());',
      evaluation: 'SELECT UUID() AS `pin0`',
      evaluated: [UUID_A],
      expectedSql: 'INSERT INTO t (id) VALUES (?);',
      expectedValues: [UUID_A],
    },
  ];

  it.each(cases)('$name', (c) => {
    const a = analyze(c.sql);
    const p = planNondeterministicPins(c.sql, a, c.values);
    expect(p).not.toBeNull();
    if (p === null) return;
    expect(p.evaluation.sql).toBe(c.evaluation);
    expect(p.evaluation.values).toEqual(c.evaluationValues ?? []);
    expect(p.remaining).toEqual(c.remaining ?? []);
    for (const site of p.sites) expect(c.sql.slice(site.span.start, site.span.end)).toBe(site.text);
    // The evaluation is itself a statement the analyzer reads as a read with the calls' placeholders.
    const ea = analyze(p.evaluation.sql);
    expect(ea.class).toBe('read');
    expect(ea.placeholderCount).toBe(p.evaluation.values.length);

    const frozen = c.values === undefined ? undefined : Object.freeze(c.values.slice());
    const out = withPinnedValues(c.sql, a, frozen, p, c.evaluated);
    expect(out.sql).toBe(c.expectedSql);
    expect(out.values).toEqual(c.expectedValues);
    expect(out.values).not.toBe(frozen);

    const after = analyze(out.sql);
    expect(after.understood).toBe(true);
    expect(after.unsafe.filter((f) => f.reason === 'uuid' || f.reason === 'random' || f.reason === 'sysdate')).toEqual([]);
    expect(after.placeholderCount).toBe(out.values.length);
    expect([...new Set(after.unsafe.map((f) => f.reason))]).toEqual(c.remaining ?? []);
  });

  const refused: Array<{ name: string; sql: string; values?: unknown[] }> = [
    { name: 'no call', sql: 'INSERT INTO t (a) VALUES (?)', values: [1] },
    { name: 'only NOW()', sql: 'INSERT INTO t (a) VALUES (NOW())' },
    { name: 'call in the ODKU clause', sql: 'INSERT INTO t (k, id) VALUES (?, UUID()) ON DUPLICATE KEY UPDATE id = UUID()', values: [1] },
    { name: 'only call in the ODKU clause', sql: 'INSERT INTO t (k) VALUES (?) ON DUPLICATE KEY UPDATE r = RAND()', values: [1] },
    { name: 'call in a subquery', sql: 'INSERT INTO t (a) VALUES ((SELECT UUID()))' },
    { name: 'call in a subquery reading a table', sql: 'INSERT INTO t (a) VALUES ((SELECT MAX(RAND()) FROM u))' },
    { name: 'call in RETURNING', sql: 'INSERT INTO t (a) VALUES (1) RETURNING a, UUID()' },
    { name: 'column argument', sql: 'INSERT INTO t (id, r) VALUES (5, RAND(id))' },
    { name: 'expression argument', sql: 'INSERT INTO t (r) VALUES (RAND(? + 1))', values: [1] },
    { name: 'variable argument', sql: 'INSERT INTO t (r) VALUES (RAND(@seed))' },
    { name: 'call argument', sql: 'INSERT INTO t (r) VALUES (RAND(UUID_SHORT()))' },
    { name: 'two arguments', sql: 'INSERT INTO t (r) VALUES (RAND(1, 2))' },
    { name: 'argument to UUID()', sql: 'INSERT INTO t (id) VALUES (UUID(1))' },
    { name: 'SYSDATE(7)', sql: 'INSERT INTO t (at) VALUES (SYSDATE(7))' },
    { name: 'SYSDATE(?)', sql: 'INSERT INTO t (at) VALUES (SYSDATE(?))', values: [3] },
    { name: 'SYSDATE(1.5)', sql: 'INSERT INTO t (at) VALUES (SYSDATE(1.5))' },
    { name: 'seeded RAND inside an expression (NULLIF evaluates it twice)', sql: 'INSERT INTO t (r) VALUES (NULLIF(RAND(5), 0.5))' },
    { name: 'seeded RAND in parentheses', sql: 'INSERT INTO t (r) VALUES ((RAND(?)))', values: [5] },
    { name: 'space before the parenthesis', sql: 'INSERT INTO t (r) VALUES (RAND ())' },
    { name: 'comment before the parenthesis', sql: 'INSERT INTO t (r) VALUES (RAND/**/())' },
    { name: 'RANDOM_BYTES', sql: 'INSERT INTO t (b, id) VALUES (RANDOM_BYTES(8), UUID())' },
    { name: 'INSERT … SELECT', sql: 'INSERT INTO t (id) SELECT UUID() FROM u' },
    { name: 'UPDATE', sql: 'UPDATE t SET id = UUID() WHERE k = 1' },
    { name: 'SELECT', sql: 'SELECT UUID()' },
    { name: 'two statements', sql: 'INSERT INTO t (id) VALUES (UUID()); INSERT INTO t (id) VALUES (UUID())' },
    { name: 'executable comment', sql: 'INSERT /*!IGNORE*/ INTO t (id) VALUES (UUID())' },
    { name: 'executable comment hiding a call', sql: 'INSERT INTO t (id, x) VALUES (UUID(), 1 /*!+ RAND() */)' },
    { name: 'not understood', sql: 'INSERT INTO t (id) VALUES (UUID()) garbage here' },
    { name: 'placeholders without values', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)' },
    { name: 'fewer values than placeholders', sql: 'INSERT INTO t (id, a, b) VALUES (UUID(), ?, ?)', values: [1] },
    { name: 'more values than placeholders', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)', values: [1, 2] },
    { name: 'values for plain text that has none', sql: 'INSERT INTO t (id) VALUES (UUID())', values: [1] },
    { name: 'an array value (query() expands it)', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)', values: [[1, 2]] },
    { name: 'a plain object value', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)', values: [{ a: 1 }] },
    { name: 'a Set value', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)', values: [new Set([1])] },
    { name: 'a Map value', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)', values: [new Map([[1, 2]])] },
    { name: 'a raw SQL value', sql: 'INSERT INTO t (id, a) VALUES (UUID(), ?)', values: [{ toSqlString: () => 'NOW()' }] },
    { name: 'an array seed', sql: 'INSERT INTO t (r) VALUES (RAND(?))', values: [[1]] },
    { name: '?? identifier placeholder', sql: 'INSERT INTO t (id, ??) VALUES (UUID(), ?)', values: ['a', 1] },
    { name: '? inside a string, with values', sql: "INSERT INTO t (id, a, b) VALUES (UUID(), 'why?', ?)", values: [1] },
    { name: '? inside a comment, with values', sql: 'INSERT INTO t (id, a) /* ok? */ VALUES (UUID(), ?)', values: [1] },
    { name: '? inside a string, plain text (the result carries values)', sql: "INSERT INTO t (id, a) VALUES (UUID(), 'why?')" },
  ];
  it.each(refused)('null: $name', ({ sql, values }) => {
    expect(plan(sql, values)).toBeNull();
  });

  it('gives the same text for the same template whatever the evaluated values', () => {
    const sql = 'INSERT INTO t (id, r, at, s) VALUES (UUID(), RAND(), SYSDATE(6), UUID_SHORT())';
    const one = pinned(sql, undefined, [UUID_A, '0.1', NOW6, '1']);
    const two = pinned(sql, undefined, [UUID_B, '0.9999999999999999', '2030-12-31 23:59:59.999999', '18446744073709551615']);
    expect(two.sql).toBe(one.sql);
    expect(two.values).not.toEqual(one.values);
    expect(plan(sql)?.evaluation.sql).toBe(plan(sql)?.evaluation.sql);
  });

  it('pins a UUID() in each of 2000 rows, values in place', () => {
    const n = 2000;
    const sql = 'INSERT INTO t (id, a) VALUES ' + Array.from({ length: n }, () => '(UUID(), ?)').join(', ');
    const values = Array.from({ length: n }, (_, i) => i);
    const evaluated = Array.from({ length: n }, (_, i) => `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`);
    const out = pinned(sql, values, evaluated);
    expect(out.sql).toBe('INSERT INTO t (id, a) VALUES ' + Array.from({ length: n }, () => '(?, ?)').join(', '));
    expect(out.values).toEqual(values.flatMap((v, i) => [evaluated[i], v]));
  });

  it('returns arrays of its own and never changes the caller’s', () => {
    const sql = 'INSERT INTO t (a, r, b) VALUES (?, RAND(?), ?)';
    const values = Object.freeze(['a', 9, 'b']);
    const a = analyze(sql);
    const p = planNondeterministicPins(sql, a, values);
    expect(p).not.toBeNull();
    if (p === null) return;
    expect(p.evaluation.values).not.toBe(values);
    const out = withPinnedValues(sql, a, values, p, ['0.5']);
    expect(out.values).toEqual(['a', '0.5', 'b']);
    expect(values).toEqual(['a', 9, 'b']);
  });
});

describe('withPinnedValues errors', () => {
  const sql = 'INSERT INTO t (id, r, s, g, a0, a3, a6) VALUES (UUID(), RAND(), UUID_SHORT(), SYS_GUID(), SYSDATE(), SYSDATE(3), SYSDATE(6))';
  const a = analyze(sql);
  const p = planNondeterministicPins(sql, a, undefined) as PinPlan;
  const good = [UUID_A, RAND_TEXT, SHORT, GUID, '2024-01-02 03:04:05', '2024-01-02 03:04:05.123', NOW6];

  it('takes values of the right shapes', () => {
    expect(p).not.toBeNull();
    expect(withPinnedValues(sql, a, undefined, p, good).values).toEqual(good);
    expect(withPinnedValues(sql, a, undefined, p, [UUID_A.toUpperCase(), '1e-7', '18446744073709551615', GUID.toUpperCase(), ...good.slice(4)]).values).toHaveLength(7);
  });

  it('refuses another number of evaluated values', () => {
    for (const evaluated of [good.slice(1), [...good, UUID_A], []]) {
      let error: unknown;
      try {
        withPinnedValues(sql, a, undefined, p, evaluated);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ReplayPlanError);
      expect(error).toBeInstanceOf(DualWriteError);
      expect((error as ReplayPlanError).code).toBe('ER_DUALWRITE_REPLAY_PLAN');
      expect((error as ReplayPlanError).message).toContain('for 7 pinned calls');
    }
  });

  // What mysql2's default typeCast (or execute()) hands back instead of the server's text.
  const wrong: Array<[string, number, unknown]> = [
    ['RAND as a number', 1, 0.9065021936842261],
    ['RAND as garbage', 1, 'abc'],
    ['RAND as an empty string', 1, ''],
    ['RAND infinite', 1, '1e999'],
    ['UUID_SHORT as a number (digits lost)', 2, 99360344143052800],
    ['UUID_SHORT as a bigint', 2, 99360344143052801n],
    ['UUID_SHORT beyond 2^64', 2, '18446744073709551616'],
    ['UUID_SHORT negative', 2, '-1'],
    ['UUID as a Buffer', 0, Buffer.from(UUID_A)],
    ['UUID without dashes', 0, GUID],
    ['SYS_GUID with dashes', 3, UUID_A],
    ['SYSDATE as a Date', 4, new Date()],
    ['SYSDATE() with a fraction', 4, '2024-01-02 03:04:05.1'],
    ['SYSDATE(3) without its fraction', 5, '2024-01-02 03:04:05'],
    ['SYSDATE(6) with milliseconds only (a Date round trip)', 6, '2024-01-02 03:04:05.123'],
    ['SYSDATE(6) in ISO form', 6, '2024-01-02T03:04:05.123456Z'],
    ['null', 0, null],
  ];
  it.each(wrong)('refuses %s', (_name, index, value) => {
    const evaluated = good.slice() as unknown[];
    evaluated[index] = value;
    expect(() => withPinnedValues(sql, a, undefined, p, evaluated as string[])).toThrow(ReplayPlanError);
    expect(() => withPinnedValues(sql, a, undefined, p, evaluated as string[])).toThrow(/typeCast/);
  });

  it('refuses a plan made for another statement', () => {
    const other = 'INSERT INTO t (x, id) VALUES (1, UUID())';
    const otherPlan = planNondeterministicPins(other, analyze(other), undefined) as PinPlan;
    expect(() => withPinnedValues(sql, a, undefined, otherPlan, [UUID_A])).toThrow(/another statement/);
  });

  it('refuses values that do not fit the statement', () => {
    const s = 'INSERT INTO t (id, a) VALUES (UUID(), ?)';
    const sa = analyze(s);
    const sp = planNondeterministicPins(s, sa, [1]) as PinPlan;
    expect(() => withPinnedValues(s, sa, undefined, sp, [UUID_A])).toThrow(ReplayPlanError);
    expect(() => withPinnedValues(s, sa, [1, 2], sp, [UUID_A])).toThrow(ReplayPlanError);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: generated INSERTs, with the expected plan and rewrite built beside the text.

interface Call {
  readonly text: string;
  readonly seeds: readonly unknown[];
  readonly replacement: string;
  readonly evaluated: string;
  /** Only unseeded calls may stand inside an expression. */
  readonly seeded: boolean;
}

/** One value of a row: its text, its rewrite, its placeholders' values, and its calls. */
interface Slot {
  readonly text: string;
  readonly rewritten: string;
  readonly values: readonly unknown[];
  readonly rewrittenValues: readonly unknown[];
  readonly calls: readonly Call[];
}

const gap = fc.constantFrom('', ' ', '  ', '\n', ' /* c */ ', '/*x*/', ' -- note\n');
const caseOf = (name: string): fc.Arbitrary<string> => fc.constantFrom(name, name.toLowerCase());
const plainValue = fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null), fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.boolean());

const unseededCall: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(caseOf('UUID'), fc.constantFrom('', ' ')).map(([n, inner]) => ({ text: `${n}(${inner})`, seeds: [], replacement: '?', evaluated: UUID_A, seeded: false })),
  caseOf('UUID_SHORT').map((n) => ({ text: `${n}()`, seeds: [], replacement: 'CAST(? AS UNSIGNED)', evaluated: SHORT, seeded: false })),
  caseOf('SYS_GUID').map((n) => ({ text: `${n}()`, seeds: [], replacement: '?', evaluated: GUID, seeded: false })),
  caseOf('RAND').map((n) => ({ text: `${n}()`, seeds: [], replacement: '(? + 0e0)', evaluated: RAND_TEXT, seeded: false })),
  fc.tuple(caseOf('SYSDATE'), fc.integer({ min: -1, max: 6 })).map(([n, fsp]) => ({
    text: fsp < 0 ? `${n}()` : `${n}(${fsp})`,
    seeds: [],
    replacement: fsp <= 0 ? 'CAST(? AS DATETIME)' : `CAST(? AS DATETIME(${fsp}))`,
    evaluated: fsp <= 0 ? '2024-01-02 03:04:05' : `2024-01-02 03:04:05.${'123456'.slice(0, fsp)}`,
    seeded: false,
  })),
);

const seededCall: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(caseOf('RAND'), fc.integer({ min: -5, max: 1000 }), gap).map(([n, seed, g]) => ({ text: `${n}(${g}?)`, seeds: [seed], replacement: '(? + 0e0)', evaluated: RAND_TEXT, seeded: true })),
  fc.tuple(caseOf('RAND'), fc.constantFrom('7', '-3', "'s'", 'NULL', '0x1F', '1.5')).map(([n, seed]) => ({ text: `${n}(${seed})`, seeds: [], replacement: '(? + 0e0)', evaluated: RAND_TEXT, seeded: true })),
);

/** Expressions around an unseeded call, with a placeholder before or after it. */
const wrapped: fc.Arbitrary<Slot> = fc.tuple(unseededCall, plainValue, fc.integer({ min: 0, max: 4 })).map(([call, value, shape]) => {
  const wrap = (x: string): { text: string; values: unknown[]; after: boolean } => {
    switch (shape) {
      case 0:
        return { text: `CONCAT('u-', ${x})`, values: [], after: false };
      case 1:
        return { text: `UNHEX(REPLACE(${x}, '-', ''))`, values: [], after: false };
      case 2:
        return { text: `${x} * ?`, values: [value], after: true };
      case 3:
        return { text: `IFNULL(?, ${x})`, values: [value], after: false };
      default:
        return { text: `COALESCE(${x}, ?)`, values: [value], after: true };
    }
  };
  const before = wrap(call.text);
  const after = wrap(call.replacement);
  const rewrittenValues = before.values.length === 0 ? [call.evaluated] : before.after ? [call.evaluated, value] : [value, call.evaluated];
  return { text: before.text, rewritten: after.text, values: before.values, rewrittenValues, calls: [call] };
});

const slot: fc.Arbitrary<Slot> = fc.oneof(
  { weight: 3, arbitrary: plainValue.map((v): Slot => ({ text: '?', rewritten: '?', values: [v], rewrittenValues: [v], calls: [] })) },
  { weight: 1, arbitrary: fc.constantFrom("'lit'", '42', 'NULL', 'DEFAULT', '-1.5').map((t): Slot => ({ text: t, rewritten: t, values: [], rewrittenValues: [], calls: [] })) },
  {
    weight: 3,
    arbitrary: fc.oneof(unseededCall, seededCall).map((c): Slot => ({ text: c.text, rewritten: c.replacement, values: c.seeds, rewrittenValues: [c.evaluated], calls: [c] })),
  },
  { weight: 2, arbitrary: wrapped },
);

interface Scenario {
  readonly form: 'values' | 'set';
  readonly verb: 'INSERT' | 'INSERT IGNORE' | 'REPLACE';
  readonly rows: readonly (readonly Slot[])[];
  readonly gaps: readonly string[];
  readonly odku: readonly unknown[] | null;
  readonly plainText: boolean;
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    form: fc.constantFrom('values' as const, 'set' as const),
    verb: fc.constantFrom('INSERT' as const, 'INSERT IGNORE' as const, 'REPLACE' as const),
    width: fc.integer({ min: 1, max: 4 }),
    rowCount: fc.integer({ min: 1, max: 3 }),
    gaps: fc.array(gap, { minLength: 40, maxLength: 40 }),
    odku: fc.option(fc.array(plainValue, { maxLength: 2 })),
    plainText: fc.boolean(),
  })
  .chain((r) =>
    fc.array(fc.array(slot, { minLength: r.width, maxLength: r.width }), { minLength: r.form === 'set' ? 1 : r.rowCount, maxLength: r.form === 'set' ? 1 : r.rowCount }).map(
      (rows): Scenario => ({ form: r.form, verb: r.verb, rows, gaps: r.gaps, odku: r.verb === 'REPLACE' ? null : r.odku, plainText: r.plainText }),
    ),
  );

interface Built {
  sql: string;
  values: unknown[] | undefined;
  evaluation: string;
  evaluationValues: unknown[];
  evaluated: string[];
  expectedSql: string;
  expectedValues: unknown[];
  remaining: UnsafeReason[];
}

function build(s: Scenario): Built {
  let g = 0;
  const nextGap = (): string => s.gaps[g++ % s.gaps.length] as string;
  const width = (s.rows[0] as readonly Slot[]).length;
  const columns = Array.from({ length: width }, (_, i) => `c${i}`);
  const head = `${s.verb} INTO t`;
  let sql = head;
  let expectedSql = head;
  const values: unknown[] = [];
  const expectedValues: unknown[] = [];
  const calls: Call[] = [];
  const add = (text: string, rewritten = text): void => {
    sql += text;
    expectedSql += rewritten;
  };
  const addSlot = (v: Slot): void => {
    add(v.text, v.rewritten);
    values.push(...v.values);
    expectedValues.push(...v.rewrittenValues);
    calls.push(...v.calls);
  };
  if (s.form === 'values') {
    add(` (${columns.join(', ')}) VALUES`);
    s.rows.forEach((row, r) => {
      add(`${r === 0 ? ' ' : ','}${nextGap()}(`);
      row.forEach((v, i) => {
        add(`${i === 0 ? '' : ','}${nextGap()}`);
        addSlot(v);
        add(nextGap());
      });
      add(')');
    });
  } else {
    add(' SET ');
    (s.rows[0] as readonly Slot[]).forEach((v, i) => {
      add(`${i === 0 ? '' : ', '}${columns[i]}${nextGap()}=${nextGap()}`);
      addSlot(v);
    });
  }
  const remaining: UnsafeReason[] = [];
  if (s.verb === 'REPLACE') remaining.push('replace');
  if (s.verb === 'INSERT IGNORE') remaining.push('ignore');
  if (s.odku !== null) {
    add(` ON DUPLICATE KEY UPDATE c0 = VALUES(c0)${s.odku.map(() => ', c0 = c0 + ?').join('')}`);
    values.push(...s.odku);
    expectedValues.push(...s.odku);
    remaining.push('on_duplicate_key_update');
  }
  return {
    sql,
    values: s.plainText && values.length === 0 ? undefined : values,
    evaluation: calls.length === 0 ? '' : 'SELECT ' + calls.map((c, i) => `${c.text} AS \`pin${i}\``).join(', '),
    evaluationValues: calls.flatMap((c) => c.seeds),
    evaluated: calls.map((c) => c.evaluated),
    expectedSql,
    expectedValues,
    remaining,
  };
}

describe('property: generated INSERTs with calls among placeholders, literals and comments', () => {
  const params = (): fc.Parameters<[Scenario]> => ({ numRuns: 3000, ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}) });

  it('plans exactly the calls written, and the rewrite binds each its value in place, leaving the rest as it was', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const b = build(s);
        const a = analyze(b.sql);
        if (!a.understood) throw new Error(`generated statement not understood: ${b.sql} ${JSON.stringify(a.unsafe)}`);
        const p = planNondeterministicPins(b.sql, a, b.values);
        if (b.evaluated.length === 0) {
          expect(p).toBeNull();
          return;
        }
        if (p === null) throw new Error(`no plan for ${b.sql}`);
        expect(p.evaluation.sql).toBe(b.evaluation);
        expect(p.evaluation.values).toEqual(b.evaluationValues);
        expect(p.remaining).toEqual(b.remaining);
        const out = withPinnedValues(b.sql, a, b.values, p, b.evaluated);
        expect(out.sql).toBe(b.expectedSql);
        expect(out.values).toEqual(b.expectedValues);
        const after = analyze(out.sql);
        expect(after.understood).toBe(true);
        expect(after.unsafe.map((f) => f.reason).filter((r) => r === 'uuid' || r === 'random' || r === 'sysdate')).toEqual([]);
        expect(after.placeholderCount).toBe(out.values.length);
        // The rewrite of a rewrite has nothing left to pin.
        expect(planNondeterministicPins(out.sql, after, out.values)).toBeNull();
      }),
      params(),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Against real servers: evaluate on SOURCE, run the rewrite on SOURCE and TARGET, compare the rows.

/** Keeps every column as the text the server sent (the typeCast withPinnedValues asks for). */
const TEXT = (field: { string(): string | null }): string | null => field.string();

describe('against real servers', () => {
  let db: TestDatabases;
  let mariadb = false;

  beforeAll(async () => {
    db = await createTestDatabases('pin_nondeterministic');
    const [[settings]] = await db.source.query<RowDataPacket[]>('SELECT VERSION() AS version');
    mariadb = /mariadb/i.test(String(settings?.version));
    for (const pool of [db.source, db.target]) {
      await pool.query(`CREATE TABLE pins (
        k INT NOT NULL PRIMARY KEY,
        u CHAR(36) NULL,
        ub BINARY(16) NULL,
        g VARCHAR(32) NULL,
        r DOUBLE NULL,
        r10 VARCHAR(10) NULL,
        ri INT NULL,
        us BIGINT UNSIGNED NULL,
        usd DOUBLE NULL,
        us1 BIGINT UNSIGNED NULL,
        s6 DATETIME(6) NULL,
        s0 DATETIME NULL,
        s3 DATETIME(3) NULL,
        sn DECIMAL(20, 6) NULL,
        note VARCHAR(40) NULL
      )`);
      await pool.query('CREATE TABLE oracle (k INT NOT NULL PRIMARY KEY, d DOUBLE NOT NULL, v VARCHAR(10) NOT NULL, i INT NOT NULL, f FLOAT NOT NULL)');
      await pool.query("INSERT INTO pins (k, u, note) VALUES (100, 'old', 'existing row')");
    }
  });

  afterAll(async () => {
    await db?.drop();
  });

  type Method = 'execute' | 'query';

  async function run(pool: Pool, method: Method, sql: string, values: unknown[] | undefined): Promise<void> {
    // mysql2's types list the value types it binds; the values here are ones it takes.
    if (method === 'execute') await pool.execute(sql, values as Parameters<Pool['execute']>[1]);
    else await pool.query(sql, values);
  }

  /** Runs the evaluation on SOURCE the way withPinnedValues asks: query(), text typeCast, one row. */
  async function evaluate(p: PinPlan): Promise<string[]> {
    const [rows] = await db.source.query<RowDataPacket[][]>({ sql: p.evaluation.sql, values: p.evaluation.values, rowsAsArray: true, typeCast: TEXT });
    expect(rows).toHaveLength(1);
    return (rows[0] as unknown[]).map((v) => v as string);
  }

  async function row(pool: Pool, k: number): Promise<Record<string, string | null>> {
    const [rows] = await pool.query<RowDataPacket[]>({ sql: 'SELECT * FROM pins WHERE k = ?', values: [k], typeCast: TEXT });
    expect(rows).toHaveLength(1);
    return rows[0] as Record<string, string | null>;
  }

  /** Plans, evaluates, rewrites, runs on both sides; returns the evaluated values. */
  async function pinAndRun(method: Method, sql: string, values: unknown[] | undefined, remaining: UnsafeReason[] = []): Promise<string[]> {
    const analysis = analyze(sql);
    const p = planNondeterministicPins(sql, analysis, values);
    if (p === null) throw new Error(`no plan for ${sql}`);
    expect(p.remaining).toEqual(remaining);
    const evaluated = await evaluate(p);
    const out = withPinnedValues(sql, analysis, values, p, evaluated);
    await run(db.source, method, out.sql, out.values);
    await run(db.target, method, out.sql, out.values);
    return evaluated;
  }

  for (const method of ['execute', 'query'] as const) {
    const base = method === 'execute' ? 0 : 50;

    it(`${method}: UUID() in every row, UNHEX(REPLACE(UUID(), …)) into BINARY(16)`, async () => {
      const ev = await pinAndRun(method, "INSERT INTO pins (k, u, ub, note) VALUES (?, UUID(), UNHEX(REPLACE(UUID(), '-', '')), ?), (?, UUID(), NULL, ?)", [
        base + 1,
        'a',
        base + 2,
        'b',
      ]);
      expect(new Set(ev).size).toBe(3);
      const [one, two] = await Promise.all([row(db.source, base + 1), row(db.source, base + 2)]);
      expect(one.u).toBe(ev[0]);
      expect(two.u).toBe(ev[2]);
      const [hex] = await db.source.query<RowDataPacket[]>('SELECT LOWER(HEX(ub)) AS h FROM pins WHERE k = ?', [base + 1]);
      expect(hex[0]?.h).toBe(ev[1]?.replaceAll('-', ''));
    });

    it(`${method}: RAND() into DOUBLE, VARCHAR(10) and INT stores what RAND() stores`, async () => {
      const ev = await pinAndRun(method, 'INSERT INTO pins (k, r, r10, ri) VALUES (?, RAND(), RAND(), RAND())', [base + 3]);
      const stored = await row(db.source, base + 3);
      expect(stored.r).toBe(ev[0]);
      // RAND() printed into VARCHAR(10) is rounded to fit, into INT rounded to an integer (the seeded oracle below
      // checks both against RAND(n) itself); a bare string would have failed with "Data too long".
      expect((stored.r10 ?? '').length).toBeLessThanOrEqual(10);
      expect(Math.abs(Number(stored.r10) - Number(ev[1]))).toBeLessThan(1e-7);
      expect(stored.ri).toBe(String(Math.round(Number(ev[2]))));
    });

    it(`${method}: UUID_SHORT() into BIGINT UNSIGNED keeps its digits beyond 2^53`, async () => {
      const ev = await pinAndRun(method, 'INSERT INTO pins SET k = ?, us = UUID_SHORT(), usd = UUID_SHORT(), us1 = UUID_SHORT() + 1, note = ?', [base + 4, 'short']);
      const stored = await row(db.source, base + 4);
      expect(BigInt(ev[0] as string)).toBeGreaterThan(2n ** 53n);
      expect(stored.us).toBe(ev[0]);
      // Integer arithmetic, as on UUID_SHORT() itself: a string operand would make it a DOUBLE sum, digits lost.
      expect(stored.us1).toBe(String(BigInt(ev[2] as string) + 1n));
      const [[asDouble]] = await db.source.query<RowDataPacket[][]>({ sql: 'SELECT CAST(CAST(? AS UNSIGNED) AS DOUBLE)', values: [ev[1]], rowsAsArray: true, typeCast: TEXT });
      expect(stored.usd).toBe(asDouble?.[0]);
    });

    it(`${method}: SYSDATE(6) into DATETIME(6) keeps microseconds; SYSDATE(), SYSDATE(3), SYSDATE(6) + 0`, async () => {
      const ev = await pinAndRun(method, 'INSERT INTO pins (k, s6, s0, s3, sn) VALUES (?, SYSDATE(6), SYSDATE(), SYSDATE(3), SYSDATE(6) + 0)', [base + 5]);
      const stored = await row(db.source, base + 5);
      expect(ev[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      expect(stored.s6).toBe(ev[0]);
      expect(stored.s0).toBe(ev[1]);
      expect(stored.s3).toBe(ev[2]);
      // A DATETIME plus 0 is the number YYYYMMDDhhmmss.ffffff: the cast kept the type, not just the text.
      expect(stored.sn).toBe((ev[3] as string).replace(/[- :]/g, ''));
    });

    it(`${method}: RAND(?) seeded, placeholders before and after, comments`, async () => {
      const ev = await pinAndRun(method, 'INSERT /* seeded */ INTO pins (note, k, r) VALUES (? /* n */, ?, RAND(/* seed */ ?))', ['seeded', base + 6, 12345]);
      const [[expected]] = await db.source.query<RowDataPacket[][]>({ sql: 'SELECT RAND(12345)', rowsAsArray: true, typeCast: TEXT });
      expect(ev[0]).toBe(expected?.[0]);
      expect((await row(db.source, base + 6)).r).toBe(ev[0]);
    });

    it(`${method}: plain text becomes a statement with values`, async () => {
      const sql = `INSERT INTO pins (k, u, r, note) VALUES (${base + 7}, UUID(), RAND(), 'plain')`;
      const ev = await pinAndRun(method, sql, undefined);
      const stored = await row(db.target, base + 7);
      expect([stored.u, stored.r]).toEqual(ev);
    });

    it(`${method}: ON DUPLICATE KEY UPDATE with the call in VALUES, on an existing row`, async () => {
      const ev = await pinAndRun(
        method,
        'INSERT INTO pins (k, u) VALUES (?, UUID()) ON DUPLICATE KEY UPDATE u = VALUES(u), note = CONCAT(note, ?)',
        [100, ` +${method}`],
        ['on_duplicate_key_update'],
      );
      const stored = await row(db.target, 100);
      expect(stored.u).toBe(ev[0]);
    });

    it(`${method}: REPLACE`, async () => {
      const ev = await pinAndRun(method, 'REPLACE INTO pins (k, u, s6) VALUES (?, UUID(), SYSDATE(6))', [base + 8], ['replace']);
      expect((await row(db.target, base + 8)).s6).toBe(ev[1]);
    });

    it(`${method}: SYS_GUID() (MariaDB)`, async () => {
      if (!mariadb) return;
      const ev = await pinAndRun(method, 'INSERT INTO pins (k, g) VALUES (?, SYS_GUID())', [base + 9]);
      expect((await row(db.target, base + 9)).g).toBe(ev[0]);
    });

    it(`${method}: RAND(n) — deterministic — stores the same double, text and rounding pinned as unpinned`, async () => {
      const seeds = Array.from({ length: 60 }, (_, i) => i * 7919 - 50);
      const original = 'INSERT INTO oracle (k, d, v, i, f) VALUES (?, RAND(?), RAND(?), RAND(?), RAND(?))';
      for (const [i, seed] of seeds.entries()) {
        const k = base * 1000 + i;
        // The original on both sides (deterministic), then the rewrite under another key.
        await run(db.source, method, original, [k, seed, seed, seed, seed]);
        await run(db.target, method, original, [k, seed, seed, seed, seed]);
        await pinAndRun(method, original, [k + 500, seed, seed, seed, seed]);
      }
      for (const pool of [db.source, db.target]) {
        const [[counts]] = await pool.query<RowDataPacket[]>(
          `SELECT COUNT(*) AS n, SUM(a.d = b.d AND a.v = b.v AND a.i = b.i AND a.f = b.f) AS same
             FROM oracle a JOIN oracle b ON b.k = a.k + 500 WHERE a.k BETWEEN ? AND ?`,
          [base * 1000, base * 1000 + 499],
        );
        expect(Number(counts?.n)).toBe(seeds.length);
        expect(Number(counts?.same)).toBe(seeds.length);
      }
    });
  }

  it('both sides hold the same rows (independent row-by-row check)', async () => {
    await expectSidesIdentical(db.source, db.target);
  });
});
