/**
 * RedisFlagProvider and RedisModeController against a real Redis: a private redis-server spawned on a free port,
 * with a small TCP proxy between a provider and the server to cut its connections (test/support/redis-server.ts).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../../src/errors.js';
import type { FlagState } from '../../src/mode/flag-provider.js';
import { RedisFlagProvider, type RedisFlagProviderOptions, type RedisFlagState, type RedisFlagStatus } from '../../src/mode/redis-flag-provider.js';
import { RedisModeController, SwitchNotAppliedError } from '../../src/mode/redis-mode-controller.js';
import { createPool } from '../../src/index.js';
import { until } from '../pool/helpers.js';
import { createTestDatabases } from '../support/databases.js';
import { CutProxy, spawnRedisServer, type PrivateRedis } from '../support/redis-server.js';

let redisServer: PrivateRedis;
let port: number;
let admin: Redis;
const open: Array<{ close(): Promise<void> }> = [];
const keys: string[] = [];

beforeAll(async () => {
  redisServer = await spawnRedisServer();
  ({ port, admin } = redisServer);
});

afterAll(async () => {
  await redisServer.stop();
});

afterEach(async () => {
  await Promise.allSettled(open.splice(0).map((item) => item.close()));
  for (const key of keys.splice(0)) {
    const ids = await admin.smembers(`${key}:instances`);
    await admin.del(key, `${key}:instances`, ...ids.map((id) => `${key}:instance:${id}`));
  }
});

function newKey(): string {
  const key = `dwtest:${randomBytes(4).toString('hex')}`;
  keys.push(key);
  return key;
}

function client(target = port): Redis {
  const redis = new Redis({ port: target, host: '127.0.0.1', retryStrategy: () => 50, maxRetriesPerRequest: null });
  open.push({ close: () => Promise.resolve(redis.disconnect()) });
  return redis;
}

function controller(key: string): RedisModeController {
  const c = new RedisModeController({ redis: client(), key });
  open.push(c);
  return c;
}

function provider(key: string, options: Partial<RedisFlagProviderOptions> & { via?: number } = {}): RedisFlagProvider {
  const { via, ...rest } = options;
  const p = new RedisFlagProvider({ redis: client(via), key, ...rest });
  open.push(p);
  return p;
}

async function proxy(): Promise<CutProxy> {
  const fp = await CutProxy.start(port);
  open.push(fp);
  return fp;
}

describe('RedisFlagProvider', () => {
  it('loads the first value in start(), and refuses without a document unless `initial` is given', async () => {
    const key = newKey();
    const bare = provider(key, { startTimeoutMs: 2000 });
    expect(() => bare.current()).toThrow(FlagsNotReadyError);
    await expect(bare.start()).rejects.toThrow(FlagLoadError);

    const withInitial = provider(key, { initial: 'source_only' });
    await withInitial.start();
    expect(withInitial.current()).toMatchObject({ mode: 'source_only', revision: 0, stale: false });

    await controller(key).switchMode('source_first', { source: 'ops:test' });
    const loaded = provider(key);
    await loaded.start();
    expect(loaded.current()).toMatchObject({ mode: 'source_first', revision: 1, source: 'ops:test', version: 0, stale: false });
    expect(loaded.status().connected).toBe(true);
  });

  it('pushes a change to every instance', async () => {
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_only');
    const a = provider(key);
    const b = provider(key);
    await Promise.all([a.start(), b.start()]);
    const seen: Array<[string, FlagState, FlagState]> = [];
    a.subscribe((next, previous) => seen.push(['a', next, previous]));
    b.subscribe((next, previous) => seen.push(['b', next, previous]));
    await ops.switchMode('source_first');
    await until(() => a.current().mode === 'source_first' && b.current().mode === 'source_first', 'both instances in source_first');
    expect(seen.map(([who, next, previous]) => [who, previous.mode, next.mode, next.version])).toEqual(
      expect.arrayContaining([
        ['a', 'source_only', 'source_first', 1],
        ['b', 'source_only', 'source_first', 1],
      ]),
    );
    expect(seen).toHaveLength(2);
  });

  it('re-reads the key on reconnection: a change made while disconnected is seen', async () => {
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_first');
    const fp = await proxy();
    const statuses: RedisFlagStatus[] = [];
    const cutOff = provider(key, { via: fp.port, onStatusChange: (status) => statuses.push(status) });
    await cutOff.start();
    fp.refuseNew();
    fp.cut();
    await until(() => !cutOff.status().connected, 'the provider to notice the cut');
    await ops.switchMode('target_first');
    expect(cutOff.current().mode).toBe('source_first'); // kept while disconnected
    fp.acceptNew();
    await until(() => cutOff.current().mode === 'target_first', 'the provider to re-read the key after reconnecting');
    expect(cutOff.status().connected).toBe(true);
    expect(statuses.some((status) => !status.connected)).toBe(true);
  });

  it('marks the state stale after staleAfterMs without a connection, and clears it once reconnected', async () => {
    const key = newKey();
    await controller(key).switchMode('source_only');
    const fp = await proxy();
    const p = provider(key, { via: fp.port, staleAfterMs: 200 });
    await p.start();
    const changes: RedisFlagState[] = [];
    p.subscribe((next) => changes.push(next as RedisFlagState));
    fp.refuseNew();
    fp.cut();
    await until(() => p.current().stale, 'the state to go stale');
    expect(p.current()).toMatchObject({ mode: 'source_only', stale: true, revision: 1 });
    expect(p.status()).toMatchObject({ connected: false, stale: true });
    fp.acceptNew();
    await until(() => !p.current().stale, 'the stale mark to clear after reconnecting');
    expect(changes.map((state) => [state.mode, state.stale])).toEqual([
      ['source_only', true],
      ['source_only', false],
    ]);
  });

  it('keeps the last good state when the key holds invalid content, and reports it', async () => {
    const key = newKey();
    await controller(key).switchMode('source_first');
    const errors: Error[] = [];
    const p = provider(key, { onError: (error) => errors.push(error) });
    await p.start();
    await admin.set(key, '{"mode": "sauce_first"');
    await admin.publish(key, 'changed');
    await until(() => errors.length > 0, 'the error report');
    await admin.set(key, '{"mode": "sauce_first"}');
    await admin.publish(key, 'changed');
    await until(() => errors.length > 1, 'the second error report');
    expect(errors.every((error) => error instanceof InvalidModeError)).toBe(true);
    expect(errors[0]?.message).toContain('not valid JSON');
    expect(p.current()).toMatchObject({ mode: 'source_first', revision: 1 });
    expect(p.status().lastError).toBe(errors[1]);
    // The controller replaces invalid content with a valid document.
    await controller(key).switchMode('target_first');
    await until(() => p.current().mode === 'target_first', 'the next valid document');
    expect(p.status().lastError).toBeUndefined();
  });

  it('opens (and closes) its own connections from `connection` options, loading ioredis lazily', async () => {
    const key = newKey();
    const ops = new RedisModeController({ connection: `redis://127.0.0.1:${port}`, key });
    open.push(ops);
    await ops.switchMode('target_first');
    const own = new RedisFlagProvider({ connection: { host: '127.0.0.1', port }, key, instanceId: 'own' });
    open.push(own);
    await own.start();
    expect(own.current().mode).toBe('target_first');
    expect((await ops.status()).applied.map((ack) => ack.instanceId)).toEqual(['own']);
    await own.close();
    expect(await admin.exists(`${key}:instance:own`)).toBe(0);
  });

  it('refuses contradictory options', () => {
    expect(() => new RedisFlagProvider({ key: 'k' } as unknown as RedisFlagProviderOptions)).toThrow(InvalidOptionError);
    expect(() => new RedisFlagProvider({ redis: client(), heartbeatMs: 1000, instanceTtlMs: 1000 })).toThrow(InvalidOptionError);
  });
});

describe('RedisModeController: coordinated switch', () => {
  it('reports every instance that applied the switch, and waits for them', async () => {
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_only');
    const a = provider(key, { instanceId: 'a' });
    const b = provider(key, { instanceId: 'b' });
    await Promise.all([a.start(), b.start()]);
    const report = await ops.switchMode('source_first', { wait: true, timeoutMs: 20_000 });
    expect(report).toMatchObject({ revision: 2, mode: 'source_first', pending: [], complete: true });
    expect(report.applied.map((ack) => [ack.instanceId, ack.revision, ack.mode, ack.appliedBy])).toEqual([
      ['a', 2, 'source_first', 'provider'],
      ['b', 2, 'source_first', 'provider'],
    ]);
    // A switch to the mode in force still gets acknowledged (new revision, no new state).
    const again = await ops.switchMode('source_first', { wait: true, timeoutMs: 20_000 });
    expect(again.applied.map((ack) => [ack.instanceId, ack.revision])).toEqual([
      ['a', 3],
      ['b', 3],
    ]);
    expect(a.current().version).toBe(1);
  });

  it('names a cut-off instance as not applied and times out waiting for it; a closed instance leaves the fleet', async () => {
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_only');
    const fp = await proxy();
    const healthy = provider(key, { instanceId: 'healthy' });
    const cutOff = provider(key, { instanceId: 'cut-off', via: fp.port, staleAfterMs: 60_000 });
    const leaving = provider(key, { instanceId: 'leaving' });
    await Promise.all([healthy.start(), cutOff.start(), leaving.start()]);
    await until(() => cutOff.status().connected, 'the cut-off instance to connect');
    await leaving.close();
    fp.refuseNew();
    fp.cut();
    const error: unknown = await ops.switchMode('source_first', { wait: true, timeoutMs: 1500 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwitchNotAppliedError);
    const report = (error as SwitchNotAppliedError).report;
    expect(report.applied.map((ack) => ack.instanceId)).toEqual(['healthy']);
    expect(report.pending.map((ack) => [ack.instanceId, ack.revision, ack.mode])).toEqual([['cut-off', 1, 'source_only']]);
    expect((error as Error).message).toContain('cut-off');
    expect(report.lost).toEqual([]);

    fp.acceptNew();
    const healed = await ops.switchMode('source_first', { wait: true, timeoutMs: 20_000 });
    expect(healed.applied.map((ack) => ack.instanceId)).toEqual(['cut-off', 'healthy']);
  });

  it('switches a real dual-write pool through Redis, acknowledged once the pool applied it', async () => {
    const db = await createTestDatabases('redis_flags');
    open.push({ close: () => db.drop() });
    for (const side of [db.source, db.target]) await side.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_only');
    const flags = provider(key, { instanceId: 'pool-1' });
    await flags.start();
    const pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, flags });
    open.push({ close: () => new Promise<void>((resolve) => pool.end(() => resolve())) });
    flags.trackApplied(pool);
    await pool.promise().query('INSERT INTO t VALUES (1, 1)');

    const report = await ops.switchMode('source_first', { source: 'ops:test', wait: true, timeoutMs: 20_000 });
    expect(report.applied.map((ack) => [ack.instanceId, ack.mode, ack.appliedBy])).toEqual([['pool-1', 'source_first', 'pool']]);
    expect(pool.mode).toBe('source_first');
    expect(pool.flagState).toMatchObject({ mode: 'source_first', source: 'ops:test', revision: 2 });
    await pool.promise().query('INSERT INTO t VALUES (2, 2)');
    const [target] = await db.target.query<RowDataPacket[]>('SELECT id FROM t ORDER BY id');
    expect(target.map((row) => row.id as number)).toEqual([2]);
  });

  it('holds the acknowledgement while the pool drains a write of the old mode, and gives it once the switch is in force', async () => {
    const db = await createTestDatabases('redis_drain');
    open.push({ close: () => db.drop() });
    for (const side of [db.source, db.target]) await side.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
    await db.source.query('INSERT INTO t VALUES (1, 1)');
    const key = newKey();
    const ops = controller(key);
    await ops.switchMode('source_only');
    const flags = provider(key, { instanceId: 'draining' });
    await flags.start();
    const pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, flags });
    open.push({ close: () => new Promise<void>((resolve) => pool.end(() => resolve())) });
    flags.trackApplied(pool);

    // A write of the old mode held in flight by a row lock on the source: the gate cannot switch until it ends.
    const locker = await db.source.getConnection();
    await locker.query('BEGIN');
    await locker.query('SELECT v FROM t WHERE id = 1 FOR UPDATE');
    const write = pool.promise().query('UPDATE t SET v = 2 WHERE id = 1');
    const waiting = async (): Promise<number> => {
      const [rows] = await db.source.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE INFO LIKE 'UPDATE t SET v = 2%'");
      return Number(rows[0]?.n);
    };
    for (let tries = 0; (await waiting()) === 0; tries++) {
      if (tries > 500) throw new Error('the pool write never reached the source');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }

    const switched = ops.switchMode('source_first', { source: 'ops:test', wait: true, timeoutMs: 20_000 });
    await until(() => flags.current().revision === 2, 'the provider hears revision 2');
    const during = await ops.status(2);
    expect(during.pending.map((ack) => [ack.instanceId, ack.revision, ack.appliedBy])).toEqual([['draining', 1, 'pool']]);
    expect(pool.mode).toBe('source_only');

    await locker.query('ROLLBACK');
    locker.release();
    await write;
    const report = await switched;
    expect(report.applied.map((ack) => [ack.instanceId, ack.revision, ack.mode])).toEqual([['draining', 2, 'source_first']]);
    expect(pool.mode).toBe('source_first');
    const [target] = await db.target.query<RowDataPacket[]>('SELECT id FROM t');
    expect(target).toEqual([]); // the held write ran under source_only: the target did not get it
  });
});
