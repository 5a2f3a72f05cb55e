/**
 * Row-image replay against real servers: the statement runs on the SOURCE
 * inside a transaction between lockBefore and readAfter, the image is applied
 * on the TARGET inside its own transaction, and an independent byte-exact
 * comparison (test/support/compare.ts) must find both sides identical.
 *
 * Each test makes tables of its own on both sides. Where it matters the sides
 * are set up in a legal but divergent-looking way: the TARGET's auto-increment
 * counters start far away, so only explicitly written IDs can make them agree.
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRowImage, lockBefore, planRowImage, readAfter, type RowImage, type RowImagePlan, type RowImagePlanResult } from '../../src/replay/row-image.js';
import { loadServerSettings, loadTable, type ServerSettings, type TableMetadata } from '../../src/schema/index.js';
import { analyze } from '../../src/sql/index.js';
import type { TableRef } from '../../src/sql/types.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let settings: ServerSettings;

beforeAll(async () => {
  db = await createTestDatabases('row_image');
  settings = await loadServerSettings(db.source);
});

afterAll(async () => {
  await db?.drop();
});

/** Runs DDL or seed statements on both sides alike. */
async function both(...statements: (string | [string, unknown[]])[]): Promise<void> {
  for (const side of [db.source, db.target]) {
    for (const statement of statements) {
      if (typeof statement === 'string') await side.query(statement);
      else await side.execute(statement[0], statement[1] as never);
    }
  }
}

async function metadata(table: string): Promise<TableMetadata> {
  return loadTable(db.source, db.name, table, settings);
}

async function plan(sql: string, values: unknown[] | undefined, table: string, extra: { tables?: string[]; maxRows?: number } = {}): Promise<RowImagePlanResult> {
  const lookup = new Map<string, TableMetadata>();
  for (const name of extra.tables ?? []) lookup.set(name.toLowerCase(), await metadata(name));
  return planRowImage({
    sql,
    analysis: analyze(sql),
    values,
    table: await metadata(table),
    settings,
    tables: (ref: TableRef) => lookup.get(ref.name.toLowerCase()),
    ...(extra.maxRows === undefined ? {} : { maxRows: extra.maxRows }),
  });
}

function planned(result: RowImagePlanResult): RowImagePlan {
  if (result.kind !== 'row_image') throw new Error(`expected a plan, got ${result.reason}: ${result.message}`);
  return result;
}

interface ReplayOptions {
  tables?: string[];
  maxRows?: number;
  sourceZone?: string;
  targetZone?: string;
}

/** The whole round: plan, lock, run on SOURCE, read, apply on TARGET, commit both, compare. */
async function replay(sql: string, values: unknown[] | undefined, table: string, options: ReplayOptions = {}): Promise<{ plan: RowImagePlan; image: RowImage; result: ResultSetHeader }> {
  const p = planned(await plan(sql, values, table, options));
  const source = await db.source.getConnection();
  const target = await db.target.getConnection();
  try {
    if (options.sourceZone) await source.query('SET time_zone = ?', [options.sourceZone]);
    if (options.targetZone) await target.query('SET time_zone = ?', [options.targetZone]);
    await source.query('BEGIN');
    const before = await lockBefore(source, p);
    expect(before.problem).toBeNull();
    const [result] = await source.query<ResultSetHeader>(sql, values);
    const image = await readAfter(source, p, before, result);
    expect(image.problem).toBeNull();
    await target.query('BEGIN');
    await applyRowImage(target, image);
    await target.query('COMMIT');
    await source.query('COMMIT');
    if (options.targetZone) expect(await zoneOf(target)).toBe(options.targetZone);
    if (options.sourceZone) expect(await zoneOf(source)).toBe(options.sourceZone);
    await expectSidesIdentical(db.source, db.target, [table, ...(options.tables ?? [])]);
    return { plan: p, image, result };
  } finally {
    await source.query('ROLLBACK').catch(() => undefined);
    await target.query('ROLLBACK').catch(() => undefined);
    // Pooled connections keep session state: give them back as they were.
    await source.query("SET time_zone = 'SYSTEM'");
    await target.query("SET time_zone = 'SYSTEM'");
    source.release();
    target.release();
  }
}

