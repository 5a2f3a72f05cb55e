/**
 * Per-table modes through one pool against real servers: two tables in different modes, writes landing where each
 * table's mode says (ids numbered by the right side), reads served from a side that is current for every table
 * read, statements mixing modes refused before anything runs, a switch of one table's mode draining in-flight writes,
 * and checked-out connections honouring or refusing a table's mode.
 */
import type { Pool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ResultSetHeader as CallbackHeader } from 'mysql2';
import { InvalidOptionError, TableModesConflictError } from '../../src/errors.js';
import { createDriver, type DualDriverConnection } from '../../src/index.js';
import type { ModeChange } from '../../src/pool/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { rowsOf, settledWithin, until } from './helpers.js';

/** The target numbers rows from here, the source from 1: a row numbered by the wrong side shows at once. */
const TARGET_AUTO_INCREMENT = 5_000_000;
const TABLES = ['a', 'b', 'c'] as const;

let db: TestDatabases;
let pool: DualPromisePool;

beforeAll(async () => {
  db = await createTestDatabases('table_modes');
});

afterAll(async () => {
  await db.drop();
});

beforeEach(async () => {
  for (const side of [db.source, db.target]) {
    for (const table of TABLES) {
      await side.query(`DROP TABLE IF EXISTS ${table}`);
      await side.query(`CREATE TABLE ${table} (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB`);
    }
  }
  for (const table of TABLES) await db.target.query(`ALTER TABLE ${table} AUTO_INCREMENT = ${TARGET_AUTO_INCREMENT}`);
  pool = createPool({ source: { uri: db.sourceUrl, connectionLimit: 8 }, target: { uri: db.targetUrl, connectionLimit: 8 }, mode: 'source_only', replayTimeoutMs: 20_000 });
});

afterEach(async () => {
  await pool.end();
});

const t = (table: string): string => `${db.name}.${table}`;

async function rows(side: Pool, table: string): Promise<Array<{ id: number; v: number }>> {
  const found = await rowsOf(side, `SELECT id, v FROM ${table} ORDER BY id`);
  return found.map((row) => ({ id: Number(row.id), v: Number(row.v) }));
}

async function insert(runner: Pick<DualPromisePool, 'query'> | PoolConnection, table: string, v: number): Promise<number> {
  const [header] = await runner.query<ResultSetHeader>(`INSERT INTO ${table} (v) VALUES (?)`, [v]);
  return header.insertId;
}

