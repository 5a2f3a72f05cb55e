/**
 * Generated auto-increment IDs under every `innodb_autoinc_lock_mode` a server may run with, and with
 * `auto_increment_increment = 2` (+ a different `auto_increment_offset` on each side): 16 concurrent callers send
 * multi-row INSERTs whose IDs the primary side generates; the secondary side must store exactly those IDs.
 *
 * - lock mode 1 ("consecutive"): rows with explicit IDs may be mixed in (the generated ones stay consecutive);
 * - lock mode 2 ("interleaved"): an INSERT mixing explicit and generated IDs is refused before it runs
 *   (`UnsafeStatementError`, `ER_DUALWRITE_UNSAFE_STATEMENT`, the default `unreplayableStatements: 'reject'`).
 *
 * Servers are spawned in pairs (SOURCE and TARGET, same settings); the increment variants reuse a pair after
 * `SET GLOBAL auto_increment_increment/offset`, which every new session (the pools here open new ones) takes.
 */
import { createConnection, type ResultSetHeader } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsafeStatementError } from '../../src/errors.js';
import type { Mode } from '../../src/mode/modes.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, spawnTestServer, type TestDatabases } from '../support/databases.js';
import { canSpawnServers, type SpawnedServer } from '../support/servers.js';
import { rowsOf, seeded } from './helpers.js';

const CALLERS = 16;
const INSERTS_PER_CALLER_AND_MODE = 12;
/** Generated IDs start here on the source and at TARGET_START on the target; explicit IDs are taken below both. */
const SOURCE_START = 1_000_001;
const TARGET_START = 7_000_001;

interface Pair {
  source: SpawnedServer;
  target: SpawnedServer;
}

let lockMode1: Pair | undefined;
let lockMode2: Pair | undefined;

async function spawnPair(name: string, source: Record<string, number>, target: Record<string, number>): Promise<Pair> {
  const [s, t] = await Promise.all([spawnTestServer({ name: `${name}-source`, settings: source }), spawnTestServer({ name: `${name}-target`, settings: target })]);
  return { source: s, target: t };
}

async function setIncrement(pair: Pair, increment: number, offsets: [number, number]): Promise<void> {
  for (const [server, offset] of [
    [pair.source, offsets[0]],
    [pair.target, offsets[1]],
  ] as const) {
    const connection = await createConnection({ uri: server.url });
    try {
      await connection.query(`SET GLOBAL auto_increment_increment = ${increment}, auto_increment_offset = ${offset}`);
    } finally {
      await connection.end();
    }
  }
}

/** What one case runs with. */
interface Case {
  readonly lockMode: 1 | 2;
  readonly increment: 1 | 2;
  /** auto_increment_offset of the source and of the target. */
  readonly offsets: readonly [number, number];
}

/** Every row an acknowledged INSERT stored, by ID, and the tags of refused INSERTs. */
interface Ledger {
  readonly rows: Map<number, string>;
  readonly generatedBy: Map<number, Mode>;
  readonly refusedTags: string[];
  mixed: number;
  refused: number;
}

async function caller(pool: DualPromisePool, c: number, mode: Mode, settings: Case, ledger: Ledger, explicitIds: () => number): Promise<void> {
  const random = seeded(15_485_863 * (c + 1) + settings.lockMode * 10 + settings.increment + (mode === 'target_first' ? 5 : 0));
  let tagNo = 0;
  for (let i = 0; i < INSERTS_PER_CALLER_AND_MODE; i++) {
    const count = 2 + Math.floor(random() * 5);
    const mixed = random() < 0.35;
    // Explicit IDs sit anywhere among the rows, but never first (a generated row then comes before them).
    const rows = Array.from({ length: count }, (_, r) => ({ tag: `${mode[0]}${c}-${++tagNo}`, id: mixed && r > 0 && random() < 0.4 ? explicitIds() : null }));
    if (mixed && rows.every((r) => r.id === null)) (rows[count - 1] as { id: number | null }).id = explicitIds();
    const byQuery = random() < 0.5;
    const statement = byQuery
      ? pool.query<ResultSetHeader>('INSERT INTO items (item_id, tag, v) VALUES ?', [rows.map((r) => [r.id, r.tag, c])])
      : pool.execute<ResultSetHeader>(`INSERT INTO items (item_id, tag, v) VALUES ${rows.map(() => '(?, ?, ?)').join(', ')}`, rows.flatMap((r) => [r.id, r.tag, c]));
    if (mixed && settings.lockMode === 2) {
      const error = await statement.then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(UnsafeStatementError);
      expect((error as UnsafeStatementError).code).toBe('ER_DUALWRITE_UNSAFE_STATEMENT');
      expect((error as UnsafeStatementError).reason).toMatch(/innodb_autoinc_lock_mode=2/);
      ledger.refusedTags.push(...rows.map((r) => r.tag));
      ledger.refused++;
      continue;
    }
    const [header] = await statement;
    expect(header.affectedRows).toBe(count);
    let k = 0;
    for (const row of rows) {
      if (row.id !== null) {
        ledger.rows.set(row.id, row.tag);
        continue;
      }
      const id = header.insertId + k++ * settings.increment;
      if (ledger.rows.has(id)) throw new Error(`ID ${id} handed back twice`);
      ledger.rows.set(id, row.tag);
      ledger.generatedBy.set(id, mode);
    }
    if (mixed) ledger.mixed++;
  }
}

