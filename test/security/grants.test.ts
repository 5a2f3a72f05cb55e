/**
 * The GRANTs of docs/security.md are enough, and they are what the test users hold, nothing more: users created
 * with exactly those grants run the pool's dual write in source_first and target_first (explicit IDs, a row image,
 * pinned UUID(), a transaction, a failed replay written to the repair log), backfill, verify, the repair-log drain,
 * repair, and the `status` command. A negative check shows each user is really confined.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { createPool as createRawPool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backfill, drainRepairLog, repair, verify } from '../../src/migrate/index.js';
import { createPool } from '../../src/promise.js';
import { runCli } from '../cli/helpers.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

const PASSWORD = 'grants-test-pw-1';
const FAST = { recheck: { delayMs: 0, attempts: 0 }, loopCheck: { delayMs: 0, attempts: 0 } } as const;

/** The users and their grants, as docs/security.md lists them (`{db}` is the application's database). */
const GRANTS = {
  // The pool. The repair log lives on the primary side, so each side's pool user may have to create and fill it.
  dw_app: [
    'GRANT SELECT, INSERT, UPDATE, DELETE ON `{db}`.`orders` TO {user}',
    'GRANT CREATE, INSERT ON `{db}`.`dualwrite_repair_log` TO {user}',
  ],
  // backfill, verify, repair, repair-log drain, status: the reading side …
  dw_tool_read: ['GRANT SELECT ON `{db}`.`orders` TO {user}'],
  // … and the written side, which also holds the tools' state and audit tables.
  dw_tool_write: [
    'GRANT SELECT, INSERT, UPDATE, DELETE ON `{db}`.`orders` TO {user}',
    'GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON `{db}`.`dualwrite_backfill_state` TO {user}',
    'GRANT CREATE, SELECT, INSERT, UPDATE, DELETE ON `{db}`.`dualwrite_verify_state` TO {user}',
    'GRANT CREATE, INSERT ON `{db}`.`dualwrite_repair_audit` TO {user}',
    'GRANT CREATE, SELECT, INSERT ON `{db}`.`dualwrite_verify_runs` TO {user}',
  ],
} as const;

/**
 * The drain's grant on the repair log: a table-level grant on a table that does not exist yet is accepted only when
 * it includes CREATE, so it is given once the pool has created the log (docs/security.md says so).
 */
const DRAIN_GRANT = 'GRANT SELECT, UPDATE ON `{db}`.`dualwrite_repair_log` TO {user}';

async function grantDrain(side: Pick<Pool, 'query'>): Promise<void> {
  for (const host of ['%', 'localhost']) await side.query(DRAIN_GRANT.replace('{db}', db.name).replace('{user}', `'dw_tool_read'@'${host}'`));
}

let db: TestDatabases;
const opened: Pool[] = [];

function url(serverUrl: string, user: string): string {
  const u = new URL(serverUrl);
  return `mysql://${user}:${PASSWORD}@${u.host}/${db.name}`;
}

function rawPool(serverUrl: string, user: string): Pool {
  const pool = createRawPool({ uri: url(serverUrl, user), connectionLimit: 4 });
  opened.push(pool);
  return pool;
}

beforeAll(async () => {
  db = await createTestDatabases('sec_grants');
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE orders (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, code CHAR(36) NULL, qty INT NOT NULL DEFAULT 0, UNIQUE KEY (code))');
    for (const [user, grants] of Object.entries(GRANTS)) {
      for (const host of ['%', 'localhost']) {
        const who = `'${user}'@'${host}'`;
        await side.query(`DROP USER IF EXISTS ${who}`);
        await side.query(`CREATE USER ${who} IDENTIFIED BY '${PASSWORD}'`);
        for (const grant of grants) await side.query(grant.replace('{db}', db.name).replace('{user}', who));
      }
    }
  }
  await db.source.query('INSERT INTO orders (code, qty) VALUES (UUID(), 1), (UUID(), 2), (UUID(), 3)');
});

afterAll(async () => {
  await Promise.allSettled(opened.map((pool) => pool.end()));
  for (const side of [db.source, db.target]) {
    for (const user of Object.keys(GRANTS)) for (const host of ['%', 'localhost']) await side.query(`DROP USER IF EXISTS '${user}'@'${host}'`).catch(() => undefined);
  }
  await db?.drop();
});

