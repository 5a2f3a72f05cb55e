import { createServer, type AddressInfo } from 'node:net';
import type { RowDataPacket } from 'mysql2';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { ReplayFailure } from '../../src/index.js';
import { createPool } from '../../src/promise.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('pool_repair_log');
  // The table exists on the source only: every replay on the target fails.
  await db.source.query('CREATE TABLE notes (note_no INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(20) NOT NULL)');
});
afterAll(async () => {
  await db?.drop();
});

it('records every failed replay in the repair log, in the write’s own transaction, even when callers hold every pool connection', async () => {
  const pool = createPool({
    source: { uri: db.sourceUrl, connectionLimit: 2 },
    target: { uri: db.targetUrl, connectionLimit: 2 },
    mode: 'source_first',
    circuitBreaker: false,
  });
  const events: [ReplayFailure, boolean][] = [];
  pool.pool.on('replayFailure', (failure: ReplayFailure, recorded: boolean) => events.push([failure, recorded]));
  try {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => pool.query('INSERT INTO notes (body) VALUES (?), (?)', [`a${i}`, `b${i}`])),
    );
    const ids = results.flatMap(([r]) => {
      const first = (r as { insertId: number }).insertId;
      return [first, first + 1];
    });
    const [log] = await db.source.query<RowDataPacket[]>('SELECT kind, table_name, primary_keys, error_code FROM dualwrite_repair_log ORDER BY id');
    expect(log).toHaveLength(6);
    const logged = log.flatMap((row) => (JSON.parse(String(row.primary_keys)) as { note_no: string }[]).map((k) => Number(k.note_no)));
    expect(logged.sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b));
    expect(new Set(log.map((row) => `${String(row.kind)} ${String(row.table_name)} ${String(row.error_code)}`))).toEqual(new Set(['statement notes ER_NO_SUCH_TABLE']));
    expect(events.every(([, recorded]) => recorded)).toBe(true);
    expect(pool.stats().unrecordedFailures).toBe(0);
    expect(pool.stats().replayFailures.target).toBe(6);
  } finally {
    await pool.end();
  }
});

it('a replayFailure listener that throws does not turn the successful write into an error; the pool emits the listener’s error as `error`', async () => {
  const pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: db.targetUrl }, mode: 'source_first', circuitBreaker: false });
  const listenerErrors: unknown[] = [];
  pool.pool.on('replayFailure', () => {
    throw new Error('a bug in the application’s listener');
  });
  pool.pool.on('error', (error: unknown) => listenerErrors.push(error));
  try {
    const [result] = await pool.query('INSERT INTO notes (body) VALUES (?)', ['listener']);
    const id = (result as { insertId: number }).insertId;
    expect(id).toBeGreaterThan(0);
    const [rows] = await db.source.query<RowDataPacket[]>('SELECT body FROM notes WHERE note_no = ?', [id]);
    expect(rows.map((row) => row.body as string)).toEqual(['listener']);
    expect(listenerErrors).toHaveLength(1);
    expect((listenerErrors[0] as Error).message).toBe('a bug in the application’s listener');
  } finally {
    await pool.end();
  }
});

it('a transaction whose BEGIN fails on the secondary side logs its writes by table and key, and no row that names no data', async () => {
  // A port nothing listens on: every secondary statement fails to connect.
  const closed = await new Promise<number>((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
  const before = await db.source.query<RowDataPacket[]>('SELECT COALESCE(MAX(id), 0) AS id FROM dualwrite_repair_log');
  const since = Number(before[0][0]?.id);
  const pool = createPool({ source: { uri: db.sourceUrl }, target: { uri: `mysql://root@127.0.0.1:${closed}/nothing`, connectTimeout: 2000 }, mode: 'source_first', circuitBreaker: false });
  try {
    const connection = await pool.getConnection();
    try {
      await connection.beginTransaction();
      const [first] = await connection.query('INSERT INTO notes (body) VALUES (?)', ['tx 1']);
      const [second] = await connection.query('INSERT INTO notes (body) VALUES (?)', ['tx 2']);
      await connection.commit();
      const ids = [(first as { insertId: number }).insertId, (second as { insertId: number }).insertId];
      const [log] = await db.source.query<RowDataPacket[]>('SELECT table_name, primary_keys FROM dualwrite_repair_log WHERE id > ? ORDER BY id', [since]);
      expect(log.map((row) => row.table_name as string | null)).not.toContain(null);
      const logged = log.flatMap((row) => (JSON.parse(String(row.primary_keys)) as { note_no: string }[]).map((k) => Number(k.note_no)));
      expect(logged.sort((a, b) => a - b)).toEqual(ids.sort((a, b) => a - b));
    } finally {
      connection.release();
    }
  } finally {
    await pool.end();
  }
});
