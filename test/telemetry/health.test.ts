import { createServer, type AddressInfo } from 'node:net';
import type { Query } from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthBetween, HEALTH_BUCKET_BOUNDS_MS, type SideHealthStats } from '../../src/index.js';
import { isStatementError } from '../../src/telemetry/health.js';
import { createPool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('telemetry_health');
  for (const side of [db.source, db.target]) await side.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL)');
});
afterAll(async () => {
  await db?.drop();
});

/** A sample with `statements` statements, `errors` errors and the given per-bucket counts (made cumulative). */
function sample(statements: number, errors: number, perBucket: Record<number, number>): SideHealthStats {
  let running = 0;
  const latencyBuckets = Array.from({ length: HEALTH_BUCKET_BOUNDS_MS.length + 1 }, (_, i) => (running += perBucket[i] ?? 0));
  return { statements, errors, statementErrors: 0, latencyBuckets };
}

/** The bucket index whose upper bound is `ms`. */
function bucketOf(ms: number): number {
  const i = HEALTH_BUCKET_BOUNDS_MS.indexOf(ms);
  if (i < 0) throw new Error(`${ms} is not a bucket bound`);
  return i;
}

/** A port nothing listens on. */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('healthBetween', () => {
  it('takes the difference of two samples: statements, side errors, error rate, and percentiles interpolated in their bucket', () => {
    const before = sample(10, 1, { [bucketOf(1)]: 10 });
    // 100 more statements: 90 between 1 and 2 ms, 10 between 50 and 100 ms; 4 more side errors.
    const after = sample(110, 5, { [bucketOf(1)]: 10, [bucketOf(2)]: 90, [bucketOf(100)]: 10 });
    const health = healthBetween(before, after);
    expect(health.statements).toBe(100);
    expect(health.errors).toBe(4);
    expect(health.errorRate).toBeCloseTo(0.04, 10);
    // The 50th of 100 falls in the (1, 2] bucket holding 90: 1 + 1 * 50/90.
    expect(health.p50Ms).toBeCloseTo(1 + 50 / 90, 10);
    // The 99th falls in the (50, 100] bucket holding statements 91..100: 50 + 50 * (99 - 90)/10.
    expect(health.p99Ms).toBeCloseTo(50 + (50 * 9) / 10, 10);
  });

  it('reports null percentiles and a zero error rate when nothing ran, and the last bound for statements beyond it', () => {
    const quiet = sample(3, 0, { 0: 3 });
    expect(healthBetween(quiet, quiet)).toEqual({ statements: 0, errors: 0, errorRate: 0, p50Ms: null, p99Ms: null });
    const slow = sample(5, 0, { 0: 3, [HEALTH_BUCKET_BOUNDS_MS.length]: 2 });
    const last = HEALTH_BUCKET_BOUNDS_MS[HEALTH_BUCKET_BOUNDS_MS.length - 1];
    expect(healthBetween(quiet, slow).p99Ms).toBe(last);
  });

  it('refuses samples in the wrong order with a RangeError that says which comes first', () => {
    const older = sample(1, 0, { 0: 1 });
    const newer = sample(2, 0, { 0: 2 });
    expect(() => healthBetween(newer, older)).toThrow(/Pass the older sample first/);
  });
});

describe('error classification', () => {
  it('counts connection errors and side-dependent server errors as the side’s, data/constraint/syntax errors as the statement’s', () => {
    expect(isStatementError({ errno: 1062, sqlState: '23000', code: 'ER_DUP_ENTRY' })).toBe(true);
    expect(isStatementError({ errno: 1064, sqlState: '42000', code: 'ER_PARSE_ERROR' })).toBe(true);
    expect(isStatementError({ errno: 1264, sqlState: '22003', code: 'ER_WARN_DATA_OUT_OF_RANGE' })).toBe(true);
    expect(isStatementError({ errno: 1146, sqlState: '42S02', code: 'ER_NO_SUCH_TABLE' })).toBe(false);
    expect(isStatementError({ errno: 1205, sqlState: 'HY000', code: 'ER_LOCK_WAIT_TIMEOUT' })).toBe(false);
    expect(isStatementError({ errno: 1290, sqlState: 'HY000', code: 'ER_OPTION_PREVENTS_STATEMENT' })).toBe(false);
    expect(isStatementError({ code: 'ECONNREFUSED', fatal: true })).toBe(false);
    expect(isStatementError({ code: 'PROTOCOL_CONNECTION_LOST', fatal: true })).toBe(false);
    expect(isStatementError({ code: 'ER_DUALWRITE_UNSAFE_STATEMENT' })).toBe(true);
  });
});

