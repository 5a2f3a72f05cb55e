import mysql from 'mysql2';
import { createPool as createRawPromisePool } from 'mysql2/promise';
import type { ResultSetHeader, RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPool as createCallbackPool, type DualPool, type ReplayFailure } from '../../src/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;
let pool: DualPromisePool;
const failures: ReplayFailure[] = [];

const TABLES = `
  CREATE TABLE items (
    item_no INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(50) NOT NULL UNIQUE,
    qty INT NOT NULL DEFAULT 0,
    created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    touched TIMESTAMP(6) NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP(6)
  )`;

async function resetTables(): Promise<void> {
  for (const side of [db.source, db.target]) {
    await side.query('DROP TABLE IF EXISTS items');
    await side.query(TABLES);
  }
  // A secondary side that numbered rows itself would show IDs from 9000000 on.
  await db.target.query('ALTER TABLE items AUTO_INCREMENT = 9000000');
}

/** The error a promise rejects with; fails the test when it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Record<string, unknown>;
  }
  throw new Error('expected the promise to reject');
}

beforeAll(async () => {
  db = await createTestDatabases('pool_api');
  pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, mode: 'source_first' });
  pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

beforeEach(async () => {
  failures.length = 0;
  await resetTables();
});

describe('promise pool', () => {
  it('answers with the primary side result shapes and writes both sides with the same IDs', async () => {
    const [result, fields] = await pool.query<ResultSetHeader>('INSERT INTO items (name, qty) VALUES (?, ?), (?, ?)', ['a', 1, 'b', 2]);
    expect(result.constructor.name).toBe('ResultSetHeader');
    expect(result).toMatchObject({ affectedRows: 2, insertId: 1, warningStatus: 0, serverStatus: 2 });
    expect(fields).toBeUndefined();
    const [executed] = await pool.execute<ResultSetHeader>('INSERT INTO items (name) VALUES (?)', ['c']);
    expect(executed.insertId).toBe(3);
    const [rows, readFields] = await pool.query<RowDataPacket[]>('SELECT item_no, name FROM items ORDER BY item_no');
    expect(rows.map((r) => Number(r.item_no))).toEqual([1, 2, 3]);
    expect(readFields.map((f) => f.name)).toEqual(['item_no', 'name']);
    await expectSidesIdentical(db.source, db.target, 'items');
    expect(failures).toEqual([]);
  });

  it('rejects with the primary side error object unchanged, and writes nothing to the secondary side', async () => {
    await pool.query('INSERT INTO items (name) VALUES (?)', ['dup']);
    const raw = createRawPromisePool({ uri: db.sourceUrl });
    const rawError = await rejection(raw.query('INSERT INTO items (name) VALUES (?)', ['dup']));
    await raw.end();
    const error = await rejection(pool.query('INSERT INTO items (name) VALUES (?)', ['dup']));
    for (const key of ['code', 'errno', 'sqlState', 'sqlMessage', 'message']) expect(error[key]).toEqual(rawError[key]);
    expect(error.constructor).toBe(rawError.constructor);
    const [target] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM items');
    expect(target[0]?.n).toBe(1);
    expect(failures).toEqual([]);
  });

  it('pins NOW(), DEFAULT CURRENT_TIMESTAMP and ON UPDATE CURRENT_TIMESTAMP to the same instant on both sides', async () => {
    await pool.query('INSERT INTO items (name) VALUES (?)', ['t1']);
    await pool.query('INSERT INTO items (name, created) VALUES (?, NOW(6))', ['t2']);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await pool.query('UPDATE items SET qty = qty + 1');
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('pins UUID(), RAND() and UUID_SHORT() in INSERT rows to the values the primary side computed', async () => {
    for (const side of [db.source, db.target]) {
      await side.query('DROP TABLE IF EXISTS tokens');
      await side.query('CREATE TABLE tokens (token CHAR(36) PRIMARY KEY, score DOUBLE NOT NULL, short_id BIGINT UNSIGNED NOT NULL, at DATETIME(6))');
    }
    await pool.query('INSERT INTO tokens VALUES (UUID(), RAND(), UUID_SHORT(), NOW(6)), (UUID(), RAND(), UUID_SHORT(), SYSDATE(6))');
    await pool.execute('INSERT INTO tokens (token, score, short_id) VALUES (UUID(), RAND(?), UUID_SHORT())', [42]);
    const [rows] = await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM tokens');
    expect(rows[0]?.n).toBe(3);
    await expectSidesIdentical(db.source, db.target, 'tokens');
    expect(failures).toEqual([]);
  });

  it('mirrors transactions by method and by text, with savepoints, commits and rollbacks', async () => {
    const conn = await pool.getConnection();
    await conn.beginTransaction();
    await conn.query('INSERT INTO items (name) VALUES (?)', ['kept']);
    await conn.query('SAVEPOINT s1');
    await conn.query('INSERT INTO items (name) VALUES (?)', ['undone']);
    await conn.query('ROLLBACK TO SAVEPOINT s1');
    await conn.query('RELEASE SAVEPOINT s1');
    await conn.commit();
    await conn.query('BEGIN');
    await conn.query('INSERT INTO items (name) VALUES (?)', ['rolled back']);
    await conn.query('ROLLBACK');
    await conn.query('START TRANSACTION');
    await conn.execute('UPDATE items SET qty = ? WHERE name = ?', [7, 'kept']);
    await conn.query('COMMIT');
    await conn.query('SET autocommit = 0');
    await conn.query('INSERT INTO items (name) VALUES (?)', ['implicit']);
    await conn.query('COMMIT');
    await conn.query('INSERT INTO items (name) VALUES (?)', ['implicit rolled back']);
    await conn.rollback();
    await conn.query('SET autocommit = 1');
    conn.release();
    const [rows] = await db.source.query<RowDataPacket[]>('SELECT name, qty FROM items ORDER BY item_no');
    expect(rows.map((r) => [String(r.name), Number(r.qty)])).toEqual([
      ['kept', 7],
      ['implicit', 0],
    ]);
    await expectSidesIdentical(db.source, db.target, 'items');
    expect(failures).toEqual([]);
  });

  it('keeps a checked-out connection in the mode it started with while the pool switches', async () => {
    const conn = await pool.getConnection();
    await conn.beginTransaction();
    await conn.query('INSERT INTO items (name) VALUES (?)', ['before switch']);
    const switched = pool.setMode('target_first');
    await switched; // a pinned connection never blocks a switch
    expect(pool.mode).toBe('target_first');
    await conn.query('INSERT INTO items (name) VALUES (?)', ['same transaction']);
    await conn.commit();
    conn.release();
    await pool.query('INSERT INTO items (name) VALUES (?)', ['after switch']);
    await pool.setMode('source_first');
    const [source] = await db.source.query<RowDataPacket[]>('SELECT name FROM items ORDER BY item_no');
    expect(source.map((r) => String(r.name))).toEqual(['before switch', 'same transaction', 'after switch']);
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('refuses prepare() and changeUser() with a clear error, and reset() resets both sides of the session', async () => {
    const conn = await pool.getConnection();
    try {
      expect(await rejection(conn.prepare('INSERT INTO items (name) VALUES (?)'))).toMatchObject({ code: 'ER_DUALWRITE_UNSUPPORTED' });
      expect(await rejection(conn.changeUser({ user: 'other' }))).toMatchObject({ code: 'ER_DUALWRITE_UNSUPPORTED' });
      await conn.query("SET @@session.sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
      await conn.reset();
      const [rows] = await conn.query<RowDataPacket[]>('SELECT @@session.sql_mode AS mode');
      expect(String(rows[0]?.mode)).not.toBe('NO_AUTO_VALUE_ON_ZERO');
      await conn.query('INSERT INTO items (item_no, name) VALUES (0, ?)', ['after reset']);
    } finally {
      conn.release();
    }
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('refuses a side pool with a custom queryFormat when it is created, saying why', () => {
    const queryFormat = (sql: string): string => sql;
    for (const [source, target] of [
      [{ uri: db.sourceUrl, queryFormat }, { uri: db.targetUrl }],
      [{ uri: db.sourceUrl }, mysql.createPool({ uri: db.targetUrl, queryFormat })],
    ] as const) {
      let error: unknown;
      try {
        createPool({ source, target, mode: 'source_first' });
      } catch (caught) {
        error = caught;
      }
      expect(error).toMatchObject({ code: 'ER_DUALWRITE_UNSUPPORTED', message: expect.stringMatching(/custom queryFormat.*Remove queryFormat/) as unknown });
      if (!('uri' in target)) target.end();
    }
  });

  it('refuses DDL in a dual-write mode by default, and on neither side runs it', async () => {
    const error = await rejection(pool.query('ALTER TABLE items ADD COLUMN extra INT'));
    expect(error.code).toBe('ER_DUALWRITE_DDL_REFUSED');
    const [columns] = await db.source.query<RowDataPacket[]>("SHOW COLUMNS FROM items LIKE 'extra'");
    expect(columns).toHaveLength(0);
  });
});

describe('replayWhileLocked: false', () => {
  it('commits on the primary side first, then replays, with the same IDs and values', async () => {
    const fast = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, mode: 'source_first', replayWhileLocked: false });
    try {
      const [result] = await fast.query<ResultSetHeader>('INSERT INTO items (name, created) VALUES (?, NOW(6)), (?, NOW(6))', ['f1', 'f2']);
      expect(result).toMatchObject({ insertId: 1, affectedRows: 2, serverStatus: 2 });
      await fast.execute('UPDATE items SET qty = ? WHERE item_no = ?', [3, 2]);
      await fast.query("INSERT IGNORE INTO items (name) VALUES ('f1'), ('f3')"); // a row image still holds its locks
      await expectSidesIdentical(db.source, db.target, 'items');
      expect(fast.stats().replayedWrites.target).toBe(3);
    } finally {
      await fast.end();
    }
  });
});

describe('callback pool', () => {
  let cb: DualPool;
  beforeAll(() => {
    cb = createCallbackPool({ source: mysql.createPool({ uri: db.sourceUrl }), target: mysql.createPool({ uri: db.targetUrl }), mode: 'source_first' });
  });
  afterAll(async () => {
    await new Promise((resolve) => cb.end(resolve));
  });

  it('calls back with (error, result, fields) like mysql2 and shares its mode with promise()', async () => {
    const result = await new Promise<ResultSetHeader>((resolve, reject) =>
      cb.query('INSERT INTO items (name) VALUES (?)', ['cb'], (error, r) => (error ? reject(error) : resolve(r as ResultSetHeader))),
    );
    expect(result.insertId).toBe(1);
    const view = cb.promise();
    expect(view.mode).toBe('source_first');
    await view.setMode('target_first');
    expect(cb.mode).toBe('target_first');
    await view.setMode('source_first');
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('streams reads and write results with .stream()', async () => {
    await pool.query('INSERT INTO items (name) VALUES (?), (?), (?)', ['s1', 's2', 's3']);
    const names: string[] = [];
    const read = cb.query('SELECT name FROM items ORDER BY item_no') as unknown as { stream(): AsyncIterable<{ name: string }> };
    for await (const row of read.stream()) names.push(row.name);
    expect(names).toEqual(['s1', 's2', 's3']);
    const written: unknown[] = [];
    const query = cb.query('UPDATE items SET qty = 5 WHERE name = ?', ['s2']) as unknown as { stream(): AsyncIterable<unknown> };
    for await (const header of query.stream()) written.push(header);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({ affectedRows: 1 });
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('emits mysql2 events (result, end) for a dual write without a callback', async () => {
    const events: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const q = cb.query('INSERT INTO items (name) VALUES (?)', ['events']);
      q.on('result', () => events.push('result'));
      q.on('error', reject);
      q.on('end', () => {
        events.push('end');
        resolve();
      });
    });
    expect(events).toEqual(['result', 'end']);
  });
});
