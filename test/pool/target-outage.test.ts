/**
 * The target goes away in the middle of a workload (graceful stop, kill -9, or a hung process), with the pool in
 * source_first, a short replayTimeoutMs and a circuit breaker:
 *
 * - every caller's write still succeeds, with the primary side's results (the source holds exactly the ledger);
 * - every acknowledged row the target is missing or holds differently is covered by a repair-log row on the source
 *   (by its key, or by a table-level row), and every failure reached the repair log (`unrecordedFailures` is 0);
 * - the circuit opens during the outage and closes again once the target is back and replay resumes.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { createConnection, type ResultSetHeader } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CircuitState } from '../../src/replay/circuit-breaker.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { compareTables } from '../support/compare.js';
import { createTestDatabases, spawnTestServer, testServers, type TestDatabases } from '../support/databases.js';
import { canSpawnServers, type SpawnedServer } from '../support/servers.js';
import { pick, rowsOf, seeded, settledWithin, splitKey, until } from './helpers.js';

const WRITERS = 16;
const REPLAY_TIMEOUT_MS = 500;

let target: SpawnedServer | undefined;

async function createTables(db: TestDatabases): Promise<void> {
  for (const side of [db.source, db.target]) {
    await side.query('CREATE TABLE orders (order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL, v INT NOT NULL) ENGINE=InnoDB');
    await side.query(
      'CREATE TABLE order_lines (region SMALLINT UNSIGNED NOT NULL, line_no INT UNSIGNED NOT NULL, tag VARCHAR(64) NOT NULL, v INT NOT NULL, PRIMARY KEY (region, line_no)) ENGINE=InnoDB',
    );
  }
}

function openPool(db: TestDatabases): DualPromisePool {
  return createPool({
    source: { uri: db.sourceUrl, connectionLimit: 24 },
    // A short connect timeout so that connections opened to a hung target give their pool slot back.
    target: { uri: db.targetUrl, connectionLimit: 24, connectTimeout: 2000 },
    mode: 'source_first',
    replayTimeoutMs: REPLAY_TIMEOUT_MS,
    circuitBreaker: { failureThreshold: 3, openMs: 100, maxOpenMs: 400 },
  });
}

/** The writes the pool acknowledged. */
interface Ledger {
  /** Every stored order, by the ID the caller got back. */
  readonly orders: Map<number, string>;
  /** Each acknowledged INSERT into orders (autocommit or committed transaction): the IDs it was given, in order. */
  readonly batches: number[][];
  /** order_lines as the source must hold it. */
  readonly lines: Map<string, { tag: string; v: number }>;
}

interface Run {
  readonly pool: DualPromisePool;
  readonly ledger: Ledger;
  stop: boolean;
  ops: number;
  nextValue: number;
  readonly errors: string[];
}

