/**
 * Every mode and every switch between modes, under 16 concurrent writers, with no lost or duplicated rows.
 *
 * A ledger records every write the pool acknowledged, with the mode it ran in (known exactly: the mode an
 * autocommit write gets is decided synchronously when it is issued, and a checked-out connection reports its
 * pinned mode), and is then checked row by row against both databases read directly. Also: primary-side errors
 * reach the caller unchanged.
 */
import type { Pool, ResultSetHeader } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mode, Side } from '../../src/mode/modes.js';
import type { DualConnection, ModeChange } from '../../src/pool/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { pick, rowsOf, seeded, sidesOf, splitKey, TransactionBarrier, until } from './helpers.js';

const WRITERS = 16;
const TABLES = ['orders', 'order_lines', 'stamps'] as const;
type Table = (typeof TABLES)[number];
/** The target numbers rows from here, the source from 1: a row numbered by the wrong side is visible at once. */
const TARGET_AUTO_INCREMENT = 5_000_000;

const DDL = [
  `CREATE TABLE orders (
     order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     tag VARCHAR(64) NOT NULL,
     v INT NOT NULL,
     KEY by_tag (tag)
   ) ENGINE=InnoDB`,
  `CREATE TABLE order_lines (
     region SMALLINT UNSIGNED NOT NULL,
     line_no INT UNSIGNED NOT NULL,
     tag VARCHAR(64) NOT NULL,
     v INT NOT NULL,
     PRIMARY KEY (region, line_no),
     KEY by_tag (tag)
   ) ENGINE=InnoDB`,
  `CREATE TABLE stamps (
     stamp_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     tag VARCHAR(64) NOT NULL,
     v INT NOT NULL,
     at DATETIME(6) NOT NULL,
     created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
     updated TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
     KEY by_tag (tag)
   ) ENGINE=InnoDB`,
];

async function createTables(db: TestDatabases): Promise<void> {
  for (const side of [db.source, db.target]) {
    for (const ddl of DDL) await side.query(ddl);
  }
  await db.target.query(`ALTER TABLE orders AUTO_INCREMENT = ${TARGET_AUTO_INCREMENT}`);
  await db.target.query(`ALTER TABLE stamps AUTO_INCREMENT = ${TARGET_AUTO_INCREMENT}`);
}

function openPool(db: TestDatabases, mode: Mode): DualPromisePool {
  return createPool({
    source: { uri: db.sourceUrl, connectionLimit: 24 },
    target: { uri: db.targetUrl, connectionLimit: 24 },
    mode,
    // Generous: this file asserts zero replay failures, which must not depend on how loaded the machine is.
    replayTimeoutMs: 20_000,
  });
}

// ---------------------------------------------------------------------------
// The ledger: what each side must hold, from the acknowledged writes alone.

interface RowState {
  readonly tag: string;
  readonly v: number;
}

/** An auto-increment ID the pool handed back, with where it came from. */
interface IssuedId {
  readonly table: Table;
  readonly id: number;
  readonly mode: Mode;
  readonly phase: number;
}

class Ledger {
  readonly expected: Record<Side, Record<Table, Map<string, RowState>>> = { source: tables(), target: tables() };
  readonly rolledBackTags = new Set<string>();
  readonly issued: IssuedId[] = [];
  inserts = 0;
  updates = 0;
  deletes = 0;
  commits = 0;
  rollbacks = 0;

  /** The row is on every side a write in `mode` touches (so the write affects the same row everywhere). */
  writable(mode: Mode, table: Table, key: string): boolean {
    return sidesOf(mode).every((side) => this.expected[side][table].has(key));
  }

  /** The row is on some side. */
  exists(table: Table, key: string): boolean {
    return this.expected.source[table].has(key) || this.expected.target[table].has(key);
  }

  insert(mode: Mode, table: Table, key: string, row: RowState): void {
    for (const side of sidesOf(mode)) {
      if (this.expected[side][table].has(key)) throw new Error(`ledger: ${table} ${key} acknowledged twice on ${side}`);
      this.expected[side][table].set(key, row);
    }
    this.inserts++;
  }

