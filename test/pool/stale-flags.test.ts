/**
 * The pool acting on a stale flag state: a real RedisFlagProvider on the machine's Redis (127.0.0.1:6379, a key unique
 * to this run) reached through a TCP proxy that cuts it off (test/support/redis-server.ts: the MySQL fault proxy
 * cannot carry Redis traffic). While the state is stale, writes in a `*_only` mode (the written table's mode) are
 * refused, dual writes and reads go on; the next successful read clears it.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlagsStaleError } from '../../src/errors.js';
import { RedisFlagProvider } from '../../src/mode/redis-flag-provider.js';
import { RedisModeController } from '../../src/mode/redis-mode-controller.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { CutProxy } from '../support/redis-server.js';
import { rowsOf, until } from './helpers.js';

const REDIS_PORT = 6379;
const key = `dwtest:stale:${randomBytes(4).toString('hex')}`;
const clients: Redis[] = [];
let db: TestDatabases;
let cutProxy: CutProxy;
let flags: RedisFlagProvider;
let controller: RedisModeController;

function client(port: number): Redis {
  const redis = new Redis({ port, host: '127.0.0.1', retryStrategy: () => 50, maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // connection errors while cut off are expected; the provider reports them
  clients.push(redis);
  return redis;
}

beforeAll(async () => {
  db = await createTestDatabases('stale_flags');
  for (const side of [db.source, db.target]) {
    for (const table of ['a', 'b']) await side.query(`CREATE TABLE ${table} (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT NOT NULL) ENGINE=InnoDB`);
  }
  controller = new RedisModeController({ redis: client(REDIS_PORT), key });
  await controller.switchMode('source_only', { source: 'test' });
  await controller.switchMode('source_first', { source: 'test', table: `${db.name}.a` });
  cutProxy = await CutProxy.start(REDIS_PORT);
  flags = new RedisFlagProvider({ redis: client(cutProxy.port), key, staleAfterMs: 300, heartbeatMs: 1000, instanceTtlMs: 5000 });
  await flags.start();
});

afterAll(async () => {
  await flags.close();
  await controller.close();
  await cutProxy.close();
  const admin = client(REDIS_PORT);
  const ids = await admin.smembers(`${key}:instances`);
  await admin.del(key, `${key}:instances`, `${key}:audit`, ...ids.map((id) => `${key}:instance:${id}`));
  for (const redis of clients) redis.disconnect();
  await db.drop();
});

function openPool(options: { staleWrites?: 'refuse' | 'allow' } = {}): DualPromisePool {
  return createPool({ source: { uri: db.sourceUrl, connectionLimit: 4 }, target: { uri: db.targetUrl, connectionLimit: 4 }, flags, ...options });
}

async function count(side: 'source' | 'target', table: string, v: number): Promise<number> {
  const found = await rowsOf(db[side], `SELECT COUNT(*) AS n FROM ${table} WHERE v = ?`, [v]);
  return Number(found[0]?.n);
}

describe('a stale flag state', () => {
  it('refuses *_only writes, keeps dual writes and reads going, and lifts the refusal once the source is back', async () => {
    const pool = openPool();
    const lenient = openPool({ staleWrites: 'allow' });
    try {
      expect(pool.flagState).toMatchObject({ mode: 'source_only', tableModes: { [`${db.name}.a`]: 'source_first' } });
      expect(pool.flagState.stale).toBeFalsy();
      await pool.query('INSERT INTO b (v) VALUES (1)'); // b is source_only: fine while the state is fresh

      cutProxy.refuseNew();
      cutProxy.cut();
      await until(() => pool.flagState.stale === true, 'the pool to put the stale state in force');
      expect(pool.flagState.mode).toBe('source_only'); // the last known modes stay

      // b (source_only): refused, nothing run.
      const refused = await pool.query('INSERT INTO b (v) VALUES (2)').then(() => null, (e: unknown) => e);
      expect(refused).toBeInstanceOf(FlagsStaleError);
      expect(refused).toMatchObject({ code: 'ER_DUALWRITE_FLAGS_STALE', mode: 'source_only' });
      expect((refused as Error).message).toMatch(/lost its flag source \d+ s ago/);
      expect(await count('source', 'b', 2)).toBe(0);

      // a (source_first): both sides get the write whatever the fleet now treats as primary.
      await pool.query('INSERT INTO a (v) VALUES (3)');
      expect(await count('source', 'a', 3)).toBe(1);
      expect(await count('target', 'a', 3)).toBe(1);

      // Reads go on.
      const [read] = await pool.query<RowDataPacket[]>('SELECT v FROM b WHERE v = 1');
      expect(read).toHaveLength(1);

      // A checked-out connection obeys the same rule, for the table it writes.
      const connection = await pool.getConnection();
      try {
        const onConnection = await connection.query('UPDATE b SET v = 4 WHERE v = 1').then(() => null, (e: unknown) => e);
        expect(onConnection).toMatchObject({ code: 'ER_DUALWRITE_FLAGS_STALE' });
        await connection.query('INSERT INTO a (v) VALUES (5)');
      } finally {
        connection.release();
      }
      expect(await count('source', 'b', 4)).toBe(0);
      expect(await count('target', 'a', 5)).toBe(1);

      // staleWrites: 'allow' takes the risk.
      const [header] = await lenient.query<ResultSetHeader>('INSERT INTO b (v) VALUES (6)');
      expect(header.affectedRows).toBe(1);

      cutProxy.acceptNew();
      await until(() => pool.flagState.stale !== true, 'the stale mark to clear after reconnecting');
      await pool.query('INSERT INTO b (v) VALUES (7)');
      expect(await count('source', 'b', 7)).toBe(1);
      expect(await count('target', 'b', 7)).toBe(0); // still source_only
    } finally {
      await Promise.all([pool.end(), lenient.end()]);
    }
  });
});
