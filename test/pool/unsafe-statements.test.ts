import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ReplayFailure } from '../../src/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
const failures: ReplayFailure[] = [];

const SCHEMA = [
  `CREATE TABLE accounts (
    account_no INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(60) NOT NULL UNIQUE,
    visits INT NOT NULL DEFAULT 0,
    token CHAR(36) NULL,
    seen TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)
  )`,
  'CREATE TABLE archive (account_no INT NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(60) NOT NULL)',
  'CREATE TABLE order_lines (order_id INT NOT NULL, line INT NOT NULL, qty INT NOT NULL, PRIMARY KEY (order_id, line))',
];

function pool(options: Partial<Parameters<typeof createPool>[0]> = {}): DualPromisePool {
  const p = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, mode: 'source_first', ...options });
  p.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  return p;
}

beforeAll(async () => {
  db = await createTestDatabases('pool_unsafe');
});
afterAll(async () => {
  await db?.drop();
});
beforeEach(async () => {
  failures.length = 0;
  for (const side of [db.source, db.target]) {
    for (const table of ['accounts', 'archive', 'order_lines']) await side.query(`DROP TABLE IF EXISTS ${table}`);
    for (const ddl of SCHEMA) await side.query(ddl);
  }
  await db.target.query('ALTER TABLE accounts AUTO_INCREMENT = 7000000');
  await db.target.query('ALTER TABLE archive AUTO_INCREMENT = 7000000');
});

describe('row-image replay through the pool (default policy)', () => {
  it('keeps both sides identical through IGNORE, ON DUPLICATE KEY UPDATE, REPLACE, INSERT … SELECT, LIMIT without ORDER BY and UUID() in UPDATE', async () => {
    const p = pool();
    try {
      await p.query("INSERT INTO accounts (email) VALUES ('a@x'), ('b@x'), ('c@x'), ('d@x')");
      await p.query("INSERT IGNORE INTO accounts (email) VALUES ('a@x'), ('e@x')");
      await p.execute('INSERT INTO accounts (email, visits) VALUES (?, 1), (?, 1) ON DUPLICATE KEY UPDATE visits = visits + 1', ['b@x', 'f@x']);
      await p.query("REPLACE INTO accounts (account_no, email) VALUES (3, 'd@x')");
      await p.query('INSERT INTO archive (email) SELECT email FROM accounts WHERE visits > 0');
      await p.query('UPDATE accounts SET visits = visits + 10 LIMIT 2');
      await p.query('UPDATE accounts SET token = UUID() WHERE visits > 5');
      await p.query('DELETE FROM accounts WHERE email IN (SELECT email FROM archive) LIMIT 1');
      await p.query('INSERT INTO order_lines VALUES (1, 1, 5), (1, 2, 6), (2, 1, 7)');
      await p.query('UPDATE order_lines l JOIN accounts a ON a.account_no = l.order_id SET l.qty = l.qty + a.visits');
      const conn = await p.getConnection();
      await conn.beginTransaction();
      await conn.query("INSERT IGNORE INTO accounts (email) VALUES ('a@x'), ('g@x')");
      await conn.query('UPDATE accounts SET visits = 99 WHERE visits > 0 LIMIT 1');
      await conn.commit();
      conn.release();
      const [rows] = await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM accounts');
      expect(Number(rows[0]?.n)).toBeGreaterThan(4);
      await expectSidesIdentical(db.source, db.target, ['accounts', 'archive', 'order_lines']);
      expect(failures).toEqual([]);
      expect(p.stats().rowImageReplays).toBeGreaterThanOrEqual(10);
    } finally {
      await p.end();
    }
  });
});

describe('policies', () => {
  it("unsafeStatements: 'reject' refuses before anything runs", async () => {
    const p = pool({ unsafeStatements: 'reject' });
    try {
      const error = await p.query("INSERT IGNORE INTO accounts (email) VALUES ('a@x')").then(
        () => null,
        (e: unknown) => e as { code?: string; message: string },
      );
      expect(error?.code).toBe('ER_DUALWRITE_UNSAFE_STATEMENT');
      expect(error?.message).toContain('IGNORE');
      const [rows] = await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM accounts');
      expect(Number(rows[0]?.n)).toBe(0);
    } finally {
      await p.end();
    }
  });

  it("unsafeStatements: 'record' runs on the primary side only and writes the repair log in the same transaction", async () => {
    const p = pool({ unsafeStatements: 'record', repairLogTable: 'repairs' });
    try {
      await p.query("INSERT IGNORE INTO accounts (email) VALUES ('a@x'), ('b@x')");
      const [target] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM accounts');
      expect(Number(target[0]?.n)).toBe(0);
      const [log] = await db.source.query<RowDataPacket[]>('SELECT kind, secondary_side, table_name, statement FROM repairs');
      expect(log).toEqual([{ kind: 'recorded', secondary_side: 'target', table_name: 'accounts', statement: "INSERT IGNORE INTO accounts (email) VALUES ('a@x'), ('b@x')" }]);
      expect(failures.map((f) => f.kind)).toEqual(['recorded']);
    } finally {
      await p.end();
    }
  });

  it("unsafeStatements: 'record' logs a multi-table UPDATE once per table it changes (whole tables: no row image was read)", async () => {
    const p = pool({ unsafeStatements: 'record', repairLogTable: 'repairs_multi' });
    try {
      await db.source.query("INSERT INTO accounts (email) VALUES ('a@x'), ('b@x')");
      await db.source.query("INSERT INTO archive (email) VALUES ('a@x')");
      await p.query('UPDATE accounts a JOIN archive r ON r.email = a.email SET a.visits = 5, r.email = UPPER(r.email)');
      const [log] = await db.source.query<RowDataPacket[]>('SELECT kind, table_name, primary_keys FROM repairs_multi ORDER BY table_name');
      expect(log.map((row) => [String(row.kind), String(row.table_name), row.primary_keys as unknown])).toEqual([
        ['recorded', 'accounts', null],
        ['recorded', 'archive', null],
      ]);
    } finally {
      await p.end();
    }
  });

  it('a failed multi-table row image is logged once per table, each with the keys of the rows it changed', async () => {
    const p = pool({ repairLogTable: 'repairs_image' });
    try {
      await db.source.query("INSERT INTO accounts (email) VALUES ('a@x'), ('b@x')");
      await db.source.query("INSERT INTO archive (email) VALUES ('a@x')");
      await db.target.query('DROP TABLE archive'); // the replay fails on the target
      await p.query('UPDATE accounts a JOIN archive r ON r.email = a.email SET a.visits = 5, r.email = UPPER(r.email)');
      const [log] = await db.source.query<RowDataPacket[]>('SELECT kind, table_name, primary_keys FROM repairs_image ORDER BY table_name');
      expect(log.map((row) => [String(row.kind), String(row.table_name), JSON.parse(String(row.primary_keys)) as unknown])).toEqual([
        ['row_image', 'accounts', [{ account_no: '1' }]],
        ['row_image', 'archive', [{ account_no: '1' }]],
      ]);
    } finally {
      await p.end();
    }
  });

  it('refuses an unreplayable statement (a stored procedure call) by default', async () => {
    const p = pool();
    try {
      await db.source.query('CREATE PROCEDURE bump() UPDATE accounts SET visits = visits + 1');
      const error = await p.query('CALL bump()').then(
        () => null,
        (e: unknown) => e as { code?: string },
      );
      expect(error?.code).toBe('ER_DUALWRITE_UNSAFE_STATEMENT');
    } finally {
      await db.source.query('DROP PROCEDURE IF EXISTS bump');
      await p.end();
    }
  });
});
