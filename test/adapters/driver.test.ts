/**
 * The driver module itself (`createDriver`), beyond what the ORM tests exercise: how an ORM's settings combine
 * with each side's, connections that follow the mode (and the session state they carry to a side that has not seen
 * it), write tickets across a switch, the pool cluster, refusals, and two fixes of the pool ORMs rely on.
 */
import type { Pool as CallbackPool, PoolConnection, ResultSetHeader, RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sideSettings } from '../../src/driver/config.js';
import { createDriver, createPool, type DualDriver, type DualDriverConnection } from '../../src/index.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { settledWithin } from '../pool/helpers.js';
import { collectFailures } from './workflow.js';

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('driver');
});
afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  for (const side of [db.source, db.target]) {
    await side.query('DROP TABLE IF EXISTS events');
    await side.query('CREATE TABLE events (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(40) NOT NULL, at TIMESTAMP NULL)');
  }
  await db.target.query('ALTER TABLE events AUTO_INCREMENT = 1000000');
});

/** `connection.query()` as a promise of the result. */
function run<T = ResultSetHeader>(connection: Pick<DualDriverConnection, 'query'>, sql: string, values?: unknown[]): Promise<T> {
  return new Promise((resolve, reject) => {
    connection.query(sql, values ?? [], (error, result) => (error ? reject(error) : resolve(result as T)));
  });
}

function end(connection: DualDriverConnection): Promise<void> {
  return new Promise((resolve, reject) => connection.end((error) => (error ? reject(error) : resolve())));
}

describe('settings an ORM passes', () => {
  it('keep each side’s address and credentials, apply everything else to both sides, and name the database only where a side does not', () => {
    const side = { uri: 'mysql://app:secret@old-db:3306/', connectionLimit: 20, dateStrings: false };
    const orm = { host: 'orm-host', user: 'orm', password: 'x', database: 'shop', dateStrings: true, typeCast: false, connectionLimit: 5, flags: '-FOUND_ROWS' };
    expect(sideSettings(side, orm, false)).toEqual({ uri: 'mysql://app:secret@old-db:3306/', connectionLimit: 5, dateStrings: true, typeCast: false, flags: '-FOUND_ROWS', database: 'shop' });
    expect(sideSettings('mysql://app@new-db/shop_v2', orm, true)).toEqual({ uri: 'mysql://app@new-db/shop_v2', dateStrings: true, typeCast: false, flags: '-FOUND_ROWS' });
    expect(sideSettings({ host: 'old-db', database: 'a' }, 'mysql://orm@elsewhere/b', false)).toEqual({ host: 'old-db', database: 'a' });
  });

  it('are refused when mysql2 would rewrite the statement after the pool analyzed it', () => {
    const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl });
    expect(() => driver.createPool({ namedPlaceholders: true })).toThrow(/namedPlaceholders is not supported/);
    expect(() => driver.createConnection({ queryFormat: () => '' })).toThrow(/queryFormat is not supported/);
  });

  it('take effect on both sides: the ORM’s dateStrings and typeCast answer in every mode', async () => {
    const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first' });
    const pool = driver.createPool({ host: 'ignored', dateStrings: true, typeCast: (field, next) => (field.name === 'label' ? `<${field.string() ?? ''}>` : next()) });
    try {
      await pool.promise().query("INSERT INTO events (label, at) VALUES ('x', '2024-05-06 07:08:09')");
      for (const mode of ['source_first', 'target_first'] as const) {
        await driver.setMode(mode);
        const [rows] = await pool.promise().query<RowDataPacket[]>('SELECT label, at FROM events');
        expect(rows).toEqual([{ label: '<x>', at: '2024-05-06 07:08:09' }]);
      }
      await expectSidesIdentical(db.source, db.target, 'events');
    } finally {
      await pool.promise().end();
      await driver.end();
    }
  });

  it('cannot take an existing pool as a side', () => {
    const pool = createPool({ source: db.sourceUrl, target: db.targetUrl });
    expect(() => createDriver({ source: pool as never, target: db.targetUrl })).toThrow(expect.objectContaining({ code: 'ER_DUALWRITE_INVALID_OPTION' }));
    pool.end();
  });
});

