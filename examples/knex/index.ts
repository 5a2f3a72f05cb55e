/**
 * `npm run example:knex`: Knex's everyday workflow on two databases at once, through `dualwrite/knex`.
 *
 * Migrations (`migrate.latest()` from a directory), inserts that read back their ids, a transaction with a savepoint
 * that is rolled back, a switch from source_first to target_first, more writes and a join; then an independent
 * check that both databases hold the same rows. The one changed line is Knex's `client`.
 */
import { fileURLToPath } from 'node:url';
import knex from 'knex';
// In your application: `from 'dualwrite'` and `from 'dualwrite/knex'` (this repository imports its own source).
import { createDriver } from '../../src/index.js';
import { knexClient } from '../../src/adapters/knex.js';
import { checkBothSides, runExample, say } from '../shared/run.js';

runExample('knex', async (db) => {
  // ddl: 'both' lets the migrations create the tables on both sides.
  const driver = createDriver({ source: db.sourceUrl, target: db.targetUrl, mode: 'source_first', ddl: 'both' });
  const k = knex({
    client: knexClient(driver), // was: client: 'mysql2'
    // Knex opens its pool only with a `connection` object; where to connect comes from the driver's sides.
    connection: { database: db.name },
    pool: { min: 0, max: 4 },
    migrations: { directory: fileURLToPath(new URL('./migrations', import.meta.url)), loadExtensions: ['.ts'] },
  });
  const customerIds: number[] = [];
  const orderIds: number[] = [];
  try {
    const [, applied] = (await k.migrate.latest()) as [number, string[]];
    say(`migrate   migrate.latest() applied ${applied.join(', ')} on both sides (mode ${driver.mode})`);

    const [ada] = await k('customers').insert({ name: 'Ada', email: 'ada@example.com' });
    // A multi-row INSERT hands back the first id; the rows got consecutive ids on the primary side and the same ids on the other.
    const [first] = await k('customers').insert([
      { name: 'Grace', email: 'grace@example.com' },
      { name: 'Edsger', email: 'edsger@example.com' },
    ]);
    customerIds.push(Number(ada), Number(first), Number(first) + 1);
    say(`insert    customers: Ada got id ${ada}; Grace and Edsger ids ${first} and ${Number(first) + 1}`);

    const placed = await k.transaction(async (trx) => {
      const [id] = await trx('orders').insert({ customer_id: ada, total: '42.50' });
      await trx('orders').where({ id }).update({ status: 'paid' });
      // A nested transaction is a savepoint: its failure undoes its own writes only, on both sides.
      await trx
        .transaction(async (savepoint) => {
          await savepoint('orders').insert({ customer_id: ada, total: '999.00' });
          throw new Error('card declined');
        })
        .catch(() => undefined);
      return Number(id);
    });
    orderIds.push(placed);
    say(`trx       order ${placed} placed and paid in one transaction; a second order in a savepoint was rolled back`);

    await driver.setMode('target_first');
    say(`switch    driver.setMode('target_first'): the target answers now; Knex's pooled connections follow between transactions`);

    const [later] = await k('orders').insert({ customer_id: Number(first), total: '7.25' });
    orderIds.push(Number(later));
    await k('orders').where({ id: placed }).update({ status: 'shipped' });
    const rows = await k('orders')
      .join('customers', 'customers.id', 'orders.customer_id')
      .select('orders.id', 'customers.name', 'orders.total', 'orders.status')
      .orderBy('orders.id');
    say(`read      ${rows.map((r: { id: number; name: string; total: string; status: string }) => `#${r.id} ${r.name} ${r.total} ${r.status}`).join('; ')} (from the target)`);
  } finally {
    await k.destroy();
    await driver.end();
  }

  const stats = driver.stats();
  say(`stats     replayed on target ${stats.replayedWrites.target}, on source ${stats.replayedWrites.source}; failures ${stats.replayFailures.source + stats.replayFailures.target}\n`);
  const tables = ['customers', 'orders', 'knex_migrations', 'knex_migrations_lock'];
  const ok = (await checkBothSides(db, tables, { customers: customerIds, orders: orderIds })) && stats.replayFailures.source + stats.replayFailures.target === 0;
  say(ok ? '\nOK: Knex migrated both sides, wrote through source_first and target_first, and both sides are identical.' : '\nNOT OK: see the checks above.');
  return ok;
});