async function zoneOf(connection: PoolConnection): Promise<string> {
  const [rows] = await connection.query<RowDataPacket[]>('SELECT @@session.time_zone AS tz');
  return String(rows[0]?.tz);
}

/** accounts: a second and a third UNIQUE key; the TARGET's counter starts at 900. */
async function accounts(name: string): Promise<void> {
  await both(
    `CREATE TABLE ${name} (
      id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      email VARCHAR(64) NOT NULL,
      code VARCHAR(16) NULL,
      v INT NOT NULL DEFAULT 0,
      UNIQUE KEY uk_email (email),
      UNIQUE KEY uk_code (code)
    )`,
    `INSERT INTO ${name} (id, email, code, v) VALUES (1, 'a@x', 'C-1', 1), (2, 'b@x', 'C-2', 2), (3, 'c@x', 'C-3', 3), (4, 'd@x', NULL, 4)`,
  );
  await db.source.query(`ALTER TABLE ${name} AUTO_INCREMENT = 5`);
  await db.target.query(`ALTER TABLE ${name} AUTO_INCREMENT = 900`);
}

describe('INSERT / REPLACE … VALUES', () => {
  it('INSERT IGNORE skipping a row that conflicts on a second UNIQUE key, generating IDs for the others', async () => {
    await accounts('acc_ignore');
    const { image, result } = await replay(
      'INSERT IGNORE INTO acc_ignore (email, code, v) VALUES (?, ?, ?), (?, ?, ?), (?, ?, ?)',
      ['new1@x', 'N-1', 10, 'b@x', 'N-2', 20, 'new3@x', 'N-3', 30],
      'acc_ignore',
    );
    expect(result.affectedRows).toBe(2);
    // The ID range around insertId also holds the existing rows 3 and 4: locked and rewritten (a superset).
    expect(image.insertedRowsFound).toBeGreaterThanOrEqual(2);
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(expect.arrayContaining(['5', '6']));
    // The ignored row's conflict (id 2) was locked and is part of the image; nothing was deleted.
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toContain('2');
    expect(image.tables[0]?.deletedKeys).toEqual([]);
  });

  it('ON DUPLICATE KEY UPDATE hitting the second UNIQUE key', async () => {
    await accounts('acc_odku');
    await replay('INSERT INTO acc_odku (email, code, v) VALUES (?, ?, ?), (?, ?, ?) ON DUPLICATE KEY UPDATE v = v + VALUES(v), code = VALUES(code)', ['c@x', 'C-33', 100, 'e@x', 'C-5', 5], 'acc_odku');
  });

  it('ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id) is not a primary-key change', async () => {
    await accounts('acc_lid');
    await replay("INSERT INTO acc_lid (email, v) VALUES ('a@x', 7) ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), v = 70", undefined, 'acc_lid');
  });

  it('REPLACE deleting two other rows (one per unique key) and inserting one', async () => {
    await accounts('acc_replace');
    const { image } = await replay('REPLACE INTO acc_replace (id, email, code, v) VALUES (10, ?, ?, 9)', ['b@x', 'C-3'], 'acc_replace');
    expect(image.tables[0]?.deletedKeys.map((k) => k[0]).sort()).toEqual(['2', '3']);
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(['10']);
  });

  it('mixed given and generated IDs: rows generated after an explicit ID above the counter follow it', async () => {
    // Only the ID is unique here: the rows generated after 5000 can be found by nothing but their IDs.
    await both('CREATE TABLE counters (id INT AUTO_INCREMENT PRIMARY KEY, v DOUBLE NOT NULL)', 'INSERT INTO counters (v) VALUES (1), (2), (3), (4)');
    await db.target.query('ALTER TABLE counters AUTO_INCREMENT = 60000');
    const { image } = await replay('INSERT INTO counters (id, v) VALUES (NULL, RAND()), (5000, RAND()), (NULL, RAND()), (0, RAND())', undefined, 'counters');
    // IDs 3 and 4 lie in the range around insertId 5: locked and rewritten too (a superset is safe).
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(expect.arrayContaining(['5', '5000', '5001', '5002']));
  });

  it('BIGINT keys above 2^53 and DECIMAL keys are compared as numbers, not as DOUBLEs', async () => {
    await both(
      'CREATE TABLE big (id BIGINT UNSIGNED PRIMARY KEY, amount DECIMAL(40,30) NOT NULL, v DOUBLE, UNIQUE KEY uk_amount (amount))',
      `INSERT INTO big VALUES (9007199254740992, 1.000000000000000000000000000001, 0), (9007199254740993, 1.000000000000000000000000000002, 0),
        (18446744073709551615, 2, 0)`,
    );
    await replay('UPDATE big SET v = RAND() WHERE id IN (9007199254740993, 18446744073709551615)', undefined, 'big');
    const { image } = await replay('INSERT INTO big (id, amount, v) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE v = RAND()', ['5', '1.000000000000000000000000000002'], 'big');
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(['9007199254740993']);
  });

  it('composite primary key with an auto-increment column that is not `id` (INSERT … SET and VALUES)', async () => {
    await both(
      `CREATE TABLE order_lines (
        region CHAR(2) NOT NULL, line_no INT NOT NULL,
        order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, sku VARCHAR(10) NOT NULL, qty INT NOT NULL,
        PRIMARY KEY (region, line_no), UNIQUE KEY uk_order (order_no)
      )`,
      "INSERT INTO order_lines (region, line_no, order_no, sku, qty) VALUES ('eu', 1, 1, 'A', 1), ('us', 1, 2, 'B', 2)",
    );
    await db.target.query('ALTER TABLE order_lines AUTO_INCREMENT = 777');
    await replay("INSERT IGNORE INTO order_lines (region, line_no, sku, qty) VALUES ('eu', 1, 'X', 9), ('eu', 2, 'C', 3), (?, ?, ?, ?)", ['us', 2, 'D', 4], 'order_lines');
    await replay('INSERT INTO order_lines SET region = ?, line_no = ?, sku = ?, qty = UNIX_TIMESTAMP() * 0 + 5', ['ap', 1, 'E'], 'order_lines');
  });

  it('numbers and bytes written into a string unique key are matched as the string the server stores', async () => {
    await both(
      'CREATE TABLE codes (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) COLLATE utf8mb4_general_ci NOT NULL, v INT NOT NULL, UNIQUE KEY uk_code (code))',
      "INSERT INTO codes (code, v) VALUES ('42', 0), ('7', 0), ('abc', 0), ('zzz', 0)",
    );
    await db.target.query('ALTER TABLE codes AUTO_INCREMENT = 400');
    const { plan: p, image } = await replay(
      'INSERT INTO codes (code, v) VALUES (?, 1), (007, 2), (?, 3) ON DUPLICATE KEY UPDATE v = v + VALUES(v)',
      [42, Buffer.from('ABC')],
      'codes',
    );
    // Compared as strings (index lookups), not as numbers (a scan locking every row).
    expect(p.strategy.kind === 'unique_keys' && p.strategy.disjuncts.map((d) => d.values)).toEqual([['42'], ['7'], [Buffer.from('ABC')]]);
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(expect.arrayContaining(['1', '2', '3']));
  });

  it('a prefix UNIQUE key is matched on its prefix only', async () => {
    await both(
      'CREATE TABLE prefixed (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40) NOT NULL, v INT NOT NULL, UNIQUE KEY uk_name (name(4)))',
      "INSERT INTO prefixed (name, v) VALUES ('abcdXYZ', 1), ('wxyz', 2)",
    );
    await db.target.query('ALTER TABLE prefixed AUTO_INCREMENT = 300');
    await replay("INSERT INTO prefixed (name, v) VALUES ('abcdQQ', 5), ('new-name', 6) ON DUPLICATE KEY UPDATE v = v + 100", undefined, 'prefixed');
  });
});

