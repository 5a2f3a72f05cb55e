/**
 * verify() reading a real replica for its first pass: a private primary and a replica of it
 * (MariaDB replication, GTID) are started for this file; the replica's SQL thread is stopped so it
 * lags behind rows changed on the primary (and on the target, as dual-writes would). The first pass
 * on the stale replica finds those rows as candidates, and the recheck on the primaries drops every
 * one of them: the tables are reported identical. A real difference on the target is still reported.
 */
import mysql, { type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verify, type Difference } from '../../src/migrate/verify.js';
import { createTestDatabases, spawnTestServer, type TestDatabases } from '../support/databases.js';
import { canSpawnServers, urlWithDatabase, type SpawnedServer } from '../support/servers.js';

const ROWS = 2000;
let db: TestDatabases;
let primary: SpawnedServer;
let replica: SpawnedServer;
let primaryPool: Pool;
let replicaPool: Pool;

const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, `row ${i + 1}`, i % 7]);

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function count(pool: Pool): Promise<number> {
  const [result] = await pool.query('SELECT COUNT(*) AS n FROM t');
  return Number((result as { n: number | string }[])[0]?.n);
}

describe.skipIf(!canSpawnServers())('a replica for the first pass', () => {
  beforeAll(async () => {
    db = await createTestDatabases('verify_replica');
    [primary, replica] = await Promise.all([spawnTestServer({ name: 'verify-primary' }), spawnTestServer({ name: 'verify-replica' })]);
    const port = new URL(primary.url).port;
    const admin = await mysql.createConnection({ uri: replica.url });
    try {
      await admin.query(`CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = ${Number(port)}, MASTER_USER = 'root', MASTER_USE_GTID = slave_pos`);
      await admin.query('START SLAVE');
    } finally {
      await admin.end();
    }
    const setup = await mysql.createConnection({ uri: primary.url });
    try {
      await setup.query(`CREATE DATABASE \`${db.name}\``);
    } finally {
      await setup.end();
    }
    primaryPool = mysql.createPool({ uri: urlWithDatabase(primary.url, db.name), connectionLimit: 6 });
    for (const pool of [primaryPool, db.target]) {
      await pool.query('CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, n INT NOT NULL)');
      await pool.query('INSERT INTO t VALUES ?', [rows]);
    }
    await waitFor(async () => {
      const probe = await mysql.createConnection({ uri: replica.url });
      try {
        const [tables] = await probe.query('SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [db.name, 't']);
        return Number((tables as { n: number }[])[0]?.n) === 1;
      } finally {
        await probe.end();
      }
    }, 'the replica to create the table');
    replicaPool = mysql.createPool({ uri: urlWithDatabase(replica.url, db.name), connectionLimit: 6 });
    await waitFor(async () => (await count(replicaPool)) === ROWS, 'the replica to catch up');
  });

  afterAll(async () => {
    await Promise.allSettled([primaryPool?.end(), replicaPool?.end()]);
    await Promise.allSettled([primary?.stop(), replica?.stop()]);
    await db?.drop();
  });

  it('gives candidates on the stale replica that the recheck on the primaries drops, and still reports a real difference', async () => {
    // The replica stops applying: rows changed from now on are stale there.
    await replicaPool.query('STOP SLAVE SQL_THREAD');
    const changed = [5, 250, 1001, 1999];
    for (const pool of [primaryPool, db.target]) await pool.query('UPDATE t SET n = n + 100 WHERE id IN (?)', [changed]);
    await primaryPool.query('DELETE FROM t WHERE id = 1500');
    await db.target.query('DELETE FROM t WHERE id = 1500');

    const onPrimaries = await verify({ source: primaryPool, target: db.target, tables: ['t'], chunkRows: 300 });
    expect(onPrimaries.identical).toBe(true);
    expect(onPrimaries.tables[0]?.candidates).toBe(0);

    const streamed: Difference[] = [];
    const viaReplica = await verify({
      source: primaryPool,
      target: db.target,
      replicas: { source: replicaPool },
      tables: ['t'],
      chunkRows: 300,
      recheck: { delayMs: 10, attempts: 1 },
      onDifference: (d) => streamed.push(d),
    });
    expect(streamed).toEqual([]);
    expect(viaReplica.identical).toBe(true);
    // Four changed rows and one deleted: each seen on the stale replica, each dropped on the primaries.
    expect(viaReplica.tables[0]).toMatchObject({ candidates: 5, resolvedOnRecheck: 5, missing: 0, extra: 0, different: 0 });

    await db.target.query('UPDATE t SET name = ? WHERE id = 42', ['changed on the target only']);
    const real = await verify({ source: primaryPool, target: db.target, replicas: { source: replicaPool }, tables: ['t'], chunkRows: 300, recheck: { delayMs: 10, attempts: 1 }, collect: true });
    expect(real.tables[0]?.differences).toEqual([{ table: 't', kind: 'different', key: { id: '42' }, columns: ['name'] }]);
    expect(real.tables[0]?.resolvedOnRecheck).toBe(5);
  });
});
