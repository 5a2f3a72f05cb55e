import { afterAll, describe, expect, it } from 'vitest';
import { AdaptiveChunkSizer } from '../../src/migrate/chunk-size.js';
import { CheckpointStore } from '../../src/migrate/checkpoints.js';
import { backfill, customQuery, pauseFlag, replicaLagAbove, threadsRunningAbove, type BackfillProgress } from '../../src/migrate/backfill.js';
import type { ReplayFailure } from '../../src/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { seeded } from '../support/random.js';

const opened: TestDatabases[] = [];
async function databases(prefix: string): Promise<TestDatabases> {
  const db = await createTestDatabases(prefix);
  opened.push(db);
  return db;
}
afterAll(async () => {
  await Promise.allSettled(opened.map((db) => db.drop()));
});

async function count(pool: TestDatabases['source'], table: string): Promise<number> {
  const [rows] = await pool.query(`SELECT COUNT(*) AS n FROM \`${table}\``);
  return Number((rows as { n: number }[])[0]?.n);
}

describe('AdaptiveChunkSizer', () => {
  it('grows while chunks are fast, shrinks when slow, and stays within its bounds', () => {
    const sizer = new AdaptiveChunkSizer({ initialRows: 100, targetMs: 500, minRows: 10, maxRows: 1000 });
    expect(sizer.next).toBe(100);
    sizer.record(100, 10); // 10 rows/ms → wants 5000, grows at most ×2
    expect(sizer.next).toBe(200);
    sizer.record(200, 10);
    expect(sizer.next).toBe(400);
    sizer.record(400, 10);
    sizer.record(800, 10);
    expect(sizer.next).toBe(1000); // clamped to maxRows
    sizer.record(1000, 20_000); // very slow: shrinks at most ÷4 per chunk
    expect(sizer.next).toBe(250);
    for (let i = 0; i < 10; i++) sizer.record(sizer.next, 100_000);
    expect(sizer.next).toBe(10); // clamped to minRows
    expect(() => new AdaptiveChunkSizer({ minRows: 50, maxRows: 10 })).toThrow(/chunk.minRows/);
    expect(() => new AdaptiveChunkSizer({ initialRows: 0 })).toThrow(/chunk.initialRows/);
  });
});