describe('createConnection', () => {
  let driver: DualDriver;
  let failures: ReplayFailure[];
  beforeEach(() => {
    driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_only' });
    failures = collectFailures(driver);
  });

  it('connects, follows the mode between transactions, and carries its session settings to a side that joins later', async () => {
    const connection = driver.createConnection({ user: 'ignored' });
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    // source_only: the session setting reaches the source alone.
    await run(connection, "SET time_zone = '+05:00'");
    await run(connection, "INSERT INTO events (label, at) VALUES ('only source', '2024-01-01 10:00:00')");
    await db.target.query("INSERT INTO events (id, label, at) SELECT id, label, at FROM events WHERE FALSE"); // target empty, as a backfill would start
    await db.target.query("INSERT INTO events (id, label, at) VALUES (1, 'only source', '2024-01-01 05:00:00')"); // what a UTC backfill copies
    await driver.setMode('source_first');
    // The TIMESTAMP literal means 10:00 at +05:00 only if the target's session got the setting too.
    await run(connection, "INSERT INTO events (label, at) VALUES ('both', '2024-01-01 10:00:00')");
    await expectSidesIdentical(db.source, db.target, 'events');
    await driver.setMode('target_first');
    const [zone] = await run<RowDataPacket[]>(connection, 'SELECT @@session.time_zone AS tz, @@hostname AS h, CONNECTION_ID() AS id');
    expect(zone?.tz).toBe('+05:00');
    const inserted = await run(connection, "INSERT INTO events (label, at) VALUES ('target numbered', '2024-01-01 10:00:00')");
    expect(inserted.insertId).toBeGreaterThanOrEqual(1_000_000);
    await expectSidesIdentical(db.source, db.target, 'events');
    expect(connection.mode).toBe('target_first');
    expect(failures).toEqual([]);
    await end(connection);
    expect(connection._closing).toBe(true);
    await expect(run(connection, 'SELECT 1')).rejects.toMatchObject({ code: 'ER_DUALWRITE_CLOSED' });
    await driver.end();
  });

  it('finishes a transaction in the mode it began in, then moves to the new mode', async () => {
    await driver.setMode('source_first');
    const connection = driver.createConnection();
    await run(connection, 'START TRANSACTION');
    const first = await run(connection, "INSERT INTO events (label) VALUES ('in transaction')");
    await driver.setMode('target_first'); // does not wait for the transaction
    const second = await run(connection, "INSERT INTO events (label) VALUES ('same transaction')");
    await run(connection, 'COMMIT');
    const after = await run(connection, "INSERT INTO events (label) VALUES ('after commit')");
    expect([first.insertId, second.insertId]).toEqual([1, 2]); // the source numbered the transaction's rows
    expect(after.insertId).toBeGreaterThanOrEqual(1_000_000); // the target numbers rows after it
    await expectSidesIdentical(db.source, db.target, 'events');
    expect(failures).toEqual([]);
    await end(connection);
    await driver.end();
  });

  it('holds a mode switch until its write outside a transaction has finished', async () => {
    await driver.setMode('source_first');
    await db.source.query("INSERT INTO events (label) VALUES ('locked')");
    await db.target.query("INSERT INTO events (id, label) VALUES (1, 'locked')");
    const connection = driver.createConnection();
    await run(connection, 'SELECT 1');
    const locker = await db.source.getConnection();
    try {
      await locker.query('START TRANSACTION');
      await locker.query('SELECT * FROM events WHERE id = 1 FOR UPDATE');
      const update = run(connection, "UPDATE events SET label = 'updated' WHERE id = 1");
      await new Promise((resolve) => setTimeout(resolve, 100)); // let the UPDATE reach the lock (not an assertion)
      const switched = driver.setMode('target_first');
      expect((await settledWithin(switched, 300)).status).toBe('pending');
      await locker.query('ROLLBACK');
      await update;
      await switched;
    } finally {
      locker.release();
    }
    const after = await run(connection, "INSERT INTO events (label) VALUES ('after switch')");
    expect(after.insertId).toBeGreaterThanOrEqual(1_000_000);
    await expectSidesIdentical(db.source, db.target, 'events');
    expect(failures).toEqual([]);
    await end(connection);
    await driver.end();
  });

  it('keeps both sides identical under concurrent writers while the mode switches', async () => {
    await driver.setMode('source_first');
    const connections = Array.from({ length: 4 }, () => driver.createConnection());
    let switched = false;
    const writers = connections.map(async (connection, w) => {
      for (let i = 0; i < 40; i++) {
        await run(connection, 'INSERT INTO events (label) VALUES (?)', [`w${w}-${i}`]);
        if (i % 10 === 9) {
          await run(connection, 'START TRANSACTION');
          await run(connection, 'UPDATE events SET label = CONCAT(label, ?) WHERE label = ?', ['+', `w${w}-${i}`]);
          await run(connection, 'COMMIT');
        }
      }
    });
    const switcher = (async () => {
      while ((await db.source.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM events'))[0][0]?.n < 60) await new Promise((r) => setTimeout(r, 5));
      await driver.setMode('target_first');
      switched = true;
    })();
    await Promise.all([...writers, switcher]);
    expect(switched).toBe(true);
    await expectSidesIdentical(db.source, db.target, 'events');
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT COUNT(*) AS n, SUM(id >= 1000000) AS byTarget FROM events');
    expect(Number(rows[0]?.n)).toBe(160);
    expect(Number(rows[0]?.byTarget)).toBeGreaterThan(0);
    expect(failures).toEqual([]);
    await Promise.all(connections.map(end));
    await driver.end();
  });

  it('refuses prepare() and changeUser() with a clear error, and streams rows', async () => {
    const connection = driver.createConnection();
    expect(() => connection.prepare('SELECT 1')).toThrow(expect.objectContaining({ code: 'ER_DUALWRITE_UNSUPPORTED' }));
    const refused = await new Promise<Error | null>((resolve) => connection.changeUser({}, resolve));
    expect(refused).toMatchObject({ code: 'ER_DUALWRITE_UNSUPPORTED' });
    await run(connection, "INSERT INTO events (label) VALUES ('a'), ('b')");
    const rows: unknown[] = [];
    for await (const row of connection.query('SELECT label FROM events ORDER BY id').stream()) rows.push(row);
    expect(rows).toEqual([{ label: 'a' }, { label: 'b' }]);
    const [viaPromise] = await connection.promise().query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM events');
    expect(Number(viaPromise[0]?.n)).toBe(2);
    connection.destroy();
    await driver.end();
  });

  it('reports a connection that cannot open as mysql2 does: an error event and a dead connection', async () => {
    const broken = createDriver({ source: 'mysql://nobody@127.0.0.1:1/', target: db.targetUrl, mode: 'source_first' });
    const connection = broken.createConnection();
    const error = await new Promise<Error>((resolve) => connection.on('error', resolve));
    expect(error).toMatchObject({ code: 'ECONNREFUSED' });
    expect(connection._fatalError).toBe(error);
    await expect(run(connection, 'SELECT 1')).rejects.toBe(error);
    await broken.end();
  });
});

describe('createPoolCluster', () => {
  it('gives every node a dual-write pool of the driver, as TypeORM’s replication sets it up', async () => {
    const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first' });
    const cluster = driver.createPoolCluster({ defaultSelector: 'ORDER' });
    cluster.add('MASTER', { host: 'primary.example', connectionLimit: 2 });
    cluster.add('SLAVE0', { host: 'replica.example', connectionLimit: 2 });
    const write = await new Promise<ResultSetHeader>((resolve, reject) =>
      cluster.getConnection('MASTER', (error, connection) => {
        if (error || !connection) return reject(error ?? new Error('no connection'));
        connection.query("INSERT INTO events (label) VALUES ('via cluster')", (e: Error | null, result: unknown) => {
          connection.release();
          if (e) reject(e);
          else resolve(result as ResultSetHeader);
        });
      }),
    );
    expect(write.insertId).toBe(1);
    const read = await new Promise<RowDataPacket[]>((resolve, reject) =>
      cluster.of('SLAVE*').query('SELECT label FROM events', (error: Error | null, rows: unknown) => (error ? reject(error) : resolve(rows as RowDataPacket[]))),
    );
    expect(read.map((row) => String(row.label))).toEqual(['via cluster']);
    const missing = await new Promise<Error | null>((resolve) => cluster.getConnection('NOPE', (error: Error | null) => resolve(error)));
    expect(missing).toMatchObject({ code: 'POOL_NOEXIST' });
    await new Promise<void>((resolve) => cluster.end(() => resolve()));
    await expectSidesIdentical(db.source, db.target, 'events');
    await driver.end();
  });
});

describe('pool fixes the ORMs rely on', () => {
  it('a checked-out connection does not leave its listeners on the mysql2 connection it wrapped (TypeORM adds an error listener per query)', async () => {
    const pool = createPool({ source: { uri: db.sourceUrl, connectionLimit: 1 }, target: { uri: db.targetUrl, connectionLimit: 1 }, mode: 'source_first' });
    try {
      for (let i = 0; i < 30; i++) {
        const connection = await pool.promise().getConnection();
        connection.connection.on('error', () => undefined);
        await connection.query('SELECT 1');
        connection.release();
        await (connection.connection as unknown as { finished: Promise<void> }).finished;
      }
      const sourcePool: CallbackPool = pool.engine.sides.source.pool;
      const physical = await new Promise<PoolConnection>((resolve, reject) => sourcePool.getConnection((e, c) => (e ? reject(e) : resolve(c))));
      expect(physical.listenerCount('error')).toBeLessThan(5);
      physical.release();
    } finally {
      await pool.promise().end();
    }
  });

  it('a write with named placeholders is refused in a dual-write mode before it runs (mysql2 rewrites its text after the analysis)', async () => {
    const pool = createPool({ source: { uri: db.sourceUrl, namedPlaceholders: true }, target: { uri: db.targetUrl, namedPlaceholders: true }, mode: 'source_first' });
    try {
      const [rows] = await pool.promise().query<RowDataPacket[]>('SELECT :n AS n', { n: 7 });
      expect(rows).toEqual([{ n: 7 }]);
      for (const call of [() => pool.promise().query('INSERT INTO events (label) VALUES (:label)', { label: 'named' }), () => pool.promise().execute('INSERT INTO events (label) VALUES (:label)', { label: 'named' })]) {
        await expect(call()).rejects.toMatchObject({ code: 'ER_DUALWRITE_UNSUPPORTED', message: expect.stringMatching(/named placeholders/) as unknown });
      }
      await pool.promise().query('INSERT INTO events (label) VALUES (?)', ['positional']);
      await pool.setMode('source_only');
      await pool.promise().query('INSERT INTO events (label) VALUES (:label)', { label: 'single side' }); // one side: mysql2 handles it
    } finally {
      await pool.promise().end();
    }
    const [source] = await db.source.query<RowDataPacket[]>('SELECT label FROM events ORDER BY id');
    expect(source.map((row) => String(row.label))).toEqual(['positional', 'single side']);
  });

  it('a secondary connection replaced after a timeout gets the session’s settings before the next replay', async () => {
    await db.source.query("INSERT INTO events (label) VALUES ('locked')");
    await db.target.query("INSERT INTO events (id, label) VALUES (1, 'locked')");
    const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', replayTimeoutMs: 300, circuitBreaker: false });
    const failures: ReplayFailure[] = [];
    pool.on('replayFailure', (failure) => failures.push(failure));
    const connection = await pool.promise().getConnection();
    const locker = await db.target.getConnection();
    try {
      await connection.query("SET time_zone = '+05:00'");
      await locker.query('START TRANSACTION');
      await locker.query('SELECT * FROM events WHERE id = 1 FOR UPDATE');
      await connection.query("UPDATE events SET label = 'timed out on the target' WHERE id = 1"); // its replay times out
      await locker.query('ROLLBACK');
      expect(failures.map((f) => (f.error as { code?: string } | null)?.code)).toEqual(['ER_DUALWRITE_REPLAY_TIMEOUT']);
      await connection.query("INSERT INTO events (label, at) VALUES ('after', '2024-01-01 10:00:00')");
    } finally {
      locker.release();
      connection.release();
      await pool.promise().end();
    }
    // Every row but the one whose replay timed out (it is in the repair log) is the same on both sides.
    await db.target.query("UPDATE events SET label = 'timed out on the target' WHERE id = 1");
    await expectSidesIdentical(db.source, db.target, 'events');
  });
});
