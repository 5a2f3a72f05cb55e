/**
 * Guarded cut-over against real servers: two dual-write pools, each with a RedisFlagProvider on the Redis at
 * 127.0.0.1:6379 (unique keys per test) acknowledging through trackApplied, switched through a CutoverGuard.
 * The fall-back test puts the target behind a fault proxy and refuses/cuts its connections after the switch.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { afterEach, describe, expect, it } from 'vitest';
import { CutoverGuard } from '../../src/control/cutover-guard.js';
import { CutoverRefusedError, InvalidOptionError } from '../../src/errors.js';
import { verify } from '../../src/migrate/verify.js';
import { RedisFlagProvider } from '../../src/mode/redis-flag-provider.js';
import { RedisModeController } from '../../src/mode/redis-mode-controller.js';
import { createPool } from '../../src/index.js';
import type { DualPool } from '../../src/pool/dual-pool.js';
import { FaultProxy } from '../faults/fault-proxy.js';
import { until } from '../pool/helpers.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

const REDIS = { host: '127.0.0.1', port: 6379 };
const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

function redis(): Redis {
  const client = new Redis({ ...REDIS, maxRetriesPerRequest: null, retryStrategy: () => 50 });
  cleanup.push(() => Promise.resolve(client.disconnect()));
  return client;
}

function newKey(): string {
  const key = `dwtest:cutover:${randomBytes(4).toString('hex')}`;
  const admin = redis();
  cleanup.push(async () => {
    const ids = await admin.smembers(`${key}:instances`);
    await admin.del(key, `${key}:instances`, `${key}:audit`, ...ids.map((id) => `${key}:instance:${id}`));
  });
  return key;
}

async function databases(prefix: string): Promise<TestDatabases> {
  const db = await createTestDatabases(prefix);
  cleanup.push(() => db.drop());
  for (const side of [db.source, db.target]) await side.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
  return db;
}

/** A pool following `key`, acknowledging (with its counters) once it applied a revision. */
async function instance(key: string, id: string, source: string, target: string): Promise<{ pool: DualPool; flags: RedisFlagProvider }> {
  const flags = new RedisFlagProvider({ redis: redis(), key, instanceId: id, heartbeatMs: 150, instanceTtlMs: 3000 });
  await flags.start();
  const pool = createPool({ source: { uri: source, connectTimeout: 2000 }, target: { uri: target, connectTimeout: 2000 }, flags });
  pool.on('error', () => undefined);
  cleanup.push(() => new Promise<void>((resolve) => pool.end(() => resolve())));
  cleanup.push(() => flags.close());
  flags.trackApplied(pool);
  return { pool, flags };
}