it('copies tables with composite keys (negatives and zero), exact values, and a table missing on the target, into a differently named database', async () => {
  const from = await databases('backfill_copy_src');
  const to = await databases('backfill_copy_dst');
  const src = from.source;
  await src.query('CREATE TABLE pairs (a INT NOT NULL, b BIGINT NOT NULL, label VARCHAR(20) NOT NULL, PRIMARY KEY (a, b))');
  const typedDdl = 'CREATE TABLE typed (id INT NOT NULL PRIMARY KEY, ts TIMESTAMP(6) NULL, d DOUBLE NULL, doc JSON NULL, blob_value BLOB NULL, dt DATETIME(6) NULL)';
  await src.query(typedDdl);
  await src.query('CREATE TABLE fresh (k VARCHAR(10) NOT NULL PRIMARY KEY, n DECIMAL(30,10) NOT NULL) DEFAULT CHARSET=utf8mb4');
  await src.query('CREATE TABLE untouched (id INT PRIMARY KEY)'); // not selected: must not appear on the target
  const pairs: unknown[][] = [];
  for (let a = -6; a <= 6; a++) for (let b = -5; b <= 5; b++) pairs.push([a, b * 1_000_000_007, `p${a}:${b}`]);
  await src.query('INSERT INTO pairs VALUES ?', [pairs]);
  await src.query("SET time_zone = '+00:00'");
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  for (let i = 0; i < 60; i++) {
    await src.query(
      'INSERT INTO typed VALUES (?, FROM_UNIXTIME(?), 0.1 * ? + 0.2e0, ?, ?, ?)',
      [i - 30, 1_700_000_000 + i * 3601.123456, i, JSON.stringify({ b: i, a: '15.0', z: [1.5, 'Zoë 𝄞'] }).replace('"15.0"', '15.0'), i % 2 ? bytes : null, `2024-02-29 12:00:00.${String(i).padStart(6, '0')}`],
    );
  }
  // A TIMESTAMP key: chunk bounds travel as UTC text, so the keyset comparison needs +00:00 sessions.
  await src.query('CREATE TABLE stamps (at TIMESTAMP(6) NOT NULL PRIMARY KEY, v INT NOT NULL)');
  await src.query('INSERT INTO stamps VALUES ?', [Array.from({ length: 45 }, (_, i) => [`2024-03-31 00:${String(i).padStart(2, '0')}:00.${String(i * 7).padStart(6, '0')}`, i])]);
  await src.query("INSERT INTO fresh VALUES ('a', '-0.0000000001'), ('b', '12345678901234567890.0123456789'), ('', '0')");

  // The target database (another name) already has two of the tables; `pairs` already holds some rows,
  // as after dual-writes: backfill must skip them (INSERT IGNORE), not fail.
  const dst = to.target;
  await dst.query('CREATE TABLE pairs (a INT NOT NULL, b BIGINT NOT NULL, label VARCHAR(20) NOT NULL, PRIMARY KEY (a, b))');
  await dst.query(typedDdl);
  await dst.query('INSERT INTO pairs VALUES ?', [pairs.slice(40, 50)]);

  const progress: BackfillProgress[] = [];
  const report = await backfill({
    source: src,
    target: dst,
    tables: ['pairs', 'typ*', 'fresh', 'stamps'],
    chunk: { initialRows: 7, minRows: 5, maxRows: 40 },
    onProgress: (p) => progress.push(p),
  });
  expect(report.sourceSchema).toBe(from.name);
  expect(report.targetSchema).toBe(to.name);
  expect(report.done).toBe(true);
  expect(report.aborted).toBe(false);
  const byTable = Object.fromEntries(report.tables.map((t) => [t.table, t]));
  expect(Object.keys(byTable).sort()).toEqual(['fresh', 'pairs', 'stamps', 'typed']);
  expect(byTable.pairs).toMatchObject({ rowsRead: pairs.length, rowsInserted: pairs.length - 10, done: true, created: false, resumedFrom: null });
  expect(byTable.pairs!.chunks).toBeGreaterThan(3);
  expect(byTable.typed).toMatchObject({ rowsRead: 60, rowsInserted: 60, done: true, created: false });
  expect(byTable.fresh).toMatchObject({ rowsRead: 3, rowsInserted: 3, done: true, created: true });
  expect(byTable.stamps).toMatchObject({ rowsRead: 45, rowsInserted: 45, done: true, created: true });
  expect(byTable.stamps!.chunks).toBeGreaterThan(1);
  expect(report.rowsRead).toBe(pairs.length + 63 + 45);
  expect(progress.filter((p) => p.table === 'pairs').at(-1)).toMatchObject({ rowsCopied: pairs.length, etaSeconds: 0 });
  await expectSidesIdentical(src, dst, ['pairs', 'typed', 'fresh', 'stamps']);
  const [untouched] = await dst.query("SHOW TABLES LIKE 'untouched'");
  expect(untouched).toEqual([]);

  // The checkpoint of the composite key is its last key, exact.
  const checkpoint = await new CheckpointStore(dst).load('backfill', from.name, 'pairs');
  expect(checkpoint).toMatchObject({ after: ['6', '5000000035'], rowsCopied: pairs.length, done: true });
});

