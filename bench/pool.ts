/**
 * Dual-write pool figures, as ratios against raw mysql2 measured in the same run.
 *
 * Method (DESIGN.md, Conventions): on these 2-core machines two sequential runs of the very same code scatter by
 * ±30%, so every ratio here comes from a concurrent A/B run. Arm A (dualwrite) and arm B (the baseline) run at
 * the same time in this process, half the callers each, against the same servers; they start together, run for
 * a fixed window, and each arm counts the operations it completed inside the window. That is repeated
 * `WINDOWS` times after a short warm-up, and the figure is the median of the per-window ratios A/B. Whatever
 * disturbs one window (a checkpoint, the other process on the machine, GC) disturbs both arms alike.
 *
 * Each arm has its own tables (same definition, same preloaded rows) and its own mysql2 pools of
 * `CALLERS / 2` connections per side, so the arms only share what they would share in production: the
 * servers, the CPU and the event loop.
 *
 * Cases:
 * - `source_only` vs a raw mysql2 pool on the source (goal ≥ 0.97): point SELECT by PK, INSERT, UPDATE by PK.
 * - `source_first` vs a hand-written raw loop that writes the source, then the target with the same id
 *   (goal ≥ 0.80): INSERT (the loop writes the source's insertId explicitly on the target), UPDATE by PK.
 *   Diagnostic rows repeat both against a raw loop that, like the pool, holds a source transaction across the
 *   target write: they separate the pool's own overhead from the round trips its ordering guarantee costs.
 * - The clock pin: `source_first` `INSERT … NOW(6)` vs `source_first` INSERT with the time as a bound value.
 * - Row-image replay: `source_first` `INSERT IGNORE` vs `source_first` plain INSERT (the case says which
 *   replay the pool actually performed: row image, or a repair-log record).
 * - Hot rows: `CALLERS` callers updating 5 rows, `source_first` vs the raw loop (each arm its own 5 rows).
 * - Read routing: `source_first` point SELECT with shadow reads at 1 % (goal ≥ 0.95) and 100 %, and gray reads at
 *   30 %, vs the same pool without read routing.
 * - Intents: `source_first` with `intents: true` vs the same pool without, INSERT and UPDATE by PK.
 *
 * After every case whose arms write both sides, both sides of each arm's table are checked to be equal
 * (row count and a checksum of all rows, computed by each server), so a fast but wrong arm cannot pass.
 *
 * Settings (env): `DUALWRITE_SOURCE_URL`/`DUALWRITE_TARGET_URL` (else two private servers are started),
 * `DUALWRITE_BENCH_WINDOW_MS` (1200), `DUALWRITE_BENCH_WINDOWS` (7), `DUALWRITE_BENCH_WARMUP_MS` (1000),
 * `DUALWRITE_BENCH_POOL_GROUPS` (comma list of source_only, source_first, mechanisms, read_routing, intents; default all).
 */
import { randomBytes } from 'node:crypto';
import mysql, { type Pool, type PoolConnection, type ResultSetHeader, type RowDataPacket } from 'mysql2/promise';
import { createPool, type DualPromisePool, type Mode } from '../src/promise.js';
import { urlWithDatabase as withDatabase } from '../test/support/servers.js';
import { devServers } from '../test/support/dev-servers.js';
import { CALLERS, measure, PER_ARM, WARMUP_MS, WINDOW_MS, WINDOWS, type AbResult, type Op } from './ab.js';

const PRELOAD_ROWS = 10_000;
const HOT_ROWS = 5;

/** One row of the printed table. */
interface CaseRow {
  readonly label: string;
  readonly a: string;
  readonly b: string;
  /** `null` when the case stalled (see `notes`). */
  readonly result: AbResult | null;
  /** Lowest acceptable ratio, or null for a figure without a goal. */
  readonly goal: number | null;
  /** Extra facts (which replay ran, whether both sides agree). */
  readonly notes: string[];
}

