import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReplayFailure } from '../../src/index.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { seeded as generator } from '../support/random.js';

/**
 * 16 concurrent callers run every kind of write the pool handles — statement replays with generated IDs,
 * pinned clocks and pinned UUID()/RAND(), and row images for IGNORE, ODKU, REPLACE, INSERT … SELECT,
 * LIMIT without ORDER BY and multi-table UPDATE — against the same few rows, in source_first and then in
 * target_first. Deadlocks between them are primary-side errors the caller sees and retries, as with mysql2.
 * The sides must end identical with no replay failure.
 */
let db: TestDatabases;
let pool: DualPromisePool;
const failures: ReplayFailure[] = [];

const SCHEMA = [
  `CREATE TABLE members (
    member_no INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(40) NOT NULL UNIQUE,
    points INT NOT NULL DEFAULT 0,
    token CHAR(36) NULL,
    luck DOUBLE NULL,
    joined DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    touched TIMESTAMP(6) NULL ON UPDATE CURRENT_TIMESTAMP(6)
  )`,
  `CREATE TABLE ledger (
    member_no INT NOT NULL,
    seq INT NOT NULL,
    amount DECIMAL(12,2) NOT NULL,
    at DATETIME(6) NOT NULL,
    PRIMARY KEY (member_no, seq)
  )`,
  'CREATE TABLE snapshots (snap_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, email VARCHAR(40) NOT NULL, points INT NOT NULL)',
];

const EMAILS = Array.from({ length: 12 }, (_, i) => `m${i}@x`);

const OPERATIONS: ((p: DualPromisePool, r: () => number) => Promise<unknown>)[] = [
  (p, r) => p.query('INSERT INTO members (email, points) VALUES (?, ?), (?, ?)', [`n${Math.floor(r() * 1e9)}@x`, 1, `n${Math.floor(r() * 1e9)}@y`, 2]),
  (p, r) => p.execute('INSERT IGNORE INTO members (email) VALUES (?), (?)', [pick(r), pick(r)]),
  (p, r) => p.query('INSERT INTO members (email, points) VALUES (?, 1) ON DUPLICATE KEY UPDATE points = points + 1', [pick(r)]),
  (p, r) => p.query('REPLACE INTO members (email, points) VALUES (?, 100)', [pick(r)]),
  (p, r) => p.execute('UPDATE members SET points = ? WHERE email = ?', [Math.floor(r() * 1000), pick(r)]),
  (p) => p.query('UPDATE members SET points = points + 1 WHERE points < 50 LIMIT 3'),
  (p, r) => p.query('UPDATE members SET token = UUID(), luck = RAND() WHERE email = ?', [pick(r)]),
  (p, r) => p.query('INSERT INTO members (email, token, luck) VALUES (?, UUID(), RAND())', [`u${Math.floor(r() * 1e9)}@x`]),
  (p, r) => p.query('INSERT INTO snapshots (email, points) SELECT email, points FROM members WHERE email = ?', [pick(r)]),
  (p, r) => p.query('INSERT INTO ledger (member_no, seq, amount, at) VALUES (?, ?, ?, NOW(6))', [Math.floor(r() * 20) + 1, Math.floor(r() * 1e6), '12.50']),
  (p) => p.query('UPDATE ledger l JOIN members m ON m.member_no = l.member_no SET l.amount = l.amount + m.points WHERE m.points > 500'),
  (p, r) => p.query('DELETE FROM members WHERE email = ?', [pick(r)]),
  async (p, r) => {
    const conn = await p.getConnection();
    try {
      await conn.beginTransaction();
      const [result] = await conn.query('INSERT INTO members (email) VALUES (?)', [`t${Math.floor(r() * 1e9)}@x`]);
      const id = (result as { insertId: number }).insertId;
      await conn.query('SAVEPOINT a');
      await conn.execute('INSERT INTO ledger (member_no, seq, amount, at) VALUES (?, 1, ?, NOW(6))', [id, '1.00']);
      if (r() < 0.5) await conn.query('ROLLBACK TO SAVEPOINT a');
      if (r() < 0.2) await conn.rollback();
      else await conn.commit();
    } catch (error) {
      await conn.rollback().catch(() => undefined);
      throw error;
    } finally {
      conn.release();
    }
  },
];

function pick(r: () => number): string {
  return EMAILS[Math.floor(r() * EMAILS.length)] ?? 'm0@x';
}

/** Errors the primary side may give concurrent callers, which they retry (mysql2 users see the same). */
const RETRYABLE = new Set(['ER_LOCK_DEADLOCK', 'ER_LOCK_WAIT_TIMEOUT']);
const retried: string[] = [];

async function caller(seed: number, rounds: number): Promise<void> {
  const r = generator(seed);
  for (let i = 0; i < rounds; i++) {
    const operation = OPERATIONS[Math.floor(r() * OPERATIONS.length)];
    if (operation === undefined) continue;
    try {
      await operation(pool, r);
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!RETRYABLE.has(code)) throw error;
      retried.push(code);
    }
  }
}

beforeAll(async () => {
  db = await createTestDatabases('pool_mixed');
  for (const side of [db.source, db.target]) for (const ddl of SCHEMA) await side.query(ddl);
  await db.target.query('ALTER TABLE members AUTO_INCREMENT = 8000000');
  await db.target.query('ALTER TABLE snapshots AUTO_INCREMENT = 8000000');
  pool = createPool({ source: { uri: db.sourceUrl, connectionLimit: 20 }, target: { uri: db.targetUrl, connectionLimit: 20 }, mode: 'source_first' });
  pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  await pool.query(`INSERT INTO members (email) VALUES ${EMAILS.map(() => '(?)').join(', ')}`, EMAILS);
});

afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

it('16 concurrent callers of every write kind leave both sides identical, in source_first and in target_first', async () => {
  await bothModes();
});

it('the same with intents (the secondary side holds its locks until after the primary COMMIT)', async () => {
  const plain = pool;
  pool = createPool({ source: { uri: db.sourceUrl, connectionLimit: 20 }, target: { uri: db.targetUrl, connectionLimit: 20 }, mode: 'source_first', intents: true });
  pool.pool.on('replayFailure', (failure: ReplayFailure) => failures.push(failure));
  try {
    await bothModes();
  } finally {
    await pool.end();
    pool = plain;
  }
});

/** The workload in source_first, then in target_first; the sides are compared after each. */
async function bothModes(): Promise<void> {
  const seed = Number(process.env.DUALWRITE_TEST_SEED ?? Date.now() % 100000);
  console.info(`mixed workload seed ${seed} (set DUALWRITE_TEST_SEED to replay)`);
  await Promise.all(Array.from({ length: 16 }, (_, i) => caller(seed * 100 + i, 25)));
  await expectSidesIdentical(db.source, db.target, ['members', 'ledger', 'snapshots']);
  await pool.setMode('target_first');
  await Promise.all(Array.from({ length: 16 }, (_, i) => caller(seed * 100 + 50 + i, 25)));
  await expectSidesIdentical(db.source, db.target, ['members', 'ledger', 'snapshots']);
  expect(failures.map((f) => `${f.kind}: ${f.error?.message ?? ''} — ${f.sql}`)).toEqual([]);
  const stats = pool.stats();
  console.info(`acknowledged ${JSON.stringify(stats.acknowledgedWrites)}, row images ${stats.rowImageReplays}, deadlocks retried ${retried.length}`);
  expect(stats.rowImageReplays).toBeGreaterThan(0);
  // Most writes must have gone through, or the comparison proves little.
  expect(stats.acknowledgedWrites.source + stats.acknowledgedWrites.target).toBeGreaterThan(500);
}
