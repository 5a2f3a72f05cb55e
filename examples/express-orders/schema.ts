/**
 * The service's tables, as its own migration tool would create them (the operator runs this on each side before
 * the service starts; the service itself runs no DDL). Order ids are auto-increment; items are keyed by
 * (order_id, line_no).
 */
import type { Connection } from 'mysql2/promise';

/** The tables of the service, in the order they are created. */
export const TABLES = ['orders', 'order_items'] as const;

/**
 * Creates the tables on one side. `firstOrderId` is where that side's order ids start: the target's start far above
 * the source's (docs/playbook.md, step 1), so ids numbered by each side never meet while processes of two modes
 * write at the same time — and so the summary can tell which side numbered each order.
 */
export async function createSchema(connection: Connection, firstOrderId: number): Promise<void> {
  await connection.query(`
    CREATE TABLE orders (
      id         INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
      customer   VARCHAR(100) NOT NULL,
      status     ENUM('new', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'new',
      total      DECIMAL(12, 2) NOT NULL,
      created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
      updated_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
      KEY orders_customer (customer)
    ) ENGINE = InnoDB AUTO_INCREMENT = ${Number(firstOrderId)}`);
  await connection.query(`
    CREATE TABLE order_items (
      order_id   INT UNSIGNED NOT NULL,
      line_no    SMALLINT UNSIGNED NOT NULL,
      sku        VARCHAR(40) NOT NULL,
      qty        INT NOT NULL,
      unit_price DECIMAL(10, 2) NOT NULL,
      PRIMARY KEY (order_id, line_no)
    ) ENGINE = InnoDB`);
}

/** Moves a side's next order id up to `firstOrderId` (before it becomes the primary side again). */
export async function raiseNextOrderId(connection: Connection, firstOrderId: number): Promise<void> {
  await connection.query(`ALTER TABLE orders AUTO_INCREMENT = ${Number(firstOrderId)}`);
}