it('stays correct while a dual-write pool updates, deletes and inserts rows in the ranges being copied', async () => {
  const db = await databases('backfill_concurrent');
  const ddl = [
    'CREATE TABLE accounts (id INT NOT NULL PRIMARY KEY, balance INT NOT NULL, note VARCHAR(40) NOT NULL)',
    'CREATE TABLE entries (g INT NOT NULL, seq INT NOT NULL, v VARCHAR(20) NOT NULL, PRIMARY KEY (g, seq))',
  ];
  for (const side of [db.source, db.target]) for (const statement of ddl) await side.query(statement);
  const ROWS = 1500;
  // Even ids only, so the workers can insert into the gaps of ranges being copied.
  await db.source.query('INSERT INTO accounts VALUES ?', [Array.from({ length: ROWS }, (_, i) => [i * 2, 1000, `n${i}`])]);
  await db.source.query('INSERT INTO entries VALUES ?', [Array.from({ length: ROWS }, (_, i) => [Math.floor(i / 10) - 50, (i % 10) * 2, `e${i}`])]);

  // Before a row is copied, the target lacks it: a replayed UPDATE/DELETE of it affects 0 rows there, and the
  // pool records that as a divergence. The default circuit breaker must not count those (the target answered):
  // if it opened, the pool would stop replaying writes to rows already copied too.
  const pool: DualPromisePool = createPool({
    source: { uri: db.sourceUrl, connectionLimit: 12 },
    target: { uri: db.targetUrl, connectionLimit: 12 },
    mode: 'source_first',
  });
  const failures: ReplayFailure[] = [];
  pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));

  const seed = Number(process.env.DUALWRITE_TEST_SEED ?? Date.now() % 100000);
  console.info(`backfill concurrent workload seed ${seed} (set DUALWRITE_TEST_SEED to replay)`);
  let running = true;
  const skipped: string[] = [];
  let writes = 0;
  const IGNORED = new Set(['ER_DUP_ENTRY', 'ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
  const worker = async (n: number): Promise<void> => {
    const r = seeded(seed * 100 + n);
    while (running) {
      const id = Math.floor(r() * ROWS) * 2;
      const g = Math.floor(r() * (ROWS / 10)) - 50;
      const choice = Math.floor(r() * 7);
      try {
        if (choice === 0) await pool.query('UPDATE accounts SET balance = ?, note = ? WHERE id = ?', [Math.floor(r() * 1e6), `w${n}`, id]);
        else if (choice === 1) await pool.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id]);
        else if (choice === 2) await pool.query('DELETE FROM accounts WHERE id = ?', [id]);
        else if (choice === 3) await pool.query('INSERT INTO accounts VALUES (?, ?, ?)', [id + 1, n, `ins${n}`]);
        else if (choice === 4) await pool.query('UPDATE entries SET v = CONCAT(v, ?) WHERE g = ? AND seq = ?', [String(n), g, Math.floor(r() * 10) * 2]);
        else if (choice === 5) await pool.query('INSERT INTO entries VALUES (?, ?, ?)', [g, Math.floor(r() * 10) * 2 + 1, `i${n}`]);
        else await pool.query('DELETE FROM entries WHERE g = ? AND seq = ?', [g, Math.floor(r() * 10) * 2]);
        writes++;
      } catch (error) {
        const code = (error as { code?: string }).code ?? '';
        if (!IGNORED.has(code)) throw error;
        skipped.push(code);
      }
    }
  };
  const workers = Array.from({ length: 8 }, (_, i) => worker(i));
  try {
    // Let the workers start on rows the backfill has not reached.
    while (writes < 50) await new Promise((resolve) => setTimeout(resolve, 5));
    const report = await backfill({ source: db.source, target: db.target, chunk: { initialRows: 20, minRows: 10, maxRows: 60, targetMs: 20 }, concurrency: 2 });
    const writesDuringBackfill = writes;
    running = false;
    await Promise.all(workers);
    expect(report.done).toBe(true);
    expect(report.tables.every((t) => t.chunks > 10)).toBe(true);
    expect(writesDuringBackfill).toBeGreaterThan(200);
    await expectSidesIdentical(db.source, db.target, ['accounts', 'entries']);
    // The only replay failures allowed are replays of rows the backfill had not copied yet: 0 rows on the target.
    const unexpected = failures.filter(
      (f) => !(f.kind === 'statement' && (f.error as { code?: string; secondaryAffectedRows?: number } | null)?.code === 'ER_DUALWRITE_DIVERGENCE' && (f.error as { secondaryAffectedRows?: number }).secondaryAffectedRows === 0),
    );
    expect(unexpected.map((f) => `${f.kind}: ${f.error?.message ?? ''} — ${f.sql}`)).toEqual([]);
    expect(pool.stats().unrecordedFailures).toBe(0);
    console.info(
      `writes ${writes}, skipped ${skipped.length}, divergences on uncopied rows ${failures.length}, read ${report.rowsRead}, inserted ${report.rowsInserted}, chunks ${report.chunks}`,
    );
  } finally {
    running = false;
    await Promise.allSettled(workers);
    await pool.end();
  }
});

it('resumes after an abort from its checkpoint, and starts over with resume: false', async () => {
  const db = await databases('backfill_resume');
  await db.source.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL)');
  await db.source.query('INSERT INTO items VALUES ?', [Array.from({ length: 500 }, (_, i) => [i + 1, `v${i}`])]);
  const chunk = { initialRows: 50, minRows: 50, maxRows: 50 };
  const controller = new AbortController();
  let chunks = 0;
  const first = await backfill({
    source: db.source,
    target: db.target,
    job: 'resume-job',
    chunk,
    signal: controller.signal,
    onProgress: () => {
      if (++chunks === 3) controller.abort();
    },
  });
  expect(first).toMatchObject({ done: false, aborted: true, rowsRead: 150, chunks: 3 });
  expect(first.tables[0]).toMatchObject({ table: 'items', rowsRead: 150, done: false, created: true });
  const store = new CheckpointStore(db.target);
  expect(await store.load('resume-job', db.name, 'items')).toMatchObject({ after: ['150'], rowsCopied: 150, done: false });
  expect(await count(db.target, 'items')).toBe(150);

  const second = await backfill({ source: db.source, target: db.target, job: 'resume-job', chunk });
  expect(second.done).toBe(true);
  expect(second.tables[0]).toMatchObject({ resumedFrom: ['150'], resumedRows: 150, rowsRead: 350, rowsInserted: 350, rowsCopied: 500, created: false });
  expect(second.rowsRead).toBeLessThan(500);
  await expectSidesIdentical(db.source, db.target, 'items');

  // Done already: nothing is read again.
  const third = await backfill({ source: db.source, target: db.target, job: 'resume-job', chunk });
  expect(third).toMatchObject({ done: true, rowsRead: 0, chunks: 0 });

  // resume: false forgets the checkpoints: every row is read again, none inserted (the target has them).
  const again = await backfill({ source: db.source, target: db.target, job: 'resume-job', chunk, resume: false });
  expect(again.tables[0]).toMatchObject({ resumedFrom: null, resumedRows: 0, rowsRead: 500, rowsInserted: 0, done: true });
  await expectSidesIdentical(db.source, db.target, 'items');
});

