/**
 * Knex through the dual-write driver, both ways: `dualwrite/knex`'s client (any Knex 3.x; Knex's own pool of
 * dual-write connections) and Knex >= 3.3's `connectionPool` option given a dual-write pool.
 */
import knex, { type Knex } from 'knex';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knexClient } from '../../src/adapters/knex.js';
import { createDriver, type DualDriver, type DualPool } from '../../src/index.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { collectFailures, Rollback, runAcrossSwitch, type Item, type OrmWorkflow } from './workflow.js';

/** Migrations as Knex runs them from files, given in memory. */
const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: () => Promise.resolve(['20240101000000_create_items']),
  getMigrationName: (name) => name,
  getMigration: () =>
    Promise.resolve({
      up: (k: Knex) =>
        k.schema.createTable('items', (table) => {
          table.increments('id');
          table.string('name', 50).notNullable().unique();
          table.integer('qty').notNullable().defaultTo(0);
        }),
      down: (k: Knex) => k.schema.dropTable('items'),
    }),
};

function workflowOf(k: () => Knex): OrmWorkflow {
  return {
    async insertMany(rows) {
      // MySQL hands back the first generated ID of a multi-row INSERT; Knex returns it as `[insertId]`.
      const [first] = await k()('items').insert<number[]>(rows.map((row) => ({ ...row })));
      return rows.map((_, index) => Number(first) + index);
    },
    async update(id, qty) {
      expect(await k()('items').where({ id }).update({ qty })).toBe(1);
    },
    async remove(id) {
      expect(await k()('items').where({ id }).delete()).toBe(1);
    },
    async commitWithRolledBackSavepoint(kept, dropped) {
      return k().transaction(async (trx) => {
        const [id] = await trx('items').insert<number[]>({ name: kept });
        await trx
          .transaction(async (nested) => {
            await nested('items').insert({ name: dropped });
            throw new Rollback();
          })
          .catch((error: unknown) => {
            if (!(error instanceof Rollback)) throw error;
          });
        return Number(id);
      });
    },
    async rollBack(name, touchId) {
      const outcome = k().transaction(async (trx) => {
        await trx('items').insert({ name });
        await trx.transaction((nested) => nested('items').where({ id: touchId }).update({ qty: 999 }));
        throw new Rollback();
      });
      await expect(outcome).rejects.toBeInstanceOf(Rollback);
    },
    async streamAll() {
      const rows: Item[] = [];
      for await (const row of k()('items').select('id', 'name', 'qty').orderBy('id').stream()) rows.push(row as Item);
      return rows;
    },
  };
}

/** The whole check: migrations, a run in source_first, the switch, a run in target_first. */
async function switchOver(db: TestDatabases, driver: DualDriver, k: Knex, failures: ReplayFailure[]): Promise<void> {
  const [, applied] = (await k.migrate.latest({ migrationSource })) as [number, string[]];
  expect(applied).toEqual(['20240101000000_create_items']);
  const tables = ['items', 'knex_migrations', 'knex_migrations_lock'];
  const workflow = workflowOf(() => k);
  await runAcrossSwitch(db, driver, workflow, tables, failures);
}

describe('Knex with dualwrite/knex (its own pool of dual-write connections)', () => {
  let db: TestDatabases;
  let driver: DualDriver;
  let k: Knex;
  let failures: ReplayFailure[];

  beforeAll(async () => {
    db = await createTestDatabases('knex_client');
    driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
    failures = collectFailures(driver);
    // The only dual-write line: `client`. The connection object only opens Knex's pool; each side's address comes from the driver.
    k = knex({ client: knexClient(driver), connection: { host: 'old-db.example', database: db.name }, pool: { min: 0, max: 3 } });
  });

  afterAll(async () => {
    await k?.destroy();
    await driver?.end();
    await db?.drop();
  });

  it('migrates both sides, and keeps them identical through a switch from source_first to target_first', async () => {
    await switchOver(db, driver, k, failures);
  });

  it('refuses a value that is not a dual-write driver', () => {
    expect(() => knexClient({} as DualDriver)).toThrow(/createDriver\(\)/);
  });
});

describe("Knex >= 3.3 with `connectionPool` (a dual-write pool)", () => {
  let db: TestDatabases;
  let driver: DualDriver;
  let pool: DualPool;
  let k: Knex;
  let failures: ReplayFailure[];

  beforeAll(async () => {
    db = await createTestDatabases('knex_pool');
    driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
    failures = collectFailures(driver);
    pool = driver.createPool({ connectionLimit: 3 });
    k = knex({ client: 'mysql2', connectionPool: pool });
  });

  afterAll(async () => {
    await k?.destroy();
    await new Promise<void>((resolve) => pool?.end(() => resolve())); // Knex does not own a pool it was given
    await driver?.end();
    await db?.drop();
  });

  it('migrates both sides, and keeps them identical through a switch from source_first to target_first', async () => {
    await switchOver(db, driver, k, failures);
  });
});
