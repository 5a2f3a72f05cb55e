/**
 * `dualwrite mode get|set|audit` and `dualwrite status --redis`, running the built command against the Redis at
 * 127.0.0.1:6379 (a unique key per test) and the spawned servers. The fleet is a real dual-write pool in this
 * process following the same key through a RedisFlagProvider.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../src/index.js';
import { RedisFlagProvider } from '../../src/mode/redis-flag-provider.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { closedPort, expectOneLineError, jsonLines, runCli } from './helpers.js';

const REDIS_URL = 'redis://127.0.0.1:6379';
let db: TestDatabases;
let admin: Redis;
let directory: string;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  db = await createTestDatabases('cli_mode');
  for (const side of [db.source, db.target]) await side.query('CREATE TABLE t (id INT PRIMARY KEY, v INT NOT NULL)');
  admin = new Redis(REDIS_URL);
  directory = await mkdtemp(join(tmpdir(), 'dualwrite-mode-'));
});
afterAll(async () => {
  await db?.drop();
  admin?.disconnect();
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});

function newKey(): string {
  const key = `dwtest:climode:${randomBytes(4).toString('hex')}`;
  cleanup.push(async () => {
    const ids = await admin.smembers(`${key}:instances`);
    await admin.del(key, `${key}:instances`, `${key}:audit`, ...ids.map((id) => `${key}:instance:${id}`));
  });
  return key;
}

/** A real pool following `key` in this process, acknowledging with its counters. */
async function fleetInstance(key: string, id: string): Promise<ReturnType<typeof createPool>> {
  const flags = new RedisFlagProvider({ connection: REDIS_URL, key, instanceId: id, heartbeatMs: 100, instanceTtlMs: 5000 });
  await flags.start();
  const pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, flags });
  cleanup.push(() => new Promise<void>((resolve) => pool.end(() => resolve())));
  cleanup.push(() => flags.close());
  flags.trackApplied(pool);
  return pool;
}