  update(mode: Mode, table: Table, key: string, v: number): void {
    for (const side of sidesOf(mode)) {
      const row = this.expected[side][table].get(key);
      if (row === undefined) throw new Error(`ledger: update of ${table} ${key}, which ${side} does not have`);
      this.expected[side][table].set(key, { ...row, v });
    }
    this.updates++;
  }

  remove(mode: Mode, table: Table, key: string): void {
    for (const side of sidesOf(mode)) this.expected[side][table].delete(key);
    this.deletes++;
  }
}

function tables(): Record<Table, Map<string, RowState>> {
  return { orders: new Map(), order_lines: new Map(), stamps: new Map() };
}

/** Reads a side and lists every difference from the ledger (empty when the side holds exactly what it must). */
async function ledgerProblems(side: Side, pool: Pool, ledger: Ledger): Promise<string[]> {
  const problems: string[] = [];
  const queries: Record<Table, string> = {
    orders: 'SELECT order_no AS k, tag, v FROM orders',
    order_lines: "SELECT CONCAT(region, ':', line_no) AS k, tag, v FROM order_lines",
    stamps: 'SELECT stamp_id AS k, tag, v FROM stamps WHERE at IS NOT NULL AND created IS NOT NULL AND updated IS NOT NULL',
  };
  for (const table of TABLES) {
    const rows = await rowsOf(pool, queries[table]);
    const [{ n }] = (await rowsOf(pool, `SELECT COUNT(*) AS n FROM ${table}`)) as [{ n: number }];
    if (Number(n) !== rows.length) problems.push(`${side} ${table}: ${Number(n) - rows.length} row(s) with a NULL time column`);
    const expected = ledger.expected[side][table];
    const seenTags = new Map<string, string>();
    const actual = new Map<string, RowState>();
    for (const row of rows) {
      const key = String(row.k);
      const state = { tag: String(row.tag), v: Number(row.v) };
      actual.set(key, state);
      const other = seenTags.get(state.tag);
      if (other !== undefined) problems.push(`${side} ${table}: tag ${state.tag} stored twice (keys ${other} and ${key})`);
      seenTags.set(state.tag, key);
      if (ledger.rolledBackTags.has(state.tag)) problems.push(`${side} ${table}: ${key} holds ${state.tag}, written by a rolled-back transaction`);
      const want = expected.get(key);
      if (want === undefined) problems.push(`${side} ${table}: unexpected row ${key} (${state.tag})`);
      else if (want.tag !== state.tag || want.v !== state.v) problems.push(`${side} ${table}: ${key} is ${state.tag}/${state.v}, acknowledged ${want.tag}/${want.v}`);
    }
    for (const [key, want] of expected) if (!actual.has(key)) problems.push(`${side} ${table}: acknowledged row ${key} (${want.tag}) is missing`);
  }
  return problems;
}

// ---------------------------------------------------------------------------
// The workload.

interface Workload {
  readonly pool: DualPromisePool;
  readonly ledger: Ledger;
  readonly barrier: TransactionBarrier;
  /** The mode of every write issued from now on: set in the same tick as `setMode()` is called. */
  mode: Mode;
  phase: number;
  stop: boolean;
  ops: number;
  nextValue: number;
  readonly errors: string[];
}

/** A pending change of a transaction, applied to the ledger only if COMMIT succeeds. */
type Change = (ledger: Ledger, mode: Mode) => void;