async function writer(run: Run, w: number): Promise<void> {
  const random = seeded(32_452_843 * (w + 1));
  const { pool, ledger } = run;
  const region = w + 1;
  let lineNo = 0;
  let tagNo = 0;
  const ownLines: string[] = [];
  const tag = (): string => `w${w}-${++tagNo}`;
  const acknowledge = (header: ResultSetHeader, tags: string[]): void => {
    expect(header.affectedRows).toBe(tags.length);
    const ids = tags.map((_, i) => header.insertId + i);
    ids.forEach((id, i) => ledger.orders.set(id, tags[i] as string));
    ledger.batches.push(ids);
  };
  while (!run.stop) {
    const roll = random();
    try {
      if (roll < 0.3) {
        const tags = Array.from({ length: 1 + Math.floor(random() * 4) }, tag);
        const [header] = await pool.query<ResultSetHeader>('INSERT INTO orders (tag, v) VALUES ?', [tags.map((t) => [t, w])]);
        acknowledge(header, tags);
      } else if (roll < 0.55) {
        const tags = Array.from({ length: 2 + Math.floor(random() * 3) }, tag);
        const [header] = await pool.execute<ResultSetHeader>(`INSERT INTO orders (tag, v) VALUES ${tags.map(() => '(?, ?)').join(', ')}`, tags.flatMap((t) => [t, w]));
        acknowledge(header, tags);
      } else if (roll < 0.7 || ownLines.length === 0) {
        const row = { tag: tag(), v: ++run.nextValue };
        const key = ++lineNo;
        const [header] = await pool.execute<ResultSetHeader>('INSERT INTO order_lines (region, line_no, tag, v) VALUES (?, ?, ?, ?)', [region, key, row.tag, row.v]);
        expect(header.affectedRows).toBe(1);
        ledger.lines.set(`${region}:${key}`, row);
        ownLines.push(`${region}:${key}`);
      } else if (roll < 0.8) {
        const key = pick(random, ownLines);
        const [r, n] = splitKey(key);
        const v = ++run.nextValue;
        const [header] = await pool.query<ResultSetHeader>('UPDATE order_lines SET v = ? WHERE region = ? AND line_no = ?', [v, r, n]);
        expect(header.affectedRows).toBe(1);
        ledger.lines.set(key, { ...(ledger.lines.get(key) as { tag: string; v: number }), v });
      } else if (roll < 0.88) {
        const key = pick(random, ownLines);
        const [r, n] = splitKey(key);
        const [header] = await pool.execute<ResultSetHeader>('DELETE FROM order_lines WHERE region = ? AND line_no = ?', [r, n]);
        expect(header.affectedRows).toBe(1);
        ledger.lines.delete(key);
        ownLines.splice(ownLines.indexOf(key), 1);
      } else {
        // A transaction: generated IDs and an explicit-key row, committed (or, one time in four, rolled back).
        const connection = await pool.getConnection();
        try {
          await connection.beginTransaction();
          const tags = [tag(), tag()];
          const [header] = await connection.execute<ResultSetHeader>('INSERT INTO orders (tag, v) VALUES (?, ?), (?, ?)', tags.flatMap((t) => [t, w]));
          const row = { tag: tag(), v: ++run.nextValue };
          const key = ++lineNo;
          await connection.query('INSERT INTO order_lines (region, line_no, tag, v) VALUES (?, ?, ?, ?)', [region, key, row.tag, row.v]);
          if (random() < 0.25) {
            await connection.rollback();
          } else {
            await connection.commit();
            acknowledge(header, tags);
            ledger.lines.set(`${region}:${key}`, row);
            ownLines.push(`${region}:${key}`);
          }
        } finally {
          connection.release();
        }
      }
      run.ops++;
    } catch (error) {
      run.errors.push(`writer ${w}: ${(error as Error).message}`);
      if (run.errors.length > 20) run.stop = true;
    }
  }
}

/** `'123'` (compare.ts display text) → `123`. */
const unquote = (text: string | undefined): string => String(text).replace(/^'|'$/g, '');

