/**
 * The repair audit table: one row per row a repair changed (or found still different after its repair), with
 * the row's key, its image on the repaired side before the repair and the authoritative image written, as
 * exact JSON ({@link encodeKeyJson}: text kept as text, bytes as `{"$hex": …}`).
 *
 * The audit table lives on the **repaired** side (the side that is not authoritative), in the repaired table's
 * database unless its name is qualified (`db.table`): its rows are written in the same transaction as the
 * repair, so an audit row exists exactly when its repair committed. The statements are built here; repair
 * runs them: a batch's rows go in multi-row INSERTs of at most about 4 MiB each
 * ({@link repairAuditInserts}), so a batch of large rows stays under `max_allowed_packet`.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { quoteIdentifier, type ExactValue } from './codec.js';
import { encodeKeyJson } from './key-json.js';

/** The audit table's default name. */
export const DEFAULT_REPAIR_AUDIT_TABLE = 'dualwrite_repair_audit';

/**
 * What a repair did to one row of the repaired side.
 * - `insert`: the row was missing and was inserted.
 * - `update`: the row was there with other values and was updated by primary key.
 * - `delete`: the row is not on the authoritative side and was deleted.
 * - `replace`: an insert or update collided with another row on a unique key other than the primary key, so the
 *   colliding rows (audited as `delete_colliding`) and the row itself were deleted and the row inserted.
 * - `delete_colliding`: a row deleted because it held a unique value the repaired row needed.
 * - `repair_loop`: the row still differed when re-read after its repair (not repaired again; see repair).
 */
export type RepairAction = 'insert' | 'update' | 'delete' | 'replace' | 'delete_colliding' | 'repair_loop';

/** One audit row. */
export interface RepairAuditEntry {
  /** The table repaired. */
  readonly table: string;
  /** The row's primary key, column → exact value. */
  readonly key: Readonly<Record<string, ExactValue>>;
  /** What was done. */
  readonly action: RepairAction;
  /** The row on the repaired side before the repair, column → exact value; null when it was absent. */
  readonly before: Readonly<Record<string, ExactValue>> | null;
  /** The row written (the authoritative side's row); null when the row was deleted. */
  readonly after: Readonly<Record<string, ExactValue>> | null;
}

const NAME_PART = /^[\w$]{1,64}$/;

/**
 * `` `table` `` or `` `db`.`table` ``, checked.
 *
 * @throws {@link InvalidOptionError} when the name is not one or two parts of letters, digits, `_` and `$`
 */
export function auditTableSql(name: string, defaultSchema: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((part) => !NAME_PART.test(part))) {
    throw new InvalidOptionError('repair auditTable', name, 'a table name of letters, digits, _ and $, optionally qualified as db.table');
  }
  const [schema, table] = parts.length === 2 ? (parts as [string, string]) : [defaultSchema, parts[0] as string];
  return `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
}

/** The CREATE TABLE IF NOT EXISTS statement of the audit table (`table` already quoted, see {@link auditTableSql}). */
export function repairAuditDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${table} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  repaired_at DATETIME(6) NOT NULL COMMENT 'UTC',
  authoritative_side VARCHAR(16) NULL,
  table_schema VARCHAR(64) NOT NULL,
  table_name VARCHAR(64) NOT NULL,
  row_key LONGTEXT NOT NULL COMMENT 'JSON object {column: exact value}',
  action VARCHAR(32) NOT NULL,
  before_image LONGTEXT NULL COMMENT 'JSON object of the repaired side''s row before the repair; NULL when absent',
  after_image LONGTEXT NULL COMMENT 'JSON object of the row written; NULL when deleted',
  KEY by_table (table_schema, table_name, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='dualwrite: rows changed by repair'`;
}

const DEFAULT_AUDIT_STATEMENT_BYTES = 4 * 1024 * 1024;

/** The seven values of one audit row, in the column order of {@link repairAuditInsert}. */
function auditValues(authoritativeSide: string | null, schema: string, entry: RepairAuditEntry): unknown[] {
  return [
    authoritativeSide,
    schema,
    entry.table,
    encodeKeyJson(entry.key),
    entry.action,
    entry.before === null ? null : encodeKeyJson(entry.before),
    entry.after === null ? null : encodeKeyJson(entry.after),
  ];
}

function insertOf(table: string, rows: readonly unknown[][]): { sql: string; values: unknown[] } {
  return {
    sql:
      `INSERT INTO ${table} (repaired_at, authoritative_side, table_schema, table_name, row_key, action, before_image, after_image) VALUES ` +
      rows.map(() => '(UTC_TIMESTAMP(6), ?, ?, ?, ?, ?, ?, ?)').join(', '),
    values: rows.flat(),
  };
}

/**
 * The INSERTs writing `entries` to the audit table: as few as possible, each holding about `maxBytes` of values at
 * most (an entry larger than that goes alone). Empty for no entries.
 *
 * @param table - the quoted audit table name
 * @param schema - the repaired table's database, as written in `table_schema`
 * @param authoritativeSide - `source`, `target`, or null when unknown
 * @param entries - the rows to write, in order
 * @param maxBytes - bound of one statement's values (JSON text, escaped: counted twice)
 */
export function repairAuditInserts(
  table: string,
  schema: string,
  authoritativeSide: string | null,
  entries: readonly RepairAuditEntry[],
  maxBytes = DEFAULT_AUDIT_STATEMENT_BYTES,
): { sql: string; values: unknown[] }[] {
  const statements: { sql: string; values: unknown[] }[] = [];
  let rows: unknown[][] = [];
  let bytes = 0;
  for (const entry of entries) {
    const values = auditValues(authoritativeSide, schema, entry);
    const size = values.reduce<number>((sum, value) => sum + (typeof value === 'string' ? Buffer.byteLength(value) * 2 + 2 : 4), 0);
    if (rows.length > 0 && bytes + size > maxBytes) {
      statements.push(insertOf(table, rows));
      rows = [];
      bytes = 0;
    }
    rows.push(values);
    bytes += size;
  }
  if (rows.length > 0) statements.push(insertOf(table, rows));
  return statements;
}