async function writer(work: Workload, w: number): Promise<void> {
  const random = seeded(7919 * (w + 1));
  const own: Record<Table, string[]> = { orders: [], order_lines: [], stamps: [] };
  const region = w + 1;
  let lineNo = 0;
  let tagNo = 0;
  const tag = (): string => `w${w}-${++tagNo}`;
  const value = (): number => ++work.nextValue;
  const { pool, ledger } = work;
  /** One of this writer's rows that a write in `mode` may touch, or undefined. */
  const candidate = (mode: Mode, table: Table): string | undefined => {
    const keys = own[table].filter((key) => ledger.writable(mode, table, key));
    return keys.length === 0 ? undefined : pick(random, keys);
  };
  const forget = (table: Table, key: string): void => {
    if (!ledger.exists(table, key)) own[table] = own[table].filter((k) => k !== key);
  };
  const generated = (mode: Mode, phase: number, table: Table, header: ResultSetHeader, rows: readonly RowState[]): Change[] => {
    expect(header.affectedRows).toBe(rows.length);
    return rows.map((row, i) => (l: Ledger, m: Mode) => {
      const id = header.insertId + i; // auto_increment_increment is 1 on the run's servers
      l.insert(m, table, String(id), row);
      l.issued.push({ table, id, mode, phase });
      own[table].push(String(id));
    });
  };

  const operations: ((mode: Mode) => Promise<Change[]>)[] = [
    // Multi-row INSERT with generated IDs through query() and a nested array (mysql2 expands it client-side).
    async (mode) => {
      const rows = Array.from({ length: 1 + Math.floor(random() * 4) }, () => ({ tag: tag(), v: value() }));
      const phase = work.phase;
      const [header] = await pool.query<ResultSetHeader>('INSERT INTO orders (tag, v) VALUES ?', [rows.map((r) => [r.tag, r.v])]);
      return generated(mode, phase, 'orders', header, rows);
    },
    // Multi-row INSERT with generated IDs through execute() (prepared statement).
    async (mode) => {
      const rows = Array.from({ length: 2 + Math.floor(random() * 3) }, () => ({ tag: tag(), v: value() }));
      const phase = work.phase;
      const [header] = await pool.execute<ResultSetHeader>(
        `INSERT INTO orders (tag, v) VALUES ${rows.map(() => '(?, ?)').join(', ')}`,
        rows.flatMap((r) => [r.tag, r.v]),
      );
      return generated(mode, phase, 'orders', header, rows);
    },
    // NOW(6) in an INSERT, DEFAULT CURRENT_TIMESTAMP(6) columns left to the server, generated IDs.
    async (mode) => {
      const rows = Array.from({ length: 1 + Math.floor(random() * 2) }, () => ({ tag: tag(), v: value() }));
      const phase = work.phase;
      const [header] = await pool.execute<ResultSetHeader>(
        `INSERT INTO stamps (tag, v, at) VALUES ${rows.map(() => '(?, ?, NOW(6))').join(', ')}`,
        rows.flatMap((r) => [r.tag, r.v]),
      );
      return generated(mode, phase, 'stamps', header, rows);
    },
    // Single INSERT into the composite-key table, explicit key.
    async () => {
      const row = { tag: tag(), v: value() };
      const key = ++lineNo;
      const [header] = await pool.query<ResultSetHeader>('INSERT INTO order_lines (region, line_no, tag, v) VALUES (?, ?, ?, ?)', [region, key, row.tag, row.v]);
      expect(header.affectedRows).toBe(1);
      return [(l, m) => (l.insert(m, 'order_lines', `${region}:${key}`, row), own.order_lines.push(`${region}:${key}`))];
    },
    // UPDATE … SET v = ? WHERE pk = ? on each table (the stamps one leaves ON UPDATE CURRENT_TIMESTAMP to the server).
    async (mode) => {
      const table = pick(random, TABLES);
      const key = candidate(mode, table);
      if (key === undefined) return [];
      const v = value();
      let header: ResultSetHeader;
      if (table === 'orders') [header] = await pool.execute<ResultSetHeader>('UPDATE orders SET v = ? WHERE order_no = ?', [v, Number(key)]);
      else if (table === 'stamps') [header] = await pool.query<ResultSetHeader>('UPDATE stamps SET v = ? WHERE stamp_id = ?', [v, Number(key)]);
      else {
        const [r, n] = splitKey(key);
        [header] = await pool.execute<ResultSetHeader>('UPDATE order_lines SET v = ? WHERE region = ? AND line_no = ?', [v, r, n]);
      }
      expect(header.affectedRows).toBe(1);
      return [(l, m) => l.update(m, table, key, v)];
    },
    // DELETE by primary key.
    async (mode) => {
      const table = pick(random, TABLES);
      const key = candidate(mode, table);
      if (key === undefined) return [];
      let header: ResultSetHeader;
      if (table === 'orders') [header] = await pool.query<ResultSetHeader>('DELETE FROM orders WHERE order_no = ?', [Number(key)]);
      else if (table === 'stamps') [header] = await pool.execute<ResultSetHeader>('DELETE FROM stamps WHERE stamp_id = ?', [Number(key)]);
      else {
        const [r, n] = splitKey(key);
        [header] = await pool.execute<ResultSetHeader>('DELETE FROM order_lines WHERE region = ? AND line_no = ?', [r, n]);
      }
      expect(header.affectedRows).toBe(1);
      return [(l, m) => (l.remove(m, table, key), forget(table, key))];
    },
  ];

  /**
   * A transaction on a checked-out connection. With auto-increment INSERTs it holds the barrier (see
   * TransactionBarrier); the explicit-key kind does not, so it may straddle a switch in its pinned mode.
   */
  const transaction = async (withIds: boolean): Promise<void> => {
    if (withIds) await work.barrier.enter();
    try {
      const connection = await pool.getConnection();
      const mode = (connection.connection as unknown as DualConnection).mode;
      const phase = work.phase;
      const changes: Change[] = [];
      const tags: string[] = [];
      let finished = false;
      try {
        await connection.beginTransaction();
        if (withIds) {
          const rows = [{ tag: tag(), v: value() }, { tag: tag(), v: value() }];
          tags.push(...rows.map((r) => r.tag));
          const [header] = await connection.execute<ResultSetHeader>('INSERT INTO orders (tag, v) VALUES (?, ?), (?, ?)', rows.flatMap((r) => [r.tag, r.v]));
          changes.push(...generated(mode, phase, 'orders', header, rows));
          const stamp = { tag: tag(), v: value() };
          tags.push(stamp.tag);
          const [stamped] = await connection.query<ResultSetHeader>('INSERT INTO stamps (tag, v, at) VALUES (?, ?, NOW(6))', [stamp.tag, stamp.v]);
          changes.push(...generated(mode, phase, 'stamps', stamped, [stamp]));
          const key = candidate(mode, 'orders');
          if (key !== undefined) {
            const v = value();
            const [updated] = await connection.execute<ResultSetHeader>('UPDATE orders SET v = ? WHERE order_no = ?', [v, Number(key)]);
            expect(updated.affectedRows).toBe(1);
            changes.push((l, m) => l.update(m, 'orders', key, v));
          }
        } else {
          for (let i = 0; i < 2; i++) {
            const row = { tag: tag(), v: value() };
            tags.push(row.tag);
            const key = ++lineNo;
            await connection.execute('INSERT INTO order_lines (region, line_no, tag, v) VALUES (?, ?, ?, ?)', [region, key, row.tag, row.v]);
            changes.push((l, m) => (l.insert(m, 'order_lines', `${region}:${key}`, row), own.order_lines.push(`${region}:${key}`)));
          }
          const key = candidate(mode, 'order_lines');
          if (key !== undefined) {
            const [r, n] = splitKey(key);
            if (random() < 0.5) {
              const v = value();
              await connection.query('UPDATE order_lines SET v = ? WHERE region = ? AND line_no = ?', [v, r, n]);
              changes.push((l, m) => l.update(m, 'order_lines', key, v));
            } else {
              await connection.query('DELETE FROM order_lines WHERE region = ? AND line_no = ?', [r, n]);
              changes.push((l, m) => (l.remove(m, 'order_lines', key), forget('order_lines', key)));
            }
          }
        }
        if (random() < 0.25) {
          await connection.rollback();
          for (const t of tags) ledger.rolledBackTags.add(t);
          ledger.rollbacks++;
        } else {
          await connection.commit();
          for (const change of changes) change(ledger, mode);
          ledger.commits++;
        }
        finished = true;
      } finally {
        if (!finished) await connection.rollback().catch(() => undefined);
        connection.release();
      }
    } finally {
      if (withIds) work.barrier.leave();
    }
  };

  while (!work.stop) {
    const roll = random();
    try {
      if (roll < 0.1) await transaction(true);
      else if (roll < 0.18) await transaction(false);
      else {
        const mode = work.mode; // read in the same tick as the statement is issued
        const changes = await pick(random, operations)(mode);
        for (const change of changes) change(ledger, mode);
      }
      work.ops++;
    } catch (error) {
      work.errors.push(`writer ${w}: ${(error as Error).message}`);
      if (work.errors.length > 20) work.stop = true;
    }
  }
}