async function runCase(pair: Pair | undefined, settings: Case): Promise<void> {
  if (pair === undefined) throw new Error('servers were not spawned');
  const db: TestDatabases = await createTestDatabases(`autoinc_m${settings.lockMode}_i${settings.increment}`, {
    servers: { sourceUrl: pair.source.url, targetUrl: pair.target.url },
  });
  let pool: DualPromisePool | undefined;
  try {
    // The premise: both servers run the settings under test.
    for (const [side, offset] of [
      [db.source, settings.offsets[0]],
      [db.target, settings.offsets[1]],
    ] as const) {
      const [row] = await rowsOf(side, 'SELECT @@innodb_autoinc_lock_mode AS m, @@auto_increment_increment AS i, @@auto_increment_offset AS o');
      expect({ m: Number(row?.m), i: Number(row?.i), o: Number(row?.o) }).toEqual({ m: settings.lockMode, i: settings.increment, o: offset });
    }
    for (const side of [db.source, db.target]) {
      await side.query('CREATE TABLE items (item_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(64) NOT NULL, v INT NOT NULL, KEY by_tag (tag)) ENGINE=InnoDB');
    }
    await db.source.query(`ALTER TABLE items AUTO_INCREMENT = ${SOURCE_START}`);
    await db.target.query(`ALTER TABLE items AUTO_INCREMENT = ${TARGET_START}`);

    pool = createPool({
      source: { uri: db.sourceUrl, connectionLimit: 24 },
      target: { uri: db.targetUrl, connectionLimit: 24 },
      mode: 'source_first',
      replayTimeoutMs: 20_000,
    });
    const failures: ReplayFailure[] = [];
    pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
    const ledger: Ledger = { rows: new Map(), generatedBy: new Map(), refusedTags: [], mixed: 0, refused: 0 };
    let explicit = 0;
    const explicitIds = (): number => (explicit += 7); // unique, below both sides' counters
    for (const mode of ['source_first', 'target_first'] as const) {
      await pool.setMode(mode);
      const outcomes = await Promise.allSettled(Array.from({ length: CALLERS }, (_, c) => caller(pool as DualPromisePool, c, mode, settings, ledger, explicitIds)));
      expect(outcomes.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []))).toEqual([]);
    }

    await expectSidesIdentical(db.source, db.target, 'items');
    // Every acknowledged row is stored under the ID the caller got back (on both sides: they are identical),
    // and nothing else is stored — refused INSERTs wrote nothing.
    const stored = new Map((await rowsOf(db.source, 'SELECT item_id, tag FROM items')).map((r) => [Number(r.item_id), String(r.tag)]));
    expect(stored.size).toBe(ledger.rows.size);
    expect([...ledger.rows].filter(([id, tag]) => stored.get(id) !== tag)).toEqual([]);
    expect(ledger.refusedTags.filter((tag) => [...stored.values()].includes(tag))).toEqual([]);
    // Each generated ID comes from the primary side's own counter and grid: the secondary side numbered nothing.
    const off = ledger.generatedBy.size === 0 ? [] : [...ledger.generatedBy].filter(([id, mode]) => {
      const [start, offset] = mode === 'source_first' ? [SOURCE_START, settings.offsets[0]] : [TARGET_START, settings.offsets[1]];
      return id < start || (settings.increment > 1 && id % settings.increment !== offset % settings.increment);
    });
    expect(off).toEqual([]);
    expect([...ledger.generatedBy.values()].filter((mode) => mode === 'target_first').length).toBeGreaterThan(50);

    if (settings.lockMode === 1) expect(ledger.mixed).toBeGreaterThan(10);
    else expect(ledger.refused).toBeGreaterThan(10);
    expect(failures.map((f) => `${f.kind} ${f.sql}: ${f.error?.message ?? ''}`)).toEqual([]);
    expect(pool.stats()).toMatchObject({ replayFailures: { source: 0, target: 0 }, unrecordedFailures: 0, refusedWrites: ledger.refused });
  } finally {
    await pool?.end();
    await db.drop();
  }
}

