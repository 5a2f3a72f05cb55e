/**
 * Gray reads: a share of pool-level reads served by the secondary side, sticky per routing key, kept on the
 * primary side for transactions and for a request's reads right after its writes, and falling back to the
 * primary side when the secondary fails. The two sides hold different data on purpose (`side` column), so each
 * answer says which side served it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidModeError, InvalidOptionError } from '../../src/errors.js';
import { FileFlagProvider } from '../../src/mode/file-flag-provider.js';
import { InMemoryFlagProvider } from '../../src/mode/in-memory-flag-provider.js';
import { parseFlagDocument } from '../../src/mode/redis-flag-document.js';
import type { Mode } from '../../src/mode/modes.js';
import { isGrayKey, runWithReadKey, type DualConnection } from '../../src/pool/index.js';
import type { DualPoolOptions } from '../../src/pool/options.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { until } from './helpers.js';

/** |observed − n·p| must stay within 6 standard deviations of a binomial(n, p): a false alarm about once in 10⁹ runs. */
function sixSigma(n: number, p: number): number {
  return 6 * Math.sqrt(n * p * (1 - p));
}

let db: TestDatabases;
const pools: DualPromisePool[] = [];

function open(mode: Mode, readRouting: DualPoolOptions['readRouting'], extra: Partial<DualPoolOptions> = {}): DualPromisePool {
  const pool = createPool({ source: { uri: db.sourceUrl, connectionLimit: 8 }, target: { uri: db.targetUrl, connectionLimit: 8 }, mode, readRouting, ...extra });
  pools.push(pool);
  return pool;
}

/** Which side answered `SELECT side FROM marker`. */
async function who(pool: DualPromisePool | { query: DualPromisePool['query'] }): Promise<string> {
  const [rows] = await pool.query<RowDataPacket[]>('SELECT side FROM marker WHERE id = ?', [1]);
  return String(rows[0]?.side);
}

beforeAll(async () => {
  db = await createTestDatabases('gray_reads');
  for (const [side, name] of [[db.source, 'source'], [db.target, 'target']] as const) {
    await side.query('CREATE TABLE marker (id INT PRIMARY KEY, side VARCHAR(16) NOT NULL)');
    await side.query('INSERT INTO marker VALUES (1, ?)', [name]);
    await side.query('CREATE TABLE notes (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(64) NOT NULL)');
  }
  // Only on the source: a gray read of it fails on the target.
  await db.source.query('CREATE TABLE source_only_table (id INT PRIMARY KEY)');
  await db.source.query('INSERT INTO source_only_table VALUES (7)');
});

afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.end()));
  await db?.drop();
});

describe('routing decisions', () => {
  it('put 30 % of 10,000 keys on the secondary within a 6-sigma binomial bound, and only move keys one way as the share grows', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);
    const gray = keys.filter((key) => isGrayKey(key, 30)).length;
    console.log(`gray keys at 30 %: ${gray} of 10000 (expected 3000 ± ${sixSigma(10_000, 0.3).toFixed(0)})`);
    expect(Math.abs(gray - 3000)).toBeLessThanOrEqual(sixSigma(10_000, 0.3));
    for (const [low, high] of [[0, 1], [10, 30], [30, 50], [50, 100]] as const) {
      for (const key of keys) if (isGrayKey(key, low)) expect(isGrayKey(key, high)).toBe(true);
    }
    expect(keys.some((key) => isGrayKey(key, 0))).toBe(false);
    expect(keys.every((key) => isGrayKey(key, 100))).toBe(true);
  });
});