/** Runs 16 writers while walking `walk` (each switch after `opsPerPhase` acknowledged operations). */
async function runWorkload(pool: DualPromisePool, ledger: Ledger, walk: readonly Mode[], opsPerPhase: number): Promise<{ switches: ModeChange[]; failures: ReplayFailure[] }> {
  const switches: ModeChange[] = [];
  const failures: ReplayFailure[] = [];
  pool.pool.on('modeChange', (change: ModeChange) => switches.push(change));
  pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  const work: Workload = { pool, ledger, barrier: new TransactionBarrier(), mode: pool.mode, phase: 0, stop: false, ops: 0, nextValue: 0, errors: [] };
  const writers = Array.from({ length: WRITERS }, (_, w) => writer(work, w));
  try {
    for (const next of [...walk, null]) {
      const mark = work.ops;
      await until(() => work.ops >= mark + opsPerPhase || work.stop, `${opsPerPhase} operations in ${work.mode}`);
      if (next === null || work.stop) break;
      await work.barrier.lock();
      work.phase++;
      work.mode = next;
      const applied = pool.setMode(next); // synchronously in force for every write issued after this line
      await applied;
      work.barrier.unlock();
      expect(pool.mode).toBe(next);
    }
  } finally {
    work.stop = true;
    await Promise.all(writers);
  }
  expect(work.errors).toEqual([]);
  return { switches, failures };
}

