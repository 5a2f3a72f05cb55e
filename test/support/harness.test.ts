import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareTables, expectSidesIdentical } from './compare.js';
import { createTestDatabases, spawnTestServer, testServers, type TestDatabases } from './databases.js';
import { canSpawnServers, type SpawnedServer } from './servers.js';

async function queryOne(url: string, sql: string): Promise<RowDataPacket> {
  const connection = await createConnection({ uri: url });
  try {
    const [rows] = await connection.query<RowDataPacket[]>(sql);
    const row = rows[0];
    if (!row) throw new Error(`no row from ${sql}`);
    return row;
  } finally {
    await connection.end();
  }
}

describe('the servers of the run', () => {
  it('are two different server processes with a ROW binary log', async () => {
    const { sourceUrl, targetUrl } = testServers();
    const sql = 'SELECT @@server_id AS id, @@port AS port, @@log_bin AS logBin, @@binlog_format AS format, @@datadir AS datadir';
    const [source, target] = await Promise.all([queryOne(sourceUrl, sql), queryOne(targetUrl, sql)]);
    expect(source.id).not.toBe(target.id);
    expect(`${source.port} ${source.datadir}`).not.toBe(`${target.port} ${target.datadir}`);
    for (const side of [source, target]) {
      expect(Number(side.logBin)).toBe(1);
      expect(side.format).toBe('ROW');
    }
  });
});