/** Ends pools, giving up after 5 s (a stalled pool may never finish its queue). */
async function endAll(pools: readonly { end(): Promise<void> }[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, 5000);
  });
  await Promise.race([Promise.allSettled(pools.map((pool) => pool.end())), timeout]);
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------
// Tables, pools and checks

const TABLE_DDL = (name: string): string =>
  `CREATE TABLE \`${name}\` (
     id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     k INT NOT NULL,
     name VARCHAR(64) NOT NULL,
     qty INT NOT NULL,
     created_at DATETIME(6) NULL
   ) ENGINE=InnoDB`;

/** The bench database on both servers and raw admin pools on them. */
interface BenchContext {
  readonly sourceUrl: string;
  readonly targetUrl: string;
  readonly adminSource: Pool;
  readonly adminTarget: Pool;
}

/** Creates `name` on both servers, with `preload` identical rows (ids 1..preload) on both. */
async function freshTable(ctx: BenchContext, name: string, preload: number): Promise<void> {
  for (const admin of [ctx.adminSource, ctx.adminTarget]) {
    await admin.query(`DROP TABLE IF EXISTS \`${name}\``);
    await admin.query(TABLE_DDL(name));
    for (let from = 1; from <= preload; from += 1000) {
      const rows: unknown[][] = [];
      for (let id = from; id < Math.min(from + 1000, preload + 1); id++) rows.push([id, id % 97, `row ${id}`, 0, '2024-01-01 00:00:00.000000']);
      await admin.query(`INSERT INTO \`${name}\` (id, k, name, qty, created_at) VALUES ?`, [rows]);
    }
  }
}

/** Row count and a checksum of every row of `table`, computed by the server. */
async function fingerprint(admin: Pool, table: string): Promise<string> {
  const [rows] = await admin.query<RowDataPacket[]>(
    `SELECT COUNT(*) AS n, COALESCE(SUM(CRC32(CONCAT_WS('|', id, k, name, qty, IFNULL(created_at, 'NULL')))), 0) AS crc FROM \`${table}\``,
  );
  const row = rows[0] as { n: number | string; crc: number | string };
  return `${row.n} rows, crc ${row.crc}`;
}

/** `yes` when both sides of `table` hold the same rows, else what differs. */
async function sidesAgree(ctx: BenchContext, table: string): Promise<string> {
  const [source, target] = await Promise.all([fingerprint(ctx.adminSource, table), fingerprint(ctx.adminTarget, table)]);
  return source === target ? `yes (${source})` : `NO: source ${source}, target ${target}`;
}

function dualPool(ctx: BenchContext, mode: Mode, replayWhileLocked = true): DualPromisePool {
  return createPool({
    source: { uri: ctx.sourceUrl, connectionLimit: PER_ARM },
    target: { uri: ctx.targetUrl, connectionLimit: PER_ARM },
    mode,
    replayWhileLocked,
  });
}

function rawPool(url: string): Pool {
  return mysql.createPool({ uri: url, connectionLimit: PER_ARM });
}

const RAW_LOOP = 'raw loop: source, then target';
const RAW_TX_LOOP = 'raw loop: BEGIN on source, source, target, COMMIT source';

/**
 * Runs `work` inside a transaction on one connection of `source`, committed after `work` (which also writes the
 * target): the same shape as the pool's autocommit write, which holds the source's row locks until the replay is done.
 */
async function inSourceTransaction(source: Pool, work: (connection: PoolConnection) => Promise<void>): Promise<void> {
  const connection = await source.getConnection();
  try {
    await connection.query('START TRANSACTION');
    try {
      await work(connection);
    } catch (error) {
      await connection.query('ROLLBACK');
      throw error;
    }
    await connection.query('COMMIT');
  } finally {
    connection.release();
  }
}

const randomId = (): number => 1 + Math.floor(Math.random() * PRELOAD_ROWS);
const randomHot = (): number => 1 + Math.floor(Math.random() * HOT_ROWS);
const insertValues = (caller: number): [number, string, number] => [caller, `caller ${caller}`, 1];