describe('dualwrite mode (Redis)', () => {
  it('sets, waits for the fleet, gets, audits, and shows the fleet in status', async () => {
    const key = newKey();
    const redis = ['--redis', REDIS_URL, '--key', key];
    const first = await runCli(['mode', 'set', 'source_only', ...redis, '--actor', 'alice']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/switched the pool to source_only \(revision 1\)/);
    const pool = await fleetInstance(key, 'app-1');

    const set = await runCli(['mode', 'set', 'source_first', ...redis, '--actor', 'alice', '--wait', '--timeout-ms', '20000']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/switched the pool to source_first \(revision 2\)/);
    expect(set.stdout).toMatch(/fleet: 1 live instance\(s\), 1 applied revision 2 \(source_first\), 0 pending/);
    expect(set.stdout).toMatch(/app-1: applied, source_first at revision 2, heartbeat \d+(\.\d+)? m?s ago, replay failures source 0 \/ target 0, unrecorded 0/);
    expect(pool.mode).toBe('source_first');

    const get = await runCli(['mode', 'get', ...redis, '--json']);
    expect(get.code).toBe(0);
    const lines = jsonLines(get.stdout);
    expect(lines.find((line) => line.type === 'document')).toMatchObject({ mode: 'source_first', revision: 2, source: 'alice' });
    expect(lines.find((line) => line.type === 'instance')).toMatchObject({ state: 'applied', instanceId: 'app-1', mode: 'source_first', appliedBy: 'pool' });

    const audit = await runCli(['mode', 'audit', ...redis]);
    expect(audit.code).toBe(0);
    const entries = audit.stdout.trim().split('\n');
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z alice switched source_only → source_first \(revision 2\)$/);
    expect(entries[1]).toMatch(/alice switched \(none\) → source_only \(revision 1\)$/);

    const status = await runCli(['status', '--target', db.targetUrl, ...redis]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/repair log on the target/); // the existing output stays
    expect(status.stdout).toMatch(/fleet: 1 live instance\(s\), 1 applied revision 2 \(source_first\)/);
    expect(status.stdout).toMatch(/app-1: applied, source_first at revision 2/);
  });

  it('refuses a cut-over without a recorded clean verification (exit 3, audited), passes after dualwrite verify, and switches one table', async () => {
    const key = newKey();
    const redis = ['--redis', REDIS_URL, '--key', key];
    expect((await runCli(['mode', 'set', 'source_first', ...redis])).code).toBe(0);
    const guarded = ['mode', 'set', 'target_first', ...redis, '--actor', 'bob', '--source', db.sourceUrl, '--target', db.targetUrl, '--tables', 't', '--require-verify-within', '1h', '--max-backlog', '0'];
    // A verify run recorded for another table does not cover t.
    await db.source.query('CREATE TABLE IF NOT EXISTS other (id INT PRIMARY KEY)');
    await db.target.query('CREATE TABLE IF NOT EXISTS other (id INT PRIMARY KEY)');
    expect((await runCli(['verify', '--source', db.sourceUrl, '--target', db.targetUrl, '--tables', 'other'])).code).toBe(0);

    const refused = await runCli(guarded);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toMatch(new RegExp(`check verify: FAILED: no verify run within 60 min covered ${db.name}\\.t — run \`dualwrite verify\``));
    expect(refused.stdout).toMatch(/check backlog: passed/);
    expect(refused.stderr).toMatch(/The switch to target_first was refused: 1 precondition\(s\) failed/);
    const afterRefusal = await runCli(['mode', 'get', ...redis]);
    expect(afterRefusal.stdout).toMatch(/^mode: source_first \(revision 1/m);
    expect((await runCli(['mode', 'audit', ...redis, '--limit', '1'])).stdout).toMatch(/bob refused source_first → target_first: verify: no verify run/);

    expect((await runCli(['verify', '--source', db.sourceUrl, '--target', db.targetUrl, '--tables', 't'])).code).toBe(0);
    const passed = await runCli(guarded);
    expect(passed.code).toBe(0);
    expect(passed.stdout).toMatch(/check verify: passed/);
    expect(passed.stdout).toMatch(/switched the pool to target_first \(revision 2\)/);

    const table = await runCli(['mode', 'set', 'source_first', ...redis, '--table', 'shop.orders', '--json']);
    expect(table.code).toBe(0);
    expect(jsonLines(table.stdout).find((line) => line.type === 'summary')).toMatchObject({ outcome: 'switched', mode: 'source_first', table: 'shop.orders', revision: 3 });
    expect((await runCli(['mode', 'get', ...redis])).stdout).toMatch(/table modes: shop\.orders=source_first/);
  });

  it('sets the read-routing shares for the fleet: applied by the pool, merged, audited, and bad shares refused', async () => {
    const key = newKey();
    const redis = ['--redis', REDIS_URL, '--key', key];
    expect((await runCli(['mode', 'set', 'source_first', ...redis])).code).toBe(0);
    const pool = await fleetInstance(key, 'app-routing');

    const set = await runCli(['mode', 'routing', ...redis, '--shadow-read-percent', '1', '--gray-read-percent', '5%', '--wait', '--timeout-ms', '20000', '--actor', 'dana']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/read routing set to \{"grayReadPercent":5,"shadowReadPercent":1\} \(revision 2; mode stays source_first\)/);
    expect(pool.flagState.readRouting).toEqual({ grayReadPercent: 5, shadowReadPercent: 1 });
    expect(pool.mode).toBe('source_first');

    expect((await runCli(['mode', 'routing', ...redis, '--gray-read-percent', '0', '--wait'])).code).toBe(0);
    expect(pool.flagState.readRouting).toEqual({ grayReadPercent: 0, shadowReadPercent: 1 }); // the share not given keeps its value
    const audit = await runCli(['mode', 'audit', ...redis, '--limit', '1', '--json']);
    expect(jsonLines(audit.stdout).find((line) => line.type === 'audit')).toMatchObject({ outcome: 'switched', from: 'source_first', to: 'source_first', reason: 'read routing {"grayReadPercent":0,"shadowReadPercent":1}' });

    expectOneLineError(await runCli(['mode', 'routing', ...redis]), /needs --gray-read-percent, --shadow-read-percent or both/);
    expectOneLineError(await runCli(['mode', 'routing', ...redis, '--gray-read-percent', '150']), /--gray-read-percent must be a percentage from 0 to 100/);
    expect(pool.flagState.readRouting).toEqual({ grayReadPercent: 0, shadowReadPercent: 1 });
  });

  it('refuses bad input with one line (exit 2)', async () => {
    const key = newKey();
    const redis = ['--redis', REDIS_URL, '--key', key];
    expectOneLineError(await runCli(['mode', ...redis]), /say what to do: dualwrite mode get/);
    expectOneLineError(await runCli(['mode', 'flip', ...redis]), /unknown action "flip"/);
    expectOneLineError(await runCli(['mode', 'set', 'sideways', ...redis]), /unknown mode "sideways": use one of source_only, source_first, target_first, target_only/);
    expectOneLineError(await runCli(['mode', 'set', 'target_first', ...redis, '--table', 'orders']), /schema\.table/);
    expectOneLineError(await runCli(['mode', 'set', 'target_first', ...redis, '--watch-ms', '1000']), /--watch-ms needs a threshold/);
    expectOneLineError(await runCli(['mode', 'set', 'target_first', ...redis, '--require-verify-within', 'soon', '--target', db.targetUrl]), /--require-verify-within must be a duration/);
    expectOneLineError(await runCli(['mode', 'get']), /give exactly one of --redis URL/);
    expectOneLineError(await runCli(['mode', 'get', '--redis', 'http://x']), /--redis must be a redis:\/\/ URL/);
    const port = await closedPort();
    expectOneLineError(await runCli(['mode', 'get', '--redis', `redis://127.0.0.1:${port}`]), /cannot use Redis at redis:\/\/127\.0\.0\.1:\d+/);
    expect(await admin.exists(key)).toBe(0); // nothing was written by any of them
  });
});

