/**
 * The pool option `intents` on real servers behind fault proxies: the replay is held in a secondary transaction,
 * an intent row goes to the repair log inside the primary transaction, the primary side commits, then the
 * secondary side, and the intent row is deleted in a batch. Each cut below stops the sequence at one point; after
 * it the repair log alone (a drain, no verify) must make the sides identical.
 */
import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { drainRepairLog } from '../../src/migrate/index.js';
import { IntentLog } from '../../src/pool/intents.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import type { DualPromisePool } from '../../src/promise.js';
import { expectSidesIdentical } from '../support/compare.js';
import { canSpawnServers } from '../support/servers.js';
import { jsonLines, runCli } from '../cli/helpers.js';
import { spawnProxiedServers, type ProxiedDatabases, type ProxiedServers } from '../faults/proxied-servers.js';

const COMMIT = /^\s*COMMIT\b/i;
const NO_WAIT = { recheck: { delayMs: 0, attempts: 0 } } as const;

interface LogRow {
  kind: string;
  table: string | null;
  keys: string | null;
  code: string | null;
  repaired: boolean;
}

async function logRows(side: Pool): Promise<LogRow[]> {
  const [rows] = await side.query<RowDataPacket[]>('SELECT kind, table_name, primary_keys, error_code, repaired_at FROM dualwrite_repair_log ORDER BY id');
  return rows.map((r) => ({ kind: String(r.kind), table: r.table_name === null ? null : String(r.table_name), keys: r.primary_keys === null ? null : String(r.primary_keys), code: r.error_code === null ? null : String(r.error_code), repaired: r.repaired_at !== null }));
}

/** The ids a log row's primary_keys names. */
function keyIds(row: LogRow): number[] | null {
  return row.keys === null ? null : (JSON.parse(row.keys) as { id: unknown }[]).map((key) => Number(key.id));
}

async function pending(side: Pool): Promise<LogRow[]> {
  return (await logRows(side)).filter((row) => !row.repaired);
}