// ---------------------------------------------------------------------------
// Cases

/** source_only vs a raw mysql2 pool on the source. */
async function sourceOnlyCases(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  const cases: { label: string; preload: number; op: (pool: Pool | DualPromisePool, table: string) => Op }[] = [
    {
      label: 'point SELECT by PK',
      preload: PRELOAD_ROWS,
      op: (pool, table) => () => pool.query(`SELECT id, k, name, qty, created_at FROM \`${table}\` WHERE id = ?`, [randomId()]),
    },
    {
      label: 'INSERT',
      preload: 0,
      op: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)),
    },
    {
      label: 'UPDATE by PK',
      preload: PRELOAD_ROWS,
      op: (pool, table) => () => pool.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [randomId()]),
    },
  ];
  for (const [i, c] of cases.entries()) {
    const [tableA, tableB] = [`so${i}_dual`, `so${i}_raw`];
    await freshTable(ctx, tableA, c.preload);
    await freshTable(ctx, tableB, c.preload);
    const dual = dualPool(ctx, 'source_only');
    const raw = rawPool(ctx.sourceUrl);
    try {
      const notes: string[] = [];
      const result = await measure(c.op(dual, tableA), c.op(raw, tableB), notes);
      if (c.preload === 0 || !c.label.startsWith('point SELECT')) {
        // Nothing may reach the target in source_only: its copy of the dual arm's table still equals its preload.
        const expected = c.preload === 0 ? '0 rows, crc 0' : await fingerprint(ctx.adminTarget, tableB);
        notes.push(`target untouched: ${(await fingerprint(ctx.adminTarget, tableA)) === expected ? 'yes' : 'NO'}`);
      }
      rows.push({ label: `source_only ${c.label}`, a: 'dualwrite source_only', b: 'raw mysql2 pool on source', result, goal: 0.97, notes });
    } finally {
      await endAll([dual, raw]);
    }
  }
  return rows;
}

