/**
 * The shape of a bad-input corpus entry. Every statement runs against the table below (created by the tests
 * that use the corpus), so an entry that the server accepts changes real rows and one it rejects is rejected
 * for the reason its note gives, not because a table is missing.
 *
 * ```sql
 * CREATE TABLE items (
 *   id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
 *   name VARCHAR(64) NOT NULL DEFAULT '',
 *   qty INT NOT NULL DEFAULT 0,
 *   note LONGTEXT NULL,
 *   raw VARBINARY(64) NULL
 * )
 * ```
 */

/** One malformed, adversarial or unsupported statement. */
export interface BadInput {
  /** The group it belongs to (`truncated`, `quotes`, `multi`, …), for reports. */
  readonly group: string;
  /** What it is and why it is in the corpus. */
  readonly note: string;
  /** The SQL text. */
  readonly sql: string;
  /** The values to send with it; omitted for plain text. */
  readonly values?: readonly unknown[];
  /** `query` (the default) or `execute` (a prepared statement). */
  readonly method?: 'query' | 'execute';
}

/** The CREATE TABLE every corpus statement is written against. */
export const ITEMS_DDL =
  'CREATE TABLE items (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(64) NOT NULL DEFAULT \'\', ' +
  'qty INT NOT NULL DEFAULT 0, note LONGTEXT NULL, raw VARBINARY(64) NULL) CHARACTER SET utf8mb4';

/** Rows every run starts from. */
export const ITEMS_SEED = "INSERT INTO items (id, name, qty, note) VALUES (1, 'apple', 3, 'red'), (2, 'pear', 5, NULL), (3, 'plum', 0, 'it''s ripe')";

/** Shorthand for an entry. */
export const entry = (group: string, note: string, sql: string, values?: readonly unknown[], method?: 'query' | 'execute'): BadInput => ({
  group,
  note,
  sql,
  ...(values !== undefined ? { values } : {}),
  ...(method !== undefined ? { method } : {}),
});
