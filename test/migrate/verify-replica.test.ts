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
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { spawnReplicaPair, type ReplicaPair } from '../support/replication.js';
import { canSpawnServers } from '../support/servers.js';

const ROWS = 2000;
let db: TestDatabases;
let pair: ReplicaPair;
let primaryPool: Pool;
let replicaPool: Pool;

const rows = Array.from({ length: ROWS }, (_, i) => [i + 1, `row ${i + 1}`, i % 7]);

describe.skipIf(!canSpawnServers())('a replica for the first pass', () => {
  beforeAll(async () => {
    db = await createTestDatabases('verify_replica');
    pair = await spawnReplicaPair('verify', db.name);
    primaryPool = mysql.createPool({ uri: pair.primaryUrl, connectionLimit: 6 });
    for (const pool of [primaryPool, db.target]) {
      await pool.query('CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, n INT NOT NULL)');
      await pool.query('INSERT INTO t VALUES ?', [rows]);
    }
    await pair.caughtUp('t', ROWS);
    replicaPool = mysql.createPool({ uri: pair.replicaUrl, connectionLimit: 6 });
  });

  afterAll(async () => {
    await Promise.allSettled([primaryPool?.end(), replicaPool?.end()]);
    await pair?.stop();
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