async function outageCase(fault: 'stop' | 'kill' | 'pause'): Promise<void> {
  const server = target;
  if (server === undefined) throw new Error('the target server was not spawned');
  const db = await createTestDatabases(`outage_${fault}`, { servers: { sourceUrl: testServers().sourceUrl, targetUrl: server.url } });
  const pool = openPool(db);
  const circuit: { side: string; state: CircuitState; restored: boolean }[] = [];
  const failures: { failure: ReplayFailure; recorded: boolean }[] = [];
  const run: Run = { pool, ledger: { orders: new Map(), batches: [], lines: new Map() }, stop: false, ops: 0, nextValue: 0, errors: [] };
  let restored = false;
  // Listeners only collect (an assertion thrown inside the pool's emit would be the pool's problem, not the test's).
  pool.pool.on('circuit', (side: string, state: CircuitState) => circuit.push({ side, state, restored }));
  pool.pool.on('replayFailure', (failure: ReplayFailure, recorded: boolean) => failures.push({ failure, recorded }));
  try {
    await createTables(db);
    const writers = Array.from({ length: WRITERS }, (_, w) => writer(run, w));
    try {
      await until(() => run.ops >= 100 || run.stop, '100 writes with the target up');
      if (fault === 'stop') await server.stop();
      else if (fault === 'kill') await server.kill();
      else await server.pause();
      let mark = run.ops;
      await until(() => (circuit.some((c) => c.state === 'open') && run.ops >= mark + 60) || run.stop, 'the circuit to open and 60 writes during the outage');
      restored = true;
      if (fault === 'pause') await server.resume();
      else await server.start();
      await until(() => circuit.at(-1)?.state === 'closed' || run.stop, 'the circuit to close after the target came back');
      mark = run.ops;
      await until(() => run.ops >= mark + 40 || run.stop, '40 writes after the circuit closed');
    } finally {
      run.stop = true;
      await Promise.all(writers);
    }

    // Every caller's write succeeded, with the primary side's result.
    expect(run.errors).toEqual([]);
    const sourceOrders = await rowsOf(db.source, 'SELECT order_no, tag FROM orders ORDER BY order_no');
    expect(new Map(sourceOrders.map((r) => [Number(r.order_no), String(r.tag)]))).toEqual(new Map([...run.ledger.orders].sort(([a], [b]) => a - b)));
    const sourceLines = await rowsOf(db.source, "SELECT CONCAT(region, ':', line_no) AS k, tag, v FROM order_lines");
    expect(new Map(sourceLines.map((r) => [String(r.k), { tag: String(r.tag), v: Number(r.v) }]))).toEqual(run.ledger.lines);

    // The circuit opened during the outage and closed once the target was back.
    expect(new Set(circuit.map((c) => c.side))).toEqual(new Set(['target']));
    expect(circuit.filter((c) => !c.restored).map((c) => c.state)).toContain('open');
    expect(circuit.filter((c) => c.restored).map((c) => c.state)).toContain('closed');

    // Every failure is in the repair log, and nothing else is.
    const stats = pool.stats();
    expect(stats.unrecordedFailures).toBe(0);
    expect(stats.replayFailures.source).toBe(0);
    expect(stats.replayFailures.target).toBeGreaterThan(0);
    expect(failures.length).toBe(stats.replayFailures.target);
    expect(failures.filter((f) => !f.recorded)).toEqual([]);
    expect(new Set(failures.map((f) => f.failure.secondarySide))).toEqual(new Set(['target']));
    const log = await rowsOf(db.source, 'SELECT * FROM dualwrite_repair_log ORDER BY id');
    expect(log.length).toBe(stats.replayFailures.target);
    for (const row of log) {
      expect(row).toMatchObject({ secondary_side: 'target', mode: 'source_first', repaired_at: null });
      expect(['statement', 'transaction', 'circuit_open']).toContain(row.kind);
      expect(row.statement_digest).toBe(createHash('sha256').update(String(row.statement)).digest('hex'));
      if (row.kind === 'statement') expect(row.error_message).not.toBeNull();
      if (row.kind === 'circuit_open') expect(row.error_code).toBe('ER_DUALWRITE_CIRCUIT_OPEN');
      if (row.table_name !== null) expect(row.table_schema).toBe(db.name);
    }
    // INSERTs with generated IDs into a single-column primary key are logged with exactly the IDs they were given.
    const logged = log.filter((row) => row.table_name === 'orders');
    const batchOf = new Map(run.ledger.batches.map((ids) => [ids.join(','), ids]));
    for (const row of logged) {
      expect(row.primary_keys).not.toBeNull();
      const parsed = JSON.parse(String(row.primary_keys)) as Record<string, unknown>[];
      expect(parsed.map((k) => Object.keys(k).join())).toEqual(parsed.map(() => 'order_no'));
      const keys = parsed.map((k) => Number(k.order_no));
      expect(batchOf.has(keys.join(','))).toBe(true);
    }
    const loggedKeys = new Set(logged.flatMap((row) => (JSON.parse(String(row.primary_keys)) as Record<string, unknown>[]).map((k) => Number(k.order_no))));
    const loggedBatches = new Set(logged.map((row) => (JSON.parse(String(row.primary_keys)) as Record<string, unknown>[]).map((k) => Number(k.order_no)).join(',')));

    // Coverage: every row the target misses, holds differently, or holds extra is covered by the repair log.
    const comparison = await compareTables(db.sourceUrl, db.targetUrl, ['orders', 'order_lines']);
    const [orders, lines] = comparison.tables;
    expect(orders?.existsOnTarget && lines?.existsOnTarget).toBe(true);
    const ordersOff = [...(orders?.missing ?? []), ...(orders?.extra ?? []), ...(orders?.different ?? []).map((d) => d.key)].map((k) => Number(unquote(k.order_no)));
    expect(ordersOff.length).toBeGreaterThan(0); // the outage did cost the target rows
    const wholeOrders = log.some((row) => row.table_name === 'orders' && row.primary_keys === null);
    expect(ordersOff.filter((id) => !wholeOrders && !loggedKeys.has(id))).toEqual([]);
    // … and batch by batch: an acknowledged INSERT with a row missing on the target has a log row listing all its IDs.
    const missing = new Set((orders?.missing ?? []).map((k) => Number(unquote(k.order_no))));
    expect(run.ledger.batches.filter((ids) => ids.some((id) => missing.has(id)) && !loggedBatches.has(ids.join(',')))).toEqual([]);
    const linesOff = [...(lines?.missing ?? []), ...(lines?.extra ?? []), ...(lines?.different ?? []).map((d) => d.key)];
    const wholeLines = log.some((row) => row.table_name === 'order_lines' && row.primary_keys === null);
    expect(linesOff.length === 0 || wholeLines).toBe(true);

    // Replay resumed: a write after the outage reaches the target (a few attempts: on a loaded machine one replay may
    // still exceed the short replayTimeoutMs, which would be recorded, not lost).
    let reached = false;
    for (let attempt = 0; attempt < 5 && !reached; attempt++) {
      const failed = pool.stats().replayFailures.target;
      const [header] = await pool.execute<ResultSetHeader>('INSERT INTO orders (tag, v) VALUES (?, ?), (?, ?)', [`after-${attempt}a`, 0, `after-${attempt}b`, 0]);
      const onTarget = await compareTables(db.sourceUrl, db.targetUrl, 'orders');
      const missingNow = new Set((onTarget.tables[0]?.missing ?? []).map((k) => Number(unquote(k.order_no))));
      reached = pool.stats().replayFailures.target === failed && !missingNow.has(header.insertId) && !missingNow.has(header.insertId + 1);
    }
    expect(reached).toBe(true);
  } finally {
    await pool.end();
    if (fault === 'pause') await server.resume();
    await server.start();
    await db.drop();
  }
}

