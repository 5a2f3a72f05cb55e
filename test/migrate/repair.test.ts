/**
 * Repair against the two real servers: injected differences (missing, extra, changed DOUBLE, TIMESTAMP(6), JSON,
 * BLOB, DECIMAL, text, unique column) are repaired so that the independent comparison finds the sides identical,
 * with one audit row per repaired key; a unique-key collision is repaired by delete + insert; a dry run changes
 * nothing and reports its SQL; a target that cannot hold the source's rows (a trigger, a column of another type)
 * gives repair loops, reported once per run; and the repair log — rows written by hand in the pool's format and
 * rows the dual-write pool wrote while the target table was away — is drained and marked repaired.
 */
import type { Pool, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repair, repairKeys, type RepairReport } from '../../src/migrate/repair.js';
import { drainRepairLog } from '../../src/migrate/repair-log-drain.js';
import { createPool } from '../../src/promise.js';
import { repairLogDdl } from '../../src/replay/repair-log.js';
import { compareTables, expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { seeded } from '../support/random.js';

let db: TestDatabases;

/** No waiting in verify's recheck nor in the repair-loop check (nothing writes concurrently here). */
const FAST = { recheck: { delayMs: 0, attempts: 0 }, loopCheck: { delayMs: 0, attempts: 0 } } as const;
const FAST_LOOP = { loopCheck: FAST.loopCheck } as const;
const FAST_DRAIN = { verify: { recheck: FAST.recheck }, loopCheck: FAST.loopCheck } as const;

const ITEMS_DDL = (name: string): string => `CREATE TABLE ${name} (
  id INT NOT NULL PRIMARY KEY,
  code VARCHAR(20) NULL,
  dbl DOUBLE NULL, ts TIMESTAMP(6) NULL, js JSON NULL, bl BLOB NULL, dc DECIMAL(30,10) NULL, note VARCHAR(100) NULL,
  UNIQUE KEY uq_code (code)
)`;

/** Row i of the items tables. */
function item(i: number): unknown[] {
  const bytes = Buffer.from(Array.from({ length: 1 + (i % 40) }, (_, j) => (i * 31 + j * 7) % 256));
  return [
    i,
    `c${i}`,
    (i / 7 + 1e-9 * i).toPrecision(17),
    `2021-03-0${1 + (i % 9)} 1${i % 10}:0${i % 10}:00.${String(i * 37).padStart(6, '0').slice(-6)}`,
    `{"i": ${i}, "x": 15.0, "s": "v${i} 😀"}`,
    i % 9 === 0 ? null : bytes,
    `${i}.${String(i * 13).padStart(10, '0').slice(-10)}`,
    `note ${i} ✓`,
  ];
}

/** Runs `statements` on `pool` in one `+00:00` session. */
async function inUtc(pool: Pool, statements: [string, unknown[]?][]): Promise<void> {
  const connection = await pool.getConnection();
  try {
    await connection.query("SET time_zone = '+00:00'");
    for (const [sql, values] of statements) await connection.query(sql, values);
  } finally {
    await connection.query("SET time_zone = 'SYSTEM'").catch(() => undefined);
    connection.release();
  }
}

/** Creates an items table on both sides with rows 1..count. */
async function createItems(name: string, count: number): Promise<void> {
  const rows = Array.from({ length: count }, (_, i) => item(i + 1));
  for (const side of [db.source, db.target]) {
    await inUtc(side, [[ITEMS_DDL(name)], [`INSERT INTO ${name} VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, rows.flat()]]);
  }
}

async function auditRows(table: string): Promise<RowDataPacket[]> {
  const [rows] = await db.target.query<RowDataPacket[]>(
    'SELECT table_name, authoritative_side, row_key, action, before_image, after_image, repaired_at FROM dualwrite_repair_audit WHERE table_name = ? ORDER BY id',
    [table],
  );
  return rows;
}

/** All rows of a table, as text, for "nothing changed" checks. */
async function snapshot(pool: Pool, table: string): Promise<string> {
  const [rows] = await pool.query<RowDataPacket[]>(`SELECT * FROM ${table} ORDER BY 1`);
  return JSON.stringify(rows);
}

beforeAll(async () => {
  db = await createTestDatabases('repair');
});

afterAll(async () => {
  await db?.drop();
});

describe('repair()', () => {
  it('repairs missing, extra and changed rows of every kind exactly, with one audit row per repaired key', async () => {
    await createItems('items', 300);
    await inUtc(db.target, [
      ['DELETE FROM items WHERE id IN (5, 150, 300)'],
      ['INSERT INTO items (id, code, note) VALUES (-4, NULL, ?), (1000, ?, ?)', ['below', 'c1000', 'above']],
      ["UPDATE items SET dbl = '0.1428571428571428' WHERE id = 10"], // one digit short of the source's double
      ["UPDATE items SET ts = '2021-03-02 11:01:00.000001' WHERE id = 11"],
      ['UPDATE items SET js = \'{"i": 12, "x": 15, "s": "v12 😀"}\' WHERE id = 12'], // 15 instead of 15.0
      ["UPDATE items SET bl = CONCAT(LEFT(bl, 3), X'00', SUBSTRING(bl, 5)) WHERE id = 13"],
      ["UPDATE items SET dc = '14.0000000001' WHERE id = 14"],
      ["UPDATE items SET note = 'note 15 ✗' WHERE id = 15"],
      ['UPDATE items SET code = NULL, dbl = NULL WHERE id = 16'],
    ]);
    expect((await compareTables(db.source, db.target, 'items')).identical).toBe(false);

    const report: RepairReport = await repair({ source: db.source, target: db.target, tables: ['items'], authoritative: 'source', chunkRows: 50, ...FAST });
    expect(report.dryRun).toBe(false);
    expect(report.verify.identical).toBe(false);
    expect(report.tables).toHaveLength(1);
    expect(report.tables[0]).toMatchObject({ table: 'items', differences: 12, keys: 12, inserted: 3, deleted: 2, updated: 7, replaced: 0, collidingDeleted: 0, unchanged: 0, loops: 0 });
    expect(report.repaired).toBe(12);
    expect(report.loops).toEqual([]);
    await expectSidesIdentical(db.source, db.target, ['items']);

    const audit = await auditRows('items');
    expect(audit).toHaveLength(12);
    const byKey = new Map(audit.map((row) => [(JSON.parse(String(row.row_key)) as { id: string }).id, row]));
    expect([...byKey.keys()].sort()).toEqual(['-4', '10', '1000', '11', '12', '13', '14', '15', '150', '16', '300', '5'].sort());
    expect(audit.every((row) => row.authoritative_side === 'source' && row.repaired_at !== null)).toBe(true);
    const inserted = byKey.get('5');
    expect(inserted?.action).toBe('insert');
    expect(inserted?.before_image).toBeNull();
    expect(JSON.parse(String(inserted?.after_image))).toMatchObject({ id: '5', code: 'c5', note: 'note 5 ✓' });
    const deleted = byKey.get('1000');
    expect(deleted?.action).toBe('delete');
    expect(deleted?.after_image).toBeNull();
    expect(JSON.parse(String(deleted?.before_image))).toMatchObject({ id: '1000', code: 'c1000', note: 'above' });
    const dbl = byKey.get('10');
    expect(dbl?.action).toBe('update');
    expect((JSON.parse(String(dbl?.before_image)) as { dbl: string }).dbl).toBe('0.1428571428571428');
    expect((JSON.parse(String(dbl?.after_image)) as { dbl: string }).dbl).not.toBe('0.1428571428571428');
    const blob = JSON.parse(String(byKey.get('13')?.after_image)) as { bl: { $hex: string } };
    expect(blob.bl.$hex).toBe((item(13)[5] as Buffer).toString('hex'));
    const ts = JSON.parse(String(byKey.get('11')?.after_image)) as { ts: string };
    expect(ts.ts).toBe(item(11)[3]);

    // Nothing left to repair: a second run changes nothing and audits nothing.
    const again = await repair({ source: db.source, target: db.target, tables: ['items'], authoritative: 'source', ...FAST });
    expect(again.verify.identical).toBe(true);
    expect(again.tables).toEqual([]);
    expect(await auditRows('items')).toHaveLength(12);
  });

  it('repairs the source from the target when the target is authoritative', async () => {
    await createItems('items_back', 40);
    await inUtc(db.source, [['DELETE FROM items_back WHERE id = 7'], ["UPDATE items_back SET js = '[1, 2.50]' WHERE id = 8"]]);
    const report = await repair({ source: db.source, target: db.target, tables: ['items_back'], authoritative: 'target', ...FAST });
    expect(report.tables[0]).toMatchObject({ inserted: 1, updated: 1, deleted: 0 });
    await expectSidesIdentical(db.source, db.target, ['items_back']);
    // The audit is on the repaired side: here the source.
    const [rows] = await db.source.query<RowDataPacket[]>("SELECT action, authoritative_side FROM dualwrite_repair_audit WHERE table_name = 'items_back' ORDER BY id");
    expect(rows.map((row) => `${String(row.action)} ${String(row.authoritative_side)}`)).toEqual(['insert target', 'update target']);
  });
});

describe('unique-key collisions', () => {
  const USERS = 'CREATE TABLE users (id INT NOT NULL PRIMARY KEY, email VARCHAR(50) NOT NULL, name VARCHAR(20) NOT NULL, UNIQUE KEY uq_email (email))';

  beforeAll(async () => {
    await db.source.query(USERS);
    await db.target.query(USERS);
    await db.source.query("INSERT INTO users VALUES (1, 'a@x', 'Ann'), (2, 'b@x', 'Bob')");
    // Row 1 has Bob's email, and row 3 (absent on the source) holds Ann's.
    await db.target.query("INSERT INTO users VALUES (1, 'b@x', 'Ann'), (3, 'a@x', 'Old')");
  });

  it('a dry run reports the delete + insert it would run and changes nothing', async () => {
    const before = await snapshot(db.target, 'users');
    const statements: string[] = [];
    const result = await repairKeys({ authoritative: db.source, other: db.target, table: 'users', keys: [{ id: '1' }], dryRun: true, ...FAST_LOOP, onSql: (sql) => statements.push(sql) });
    expect(result).toMatchObject({ dryRun: true, replaced: 1, collidingDeleted: 1, inserted: 0, updated: 0 });
    expect(result.sqlStatements).toBe(statements.length);
    expect(statements.map((sql) => sql.split(' ').slice(0, 2).join(' '))).toEqual(['DELETE FROM', 'DELETE FROM', 'INSERT INTO', 'INSERT INTO']);
    expect(statements[3]).toContain('dualwrite_repair_audit');
    expect(await snapshot(db.target, 'users')).toBe(before);
  });

  it('deletes the colliding row and inserts the row, then repairs the colliding key', async () => {
    const result = await repairKeys({ authoritative: db.source, other: db.target, table: 'users', keys: [{ id: '1' }], authoritativeSide: 'source', ...FAST_LOOP });
    // Key 3 (the colliding row's) is repaired next: absent on the source, and now on the target too.
    expect(result).toMatchObject({ keys: 2, replaced: 1, collidingDeleted: 1, unchanged: 1, loops: 0 });
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT id, email, name FROM users ORDER BY id');
    expect(rows).toEqual([{ id: 1, email: 'a@x', name: 'Ann' }]);
    const audit = await auditRows('users');
    expect(audit.map((row) => `${String(row.action)} ${String(row.row_key)}`)).toEqual(['delete_colliding {"id":"3"}', 'replace {"id":"1"}']);
    expect(JSON.parse(String(audit[0]?.before_image))).toEqual({ id: '3', email: 'a@x', name: 'Old' });
    expect(JSON.parse(String(audit[1]?.before_image))).toEqual({ id: '1', email: 'b@x', name: 'Ann' });
    expect(JSON.parse(String(audit[1]?.after_image))).toEqual({ id: '1', email: 'a@x', name: 'Ann' });

    const rest = await repair({ source: db.source, target: db.target, tables: ['users'], authoritative: 'source', ...FAST });
    expect(rest.tables[0]).toMatchObject({ inserted: 1 });
    await expectSidesIdentical(db.source, db.target, ['users']);
  });
});

describe('dry run', () => {
  it('changes nothing, creates no audit table, and reports the SQL it would run', async () => {
    await createItems('dry', 30);
    await inUtc(db.target, [['DELETE FROM dry WHERE id = 3'], ["UPDATE dry SET note = 'x' WHERE id = 4"], ['INSERT INTO dry (id) VALUES (99)']]);
    await db.target.query('CREATE DATABASE IF NOT EXISTS `' + db.name + '_dry`');
    const before = await snapshot(db.target, 'dry');
    const statements: [string, readonly unknown[]][] = [];
    try {
      const report = await repair({
        source: db.source,
        target: db.target,
        tables: ['dry'],
        authoritative: 'source',
        dryRun: true,
        auditTable: `${db.name}_dry.audit`,
        onSql: (sql, values) => statements.push([sql, values]),
        ...FAST,
      });
      expect(report.dryRun).toBe(true);
      expect(report.tables[0]).toMatchObject({ inserted: 1, updated: 1, deleted: 1 });
      expect(report.sqlStatements).toBe(4); // three writes and one audit insert
      expect(statements).toHaveLength(4);
      // The writes in the order verify confirmed the keys, then the batch's audit insert.
      expect(statements.slice(0, 3).map(([sql]) => sql.split(' ')[0]).sort()).toEqual(['DELETE', 'INSERT', 'UPDATE']);
      expect(statements[3]?.[0]).toContain(`\`${db.name}_dry\`.\`audit\``);
      const insert = statements.find(([sql]) => sql.startsWith('INSERT INTO') && sql.includes('`dry`'));
      expect(insert?.[1]).toContain('c3');
      expect(await snapshot(db.target, 'dry')).toBe(before);
      const [tables] = await db.target.query<RowDataPacket[]>('SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?', [`${db.name}_dry`]);
      expect(tables).toEqual([]);
    } finally {
      await db.target.query('DROP DATABASE IF EXISTS `' + db.name + '_dry`');
    }
  });
});