async function ids(side: Pool, table = 'items'): Promise<number[]> {
  const [rows] = await side.query<RowDataPacket[]>(`SELECT id FROM ${table} ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

describe.skipIf(!canSpawnServers())('pool option intents', () => {
  let servers: ProxiedServers | undefined;
  let db: ProxiedDatabases;
  let pool: DualPromisePool;
  const failures: [ReplayFailure, boolean][] = [];

  beforeAll(async () => {
    servers = await spawnProxiedServers('intents');
    db = await servers.createDatabases('intents');
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE items (id INT NOT NULL PRIMARY KEY, v VARCHAR(40) NOT NULL) ENGINE=InnoDB');
      await side.query('CREATE TABLE notes (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, body VARCHAR(40) NOT NULL) ENGINE=InnoDB');
    }
    pool = db.createPool({ mode: 'source_first', intents: true, circuitBreaker: false, replayTimeoutMs: 1500 });
    pool.pool.on('replayFailure', (failure: ReplayFailure, recorded: boolean) => failures.push([failure, recorded]));
    await pool.query('INSERT INTO items (id, v) VALUES (1, ?)', ['first']); // creates the repair log
  });
  afterAll(async () => {
    await servers?.destroy();
  });

  /** Waits until the batched deletes removed every pending intent row (they run a few ms after the writes). */
  async function intentsDeleted(): Promise<void> {
    let left = -1;
    // Liveness bound only: the deletes are sent 50 ms after the writes.
    for (let i = 0; i < 400 && left !== 0; i++) {
      left = (await pending(db.source)).filter((row) => row.kind === 'intent').length;
      if (left !== 0) await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(left, 'intent rows left after the batched delete').toBe(0);
  }

  it('refuses a bad value of the option and of the drain grace period', async () => {
    expect(() => db.createPool({ mode: 'source_first', intents: 'yes' as unknown as boolean })).toThrow(InvalidOptionError);
    await expect(drainRepairLog({ primary: db.source, secondary: db.target, intentGraceMs: -1 })).rejects.toThrow(InvalidOptionError);
  });

  it('after a successful write the intent row is deleted by the batched delete; the sides are identical', async () => {
    await pool.query('INSERT INTO items (id, v) VALUES (2, ?), (3, ?)', ['a', 'b']);
    await pool.execute('UPDATE items SET v = ? WHERE id = ?', ['b2', 3]);
    await pool.query('DELETE FROM items WHERE id = ?', [2]);
    await intentsDeleted();
    expect(await pending(db.source)).toEqual([]);
    await expectSidesIdentical(db.source, db.target, 'items');
    expect(failures).toEqual([]);
  });

  it('primary COMMIT cut before it reaches the source: nothing on either side, nothing to repair', async () => {
    const trap = servers!.source.proxy.cutOnStatement(COMMIT, { at: 'before' });
    await expect(pool.query('INSERT INTO items (id, v) VALUES (10, ?)', ['lost'])).rejects.toThrow();
    expect(trap.count).toBe(1);
    expect(await ids(db.source)).not.toContain(10);
    expect(await ids(db.target)).not.toContain(10);
    expect(await pending(db.source)).toEqual([]);
    await expectSidesIdentical(db.source, db.target, 'items');
    expect(pool.stats().unrecordedFailures).toBe(0);
  });

  it('primary COMMIT cut after it ran (ambiguous): the write is on the source, its intent in the log, the drain alone repairs the target', async () => {
    const trap = servers!.source.proxy.cutOnStatement(COMMIT, { at: 'reply' });
    // An auto-increment INSERT: the keys it generated are known after the primary step, so the intent names them.
    await expect(pool.query('INSERT INTO notes (body) VALUES (?), (?)', ['committed', 'too'])).rejects.toThrow();
    expect(trap.count).toBe(1);
    const onSource = await ids(db.source, 'notes');
    expect(onSource).toHaveLength(2);
    expect(await ids(db.target, 'notes')).toEqual([]); // the held replay was rolled back
    const log = await pending(db.source);
    expect(log.map((row) => [row.kind, row.table, keyIds(row)])).toEqual([['intent', 'notes', onSource]]);
    expect(pool.stats().unrecordedFailures).toBe(0);
    const drain = await drainRepairLog({ primary: db.source, secondary: db.target, intentGraceMs: 0, verify: NO_WAIT });
    expect(drain).toMatchObject({ logRows: 1, marked: 1, inserted: 2, youngIntents: 0 });
    await expectSidesIdentical(db.source, db.target, ['items', 'notes']);
  });

  it('secondary COMMIT cut: the caller succeeds, the intent row stays pending (recorded failure), young intents wait for the grace period, then the drain repairs', async () => {
    const before = pool.stats().replayFailures.target;
    const trap = servers!.target.proxy.cutOnStatement(COMMIT, { at: 'before' });
    const [result] = await pool.query<ResultSetHeader>('UPDATE items SET v = ? WHERE id = ?', ['changed', 3]);
    expect(result.affectedRows).toBe(1);
    expect(trap.count).toBe(1);
    const [[target]] = await db.target.query<RowDataPacket[]>('SELECT v FROM items WHERE id = 3');
    expect(target?.v).toBe('b2');
    // A statement replay knows no keys (only generated ids): the intent names the whole table, as a failure would.
    expect((await pending(db.source)).map((row) => [row.kind, row.table, keyIds(row)])).toEqual([['intent', 'items', null]]);
    const failure = failures.at(-1);
    expect(failure?.[1]).toBe(true);
    expect((failure?.[0].error as { code?: string } | null)?.code).toBe('ER_DUALWRITE_SECONDARY_COMMIT');
    expect(pool.stats().replayFailures.target).toBe(before + 1);
    // A drain with the default grace period leaves the young intent: its write could still be in flight.
    const early = await drainRepairLog({ primary: db.source, secondary: db.target, verify: NO_WAIT });
    expect(early).toMatchObject({ logRows: 0, marked: 0, youngIntents: 1 });
    const cli = await runCli(['repair', '--source', db.sourceUrl, '--target', db.targetUrl, '--authoritative', 'source', '--drain-log']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/1 intent row\(s\) younger than the grace period left for the next drain/);
    expect(await pending(db.source)).toHaveLength(1);
    const drain = await drainRepairLog({ primary: db.source, secondary: db.target, intentGraceMs: 0, verify: NO_WAIT });
    expect(drain).toMatchObject({ logRows: 1, marked: 1, wholeTables: 1, updated: 1 });
    await expectSidesIdentical(db.source, db.target, 'items');
    failures.length = 0;
  });

  it('a lock wait on the secondary inside the held transaction is a recorded replay failure; the held transaction is rolled back', async () => {
    const blocker = await db.target.getConnection();
    try {
      await blocker.query('START TRANSACTION');
      await blocker.query('SELECT v FROM items WHERE id = 1 FOR UPDATE');
      await pool.query('UPDATE items SET v = ? WHERE id = ?', ['blocked', 1]);
    } finally {
      await blocker.query('ROLLBACK');
      blocker.release();
    }
    const [[target]] = await db.target.query<RowDataPacket[]>('SELECT v FROM items WHERE id = 1');
    expect(target?.v).toBe('first');
    expect(failures.map(([f, recorded]) => [f.kind, recorded])).toEqual([['statement', true]]);
    // The intent row written alongside the replay is deleted in the batch: the failure's own row covers the write.
    await intentsDeleted();
    expect((await pending(db.source)).map((row) => row.kind)).toEqual(['statement']);
    const drain = await drainRepairLog({ primary: db.source, secondary: db.target, intentGraceMs: 0, verify: NO_WAIT });
    expect(drain).toMatchObject({ logRows: 1, marked: 1, updated: 1 });
    await expectSidesIdentical(db.source, db.target, 'items');
    failures.length = 0;
  });

  it('transactions: commit, rollback and savepoints leave the sides identical and no intent row behind', async () => {
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (20, ?)', ['t1']);
      await connection.execute('UPDATE items SET v = ? WHERE id = ?', ['t1b', 20]);
      await connection.query('INSERT INTO items (id, v) VALUES (21, ?)', ['t2']);
      await connection.commit();

      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (22, ?)', ['rolled back']);
      await connection.rollback();

      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (23, ?)', ['kept']);
      await connection.query('SAVEPOINT s1');
      await connection.query('INSERT INTO items (id, v) VALUES (24, ?)', ['undone']);
      await connection.query('ROLLBACK TO SAVEPOINT s1');
      await connection.query('INSERT INTO items (id, v) VALUES (25, ?)', ['kept too']);
      await connection.commit();

      // An autocommit write on the checked-out connection: held on the session's secondary connection.
      await connection.query('INSERT INTO items (id, v) VALUES (26, ?)', ['autocommit']);
    } finally {
      connection.release();
    }
    expect(await ids(db.source)).toEqual(expect.arrayContaining([20, 21, 23, 25, 26]));
    expect(await ids(db.source)).not.toContain(22);
    expect(await ids(db.source)).not.toContain(24);
    await intentsDeleted();
    expect(await pending(db.source)).toEqual([]);
    await expectSidesIdentical(db.source, db.target, 'items');
    expect(failures).toEqual([]);
  });

  it('a transaction whose source COMMIT is cut after it ran: its writes are on the source, one intent row each, the drain repairs the target', async () => {
    const connection = await pool.getConnection();
    const trap = servers!.source.proxy.cutOnStatement(COMMIT, { at: 'reply' });
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (30, ?)', ['x']);
      await connection.query('UPDATE items SET v = ? WHERE id = ?', ['y', 21]);
      await connection.query('DELETE FROM items WHERE id = ?', [23]);
      await expect(connection.commit()).rejects.toThrow();
    } finally {
      connection.release();
    }
    expect(trap.count).toBe(1);
    expect(await ids(db.source)).toContain(30);
    expect(await ids(db.target)).not.toContain(30);
    expect((await pending(db.source)).map((row) => [row.kind, row.table])).toEqual([
      ['intent', 'items'],
      ['intent', 'items'],
      ['intent', 'items'],
    ]);
    expect(pool.stats().unrecordedFailures).toBe(0);
    const drain = await drainRepairLog({ primary: db.source, secondary: db.target, intentGraceMs: 0, verify: NO_WAIT });
    expect(drain).toMatchObject({ logRows: 3, marked: 3, wholeTables: 1, inserted: 1, updated: 1, deleted: 1 });
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('a transaction whose target COMMIT is cut: the caller succeeds, its intent rows stay pending, the drain repairs', async () => {
    const connection = await pool.getConnection();
    const trap = servers!.target.proxy.cutOnStatement(COMMIT, { at: 'before' });
    try {
      await connection.beginTransaction();
      await connection.query('INSERT INTO items (id, v) VALUES (40, ?), (41, ?)', ['p', 'q']);
      await connection.commit();
    } finally {
      connection.release();
    }
    expect(trap.count).toBe(1);
    expect(await ids(db.target)).not.toContain(40);
    expect((await pending(db.source)).map((row) => [row.kind, row.table])).toEqual([['intent', 'items']]);
    expect(failures.map(([f, recorded]) => [f.kind, recorded, (f.error as { code?: string } | null)?.code])).toEqual([['transaction', true, 'ER_DUALWRITE_SECONDARY_COMMIT']]);
    failures.length = 0;
    // The command line drains it at once with --intent-grace-ms 0 (the pool is done with this write).
    const cli = await runCli(['repair', '--source', db.sourceUrl, '--target', db.targetUrl, '--authoritative', 'source', '--drain-log', '--intent-grace-ms', '0', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(jsonLines(cli.stdout).find((line) => line.type === 'summary')).toMatchObject({ logRows: 1, marked: 1, wholeTables: 1, inserted: 2, youngIntents: 0 });
    await expectSidesIdentical(db.source, db.target, 'items');
  });

  it('the batched delete matches the token as well as the id: another writer’s intent row inside a guessed id range stays', async () => {
    const [inserted] = await db.source.query<ResultSetHeader>(
      'INSERT INTO dualwrite_repair_log (created_at, kind, secondary_side, mode, table_schema, table_name, statement_digest, statement, error_code, error_message) ' +
        "VALUES (UTC_TIMESTAMP(6), 'intent', 'target', 'source_first', DATABASE(), 'items', REPEAT('0', 64), 'UPDATE items SET v = ?', 'DUALWRITE_INTENT', 'intent another-process:1')",
    );
    const id = String(inserted.insertId);
    const log = new IntentLog('dualwrite_repair_log', { source: db.source.pool, target: db.target.pool }, 2000);
    log.done({ side: 'source', ids: [id], token: 'intent this-process:7' }); // a wrong guess of this process's ids
    await log.flush();
    expect(log.counts).toEqual({ deleted: 0, failedDeletes: 0 });
    expect((await pending(db.source)).map((row) => row.kind)).toEqual(['intent']);
    log.done({ side: 'source', ids: [id], token: 'intent another-process:1' });
    await log.flush();
    expect(log.counts).toEqual({ deleted: 1, failedDeletes: 0 });
    expect(await pending(db.source)).toEqual([]);
  });

  it('pool.end() sends the pending intent deletes before it closes', async () => {
    const own = db.createPool({ mode: 'source_first', intents: true, circuitBreaker: false });
    await own.query('INSERT INTO items (id, v) VALUES (50, ?)', ['end']);
    await own.end();
    expect(await pending(db.source)).toEqual([]);
    await expectSidesIdentical(db.source, db.target, 'items');
  });
});
