import type { PoolConnection as CorePoolConnection } from 'mysql2';
import { createPool as createMysqlPool, type Pool } from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { AdaptiveChunkSizer } from '../../src/migrate/chunk-size.js';
import { CheckpointStore } from '../../src/migrate/checkpoints.js';
import { copyColumns } from '../../src/migrate/copy.js';
import { rowLiteralExpression } from '../../src/migrate/row-literals.js';
import { loadServerSettings, loadTable } from '../../src/schema/index.js';
import { backfill, customQuery, pauseFlag, replicaLagAbove, threadsRunningAbove, type BackfillProgress } from '../../src/migrate/backfill.js';
import type { ReplayFailure } from '../../src/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, spawnTestServer, testServers, type TestDatabases } from '../support/databases.js';
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
  it('grows while chunks are fast (×4 below a quarter of the target, else ×2), shrinks when slow, and stays within its bounds', () => {
    const sizer = new AdaptiveChunkSizer({ initialRows: 100, targetMs: 500, minRows: 10, maxRows: 1000 });
    expect(sizer.next).toBe(100);
    sizer.record(100, 10); // 10 rows/ms, 10 ms < 125 ms → wants 5000, grows at most ×4
    expect(sizer.next).toBe(400);
    sizer.record(400, 200); // 2 rows/ms, smoothed 6 → wants 3000; 200 ms ≥ 125 ms → at most ×2
    expect(sizer.next).toBe(800);
    sizer.record(800, 200);
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

it('resumes after an abort from its checkpoint, and starts over with resume: false (one lane)', async () => {
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
    pipeline: false,
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

  const second = await backfill({ source: db.source, target: db.target, job: 'resume-job', chunk, pipeline: false });
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

it('on two lanes, an abort in the middle lets the chunk in flight finish, and the resumed copy writes every row exactly once', async () => {
  const db = await databases('backfill_resume_lanes');
  await db.source.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL)');
  await db.source.query('INSERT INTO items VALUES ?', [Array.from({ length: 2000 }, (_, i) => [i + 1, `v${i}`])]);
  const chunk = { initialRows: 40, minRows: 40, maxRows: 40 };
  const store = new CheckpointStore(db.target);
  let inserted = 0;
  let runs = 0;
  // Abort each run after a few chunks, at a different point each time, until the copy is done.
  for (let report = null as Awaited<ReturnType<typeof backfill>> | null; report?.done !== true; ) {
    const controller = new AbortController();
    let chunks = 0;
    report = await backfill({
      source: db.source,
      target: db.target,
      job: 'lanes',
      chunk,
      signal: controller.signal,
      onProgress: () => {
        if (++chunks === 3 + (runs % 4)) controller.abort();
      },
    });
    runs++;
    inserted += report.rowsInserted;
    const table = report.tables[0]!;
    // The checkpoint covers exactly the rows on the target: every chunk up to it committed, none after it.
    const checkpoint = await store.load('lanes', db.name, 'items');
    const onTarget = await count(db.target, 'items');
    expect(checkpoint).toMatchObject({ after: [String(table.rowsCopied)], rowsCopied: table.rowsCopied, done: table.done });
    expect(onTarget).toBe(table.rowsCopied);
    expect(table.rowsRead).toBe(table.rowsInserted); // nothing was read twice
    expect(runs).toBeLessThan(100);
  }
  expect(runs).toBeGreaterThan(5);
  expect(inserted).toBe(2000);
  await expectSidesIdentical(db.source, db.target, 'items');
});

it('on two lanes, the checkpoint never moves past a chunk that is still being written, nor past one that failed', async () => {
  const db = await databases('backfill_gap');
  await db.source.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL)');
  await db.source.query('INSERT INTO items VALUES ?', [Array.from({ length: 600 }, (_, i) => [i + 1, i + 1 === 230 ? 'too long!' : `v${i + 1}`])]);
  // Row 230 does not fit the target's column: its chunk (201–250) will be refused.
  await db.target.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(5) NOT NULL)');
  // A transaction on the target holds row 225 (as a dual-write's replay would): the lane copying 201–250 waits
  // on it, while the other lane copies every chunk after it.
  const blocker = await db.target.getConnection();
  await blocker.query('START TRANSACTION');
  await blocker.query("INSERT INTO items VALUES (225, 'v225')");
  const store = new CheckpointStore(db.target);
  const state: { released: Promise<unknown> | null } = { released: null };
  const checkpoints: (number | undefined)[] = [];
  const copy = backfill({
    source: db.source,
    target: db.target,
    job: 'gap',
    chunk: { initialRows: 50, minRows: 50, maxRows: 50 },
    onProgress: (p) => {
      if (p.rowsCopied < 550 || state.released !== null) return;
      // Every chunk but 201–250 is committed: the checkpoint must still be at 200.
      state.released = store.load('gap', db.name, 'items').then(async (checkpoint) => {
        checkpoints.push(checkpoint?.rowsCopied);
        await blocker.query('COMMIT');
      });
    },
  });
  try {
    await expect(copy).rejects.toMatchObject({ code: 'ER_DUALWRITE_COPY_CHANGED_VALUE' });
    await state.released;
  } finally {
    blocker.release();
  }
  expect(checkpoints).toEqual([200]);
  expect(await store.load('gap', db.name, 'items')).toMatchObject({ after: ['200'], rowsCopied: 200, done: false });
  // On the target: 1–200, the blocker's 225, and 251–600, committed past the failed chunk but not claimed.
  expect(await count(db.target, 'items')).toBe(200 + 1 + 350);

  await db.target.query('ALTER TABLE items MODIFY v VARCHAR(10) NOT NULL');
  const resumed = await backfill({ source: db.source, target: db.target, job: 'gap', chunk: { initialRows: 50, minRows: 50, maxRows: 50 } });
  expect(resumed.tables[0]).toMatchObject({ resumedFrom: ['200'], resumedRows: 200, rowsRead: 400, rowsInserted: 49, rowsCopied: 600, done: true });
  await expectSidesIdentical(db.source, db.target, 'items');
});

it('writes a chunk again when InnoDB rolls its transaction back to break a deadlock', async () => {
  const db = await databases('backfill_deadlock');
  await db.source.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL)');
  await db.source.query('INSERT INTO items VALUES ?', [Array.from({ length: 100 }, (_, i) => [i + 1, `v${i + 1}`])]);
  await db.target.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(10) NOT NULL)');
  await db.target.query('CREATE TABLE ballast (id INT NOT NULL PRIMARY KEY)');
  // Another transaction on the target, heavier than a chunk (InnoDB rolls back the lighter one of a deadlock),
  // holds row 30 of the first chunk.
  const other = await db.target.getConnection();
  try {
    await other.query('START TRANSACTION');
    await other.query('INSERT INTO ballast VALUES ?', [Array.from({ length: 2000 }, (_, i) => [i])]);
    await other.query("INSERT INTO items VALUES (30, 'v30')");
    const copy = backfill({ source: db.source, target: db.target, tables: ['items'], chunk: { initialRows: 50, minRows: 50, maxRows: 50 }, pipeline: false });
    copy.catch(() => undefined);
    // The chunk's INSERT, having written rows 1–29, waits for row 30. (INNODB_TRX is refreshed only when it was not
    // read in the last 100 ms: poll slower than that.)
    for (let waited = 0; ; waited += 200) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [rows] = await db.target.query("SELECT COUNT(*) AS n FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' AND trx_query LIKE 'INSERT IGNORE INTO%'");
      if (Number((rows as { n: number }[])[0]?.n) > 0) break;
      if (waited > 20_000) throw new Error('the chunk never waited for row 30');
    }
    // Now the other transaction wants row 10, which the chunk holds: a deadlock, the chunk's transaction is rolled back,
    // and this INSERT goes through.
    await other.query("INSERT INTO items VALUES (10, 'v10')");
    // The chunk, written again, waits for rows 10 and 30 until the other transaction commits, then skips them.
    await other.query('COMMIT');
    const report = await copy;
    expect(report).toMatchObject({ done: true, rowsRead: 100, rowsInserted: 98 });
  } finally {
    other.release();
  }
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
  // Chunks of 30, 30, 30 and 10 rows, committed on two lanes (the last may commit before the third).
  const copied = events.slice(firstCopy).map((e) => e.rowsCopied);
  expect(copied).toHaveLength(4);
  expect(copied.at(-1)).toBe(100);
  expect(copied.every((n, i) => i === 0 || n > copied[i - 1]!)).toBe(true);
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

