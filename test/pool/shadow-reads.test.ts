/**
 * Shadow reads: a sampled read runs on both sides, the caller gets the primary's answer without waiting for the
 * other side, and a difference is reported through `shadowReadMismatch` with the statement and a diff, counted,
 * never thrown. The target is reached through a fault proxy, so a test can hold its answers back.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DualPoolOptions } from '../../src/pool/options.js';
import type { ShadowReadMismatch } from '../../src/pool/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { FaultProxy } from '../faults/fault-proxy.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { until } from './helpers.js';

let db: TestDatabases;
let proxy: FaultProxy;
const pools: DualPromisePool[] = [];

function open(readRouting: DualPoolOptions['readRouting']): { pool: DualPromisePool; mismatches: ShadowReadMismatch[] } {
  const pool = createPool({
    source: { uri: db.sourceUrl, connectionLimit: 4 },
    target: { uri: proxy.urlFor(db.targetUrl), connectionLimit: 4 },
    mode: 'source_first',
    readRouting: { shadowReadPercent: 100, ...readRouting },
  });
  pools.push(pool);
  const mismatches: ShadowReadMismatch[] = [];
  pool.pool.on('shadowReadMismatch', (mismatch) => mismatches.push(mismatch));
  return { pool, mismatches };
}

async function settled(pool: DualPromisePool): Promise<void> {
  await until(() => pool.stats().shadowReadsCompared === pool.stats().shadowReads, 'every shadow read to be compared');
}

beforeAll(async () => {
  db = await createTestDatabases('shadow_reads');
  proxy = await FaultProxy.start({ upstream: db.targetUrl });
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(32) NOT NULL, price DECIMAL(10,2) NOT NULL, score DOUBLE NOT NULL)');
    await side.query("INSERT INTO items VALUES (1, 'apple', 1.50, 0.25), (2, 'pear', 2.00, 0.5), (3, 'plum', 3.25, 0.75), (4, 'fig', 4.00, 1)");
    await side.query('CREATE TABLE labels (id INT PRIMARY KEY, label VARCHAR(32) NOT NULL)');
  }
  await db.source.query("INSERT INTO labels VALUES (1, 'abc')");
  await db.target.query("INSERT INTO labels VALUES (1, 'ABC  ')");
  await db.source.query('CREATE TABLE source_only_table (id INT PRIMARY KEY)');
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await proxy?.close();
  await db?.drop();
});

describe('shadow reads', () => {
  it('report nothing when both sides hold the same rows, whatever order they come in', async () => {
    const { pool, mismatches } = open({});
    await pool.query('SELECT * FROM items');
    await pool.query('SELECT * FROM items ORDER BY id DESC');
    await pool.execute('SELECT name, price FROM items WHERE id > ?', [1]);
    // Row order differs between the sides, but without ORDER BY the rows compare as a multiset.
    await pool.query('SELECT * FROM items ORDER BY id LIMIT 2');
    await settled(pool);
    const stats = pool.stats();
    expect(stats.shadowReads).toBe(4);
    expect(stats.shadowReadMismatches).toBe(0);
    expect(mismatches).toEqual([]);
  });

  it('report a changed, a missing and an extra row on the target with the statement, its values and a diff', async () => {
    const { pool, mismatches } = open({});
    await db.target.query("UPDATE items SET name = 'pineapple' WHERE id = 2");
    await db.target.query('DELETE FROM items WHERE id = 3');
    await db.target.query("INSERT INTO items VALUES (5, 'kiwi', 5.00, 2)");
    try {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT id, name FROM items WHERE id >= ?', [1]);
      // The caller's answer is the primary's.
      expect(rows.map((row) => String(row.name))).toEqual(['apple', 'pear', 'plum', 'fig']);
      await settled(pool);
      expect(pool.stats().shadowReadMismatches).toBe(1);
      expect(mismatches).toHaveLength(1);
      const [mismatch] = mismatches as [ShadowReadMismatch];
      expect(mismatch).toMatchObject({ statement: 'SELECT id, name FROM items WHERE id >= ?', values: [1], primary: 'source', shadow: 'target', kind: 'rows' });
      expect(mismatch.diff).toMatchObject({
        ordered: false,
        primaryRows: 4,
        shadowRows: 4,
        missing: [{ id: 3, name: 'plum' }],
        extra: [{ id: 5, name: 'kiwi' }],
        different: [{ index: null, primary: { id: 2, name: 'pear' }, shadow: { id: 2, name: 'pineapple' }, columns: ['name'] }],
        truncated: false,
      });
      // With ORDER BY, rows compare position by position.
      await pool.query('SELECT id, name FROM items ORDER BY id');
      await settled(pool);
      expect(mismatches[1]?.diff).toMatchObject({ ordered: true, different: [{ index: 1 }, { index: 2 }, { index: 3 }], missing: [], extra: [] });
    } finally {
      await db.target.query("UPDATE items SET name = 'pear' WHERE id = 2");
      await db.target.query("INSERT INTO items VALUES (3, 'plum', 3.25, 0.75)");
      await db.target.query('DELETE FROM items WHERE id = 5');
    }
  });

  it('compare with the verifier profile rules: trailing spaces and letter case ignored only when asked', async () => {
    const exact = open({});
    await exact.pool.query('SELECT id, label FROM labels');
    await settled(exact.pool);
    expect(exact.mismatches).toHaveLength(1);
    expect(exact.mismatches[0]?.diff?.different[0]?.columns).toEqual(['label']);
    const relaxed = open({ normalization: { trailingSpaces: 'ignore', letterCase: 'ignore' } });
    await relaxed.pool.query('SELECT id, label FROM labels');
    await settled(relaxed.pool);
    expect(relaxed.mismatches).toEqual([]);
  });

  it('compare changed column types by value with decimals, floatDigits and json, and exactly without them', async () => {
    await db.source.query('CREATE TABLE typed (id INT PRIMARY KEY, amount DECIMAL(10,1), ratio FLOAT, doc LONGTEXT)');
    await db.target.query('CREATE TABLE typed (id INT PRIMARY KEY, amount DECIMAL(12,3), ratio DOUBLE, doc LONGTEXT)');
    await db.source.query(`INSERT INTO typed VALUES (1, 1.5, 0.1, '{"a": 1, "b": [1, 2]}')`);
    await db.target.query(`INSERT INTO typed VALUES (1, 1.500, 0.10000000149011612, '{"b":[1,2],"a":1}')`);
    const exact = open({});
    await exact.pool.query('SELECT id, amount, ratio, doc FROM typed');
    await settled(exact.pool);
    expect(exact.mismatches[0]?.diff?.different[0]?.columns).toEqual(['amount', 'ratio', 'doc']);
    const relaxed = open({ normalization: { decimals: 'value', floatDigits: 7, json: 'document' } });
    await relaxed.pool.query('SELECT id, amount, ratio, doc FROM typed');
    await settled(relaxed.pool);
    expect(relaxed.mismatches).toEqual([]);
    // A real difference still shows under the rules.
    await db.target.query('UPDATE typed SET amount = 1.501');
    await relaxed.pool.query('SELECT id, amount, ratio, doc FROM typed');
    await settled(relaxed.pool);
    expect(relaxed.mismatches[0]?.diff?.different[0]?.columns).toEqual(['amount']);
  });

  it('report an error on one side only, and never throw it to the caller', async () => {
    const { pool, mismatches } = open({});
    const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM source_only_table');
    expect(rows).toEqual([]);
    await settled(pool);
    expect(mismatches).toMatchObject([{ kind: 'error', errors: { primary: null, shadow: 'ER_NO_SUCH_TABLE' } }]);
  });

  it('answer the caller without waiting for the shadow, and drop shadow reads beyond the in-flight limit', async () => {
    const { pool, mismatches } = open({ maxShadowReadsInFlight: 1 });
    await pool.query('SELECT id FROM items WHERE id = ?', [1]); // opens a target connection before the stall
    await settled(pool);
    const before = pool.stats();
    // The target's answers are held back until resume(): the shadow cannot finish before that.
    proxy.stall('server_to_client');
    try {
      const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM items WHERE id = ?', [4]);
      expect(rows).toEqual([{ id: 4 }]);
      const during = pool.stats();
      expect(during.shadowReads).toBe(before.shadowReads + 1);
      expect(during.shadowReadsCompared).toBe(before.shadowReadsCompared);
      // The one slot is taken: the next sampled read is not shadowed, and still answered by the primary.
      const [more] = await pool.query<RowDataPacket[]>('SELECT id FROM items WHERE id = ?', [1]);
      expect(more).toEqual([{ id: 1 }]);
      expect(pool.stats().shadowReadsDropped).toBe(before.shadowReadsDropped + 1);
      expect(pool.stats().shadowReadsCompared).toBe(before.shadowReadsCompared);
    } finally {
      proxy.resume('server_to_client');
    }
    await settled(pool);
    expect(pool.stats().shadowReadsCompared).toBe(before.shadowReadsCompared + 1);
    expect(mismatches).toEqual([]);
  });

  it('does not shadow reads whose answer differs by nature (NOW(), LIMIT without ORDER BY), nor reads on a checked-out connection', async () => {
    const { pool } = open({});
    await pool.query('SELECT id, NOW() FROM items');
    await pool.query('SELECT id FROM items LIMIT 2');
    const connection = await pool.getConnection();
    await connection.query('SELECT id FROM items');
    connection.release();
    expect(pool.stats().shadowReads).toBe(0);
  });
});