/** Rows in the repair log of a side (the pool may create the table before any failure; an absent table is 0 rows). */
async function repairLogRows(pool: Pool, name: string): Promise<number> {
  const tables = await rowsOf(pool, 'SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?', [name, 'dualwrite_repair_log']);
  if (Number(tables[0]?.n) === 0) return 0;
  const rows = await rowsOf(pool, `SELECT COUNT(*) AS n FROM \`${name}\`.dualwrite_repair_log`);
  return Number(rows[0]?.n);
}

// ---------------------------------------------------------------------------

describe('every mode and every switch between modes under 16 concurrent writers', () => {
  const dbs: TestDatabases[] = [];
  const pools: DualPromisePool[] = [];
  afterAll(async () => {
    await Promise.allSettled(pools.map((pool) => pool.end()));
    await Promise.allSettled(dbs.map((db) => db.drop()));
  });

  it('walks source_only → source_first → target_first → target_only → target_first → source_first → source_only with no lost or duplicated rows', async () => {
    const db = await createTestDatabases('modes_walk');
    dbs.push(db);
    await createTables(db);
    const pool = openPool(db, 'source_only');
    pools.push(pool);
    const ledger = new Ledger();
    const walk: Mode[] = ['source_first', 'target_first', 'target_only', 'target_first', 'source_first', 'source_only'];
    const { switches, failures } = await runWorkload(pool, ledger, walk, 70);

    expect(switches.map((s) => `${s.from}→${s.to}`)).toEqual(walk.map((to, i) => `${i === 0 ? 'source_only' : walk[i - 1]}→${to}`));
    expect(ledger.inserts).toBeGreaterThan(200);
    expect(ledger.updates).toBeGreaterThan(20);
    expect(ledger.deletes).toBeGreaterThan(20);
    expect(ledger.commits).toBeGreaterThan(10);
    expect(ledger.rollbacks).toBeGreaterThan(2);
    // Each side holds exactly the acknowledged rows written to it: none lost, none twice, nothing rolled back,
    // and every generated ID the caller got back is the ID stored.
    expect([...(await ledgerProblems('source', db.source, ledger)), ...(await ledgerProblems('target', db.target, ledger))]).toEqual([]);
    // Rows are numbered by the primary side only: the source (from 1) in source_*, the target (from 5,000,000) in target_*.
    const misnumbered = ledger.issued.filter((i) => (i.mode.startsWith('source') ? i.id >= TARGET_AUTO_INCREMENT : i.id < TARGET_AUTO_INCREMENT) && i.phase <= 4);
    expect(misnumbered).toEqual([]);
    expect(failures.map((f) => `${f.kind} ${f.sql}: ${f.error?.message ?? ''}`)).toEqual([]);
    expect(pool.stats()).toMatchObject({ replayFailures: { source: 0, target: 0 }, unrecordedFailures: 0, refusedWrites: 0 });
  });

  it('keeps both sides identical through source_first ⇄ target_first switches, numbering rows on the primary side only', async () => {
    const db = await createTestDatabases('modes_dual');
    dbs.push(db);
    await createTables(db);
    await expectSidesIdentical(db.source, db.target, [...TABLES]); // both empty
    const pool = openPool(db, 'source_first');
    pools.push(pool);
    const ledger = new Ledger();
    const walk: Mode[] = ['target_first', 'source_first', 'target_first', 'source_first'];
    const { switches, failures } = await runWorkload(pool, ledger, walk, 80);

    expect(switches.map((s) => s.to)).toEqual(walk);
    expect(ledger.inserts).toBeGreaterThan(200);
    expect(ledger.commits).toBeGreaterThan(10);
    expect(ledger.rollbacks).toBeGreaterThan(2);
    await expectSidesIdentical(db.source, db.target, [...TABLES]);
    expect([...(await ledgerProblems('source', db.source, ledger)), ...(await ledgerProblems('target', db.target, ledger))]).toEqual([]);
    // Before the first switch only the source numbered rows (from 1); the target's own counter starts at 5,000,000,
    // so a row the target numbered itself would differ from the source's (and show up here and above).
    const firstStretch = ledger.issued.filter((i) => i.phase === 0);
    expect(firstStretch.length).toBeGreaterThan(20);
    expect(firstStretch.filter((i) => i.id >= TARGET_AUTO_INCREMENT)).toEqual([]);
    expect(ledger.issued.filter((i) => i.phase === 1 && i.mode === 'target_first' && i.id < TARGET_AUTO_INCREMENT)).toEqual([]);
    expect(failures.map((f) => `${f.kind} ${f.sql}: ${f.error?.message ?? ''}`)).toEqual([]);
    const stats = pool.stats();
    expect(stats).toMatchObject({ replayFailures: { source: 0, target: 0 }, unrecordedFailures: 0, refusedWrites: 0 });
    expect(stats.acknowledgedWrites.source).toBeGreaterThan(0);
    expect(stats.acknowledgedWrites.target).toBeGreaterThan(0);
    // Nothing was ever recorded for repair on either side.
    expect(await repairLogRows(db.source, db.name)).toBe(0);
    expect(await repairLogRows(db.target, db.name)).toBe(0);
  });
});

