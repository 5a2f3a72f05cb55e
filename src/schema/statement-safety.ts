/**
 * Refines the analyzer's unsafe findings with what the table's metadata tells:
 * ON DUPLICATE KEY UPDATE is only unsafe when the table has more than one
 * unique key, and a write is clock-dependent when it leaves a column to
 * DEFAULT CURRENT_TIMESTAMP or ON UPDATE CURRENT_TIMESTAMP.
 *
 * @module
 */
import type { InsertAnalysis, StatementAnalysis, UnsafeFinding, UpdateAnalysis } from '../sql/types.js';
import type { TableMetadata } from './types.js';

/**
 * The unsafe findings of a single-table write, given the metadata of the table it writes.
 *
 * - `on_duplicate_key_update` is dropped when the table has at most one unique key (the primary key
 *   counts): then the row that conflicts is the same on both sides, and MySQL itself treats the
 *   statement as safe for statement-based replication.
 * - `time_default` is added when an INSERT/REPLACE leaves a DEFAULT CURRENT_TIMESTAMP column out (or
 *   writes `DEFAULT` into it), or when an UPDATE (or the update part of ON DUPLICATE KEY UPDATE) does not
 *   assign every ON UPDATE CURRENT_TIMESTAMP column: the server fills those from its own clock.
 *
 * @param analysis - the statement's analysis.
 * @param table - metadata of the table the statement writes (`analysis.write.table`, or the single
 *   table of an UPDATE/DELETE), or `null` when unknown — then the findings are returned as they are.
 * @returns the findings, in order of appearance; the analysis itself is never changed.
 */
export function refineUnsafeFindings(analysis: StatementAnalysis, table: TableMetadata | null): readonly UnsafeFinding[] {
  const write = analysis.write;
  if (table === null || write === null) return analysis.unsafe;
  let findings = analysis.unsafe;
  if (write.kind === 'insert' || write.kind === 'replace') {
    if (table.uniqueKeys.length <= 1) findings = findings.filter((f) => f.reason !== 'on_duplicate_key_update');
    const clock = insertClockColumn(write, table) ?? (write.onDuplicateKeyUpdate === null ? null : unassignedOnUpdateColumn(write.onDuplicateKeyUpdate.assignments, table));
    if (clock !== null) findings = [...findings, timeDefault(clock, write.sourceStart)];
  } else if (write.kind === 'update' && !write.multiTable) {
    const clock = unassignedOnUpdateColumn(write.assignments, table);
    if (clock !== null) findings = [...findings, timeDefault(clock, write.set.span.start)];
  }
  return findings === analysis.unsafe ? findings : [...findings].sort((a, b) => a.span.start - b.span.start);
}

function timeDefault(column: string, at: number): UnsafeFinding {
  return { reason: 'time_default', detail: column, span: { start: at, end: at } };
}

/** The first DEFAULT CURRENT_TIMESTAMP column an INSERT leaves to the server, or `null`. */
function insertClockColumn(write: InsertAnalysis, table: TableMetadata): string | null {
  if (table.currentTimestampDefaults.length === 0 || write.form === 'select') return null;
  // Without a column list every visible column is given by position, generated ones too (with DEFAULT).
  const given = write.columns ?? table.columns.filter((c) => !c.invisible).map((c) => c.name);
  const positions = new Map(given.map((name, i) => [name.toLowerCase(), i]));
  for (const column of table.currentTimestampDefaults) {
    const at = positions.get(column.toLowerCase());
    if (at === undefined) return column;
    if (write.form === 'values' && write.rows.some((row) => row.values[at]?.kind === 'default')) return column;
    if (write.form === 'set' && write.set[at]?.value.kind === 'default') return column;
  }
  return null;
}

/** The first ON UPDATE CURRENT_TIMESTAMP column the assignments leave unassigned, or `null`. */
function unassignedOnUpdateColumn(assignments: UpdateAnalysis['assignments'], table: TableMetadata): string | null {
  if (table.onUpdateCurrentTimestamp.length === 0) return null;
  const assigned = new Set(assignments.filter((a) => a.value.kind !== 'default').map((a) => a.column.toLowerCase()));
  return table.onUpdateCurrentTimestamp.find((column) => !assigned.has(column.toLowerCase())) ?? null;
}