describe('INSERT … SELECT', () => {
  it('with generated IDs: the multi-row ID range after the fact', async () => {
    await accounts('acc_sel');
    await both('CREATE TABLE staging (id INT PRIMARY KEY, v INT)', 'INSERT INTO staging VALUES (1, 11), (2, 22), (3, 33), (4, 44), (5, 55)');
    const { image, result } = await replay(
      "INSERT INTO acc_sel (email, code, v) SELECT CONCAT('s', id, '@x'), CONCAT('S-', id), v FROM staging WHERE v > ?",
      [15],
      'acc_sel',
    );
    expect(result.affectedRows).toBe(4);
    expect(image.insertedRowsFound).toBe(4);
  });

  it('giving the primary key: the SELECT runs first to learn the keys', async () => {
    await both(
      'CREATE TABLE archive (id BIGINT UNSIGNED PRIMARY KEY, email VARCHAR(64), v INT)',
      "INSERT INTO archive VALUES (1, 'old@x', 0)",
    );
    await accounts('acc_src');
    const { image } = await replay('INSERT INTO archive (id, email, v) SELECT id + 100, email, v * 2 FROM acc_src WHERE v >= ?', [2], 'archive');
    expect(image.insertedRowsFound).toBe(3);
  });
});

describe('UPDATE / DELETE', () => {
  it('UPDATE … LIMIT 2 without ORDER BY locks every matching row and replays the two changed', async () => {
    await accounts('acc_limit');
    const { plan: p, image, result } = await replay('UPDATE acc_limit SET v = v + 100 WHERE v < ? LIMIT 2', [4], 'acc_limit');
    expect(result.affectedRows).toBe(2);
    expect(p.strategy.kind === 'where' && p.strategy.select.sql).not.toMatch(/LIMIT 2\b/);
    expect(image.tables[0]?.rows).toHaveLength(3);
  });

  it('UPDATE … ORDER BY <primary key> LIMIT keeps the limit: the order is total', async () => {
    await accounts('acc_order');
    const { plan: p, image } = await replay('UPDATE acc_order SET v = v * 10 ORDER BY id DESC LIMIT 2', undefined, 'acc_order');
    expect(p.strategy.kind === 'where' && p.strategy.select.sql).toMatch(/ORDER BY id DESC LIMIT 2 FOR UPDATE$/);
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(['3', '4']);
  });

  it('UPDATE SET u = UUID() writes the primary side’s UUIDs', async () => {
    await both('CREATE TABLE tokens (id INT PRIMARY KEY, u CHAR(36) NULL, r DOUBLE NULL)', 'INSERT INTO tokens (id) VALUES (1), (2), (3), (4)');
    await replay('UPDATE tokens SET u = UUID(), r = RAND() WHERE id <= ?', [3], 'tokens');
  });

  it('DELETE with a subquery', async () => {
    await accounts('acc_del');
    await both('CREATE TABLE blocked (account_id BIGINT UNSIGNED PRIMARY KEY)', 'INSERT INTO blocked VALUES (2), (4), (99)');
    const { image } = await replay('DELETE FROM acc_del WHERE id IN (SELECT account_id FROM blocked) AND v > ?', [0], 'acc_del');
    expect(image.tables[0]?.deletedKeys.map((k) => k[0]).sort()).toEqual(['2', '4']);
    expect(image.tables[0]?.rows).toEqual([]);
  });

  it('DELETE … LIMIT without ORDER BY', async () => {
    await accounts('acc_del_limit');
    const { image } = await replay('DELETE FROM acc_del_limit WHERE v > 1 LIMIT 2', undefined, 'acc_del_limit');
    expect(image.tables[0]?.deletedKeys).toHaveLength(2);
    expect(image.tables[0]?.rows).toHaveLength(1);
  });

  it('multi-table UPDATE writes the assigned table only, found through the join', async () => {
    await accounts('acc_multi');
    await both('CREATE TABLE bonus (email VARCHAR(64) PRIMARY KEY, amount INT)', "INSERT INTO bonus VALUES ('a@x', 5), ('c@x', 7)");
    const { plan: p } = await replay('UPDATE acc_multi AS a JOIN bonus b ON b.email = a.email SET a.v = a.v + b.amount * RAND() * 0 + b.amount WHERE b.amount > ?', [1], 'acc_multi', {
      tables: ['bonus'],
    });
    expect(p.targets.map((t) => t.table.name)).toEqual(['acc_multi']);
  });

  it('multi-table DELETE from two tables', async () => {
    await accounts('acc_mdel');
    await both('CREATE TABLE sessions (id INT PRIMARY KEY, account_id BIGINT UNSIGNED, KEY (account_id))', 'INSERT INTO sessions VALUES (1, 1), (2, 2), (3, 2), (4, 3)');
    const { image } = await replay('DELETE a, s FROM acc_mdel a JOIN sessions s ON s.account_id = a.id WHERE a.email = ?', ['b@x'], 'acc_mdel', { tables: ['sessions'] });
    expect(image.tables.map((t) => t.deletedKeys.length)).toEqual([1, 2]);
  });
});

