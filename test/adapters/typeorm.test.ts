/**
 * TypeORM through the dual-write driver (`driver` option): TypeORM's pool is a dual-write pool (`createPool`), its
 * query runners check out dual-write connections and query through their `promise()` view.
 */
import 'reflect-metadata';
import { DataSource, EntitySchema, Table, type MigrationInterface, type QueryRunner, type Repository } from 'typeorm';
import type { RowDataPacket } from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver, type DualDriver } from '../../src/index.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { expectSidesIdentical } from '../support/compare.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { collectFailures, Rollback, runAcrossSwitch, type Item, type OrmWorkflow } from './workflow.js';

interface ItemRow {
  id: number;
  name: string;
  qty: number;
}

const ItemEntity = new EntitySchema<ItemRow>({
  name: 'Item',
  tableName: 'items',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    name: { type: 'varchar', length: 50, unique: true },
    qty: { type: 'int', default: 0 },
  },
});

/** A migration as TypeORM's CLI generates them. */
class CreateItems1700000000000 implements MigrationInterface {
  name = 'CreateItems1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'items',
        columns: [
          { name: 'id', type: 'int', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'name', type: 'varchar', length: '50', isUnique: true },
          { name: 'qty', type: 'int', default: 0 },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('items');
  }
}

let db: TestDatabases;
let driver: DualDriver;
let dataSource: DataSource;
let items: Repository<ItemRow>;
let failures: ReplayFailure[];

beforeAll(async () => {
  db = await createTestDatabases('typeorm');
  driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  failures = collectFailures(driver);
  // The only dual-write line: `driver`. Host, username and password are ignored: each side's come from the driver.
  dataSource = new DataSource({
    type: 'mysql',
    driver,
    host: 'old-db.example',
    username: 'app',
    database: db.name,
    entities: [ItemEntity],
    migrations: [CreateItems1700000000000],
    poolSize: 3,
    logging: false,
  });
  await dataSource.initialize();
  items = dataSource.getRepository(ItemEntity);
});

afterAll(async () => {
  if (dataSource?.isInitialized) await dataSource.destroy();
  await driver?.end();
  await db?.drop();
});

const workflow: OrmWorkflow = {
  async insertMany(rows) {
    const saved = await items.save(rows.map((row) => items.create(row)));
    return saved.map((row) => row.id);
  },
  async update(id, qty) {
    const result = await items.update(id, { qty });
    expect(result.affected).toBe(1);
  },
  async remove(id) {
    const result = await items.delete(id);
    expect(result.affected).toBe(1);
  },
  async commitWithRolledBackSavepoint(kept, dropped) {
    return dataSource.transaction(async (manager) => {
      const row = await manager.save(ItemEntity, manager.create(ItemEntity, { name: kept }));
      await manager
        .transaction(async (nested) => {
          await nested.save(ItemEntity, nested.create(ItemEntity, { name: dropped }));
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      return row.id;
    });
  },
  async rollBack(name, touchId) {
    const outcome = dataSource.transaction(async (manager) => {
      await manager.save(ItemEntity, manager.create(ItemEntity, { name }));
      await manager.transaction((nested) => nested.update(ItemEntity, touchId, { qty: 999 }));
      throw new Rollback();
    });
    await expect(outcome).rejects.toBeInstanceOf(Rollback);
  },
  async streamAll() {
    const stream = await items.createQueryBuilder('i').select('i.id', 'id').addSelect('i.name', 'name').addSelect('i.qty', 'qty').orderBy('i.id').stream();
    const rows: Item[] = [];
    for await (const row of stream) rows.push(row as Item);
    return rows;
  },
};

describe('TypeORM on the dual-write driver', () => {
  it('runs its migrations on both sides, and keeps both sides identical through a switch from source_first to target_first', async () => {
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(['CreateItems1700000000000']);
    await runAcrossSwitch(db, driver, workflow, ['items', 'migrations'], failures);
  });

  it('schema sync: adds a column to both sides', async () => {
    const synced = new DataSource({
      type: 'mysql',
      driver,
      database: db.name,
      entities: [
        new EntitySchema<ItemRow & { note: string | null }>({
          name: 'Item',
          tableName: 'items',
          columns: { ...ItemEntity.options.columns, note: { type: 'varchar', length: 100, nullable: true } } as never,
        }),
      ],
      logging: false,
    });
    await synced.initialize();
    try {
      await synced.synchronize();
      await synced.query('UPDATE items SET note = ? WHERE qty = ?', ['synced', 40]);
    } finally {
      await synced.destroy();
    }
    for (const side of [db.source, db.target]) {
      const [rows] = await side.query<RowDataPacket[]>("SELECT COUNT(*) AS n FROM items WHERE note = 'synced'");
      expect(Number(rows[0]?.n)).toBe(2); // a-1 and b-1 were set to qty 40
    }
    await expectSidesIdentical(db.source, db.target, ['items']);
    expect(failures).toEqual([]);
  });

  it('replication: its pool cluster (every node a dual-write pool) writes through MASTER and reads through SLAVE*', async () => {
    const replicated = new DataSource({
      type: 'mysql',
      driver,
      replication: { master: { host: 'primary.example', database: db.name }, slaves: [{ host: 'replica.example', database: db.name }] },
      entities: [ItemEntity],
      logging: false,
    });
    await replicated.initialize();
    try {
      const repository = replicated.getRepository(ItemEntity);
      const saved = await repository.save([repository.create({ name: 'replicated-1' }), repository.create({ name: 'replicated-2' })]);
      const found = await repository.find({ where: saved.map((row) => ({ id: row.id })), order: { id: 'ASC' } });
      expect(found.map((row) => row.name)).toEqual(['replicated-1', 'replicated-2']);
    } finally {
      await replicated.destroy();
    }
    await expectSidesIdentical(db.source, db.target, ['items']);
    expect(failures).toEqual([]);
  });
});
