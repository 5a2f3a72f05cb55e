/** The shop's tables, as a Knex migration file (`knex migrate:make create_shop`). */
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('customers', (table) => {
    table.increments('id');
    table.string('name', 100).notNullable();
    table.string('email', 200).notNullable().unique();
  });
  await knex.schema.createTable('orders', (table) => {
    table.increments('id');
    table.integer('customer_id').unsigned().notNullable().index();
    table.decimal('total', 10, 2).notNullable();
    table.enum('status', ['new', 'paid', 'shipped']).notNullable().defaultTo('new');
    table.timestamp('created_at', { precision: 6 }).notNullable().defaultTo(knex.fn.now(6));
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('orders');
  await knex.schema.dropTable('customers');
}