/** A seeded byte source (xorshift32), so a failing bit pattern can be replayed: set ROW_IMAGE_SEED. */
function byteSource(seed: number): (count: number) => Buffer {
  let state = seed >>> 0 || 1;
  return (count) => {
    const out = Buffer.alloc(count);
    for (let i = 0; i < count; i++) {
      state ^= state << 13;
      state >>>= 0;
      state ^= state >>> 17;
      state ^= state << 5;
      state >>>= 0;
      out[i] = state & 0xff;
    }
    return out;
  };
}

const SEED = Number(process.env.ROW_IMAGE_SEED ?? 20240229);
const randomBytes = byteSource(SEED);

/** Finite doubles from random bit patterns, plus the extremes. */
function randomDoubles(count: number): number[] {
  const out: number[] = [5e-324, -2.2250738585072014e-308, 1.7976931348623157e308, 0.1, -1 / 3];
  while (out.length < count) {
    const value = randomBytes(8).readDoubleLE(0);
    if (Number.isFinite(value)) out.push(value);
  }
  return out;
}

describe('exact values', () => {
  const columns = `
    id INT NOT NULL PRIMARY KEY,
    d DOUBLE NULL, f FLOAT NULL, dec65 DECIMAL(65,30) NULL, dt DATETIME(6) NULL,
    ts TIMESTAMP(6) NULL DEFAULT NULL, ts0 TIMESTAMP NULL DEFAULT NULL,
    b BIT(64) NULL, vb VARBINARY(300) NULL, j JSON NULL, s VARCHAR(40) CHARACTER SET utf8mb4 NULL,
    e ENUM('x', 'y', 'z') NULL, st SET('p', 'q') NULL, y YEAR NULL, t TIME(6) NULL, bi BIGINT UNSIGNED NULL,
    p POINT NULL, n INT NULL,
    g BIGINT AS (id * 2) STORED, vg VARCHAR(50) AS (CONCAT(s, '!')) VIRTUAL`;

  it('round-trips tricky types: INSERT … SELECT of exact values, then an UPDATE, across time zones', async () => {
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const doubles = randomDoubles(40);
    await both(`CREATE TABLE kinds_seed (${columns})`, `CREATE TABLE kinds (${columns})`);
    for (const side of [db.source, db.target]) {
      for (let i = 0; i < doubles.length; i++) {
        const d = doubles[i] as number;
        // execute() sends the double as 8 binary bytes: the stored value is exactly the bit pattern.
        await side.execute(
          `INSERT INTO kinds_seed (id, d, f, dec65, dt, ts, ts0, b, vb, j, s, e, st, y, t, bi, p, n)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ST_GeomFromText(?), ?)`,
          [
            i + 1,
            d,
            (i + 1) / 3 + (i % 2 ? 1e-7 : 12345.6789),
            i % 2 ? '-12345678901234567890123456789012345.123456789012345678901234567891' : '0.000000000000000000000000000001',
            '2024-02-29 23:59:59.999999',
            '2021-03-28 01:30:00.123456',
            i % 3 ? '2030-01-01 00:00:00' : null,
            randomBytes(8),
            i % 4 ? allBytes : Buffer.alloc(0),
            JSON.stringify({ k: i, big: 12345678901234567890n.toString(), f: 0.1, nested: [1, 'é😀'] }),
            '😀𝄞 é ' + String(i),
            ['x', 'y', 'z'][i % 3] ?? null,
            i % 2 ? 'p,q' : '',
            1901 + i,
            '-838:59:59.000001',
            '18446744073709551615',
            `POINT(${i}.5 -1.25)`,
            i % 5 ? i : null,
          ] satisfies (string | number | Buffer | null)[],
        );
      }
      // The server rounds a DOUBLE into FLOAT by itself; keep a few of them NULL on purpose.
      await side.query('INSERT INTO kinds (id) VALUES (1000)');
    }
    const sql = `INSERT INTO kinds (id, d, f, dec65, dt, ts, ts0, b, vb, j, s, e, st, y, t, bi, p, n)
                 SELECT id, d, f, dec65, dt, ts, ts0, b, vb, j, s, e, st, y, t, bi, p, n FROM kinds_seed`;
    await replay(sql, undefined, 'kinds', { sourceZone: '+05:30', targetZone: '-08:00' });
    await replay(
      "UPDATE kinds SET d = -d, dec65 = dec65 / 7, dt = dt - INTERVAL 1 MICROSECOND, ts = ts + INTERVAL 1 SECOND, b = ~b, vb = REVERSE(vb), s = CONCAT(s, '\u{1F600}'), n = IF(RAND() < 2, NULL, 1) WHERE id <= ?",
      [20],
      'kinds',
      { sourceZone: '-03:00', targetZone: '+09:00' },
    );
    // compare.ts reads FLOAT as text, which has 6 digits: compare the stored values as DOUBLEs too.
    const floats = async (side: typeof db.source) => (await side.query({ sql: 'SELECT id, f + 0e0 FROM kinds ORDER BY id', rowsAsArray: true }))[0];
    expect(await floats(db.target)).toEqual(await floats(db.source));
  });

  it('a TIMESTAMP in the primary key is read and matched in UTC whatever the session time zones', async () => {
    await both(
      'CREATE TABLE events (at TIMESTAMP(6) NOT NULL, seq INT NOT NULL, v DOUBLE NULL, PRIMARY KEY (at, seq))',
      `INSERT INTO events VALUES
        (CONVERT_TZ('2023-10-29 00:30:00.5', '+00:00', @@session.time_zone), 1, 0),
        (CONVERT_TZ('2023-10-29 01:30:00.5', '+00:00', @@session.time_zone), 1, 0),
        (CONVERT_TZ('2023-10-29 01:30:00.5', '+00:00', @@session.time_zone), 2, 0)`,
    );
    const { image } = await replay('UPDATE events SET v = RAND() WHERE seq = 1', undefined, 'events', { sourceZone: '+01:00', targetZone: '-07:00' });
    expect(image.tables[0]?.rowKeys.map((k) => k[0])).toEqual(['2023-10-29 00:30:00.500000', '2023-10-29 01:30:00.500000']);
    await replay('DELETE FROM events WHERE seq = 2 AND RAND() < 2', undefined, 'events', { sourceZone: '+02:00', targetZone: '+00:00' });
  });
});

