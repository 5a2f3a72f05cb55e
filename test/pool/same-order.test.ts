/**
 * Writes to the same rows land on both sides in the same order: 16 callers write non-commutative values
 * (`SET v = ?` with unique values, `SET v = CONCAT(v, ?)`, `SET n = (n * 3 + ?) % p`) to the same 5 rows, as
 * autocommit writes and inside transactions. If two writes reached the secondary side in another order than the
 * primary side's, the final values would differ. No repair is run: the sides must be identical as written.
 */
import type { ResultSetHeader } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode } from '../../src/mode/modes.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { compareTables, expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { rowsOf, seeded } from './helpers.js';

const CALLERS = 16;
const OPERATIONS_PER_CALLER = 40;
const ROWS = [1, 2, 3, 4, 5];

let db: TestDatabases;
let pool: DualPromisePool;
const failures: ReplayFailure[] = [];

beforeAll(async () => {
  db = await createTestDatabases('same_order');
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE t (id INT NOT NULL PRIMARY KEY, v MEDIUMTEXT NOT NULL, n BIGINT NOT NULL) ENGINE=InnoDB');
    await side.query(`INSERT INTO t (id, v, n) VALUES ${ROWS.map((id) => `(${id}, '', 0)`).join(', ')}`);
  }
});

afterAll(async () => {
  await db?.drop();
});

/** A pool for one variant (with or without intent rows: the secondary side then holds its locks until after the primary COMMIT). */
function openPool(intents: boolean): DualPromisePool {
  const opened = createPool({
    source: { uri: db.sourceUrl, connectionLimit: 24 },
    target: { uri: db.targetUrl, connectionLimit: 24 },
    mode: 'source_only',
    // Generous: zero replay failures must not depend on how loaded the machine is.
    replayTimeoutMs: 20_000,
    intents,
  });
  opened.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  return opened;
}

/** One caller: a seeded mix of non-commutative updates of the 5 shared rows. */
async function caller(c: number, mode: Mode): Promise<number> {
  const random = seeded(104_729 * (c + 1) + (mode === 'source_first' ? 1 : 2));
  let written = 0;
  let unique = 0;
  const token = (): string => `${mode[0]}${c}.${++unique};`;
  const row = (): number => ROWS[Math.floor(random() * ROWS.length)] as number;
  for (let i = 0; i < OPERATIONS_PER_CALLER; i++) {
    const roll = random();
    if (roll < 0.3) {
      const [r] = await pool.execute<ResultSetHeader>('UPDATE t SET v = ? WHERE id = ?', [token(), row()]);
      expect(r.affectedRows).toBe(1);
    } else if (roll < 0.6) {
      const [r] = await pool.query<ResultSetHeader>('UPDATE t SET v = CONCAT(v, ?) WHERE id = ?', [token(), row()]);
      expect(r.affectedRows).toBe(1);
    } else if (roll < 0.75) {
      const [r] = await pool.execute<ResultSetHeader>('UPDATE t SET n = (n * 3 + ?) % 1000000007 WHERE id = ?', [c + 1, row()]);
      expect(r.affectedRows).toBe(1);
    } else if (roll < 0.85) {
      // Every row at once (locks taken in primary-key order, like every other writer here).
      const [r] = await pool.query<ResultSetHeader>('UPDATE t SET v = CONCAT(v, ?)', [token()]);
      expect(r.affectedRows).toBe(ROWS.length);
    } else {
      // A transaction writing two rows in ascending order, mirrored on the secondary side's session.
      const [a, b] = [row(), row()].sort((x, y) => x - y) as [number, number];
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        await connection.query('UPDATE t SET v = CONCAT(v, ?) WHERE id = ?', [token(), a]);
        await connection.execute('UPDATE t SET n = (n * 3 + ?) % 1000000007, v = CONCAT(v, ?) WHERE id = ?', [c + 1, token(), b]);
        await connection.commit();
      } finally {
        connection.release();
      }
    }
    written++;
  }
  return written;
}

for (const intents of [false, true]) describe(`16 callers writing non-commutative values to the same 5 rows${intents ? ', with intents' : ''}`, () => {
  beforeAll(() => {
    pool = openPool(intents);
  });
  afterAll(async () => {
    await pool?.end();
  });
  for (const mode of ['source_first', 'target_first'] as const) {
    it(`${mode}: both sides end identical without any repair, with zero replay failures`, async () => {
      await pool.setMode(mode);
      await expectSidesIdentical(db.source, db.target, 't');
      const before = pool.stats();
      // Every caller runs to its end (allSettled) before anything is checked, so no write spills into the next test.
      const outcomes = await Promise.allSettled(Array.from({ length: CALLERS }, (_, c) => caller(c, mode)));
      expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []))).toEqual([]);
      expect(outcomes.reduce((sum, o) => sum + (o.status === 'fulfilled' ? o.value : 0), 0)).toBe(CALLERS * OPERATIONS_PER_CALLER);

      const comparison = await compareTables(db.source, db.target, 't');
      // The order-sensitive values are really there: every row was rewritten and appended to many times.
      const rows = await rowsOf(db.source, 'SELECT id, v, n FROM t ORDER BY id');
      expect(rows.map((r) => String(r.v).length > 0 && Number(r.n) !== 0)).toEqual(ROWS.map(() => true));
      expect(comparison.tables[0]?.different ?? []).toEqual([]);
      await expectSidesIdentical(db.source, db.target, 't');

      expect(failures.map((f) => `${f.kind} ${f.sql}: ${f.error?.message ?? ''}`)).toEqual([]);
      const after = pool.stats();
      expect(after.replayFailures).toEqual(before.replayFailures);
      expect(after.unrecordedFailures).toBe(0);
      expect(after.rowImageReplays).toBe(0);
      const primary = mode === 'source_first' ? 'source' : 'target';
      expect(after.acknowledgedWrites[primary] - before.acknowledgedWrites[primary]).toBeGreaterThanOrEqual(CALLERS * OPERATIONS_PER_CALLER);
      // No write was recorded for repair on either side (the pool may have created the table ahead of any failure);
      // with intents, their rows are gone once the batched deletes ran (a few ms after the last write).
      for (const side of [db.source, db.target]) {
        const [exists] = await rowsOf(side, "SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'dualwrite_repair_log'", [db.name]);
        if (Number(exists?.n) === 0) continue;
        for (let i = 0; intents && i < 400 && (await rowsOf(side, "SELECT id FROM dualwrite_repair_log WHERE kind = 'intent'")).length > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
        expect(await rowsOf(side, 'SELECT id, kind, statement FROM dualwrite_repair_log')).toEqual([]);
      }
    });
  }
});