describe('dualwrite mode (flag file)', () => {
  it('rewrites the file atomically, reads it back, and has no audit trail', async () => {
    const path = join(directory, 'flags.json');
    const set = await runCli(['mode', 'set', 'source_first', '--flags-file', path, '--actor', 'carol']);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/switched the pool from \(no file\) to source_first in .*flags\.json \(revision 1\); .*no acknowledgements with a file/);
    const table = await runCli(['mode', 'set', 'target_first', '--flags-file', path, '--table', 'shop.orders']);
    expect(table.code).toBe(0);
    const document = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    expect(document).toMatchObject({ mode: 'source_first', revision: 2, tableModes: { 'shop.orders': 'target_first' } });
    expect((await readdir(directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]); // the temporary file was renamed
    const get = await runCli(['mode', 'get', '--flags-file', path]);
    expect(get.stdout).toMatch(/^mode: source_first \(revision 2/m);
    expect(get.stdout).toMatch(/table modes: shop\.orders=target_first/);
    expectOneLineError(await runCli(['mode', 'audit', '--flags-file', path]), /the audit trail is kept in Redis/);
    expectOneLineError(await runCli(['mode', 'set', 'target_first', '--flags-file', path, '--wait']), /--wait needs --redis/);
    const routing = await runCli(['mode', 'routing', '--flags-file', path, '--shadow-read-percent', '2']);
    expect(routing.code).toBe(0);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({ mode: 'source_first', revision: 3, readRouting: { shadowReadPercent: 2 }, tableModes: { 'shop.orders': 'target_first' } });

    const yaml = join(directory, 'flags.yaml');
    await writeFile(yaml, '# kept by the fleet\nmode: source_first\nrevision: 4\nowner: team-db\n');
    expect((await runCli(['mode', 'get', '--flags-file', yaml])).stdout).toMatch(/^mode: source_first \(revision 4/m);
    expect((await runCli(['mode', 'set', 'target_first', '--flags-file', yaml])).code).toBe(0);
    expect(JSON.parse(await readFile(yaml, 'utf8'))).toMatchObject({ mode: 'target_first', revision: 5, owner: 'team-db' }); // rewritten as JSON, which is YAML too
  });
});
