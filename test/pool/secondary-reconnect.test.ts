/**
 * A checked-out connection whose secondary connection dies at a transaction's COMMIT (the target proxy cuts it):
 * the lost COMMIT is recorded, and the same checked-out connection's next writes replay on a fresh secondary
 * connection instead of failing, one by one, on the dead one.
 */
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayFailure } from '../../src/replay/failure.js';
import type { DualPromisePool } from '../../src/promise.js';
import { canSpawnServers } from '../support/servers.js';
import { spawnProxiedServers, type ProxiedDatabases, type ProxiedServers } from '../faults/proxied-servers.js';

describe.skipIf(!canSpawnServers())('a secondary connection lost at COMMIT', () => {
  let servers: ProxiedServers | undefined;
  let db: ProxiedDatabases;
  let pool: DualPromisePool;
  const failures: ReplayFailure[] = [];

  beforeAll(async () => {
    servers = await spawnProxiedServers('reconnect');
    db = await servers.createDatabases('reconnect');
    for (const side of [db.source, db.target]) await side.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(40) NOT NULL) ENGINE=InnoDB');
    pool = db.createPool({ mode: 'source_first', circuitBreaker: false });
    pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  });
  afterAll(async () => {
    await servers?.destroy();
  });

  it('is replaced: the connection’s later writes reach the secondary', async () => {
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (1, ?)', ['lost at commit']);
      const trap = servers!.target.proxy.cutOnStatement(/^\s*COMMIT\b/i, { at: 'before' });
      await connection.commit(); // the caller's COMMIT succeeds: the primary committed
      await trap.fired;
      expect(failures.map((failure) => failure.table?.name)).toEqual(['items']); // recorded for repair

      await connection.query('INSERT INTO items (id, v) VALUES (2, ?)', ['autocommit after']);
      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (3, ?)', ['transaction after']);
      await connection.commit();
    } finally {
      connection.release();
    }
    expect(failures).toHaveLength(1); // nothing after the cut failed
    const [target] = await db.target.query<RowDataPacket[]>('SELECT id FROM items ORDER BY id');
    expect(target.map((row) => Number(row.id))).toEqual([2, 3]);
  });
});