describe('per-side health counters in stats()', () => {
  it('counts every statement of the raw single-side path, splitting the side’s errors from the statement’s own', async () => {
    const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_only' });
    try {
      const before = pool.stats().health.source;
      await pool.query('INSERT INTO items (id, name) VALUES (?, ?)', [1, 'one']);
      for (let i = 0; i < 5; i++) await pool.query('SELECT name FROM items WHERE id = ?', [1]);
      await expect(pool.query('INSERT INTO items (id, name) VALUES (?, ?)', [1, 'again'])).rejects.toMatchObject({ code: 'ER_DUP_ENTRY' });
      await expect(pool.query('SELEC nonsense')).rejects.toMatchObject({ code: 'ER_PARSE_ERROR' });
      await expect(pool.query('SELECT * FROM no_such_table')).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' });
      const after = pool.stats().health.source;
      expect(after.statements - before.statements).toBe(9);
      expect(after.statementErrors - before.statementErrors).toBe(2);
      expect(after.errors - before.errors).toBe(1);
      expect(after.latencyBuckets).toHaveLength(HEALTH_BUCKET_BOUNDS_MS.length + 1);
      expect(after.latencyBuckets[after.latencyBuckets.length - 1]).toBe(after.statements);
      for (let i = 1; i < after.latencyBuckets.length; i++) expect(after.latencyBuckets[i]).toBeGreaterThanOrEqual(after.latencyBuckets[i - 1]!);
      const health = healthBetween(before, after);
      expect(health).toMatchObject({ statements: 9, errors: 1, errorRate: 1 / 9 });
      expect(health.p50Ms).not.toBeNull();
      expect(pool.stats().health.target.statements).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('counts dual writes, checked-out connections and callback-less streamed reads on the primary side of their mode', async () => {
    const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'target_first' });
    try {
      await pool.query('INSERT INTO items (id, name) VALUES (?, ?)', [20, 'dual']);
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        await connection.query('UPDATE items SET name = ? WHERE id = ?', ['dual2', 20]);
        await connection.query('SELECT name FROM items WHERE id = ?', [20]);
        await connection.commit();
      } finally {
        connection.release();
      }
      // A read without a callback, streamed through mysql2's own Query events.
      const rows: unknown[] = [];
      await new Promise<void>((resolve, reject) => {
        const query = pool.pool.query('SELECT id FROM items WHERE id = 20') as unknown as Query;
        query.on('result', (row) => rows.push(row));
        query.on('error', reject);
        query.on('end', () => resolve());
      });
      expect(rows).toHaveLength(1);
      const { health } = pool.stats();
      // INSERT; BEGIN, UPDATE, SELECT, COMMIT; the streamed SELECT.
      expect(health.target.statements).toBe(6);
      expect(health.target.errors + health.target.statementErrors).toBe(0);
      expect(health.source.statements).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('counts a primary side that cannot be reached as the side’s errors', async () => {
    const port = await closedPort();
    const pool = createPool({ source: db.sourceUrl, target: { uri: `mysql://root@127.0.0.1:${port}/nothing`, connectTimeout: 2000 }, mode: 'target_only' });
    try {
      await expect(pool.query('SELECT 1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await expect(pool.query('INSERT INTO items (id, name) VALUES (?, ?)', [30, 'x'])).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      const { target } = pool.stats().health;
      expect(target).toMatchObject({ statements: 2, errors: 2, statementErrors: 0 });
    } finally {
      await pool.end();
    }
  });
});
