import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { expectOneLineError, jsonLines, runCli } from './helpers.js';

let db: TestDatabases;
let sides: string[];

async function rows(pool: TestDatabases['source'], sql: string): Promise<Record<string, unknown>[]> {
  const [result] = await pool.query(sql);
  return result as Record<string, unknown>[];
}

async function tableExists(pool: TestDatabases['source'], table: string): Promise<boolean> {
  return (await rows(pool, `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '${table}'`)).length > 0;
}

beforeAll(async () => {
  db = await createTestDatabases('cli_migrate');
  sides = ['--source', db.sourceUrl, '--target', db.targetUrl];
  await db.source.query('CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, note TEXT NULL)');
  await db.source.query('CREATE TABLE order_items (order_id INT NOT NULL, line SMALLINT NOT NULL, sku VARCHAR(20), price DECIMAL(12,2), PRIMARY KEY (order_id, line))');
  await db.source.query('CREATE TABLE order_notes (id BIGINT UNSIGNED PRIMARY KEY, body JSON, at DATETIME(6))');
  await db.source.query('CREATE TABLE audit_nopk (at DATETIME, what VARCHAR(20))');
  await db.source.query(
    `INSERT INTO customers SELECT seq, CONCAT('customer ', seq), IF(seq % 7 = 0, NULL, REPEAT('x', seq % 30)) FROM (SELECT a.n * 100 + b.n * 10 + c.n + 1 AS seq FROM
      (SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) a,
      (SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) b,
      (SELECT 0 n UNION SELECT 1 UNION SELECT 2 UNION SELECT 3 UNION SELECT 4 UNION SELECT 5 UNION SELECT 6 UNION SELECT 7 UNION SELECT 8 UNION SELECT 9) c) s`,
  );
  await db.source.query(`INSERT INTO order_items SELECT FLOOR((id - 1) / 3) - 5, id % 3, CONCAT('sku-', id), id * 1.25 FROM customers WHERE id <= 300`);
  await db.source.query(`INSERT INTO order_notes VALUES (1, '{"b": 15.0, "a": [1, 2]}', '2024-02-29 23:59:59.123456'), (18446744073709551615, NULL, NULL)`);
  await db.source.query('INSERT INTO audit_nopk VALUES (NOW(), "x")');
});
afterAll(() => db?.drop());

