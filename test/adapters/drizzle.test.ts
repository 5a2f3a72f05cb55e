/**
 * Drizzle through a dual-write pool: `drizzle({ client: pool })` takes the callback pool and queries through its
 * `promise()` view; transactions check out dual-write connections; `.iterator()` streams through `.stream()`.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { int, mysqlTable, varchar } from 'drizzle-orm/mysql-core';
import { drizzle, type MySql2Database } from 'drizzle-orm/mysql2';
import { migrate } from 'drizzle-orm/mysql2/migrator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drizzleClient } from '../../src/adapters/drizzle.js';
import { createDriver, type DualDriver, type DualPool } from '../../src/index.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { collectFailures, Rollback, runAcrossSwitch, type Item, type OrmWorkflow } from './workflow.js';

const items = mysqlTable('items', {
  id: int('id').autoincrement().primaryKey(),
  name: varchar('name', { length: 50 }).notNull().unique(),
  qty: int('qty').notNull().default(0),
});

/** The migration drizzle-kit generates for `items`, with its journal. */
async function writeMigrations(folder: string): Promise<void> {
  await mkdir(join(folder, 'meta'), { recursive: true });
  await writeFile(
    join(folder, '0000_create_items.sql'),
    'CREATE TABLE `items` (\n\t`id` int AUTO_INCREMENT NOT NULL,\n\t`name` varchar(50) NOT NULL,\n\t`qty` int NOT NULL DEFAULT 0,\n' +
      '\tCONSTRAINT `items_id` PRIMARY KEY(`id`),\n\tCONSTRAINT `items_name_unique` UNIQUE(`name`)\n);\n',
  );
  const journal = { version: '7', dialect: 'mysql', entries: [{ idx: 0, version: '5', when: 1_700_000_000_000, tag: '0000_create_items', breakpoints: true }] };
  await writeFile(join(folder, 'meta', '_journal.json'), JSON.stringify(journal));
}

let db: TestDatabases;
let driver: DualDriver;
let pool: DualPool;
let orm: MySql2Database;
let failures: ReplayFailure[];
let folder: string;

beforeAll(async () => {
  db = await createTestDatabases('drizzle');
  driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  failures = collectFailures(driver);
  pool = driver.createPool({ connectionLimit: 3 });
  // The only dual-write line: the pool (`createPool` from 'dualwrite' works the same, without a driver).
  orm = drizzle({ client: drizzleClient(pool) });
  folder = await mkdtemp(join(tmpdir(), 'dualwrite-drizzle-'));
  await writeMigrations(folder);
});

afterAll(async () => {
  await new Promise<void>((resolve) => pool?.end(() => resolve()));
  await driver?.end();
  await db?.drop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

const workflow: OrmWorkflow = {
  async insertMany(rows) {
    const ids = await orm.insert(items).values(rows.map((row) => ({ ...row }))).$returningId();
    return ids.map((row) => row.id);
  },
  async update(id, qty) {
    const [result] = await orm.update(items).set({ qty }).where(eq(items.id, id));
    expect(result.affectedRows).toBe(1);
  },
  async remove(id) {
    const [result] = await orm.delete(items).where(eq(items.id, id));
    expect(result.affectedRows).toBe(1);
  },
  async commitWithRolledBackSavepoint(kept, dropped) {
    return orm.transaction(async (tx) => {
      const [row] = await tx.insert(items).values({ name: kept }).$returningId();
      await tx
        .transaction(async (nested) => {
          await nested.insert(items).values({ name: dropped });
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      return Number(row?.id);
    });
  },
  async rollBack(name, touchId) {
    const outcome = orm.transaction(async (tx) => {
      await tx.insert(items).values({ name });
      await tx.transaction(async (nested) => {
        await nested.update(items).set({ qty: 999 }).where(eq(items.id, touchId));
      });
      throw new Rollback();
    });
    await expect(outcome).rejects.toBeInstanceOf(Rollback);
  },
  async streamAll() {
    const rows: Item[] = [];
    for await (const row of orm.select().from(items).orderBy(items.id).iterator()) rows.push(row);
    return rows;
  },
};

describe('Drizzle on a dual-write pool', () => {
  it('runs its migrations on both sides, and keeps both sides identical through a switch from source_first to target_first', async () => {
    await migrate(orm, { migrationsFolder: folder });
    const tables = ['items', '__drizzle_migrations'];
    await runAcrossSwitch(db, driver, workflow, tables, failures);
  });
});