describe('pool-level writes', () => {
  it('run in the mode of the table written: replayed or not, ids from that mode\'s primary side', async () => {
    await pool.setMode('source_first', { table: t('a') });
    expect(pool.flagState).toMatchObject({ mode: 'source_only', tableModes: { [t('a')]: 'source_first' } });

    const idA = await insert(pool, 'a', 1);
    const idB = await insert(pool, 'b', 2);
    expect(idA).toBeLessThan(TARGET_AUTO_INCREMENT);
    expect(await rows(db.source, 'a')).toEqual([{ id: idA, v: 1 }]);
    expect(await rows(db.target, 'a')).toEqual([{ id: idA, v: 1 }]); // replayed: a is in source_first
    expect(await rows(db.source, 'b')).toEqual([{ id: idB, v: 2 }]);
    expect(await rows(db.target, 'b')).toEqual([]); // b follows the default, source_only

    await pool.setMode('target_first', { table: t('a') });
    const idA2 = await insert(pool, 'a', 3);
    expect(idA2).toBeGreaterThanOrEqual(TARGET_AUTO_INCREMENT); // numbered by the target, the new primary of a
    expect(await rows(db.source, 'a')).toEqual([{ id: idA, v: 1 }, { id: idA2, v: 3 }]);
    expect(await rows(db.target, 'a')).toEqual([{ id: idA, v: 1 }, { id: idA2, v: 3 }]);

    // The default mode moves b independently of a (qualified and unqualified names are the same table).
    await pool.setMode('source_first');
    await pool.query(`UPDATE ${db.name}.b SET v = 20 WHERE id = ?`, [idB]);
    const idB2 = await insert(pool, 'b', 4);
    expect(await rows(db.source, 'b')).toEqual([{ id: idB, v: 20 }, { id: idB2, v: 4 }]);
    expect(await rows(db.target, 'b')).toEqual([{ id: idB2, v: 4 }]); // the earlier source_only row is backfill's job
    expect(pool.flagState.tableModes).toEqual({ [t('a')]: 'target_first' });
  });

  it('refuses a statement writing tables in different modes, with nothing run on either side', async () => {
    await pool.setMode('source_first', { table: t('a') });
    await insert(pool, 'a', 1);
    await insert(pool, 'b', 1);
    const before = { sa: await rows(db.source, 'a'), ta: await rows(db.target, 'a'), sb: await rows(db.source, 'b'), tb: await rows(db.target, 'b') };
    const refusedBefore = pool.stats().refusedWrites;

    const error = await pool.query('UPDATE a JOIN b ON a.id = b.id SET a.v = 7, b.v = 7').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TableModesConflictError);
    expect(error).toMatchObject({ code: 'ER_DUALWRITE_TABLE_MODES_CONFLICT' });
    expect((error as TableModesConflictError).tables).toEqual(
      expect.arrayContaining([
        { table: t('a'), mode: 'source_first', access: 'write' },
        { table: t('b'), mode: 'source_only', access: 'write' },
      ]),
    );
    expect((error as Error).message).toContain('different modes');
    expect(pool.stats().refusedWrites).toBe(refusedBefore + 1);
    expect({ sa: await rows(db.source, 'a'), ta: await rows(db.target, 'a'), sb: await rows(db.source, 'b'), tb: await rows(db.target, 'b') }).toEqual(before);
  });

  it('refuses a write that reads a table not current on its primary side', async () => {
    await pool.setMode('source_first', { table: t('c') });
    await pool.setMode('target_first', { table: t('c') });
    await pool.setMode('target_only', { table: t('c') });
    // SELECT … INTO runs as a write under the default mode (source_only, on the source); c is written on the target
    // only, so the source's copy of c is stale.
    const error = await pool.query('SELECT v FROM c INTO @x').then(() => null, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ER_DUALWRITE_TABLE_MODES_CONFLICT' });
    expect((error as TableModesConflictError).tables).toEqual([{ table: t('c'), mode: 'target_only', access: 'read' }]);
    expect((error as Error).message).toContain('reads a table whose writes no longer reach that side');
  });

  it('refuses a table key that is not schema.table', async () => {
    await expect(pool.setMode('source_first', { table: 'a' })).rejects.toBeInstanceOf(InvalidOptionError);
    expect(pool.flagState.tableModes).toBeUndefined();
  });
});

