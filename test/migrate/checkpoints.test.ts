import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CheckpointStore } from '../../src/migrate/checkpoints.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('migrate_checkpoints');
});
afterAll(async () => {
  await db?.drop();
});

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

it('keeps every checkpoint exactly as saved: composite keys with bytes, signs, unicode and digits beyond 2^53', async () => {
  const store = new CheckpointStore(db.target);
  const after = ['-12', '18446744073709551615', 'Zoë 𝄞 "quoted"', ALL_BYTES, null];
  await store.save({ job: 'j1', schema: 'shop', table: 'orders', after, rowsCopied: 1234, done: false });
  // A fresh store (a new process) reads the same values back.
  const again = new CheckpointStore(db.target);
  const loaded = await again.load('j1', 'shop', 'orders');
  expect(loaded).toEqual({ job: 'j1', schema: 'shop', table: 'orders', after, rowsCopied: 1234, done: false });
  expect(Buffer.isBuffer(loaded?.after?.[3])).toBe(true);
});

it('overwrites a table’s checkpoint, keeps jobs and tables apart, and resets them', async () => {
  const store = new CheckpointStore(db.target, { table: 'bf_state' });
  expect(await store.load('j2', 'shop', 'users')).toBeNull();
  await store.save({ job: 'j2', schema: 'shop', table: 'users', after: null, rowsCopied: 0, done: false });
  await store.save({ job: 'j2', schema: 'shop', table: 'users', after: ['500'], rowsCopied: 500, done: false });
  await store.save({ job: 'j2', schema: 'shop', table: 'items', after: ['9'], rowsCopied: 9, done: true });
  await store.save({ job: 'other', schema: 'shop', table: 'users', after: ['1'], rowsCopied: 1, done: false });
  expect((await store.list('j2')).map((c) => [c.table, c.after, c.rowsCopied, c.done])).toEqual([
    ['items', ['9'], 9, true],
    ['users', ['500'], 500, false],
  ]);
  await store.reset('j2', 'shop', 'users');
  expect((await store.list('j2')).map((c) => c.table)).toEqual(['items']);
  await store.reset('j2');
  expect(await store.list('j2')).toEqual([]);
  expect(await store.load('other', 'shop', 'users')).toMatchObject({ after: ['1'] });
});

it('works over a single connection whose session time zone differs', async () => {
  const connection = await createConnection({ uri: db.targetUrl });
  try {
    await connection.query("SET time_zone = '+05:30'");
    const store = new CheckpointStore(connection);
    await store.save({ job: 'j3', schema: 's', table: 't', after: ['2024-03-31 02:30:00.000001'], rowsCopied: 1, done: true });
    expect(await store.load('j3', 's', 't')).toMatchObject({ after: ['2024-03-31 02:30:00.000001'], done: true });
  } finally {
    await connection.end();
  }
});

it('saves on a given connection inside its transaction: the checkpoint commits with it, or not at all', async () => {
  const store = new CheckpointStore(db.target, { table: 'bf_tx_state' });
  await store.save({ job: 'j4', schema: 's', table: 't', after: ['10'], rowsCopied: 10, done: false });
  const connection = await db.target.getConnection();
  try {
    // The state table exists already; the store creates it on its own runner otherwise, never inside the transaction.
    await connection.query('START TRANSACTION');
    await store.save({ job: 'j4', schema: 's', table: 't', after: ['20'], rowsCopied: 20, done: false }, connection);
    // Not visible to others before the COMMIT.
    expect(await store.load('j4', 's', 't')).toMatchObject({ after: ['10'], rowsCopied: 10 });
    await connection.query('ROLLBACK');
    expect(await store.load('j4', 's', 't')).toMatchObject({ after: ['10'], rowsCopied: 10 });

    await connection.query('START TRANSACTION');
    await store.save({ job: 'j4', schema: 's', table: 't', after: ['30'], rowsCopied: 30, done: true }, connection);
    await connection.query('COMMIT');
    expect(await store.load('j4', 's', 't')).toMatchObject({ after: ['30'], rowsCopied: 30, done: true });

    // A store whose table does not exist yet creates it on its own runner first, so the caller's transaction stays open.
    const fresh = new CheckpointStore(db.target, { table: 'bf_tx_new' });
    await connection.query('START TRANSACTION');
    await fresh.save({ job: 'j5', schema: 's', table: 't', after: ['1'], rowsCopied: 1, done: false }, connection);
    await connection.query('ROLLBACK');
    expect(await fresh.load('j5', 's', 't')).toBeNull();
  } finally {
    connection.release();
  }
});