describe('dualwrite backfill / verify / status against the spawned servers', () => {
  it('refuses a table without a primary key, a table that is not there, and a missing target table with --no-create-tables (one line, exit 2)', async () => {
    const noPk = expectOneLineError(await runCli(['backfill', ...sides, '--tables', 'customers,audit_nopk']), /table `[^`]+`\.`audit_nopk` has no primary key, so backfill refuses it/);
    expect(noPk).toMatch(/leave the table out of --tables/);
    expectOneLineError(await runCli(['verify', ...sides, '--tables', 'audit_nopk']), /`audit_nopk` has no primary key, so verify refuses it/);
    // Every table (the default) includes audit_nopk too: refused before anything is written.
    expectOneLineError(await runCli(['backfill', ...sides]), /audit_nopk` has no primary key/);
    expectOneLineError(await runCli(['backfill', ...sides, '--tables', 'custmers']), /table custmers is not a base table of the source database/);
    expectOneLineError(await runCli(['verify', ...sides, '--tables', 'zz_*']), /the pattern zz_\* matches no base table/);
    expectOneLineError(await runCli(['backfill', ...sides, '--tables', 'customers', '--no-create-tables']), /`customers` does not exist on the target and --no-create-tables was given/);
    expectOneLineError(await runCli(['backfill', '--source', db.sourceUrl, '--target', db.targetUrl.replace(/\/[^/]*$/, '/dw_no_such_db_here')]), /the target database `dw_no_such_db_here` does not exist/);
    expect(await tableExists(db.target, 'customers')).toBe(false);
    expect(await tableExists(db.target, 'dualwrite_backfill_state')).toBe(false);
  });

  it('--dry-run reports tables, estimated rows and chunks, and writes nothing', async () => {
    await db.source.query('ANALYZE TABLE customers, order_items, order_notes');
    const human = await runCli(['backfill', ...sides, '--tables', 'customers,order_*', '--chunk-rows', '100', '--dry-run']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/dry run: backfill job "backfill"/);
    expect(human.stdout).toMatch(/customers: create on the target, then copy; ~1,000 rows to copy in ~11 chunks of 100 rows/);
    expect(human.stdout).toMatch(/order_items: create on the target/);
    const json = await runCli(['backfill', ...sides, '--tables', 'customers,order_*', '--dry-run', '--json']);
    expect(json.code).toBe(0);
    const lines = jsonLines(json.stdout);
    expect(lines.filter((line) => line.type === 'plan').map((line) => line.table)).toEqual(['customers', 'order_items', 'order_notes']);
    expect(lines.at(-1)).toMatchObject({ type: 'summary', command: 'backfill', dryRun: true, tables: 3 });
    expect(await tableExists(db.target, 'customers')).toBe(false);
    expect(await tableExists(db.target, 'dualwrite_backfill_state')).toBe(false);
  });

  it('backfill copies the tables (created on the target), --json lines parse, then verify exits 0 and status lists the checkpoints', async () => {
    const run = await runCli(['backfill', ...sides, '--tables', 'customers,order_*', '--chunk-target-ms', '50', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const lines = jsonLines(run.stdout);
    const progress = lines.filter((line) => line.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    const first = progress[0] ?? {};
    expect(first.command).toBe('backfill');
    expect(typeof first.table).toBe('string');
    expect(typeof first.rowsCopied).toBe('number');
    expect(typeof first.rowsPerSecond).toBe('number');
    const summary = lines.at(-1);
    expect(summary).toMatchObject({ type: 'summary', command: 'backfill', job: 'backfill', done: true, aborted: false, rowsRead: 1302 });
    expect((summary?.tables as { table: string; created: boolean }[]).every((table) => table.created)).toBe(true);
    await expectSidesIdentical(db.source, db.target, ['customers', 'order_items', 'order_notes']);

    const verify = await runCli(['verify', ...sides, '--tables', 'customers,order_*']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/customers: identical; 1,000 rows/);
    expect(verify.stdout).toMatch(/identical: 3 tables match/);

    // A second run has nothing left to copy.
    const again = await runCli(['backfill', ...sides, '--tables', 'customers,order_*']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/customers: done, 1,000 rows copied in all; this run read 0/);

    const status = await runCli(['status', ...sides]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/backfill job "backfill": 3 of 3 tables done/);
    expect(status.stdout).toMatch(/customers: done, 1,000 of ~1,000 rows copied/);
    expect(status.stdout).toMatch(/repair log on the source: none/);
    const statusJson = jsonLines((await runCli(['status', '--target', db.targetUrl, '--json'])).stdout);
    expect(statusJson.filter((line) => line.type === 'checkpoint').map((line) => [line.table, line.done, line.rowsCopied])).toEqual([
      ['customers', true, 1000],
      ['order_items', true, 300],
      ['order_notes', true, 2],
    ]);
    expect(statusJson.at(-1)).toMatchObject({ type: 'summary', command: 'status', tables: 3, tablesDone: 3, pendingRepairs: 0 });
    expect((await runCli(['status', '--target', db.targetUrl, '--job', 'other'])).stdout).toMatch(/job "other": no checkpoints; jobs with checkpoints: backfill/);

    // Pending rows of a repair log are counted.
    await db.source.query('CREATE TABLE dualwrite_repair_log (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, repaired_at DATETIME(6) NULL)');
    await db.source.query('INSERT INTO dualwrite_repair_log (repaired_at) VALUES (NULL), (NULL), (NOW())');
    const withLog = await runCli(['status', ...sides]);
    expect(withLog.stdout).toMatch(/repair log on the source: 2 pending rows/);
    expect(withLog.stdout).toMatch(/repair log on the target: none/);
  });

  it('verify streams each injected difference (human and JSON lines naming the key) and exits 1', async () => {
    await db.target.query("UPDATE customers SET name = 'changed' WHERE id = 17");
    await db.target.query('DELETE FROM order_items WHERE order_id = -5 AND line = 1');
    await db.target.query("INSERT INTO customers VALUES (5000, 'extra', NULL)");
    try {
      const human = await runCli(['verify', ...sides, '--tables', 'customers,order_items', '--chunk-rows', '100']);
      expect(human.code, human.stderr).toBe(1);
      expect(human.stdout).toMatch(/^different +customers +id=17 +columns: name$/m);
      expect(human.stdout).toMatch(/^missing +order_items +order_id=-5, line=1$/m);
      expect(human.stdout).toMatch(/^extra +customers +id=5000$/m);
      expect(human.stdout).toMatch(/NOT identical: 3 rows differ/);

      const json = await runCli(['verify', ...sides, '--tables', 'customers,order_items', '--json']);
      expect(json.code, json.stderr).toBe(1);
      const lines = jsonLines(json.stdout);
      const differences = lines.filter((line) => line.type === 'difference');
      expect(differences).toEqual(
        expect.arrayContaining([
          { type: 'difference', table: 'customers', kind: 'different', key: { id: '17' }, columns: ['name'] },
          { type: 'difference', table: 'customers', kind: 'extra', key: { id: '5000' } },
          { type: 'difference', table: 'order_items', kind: 'missing', key: { order_id: '-5', line: '1' } },
        ]),
      );
      expect(differences).toHaveLength(3);
      expect(lines.at(-1)).toMatchObject({ type: 'summary', command: 'verify', identical: false, differences: 3 });
    } finally {
      await db.target.query("UPDATE customers SET name = 'customer 17' WHERE id = 17");
      await db.target.query("INSERT INTO order_items VALUES (-5, 1, 'sku-1', 1.25)");
      await db.target.query('DELETE FROM customers WHERE id = 5000');
    }
    expect((await runCli(['verify', ...sides, '--tables', 'customers,order_items'])).code).toBe(0);
  });

  it('repair --dry-run prints the SQL and changes nothing; repair makes the sides match (exit 0); a bad --authoritative is one line, exit 2', async () => {
    expectOneLineError(await runCli(['repair', ...sides, '--tables', 'customers']), /--authoritative must be source or target/);
    await db.target.query("UPDATE customers SET name = 'drifted' WHERE id = 21");
    await db.target.query('DELETE FROM order_items WHERE order_id = -4 AND line = 2');
    const dry = await runCli(['repair', ...sides, '--authoritative', 'source', '--tables', 'customers,order_items', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/UPDATE .*customers/i);
    expect(dry.stdout).toMatch(/dry run: \d+ statement\(s\) would run; nothing was changed/);
    expect((await runCli(['verify', ...sides, '--tables', 'customers,order_items'])).code).toBe(1);
    const fixed = await runCli(['repair', ...sides, '--authoritative', 'source', '--tables', 'customers,order_items', '--json']);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(jsonLines(fixed.stdout).at(-1)).toMatchObject({ type: 'summary', command: 'repair', repaired: 2 });
    expect((await runCli(['verify', ...sides, '--tables', 'customers,order_items'])).code).toBe(0);
  });

  it('verify reports a table missing on the target as a difference (exit 1), not as a crash', async () => {
    await db.source.query('CREATE TABLE later_table (id INT PRIMARY KEY)');
    const run = await runCli(['verify', ...sides, '--tables', 'later_table']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/later_table: not compared \(missing_on_target\)/);
  });
});