describe('pool-level reads', () => {
  /** Different content on each side, written directly, so the answer tells which side served the read. */
  async function markSides(): Promise<void> {
    await db.source.query('INSERT INTO c (id, v) VALUES (1, 100)');
    await db.target.query('INSERT INTO c (id, v) VALUES (1, 200)');
    await db.source.query('INSERT INTO b (id, v) VALUES (1, 100)');
    await db.target.query('INSERT INTO b (id, v) VALUES (1, 200)');
  }

  async function served(sql: string): Promise<number> {
    const [found] = await pool.query<RowDataPacket[]>(sql);
    return Number(found[0]?.v);
  }

  it('are served by a side current for every table read, preferring the default primary side', async () => {
    await markSides();
    expect(await served('SELECT v FROM c')).toBe(100);
    await pool.setMode('source_first', { table: t('c') });
    expect(await served('SELECT v FROM c')).toBe(100); // both sides current: the default's primary (source)
    await pool.setMode('target_first', { table: t('c') });
    expect(await served('SELECT v FROM c')).toBe(100); // still both current: the source stays preferred
    await pool.setMode('target_only', { table: t('c') });
    expect(await served('SELECT v FROM c')).toBe(200); // only the target is current for c
    expect(await served(`SELECT v FROM ${db.name}.c`)).toBe(200);
    expect(await served('SELECT v FROM b')).toBe(100); // b follows the default, source_only

    // b on the source only, c on the target only: no side is current for both.
    const error = await pool.query('SELECT b.v FROM b JOIN c ON b.id = c.id').then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(TableModesConflictError);
    expect((error as TableModesConflictError).tables).toEqual(
      expect.arrayContaining([
        { table: t('b'), mode: 'source_only', access: 'read' },
        { table: t('c'), mode: 'target_only', access: 'read' },
      ]),
    );
    // The callback API gets the same refusal through its callback.
    const viaCallback = await new Promise<unknown>((resolve) => pool.pool.query('SELECT b.v FROM b JOIN c ON b.id = c.id', (e: unknown) => resolve(e)));
    expect(viaCallback).toBeInstanceOf(TableModesConflictError);
  });
});

describe('a switch of table modes alone', () => {
  it('waits for in-flight writes, and later writes run under the new table mode', async () => {
    await pool.setMode('source_first', { table: t('a') });
    const id = await insert(pool, 'a', 1);
    const changes: ModeChange[] = [];
    pool.pool.on('modeChange', (change) => changes.push(change));

    // Hold the row on the source so an UPDATE of it stays in flight (its ticket open) until we let go.
    const locker = await db.source.getConnection();
    try {
      await locker.query('START TRANSACTION');
      await locker.query('SELECT id FROM a WHERE id = ? FOR UPDATE', [id]);
      const inFlight = pool.query('UPDATE a SET v = 2 WHERE id = ?', [id]);
      await until(() => pool.pool.engine.gate.inFlight === 1, 'the UPDATE to hold its write ticket');

      const switched = pool.setMode('target_first', { table: t('a') });
      expect(pool.pool.engine.gate.pending).toBe(true); // a table-mode change is a switch: it waits for the drain
      const later = insert(pool, 'a', 3); // arrives during the drain: must run under the new mode
      // Liveness probe only: the switch cannot complete while the row lock holds the UPDATE.
      expect((await settledWithin(switched, 300)).status).toBe('pending');
      expect(changes).toEqual([]);

      await locker.query('COMMIT');
      await inFlight;
      const state = await switched;
      expect(state.tableModes).toEqual({ [t('a')]: 'target_first' });
      const laterId = await later;
      expect(laterId).toBeGreaterThanOrEqual(TARGET_AUTO_INCREMENT); // numbered by the target: ran under target_first
      expect(changes).toHaveLength(1);
      expect(changes[0]).toMatchObject({ from: 'source_only', to: 'source_only', info: { adjacent: true } });
      expect(changes[0]?.info.previous.tableModes).toEqual({ [t('a')]: 'source_first' });
    } finally {
      locker.release();
    }
    expect(await rows(db.source, 'a')).toEqual([{ id, v: 2 }, { id: expect.any(Number) as number, v: 3 }]);
    expect(await rows(db.target, 'a')).toEqual(await rows(db.source, 'a'));
  });
});

