/**
 * verifyIncremental() and verifyKeys() against the two real servers, on a table with an
 * `updated_at TIMESTAMP(6) … ON UPDATE CURRENT_TIMESTAMP(6)` column, once without and once with an
 * index on that column (the two walk orders of the forward pass):
 *
 * - identical tables give no difference, and every row changed since an old `since` is compared;
 * - after a run's `nextSince`, changes on the source not applied to the target are found
 *   (`different` with the column, `missing`), and a row deleted on the source but left on the
 *   target is found by the reverse pass (`extra`);
 * - an old difference (a row whose `updated_at` is before `since`) is not examined by the forward
 *   pass, although a full `verify()` finds it;
 * - the second run's `nextSince` covers exactly the writes made after it;
 * - verifyKeys reports exactly the differing keys among those given.
 *
 * Rows are written with the same statements on both sides, with explicit old `updated_at` values.
 */
import type { Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { verify, type Difference } from '../../src/migrate/verify.js';
import { verifyIncremental, verifyKeys, type VerifyIncrementalOptions } from '../../src/migrate/verify-incremental.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;

const ROWS = 1200;
const OLD = '2020-01-01 00:00:00.000000';
const DDL = (name: string, indexed: boolean): string => `CREATE TABLE ${name} (
  id INT NOT NULL PRIMARY KEY, v VARCHAR(32) NOT NULL, n INT NOT NULL DEFAULT 0,
  updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)${indexed ? ', KEY by_updated (updated_at)' : ''}
)`;

/** Runs `sql` on `pool` in a `+00:00` session (the explicit TIMESTAMP values are UTC). */
async function utc(pool: Pool, sql: string, values: unknown[] = []): Promise<void> {
  const connection = await pool.getConnection();
  try {
    await connection.query("SET time_zone = '+00:00'");
    await connection.query(sql, values);
    await connection.query("SET time_zone = 'SYSTEM'");
  } finally {
    connection.release();
  }
}

async function createTable(name: string, indexed: boolean): Promise<void> {
  const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, `row ${i + 1}`, i, OLD]);
  for (const side of [db.source, db.target]) {
    await side.query(DDL(name, indexed));
    await utc(side, `INSERT INTO ${name} (id, v, n, updated_at) VALUES ${rows.map(() => '(?, ?, ?, ?)').join(', ')}`, rows.flat());
  }
}

/** A difference as comparable text: `kind id [columns]`. */
function show(difference: Difference): string {
  const columns = difference.columns === undefined ? '' : ` [${difference.columns.join(',')}]`;
  return `${difference.kind} ${String(difference.key.id)}${columns}`;
}

const RECHECK = { delayMs: 20, attempts: 1 };

beforeAll(async () => {
  db = await createTestDatabases('verify_inc');
  await Promise.all([createTable('plain', false), createTable('indexed', true), createTable('bykey', false)]);
});

afterAll(async () => {
  await db?.drop();
});

