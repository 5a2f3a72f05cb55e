/**
 * `npm run example:sequelize`: Sequelize's everyday workflow on two databases at once, through the dual-write driver.
 *
 * Schema sync (`sequelize.sync()`), `bulkCreate` whose generated ids Sequelize reads back, a managed transaction with
 * a nested one (a savepoint) that is rolled back, a switch from source_first to target_first, more writes and a read
 * with an association; then an independent check that both databases hold the same rows. The one changed line is
 * the `dialectModule`.
 */
import { DataTypes, Model, Sequelize, type CreationOptional, type ForeignKey, type InferAttributes, type InferCreationAttributes, type NonAttribute } from 'sequelize';
// In your application: `from 'dualwrite'` (this repository imports its own source).
import { createDriver } from '../../src/index.js';
import { checkBothSides, runExample, say } from '../shared/run.js';

class Customer extends Model<InferAttributes<Customer>, InferCreationAttributes<Customer>> {
  declare id: CreationOptional<number>;
  declare name: string;
  declare email: string;
}

class Order extends Model<InferAttributes<Order>, InferCreationAttributes<Order>> {
  declare id: CreationOptional<number>;
  declare customerId: ForeignKey<Customer['id']>;
  declare total: string;
  declare status: CreationOptional<'new' | 'paid' | 'shipped'>;
  declare customer?: NonAttribute<Customer>;
}

runExample('sequelize', async (db) => {
  // ddl: 'both' lets sync() create the tables on both sides.
  const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  // The one added option: dialectModule. Username and password here are ignored: each side's come from the driver.
  const sequelize = new Sequelize(db.name, 'app', undefined, { dialect: 'mysql', dialectModule: driver, logging: false, pool: { max: 4, min: 0 } });
  Customer.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false },
      email: { type: DataTypes.STRING(200), allowNull: false, unique: true },
    },
    { sequelize, tableName: 'customers' },
  );
  Order.init(
    {
      id: { type: DataTypes.INTEGER, autoIncrement: true, primaryKey: true },
      total: { type: DataTypes.DECIMAL(10, 2), allowNull: false },
      status: { type: DataTypes.ENUM('new', 'paid', 'shipped'), allowNull: false, defaultValue: 'new' },
    },
    { sequelize, tableName: 'orders', underscored: true },
  );
  Customer.hasMany(Order, { foreignKey: { name: 'customerId', field: 'customer_id', allowNull: false } });
  Order.belongsTo(Customer, { foreignKey: { name: 'customerId', field: 'customer_id', allowNull: false }, as: 'customer' });

  const customerIds: number[] = [];
  const orderIds: number[] = [];
  try {
    await sequelize.sync();
    say(`schema    sync() created customers and orders on both sides (mode ${driver.mode})`);

    const created = await Customer.bulkCreate([
      { name: 'Ada', email: 'ada@example.com' },
      { name: 'Grace', email: 'grace@example.com' },
      { name: 'Edsger', email: 'edsger@example.com' },
    ]);
    customerIds.push(...created.map((c) => c.id));
    say(`insert    bulkCreate() of 3 customers: ids ${customerIds.join(', ')} read back by Sequelize`);
    const [ada, grace] = created as [Customer, Customer, Customer];

    const placed = await sequelize.transaction(async (transaction) => {
      const order = await Order.create({ customerId: ada.id, total: '42.50' }, { transaction });
      await order.update({ status: 'paid' }, { transaction });
      // A nested transaction is a savepoint: its failure undoes its own writes only, on both sides.
      await sequelize
        .transaction({ transaction }, async (savepoint) => {
          await Order.create({ customerId: ada.id, total: '999.00' }, { transaction: savepoint });
          throw new Error('card declined');
        })
        .catch(() => undefined);
      return order.id;
    });
    orderIds.push(placed);
    say(`trx       order ${placed} placed and paid in one transaction; a second order in a savepoint was rolled back`);

    await driver.setMode('target_first');
    say(`switch    driver.setMode('target_first'): the target answers now; Sequelize's connections follow between transactions`);

    const later = await Order.create({ customerId: grace.id, total: '7.25' });
    orderIds.push(later.id);
    await Order.update({ status: 'shipped' }, { where: { id: placed } });
    const found = await Order.findAll({ include: [{ model: Customer, as: 'customer' }], order: [['id', 'ASC']] });
    say(`read      ${found.map((o) => `#${o.id} ${o.customer?.name ?? '?'} ${o.total} ${o.status}`).join('; ')} (from the target)`);
  } finally {
    await sequelize.close();
    await driver.end();
  }

  const stats = driver.stats();
  const failures = stats.replayFailures.source + stats.replayFailures.target;
  say(`stats     replayed on target ${stats.replayedWrites.target}, on source ${stats.replayedWrites.source}; failures ${failures}\n`);
  const ok = (await checkBothSides(db, ['customers', 'orders'], { customers: customerIds, orders: orderIds })) && failures === 0;
  say(ok ? '\nOK: Sequelize synced both sides, wrote through source_first and target_first, and both sides are identical.' : '\nNOT OK: see the checks above.');
  return ok;
});