/** source_first vs the hand-written raw loop: write the source, then the target with the same id. */
async function sourceFirstCases(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  const cases: {
    label: string;
    preload: number;
    /** What arm B is. */
    b: string;
    goal: number | null;
    /** `replayWhileLocked: false`: the faster option without the same-order guarantee. */
    unlocked?: boolean;
    dual: (pool: DualPromisePool, table: string) => Op;
    raw: (source: Pool, target: Pool, table: string) => Op;
  }[] = [
    {
      label: 'INSERT',
      preload: 0,
      b: RAW_LOOP,
      goal: 0.8,
      dual: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)),
      raw: (source, target, table) => async (caller) => {
        const values = insertValues(caller);
        const [result] = await source.query<ResultSetHeader>(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, values);
        await target.query(`INSERT INTO \`${table}\` (id, k, name, qty) VALUES (?, ?, ?, ?)`, [result.insertId, ...values]);
      },
    },
    {
      label: 'UPDATE by PK',
      preload: PRELOAD_ROWS,
      b: RAW_LOOP,
      goal: 0.8,
      dual: (pool, table) => () => pool.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [randomId()]),
      raw: (source, target, table) => async () => {
        const id = randomId();
        await source.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
        await target.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
      },
    },
    {
      label: 'INSERT, replayWhileLocked: false',
      preload: 0,
      b: RAW_LOOP,
      goal: 0.95,
      unlocked: true,
      dual: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)),
      raw: (source, target, table) => async (caller) => {
        const values = insertValues(caller);
        const [result] = await source.query<ResultSetHeader>(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, values);
        await target.query(`INSERT INTO \`${table}\` (id, k, name, qty) VALUES (?, ?, ?, ?)`, [result.insertId, ...values]);
      },
    },
    {
      label: 'UPDATE by PK, replayWhileLocked: false',
      preload: PRELOAD_ROWS,
      b: RAW_LOOP,
      goal: 0.95,
      unlocked: true,
      dual: (pool, table) => () => pool.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [randomId()]),
      raw: (source, target, table) => async () => {
        const id = randomId();
        await source.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
        await target.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
      },
    },
    {
      label: `hot rows: UPDATE of ${HOT_ROWS} rows`,
      preload: HOT_ROWS,
      b: RAW_LOOP,
      goal: null,
      dual: (pool, table) => () => pool.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [randomHot()]),
      raw: (source, target, table) => async () => {
        const id = randomHot();
        await source.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
        await target.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
      },
    },
    {
      label: 'INSERT (diagnostic: baseline holds a source transaction too)',
      preload: 0,
      b: RAW_TX_LOOP,
      goal: null,
      dual: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)),
      raw: (source, target, table) => (caller) =>
        inSourceTransaction(source, async (connection) => {
          const values = insertValues(caller);
          const [result] = await connection.query<ResultSetHeader>(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, values);
          await target.query(`INSERT INTO \`${table}\` (id, k, name, qty) VALUES (?, ?, ?, ?)`, [result.insertId, ...values]);
        }),
    },
    {
      label: 'UPDATE by PK (diagnostic: baseline holds a source transaction too)',
      preload: PRELOAD_ROWS,
      b: RAW_TX_LOOP,
      goal: null,
      dual: (pool, table) => () => pool.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [randomId()]),
      raw: (source, target, table) => () =>
        inSourceTransaction(source, async (connection) => {
          const id = randomId();
          await connection.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
          await target.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [id]);
        }),
    },
  ];
  for (const [i, c] of cases.entries()) {
    const [tableA, tableB] = [`sf${i}_dual`, `sf${i}_raw`];
    await freshTable(ctx, tableA, c.preload);
    await freshTable(ctx, tableB, c.preload);
    const dual = dualPool(ctx, 'source_first', c.unlocked !== true);
    const failures = countFailures(dual);
    const rawSource = rawPool(ctx.sourceUrl);
    const rawTarget = rawPool(ctx.targetUrl);
    try {
      const notes: string[] = [];
      const result = await measure(c.dual(dual, tableA), c.raw(rawSource, rawTarget, tableB), notes);
      notes.push(`both sides equal: dualwrite ${await sidesAgree(ctx, tableA)}; raw loop ${await sidesAgree(ctx, tableB)}`);
      notes.push(`replay failures: ${failures.total}`);
      rows.push({ label: `source_first ${c.label}`, a: 'dualwrite source_first', b: c.b, result, goal: c.goal, notes });
    } finally {
      await endAll([dual, rawSource, rawTarget]);
    }
  }
  return rows;
}

/** Counts the pool's `replayFailure` events, by failure kind. */
/**
 * Read routing (docs/read-routing.md): `source_first` point SELECTs with shadow reads at 1 % and 100 % and gray reads
 * at 30 %, against the same pool without read routing. Each arm has its own pools; both tables hold the same rows
 * on both sides (a shadow read that reports a mismatch is a bench error, shown in the notes).
 */