describe.skipIf(!canSpawnServers())('generated IDs under innodb_autoinc_lock_mode 1 and 2, auto_increment_increment 1 and 2', () => {
  beforeAll(async () => {
    [lockMode1, lockMode2] = await Promise.all([
      spawnPair('autoinc-m1', { innodb_autoinc_lock_mode: 1 }, { innodb_autoinc_lock_mode: 1 }),
      spawnPair(
        'autoinc-m2',
        { innodb_autoinc_lock_mode: 2, auto_increment_increment: 2, auto_increment_offset: 1 },
        { innodb_autoinc_lock_mode: 2, auto_increment_increment: 2, auto_increment_offset: 2 },
      ),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled([lockMode1?.source.destroy(), lockMode1?.target.destroy(), lockMode2?.source.destroy(), lockMode2?.target.destroy()]);
  });

  it('lock mode 1: multi-row INSERTs, some mixing explicit IDs, reach the secondary side with the primary side’s IDs', async () => {
    await runCase(lockMode1, { lockMode: 1, increment: 1, offsets: [1, 1] });
  });

  it('lock mode 2 with auto_increment_increment 2 (offsets 1 and 2): generated IDs replayed exactly; mixed INSERTs refused', async () => {
    await runCase(lockMode2, { lockMode: 2, increment: 2, offsets: [1, 2] });
  });

  it('lock mode 1 with auto_increment_increment 2 (offsets 1 and 2)', async () => {
    await setIncrement(lockMode1 as Pair, 2, [1, 2]);
    await runCase(lockMode1, { lockMode: 1, increment: 2, offsets: [1, 2] });
  });

  it('lock mode 2 with auto_increment_increment 1', async () => {
    await setIncrement(lockMode2 as Pair, 1, [1, 1]);
    await runCase(lockMode2, { lockMode: 2, increment: 1, offsets: [1, 1] });
  });

  it('lock mode 1: an INSERT whose explicit ID lies above the counter, between generated rows, is never replayed with other IDs than the source stored (it is recorded for repair)', async () => {
    // Under lock mode 1 the server numbers the rows after such an explicit ID from that ID + 1, not from the first
    // generated ID: (NULL, 'a'), (N + 100, 'b'), (NULL, 'c') stores a = N, b = N + 100, c = N + 101.
    await setIncrement(lockMode1 as Pair, 1, [1, 1]);
    const pair = lockMode1 as Pair;
    const db = await createTestDatabases('autoinc_jump', { servers: { sourceUrl: pair.source.url, targetUrl: pair.target.url } });
    const pool = createPool({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first' });
    try {
      for (const side of [db.source, db.target]) await side.query('CREATE TABLE jumps (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, tag VARCHAR(10) NOT NULL)');
      await db.source.query(`ALTER TABLE jumps AUTO_INCREMENT = ${SOURCE_START}`);
      const [header] = await pool.execute<ResultSetHeader>('INSERT INTO jumps (id, tag) VALUES (NULL, ?), (?, ?), (NULL, ?)', ['a', SOURCE_START + 100, 'b', 'c']);
      expect(header.insertId).toBe(SOURCE_START);
      const source = await rowsOf(db.source, 'SELECT id, tag FROM jumps ORDER BY id');
      expect(source.map((r) => `${r.tag}=${Number(r.id)}`)).toEqual([`a=${SOURCE_START}`, `b=${SOURCE_START + 100}`, `c=${SOURCE_START + 101}`]);
      // Either the target holds the same rows, or the write is refused/recorded — never a silently different ID.
      const recorded = pool.stats().replayFailures.target;
      if (recorded === 0) await expectSidesIdentical(db.source, db.target, 'jumps');
      else {
        const log = await rowsOf(db.source, 'SELECT kind, table_name FROM dualwrite_repair_log');
        expect(log.map((r) => `${String(r.kind)} ${String(r.table_name)}`)).toEqual(['recorded jumps']);
        const target = await rowsOf(db.target, 'SELECT COUNT(*) AS n FROM jumps');
        expect(Number(target[0]?.n)).toBe(0);
      }
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
