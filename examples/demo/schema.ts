/**
 * The shop schema the demo migrates, created on the source; the target's tables are copied from the source's
 * `SHOW CREATE TABLE`, as a migration would do before dual-writing starts.
 */
import type { Connection, RowDataPacket } from 'mysql2/promise';

/** Tables in dependency order (parents first), with their primary-key columns. */
export const TABLES = [
  { name: 'users', primaryKey: ['id'] },
  { name: 'orders', primaryKey: ['order_no'] },
  { name: 'order_items', primaryKey: ['order_no', 'line_no'] },
] as const;

/** Names of the demo's tables. */
export type TableName = (typeof TABLES)[number]['name'];

const DDL = [
  // JSON, DECIMAL, DATETIME(6), TIMESTAMP defaults filled by the server's clock, a second unique key.
  `CREATE TABLE users (
     id INT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     email VARCHAR(190) NOT NULL,
     name VARCHAR(100) NOT NULL,
     profile JSON NOT NULL,
     balance DECIMAL(12,2) NOT NULL DEFAULT 0.00,
     last_login DATETIME(6) NULL,
     created_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
     updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
     UNIQUE KEY uq_users_email (email)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  // An auto-increment primary key that is not called `id`.
  `CREATE TABLE orders (
     order_no BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
     user_id INT UNSIGNED NOT NULL,
     status ENUM('new','paid','shipped','cancelled') NOT NULL DEFAULT 'new',
     total DECIMAL(12,2) NOT NULL DEFAULT 0.00,
     placed_at DATETIME(6) NOT NULL,
     updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),
     KEY by_user (user_id)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
  // A composite primary key, no auto-increment.
  `CREATE TABLE order_items (
     order_no BIGINT UNSIGNED NOT NULL,
     line_no SMALLINT UNSIGNED NOT NULL,
     sku VARCHAR(32) NOT NULL,
     qty INT NOT NULL,
     unit_price DECIMAL(10,2) NOT NULL,
     PRIMARY KEY (order_no, line_no)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
];

/** Creates the shop tables on the source. */
export async function createSourceSchema(source: Connection): Promise<void> {
  for (const ddl of DDL) await source.query(ddl);
}

/** Creates each source table on the target from the source's SHOW CREATE TABLE (without its AUTO_INCREMENT counter). */
export async function copySchema(source: Connection, target: Connection): Promise<void> {
  for (const { name } of TABLES) {
    const [rows] = await source.query<RowDataPacket[]>(`SHOW CREATE TABLE \`${name}\``);
    const ddl = String((rows[0] as Record<string, unknown>)['Create Table']).replace(/ AUTO_INCREMENT=\d+/, '');
    await target.query(ddl);
  }
}