async function readRoutingCases(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  const cases: { label: string; readRouting: { shadowReadPercent?: number; grayReadPercent?: number }; goal: number | null }[] = [
    { label: 'point SELECT, shadow reads 1 %', readRouting: { shadowReadPercent: 1 }, goal: 0.95 },
    { label: 'point SELECT, shadow reads 100 %', readRouting: { shadowReadPercent: 100 }, goal: null },
    { label: 'point SELECT, gray reads 30 %', readRouting: { grayReadPercent: 30 }, goal: null },
  ];
  const select = (pool: DualPromisePool, table: string): Op => () => pool.query(`SELECT id, k, name, qty, created_at FROM \`${table}\` WHERE id = ?`, [randomId()]);
  for (const [i, c] of cases.entries()) {
    const [tableA, tableB] = [`rr${i}_routed`, `rr${i}_plain`];
    await freshTable(ctx, tableA, PRELOAD_ROWS);
    await freshTable(ctx, tableB, PRELOAD_ROWS);
    const options = { source: { uri: ctx.sourceUrl, connectionLimit: PER_ARM }, target: { uri: ctx.targetUrl, connectionLimit: PER_ARM }, mode: 'source_first' as const };
    const routed = createPool({ ...options, readRouting: { ...c.readRouting, maxShadowReadsInFlight: 64 } });
    const plain = createPool(options);
    try {
      const notes: string[] = [];
      const result = await measure(select(routed, tableA), select(plain, tableB), notes);
      const stats = routed.stats();
      notes.push(
        c.readRouting.shadowReadPercent !== undefined
          ? `shadow reads run ${stats.shadowReads}, dropped ${stats.shadowReadsDropped}, mismatched ${stats.shadowReadMismatches}`
          : `gray reads on target ${stats.grayReads.target} of ${stats.grayDecisions}`,
      );
      rows.push({ label: `source_first ${c.label}`, a: 'dualwrite with read routing', b: 'dualwrite without', result, goal: c.goal, notes });
    } finally {
      await endAll([routed, plain]);
    }
  }
  return rows;
}

/**
 * The cost of intent rows (option `intents`): `source_first` with intents vs the same pool without, INSERT and
 * UPDATE by PK. Arm A also holds the target's transaction until after the source's COMMIT, writes one intent row
 * in the source transaction and deletes it in a batch afterwards.
 */
async function intentCases(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  const cases: { label: string; preload: number; op: (pool: DualPromisePool, table: string) => Op }[] = [
    { label: 'INSERT', preload: 0, op: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)) },
    { label: 'UPDATE by PK', preload: PRELOAD_ROWS, op: (pool, table) => () => pool.query(`UPDATE \`${table}\` SET qty = qty + 1 WHERE id = ?`, [randomId()]) },
  ];
  for (const [i, c] of cases.entries()) {
    const [tableA, tableB] = [`in${i}_intents`, `in${i}_plain`];
    await freshTable(ctx, tableA, c.preload);
    await freshTable(ctx, tableB, c.preload);
    const options = { source: { uri: ctx.sourceUrl, connectionLimit: PER_ARM }, target: { uri: ctx.targetUrl, connectionLimit: PER_ARM }, mode: 'source_first' as const };
    const withIntents = createPool({ ...options, intents: true });
    const plain = createPool(options);
    const failures = countFailures(withIntents);
    try {
      const notes: string[] = [];
      const result = await measure(c.op(withIntents, tableA), c.op(plain, tableB), notes);
      await withIntents.end(); // sends the last batched deletes
      const [left] = await ctx.adminSource.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM dualwrite_repair_log WHERE kind = 'intent' AND repaired_at IS NULL");
      notes.push(`both sides equal: A ${await sidesAgree(ctx, tableA)}; B ${await sidesAgree(ctx, tableB)}`);
      notes.push(`replay failures with intents: ${failures.total}; intent rows left after end(): ${Number(left[0]?.n)}`);
      rows.push({ label: `source_first intents ${c.label}`, a: 'dualwrite intents: true', b: 'dualwrite without intents', result, goal: null, notes });
    } finally {
      await endAll([withIntents, plain]);
    }
  }
  return rows;
}

function countFailures(pool: DualPromisePool): { total: number; byKind: Map<string, number> } {
  const counts = { total: 0, byKind: new Map<string, number>() };
  pool.pool.on('replayFailure', (failure: { kind: string }) => {
    counts.total += 1;
    counts.byKind.set(failure.kind, (counts.byKind.get(failure.kind) ?? 0) + 1);
  });
  return counts;
}