describe('gray reads on real servers', () => {
  it('serve 30 % of 2,000 unkeyed reads from the target in source_first, within a 6-sigma bound', async () => {
    const pool = open('source_first', { grayReadPercent: 30 });
    const answers: string[] = [];
    for (let batch = 0; batch < 40; batch++) answers.push(...(await Promise.all(Array.from({ length: 50 }, () => who(pool)))));
    const onTarget = answers.filter((side) => side === 'target').length;
    console.log(`gray reads at 30 %: ${onTarget} of 2000 served by the target (expected 600 ± ${sixSigma(2000, 0.3).toFixed(0)})`);
    expect(answers.every((side) => side === 'source' || side === 'target')).toBe(true);
    expect(Math.abs(onTarget - 600)).toBeLessThanOrEqual(sixSigma(2000, 0.3));
    const stats = pool.stats();
    expect(stats.grayDecisions).toBe(2000);
    expect(stats.grayReads).toEqual({ source: 0, target: onTarget });
    expect(stats.grayFallbacks).toBe(0);
  });

  it('serve the source as the gray side in target_first, and nothing in the *_only modes', async () => {
    const reverse = open('target_first', { grayReadPercent: 100 });
    expect(await who(reverse)).toBe('source');
    for (const mode of ['source_only', 'target_only'] as const) {
      const pool = open(mode, { grayReadPercent: 100 });
      const answers = await Promise.all(Array.from({ length: 20 }, () => who(pool)));
      expect(new Set(answers)).toEqual(new Set([mode === 'source_only' ? 'source' : 'target']));
      expect(pool.stats().grayDecisions).toBe(0);
    }
  });

  it('keep each key on one side at a fixed share, and only move keys to the secondary when the flag state raises the share', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dw-gray-'));
    try {
      const path = join(dir, 'flags.json');
      await writeFile(path, JSON.stringify({ mode: 'source_first', readRouting: { grayReadPercent: 20 } }));
      const flags = new FileFlagProvider({ path, intervalMs: 50 });
      await flags.start();
      // The pool's own option says 0: the flag state overrides it.
      const pool = open('source_first', { grayReadPercent: 0 }, { flags });
      const keys = Array.from({ length: 200 }, (_, i) => `tenant-${i}`);
      const sideOf = async (key: string): Promise<string> => runWithReadKey(key, () => who(pool));
      const first = new Map<string, string>();
      for (const key of keys) first.set(key, await sideOf(key));
      for (let round = 0; round < 2; round++) {
        for (const key of keys) expect(await sideOf(key)).toBe(first.get(key));
      }
      for (const key of keys) expect(first.get(key)).toBe(isGrayKey(key, 20) ? 'target' : 'source');
      await writeFile(path, JSON.stringify({ mode: 'source_first', readRouting: { grayReadPercent: 50 } }));
      await until(() => pool.flagState.readRouting?.grayReadPercent === 50, 'the pool to apply the new gray share');
      let moved = 0;
      for (const key of keys) {
        const now = await sideOf(key);
        expect(now).toBe(isGrayKey(key, 50) ? 'target' : 'source');
        if (first.get(key) === 'target') expect(now).toBe('target');
        else if (now === 'target') moved++;
      }
      console.log(`raising the share from 20 % to 50 % moved ${moved} of ${keys.filter((k) => first.get(k) === 'source').length} source keys to the target`);
      expect(moved).toBeGreaterThan(0);
      await flags.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('take the routing key from the key option outside a runWithReadKey scope', async () => {
    let user: string | undefined;
    const pool = open('source_first', { grayReadPercent: 50, key: () => user });
    const keys = Array.from({ length: 40 }, (_, i) => `option-user-${i}`);
    for (const key of keys) {
      user = key;
      expect(await who(pool)).toBe(isGrayKey(key, 50) ? 'target' : 'source');
    }
    // A scope's key wins over the option's.
    user = keys.find((key) => !isGrayKey(key, 50));
    const grayKey = keys.find((key) => isGrayKey(key, 50)) as string;
    expect(await runWithReadKey(grayKey, () => who(pool))).toBe('target');
  });

  it("keep a request's reads on the primary while its write is recent, and route them again after the window", async () => {
    let clock = Date.now();
    const pool = open('source_first', { grayReadPercent: 100, readYourWritesMs: 5000 }, { now: () => clock });
    await runWithReadKey('alice', async () => {
      expect(await who(pool)).toBe('target');
      await pool.query('INSERT INTO notes (body) VALUES (?)', ['hello']);
      expect(await who(pool)).toBe('source');
      // A nested scope is the same request.
      expect(await runWithReadKey('bob', () => who(pool))).toBe('source');
      clock += 4999;
      expect(await who(pool)).toBe('source');
      clock += 2;
      expect(await who(pool)).toBe('target');
    });
    // Another request is not held by alice's write.
    await runWithReadKey('carol', async () => {
      expect(await who(pool)).toBe('target');
    });
  });

  it("keep a request's reads on the primary while its write is in flight, even with no window", async () => {
    const pool = open('source_first', { grayReadPercent: 100, readYourWritesMs: 0 });
    await runWithReadKey('erin', async () => {
      const write = pool.query('INSERT INTO notes (body) VALUES (?)', ['in flight']);
      // Issued before the write can have answered (its callback runs on a later turn of the event loop).
      const during = who(pool);
      await write;
      expect(await during).toBe('source');
      expect(await who(pool)).toBe('target');
    });
  });

  it('keep reads on a checked-out connection on its primary side, and hold the request until the connection is released', async () => {
    let clock = Date.now();
    const pool = open('source_first', { grayReadPercent: 100, readYourWritesMs: 1000 }, { now: () => clock });
    await runWithReadKey('dave', async () => {
      const connection = await pool.getConnection();
      try {
        await connection.beginTransaction();
        expect(await who(connection)).toBe('source');
        expect(await who(pool)).toBe('source');
        await connection.commit();
      } finally {
        connection.release();
      }
      // The pin is released once the connection's statements have finished; the window counts from then.
      await (connection.connection as unknown as DualConnection).finished;
      expect(await who(pool)).toBe('source');
      clock += 1001;
      expect(await who(pool)).toBe('target');
    });
  });

  it('retry a read the secondary fails on the primary, count it, and give the caller the primary answer', async () => {
    const pool = open('source_first', { grayReadPercent: 100 });
    const [rows] = await pool.query<RowDataPacket[]>('SELECT id FROM source_only_table');
    expect(rows).toEqual([{ id: 7 }]);
    expect(pool.stats().grayFallbacks).toBe(1);
    // An error on both sides reaches the caller: the primary's own.
    await expect(pool.query('SELECT * FROM no_such_table_anywhere')).rejects.toMatchObject({ code: 'ER_NO_SUCH_TABLE' });
    expect(pool.stats().grayFallbacks).toBe(2);
  });

  it('apply only to reads whose every table is in a dual-write mode (per-table modes)', async () => {
    await db.source.query('CREATE TABLE solo (id INT PRIMARY KEY, side VARCHAR(16) NOT NULL)');
    await db.target.query('CREATE TABLE solo (id INT PRIMARY KEY, side VARCHAR(16) NOT NULL)');
    await db.source.query("INSERT INTO solo VALUES (1, 'source')");
    await db.target.query("INSERT INTO solo VALUES (1, 'target')");
    const flags = new InMemoryFlagProvider('source_first', { tableModes: { [`${db.name}.solo`]: 'source_only' } });
    const pool = open('source_first', { grayReadPercent: 100 }, { flags });
    expect(await who(pool)).toBe('target');
    const [solo] = await pool.query<RowDataPacket[]>('SELECT side FROM solo WHERE id = 1');
    expect(solo[0]?.side).toBe('source');
    const [joined] = await pool.query<RowDataPacket[]>('SELECT m.side FROM marker m JOIN solo s ON s.id = m.id');
    expect(joined[0]?.side).toBe('source');
  });

  it('keep locking reads and reads of session state on the primary', async () => {
    const pool = open('source_first', { grayReadPercent: 100 });
    const [locked] = await pool.query<RowDataPacket[]>('SELECT side FROM marker WHERE id = 1 FOR UPDATE');
    expect(locked[0]?.side).toBe('source');
    expect(pool.stats().grayDecisions).toBe(0);
  });
});

describe('bad input', () => {
  it('refuses bad read-routing options and keys with a clear error', () => {
    const base = { source: { uri: 'mysql://u@127.0.0.1:1/x' }, target: { uri: 'mysql://u@127.0.0.1:1/x' } };
    expect(() => createPool({ ...base, readRouting: { grayReadPercent: 150 } })).toThrow(InvalidOptionError);
    expect(() => createPool({ ...base, readRouting: { shadowReadPercent: -1 } })).toThrow(/readRouting.shadowReadPercent.*percentage from 0 to 100/);
    expect(() => createPool({ ...base, readRouting: { readYourWritesMs: -5 } })).toThrow(InvalidOptionError);
    expect(() => createPool({ ...base, readRouting: { maxShadowReadsInFlight: 0 } })).toThrow(InvalidOptionError);
    expect(() => createPool({ ...base, readRouting: { key: 'user' as unknown as () => string } })).toThrow(/readRouting.key/);
    expect(() => createPool({ ...base, readRouting: { normalization: { floatDigits: 40 } } })).toThrow(/floatDigits/);
    expect(() => runWithReadKey({} as unknown as string, () => 1)).toThrow(/runWithReadKey key/);
    expect(() => parseFlagDocument('{"mode":"source_first","readRouting":{"shadowReadPercent":101}}', 'test')).toThrow(InvalidModeError);
    expect(parseFlagDocument('{"mode":"source_first","readRouting":{"grayReadPercent":5,"shadowReadPercent":1.5}}', 'test').readRouting).toEqual({ grayReadPercent: 5, shadowReadPercent: 1.5 });
  });
});
