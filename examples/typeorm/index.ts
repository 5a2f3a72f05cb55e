/**
 * `npm run example:typeorm`: TypeORM's everyday workflow on two databases at once, through the dual-write driver.
 *
 * A migration (`runMigrations()`), `save()` of several entities whose generated ids TypeORM reads back, a
 * transaction with a nested one (a savepoint) that is rolled back, a switch from source_first to target_first,
 * more writes and a read with a relation; then an independent check that both databases hold the same rows.
 * The one changed line is the DataSource's `driver`.
 */
import 'reflect-metadata';
import { DataSource, EntitySchema, Table, type MigrationInterface, type QueryRunner } from 'typeorm';
// In your application: `from 'dualwrite'` (this repository imports its own source).
import { createDriver } from '../../src/index.js';
import { checkBothSides, runExample, say } from '../shared/run.js';

interface Customer {
  id: number;
  name: string;
  email: string;
  orders?: Order[];
}

interface Order {
  id: number;
  total: string;
  status: 'new' | 'paid' | 'shipped';
  createdAt: Date;
  customer: Customer;
}

const CustomerEntity = new EntitySchema<Customer>({
  name: 'Customer',
  tableName: 'customers',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    name: { type: 'varchar', length: 100 },
    email: { type: 'varchar', length: 200, unique: true },
  },
  relations: { orders: { type: 'one-to-many', target: 'Order', inverseSide: 'customer' } },
});

const OrderEntity = new EntitySchema<Order>({
  name: 'Order',
  tableName: 'orders',
  columns: {
    id: { type: 'int', primary: true, generated: 'increment' },
    total: { type: 'decimal', precision: 10, scale: 2 },
    status: { type: 'enum', enum: ['new', 'paid', 'shipped'], default: 'new' },
    createdAt: { name: 'created_at', type: 'datetime', precision: 6, createDate: true },
  },
  relations: { customer: { type: 'many-to-one', target: 'Customer', joinColumn: { name: 'customer_id' }, inverseSide: 'orders', nullable: false } },
});

/** The migration `typeorm migration:generate` would write for these entities. */
class CreateShop1704067200000 implements MigrationInterface {
  name = 'CreateShop1704067200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'customers',
        columns: [
          { name: 'id', type: 'int', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'name', type: 'varchar', length: '100' },
          { name: 'email', type: 'varchar', length: '200', isUnique: true },
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'orders',
        columns: [
          { name: 'id', type: 'int', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'customer_id', type: 'int' },
          { name: 'total', type: 'decimal', precision: 10, scale: 2 },
          { name: 'status', type: 'enum', enum: ['new', 'paid', 'shipped'], default: "'new'" },
          { name: 'created_at', type: 'datetime', precision: 6, default: 'CURRENT_TIMESTAMP(6)' },
        ],
        foreignKeys: [{ columnNames: ['customer_id'], referencedTableName: 'customers', referencedColumnNames: ['id'] }],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('orders');
    await queryRunner.dropTable('customers');
  }
}

runExample('typeorm', async (db) => {
  // ddl: 'both' lets the migrations create the tables on both sides.
  const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  const dataSource = new DataSource({
    type: 'mysql',
    driver, // the one added line; host, username and password would be ignored: each side's come from the driver
    database: db.name,
    entities: [CustomerEntity, OrderEntity],
    migrations: [CreateShop1704067200000],
    poolSize: 4,
  });
  const customerIds: number[] = [];
  const orderIds: number[] = [];
  await dataSource.initialize();
  try {
    const applied = await dataSource.runMigrations();
    say(`migrate   runMigrations() applied ${applied.map((m) => m.name).join(', ')} on both sides (mode ${driver.mode})`);

    const customers = dataSource.getRepository(CustomerEntity);
    const saved = await customers.save([
      customers.create({ name: 'Ada', email: 'ada@example.com' }),
      customers.create({ name: 'Grace', email: 'grace@example.com' }),
      customers.create({ name: 'Edsger', email: 'edsger@example.com' }),
    ]);
    customerIds.push(...saved.map((c) => c.id));
    say(`insert    save() of 3 customers: ids ${customerIds.join(', ')} read back by TypeORM`);
    const [ada, grace] = saved as [Customer, Customer, Customer];

    const placed = await dataSource.transaction(async (manager) => {
      const order = await manager.save(OrderEntity, manager.create(OrderEntity, { customer: ada, total: '42.50' }));
      await manager.update(OrderEntity, order.id, { status: 'paid' });
      // A nested transaction is a savepoint: its failure undoes its own writes only, on both sides.
      await manager
        .transaction(async (nested) => {
          await nested.save(OrderEntity, nested.create(OrderEntity, { customer: ada, total: '999.00' }));
          throw new Error('card declined');
        })
        .catch(() => undefined);
      return order.id;
    });
    orderIds.push(placed);
    say(`trx       order ${placed} placed and paid in one transaction; a second order in a savepoint was rolled back`);

    await driver.setMode('target_first');
    say(`switch    driver.setMode('target_first'): the target answers now (TypeORM's pool and its query runners follow)`);

    const orders = dataSource.getRepository(OrderEntity);
    const later = await orders.save(orders.create({ customer: grace, total: '7.25' }));
    orderIds.push(later.id);
    await orders.update(placed, { status: 'shipped' });
    const found = await orders.find({ relations: { customer: true }, order: { id: 'ASC' } });
    say(`read      ${found.map((o) => `#${o.id} ${o.customer.name} ${o.total} ${o.status}`).join('; ')} (from the target)`);
  } finally {
    await dataSource.destroy();
    await driver.end();
  }

  const stats = driver.stats();
  const failures = stats.replayFailures.source + stats.replayFailures.target;
  say(`stats     replayed on target ${stats.replayedWrites.target}, on source ${stats.replayedWrites.source}; failures ${failures}\n`);
  const ok = (await checkBothSides(db, ['customers', 'orders', 'migrations'], { customers: customerIds, orders: orderIds })) && failures === 0;
  say(ok ? '\nOK: TypeORM migrated both sides, wrote through source_first and target_first, and both sides are identical.' : '\nNOT OK: see the checks above.');
  return ok;
});