describe.skipIf(!canSpawnServers())('the target stops in the middle of a source_first workload', () => {
  beforeAll(async () => {
    target = await spawnTestServer({ name: 'outage-target' });
  });
  afterAll(async () => {
    await target?.destroy();
  });

  it('graceful stop: callers unaffected, every missed write in the repair log, circuit opens and closes', async () => {
    await outageCase('stop');
  });

  it('kill -9: callers unaffected, every missed write in the repair log, circuit opens and closes', async () => {
    await outageCase('kill');
  });

  it('hung server (SIGSTOP): callers unaffected, every missed write in the repair log, circuit opens and closes', async () => {
    await outageCase('pause');
  });

  describe('a transaction on a checked-out connection while the target hangs', () => {
    let db: TestDatabases;
    let pool: DualPromisePool;
    const pending: Promise<unknown>[] = [];
    beforeAll(async () => {
      db = await createTestDatabases('outage_hung_tx', { servers: { sourceUrl: testServers().sourceUrl, targetUrl: (target as SpawnedServer).url } });
      await createTables(db);
      pool = openPool(db);
    });
    afterAll(async () => {
      await target?.resume();
      await Promise.allSettled(pending);
      await pool?.end();
      await db?.drop();
    });

    /**
     * Pauses the target and waits until every thread of the server process is really stopped (SIGSTOP is delivered
     * asynchronously; on a busy machine a statement sent right after kill() could still be served).
     */
    async function pauseTarget(): Promise<void> {
      const server = target as SpawnedServer;
      await server.pause();
      const tasks = `/proc/${server.pid}/task`;
      if (!existsSync(tasks)) return;
      await until(() => readdirSync(tasks).every((task) => {
        try {
          return /^\d+ \(.*\) [tT] /.test(readFileSync(`${tasks}/${task}/stat`, 'utf8'));
        } catch {
          return true; // the thread is gone
        }
      }), 'the target server to stop');
    }

    /** A transaction whose first write has been replayed, so its secondary session holds an open target connection. */
    async function openTransaction(key: number): Promise<Awaited<ReturnType<DualPromisePool['getConnection']>>> {
      const connection = await pool.getConnection();
      await connection.beginTransaction();
      await connection.query('INSERT INTO order_lines (region, line_no, tag, v) VALUES (?, ?, ?, ?)', [1, key, `t${key}`, key]);
      // The replay runs on the session's queue, which the caller does not wait for: wait until the target holds the
      // uncommitted row (a dirty read, which takes no lock that could get in the replay's way).
      const probe = await createConnection({ uri: db.targetUrl });
      try {
        await probe.query('SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED');
        const deadline = Date.now() + 30_000;
        for (;;) {
          const rows = await rowsOf(probe, 'SELECT COUNT(*) AS n FROM order_lines WHERE region = 1 AND line_no = ?', [key]);
          if (Number(rows[0]?.n) > 0) return connection;
          if (Date.now() > deadline) throw new Error('the first write of the transaction was never replayed on the target');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      } finally {
        await probe.end();
      }
    }

    it("the caller's ROLLBACK does not wait for the hung target (the primary side has rolled back)", async () => {
      const connection = await openTransaction(1);
      await pauseTarget();
      try {
        const rollback = connection.rollback();
        pending.push(rollback.finally(() => connection.release()));
        // 10 × replayTimeoutMs: a liveness bound, not a speed assertion. While the target stays paused, a ROLLBACK
        // waiting on it never settles at all.
        const outcome = await settledWithin(rollback, 10 * REPLAY_TIMEOUT_MS);
        expect(outcome.status).toBe('fulfilled');
      } finally {
        await (target as SpawnedServer).resume();
      }
      await Promise.allSettled(pending);
      expect(await rowsOf(db.source, 'SELECT * FROM order_lines WHERE line_no = 1')).toEqual([]);
    });

    it('the COMMIT of a transaction whose replay broke on the hung target does not wait for it', async () => {
      const connection = await openTransaction(2);
      await pauseTarget();
      try {
        // This write succeeds on the source; its replay times out after replayTimeoutMs and breaks the secondary transaction.
        await connection.query('INSERT INTO order_lines (region, line_no, tag, v) VALUES (?, ?, ?, ?)', [1, 3, 't3', 3]);
        const commit = connection.commit();
        pending.push(commit.finally(() => connection.release()));
        const outcome = await settledWithin(commit, 10 * REPLAY_TIMEOUT_MS);
        expect(outcome.status).toBe('fulfilled');
      } finally {
        await (target as SpawnedServer).resume();
      }
      await Promise.allSettled(pending);
      // Committed on the source, and both writes recorded for repair.
      expect((await rowsOf(db.source, 'SELECT line_no FROM order_lines WHERE line_no IN (2, 3) ORDER BY line_no')).map((r) => Number(r.line_no))).toEqual([2, 3]);
      const log = await rowsOf(db.source, "SELECT kind FROM dualwrite_repair_log WHERE table_name = 'order_lines'");
      expect(log.length).toBeGreaterThanOrEqual(2);
    });
  });
});

describe('circuit events', () => {
  let db: TestDatabases | undefined;
  let pool: DualPromisePool | undefined;
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('reports every state the breaker of the secondary side goes through, half_open included', async () => {
    // A target nobody listens on: every replay fails at once with ECONNREFUSED.
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as AddressInfo;
        server.close(() => resolve(free));
      });
    });
    db = await createTestDatabases('outage_circuit');
    await db.source.query('CREATE TABLE orders (order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL, v INT NOT NULL)');
    pool = createPool({
      source: db.sourceUrl,
      target: `mysql://root@127.0.0.1:${port}/${db.name}`,
      mode: 'source_first',
      replayTimeoutMs: REPLAY_TIMEOUT_MS,
      circuitBreaker: { failureThreshold: 1, openMs: 50, maxOpenMs: 50 },
    });
    const states: CircuitState[] = [];
    pool.pool.on('circuit', (_side: string, state: CircuitState) => states.push(state));
    await pool.query('INSERT INTO orders (tag, v) VALUES (?, ?)', ['a', 1]); // fails: the circuit opens
    expect(states).toEqual(['open']);
    await new Promise((resolve) => setTimeout(resolve, 120)); // longer than openMs: the next write is the probe
    await pool.query('INSERT INTO orders (tag, v) VALUES (?, ?)', ['b', 2]); // the probe fails: open again
    expect(pool.stats().replayFailures.target).toBe(2);
    // The `circuit` event is documented as "changed state"; CircuitState includes half_open.
    expect(states).toEqual(['open', 'half_open', 'open']);
  });
});