describe('repair loops', () => {
  beforeAll(async () => {
    await db.source.query('CREATE TABLE looped (id INT NOT NULL PRIMARY KEY, note VARCHAR(20) NOT NULL)');
    await db.target.query('CREATE TABLE looped (id INT NOT NULL PRIMARY KEY, note VARCHAR(20) NOT NULL)');
    // The target changes every row it is given.
    await db.target.query("CREATE TRIGGER looped_bi BEFORE INSERT ON looped FOR EACH ROW SET NEW.note = CONCAT(NEW.note, '!')");
    await db.target.query("CREATE TRIGGER looped_bu BEFORE UPDATE ON looped FOR EACH ROW SET NEW.note = CONCAT(NEW.note, '!')");
    await db.source.query("INSERT INTO looped VALUES (1, 'one'), (2, 'two')");
    // A DECIMAL on the source, a DOUBLE on the target: the digits cannot all be kept.
    await db.source.query('CREATE TABLE typed (id INT NOT NULL PRIMARY KEY, v DECIMAL(30,20) NOT NULL)');
    await db.target.query('CREATE TABLE typed (id INT NOT NULL PRIMARY KEY, v DOUBLE NOT NULL)');
    await db.source.query("INSERT INTO typed VALUES (1, '0.12345678901234567890'), (2, '0.5')");
  });

  it('reports a key that differs again after its repair as a loop, once, and audits it', async () => {
    const report = await repair({ source: db.source, target: db.target, tables: ['looped', 'typed'], authoritative: 'source', ...FAST, loopCheck: { delayMs: 10, attempts: 1 } });
    const looped = report.tables.find((t) => t.table === 'looped');
    const typed = report.tables.find((t) => t.table === 'typed');
    expect(looped).toMatchObject({ inserted: 2, loops: 2 });
    // DECIMAL(30,20) text always has 20 decimals; a DOUBLE never prints so: both keys loop.
    expect(typed).toMatchObject({ inserted: 2, loops: 2 });
    expect(report.loops.map((loop) => `${loop.table} ${String(loop.key.id)} ${loop.kind} ${loop.columns?.join(',')}`).sort()).toEqual([
      'looped 1 different note',
      'looped 2 different note',
      'typed 1 different v',
      'typed 2 different v',
    ]);
    const audit = await auditRows('looped');
    expect(audit.map((row) => String(row.action))).toEqual(['insert', 'insert', 'repair_loop', 'repair_loop']);
    expect(JSON.parse(String(audit[2]?.before_image))).toEqual({ id: '1', note: 'one!' });
    expect(JSON.parse(String(audit[2]?.after_image))).toEqual({ id: '1', note: 'one' });

    // A second run repairs each key once more and reports it again; it does not go round.
    const again = await repair({ source: db.source, target: db.target, tables: ['looped'], authoritative: 'source', ...FAST });
    expect(again.tables[0]).toMatchObject({ keys: 2, updated: 2, loops: 2 });
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT note FROM looped ORDER BY id');
    expect(rows.map((row) => String(row.note))).toEqual(['one!', 'two!']);
  });
});

