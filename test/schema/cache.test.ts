import { createPool, type Pool } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TableNotFoundError } from '../../src/errors.js';
import { SchemaCache, type MetadataQueryable } from '../../src/schema/index.js';
import { createTestDatabases, spawnTestServer, urlWithDatabase, type TestDatabases } from '../support/databases.js';
import { canSpawnServers } from '../support/servers.js';

/** A real pool that counts what goes through it. */
function counting(pool: Pool): MetadataQueryable & { sql: string[]; tableLoads(): number; settingsLoads(): number } {
  const sql: string[] = [];
  return {
    sql,
    query(text: string, values?: unknown[]) {
      sql.push(text);
      return pool.query(text, values);
    },
    tableLoads: () => sql.filter((text) => text.includes('information_schema.COLUMNS')).length,
    settingsLoads: () => sql.filter((text) => text.includes('@@innodb_autoinc_lock_mode')).length,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let db: TestDatabases;

beforeAll(async () => {
  db = await createTestDatabases('schema_cache');
  await db.source.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))');
  await db.source.query('CREATE TABLE other (id INT PRIMARY KEY)');
});

afterAll(async () => {
  await db?.drop();
});

describe('SchemaCache', () => {
  it('accepts a mysql2/promise pool as its queryable', async () => {
    const queryable: MetadataQueryable = db.source; // compile-time check: the structural type fits
    const cache = new SchemaCache(queryable);
    expect((await cache.get(db.name, 'items')).primaryKey).toEqual(['id']);
  });

  it('loads a table once for 50 concurrent get() calls (single flight)', async () => {
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper);
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.get(db.name, 'items')));
    expect(wrapper.tableLoads()).toBe(1);
    expect(wrapper.settingsLoads()).toBe(1);
    expect(new Set(results).size).toBe(1);
    expect(results[0]?.columns.map((c) => c.name)).toEqual(['id', 'name']);
    // cached afterwards
    await cache.get(db.name, 'items');
    expect(wrapper.tableLoads()).toBe(1);
    expect(cache.peek(db.name, 'items')).toBe(results[0]);
    expect(cache.size).toBe(1);
  });

  it('reads the server settings once, shared by concurrent callers', async () => {
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper);
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.settings()));
    expect(wrapper.settingsLoads()).toBe(1);
    expect(new Set(all).size).toBe(1);
    await cache.settings();
    expect(wrapper.settingsLoads()).toBe(1);
  });

  it('does not cache a failed load: a table created later is found', async () => {
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper);
    const attempts = await Promise.allSettled(Array.from({ length: 10 }, () => cache.get(db.name, 'late')));
    expect(attempts.every((a) => a.status === 'rejected' && a.reason instanceof TableNotFoundError)).toBe(true);
    expect(wrapper.tableLoads()).toBe(1);
    await db.source.query('CREATE TABLE late (k VARCHAR(5) PRIMARY KEY)');
    expect((await cache.get(db.name, 'late')).primaryKey).toEqual(['k']);
    expect(wrapper.tableLoads()).toBe(2);
  });

  it('retries settings after a failed read', async () => {
    let fail = true;
    const flaky: MetadataQueryable = {
      query: (sql, values) => (fail ? Promise.reject(new Error('boom')) : db.source.query(sql, values)),
    };
    const cache = new SchemaCache(flaky);
    await expect(cache.get(db.name, 'items')).rejects.toMatchObject({ code: 'ER_DUALWRITE_METADATA_LOAD_FAILED' });
    fail = false;
    expect((await cache.get(db.name, 'items')).name).toBe('items');
  });

  it('shows a new column after invalidate(), and the stale entry until then', async () => {
    await db.source.query('CREATE TABLE altering (id INT PRIMARY KEY)');
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper);
    expect((await cache.get(db.name, 'altering')).columns.map((c) => c.name)).toEqual(['id']);
    await db.source.query('ALTER TABLE altering ADD COLUMN added INT');
    expect((await cache.get(db.name, 'altering')).columns.map((c) => c.name)).toEqual(['id']);
    cache.invalidate(db.name, 'altering');
    expect(cache.peek(db.name, 'altering')).toBeUndefined();
    expect((await cache.get(db.name, 'altering')).columns.map((c) => c.name)).toEqual(['id', 'added']);
    expect(wrapper.tableLoads()).toBe(2);
  });

  it('invalidateSchema() and invalidateAll() drop entries', async () => {
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper);
    await Promise.all([cache.get(db.name, 'items'), cache.get(db.name, 'other')]);
    expect(wrapper.tableLoads()).toBe(2);
    cache.invalidateSchema('some_other_schema');
    await Promise.all([cache.get(db.name, 'items'), cache.get(db.name, 'other')]);
    expect(wrapper.tableLoads()).toBe(2);
    cache.invalidateSchema(db.name);
    expect(cache.size).toBe(0);
    await Promise.all([cache.get(db.name, 'items'), cache.get(db.name, 'other')]);
    expect(wrapper.tableLoads()).toBe(4);
    cache.invalidateAll();
    expect(cache.peek(db.name, 'items')).toBeUndefined();
    await cache.get(db.name, 'items');
    expect(wrapper.tableLoads()).toBe(5);
    expect(wrapper.settingsLoads()).toBe(1);
  });

  it('does not keep the result of a load that was invalidated while running', async () => {
    await db.source.query('CREATE TABLE racing (id INT PRIMARY KEY)');
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper);
    await cache.settings();
    const running = cache.get(db.name, 'racing');
    cache.invalidate(db.name, 'racing'); // e.g. DDL finished while the load was under way
    await db.source.query('ALTER TABLE racing ADD COLUMN later INT');
    await running; // the waiting caller still gets an answer
    expect((await cache.get(db.name, 'racing')).columns.map((c) => c.name)).toEqual(['id', 'later']);
    expect(wrapper.tableLoads()).toBe(2);
  });

  it('reloads after the TTL', async () => {
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper, { ttl: 150 });
    await cache.get(db.name, 'items');
    await cache.get(db.name, 'items');
    expect(wrapper.tableLoads()).toBe(1);
    await sleep(250);
    expect(cache.peek(db.name, 'items')).toBeUndefined();
    await cache.get(db.name, 'items');
    expect(wrapper.tableLoads()).toBe(2);
  });

  it('evicts the least recently used table beyond max', async () => {
    const wrapper = counting(db.source);
    const cache = new SchemaCache(wrapper, { max: 1 });
    await cache.get(db.name, 'items');
    await cache.get(db.name, 'other');
    expect(cache.size).toBe(1);
    expect(cache.peek(db.name, 'items')).toBeUndefined();
    expect(cache.peek(db.name, 'other')).toBeDefined();
  });

  it('calls a queryable-returning function before each load', async () => {
    let calls = 0;
    const cache = new SchemaCache(() => {
      calls++;
      return db.source;
    });
    await cache.get(db.name, 'items');
    await cache.get(db.name, 'other');
    await cache.get(db.name, 'items');
    expect(calls).toBe(3); // settings + two tables
  });

  it('rejects nonsense options', () => {
    expect(() => new SchemaCache(db.source, { ttl: -1 })).toThrow(RangeError);
    expect(() => new SchemaCache(db.source, { max: 0 })).toThrow(RangeError);
  });

  it('compares names case-sensitively when lower_case_table_names = 0', async () => {
    const cache = new SchemaCache(db.source);
    if ((await cache.settings()).lowerCaseTableNames !== 0) return;
    await expect(cache.get(db.name, 'ITEMS')).rejects.toBeInstanceOf(TableNotFoundError);
  });
});

