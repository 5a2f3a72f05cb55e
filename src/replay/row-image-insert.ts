/**
 * Plans row-image replay of INSERT and REPLACE: which existing rows a new row
 * may conflict with (by every unique key), and how the new rows are found
 * afterwards (by their keys, or by the IDs the server generated).
 *
 * @module
 */
import type { ColumnMetadata, TableMetadata, UniqueKey } from '../schema/types.js';
import { generatedIdRows } from '../sql/rewrite-explicit-ids.js';
import type { InsertAnalysis, ValueSlot } from '../sql/types.js';
import { columnOf } from './row-image-sql.js';
import { codeEnd, isIdentityAssignment, userFragment } from './row-image-text.js';
import type { GeneratedIdCandidates, RowImagePlanInput, RowImagePlanResult, RowImageTarget, RowImageUnplannable, SqlFragment } from './row-image-types.js';
import { keyDisjunct, knownDefault, knownFromLiteral, knownFromValue, type KnownValue } from './row-image-values.js';

const LAST_INSERT_ID_CALL = /\bLAST_INSERT_ID\s*\(\s*[^\s)]/i;

/** Builds an unplannable outcome. */
export function unplannable(reason: RowImageUnplannable['reason'], message: string): RowImageUnplannable {
  return { kind: 'unplannable', reason, message };
}

/** The columns an INSERT gives values for, in order: its column list, or every visible column. */
function insertColumns(write: InsertAnalysis, table: TableMetadata): readonly string[] {
  return write.columns ?? table.columns.filter((c) => !c.invisible).map((c) => c.name);
}

/** True when an INSERT may leave or change an existing row instead of failing on a duplicate. */
function conflictSensitive(write: InsertAnalysis): boolean {
  return write.ignore || write.kind === 'replace' || write.onDuplicateKeyUpdate !== null;
}

/** Plans an INSERT/REPLACE of any form. */
export function planInsert(input: RowImagePlanInput, write: InsertAnalysis, target: RowImageTarget, maxRows: number): RowImagePlanResult {
  const { table } = input;
  const primary = new Set(table.primaryKey.map((c) => c.toLowerCase()));
  for (const assignment of write.onDuplicateKeyUpdate?.assignments ?? []) {
    if (primary.has(assignment.column.toLowerCase()) && !isIdentityAssignment(input.sql, assignment)) {
      return unplannable('primary_key_assigned', `ON DUPLICATE KEY UPDATE assigns the primary-key column \`${assignment.column}\``);
    }
  }
  const expressionKey = table.uniqueKeys.find((key) => key.hasExpressionParts);
  if (expressionKey !== undefined && conflictSensitive(write)) {
    return unplannable('unique_key_expression', `unique key \`${expressionKey.name}\` has functional parts, so conflicts on it cannot be looked up`);
  }
  const base = { kind: 'row_image', verb: write.kind, targets: [target], maxRows } as const;
  if (write.form === 'select') {
    const strategy = planInsertSelect(input, write);
    return 'reason' in strategy ? strategy : { ...base, strategy };
  }
  const strategy = planInsertValues(input, write);
  return 'reason' in strategy ? strategy : { ...base, strategy };
}

type ValuesStrategy = { kind: 'unique_keys'; disjuncts: SqlFragment[]; generated: GeneratedIdCandidates | null; countInserted: boolean };