/** Polls an async condition (no timing asserted: the bound only ends a hung test). */
async function eventually(condition: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function controllerFor(key: string): RedisModeController {
  const controller = new RedisModeController({ redis: redis(), key });
  cleanup.push(() => controller.close());
  return controller;
}

describe('CutoverGuard', () => {
  it('switches two real pools and reports every instance with its counters', async () => {
    const db = await databases('cutover_fleet');
    const key = newKey();
    const controller = controllerFor(key);
    await controller.switchMode('source_only', { source: 'test:setup' });
    const a = await instance(key, 'pool-a', db.sourceUrl, db.targetUrl);
    const b = await instance(key, 'pool-b', db.sourceUrl, db.targetUrl);
    const guard = new CutoverGuard({ controller, source: db.source, target: db.target });

    const result = await guard.switchMode('source_first', { source: 'ops:alice', wait: true, timeoutMs: 20_000 });
    expect(result.checks).toEqual([]); // a move towards both sides from the source is never held up
    expect(result.report.applied.map((ack) => [ack.instanceId, ack.mode, ack.appliedBy])).toEqual([
      ['pool-a', 'source_first', 'pool'],
      ['pool-b', 'source_first', 'pool'],
    ]);
    await a.pool.promise().query('INSERT INTO t VALUES (1, 1)');
    await b.pool.promise().query('INSERT INTO t VALUES (2, 2)');
    // The next heartbeat carries each pool's counters: the source ran the statements as primary.
    await eventually(async () => (await controller.status()).applied.every((ack) => (ack.counters?.health?.source.statements ?? 0) >= 1), 'counters in the acknowledgements');
    const status = await controller.status();
    for (const ack of status.applied) expect(ack.counters).toMatchObject({ replayFailures: { source: 0, target: 0 }, unrecordedFailures: 0, repairLogRows: 0 });
    const [rows] = await db.target.query<RowDataPacket[]>('SELECT id FROM t ORDER BY id');
    expect(rows.map((row) => row.id as number)).toEqual([1, 2]);
    const audit = await controller.audit(10);
    expect(audit.map((entry) => [entry.outcome, entry.from, entry.to, entry.actor, entry.revision])).toEqual([
      ['switched', 'source_only', 'source_first', 'ops:alice', 2],
      ['switched', null, 'source_only', 'test:setup', 1],
    ]);
  });

  it('refuses without a recent clean verification or with a repair-log backlog, audits the refusal, and passes once both hold', async () => {
    const db = await databases('cutover_refuse');
    const key = newKey();
    const controller = controllerFor(key);
    await controller.switchMode('source_first', { source: 'test:setup' });
    const { pool } = await instance(key, 'pool-a', db.sourceUrl, db.targetUrl);
    await pool.promise().query('INSERT INTO t VALUES (1, 1)');
    // A table missing on the target: its replay fails and is recorded in the source's repair log (a real backlog).
    await db.source.query('CREATE TABLE u (id INT PRIMARY KEY)');
    await pool.promise().query('INSERT INTO u VALUES (1)');
    const guard = new CutoverGuard({ controller, source: db.source, target: db.target });
    const options = { source: 'ops:bob', requireVerifyWithinMs: 600_000, tables: ['t'], maxBacklog: 0 };

    const refused = await guard.switchMode('target_first', options).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(CutoverRefusedError);
    const checks = (refused as CutoverRefusedError).checks;
    expect(checks.map((check) => [check.check, check.passed])).toEqual([
      ['verify', false],
      ['backlog', false],
    ]);
    expect((refused as Error).message).toMatch(new RegExp(`no verify run within 600 s covered ${db.name}\\.t`));
    expect((refused as Error).message).toMatch(/backlog above 0 on source \(1\)/);
    expect((await controller.get())?.mode).toBe('source_first');
    const [entry] = await controller.audit(1);
    expect(entry).toMatchObject({ outcome: 'refused', actor: 'ops:bob', from: 'source_first', to: 'target_first', revision: null });
    expect(entry?.reason).toMatch(/verify: .*; backlog: /);

    // Clean the backlog (as a repair would) and record an identical verify run: the same switch passes.
    await db.source.query('UPDATE dualwrite_repair_log SET repaired_at = NOW(6)');
    const report = await verify({ source: db.source, target: db.target, tables: ['t'], record: true });
    expect(report.identical).toBe(true);
    const passed = await guard.switchMode('target_first', { ...options, wait: true, timeoutMs: 20_000 });
    expect(passed.checks.every((check) => check.passed)).toBe(true);
    expect(passed.forced).toBe(false);
    expect(pool.mode).toBe('target_first');
  });

  it('a verify run that found differences refuses, and a forced switch is audited with the failed check', async () => {
    const db = await databases('cutover_force');
    const key = newKey();
    const controller = controllerFor(key);
    await controller.switchMode('source_first');
    await db.source.query('INSERT INTO t VALUES (1, 1)'); // only on the source: verify reports it missing
    const report = await verify({ source: db.source, target: db.target, tables: ['t'], record: true, recheck: { attempts: 0 } });
    expect(report.identical).toBe(false);
    const guard = new CutoverGuard({ controller, target: db.target, policy: { requireVerifyWithinMs: 600_000, tables: [`${db.name}.t`] } });

    await expect(guard.switchMode('target_first', { source: 'ops:carol' })).rejects.toThrow(/found differences in .*\.t \(run \d+: 1 difference/);
    const forced = await guard.switchMode('target_first', { source: 'ops:carol', force: true });
    expect(forced.forced).toBe(true);
    expect((await controller.get())?.mode).toBe('target_first');
    const [last, refusal] = await controller.audit(2);
    expect(last).toMatchObject({ outcome: 'forced', actor: 'ops:carol', from: 'source_first', to: 'target_first', revision: forced.report.revision });
    expect(last?.reason).toMatch(/verify: the latest run .* found differences/);
    expect(refusal).toMatchObject({ outcome: 'refused', actor: 'ops:carol' });
  });

  it('refuses target_only while a live instance is behind; an acknowledgement of an older version (no counters) still parses', async () => {
    const key = newKey();
    const controller = controllerFor(key);
    await controller.switchMode('target_first', { source: 'test:setup' });
    const admin = redis();
    // The acknowledgement format of instances older than the counters: no `counters` field.
    const writeAck = async (revision: number, mode: string): Promise<void> => {
      const ack = { instanceId: 'old-1', revision, mode, stale: false, appliedAt: Date.now(), heartbeatAt: Date.now(), appliedBy: 'provider' };
      await admin.set(`${key}:instance:old-1`, JSON.stringify(ack), 'PX', 20_000);
      await admin.sadd(`${key}:instances`, 'old-1');
    };
    await writeAck(0, 'source_first');
    const status = await controller.status();
    expect(status.pending.map((ack) => [ack.instanceId, ack.counters])).toEqual([['old-1', undefined]]);
    const guard = new CutoverGuard({ controller });
    await expect(guard.switchMode('target_only', { source: 'ops:fay' })).rejects.toThrow(/\[fleet\] 1 live instance\(s\) have not applied revision 1 \(target_first\): old-1 at source_first/);
    expect((await controller.get())?.mode).toBe('target_first');
    await writeAck(1, 'target_first');
    const passed = await guard.switchMode('target_only', { source: 'ops:fay' });
    expect(passed.checks).toEqual([expect.objectContaining({ check: 'fleet', passed: true })]);
    expect((await controller.get())?.mode).toBe('target_only');
  });

  it('switches one table and refuses bad options with a clear error', async () => {
    const key = newKey();
    const controller = controllerFor(key);
    await controller.switchMode('source_first');
    const guard = new CutoverGuard({ controller });
    await expect(guard.switchMode('target_first', { table: 'orders' })).rejects.toThrow(InvalidOptionError);
    await expect(guard.switchMode('target_first', { maxBacklog: -1 })).rejects.toThrow(/maxBacklog/);
    await expect(guard.switchMode('target_first', { fallback: { watchMs: 1000 } })).rejects.toThrow(/without a threshold/);
    await guard.switchMode('target_first', { table: 'shop.orders', source: 'ops:dan' });
    expect(await controller.get()).toMatchObject({ mode: 'source_first', tableModes: { 'shop.orders': 'target_first' } });
    const [entry] = await controller.audit(1);
    expect(entry).toMatchObject({ outcome: 'switched', from: 'source_first', to: 'target_first', table: 'shop.orders' });
  });
});

describe('automatic fall-back', () => {
  async function cutTargetScenario(prefix: string): Promise<{ db: TestDatabases; key: string; controller: RedisModeController; pools: DualPool[]; proxy: FaultProxy }> {
    const db = await databases(prefix);
    const proxy = await FaultProxy.start({ upstream: db.targetUrl });
    cleanup.push(() => proxy.close());
    const key = newKey();
    const controller = controllerFor(key);
    await controller.switchMode('source_first', { source: 'test:setup' });
    const pools = [
      (await instance(key, 'pool-a', db.sourceUrl, proxy.urlFor(db.targetUrl))).pool,
      (await instance(key, 'pool-b', db.sourceUrl, proxy.urlFor(db.targetUrl))).pool,
    ];
    return { db, key, controller, pools, proxy };
  }

  /** Statements through every pool until `stop` says so; failures are expected once the target is cut. */
  function load(pools: readonly DualPool[], count: number): Promise<number> {
    let failures = 0;
    return Promise.all(
      pools.map(async (pool) => {
        for (let i = 0; i < count; i++) await pool.promise().query('SELECT v FROM t WHERE id = 1').catch(() => (failures += 1));
      }),
    ).then(() => failures);
  }

  it('switches back to the previous mode when the new primary fails, and audits why', async () => {
    const { controller, pools, proxy, db } = await cutTargetScenario('fallback_fires');
    await db.source.query('INSERT INTO t VALUES (1, 1)');
    await db.target.query('INSERT INTO t VALUES (1, 1)');
    const guard = new CutoverGuard({ controller });
    const { fallback } = await guard.switchMode('target_first', {
      source: 'ops:erin',
      wait: true,
      timeoutMs: 20_000,
      fallback: { watchMs: 60_000, maxErrorRate: 0.2, minStatements: 40, pollMs: 100 },
    });
    expect(pools.map((pool) => pool.mode)).toEqual(['target_first', 'target_first']);
    // The target stops answering: reads (now served by the target) fail with connection errors.
    proxy.refuseNew();
    proxy.cut();
    let outcome: Awaited<NonNullable<typeof fallback>['done']> | undefined;
    void fallback?.done.then((done) => (outcome = done));
    for (let round = 0; round < 200 && outcome === undefined; round++) await load(pools, 5);
    expect(outcome).toMatchObject({ result: 'fell_back' });
    expect(outcome?.reason).toMatch(/new primary side \(target\) failed \d+ of \d+ statements \(error rate/);
    expect(outcome?.health?.statements).toBeGreaterThanOrEqual(40);
    expect((await controller.get())?.mode).toBe('source_first');
    await until(() => pools.every((pool) => pool.mode === 'source_first'), 'both pools back on source_first');
    // Reads are served by the source again (the target is still refused).
    await pools[0]?.promise().query('SELECT v FROM t WHERE id = 1');
    const [entry] = await controller.audit(1);
    expect(entry).toMatchObject({ outcome: 'fell_back', actor: 'ops:erin', from: 'target_first', to: 'source_first', revision: outcome?.revision });
    expect(entry?.reason).toBe(outcome?.reason);
  });

  it('does not fall back below the minimum statement count', async () => {
    const { controller, pools, proxy } = await cutTargetScenario('fallback_min');
    const guard = new CutoverGuard({ controller });
    const { fallback } = await guard.switchMode('target_first', {
      wait: true,
      timeoutMs: 20_000,
      fallback: { watchMs: 3000, maxErrorRate: 0.01, minStatements: 1000, pollMs: 100 },
    });
    proxy.refuseNew();
    proxy.cut();
    const failures = await load(pools, 5);
    expect(failures).toBe(10); // every statement failed: far above the error rate, far below the count
    const outcome = await fallback?.done;
    expect(outcome?.result).toBe('healthy');
    expect(outcome?.health?.errors).toBe(10);
    expect((await controller.get())?.mode).toBe('target_first');
    expect((await controller.audit(1))[0]).toMatchObject({ outcome: 'switched', to: 'target_first' });
  });
});