describe('refused and incomplete', () => {
  it('a table without a primary key is unplannable', async () => {
    await both('CREATE TABLE nopk (a INT, b INT)');
    const result = await plan('UPDATE nopk SET b = RAND() WHERE a = 1', undefined, 'nopk');
    expect(result).toMatchObject({ kind: 'unplannable', reason: 'no_primary_key' });
  });

  it('an UPDATE (or ODKU) assigning a primary-key column is unplannable', async () => {
    await accounts('acc_pk');
    expect(await plan('UPDATE acc_pk SET id = id + 10 WHERE v = 1 LIMIT 1', undefined, 'acc_pk')).toMatchObject({ reason: 'primary_key_assigned' });
    expect(await plan("INSERT INTO acc_pk (email) VALUES ('a@x') ON DUPLICATE KEY UPDATE id = id + 1000", undefined, 'acc_pk')).toMatchObject({
      reason: 'primary_key_assigned',
    });
  });

  it('INSERT IGNORE with an expression in a unique key is unplannable; a plain INSERT with another known key is not', async () => {
    await accounts('acc_expr');
    expect(await plan("INSERT IGNORE INTO acc_expr (email, code) VALUES (CONCAT('x', '@y'), 'K')", undefined, 'acc_expr')).toMatchObject({
      reason: 'unique_key_expression',
    });
    expect((await plan("INSERT INTO acc_expr (email, code) VALUES (CONCAT('x', '@y'), 'K')", undefined, 'acc_expr')).kind).toBe('row_image');
  });

  it('placeholder count mismatch, LOAD DATA and multi-table without metadata are unplannable', async () => {
    await accounts('acc_misc');
    await both('CREATE TABLE other (id INT PRIMARY KEY, email VARCHAR(64))');
    expect(await plan('UPDATE acc_misc SET v = ? WHERE id = ?', [1], 'acc_misc')).toMatchObject({ reason: 'placeholder_mismatch' });
    expect(await plan("UPDATE acc_misc SET v = RAND() WHERE email = 'why?' AND id = ?", [1], 'acc_misc')).toMatchObject({ reason: 'placeholder_mismatch' });
    expect(await plan("LOAD DATA INFILE '/tmp/x' INTO TABLE acc_misc", undefined, 'acc_misc')).toMatchObject({ reason: 'load_data' });
    expect(await plan('UPDATE acc_misc a JOIN other o ON o.email = a.email SET v = 1', undefined, 'acc_misc')).toMatchObject({ reason: 'missing_metadata' });
    expect(await plan('INSERT INTO acc_misc (email) SELECT email FROM other ON DUPLICATE KEY UPDATE v = 1', undefined, 'acc_misc')).toMatchObject({
      reason: 'insert_select_keys_unknown',
    });
  });

  it('too many rows: lockBefore stops at maxRows and says so, and readAfter passes the problem on', async () => {
    await accounts('acc_many');
    const p = planned(await plan('UPDATE acc_many SET v = RAND() LIMIT 3', undefined, 'acc_many', { maxRows: 3 }));
    const source = await db.source.getConnection();
    try {
      await source.query('BEGIN');
      const before = await lockBefore(source, p);
      expect(before.problem).toMatchObject({ kind: 'too_many_rows', found: 3 });
      const image = await readAfter(source, p, before, { affectedRows: 3 });
      expect(image.problem?.kind).toBe('too_many_rows');
      const target = await db.target.getConnection();
      await expect(applyRowImage(target, image)).rejects.toMatchObject({ code: 'ER_DUALWRITE_REPLAY_PLAN' });
      target.release();
    } finally {
      await source.query('ROLLBACK');
      source.release();
    }
  });

  it('a DELETE that removed more rows than were locked is a count mismatch', async () => {
    await accounts('acc_mismatch');
    const p = planned(await plan('DELETE FROM acc_mismatch WHERE v = 1 AND RAND() < 2', undefined, 'acc_mismatch'));
    const source = await db.source.getConnection();
    try {
      await source.query('BEGIN');
      const before = await lockBefore(source, p);
      // Another statement of the same transaction deletes a row nobody locked for this image.
      await source.query('DELETE FROM acc_mismatch WHERE v IN (1, 2)');
      const image = await readAfter(source, p, before, { affectedRows: 2 });
      expect(image.problem).toMatchObject({ kind: 'count_mismatch', expected: 2, found: 1 });
    } finally {
      await source.query('ROLLBACK');
      source.release();
    }
  });
});