function planInsertValues(input: RowImagePlanInput, write: InsertAnalysis): ValuesStrategy | RowImageUnplannable {
  const { sql, table, values } = input;
  const names = insertColumns(write, table);
  const rows: (readonly ValueSlot[])[] = write.form === 'set' ? [write.set.map((a) => a.value)] : write.rows.map((row) => row.values);
  if (rows.some((row) => row.length !== names.length)) return unplannable('not_understood', 'a row has another number of values than there are columns');
  const position = new Map(names.map((name, i) => [name.toLowerCase(), i]));

  const generated = generatedFlags(input, rows.length);
  if (!Array.isArray(generated)) return generated;
  const ai = table.autoIncrementColumn?.toLowerCase() ?? null;

  const known = (column: ColumnMetadata, r: number): KnownValue => {
    if (column.name.toLowerCase() === ai && generated[r] === true) return { kind: 'generated' };
    if (column.generated !== null) return { kind: 'unknown' };
    const at = position.get(column.name.toLowerCase());
    const slot = at === undefined ? undefined : rows[r]?.[at];
    if (slot === undefined || slot.kind === 'default') return knownDefault(column);
    if (slot.kind === 'null') return column.nullable ? { kind: 'null' } : { kind: 'unknown' };
    if (slot.kind === 'placeholder') {
      const index = slot.placeholders[0];
      return index === undefined || values === undefined || index >= values.length ? { kind: 'unknown' } : knownFromValue(column, values[index]);
    }
    if (slot.kind === 'literal') return knownFromLiteral(column, sql.slice(slot.span.start, slot.span.end));
    return { kind: 'unknown' };
  };

  const strict = conflictSensitive(write);
  const disjuncts: SqlFragment[] = [];
  const covered = generated.slice();
  const byKey = new Array<boolean>(rows.length).fill(false);
  for (const key of table.uniqueKeys) {
    if (key.hasExpressionParts) continue;
    const columns = key.columns.map((name) => columnOf(table, name));
    for (let r = 0; r < rows.length; r++) {
      const found = keyDisjunct(key, columns, columns.map((column) => known(column, r)));
      if (found === 'unknown') {
        if (strict) return unknownKey(key, r);
        continue;
      }
      if (found !== 'skip') {
        disjuncts.push(found);
        byKey[r] = true;
      }
      covered[r] = true;
    }
  }
  // A plain INSERT touches no existing row: one usable key per new row is enough to find it afterwards.
  const lost = covered.findIndex((ok) => !ok);
  if (lost >= 0) return unplannable('unique_key_expression', `row ${lost + 1} has no unique key whose value is known before the statement runs`);
  // MySQL returns LAST_INSERT_ID(expr)'s argument as insertId: rows found only by their generated ID would be lost.
  const odku = write.onDuplicateKeyUpdate;
  if (odku !== null && LAST_INSERT_ID_CALL.test(sql.slice(odku.clause.span.start, odku.clause.span.end)) && byKey.some((found, r) => !found && generated[r] === true)) {
    return unplannable('auto_increment_undecided', 'ON DUPLICATE KEY UPDATE sets LAST_INSERT_ID(expr), which replaces insertId, and a row can be found only by its generated ID');
  }

  const candidates = generatedCandidates(input, write, generated, (r) => known(columnOf(table, ai ?? ''), r));
  if (candidates !== null && 'reason' in candidates) return candidates;
  return { kind: 'unique_keys', disjuncts, generated: candidates, countInserted: write.kind === 'insert' && write.onDuplicateKeyUpdate === null };
}

function unknownKey(key: UniqueKey, r: number): RowImageUnplannable {
  return unplannable(
    'unique_key_expression',
    `the value of unique key \`${key.name}\` in row ${r + 1} is not known before the statement runs (an expression, or a default that is one), ` +
      'so the existing row it may conflict with cannot be locked',
  );
}

/** Per row: did the server generate the auto-increment ID (all false without an auto-increment column). */
function generatedFlags(input: RowImagePlanInput, rowCount: number): boolean[] | RowImageUnplannable {
  const { table } = input;
  const ai = table.autoIncrementColumn;
  if (ai === null) return new Array<boolean>(rowCount).fill(false);
  const visible = table.columns.filter((c) => !c.invisible);
  const position = visible.findIndex((c) => c.name.toLowerCase() === ai.toLowerCase());
  const flags = generatedIdRows(input.sql, input.analysis, input.values, { name: ai, position, columnCount: visible.length }, {
    noAutoValueOnZero: /\bNO_AUTO_VALUE_ON_ZERO\b/i.test(input.settings.sqlMode),
  });
  if (flags === null || flags.length !== rowCount) {
    return unplannable('auto_increment_undecided', `which rows get a generated \`${ai}\` cannot be told from the statement`);
  }
  return flags;
}