describe.skipIf(!canSpawnServers())('SchemaCache on a server with lower_case_table_names = 1', () => {
  it('treats names case-insensitively and shares one entry', async () => {
    const server = await spawnTestServer({ name: 'lctn', settings: { lower_case_table_names: 1 } });
    try {
      const admin = createPool({ uri: server.url, connectionLimit: 2 });
      try {
        await admin.query('CREATE DATABASE Shop');
        await admin.query('CREATE TABLE Shop.Orders (Order_No INT AUTO_INCREMENT PRIMARY KEY)');
      } finally {
        await admin.end();
      }
      const pool = createPool({ uri: urlWithDatabase(server.url, 'shop'), connectionLimit: 2 });
      try {
        const wrapper = counting(pool);
        const cache = new SchemaCache(wrapper);
        expect((await cache.settings()).lowerCaseTableNames).toBe(1);
        const a = await cache.get('SHOP', 'orders');
        const b = await cache.get('shop', 'ORDERS');
        expect(b).toBe(a);
        expect(a.name).toBe('orders');
        expect(a.autoIncrementColumn).toBe('Order_No');
        expect(wrapper.tableLoads()).toBe(1);
        cache.invalidate('Shop', 'Orders');
        expect(cache.peek('shop', 'orders')).toBeUndefined();
      } finally {
        await pool.end();
      }
    } finally {
      await server.destroy();
    }
  });
});
