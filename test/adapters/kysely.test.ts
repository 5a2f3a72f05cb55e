/**
 * Kysely through a dual-write pool: `new MysqlDialect({ pool })` takes the callback pool as it is (getConnection,
 * query with a callback or `.stream()`, release, end).
 */
import { Kysely, Migrator, MysqlDialect, type Generated, type Migration, type MigrationProvider } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver, type DualDriver, type DualPool } from '../../src/index.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { collectFailures, Rollback, runAcrossSwitch, type Item, type OrmWorkflow } from './workflow.js';

interface Database {
  items: { id: Generated<number>; name: string; qty: Generated<number> };
}

/** Migrations as Kysely's FileMigrationProvider would load them, given in memory. */
const provider: MigrationProvider = {
  getMigrations: () =>
    Promise.resolve<Record<string, Migration>>({
      '2024_01_01_create_items': {
        up: (k: Kysely<unknown>) =>
          k.schema
            .createTable('items')
            .addColumn('id', 'integer', (c) => c.autoIncrement().primaryKey())
            .addColumn('name', 'varchar(50)', (c) => c.notNull().unique())
            .addColumn('qty', 'integer', (c) => c.notNull().defaultTo(0))
            .execute(),
        down: (k: Kysely<unknown>) => k.schema.dropTable('items').execute(),
      },
    }),
};

let db: TestDatabases;
let driver: DualDriver;
let pool: DualPool;
let orm: Kysely<Database>;
let failures: ReplayFailure[];

beforeAll(async () => {
  db = await createTestDatabases('kysely');
  driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  failures = collectFailures(driver);
  pool = driver.createPool({ connectionLimit: 3 });
  // The only dual-write line: the pool (`createPool` from 'dualwrite' works the same, without a driver).
  orm = new Kysely<Database>({ dialect: new MysqlDialect({ pool }) });
});

afterAll(async () => {
  await orm?.destroy(); // ends the pool, as Kysely does with its pools
  await driver?.end();
  await db?.drop();
});

const workflow: OrmWorkflow = {
  async insertMany(rows) {
    // MySQL hands back the first generated ID of a multi-row INSERT.
    const result = await orm.insertInto('items').values(rows.map((row) => ({ ...row }))).executeTakeFirstOrThrow();
    return rows.map((_, index) => Number(result.insertId) + index);
  },
  async update(id, qty) {
    const result = await orm.updateTable('items').set({ qty }).where('id', '=', id).executeTakeFirstOrThrow();
    expect(result.numUpdatedRows).toBe(1n);
  },
  async remove(id) {
    const result = await orm.deleteFrom('items').where('id', '=', id).executeTakeFirstOrThrow();
    expect(result.numDeletedRows).toBe(1n);
  },
  async commitWithRolledBackSavepoint(kept, dropped) {
    const trx = await orm.startTransaction().execute();
    try {
      const result = await trx.insertInto('items').values({ name: kept }).executeTakeFirstOrThrow();
      const inSavepoint = await trx.savepoint('before_dropped').execute();
      await inSavepoint.insertInto('items').values({ name: dropped }).execute();
      await inSavepoint.rollbackToSavepoint('before_dropped').execute();
      await trx.commit().execute();
      return Number(result.insertId);
    } catch (error) {
      await trx.rollback().execute();
      throw error;
    }
  },
  async rollBack(name, touchId) {
    const outcome = orm.transaction().execute(async (trx) => {
      await trx.insertInto('items').values({ name }).execute();
      await trx.updateTable('items').set({ qty: 999 }).where('id', '=', touchId).execute();
      throw new Rollback();
    });
    await expect(outcome).rejects.toBeInstanceOf(Rollback);
    // and a savepoint released inside a transaction that is then rolled back
    const trx = await orm.startTransaction().execute();
    const inSavepoint = await trx.savepoint('touch').execute();
    await inSavepoint.updateTable('items').set({ qty: 998 }).where('id', '=', touchId).execute();
    await inSavepoint.releaseSavepoint('touch').execute();
    await trx.rollback().execute();
  },
  async streamAll() {
    const rows: Item[] = [];
    for await (const row of orm.selectFrom('items').select(['id', 'name', 'qty']).orderBy('id').stream()) rows.push(row);
    return rows;
  },
};

describe('Kysely on a dual-write pool', () => {
  it('runs its migrations on both sides, and keeps both sides identical through a switch from source_first to target_first', async () => {
    const { error, results } = await new Migrator({ db: orm, provider }).migrateToLatest();
    expect(error).toBeUndefined();
    expect(results?.map((r) => [r.migrationName, r.status])).toEqual([['2024_01_01_create_items', 'Success']]);
    const tables = ['items', 'kysely_migration', 'kysely_migration_lock'];
    await runAcrossSwitch(db, driver, workflow, tables, failures);
  });
});