/** The cost of one replay mechanism: the same pool setup, two statements, both `source_first`. */
async function mechanismCases(ctx: BenchContext): Promise<CaseRow[]> {
  const rows: CaseRow[] = [];
  const cases: {
    label: string;
    a: string;
    b: string;
    opA: (pool: DualPromisePool, table: string) => Op;
    opB: (pool: DualPromisePool, table: string) => Op;
    /** Runs once on arm A's pool before the warm-up; returns a note. */
    prepare?: (pool: DualPromisePool, table: string) => Promise<string>;
  }[] = [
    {
      label: 'clock pin: INSERT … NOW(6) vs INSERT with a bound time',
      a: 'INSERT … VALUES (?, …, NOW(6))',
      b: 'INSERT … VALUES (?, …, ?) with a Date',
      opA: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty, created_at) VALUES (?, ?, ?, NOW(6))`, insertValues(caller)),
      opB: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty, created_at) VALUES (?, ?, ?, ?)`, [...insertValues(caller), new Date()]),
    },
    {
      label: 'row image: INSERT IGNORE vs plain INSERT',
      a: 'INSERT IGNORE INTO …',
      b: 'INSERT INTO …',
      opA: (pool, table) => (caller) => pool.query(`INSERT IGNORE INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)),
      opB: (pool, table) => (caller) => pool.query(`INSERT INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(caller)),
      // Should the pool record the statement instead of replaying it, its first recorded write would create the
      // repair-log table through a second connection of the primary pool, which never comes while every connection
      // is held by a caller's open write (see bench/README.md). One write on the idle pool creates it first.
      prepare: async (pool, table) => {
        await pool.query(`INSERT IGNORE INTO \`${table}\` (k, name, qty) VALUES (?, ?, ?)`, insertValues(0));
        return 'one INSERT IGNORE was sent on the idle pool before the warm-up (it would create the repair-log table if the pool recorded the statement)';
      },
    },
  ];
  for (const [i, c] of cases.entries()) {
    const [tableA, tableB] = [`mx${i}_a`, `mx${i}_b`];
    await freshTable(ctx, tableA, 0);
    await freshTable(ctx, tableB, 0);
    const poolA = dualPool(ctx, 'source_first');
    const poolB = dualPool(ctx, 'source_first');
    const failuresA = countFailures(poolA);
    const failuresB = countFailures(poolB);
    try {
      const notes: string[] = [];
      if (c.prepare) notes.push(await c.prepare(poolA, tableA));
      const result = await measure(c.opA(poolA, tableA), c.opB(poolB, tableB), notes);
      if (c.label.startsWith('row image')) notes.unshift(describeReplay(poolA.stats(), failuresA));
      notes.push(`both sides equal: A ${await sidesAgree(ctx, tableA)}; B ${await sidesAgree(ctx, tableB)}`);
      notes.push(`replay failures: A ${failuresA.total}, B ${failuresB.total}`);
      rows.push({ label: `source_first ${c.label}`, a: c.a, b: c.b, result, goal: null, notes });
    } finally {
      await endAll([poolA, poolB]);
    }
  }
  return rows;
}

/** Says what the pool did with the INSERT IGNORE arm's writes, from its counters and events. */
function describeReplay(stats: ReturnType<DualPromisePool['stats']>, failures: { total: number; byKind: Map<string, number> }): string {
  const recorded = failures.byKind.get('recorded') ?? 0;
  const acknowledged = stats.acknowledgedWrites.source;
  if (stats.rowImageReplays > 0) {
    return `INSERT IGNORE went by ROW-IMAGE replay: ${stats.rowImageReplays} of ${acknowledged} writes`;
  }
  if (recorded > 0) {
    return (
      `INSERT IGNORE was NOT replayed: the pool ran it on the source only and RECORDED ${recorded} of ${acknowledged} writes ` +
      'in the repair log (row-image replay not integrated yet), so arm A measures "write + repair-log row", not a row image'
    );
  }
  return `INSERT IGNORE: ${stats.replayedWrites.target} replayed, ${stats.rowImageReplays} by row image, ${failures.total} failures`;
}

// ---------------------------------------------------------------------------
// Output