describe('drainRepairLog()', () => {
  it('repairs exactly the logged keys and whole logged tables, marks the rows, and leaves rows naming no table pending', async () => {
    await createItems('drained', 20);
    await createItems('whole', 20);
    await inUtc(db.target, [
      ['DELETE FROM drained WHERE id IN (3, 9)'],
      ["UPDATE drained SET dbl = '1.5', ts = NULL WHERE id = 4"],
      ['INSERT INTO drained (id, code) VALUES (77, ?)', ['c77']],
      ['DELETE FROM whole WHERE id = 2'],
      ["UPDATE whole SET js = '{}' WHERE id = 6"],
    ]);
    await db.source.query(repairLogDdl('handmade_log'));
    const insert =
      'INSERT INTO handmade_log (created_at, kind, secondary_side, mode, table_schema, table_name, primary_keys, statement_digest, statement) VALUES (UTC_TIMESTAMP(6), ?, ?, ?, ?, ?, ?, ?, ?)';
    await db.source.query(insert, ['statement', 'target', 'source_first', db.name, 'drained', '[{"id":"3"},{"id":4}]', 'd'.repeat(64), 'UPDATE drained …']);
    await db.source.query(insert, ['row_image', 'target', 'source_first', null, 'drained', '[{"id":"77"}]', 'e'.repeat(64), 'DELETE FROM drained …']);
    await db.source.query(insert, ['statement', 'target', 'source_first', db.name, 'whole', null, 'f'.repeat(64), 'UPDATE whole SET …']);
    await db.source.query(insert, ['transaction', 'target', 'source_first', null, null, null, '0'.repeat(64), 'COMMIT']);

    const result = await drainRepairLog({ primary: db.source, secondary: db.target, logTable: 'handmade_log', batch: 2, ...FAST_DRAIN });
    expect(result).toMatchObject({ dryRun: false, logRows: 4, marked: 3, wholeTables: 1, failed: [], loops: [] });
    expect(result.skipped).toHaveLength(1);
    expect(result.skipped[0]?.table).toBeNull();
    expect(result.inserted).toBe(2); // drained 3; whole 2
    expect(result.updated).toBe(2); // drained 4; whole 6
    expect(result.deleted).toBe(1); // drained 77

    await expectSidesIdentical(db.source, db.target, ['whole']);
    // Key 9 was not logged: the drain left it alone.
    const drained = await compareTables(db.source, db.target, 'drained');
    expect(drained.tables[0]?.missing).toEqual([{ id: "'9'" }]);
    expect(drained.tables[0]?.extra).toEqual([]);
    expect(drained.tables[0]?.different).toEqual([]);

    const [log] = await db.source.query<RowDataPacket[]>('SELECT table_name, repaired_at IS NOT NULL AS done FROM handmade_log ORDER BY id');
    expect(log.map((row) => `${String(row.table_name)} ${String(row.done)}`)).toEqual(['drained 1', 'drained 1', 'whole 1', 'null 0']);

    // Nothing pending but the row naming no table.
    const again = await drainRepairLog({ primary: db.source, secondary: db.target, logTable: 'handmade_log', ...FAST_DRAIN });
    expect(again).toMatchObject({ logRows: 1, marked: 0, keys: 0 });
  });

  it('drains what the dual-write pool logged while the target table was away: keyed inserts, then whole-table writes', async () => {
    await db.source.query('CREATE TABLE live (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL, d DOUBLE NULL)');
    await db.target.query('CREATE TABLE live (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v VARCHAR(20) NOT NULL, d DOUBLE NULL)');
    const pool = createPool({
      source: { uri: db.sourceUrl, connectionLimit: 3 },
      target: { uri: db.targetUrl, connectionLimit: 3 },
      mode: 'source_first',
      circuitBreaker: false,
      repairLogTable: 'pool_log',
    });
    /** Runs `writes` through the pool while the target's table is renamed away. */
    const whileAway = async (writes: () => Promise<void>): Promise<void> => {
      await db.target.query('RENAME TABLE live TO live_away');
      try {
        await writes();
      } finally {
        await db.target.query('RENAME TABLE live_away TO live');
      }
    };
    const pendingRows = async (): Promise<RowDataPacket[]> => (await db.source.query<RowDataPacket[]>('SELECT primary_keys FROM pool_log WHERE repaired_at IS NULL ORDER BY id'))[0];
    try {
      await pool.query("INSERT INTO live (v, d) VALUES ('a', 0.1), ('b', 0.2), ('c', 0.3), ('d', 0.4)");
      await expectSidesIdentical(db.source, db.target, ['live']);

      // Inserts are logged with their keys: exactly those are repaired.
      await whileAway(async () => {
        await pool.query("INSERT INTO live (v, d) VALUES ('e', 1e-300), ('f', 2.5)");
        await pool.query("INSERT INTO live (v) VALUES ('g')");
      });
      const keyed = await pendingRows();
      expect(keyed.map((row) => String(row.primary_keys))).toEqual(['[{"id":"5"},{"id":"6"}]', '[{"id":"7"}]']);
      const first = await drainRepairLog({ primary: db.source, secondary: db.target, logTable: 'pool_log', ...FAST_DRAIN });
      expect(first).toMatchObject({ logRows: 2, marked: 2, wholeTables: 0, keys: 3, inserted: 3, failed: [], skipped: [], loops: [] });
      await expectSidesIdentical(db.source, db.target, ['live']);

      // Updates and deletes by other predicates are logged for the whole table: it is verified and repaired.
      await whileAway(async () => {
        await pool.query("UPDATE live SET v = 'B', d = d * 3 WHERE id = 2");
        await pool.query('DELETE FROM live WHERE id = 3');
        await pool.query("UPDATE live SET v = CONCAT(v, '+') WHERE v IN ('a', 'd')");
      });
      const pending = (await pendingRows()).length;
      expect(pending).toBe(3);
      expect((await compareTables(db.source, db.target, 'live')).identical).toBe(false);
      const second = await drainRepairLog({ primary: db.source, secondary: db.target, logTable: 'pool_log', ...FAST_DRAIN });
      expect(second).toMatchObject({ logRows: pending, marked: pending, wholeTables: 1, updated: 3, deleted: 1, failed: [], skipped: [], loops: [] });
      await expectSidesIdentical(db.source, db.target, ['live']);
      expect(await pendingRows()).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});

describe('multi-row batches', () => {
  const ACCOUNTS = 'CREATE TABLE accounts (id INT NOT NULL PRIMARY KEY, email VARCHAR(50) NOT NULL, name VARCHAR(20) NOT NULL, UNIQUE KEY uq_email (email))';
  const row = (i: number, email = `e${i}@x`, name = `n${i}`): [number, string, string] => [i, email, name];

  /** Fills `accounts` on both sides with rows 1..count, then runs `changes` on the target. */
  async function accounts(count: number, changes: [string, unknown[]?][]): Promise<void> {
    const rows = Array.from({ length: count }, (_, i) => row(i + 1));
    for (const side of [db.source, db.target]) {
      await side.query('DROP TABLE IF EXISTS accounts');
      await side.query(ACCOUNTS);
      await side.query(`INSERT INTO accounts VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`, rows.flat());
    }
    for (const [sql, values] of changes) await db.target.query(sql, values);
  }

  it('writes a batch with one statement per kind of change, its audit with one more', async () => {
    await accounts(40, [
      ["UPDATE accounts SET name = 'old' WHERE id BETWEEN 1 AND 10"],
      ['DELETE FROM accounts WHERE id BETWEEN 11 AND 15'],
      ["INSERT INTO accounts VALUES (200, 'x200@x', 'extra'), (201, 'x201@x', 'extra')"],
    ]);
    const statements: string[] = [];
    const keys = [...Array.from({ length: 15 }, (_, i) => ({ id: String(i + 1) })), { id: '200' }, { id: '201' }];
    const result = await repairKeys({ authoritative: db.source, other: db.target, table: 'accounts', keys, ...FAST_LOOP, onSql: (sql) => statements.push(sql) });
    expect(result).toMatchObject({ keys: 17, updated: 10, inserted: 5, deleted: 2, replaced: 0, collidingDeleted: 0, unchanged: 0, loops: 0 });
    expect(statements.map((sql) => sql.replace(/ VALUES .*?(ON DUPLICATE KEY UPDATE)?[^()]*$/, ' … $1').split(' (')[0])).toEqual([
      `DELETE FROM \`${db.name}\`.\`accounts\` WHERE \`id\` IN`,
      `INSERT INTO \`${db.name}\`.\`accounts\``,
      `INSERT INTO \`${db.name}\`.\`accounts\``,
      `INSERT INTO \`${db.name}\`.\`dualwrite_repair_audit\``,
    ]);
    expect(statements[1]).toContain('ON DUPLICATE KEY UPDATE');
    expect(statements[2]).not.toContain('ON DUPLICATE KEY UPDATE');
    await expectSidesIdentical(db.source, db.target, ['accounts']);
    // The audit follows the keys' order, whatever order the writes went in.
    const audit = await auditRows('accounts');
    expect(audit.map((r) => `${String(r.action)} ${(JSON.parse(String(r.row_key)) as { id: string }).id}`)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `update ${i + 1}`),
      ...Array.from({ length: 5 }, (_, i) => `insert ${i + 11}`),
      'delete 200',
      'delete 201',
    ]);
  });

  it('writes one by one only the statement whose rows collide on a unique key, and replaces only the rows that collide', async () => {
    await db.target.query("DELETE FROM dualwrite_repair_audit WHERE table_name = 'accounts'");
    await accounts(30, []);
    await db.source.query("UPDATE accounts SET email = 'shared5@x' WHERE id = 5");
    await db.source.query("UPDATE accounts SET email = 'shared13@x' WHERE id = 13");
    await inUtc(db.target, [
      ["UPDATE accounts SET name = 'old' WHERE id BETWEEN 1 AND 10"],
      ['DELETE FROM accounts WHERE id BETWEEN 11 AND 15'],
      // Rows absent on the source holding the unique values that rows 5 (an update) and 13 (an insert) need.
      ["INSERT INTO accounts VALUES (100, 'shared5@x', 'holder'), (101, 'shared13@x', 'holder'), (200, 'x200@x', 'extra')"],
    ]);
    const keys = [...Array.from({ length: 15 }, (_, i) => ({ id: String(i + 1) })), { id: '200' }];
    // A dry run plans the same writes (the colliding rows' statements one by one) and changes nothing.
    const before = await snapshot(db.target, 'accounts');
    const planned: string[] = [];
    const dry = await repairKeys({ authoritative: db.source, other: db.target, table: 'accounts', keys, dryRun: true, onSql: (sql) => planned.push(sql) });
    expect(dry).toMatchObject({ keys: 16, updated: 9, inserted: 4, deleted: 1, replaced: 2, collidingDeleted: 2 });
    expect(planned.filter((sql) => sql.includes('ON DUPLICATE KEY UPDATE'))).toEqual([]);
    expect(await snapshot(db.target, 'accounts')).toBe(before);

    const statements: string[] = [];
    const result = await repairKeys({ authoritative: db.source, other: db.target, table: 'accounts', keys, ...FAST_LOOP, onSql: (sql) => statements.push(sql) });
    // Rows 100 and 101 were deleted as colliding rows, then repaired as keys of their own: absent on both sides.
    expect(result).toMatchObject({ keys: 18, updated: 9, inserted: 4, deleted: 1, replaced: 2, collidingDeleted: 2, unchanged: 2, loops: 0 });
    await expectSidesIdentical(db.source, db.target, ['accounts']);
    const kinds = statements.map((sql) => (sql.includes('dualwrite_repair_audit') ? 'audit' : sql.includes('ON DUPLICATE KEY UPDATE') ? 'upsert' : sql.split(' ')[0]));
    // The multi-row update and insert each failed once on the unique key, then their rows went one by one: 9 + 4
    // plain writes, and for each colliding row its failed write, the colliding row's delete, its own delete (an
    // update only) and its insert.
    expect(kinds.filter((kind) => kind === 'upsert')).toHaveLength(1);
    expect(kinds.filter((kind) => kind === 'UPDATE')).toHaveLength(10);
    expect(kinds.filter((kind) => kind === 'INSERT')).toHaveLength(1 + 5 + 1 + 1);
    expect(kinds.filter((kind) => kind === 'DELETE')).toHaveLength(1 + 2 + 1);
    const audit = await auditRows('accounts');
    const actions = audit.map((r) => `${String(r.action)} ${(JSON.parse(String(r.row_key)) as { id: string }).id}`);
    expect(actions).toEqual([
      'update 1', 'update 2', 'update 3', 'update 4', 'delete_colliding 100', 'replace 5', 'update 6', 'update 7', 'update 8', 'update 9', 'update 10',
      'insert 11', 'insert 12', 'delete_colliding 101', 'replace 13', 'insert 14', 'insert 15', 'delete 200',
    ]);
  });

  it('a key whose row cannot be held next to another one (a unique key only the other side has) is reported as a loop, not repaired forever', async () => {
    await db.source.query('CREATE TABLE pingpong (id INT NOT NULL PRIMARY KEY, code VARCHAR(10) NOT NULL)');
    await db.target.query('CREATE TABLE pingpong (id INT NOT NULL PRIMARY KEY, code VARCHAR(10) NOT NULL, UNIQUE KEY uq_code (code))');
    await db.source.query("INSERT INTO pingpong VALUES (1, 'a'), (2, 'a'), (3, 'b')");
    await db.target.query("INSERT INTO pingpong VALUES (1, 'a')");
    // Key 2 alone: each repair deletes the other row, whose key is repaired next, until the follow-ups stop.
    const one = await repairKeys({ authoritative: db.source, other: db.target, table: 'pingpong', keys: [{ id: '2' }], ...FAST_LOOP });
    expect(one.loops).toBe(1);
    expect(one.repairLoops[0]).toMatchObject({ table: 'pingpong', kind: 'missing' });
    // The whole table from an empty target: both keys in one batch; the row deleted by the other's replace reads
    // back missing before the commit.
    await db.target.query('DELETE FROM pingpong');
    const all = await repair({ source: db.source, target: db.target, tables: ['pingpong'], authoritative: 'source', ...FAST });
    expect(all.tables[0]).toMatchObject({ keys: 3, inserted: 2, replaced: 1, collidingDeleted: 1, loops: 1 });
    expect(all.loops.map((loop) => `${String(loop.key.id)} ${loop.kind}`)).toEqual(['1 missing']);
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT id, code FROM pingpong ORDER BY id');
    expect(rows.map((r) => `${String(r.id)} ${String(r.code)}`)).toEqual(['2 a', '3 b']);

    // A row of the batch found equal, then deleted as the collision of a later key, is reported too, not lost.
    const equalFirst = await repairKeys({ authoritative: db.source, other: db.target, table: 'pingpong', keys: [{ id: '2' }, { id: '1' }], ...FAST_LOOP });
    expect(equalFirst).toMatchObject({ unchanged: 1, replaced: 1, collidingDeleted: 1, loops: 1 });
    expect(equalFirst.repairLoops.map((loop) => `${String(loop.key.id)} ${loop.kind}`)).toEqual(['2 missing']);
  });
});

describe('repair beside a dual-write workload', () => {
  it('leaves the sides identical: concurrent writes wait for the rows a batch holds and replay on top of the repaired rows', async () => {
    const DDL = 'CREATE TABLE busy_repair (id INT NOT NULL PRIMARY KEY, v INT NOT NULL, note VARCHAR(40) NOT NULL, UNIQUE KEY uq_note (note))';
    const ROWS = 1500;
    const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, i, `n${i + 1}`]);
    for (const side of [db.source, db.target]) {
      await side.query(DDL);
      await side.query(`INSERT INTO busy_repair VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`, rows.flat());
    }
    await db.target.query("UPDATE busy_repair SET v = v + 1000, note = CONCAT('x', id) WHERE id % 10 = 0");
    await db.target.query('DELETE FROM busy_repair WHERE id % 20 = 5');
    await db.target.query("INSERT INTO busy_repair SELECT id + 5000, 0, CONCAT('e', id) FROM busy_repair WHERE id <= 50");

    const pool = createPool({
      source: { uri: db.sourceUrl, connectionLimit: 4 },
      target: { uri: db.targetUrl, connectionLimit: 4 },
      mode: 'source_first',
      circuitBreaker: false,
      repairLogTable: 'busy_log',
    });
    const random = seeded(11);
    let running = true;
    let writes = 0;
    let counter = 0;
    // Most writes go to the rows that differ, so that they hit the rows of the batch being repaired.
    const differing = Array.from({ length: ROWS }, (_, i) => i + 1).filter((id) => id % 10 === 0 || id % 20 === 5);
    const worker = async (): Promise<void> => {
      while (running) {
        const id = random() < 0.8 ? (differing[Math.floor(random() * differing.length)] as number) : 1 + Math.floor(random() * ROWS);
        const pick = random();
        counter++;
        if (pick < 0.7) await pool.query("UPDATE busy_repair SET v = v + 1, note = CONCAT('n', id, '-', ?) WHERE id = ?", [counter, id]);
        else if (pick < 0.8) await pool.query('DELETE FROM busy_repair WHERE id = ?', [id]);
        else await pool.query('INSERT INTO busy_repair VALUES (?, ?, ?)', [10_000 + counter, counter, `w${counter}`]);
        writes++;
      }
    };
    const workers = [worker(), worker(), worker(), worker()];
    try {
      const report = await repair({
        source: db.source,
        target: db.target,
        tables: ['busy_repair'],
        authoritative: 'source',
        chunkRows: 100,
        batchKeys: 20,
        recheck: { delayMs: 50, attempts: 2 },
        loopCheck: { delayMs: 50, attempts: 2 },
      });
      expect(report.loops).toEqual([]);
      expect(report.repaired).toBeGreaterThan(0);
    } finally {
      running = false;
      await Promise.all(workers);
      await pool.end();
    }
    expect(writes).toBeGreaterThan(10);
    await expectSidesIdentical(db.source, db.target, ['busy_repair']);
  });
});