describe('primary errors reach the caller unchanged', () => {
  let db: TestDatabases;
  let pool: DualPromisePool;
  beforeAll(async () => {
    db = await createTestDatabases('modes_errors');
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE dupes (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)');
      await side.query('CREATE TABLE coded (code_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) NOT NULL, UNIQUE KEY by_code (code))');
      await side.query('INSERT INTO dupes VALUES (1, 10), (2, 20)');
      await side.query("INSERT INTO coded (code) VALUES ('taken')");
    }
    pool = openPool(db, 'source_first');
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  const statements: [string, 'query' | 'execute', string, (string | number)[]][] = [
    ['a duplicate primary key through query()', 'query', 'INSERT INTO dupes (id, v) VALUES (?, ?)', [1, 11]],
    ['a duplicate primary key through execute()', 'execute', 'INSERT INTO dupes (id, v) VALUES (?, ?), (?, ?)', [3, 30, 2, 21]],
    ['a duplicate unique key in an INSERT with a generated ID', 'execute', 'INSERT INTO coded (code) VALUES (?)', ['taken']],
    ['a duplicate key in an UPDATE', 'query', 'UPDATE dupes SET id = ? WHERE id = ?', [1, 2]],
    ['an unknown table', 'query', 'INSERT INTO no_such_table (a) VALUES (?)', [1]],
    ['an unknown column', 'execute', 'UPDATE dupes SET no_such_column = ? WHERE id = ?', [1, 1]],
  ];

  for (const mode of ['source_first', 'target_first'] as const) {
    for (const [what, method, sql, values] of statements) {
      it(`${mode}: ${what} rejects with the primary side's own error, and the secondary side is untouched`, async () => {
        await pool.setMode(mode);
        const primary = mode === 'source_first' ? db.source : db.target;
        const before = await Promise.all([rowsOf(db.source, 'SELECT * FROM dupes ORDER BY id'), rowsOf(db.target, 'SELECT * FROM dupes ORDER BY id')]);
        const raw = (await (method === 'query' ? primary.query(sql, values) : primary.execute(sql, values)).then(
          () => null,
          (error: unknown) => error,
        )) as (Error & Record<string, unknown>) | null;
        const dual = (await (method === 'query' ? pool.query(sql, values) : pool.execute(sql, values)).then(
          () => null,
          (error: unknown) => error,
        )) as (Error & Record<string, unknown>) | null;
        expect(raw).not.toBeNull();
        expect(dual).not.toBeNull();
        expect(dual?.constructor).toBe(raw?.constructor);
        expect({ code: dual?.code, errno: dual?.errno, sqlState: dual?.sqlState, sqlMessage: dual?.sqlMessage, message: dual?.message }).toEqual({
          code: raw?.code,
          errno: raw?.errno,
          sqlState: raw?.sqlState,
          sqlMessage: raw?.sqlMessage,
          message: raw?.message,
        });
        expect(dual?.code).not.toMatch(/^ER_DUALWRITE/);
        // Nothing changed on either side, nothing was replayed or recorded.
        expect(await Promise.all([rowsOf(db.source, 'SELECT * FROM dupes ORDER BY id'), rowsOf(db.target, 'SELECT * FROM dupes ORDER BY id')])).toEqual(before);
        await expectSidesIdentical(db.source, db.target, ['dupes', 'coded']);
        expect(pool.stats()).toMatchObject({ replayedWrites: { source: 0, target: 0 }, replayFailures: { source: 0, target: 0 }, acknowledgedWrites: { source: 0, target: 0 } });
        expect(await repairLogRows(db.source, db.name)).toBe(0);
        expect(await repairLogRows(db.target, db.name)).toBe(0);
      });
    }
  }
});

describe('stats() after a committed transaction', () => {
  let db: TestDatabases;
  let pool: DualPromisePool;
  beforeAll(async () => {
    db = await createTestDatabases('modes_stats');
    for (const side of [db.source, db.target]) await side.query('CREATE TABLE counted (id INT NOT NULL PRIMARY KEY, v INT NOT NULL)');
    pool = openPool(db, 'source_first');
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('counts the replays of a transaction in replayedWrites, like those of autocommit writes', async () => {
    await pool.query('INSERT INTO counted (id, v) VALUES (1, 1)');
    expect(pool.stats()).toMatchObject({ acknowledgedWrites: { source: 1 }, replayedWrites: { target: 1 } });
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO counted (id, v) VALUES (2, 2)');
      await connection.query('UPDATE counted SET v = 3 WHERE id = 1');
      await connection.commit();
    } finally {
      connection.release();
    }
    await expectSidesIdentical(db.source, db.target, 'counted');
    // Both writes of the transaction reached the target (the sides are identical and nothing failed) …
    expect(pool.stats()).toMatchObject({ acknowledgedWrites: { source: 3 }, replayFailures: { target: 0 } });
    // … so they are replays applied on the target, as the DualPoolStats documentation defines replayedWrites.
    expect(pool.stats().replayedWrites.target).toBe(3);
  });
});
