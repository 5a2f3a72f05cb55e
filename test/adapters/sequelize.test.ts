/**
 * Sequelize through the dual-write driver (`dialectModule: driver`): Sequelize's own connections are dual-write
 * connections (`createConnection`), which follow the driver's mode between transactions.
 */
import { DataTypes, Model, Sequelize, type Transaction } from 'sequelize';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDriver, type DualDriver } from '../../src/index.js';
import type { ReplayFailure } from '../../src/replay/failure.js';
import { createTestDatabases, type TestDatabases } from '../support/databases.js';
import { collectFailures, Rollback, runAcrossSwitch, type Item, type OrmWorkflow } from './workflow.js';

class ItemModel extends Model {
  declare id: number;
  declare name: string;
  declare qty: number;
}

let db: TestDatabases;
let driver: DualDriver;
let sequelize: Sequelize;
let failures: ReplayFailure[];

beforeAll(async () => {
  db = await createTestDatabases('sequelize');
  driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  failures = collectFailures(driver);
  // The only dual-write line: `dialectModule`. Host, user and password here are ignored: each side's come from the driver.
  sequelize = new Sequelize(db.name, 'app', 'not-used', { dialect: 'mysql', dialectModule: driver, logging: false, pool: { max: 3, min: 0 } });
  ItemModel.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(50), allowNull: false, unique: true },
      qty: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
    },
    { sequelize, tableName: 'items', timestamps: true },
  );
});

afterAll(async () => {
  await sequelize?.close();
  await driver?.end();
  await db?.drop();
});

const workflow: OrmWorkflow = {
  async insertMany(items) {
    const created = await ItemModel.bulkCreate(items.map((item) => ({ ...item })));
    return created.map((item) => item.id);
  },
  async update(id, qty) {
    const [count] = await ItemModel.update({ qty }, { where: { id } });
    expect(count).toBe(1);
  },
  async remove(id) {
    expect(await ItemModel.destroy({ where: { id } })).toBe(1);
  },
  async commitWithRolledBackSavepoint(kept, dropped) {
    return sequelize.transaction(async (outer: Transaction) => {
      const item = await ItemModel.create({ name: kept }, { transaction: outer });
      await sequelize
        .transaction({ transaction: outer }, async (savepoint) => {
          await ItemModel.create({ name: dropped }, { transaction: savepoint });
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      return item.id;
    });
  },
  async rollBack(name, touchId) {
    const outcome = sequelize.transaction(async (outer) => {
      await ItemModel.create({ name }, { transaction: outer });
      await sequelize.transaction({ transaction: outer }, async (savepoint) => {
        await ItemModel.update({ qty: 999 }, { where: { id: touchId }, transaction: savepoint });
      });
      throw new Rollback();
    });
    await expect(outcome).rejects.toBeInstanceOf(Rollback);
  },
  async streamAll() {
    // Sequelize has no streaming API: stream through the driver connection Sequelize itself holds.
    const connection = (await sequelize.connectionManager.getConnection({ type: 'read' })) as unknown as {
      query(sql: string): { stream(): AsyncIterable<Item> };
    };
    try {
      const rows: Item[] = [];
      for await (const row of connection.query('SELECT id, name, qty FROM items ORDER BY id').stream()) rows.push(row);
      return rows;
    } finally {
      sequelize.connectionManager.releaseConnection(connection);
    }
  },
};

describe('Sequelize on the dual-write driver', () => {
  it('syncs its schema to both sides, and keeps both sides identical through a switch from source_first to target_first', async () => {
    await sequelize.sync();
    await runAcrossSwitch(db, driver, workflow, ['items'], failures);
  });
});