function fmtOps(ops: number): string {
  return ops >= 10_000 ? `${(ops / 1000).toFixed(1)}k` : ops.toFixed(0);
}

function printTable(rows: readonly CaseRow[]): void {
  console.log('| case | A | B | A ops/s | B ops/s | ratio A/B (min–max) | goal | result |');
  console.log('|---|---|---|---:|---:|---:|---:|---|');
  for (const row of rows) {
    const goal = row.goal === null ? '—' : `≥ ${row.goal.toFixed(2)}`;
    if (row.result === null) {
      console.log(`| ${row.label} | ${row.a} | ${row.b} | — | — | — | ${goal} | STALLED |`);
      continue;
    }
    const { ratio, spread, aOps, bOps } = row.result;
    const verdict = row.goal === null ? 'info' : ratio >= row.goal ? 'PASS' : 'FAIL';
    console.log(
      `| ${row.label} | ${row.a} | ${row.b} | ${fmtOps(aOps)} | ${fmtOps(bOps)} | ${ratio.toFixed(3)} (${spread[0].toFixed(2)}–${spread[1].toFixed(2)}) | ${goal} | ${verdict} |`,
    );
  }
  console.log('');
  for (const row of rows) {
    for (const note of row.notes) console.log(`- ${row.label}: ${note}`);
  }
}

/** Runs the pool benchmark and prints its table. */
export async function runPoolBench(): Promise<void> {
  console.log('\n## Dual-write pool (src/pool) vs raw mysql2, same run\n');
  const started = performance.now();
  const servers = await devServers('bench');
  const database = `dw_bench_${randomBytes(4).toString('hex')}`;
  try {
    for (const url of [servers.sourceUrl, servers.targetUrl]) {
      const connection = await mysql.createConnection({ uri: url });
      await connection.query(`CREATE DATABASE \`${database}\``).finally(() => connection.end());
    }
    const ctx: BenchContext = {
      sourceUrl: withDatabase(servers.sourceUrl, database),
      targetUrl: withDatabase(servers.targetUrl, database),
      adminSource: mysql.createPool({ uri: withDatabase(servers.sourceUrl, database), connectionLimit: 2 }),
      adminTarget: mysql.createPool({ uri: withDatabase(servers.targetUrl, database), connectionLimit: 2 }),
    };
    console.log(`${servers.description}`);
    console.log(
      `method: concurrent A/B, ${CALLERS} callers (${PER_ARM} per arm), ${WINDOWS} windows of ${WINDOW_MS} ms after a ${WARMUP_MS} ms warm-up, ` +
        'median of per-window ratios of completed operations; all statements via pool.query() with ? placeholders\n',
    );
    try {
      const groups: Record<string, (c: BenchContext) => Promise<CaseRow[]>> = {
        source_only: sourceOnlyCases,
        source_first: sourceFirstCases,
        mechanisms: mechanismCases,
        read_routing: readRoutingCases,
        intents: intentCases,
      };
      const only = (process.env.DUALWRITE_BENCH_POOL_GROUPS ?? '').split(',').filter((name) => name !== '');
      const unknown = only.filter((name) => !(name in groups));
      if (unknown.length > 0) throw new Error(`DUALWRITE_BENCH_POOL_GROUPS: unknown group(s) ${unknown.join(', ')}; known: ${Object.keys(groups).join(', ')}`);
      const rows: CaseRow[] = [];
      for (const [name, run] of Object.entries(groups)) if (only.length === 0 || only.includes(name)) rows.push(...(await run(ctx)));
      printTable(rows);
    } finally {
      await Promise.allSettled([ctx.adminSource.query(`DROP DATABASE \`${database}\``), ctx.adminTarget.query(`DROP DATABASE \`${database}\``)]);
      await Promise.allSettled([ctx.adminSource.end(), ctx.adminTarget.end()]);
    }
  } finally {
    await servers.close();
  }
  console.log(`\n(pool bench took ${((performance.now() - started) / 1000).toFixed(0)} s)`);
}