describe('the documented minimum grants', () => {
  it('are enough for backfill, the pool in both dual modes, the repair-log drain, verify, repair and status', async () => {
    // Backfill: reads the source, writes the target and its checkpoint table there.
    const readSource = rawPool(db.sourceUrl, 'dw_tool_read');
    const writeTarget = rawPool(db.targetUrl, 'dw_tool_write');
    const copied = await backfill({ source: readSource, target: writeTarget, tables: ['orders'], job: 'grants' });
    expect(copied.rowsInserted).toBe(3);

    // The pool, source_first: explicit IDs, a pinned UUID(), a row image (INSERT IGNORE), a transaction.
    const pool = createPool({ source: { uri: url(db.sourceUrl, 'dw_app') }, target: { uri: url(db.targetUrl, 'dw_app') }, mode: 'source_first' });
    try {
      await pool.query('INSERT INTO orders (code, qty) VALUES (UUID(), 4)');
      await pool.execute('INSERT IGNORE INTO orders (code, qty) VALUES (?, 5), (?, 6)', ['a', 'a']);
      await pool.query('UPDATE orders SET qty = qty + 1 WHERE qty > 2 LIMIT 2');
      const conn = await pool.getConnection();
      await conn.beginTransaction();
      await conn.query('INSERT INTO orders (qty) VALUES (7)');
      await conn.query('DELETE FROM orders WHERE qty = 1');
      await conn.commit();
      conn.release();
      // A replay that fails (the target loses the table for a moment): written to the repair log on the source.
      await db.target.query('RENAME TABLE orders TO orders_away');
      await pool.query('INSERT INTO orders (qty) VALUES (8)');
      await db.target.query('RENAME TABLE orders_away TO orders');
      expect(pool.stats().unrecordedFailures).toBe(0);
      const [logged] = await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_log');
      expect(Number(logged[0]?.n)).toBe(1);
    } finally {
      await pool.end();
    }

    // The drain: reads and marks the log on the source, fixes the target.
    await grantDrain(db.source);
    const drained = await drainRepairLog({ primary: readSource, secondary: writeTarget, ...FAST });
    expect(drained.failed).toEqual([]);
    expect(drained.marked).toBe(1);
    await expectSidesIdentical(db.source, db.target, ['orders']);

    // target_first: the target is primary now and creates its own repair log.
    const flipped = createPool({ source: { uri: url(db.sourceUrl, 'dw_app') }, target: { uri: url(db.targetUrl, 'dw_app') }, mode: 'target_first' });
    try {
      await flipped.query('INSERT INTO orders (code, qty) VALUES (UUID(), 9)');
      await db.source.query('RENAME TABLE orders TO orders_away');
      await flipped.query('UPDATE orders SET qty = 10 WHERE qty = 9');
      await db.source.query('RENAME TABLE orders_away TO orders');
      expect(flipped.stats().unrecordedFailures).toBe(0);
      const [logged] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_log');
      expect(Number(logged[0]?.n)).toBe(1);
    } finally {
      await flipped.end();
    }
    await grantDrain(db.target);
    const back = await drainRepairLog({ primary: rawPool(db.targetUrl, 'dw_tool_read'), secondary: rawPool(db.sourceUrl, 'dw_tool_write'), ...FAST });
    expect(back.failed).toEqual([]);
    await expectSidesIdentical(db.source, db.target, ['orders']);

    // verify (with a checkpointed job) finds a difference; repair fixes it and writes its audit table.
    await db.target.query('UPDATE orders SET qty = 99 ORDER BY id LIMIT 1');
    const found = await verify({ source: readSource, target: writeTarget, tables: ['orders'], job: 'grants-verify', ...FAST });
    expect(found.identical).toBe(false);
    const fixed = await repair({ source: readSource, target: writeTarget, tables: ['orders'], authoritative: 'source', ...FAST });
    expect(fixed.repaired).toBe(1);
    expect((await verify({ source: readSource, target: writeTarget, tables: ['orders'], record: true, ...FAST })).identical).toBe(true);
    const [runs] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_verify_runs');
    expect(Number(runs[0]?.n)).toBe(1);
    const [audit] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM dualwrite_repair_audit');
    expect(Number(audit[0]?.n)).toBeGreaterThan(0);

    // status reads the state tables with the tool users.
    const status = await runCli(['status', '--source', url(db.sourceUrl, 'dw_tool_read'), '--target', url(db.targetUrl, 'dw_tool_write')]);
    expect(status.code, status.stderr).toBe(0);
  }, 180_000);

  it('confine each user: nothing outside its grants works', async () => {
    const app = rawPool(db.sourceUrl, 'dw_app');
    const read = rawPool(db.sourceUrl, 'dw_tool_read');
    const denied = async (pool: Pool, sql: string): Promise<unknown> => pool.query(sql).then(() => 'allowed', (e: { code?: unknown }) => e.code);
    expect(await denied(app, 'CREATE TABLE other (id INT)')).toBe('ER_TABLEACCESS_DENIED_ERROR');
    expect(await denied(app, 'DROP TABLE orders')).toBe('ER_TABLEACCESS_DENIED_ERROR');
    expect(await denied(app, 'SELECT * FROM dualwrite_repair_log')).toBe('ER_TABLEACCESS_DENIED_ERROR');
    expect(await denied(read, 'DELETE FROM orders')).toBe('ER_TABLEACCESS_DENIED_ERROR');
    expect(await denied(read, 'SELECT * FROM mysql.user')).toBe('ER_TABLEACCESS_DENIED_ERROR');
  });
});