describe('checked-out connections', () => {
  it('write each table in its mode when the pinned modes share the primary side, inside and outside transactions', async () => {
    await pool.setMode('source_first', { table: t('a') });
    const connection = await pool.getConnection();
    try {
      const idA = await insert(connection, 'a', 1);
      const idB = await insert(connection, 'b', 2);
      await connection.query('START TRANSACTION');
      const idA2 = await insert(connection, 'a', 3);
      const idB2 = await insert(connection, 'b', 4);
      await connection.query('COMMIT');
      expect(await rows(db.source, 'a')).toEqual([{ id: idA, v: 1 }, { id: idA2, v: 3 }]);
      expect(await rows(db.target, 'a')).toEqual([{ id: idA, v: 1 }, { id: idA2, v: 3 }]);
      expect(await rows(db.source, 'b')).toEqual([{ id: idB, v: 2 }, { id: idB2, v: 4 }]);
      expect(await rows(db.target, 'b')).toEqual([]);
      // The connection keeps the modes it was checked out with, even after a switch.
      await pool.setMode('target_first', { table: t('a') });
      const idA3 = await insert(connection, 'a', 5);
      expect(idA3).toBeLessThan(TARGET_AUTO_INCREMENT);
      expect(await rows(db.target, 'a')).toHaveLength(3);
    } finally {
      connection.release();
    }
  });

  it('refuse a statement on a table whose mode they cannot honour, and run nothing', async () => {
    await pool.setMode('target_first', { table: t('a') });
    await pool.setMode('source_first', { table: t('c') });
    await pool.setMode('target_first', { table: t('c') });
    await pool.setMode('target_only', { table: t('c') });
    const connection = await pool.getConnection(); // primary side: the source (default source_only)
    try {
      // a is in target_first: its primary side is the target, which this connection does not write first.
      const write = await connection.query('INSERT INTO a (v) VALUES (1)').then(() => null, (e: unknown) => e);
      expect(write).toMatchObject({ code: 'ER_DUALWRITE_TABLE_MODES_CONFLICT' });
      expect((write as Error).message).toContain('primary side');
      // c is in target_only: the source's copy is not current, so the connection cannot read it.
      const read = await connection.query('SELECT v FROM c').then(() => null, (e: unknown) => e);
      expect(read).toMatchObject({ code: 'ER_DUALWRITE_TABLE_MODES_CONFLICT' });
      // b follows the default: fine.
      await insert(connection, 'b', 1);
    } finally {
      connection.release();
    }
    expect(await rows(db.source, 'a')).toEqual([]);
    expect(await rows(db.target, 'a')).toEqual([]);
    expect(await rows(db.source, 'b')).toHaveLength(1);
    // The pool itself writes a under its own mode (target_first).
    const id = await insert(pool, 'a', 2);
    expect(id).toBeGreaterThanOrEqual(TARGET_AUTO_INCREMENT);
    expect(await rows(db.source, 'a')).toEqual([{ id, v: 2 }]);
  });
});

describe("the driver's connections", () => {
  function run(connection: DualDriverConnection, sql: string, values: unknown[] = []): Promise<CallbackHeader> {
    return new Promise((resolve, reject) => connection.query(sql, values, (error, result) => (error ? reject(error) : resolve(result as CallbackHeader))));
  }

  it('move to the new table modes at the first statement after a switch of one table, between transactions', async () => {
    const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_only' });
    try {
      const connection = driver.createConnection();
      await run(connection, 'INSERT INTO a (v) VALUES (1)');
      await run(connection, 'START TRANSACTION');
      await run(connection, 'INSERT INTO a (v) VALUES (2)');
      const switched = driver.setMode('source_first', { table: t('a') });
      await run(connection, 'INSERT INTO a (v) VALUES (3)'); // the open transaction keeps the modes it began with
      await run(connection, 'COMMIT');
      await switched;
      await run(connection, 'INSERT INTO a (v) VALUES (4)'); // after the switch: a is replayed
      await run(connection, 'INSERT INTO b (v) VALUES (5)'); // b still follows the default
      await new Promise<void>((resolve, reject) => connection.end((error) => (error ? reject(error) : resolve())));
    } finally {
      await driver.end();
    }
    expect((await rows(db.source, 'a')).map((row) => row.v)).toEqual([1, 2, 3, 4]);
    expect((await rows(db.target, 'a')).map((row) => row.v)).toEqual([4]);
    expect((await rows(db.source, 'b')).map((row) => row.v)).toEqual([5]);
    expect(await rows(db.target, 'b')).toEqual([]);
  });
});