describe.each([
  { table: 'plain', order: 'primaryKey' },
  { table: 'indexed', order: 'changedColumn' },
])('verifyIncremental on $table (forward pass in $order order)', ({ table, order }) => {
  const options = (since: string, extra: Partial<VerifyIncrementalOptions> = {}): VerifyIncrementalOptions => ({
    source: db.source,
    target: db.target,
    table,
    changedColumn: 'updated_at',
    since,
    batchKeys: 500,
    recheck: RECHECK,
    collect: true,
    ...extra,
  });

  it('finds changes after since, deletions by the reverse pass, not old differences; nextSince chains runs', async () => {
    // Identical: every row is changed since 2000, compared in pages of 500 by both passes.
    const first = await verifyIncremental(options('2000-01-01 00:00:00'));
    expect(first.identical).toBe(true);
    expect(first.tables[0]).toMatchObject({ table, forwardOrder: order, status: 'verified', changedRows: ROWS, rowsChecked: ROWS, targetKeysScanned: ROWS, candidates: 0, missing: 0, extra: 0, different: 0 });
    expect(first.tables[0]?.differences).toEqual([]);
    expect(first.nextSince).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/);
    expect(first.nextSince > OLD).toBe(true);

    // An old difference: changed on the source with its old updated_at kept (before any since used below).
    await db.source.query(`UPDATE ${table} SET v = 'old difference', updated_at = updated_at WHERE id = 5`);
    // Since the first run: changes on the source that the target did not get.
    await db.source.query(`UPDATE ${table} SET v = 'changed' WHERE id IN (10, 700)`);
    await db.source.query(`UPDATE ${table} SET n = n + 1 WHERE id = ${ROWS}`);
    await db.source.query(`INSERT INTO ${table} (id, v) VALUES (5000, 'new on the source')`);
    await db.source.query(`DELETE FROM ${table} WHERE id = 20`); // left on the target

    const streamed: Difference[] = [];
    const second = await verifyIncremental(options(first.nextSince, { onDifference: (d) => streamed.push(d) }));
    const found = (second.tables[0]?.differences ?? []).map(show).sort();
    expect(found).toEqual([`different ${ROWS} [n,updated_at]`, 'different 10 [v,updated_at]', 'different 700 [v,updated_at]', 'extra 20', 'missing 5000'].sort());
    expect(streamed.map(show).sort()).toEqual(found);
    expect(second.identical).toBe(false);
    // The forward pass compared exactly the four rows changed since; the reverse pass walked every target key.
    expect(second.tables[0]).toMatchObject({ changedRows: 4, targetKeysScanned: ROWS, missing: 1, extra: 1, different: 3 });
    expect(second.nextSince > first.nextSince).toBe(true);

    // Without the reverse pass, the deletion is not seen.
    const forwardOnly = await verifyIncremental(options(first.nextSince, { reversePass: false }));
    expect((forwardOnly.tables[0]?.differences ?? []).map(show)).not.toContain('extra 20');
    expect(forwardOnly.tables[0]).toMatchObject({ targetKeysScanned: 0, extra: 0, different: 3, missing: 1 });

    // The old difference is real (a full verify finds it), but the forward pass never examined it.
    const full = await verify({ source: db.source, target: db.target, tables: [table], recheck: RECHECK, collect: true });
    expect((full.tables[0]?.differences ?? []).map(show)).toContain('different 5 [v]');
    expect(found.some((text) => text.includes(' 5 ') || text.endsWith(' 5'))).toBe(false);

    // nextSince of the second run: nothing changed since, so the forward pass compares nothing …
    const third = await verifyIncremental(options(second.nextSince, { reversePass: false }));
    expect(third.identical).toBe(true);
    expect(third.tables[0]).toMatchObject({ changedRows: 0, candidates: 0 });
    // … and a write made after it is found, without the earlier ones.
    await db.source.query(`UPDATE ${table} SET v = 'later' WHERE id = 30`);
    const fourth = await verifyIncremental(options(second.nextSince, { reversePass: false }));
    expect((fourth.tables[0]?.differences ?? []).map(show)).toEqual(['different 30 [v,updated_at]']);
    expect(fourth.tables[0]?.changedRows).toBe(1);
  });
});

describe('verifyIncremental options', () => {
  it('refuses a changedColumn that is not a DATETIME/TIMESTAMP column, and a since that is not UTC text', async () => {
    const base = { source: db.source, target: db.target, table: 'plain', since: OLD };
    await expect(verifyIncremental({ ...base, changedColumn: 'v' })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(verifyIncremental({ ...base, changedColumn: 'nope' })).rejects.toBeInstanceOf(InvalidOptionError);
    await expect(verifyIncremental({ ...base, changedColumn: 'updated_at', since: 'yesterday' })).rejects.toBeInstanceOf(InvalidOptionError);
  });
});

describe('verifyKeys', () => {
  it('reports exactly the differing keys among those given', async () => {
    await db.target.query("UPDATE bykey SET v = 'target changed', updated_at = updated_at WHERE id = 3");
    await db.target.query('DELETE FROM bykey WHERE id = 4');
    await db.source.query('DELETE FROM bykey WHERE id = 6');
    await db.target.query("UPDATE bykey SET v = 'not asked' WHERE id = 100"); // differs, but not given
    await db.source.query("INSERT INTO bykey (id, v) VALUES (9000, 'absent on both? no: source only')");
    const given = [{ id: '1' }, { id: '3' }, { id: '4' }, { id: '6' }, { id: '7' }, { id: '9000' }, { id: '123456' }];
    const report = await verifyKeys({ source: db.source, target: db.target, table: 'bykey', keys: given, recheck: RECHECK, collect: true, batchKeys: 3 });
    expect((report.tables[0]?.differences ?? []).map(show).sort()).toEqual(['different 3 [v]', 'extra 6', 'missing 4', 'missing 9000'].sort());
    expect(report.identical).toBe(false);
    expect(report.tables[0]).toMatchObject({ rowsChecked: given.length, chunks: 3, candidates: 4 });
    // Equal keys only: identical.
    const equal = await verifyKeys({ source: db.source, target: db.target, table: 'bykey', keys: [{ ID: '1' }, { id: '2' }], recheck: RECHECK });
    expect(equal.identical).toBe(true);
    // A key without a value for a primary-key column is refused.
    await expect(verifyKeys({ source: db.source, target: db.target, table: 'bykey', keys: [{ v: 'x' }] })).rejects.toBeInstanceOf(InvalidOptionError);
  });
});