/** The generated-ID candidates, `null` when no ID is generated. */
function generatedCandidates(
  input: RowImagePlanInput,
  write: InsertAnalysis,
  generated: readonly boolean[],
  known: (r: number) => KnownValue,
): GeneratedIdCandidates | RowImageUnplannable | null {
  const ai = input.table.autoIncrementColumn;
  const count = generated.filter(Boolean).length;
  if (ai === null || count === 0) return null;
  const after: bigint[] = [];
  for (let r = 0; r < generated.length; r++) {
    if (generated[r] === true || !generated.slice(r + 1).some(Boolean)) continue;
    // An explicit ID above the counter moves it: rows generated later follow that ID.
    const value = known(r);
    const digits = value.kind === 'sql' && value.fragment.values.length === 0 ? value.fragment.sql.replace(/^\+/, '') : null;
    if (digits === null || !/^\d+$/.test(digits)) return unplannable('auto_increment_undecided', `row ${r + 1} writes \`${ai}\` with a value that is not a plain integer`);
    after.push(BigInt(digits));
  }
  const mixed = after.length > 0 || generated.some((g) => !g);
  if (input.settings.innodbAutoincLockMode === 2 && count > 1 && (mixed || write.onDuplicateKeyUpdate !== null)) {
    return unplannable(
      'auto_increment_undecided',
      'innodb_autoinc_lock_mode is 2 (interleaved): the IDs of a statement that mixes given and generated IDs, or has ON DUPLICATE KEY UPDATE, may not be consecutive',
    );
  }
  return { column: ai, rows: count, step: Math.max(1, input.settings.autoIncrementIncrement), after };
}

type SelectStrategy =
  | { kind: 'insert_select_generated'; column: string; step: number }
  | { kind: 'insert_select_keys'; select: SqlFragment; insertColumns: readonly string[] };

function planInsertSelect(input: RowImagePlanInput, write: InsertAnalysis): SelectStrategy | RowImageUnplannable {
  const { table, sql } = input;
  const names = insertColumns(write, table);
  const listed = new Set(names.map((n) => n.toLowerCase()));
  const ai = table.autoIncrementColumn;
  if (ai !== null && !listed.has(ai.toLowerCase())) {
    if (input.settings.innodbAutoincLockMode === 2) {
      return unplannable('auto_increment_undecided', 'innodb_autoinc_lock_mode is 2 (interleaved): the IDs an INSERT … SELECT generates may not be consecutive');
    }
    // A fresh ID conflicts with nothing; only keys without the ID column could make IGNORE/REPLACE/ODKU touch existing rows.
    const other = table.uniqueKeys.find((key) => !key.columns.some((c) => c.toLowerCase() === ai.toLowerCase()));
    if (conflictSensitive(write) && other !== undefined) {
      return unplannable('insert_select_keys_unknown', `INSERT … SELECT with IGNORE, REPLACE or ON DUPLICATE KEY UPDATE may conflict on unique key \`${other.name}\``);
    }
    return { kind: 'insert_select_generated', column: ai, step: Math.max(1, input.settings.autoIncrementIncrement) };
  }
  if (conflictSensitive(write)) {
    return unplannable('insert_select_keys_unknown', 'INSERT … SELECT with IGNORE, REPLACE or ON DUPLICATE KEY UPDATE and given keys: the rows it changes cannot be counted');
  }
  const missing = table.primaryKey.find((c) => !listed.has(c.toLowerCase()));
  if (missing !== undefined) {
    return unplannable('insert_select_keys_unknown', `INSERT … SELECT does not give the primary-key column \`${missing}\` and generates no ID`);
  }
  const odku = write.onDuplicateKeyUpdate;
  const end = odku === null ? codeEnd(sql, write.sourceStart) : sql.slice(0, odku.clause.span.start).trimEnd().length;
  const select = userFragment(sql, input.analysis, input.values, write.sourceStart, end);
  if (select === null) return unplannable('placeholder_mismatch', 'the placeholders of the SELECT part do not match the values');
  return { kind: 'insert_select_keys', select, insertColumns: names };
}