/** A pool on `url` whose sessions start with `setup` (SET statements), as an application's pool might. */
function poolWithSessions(url: string, setup: string): Pool {
  const pool = createMysqlPool({ uri: url, connectionLimit: 10 });
  // mysql2 emits its callback-style connection here (typed as the promise one): queued before any other statement.
  pool.on('connection', (connection) => {
    (connection as unknown as CorePoolConnection).query(setup);
  });
  return pool;
}

describe('every-type fidelity of the rendered rows', () => {
  /** One column of every type the source renders as literals, and how the oracle hashes it. */
  const COLUMNS: readonly { name: string; ddl: string; hash: 'text' | 'hex' | 'unix' | 'float' }[] = [
    { name: 'ti', ddl: 'TINYINT', hash: 'text' },
    { name: 'siu', ddl: 'SMALLINT UNSIGNED', hash: 'text' },
    { name: 'mi', ddl: 'MEDIUMINT', hash: 'text' },
    { name: 'i', ddl: 'INT', hash: 'text' },
    { name: 'zf', ddl: 'INT(6) UNSIGNED ZEROFILL', hash: 'text' },
    { name: 'bi', ddl: 'BIGINT', hash: 'text' },
    { name: 'biu', ddl: 'BIGINT UNSIGNED', hash: 'text' },
    { name: 'dec', ddl: 'DECIMAL(65,30)', hash: 'text' },
    { name: 'f', ddl: 'FLOAT', hash: 'float' },
    { name: 'd', ddl: 'DOUBLE', hash: 'text' },
    { name: 'b1', ddl: 'BIT(1)', hash: 'hex' },
    { name: 'b9', ddl: 'BIT(9)', hash: 'hex' },
    { name: 'b64', ddl: 'BIT(64)', hash: 'hex' },
    { name: 'dt', ddl: 'DATE', hash: 'text' },
    { name: 'dtm', ddl: 'DATETIME(6)', hash: 'text' },
    { name: 'ts', ddl: 'TIMESTAMP(6) NULL DEFAULT NULL', hash: 'unix' },
    { name: 'tm', ddl: 'TIME(6)', hash: 'text' },
    { name: 'yr', ddl: 'YEAR', hash: 'text' },
    { name: 'ch', ddl: 'CHAR(20) CHARACTER SET utf8mb4', hash: 'hex' },
    { name: 'vc', ddl: 'VARCHAR(300) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', hash: 'hex' },
    { name: 'vu', ddl: 'VARCHAR(60) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', hash: 'hex' },
    { name: 'tx', ddl: 'TEXT CHARACTER SET utf8mb4', hash: 'hex' },
    { name: 'l1', ddl: 'VARCHAR(300) CHARACTER SET latin1', hash: 'hex' },
    // Shift_JIS: 表 (95 5C) and ソ (83 5C) end in the byte of a backslash, which must not be escaped inside a character.
    { name: 'sj', ddl: 'VARCHAR(20) CHARACTER SET sjis', hash: 'hex' },
    { name: 'bn', ddl: 'BINARY(16)', hash: 'hex' },
    { name: 'vb', ddl: 'VARBINARY(300)', hash: 'hex' },
    { name: 'bl', ddl: 'BLOB', hash: 'hex' },
    { name: 'en', ddl: "ENUM('a','b','ç','😀','it''s')", hash: 'hex' },
    { name: 'st', ddl: "SET('x','y','z','😀')", hash: 'hex' },
    { name: 'js', ddl: 'JSON', hash: 'hex' },
    { name: 'geo', ddl: 'GEOMETRY', hash: 'hex' },
    { name: 'gen_s', ddl: "VARCHAR(400) AS (CONCAT(id, '-', vc)) PERSISTENT", hash: 'hex' },
    { name: 'gen_v', ddl: 'DOUBLE AS (d / 2) VIRTUAL', hash: 'text' },
  ];
  const written = COLUMNS.filter((c) => !c.name.startsWith('gen_'));
  const seed = Number(process.env.FIDELITY_SEED ?? Date.now() % 2 ** 31);
  const random = seeded(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)] as T;
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(0, 255)));
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const big = (bits: number): bigint => BigInt('0x' + bytes(bits / 8).toString('hex'));
  const finite = (read: () => number): number => {
    for (;;) {
      const value = read();
      if (Number.isFinite(value) && !Object.is(value, -0)) return value;
    }
  };
  const CHARS = ['a', 'Z', '0', ' ', 'é', 'ß', '中', '😀', '𝄞', '\u0301', '\u0000', '\u001a', "'", "''", '"', '\\', '\\\\', '\n', '\r', '\t', '%', '_', '?', ',', ')', '(', 'NULL', "X'00'"];
  const text = (max: number): string => [...Array.from({ length: int(0, max) }, () => pick(CHARS)).join('')].slice(0, max).join('');
  const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('hex');
  // (A lone 0x5C is left out: Shift_JIS maps it to U+005C and U+005C back to 0x815F, through any Unicode client.)
  const SJIS = ['955c', '835c', '41', '82a0', '27', '955c27'];
  type Seed = Record<string, string | number | null>;
  const randomRow = (): Seed => {
    const row: Seed = {
      ti: int(-128, 127),
      siu: int(0, 65535),
      mi: int(-8388608, 8388607),
      i: int(-2147483648, 2147483647),
      zf: int(0, 999999),
      bi: BigInt.asIntN(64, big(64)).toString(),
      biu: big(64).toString(),
      dec: `${random() < 0.5 ? '-' : ''}${big(112) % 10n ** 35n}.${pad(int(0, 999999), 6)}${pad(int(0, 999999), 6)}`,
      f: finite(() => bytes(4).readFloatLE(0)),
      d: finite(() => bytes(8).readDoubleLE(0)),
      b1: pick(['00', '01']),
      b9: pick(['0000', '0001', '0100', '01ff', '0080']),
      b64: bytes(8).toString('hex'),
      dt: `${int(1000, 9999)}-${pad(int(1, 12))}-${pad(int(1, 28))}`,
      dtm: `${int(1000, 9999)}-${pad(int(1, 12))}-${pad(int(1, 28))} ${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(int(0, 999999), 6)}`,
      ts: new Date(int(1, 2147483647) * 1000).toISOString().slice(0, 19).replace('T', ' ') + `.${pad(int(0, 999999), 6)}`,
      tm: `${random() < 0.5 ? '-' : ''}${int(0, 838)}:${pad(int(0, 59))}:${pad(int(0, 59))}.${pad(int(0, 999999), 6)}`,
      yr: int(1901, 2155),
      ch: text(20),
      vc: text(300),
      vu: text(60),
      tx: text(500),
      l1: bytes(int(0, 300)).toString('hex'),
      sj: Array.from({ length: int(0, 6) }, () => pick(SJIS)).join(''),
      bn: bytes(int(0, 16)).toString('hex'),
      vb: bytes(int(0, 300)).toString('hex'),
      bl: bytes(int(0, 2000)).toString('hex'),
      en: pick(['a', 'b', 'ç', '😀', "it's"]),
      st: ['x', 'y', 'z', '😀'].filter(() => random() < 0.5).join(','),
      js: pick(['{"b": 15.0, "a": [1, 2.50, -0.0, 1E+2, {"z": null, "y": "😀"}]}', '15.0', '[]', '"it\'s a \\"string\\" \\\\ with \\u00e9"', '[1.0, 100000000000000000000000000001]']),
      geo: pick(['POINT(1.5 -2.25)', `POINT(${(random() * 2e6 - 1e6).toFixed(9)} ${(random() * 2e6 - 1e6).toFixed(9)})`, 'POLYGON((0 0,10 0,10 10,0 10,0 0),(2 2,3 2,3 3,2 2))']),
    };
    for (const name of Object.keys(row)) if (random() < 0.1) row[name] = null;
    return row;
  };
  const expression = (name: string): string => {
    if (name === 'l1') return 'CONVERT(UNHEX(?) USING latin1)';
    if (name === 'sj') return 'CONVERT(UNHEX(?) USING sjis)';
    if (['b1', 'b9', 'b64', 'bn', 'vb', 'bl'].includes(name)) return 'UNHEX(?)';
    if (name === 'geo') return 'ST_GeomFromText(?)';
    return '?';
  };
  const hashes = async (pool: Pool, database: string): Promise<[number, string][]> => {
    const parts = COLUMNS.map((c) => {
      const ref = `\`${c.name}\``;
      return `IFNULL(${c.hash === 'hex' ? `HEX(${ref})` : c.hash === 'unix' ? `UNIX_TIMESTAMP(${ref})` : c.hash === 'float' ? `(${ref} + 0e0)` : ref}, 'NULL')`;
    });
    const [rows] = await pool.query({ sql: `SELECT id, SHA2(CONCAT_WS('#', id, ${parts.join(', ')}), 256) FROM \`${database}\`.t ORDER BY id`, rowsAsArray: true });
    return (rows as [number, string][]).map(([id, hash]) => [Number(id), String(hash)]);
  };

  it(`copies a column of every type byte for byte, on two lanes, between sessions in other time zones (seed ${seed})`, async () => {
    const db = await databases('backfill_fidelity');
    const mode = "SET SESSION sql_mode = 'STRICT_ALL_TABLES'";
    // The source reads in -08:00, the target writes in +05:30: TIMESTAMP values must not care.
    const source = poolWithSessions(db.sourceUrl, `${mode}, time_zone = '-08:00'`);
    const target = poolWithSessions(db.targetUrl, `${mode}, time_zone = '+05:30'`);
    try {
      // Created on both sides: SHOW CREATE TABLE (which creating a missing table uses) prints an emoji of an ENUM as '?'.
      const ddl = `CREATE TABLE t (id INT PRIMARY KEY, ${COLUMNS.map((c) => `\`${c.name}\` ${c.ddl}`).join(', ')}) DEFAULT CHARSET=utf8mb4`;
      await Promise.all([source.query(ddl), target.query(ddl)]);
      const allNull: Seed = Object.fromEntries(written.map((c) => [c.name, null]));
      const extremes: Seed = {
        ...randomRow(),
        ti: -128, siu: 65535, mi: 8388607, i: -2147483648, zf: 0, bi: '-9223372036854775808', biu: '18446744073709551615',
        dec: '-99999999999999999999999999999999999.999999999999999999999999999999', f: 3.4028234663852886e38, d: -Number.MAX_VALUE,
        b1: '01', b9: '01ff', b64: 'ffffffffffffffff', dt: '0000-00-00', dtm: '0000-00-00 00:00:00.000000', ts: '0000-00-00 00:00:00.000000',
        tm: '-838:59:59.000000', yr: 0, ch: '', vc: '\\'.repeat(300), vu: "'".repeat(60), tx: '😀'.repeat(16383), l1: ALL_BYTES, sj: SJIS.join(''),
        bn: '00'.repeat(16), vb: ALL_BYTES, bl: ALL_BYTES.repeat(255), en: "it's", st: '', js: '"\\u0000 \\\\ \'"',
      };
      const tiny: Seed = { ...randomRow(), dec: '0.000000000000000000000000000001', f: 1.401298464324817e-45, d: Number.MIN_VALUE, tm: '-00:00:00.000001', yr: 2155 };
      const rows = [allNull, extremes, tiny];
      while (rows.length < 150) rows.push(randomRow());
      const connection = await source.getConnection();
      try {
        await connection.query("SET time_zone = '+00:00'");
        const sql = `INSERT INTO t (id, ${written.map((c) => `\`${c.name}\``).join(', ')}) VALUES (?, ${written.map((c) => expression(c.name)).join(', ')})`;
        // The binary protocol sends a JS number as an 8-byte DOUBLE: random bit patterns arrive exactly.
        for (const [index, row] of rows.entries()) await connection.execute(sql, [index + 1, ...written.map((c) => row[c.name] ?? null)]);
      } finally {
        connection.release();
      }
      const metadata = await loadTable(db.source, db.name, 't', await loadServerSettings(db.source));
      expect(rowLiteralExpression(copyColumns(metadata))).not.toBeNull(); // the rendered path, not the codec's

      const report = await backfill({ source, target, sourceSchema: db.name, targetSchema: db.name, chunk: { initialRows: 7, minRows: 5, maxRows: 23 } });
      expect(report).toMatchObject({ done: true, rowsRead: rows.length, rowsInserted: rows.length });
      expect(report.chunks).toBeGreaterThan(6);
      const [sourceHashes, targetHashes] = await Promise.all([hashes(source, db.name), hashes(target, db.name)]);
      expect(targetHashes).toHaveLength(rows.length);
      const differing = sourceHashes.filter(([id, hash], i) => targetHashes[i]?.[0] !== id || targetHashes[i]?.[1] !== hash).map(([id]) => id);
      expect(differing).toEqual([]);
      await expectSidesIdentical(source, target, 't');
    } finally {
      await Promise.allSettled([source.end(), target.end()]);
    }
  });

  it('copies through the codec a table with a type that has no rendering, and a row too large to render within the source’s max_allowed_packet', async () => {
    // A source whose max_allowed_packet (1 MiB) is too small for the hex of a 700 KB BLOB, but not for the BLOB.
    const server = await spawnTestServer({ name: 'backfill-small-packet', settings: { max_allowed_packet: '1M' } });
    try {
      const db = await createTestDatabases('backfill_fallback', { servers: { sourceUrl: server.url, targetUrl: testServers().targetUrl } });
      opened.push(db);
      await db.source.query('CREATE TABLE big (id INT PRIMARY KEY, b LONGBLOB, note VARCHAR(20))');
      await db.source.query("INSERT INTO big VALUES (1, 'small', 'a'), (2, REPEAT(UNHEX('00FF5C27'), 180000), 'b'), (3, NULL, 'c'), (4, 'x', 'd')");
      const [version] = await db.source.query('SELECT VERSION() AS v');
      const mariadb = /mariadb/i.test(String((version as { v: string }[])[0]?.v));
      if (mariadb) {
        // INET6 (MariaDB 10.5+) has no rendering: the whole table goes through the codec.
        await db.source.query('CREATE TABLE addresses (id INT PRIMARY KEY, ip INET6 NOT NULL)');
        await db.source.query("INSERT INTO addresses VALUES (1, '::1'), (2, '2001:db8::ff00:42:8329'), (3, '::ffff:192.0.2.128')");
        const metadata = await loadTable(db.source, db.name, 'addresses', await loadServerSettings(db.source));
        expect(rowLiteralExpression(copyColumns(metadata))).toBeNull();
      }
      const report = await backfill({ source: db.source, target: db.target, chunk: { initialRows: 2, minRows: 2, maxRows: 2 } });
      expect(report.done).toBe(true);
      expect(report.tables.find((t) => t.table === 'big')).toMatchObject({ rowsRead: 4, rowsInserted: 4 });
      await expectSidesIdentical(db.source, db.target, mariadb ? ['big', 'addresses'] : ['big']);
    } finally {
      await server.destroy();
    }
  });

  it('refuses a target session whose sql_mode has NO_BACKSLASH_ESCAPES (escaped values would change)', async () => {
    const db = await databases('backfill_escapes');
    await db.source.query('CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(20))');
    await db.source.query("INSERT INTO t VALUES (1, 'back\\\\slash')");
    const target = poolWithSessions(db.targetUrl, "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
    try {
      await expect(backfill({ source: db.source, target })).rejects.toMatchObject({ code: 'ER_DUALWRITE_BACKSLASH_ESCAPES' });
      expect(await count(db.target, 't')).toBe(0);
    } finally {
      await target.end();
    }
  });
});
