/**
 * The scenario shape on {@link spawnProxiedServers}: a dual-write pool (`source_first`) over a private source and
 * target, each behind a fault proxy. The target's proxy refuses connections for a moment (and cuts the pool's open
 * ones): every write still succeeds on the source, each missed replay is in the repair log, and once the proxy is
 * restored replay resumes. The full workload version of this is scenario 1 of the reliability issue; this test shows
 * the helpers at work and that the faults reach the pool.
 */
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { compareTables } from '../support/compare.js';
import { canSpawnServers } from '../support/servers.js';
import { spawnProxiedServers, type ProxiedDatabases, type ProxiedServers } from './proxied-servers.js';

/** `'123'` (compare.ts display text) → `123`. */
const keyNumber = (text: string | undefined): number => Number(String(text).replace(/^'|'$/g, ''));

describe.skipIf(!canSpawnServers())('a private source and target behind fault proxies', () => {
  let servers: ProxiedServers;
  let db: ProxiedDatabases;

  beforeAll(async () => {
    servers = await spawnProxiedServers('faults');
    db = await servers.createDatabases('refuse');
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE orders (order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL) ENGINE=InnoDB');
    }
  });

  afterAll(async () => {
    await servers?.destroy();
  });

  it('gives each side its own server and proxy, and pool URLs through the proxies', () => {
    expect(servers.source.server.port).not.toBe(servers.target.server.port);
    for (const [side, url] of [
      [servers.source, db.proxiedSourceUrl],
      [servers.target, db.proxiedTargetUrl],
    ] as const) {
      expect(new URL(side.directUrl).port).toBe(String(side.server.port));
      expect(new URL(url).port).toBe(String(side.proxy.port));
      expect(new URL(url).pathname).toBe(`/${db.name}`);
    }
  });

  it('source_first: the target refusing connections for a moment fails no write; the missed replays are in the repair log', async () => {
    const pool = db.createPool({ mode: 'source_first', circuitBreaker: false, targetPool: { connectTimeout: 2000 } });
    const failures: { failure: ReplayFailure; recorded: boolean }[] = [];
    pool.pool.on('replayFailure', (failure: ReplayFailure, recorded: boolean) => failures.push({ failure, recorded }));
    const insert = async (tag: string): Promise<number> => {
      const [header] = await pool.query<ResultSetHeader>('INSERT INTO orders (tag) VALUES (?)', [tag]);
      expect(header.affectedRows).toBe(1);
      return header.insertId;
    };

    const first = await insert('before');
    expect(servers.target.proxy.stats.accepted).toBeGreaterThan(0); // the replay went through the target's proxy

    const target = servers.target.proxy;
    target.refuseNew();
    expect(target.cut()).toBeGreaterThan(0); // the pool's open target connections go down with it
    const missed: number[] = [];
    for (let i = 0; i < 3; i++) missed.push(await insert(`during-${i}`));
    expect(target.stats.refused).toBeGreaterThan(0);
    target.restore();
    const last = await insert('after');

    // Every write is on the source, with the IDs the callers got.
    const [sourceRows] = await db.source.query<RowDataPacket[]>('SELECT order_no, tag FROM orders ORDER BY order_no');
    expect(sourceRows.map((r) => [Number(r.order_no), String(r.tag)])).toEqual([
      [first, 'before'],
      ...missed.map((id, i) => [id, `during-${i}`]),
      [last, 'after'],
    ]);

    // The target is missing exactly the writes made while it refused, and nothing else differs.
    const comparison = (await compareTables(db.source, db.target, 'orders')).tables[0];
    expect(comparison?.missing.map((key) => keyNumber(key.order_no)).sort((a, b) => a - b)).toEqual(missed);
    expect(comparison?.extra).toEqual([]);
    expect(comparison?.different).toEqual([]);

    // Each missed replay was reported, recorded, and is in the repair log by its key.
    const stats = pool.stats();
    expect(stats.replayFailures).toMatchObject({ source: 0, target: missed.length });
    expect(stats.unrecordedFailures).toBe(0);
    expect(failures.filter((f) => !f.recorded)).toEqual([]);
    expect(failures.map((f) => f.failure.secondarySide)).toEqual(missed.map(() => 'target'));
    const [log] = await db.source.query<RowDataPacket[]>('SELECT * FROM dualwrite_repair_log ORDER BY id');
    expect(log.length).toBe(missed.length);
    for (const row of log) {
      expect(row).toMatchObject({ kind: 'statement', secondary_side: 'target', mode: 'source_first', table_name: 'orders', repaired_at: null });
      expect(String(row.error_code)).toMatch(/^(ECONNRESET|PROTOCOL_CONNECTION_LOST|EPIPE)$/);
    }
    const loggedKeys = log.flatMap((row) => (JSON.parse(String(row.primary_keys)) as { order_no: string | number }[]).map((key) => Number(key.order_no)));
    expect(loggedKeys.sort((a, b) => a - b)).toEqual(missed);
  });

  it('server faults go through the same handles: a target killed with -9 and restarted keeps its port behind the proxy', async () => {
    const pool = db.createPool({ mode: 'source_first', circuitBreaker: false, targetPool: { connectTimeout: 2000 } });
    await servers.target.server.kill();
    const [header] = await pool.query<ResultSetHeader>('INSERT INTO orders (tag) VALUES (?)', ['killed']);
    expect(pool.stats().replayFailures.target).toBe(1);
    await servers.restoreAll();
    const [after] = await pool.query<ResultSetHeader>('INSERT INTO orders (tag) VALUES (?)', ['restarted']);
    expect(pool.stats().replayFailures.target).toBe(1);
    const [onTarget] = await db.target.query<RowDataPacket[]>('SELECT order_no FROM orders WHERE order_no IN (?, ?) ORDER BY order_no', [header.insertId, after.insertId]);
    expect(onTarget.map((r) => Number(r.order_no))).toEqual([after.insertId]);
  });
});