it('waits while a throttle signal says pause, then completes', async () => {
  const db = await databases('backfill_throttle');
  await db.source.query('CREATE TABLE t (id INT NOT NULL PRIMARY KEY)');
  await db.source.query('INSERT INTO t VALUES ?', [Array.from({ length: 100 }, (_, i) => [i])]);
  // The flag is on until the copy has been seen waiting 6 times (one poll of 20 ms apart each).
  let paused = true;
  const events: BackfillProgress[] = [];
  const report = await backfill({
    source: db.source,
    target: db.target,
    throttle: [pauseFlag(() => paused, 'operator pause')],
    throttlePollMs: 20,
    chunk: { initialRows: 30, minRows: 30, maxRows: 30 },
    onProgress: (p) => {
      events.push(p);
      if (events.length === 6) paused = false;
    },
  });
  expect(report.done).toBe(true);
  const firstCopy = events.findIndex((e) => e.paused === undefined);
  expect(firstCopy).toBe(6);
  expect(events.slice(0, firstCopy).every((e) => e.paused === 'operator pause' && e.chunkRows === 0 && e.rowsCopied === 0)).toBe(true);
  expect(events.slice(firstCopy).map((e) => e.rowsCopied)).toEqual([30, 60, 90, 100]);
  expect(report.tables[0]!.pausedMs).toBeGreaterThanOrEqual(5 * 20);
  await expectSidesIdentical(db.source, db.target, 't');

  // The shipped signals, against a real server.
  expect(await threadsRunningAbove(db.source, 0)()).toMatchObject({ pause: true, reason: expect.stringMatching(/^Threads_running \d+ > 0$/) as unknown });
  expect(await threadsRunningAbove(db.source, 1_000_000)()).toEqual({ pause: false });
  expect(await replicaLagAbove(db.source, 5)()).toEqual({ pause: false }); // not a replica
  expect((await customQuery(db.source, 'SELECT COUNT(*) > 50 FROM t')()).pause).toBe(true);
  expect((await customQuery(db.source, 'SELECT 0')()).pause).toBe(false);
  expect((await customQuery(db.source, 'SELECT NULL')()).pause).toBe(false);
  expect((await customQuery(db.source, 'SELECT 1 FROM t WHERE id < 0')()).pause).toBe(false);
});

it('refuses a table without a primary key, a name or pattern matching nothing, and a missing target table when asked not to create it', async () => {
  const db = await databases('backfill_errors');
  await db.source.query('CREATE TABLE good (id INT PRIMARY KEY)');
  await db.source.query('CREATE TABLE heap_log (line VARCHAR(100))');
  await db.source.query('INSERT INTO good VALUES (1)');

  const noKey = backfill({ source: db.source, target: db.target });
  await expect(noKey).rejects.toMatchObject({ code: 'ER_DUALWRITE_INVALID_OPTION' });
  await expect(noKey).rejects.toThrow(`\`${db.name}\`.\`heap_log\` has none`);
  await expect(backfill({ source: db.source, target: db.target, tables: ['heap_*'] })).rejects.toThrow(/heap_log.*has none/);
  // Nothing was written before the refusal: not even the table that had a key.
  const [created] = await db.target.query("SHOW TABLES LIKE 'good'");
  expect(created).toEqual([]);

  await expect(backfill({ source: db.source, target: db.target, tables: ['good', 'nothing_*'] })).rejects.toThrow(/"nothing_\*".*the pattern matches none/);
  await expect(backfill({ source: db.source, target: db.target, tables: ['goods'] })).rejects.toThrow(/"goods".*no such base table/);
  await expect(backfill({ source: db.source, target: db.target, tables: ['good'], createMissingTables: false })).rejects.toMatchObject({
    code: 'ER_DUALWRITE_TABLE_NOT_FOUND',
  });
  await expect(backfill({ source: db.source, target: db.target, tables: ['good'], concurrency: 0 })).rejects.toThrow(/concurrency/);

  const report = await backfill({ source: db.source, target: db.target, tables: ['good'] });
  expect(report.tables[0]).toMatchObject({ table: 'good', rowsRead: 1, created: true, done: true });
  await expectSidesIdentical(db.source, db.target, 'good');
});