describe.skipIf(!canSpawnServers())('spawnServer', () => {
  let server: SpawnedServer;
  beforeAll(async () => {
    server = await spawnTestServer({ name: 'harness', settings: { innodb_autoinc_lock_mode: 2, auto_increment_increment: 2 } });
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('applies the given settings', async () => {
    const row = await queryOne(server.url, 'SELECT @@innodb_autoinc_lock_mode AS lockMode, @@auto_increment_increment AS inc, @@binlog_format AS format');
    expect(Number(row.lockMode)).toBe(2);
    expect(Number(row.inc)).toBe(2);
    expect(row.format).toBe('ROW');
    expect(server.url).toBe(`mysql://root@127.0.0.1:${server.port}/`);

    const pid = server.pid;
    await server.restart();
    expect(server.pid).not.toBe(pid);
    expect(Number((await queryOne(server.url, 'SELECT @@auto_increment_increment AS inc')).inc)).toBe(2);
  });

  it('stops (connections refused), restarts on the same port and keeps the data', async () => {
    const connection = await createConnection({ uri: server.url });
    await connection.query('CREATE DATABASE keep');
    await connection.query('CREATE TABLE keep.t (id INT PRIMARY KEY, v VARCHAR(10))');
    await connection.query("INSERT INTO keep.t VALUES (1, 'one'), (2, 'two')");
    await connection.end();
    const port = server.port;

    await server.stop();
    expect(server.running).toBe(false);
    expect(server.pid).toBeUndefined();
    await expect(createConnection({ uri: server.url, connectTimeout: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.start();
    expect(server.running).toBe(true);
    expect(server.port).toBe(port);
    const row = await queryOne(server.url, 'SELECT COUNT(*) AS n, GROUP_CONCAT(v ORDER BY id) AS vs FROM keep.t');
    expect(Number(row.n)).toBe(2);
    expect(row.vs).toBe('one,two');
  });

  it('recovers from kill -9 with committed rows intact', async () => {
    const connection = await createConnection({ uri: server.url });
    await connection.query('CREATE TABLE keep.k (id INT AUTO_INCREMENT PRIMARY KEY, v INT)');
    await connection.query('INSERT INTO keep.k (v) VALUES (1), (2), (3)');
    await connection.end();
    const pid = server.pid;

    await server.kill();
    expect(server.running).toBe(false);
    await expect(createConnection({ uri: server.url, connectTimeout: 2000 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await server.restart();
    expect(server.pid).not.toBe(pid);
    const row = await queryOne(server.url, 'SELECT COUNT(*) AS n, MAX(id) AS maxId FROM keep.k');
    expect(Number(row.n)).toBe(3);
    // auto_increment_increment = 2: ids 1, 3, 5
    expect(Number(row.maxId)).toBe(5);
  });
});

describe('compareTables', () => {
  let db: TestDatabases;
  const create = `CREATE TABLE t (
    id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    d DOUBLE,
    ts DATETIME(6),
    j JSON,
    b BIT(8),
    s VARCHAR(20)
  )`;
  const rows = `INSERT INTO t VALUES
    (1, 0.1, '2024-01-02 03:04:05.123456', '{"a": 1}', b'10101010', 'one'),
    (2, 1.0000000000000002, '2024-01-02 03:04:05.000001', '[1, 2]', b'1', NULL),
    (18446744073709551615, -1e300, NULL, NULL, NULL, 'max')`;

  beforeAll(async () => {
    db = await createTestDatabases('harness_compare');
    for (const side of [db.source, db.target]) {
      await side.query(create);
      await side.query(rows);
      await side.query('CREATE TABLE nopk (a INT, b INT)');
      await side.query('INSERT INTO nopk VALUES (1, 1), (1, 1), (2, NULL)');
    }
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('reports identical tables as identical', async () => {
    const comparison = await compareTables(db.source, db.target);
    expect(comparison.tables.map((t) => t.table)).toEqual(['nopk', 't']);
    expect(comparison.identical).toBe(true);
    const t = comparison.tables.find((table) => table.table === 't');
    expect(t).toMatchObject({ keyKind: 'primary', keyColumns: ['id'], sourceCount: 3, targetCount: 3 });
    await expectSidesIdentical(db.source, db.target);
    await expectSidesIdentical(db.sourceUrl, db.targetUrl, 't');
  });

  it('finds a missing row, an extra row, a changed DOUBLE last digit and a changed microsecond', async () => {
    await db.target.query('DELETE FROM t WHERE id = 18446744073709551615');
    await db.target.query("INSERT INTO t (id, s) VALUES (3, 'extra')");
    await db.target.query('UPDATE t SET d = 1.0000000000000004 WHERE id = 2');
    await db.target.query("UPDATE t SET ts = '2024-01-02 03:04:05.123457' WHERE id = 1");
    try {
      const comparison = await compareTables(db.source, db.target, 't');
      const [t] = comparison.tables;
      expect(comparison.identical).toBe(false);
      expect(t?.missing).toEqual([{ id: "'18446744073709551615'" }]);
      expect(t?.extra).toEqual([{ id: "'3'" }]);
      expect(t?.different).toEqual([
        { key: { id: "'1'" }, columns: [{ column: 'ts', source: "'2024-01-02 03:04:05.123456'", target: "'2024-01-02 03:04:05.123457'" }] },
        { key: { id: "'2'" }, columns: [{ column: 'd', source: "'1.0000000000000002'", target: "'1.0000000000000004'" }] },
      ]);
      await expect(expectSidesIdentical(db.source, db.target, 't')).rejects.toThrow(/missing on target: id='18446744073709551615'[\s\S]*d source '1.0000000000000002' ≠ target '1.0000000000000004'/);
    } finally {
      await db.target.query('DELETE FROM t');
      await db.target.query(rows);
    }
    await expectSidesIdentical(db.source, db.target, 't');
  });

  it('sees JSON, BIT and duplicate rows of a table without a primary key', async () => {
    await db.target.query("UPDATE t SET j = '{\"a\": 2}', b = b'10101011' WHERE id = 1");
    await db.target.query('DELETE FROM nopk WHERE a = 1 LIMIT 1');
    try {
      const comparison = await compareTables(db.source, db.target);
      const t = comparison.tables.find((table) => table.table === 't');
      expect(t?.different[0]?.columns.map((c) => c.column)).toEqual(['j', 'b']);
      expect(t?.different[0]?.columns[1]).toEqual({ column: 'b', source: '0xaa', target: '0xab' });
      const nopk = comparison.tables.find((table) => table.table === 'nopk');
      expect(nopk).toMatchObject({ keyKind: 'all-columns', sourceCount: 3, targetCount: 2, missing: [{ a: "'1'", b: "'1'" }], identical: false });
    } finally {
      await db.target.query('DELETE FROM t');
      await db.target.query(rows);
      await db.target.query('INSERT INTO nopk VALUES (1, 1)');
    }
    await expectSidesIdentical(db.source, db.target);
  });

  it('reports a table missing on one side and a column missing on one side', async () => {
    await db.target.query('CREATE TABLE only_target (id INT PRIMARY KEY)');
    await db.source.query('ALTER TABLE nopk ADD COLUMN c INT');
    try {
      const comparison = await compareTables(db.source, db.target);
      expect(comparison.tables.find((t) => t.table === 'only_target')).toMatchObject({ existsOnSource: false, existsOnTarget: true, identical: false });
      expect(comparison.tables.find((t) => t.table === 'nopk')).toMatchObject({ columnsOnlyOnSource: ['c'], identical: false });
    } finally {
      await db.target.query('DROP TABLE only_target');
      await db.source.query('ALTER TABLE nopk DROP COLUMN c');
    }
  });
});
