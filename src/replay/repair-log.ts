/**
 * The repair log: a table on the primary side holding every write the secondary side does not have, so the
 * repair tool can fix exactly those rows. This module only builds the SQL; the pool runs it (inside the primary
 * side's transaction when there is one, so a committed write and its repair-log row land together).
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { encodeKeyJson } from '../migrate/key-json.js';
import type { ReplayFailure, ReplayFailureKind } from './failure.js';

/** Longest statement text kept in the log (the digest always covers the whole text). */
const MAX_STATEMENT_CHARS = 65_535;
/** Longest error message kept. */
const MAX_MESSAGE_CHARS = 4000;

/** `name` or `db.name` backtick-quoted. */
export function quoteTableName(table: string): string {
  return table
    .split('.')
    .map((part) => `\`${part.replace(/`/g, '``')}\``)
    .join('.');
}

/** The CREATE TABLE IF NOT EXISTS statement of the repair log. */
export function repairLogDdl(table: string): string {
  return `CREATE TABLE IF NOT EXISTS ${quoteTableName(table)} (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  created_at DATETIME(6) NOT NULL,
  kind VARCHAR(32) NOT NULL,
  secondary_side VARCHAR(16) NOT NULL,
  mode VARCHAR(16) NOT NULL,
  table_schema VARCHAR(64) NULL,
  table_name VARCHAR(64) NULL,
  primary_keys LONGTEXT NULL COMMENT 'JSON array of {column: value}; NULL means the whole table',
  statement_digest CHAR(64) NOT NULL,
  statement MEDIUMTEXT NOT NULL,
  error_code VARCHAR(64) NULL,
  error_errno INT NULL,
  error_message TEXT NULL,
  repaired_at DATETIME(6) NULL,
  KEY by_pending (repaired_at, id),
  KEY by_table (table_schema, table_name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COMMENT='dualwrite: writes the secondary side is missing'`;
}

/**
 * The `kind` of an intent row: a write whose replay the secondary side holds in a transaction not committed yet
 * (pool option `intents`). It is written inside the primary side's transaction and deleted once the secondary side
 * committed, so one left behind names a write the secondary side may lack: the drain repairs it like a failure.
 */
export const INTENT_KIND = 'intent';

/** One row of the repair log: a failure, or an intent (whose `error` is `null` and whose token is in `error_message`). */
export interface RepairLogEntry extends Omit<ReplayFailure, 'kind'> {
  /** Why it is in the log. */
  readonly kind: ReplayFailureKind | typeof INTENT_KIND;
  /** For an intent: the token its batched delete matches on (written to `error_message`, code `DUALWRITE_INTENT`). */
  readonly token?: string;
}

/** The `error_code` of intent rows. */
export const INTENT_CODE = 'DUALWRITE_INTENT';

/** One INSERT writing all of `failures` (at least one) to the repair log, one row per table a failure names, with its values. */
export function repairLogInsert(table: string, failures: readonly RepairLogEntry[]): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const rows: string[] = [];
  const perTable = failures.flatMap((f) => [f, ...(f.otherTables ?? []).map((other) => ({ ...f, table: other.table, keys: other.keys }))]);
  for (const f of perTable) {
    const error: { code?: unknown; errno?: unknown; message: string } | null = f.error;
    rows.push('(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    values.push(
      utcDateTime(f.at),
      f.kind,
      f.secondarySide,
      f.mode,
      f.table?.schema ?? null,
      f.table?.name ?? null,
      f.keys === null ? null : encodeKeyJson(f.keys),
      createHash('sha256').update(f.sql).digest('hex'),
      f.sql.length > MAX_STATEMENT_CHARS ? f.sql.slice(0, MAX_STATEMENT_CHARS) : f.sql,
      f.token !== undefined ? INTENT_CODE : error && typeof error.code === 'string' ? error.code : null,
      error && typeof error.errno === 'number' ? error.errno : null,
      f.token !== undefined ? f.token : error ? error.message.slice(0, MAX_MESSAGE_CHARS) : null,
    );
  }
  return {
    sql:
      `INSERT INTO ${quoteTableName(table)} (created_at, kind, secondary_side, mode, table_schema, table_name, primary_keys, ` +
      `statement_digest, statement, error_code, error_errno, error_message) VALUES ${rows.join(', ')}`,
    values,
  };
}

/** `YYYY-MM-DD HH:MM:SS.ffffff` in UTC, written as text so the session time zone does not matter (DATETIME stores it as given). */
function utcDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '000');
}
