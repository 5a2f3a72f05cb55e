/**
 * Plans row-image replay: decides whether a write can be replayed by row
 * image and how the rows it touches are found (see {@link planRowImage}).
 * Pure: no I/O.
 *
 * @module
 */
import { quoteIdentifier } from '../migrate/codec.js';
import { InvalidOptionError, ReplayPlanError } from '../errors.js';
import type { TableMetadata } from '../schema/types.js';
import type { Clause, DeleteAnalysis, TableRef, UpdateAnalysis } from '../sql/types.js';
import { planInsert, unplannable } from './row-image-insert.js';
import { keyReadList, tableSql } from './row-image-sql.js';
import { joinFragments, orderByColumns, questionMarks, tableReferencesSpan, userFragment } from './row-image-text.js';
import {
  DEFAULT_ROW_IMAGE_MAX_ROWS,
  type RowImagePlanInput,
  type RowImagePlanResult,
  type RowImageTarget,
  type RowImageUnplannable,
  type SqlFragment,
} from './row-image-types.js';

/**
 * Decides whether a write can be replayed by row image, and how its rows are found.
 *
 * Covered:
 * - INSERT / REPLACE … VALUES / SET, with IGNORE or ON DUPLICATE KEY UPDATE: the rows matching any unique
 *   key of any new row are locked before; afterwards the same rows, plus the rows with the IDs the server
 *   generated (from `insertId`, see {@link readAfter}). Every unique-key value must be known from the text
 *   and values (a `?`, a literal, a literal default), else `unique_key_expression` — except a generated ID.
 *   A plain INSERT needs one known key per row.
 * - INSERT … SELECT with generated IDs (the auto-increment column not in the column list): the ID range
 *   after the fact. Exact for `innodb_autoinc_lock_mode` 0 and 1, which give one statement consecutive IDs;
 *   lock mode 2 may interleave them with other statements' IDs and is refused. {@link readAfter} compares the
 *   rows found with `affectedRows` and reports a `count_mismatch` problem if they differ.
 * - Plain INSERT … SELECT giving every primary-key column: the SELECT part runs first (in {@link lockBefore})
 *   to learn the keys; the same count check applies. With IGNORE / REPLACE / ON DUPLICATE KEY UPDATE it is refused.
 * - Single-table UPDATE / DELETE: `SELECT <pk> FROM <table as written> WHERE <where> FOR UPDATE` with the
 *   statement's own clauses and values. ORDER BY … LIMIT is kept when the ORDER BY names a whole primary or
 *   NOT NULL unique key (the order is total, so the same rows are picked); otherwise both are dropped (a
 *   superset is safe) and the read is capped at `maxRows`.
 * - Multi-table UPDATE / DELETE: one locking read over the statement's own table references and WHERE,
 *   returning the primary key of every table written (UPDATE: the tables whose columns are assigned;
 *   DELETE: its target tables). Needs {@link RowImagePlanInput.tables} for every table referenced by an
 *   unqualified assigned column and every table written other than {@link RowImagePlanInput.table}.
 *
 * Exactness needs the primary transaction at REPEATABLE READ or SERIALIZABLE: under READ COMMITTED a row
 * inserted by another session between the locking read and the statement (a phantom) can be changed
 * without being locked; {@link readAfter}'s count checks catch some, not all, of these cases.
 *
 * @param input - The statement, its analysis and values, and the metadata of the table(s) written.
 * @returns A {@link RowImagePlan}, or a {@link RowImageUnplannable} saying why not.
 * @throws {@link InvalidOptionError} when `maxRows` is not a positive integer.
 * @throws {@link ReplayPlanError} when `table` is not the table the statement writes.
 */
export function planRowImage(input: RowImagePlanInput): RowImagePlanResult {
  const { analysis, values } = input;
  const maxRows = input.maxRows ?? DEFAULT_ROW_IMAGE_MAX_ROWS;
  if (!Number.isSafeInteger(maxRows) || maxRows < 1) throw new InvalidOptionError('planRowImage maxRows', maxRows, 'a positive integer');
  const write = analysis.write;
  if (write === null) return unplannable('not_row_write', 'the statement is not a write');
  if (write.kind === 'load_data') return unplannable('load_data', 'LOAD DATA reads its rows from a file');
  if (write.kind === 'select_into' || write.kind === 'opaque') return unplannable('not_row_write', 'the statement is not an INSERT, REPLACE, UPDATE or DELETE that could be taken apart');
  if (!analysis.understood || analysis.multiStatement || analysis.unsafe.some((f) => f.reason === 'executable_comment')) {
    return unplannable('not_understood', 'the statement was not fully understood, holds an executable comment, or holds several statements');
  }
  if (values === undefined ? analysis.placeholderCount > 0 : values.length < analysis.placeholderCount) {
    return unplannable('placeholder_mismatch', `the statement has ${analysis.placeholderCount} placeholders and ${values?.length ?? 0} values`);
  }
  if (write.kind === 'update' || write.kind === 'delete') {
    requireSameTable(write.tables[0], input.table);
    return write.multiTable ? planMultiTable(input, write, maxRows) : planSingleTable(input, write, maxRows);
  }
  requireSameTable(write.table, input.table);
  const target = makeTarget(write.table, input.table);
  return 'reason' in target ? target : planInsert(input, write, target, maxRows);
}

/** Throws when the metadata given is not that of the table the statement names. */
function requireSameTable(ref: TableRef | undefined, table: TableMetadata): void {
  if (ref === undefined || !sameTable(ref, table)) {
    throw new ReplayPlanError(`the metadata given to planRowImage() is that of \`${table.schema}\`.\`${table.name}\`, not of the table the statement writes`);
  }
}

function sameTable(ref: TableRef, table: TableMetadata): boolean {
  return ref.name.toLowerCase() === table.name.toLowerCase() && (ref.schema === null || ref.schema.toLowerCase() === table.schema.toLowerCase());
}

/** The target for a table named by the statement, or why it cannot be one. */
function makeTarget(ref: TableRef, metadata: TableMetadata): RowImageTarget | RowImageUnplannable {
  if (metadata.primaryKey.length === 0) return unplannable('no_primary_key', `table \`${ref.name}\` has no primary key, so its rows cannot be addressed on the secondary side`);
  const columns = metadata.columns.filter((c) => c.generated === null).map((c) => c.name);
  const names = [ref.schema ?? '', ref.name, ...metadata.columns.map((c) => c.name)];
  if (names.some((name) => name.includes('?'))) return unplannable('placeholder_mismatch', `a name in table \`${ref.name}\` holds a \`?\`, which the client could take for a placeholder`);
  return { table: { schema: ref.schema, name: ref.name }, primaryKey: metadata.primaryKey, columns, metadata };
}

/** The assigned primary-key column of `target`, if any (the row would move to a key nobody locked). */
function assignedKey(write: UpdateAnalysis, target: RowImageTarget, belongs: (qualifier: string | null, column: string) => boolean): string | null {
  const key = new Set(target.primaryKey.map((c) => c.toLowerCase()));
  return write.assignments.find((a) => key.has(a.column.toLowerCase()) && belongs(a.qualifier, a.column))?.column ?? null;
}

/** True when the ORDER BY names a whole primary key or NOT NULL unique key, so it orders rows totally. */
function totalOrder(sql: string, clause: Clause, table: TableMetadata): boolean {
  const columns = orderByColumns(sql, clause);
  if (columns === null) return false;
  const named = new Set(columns);
  return table.uniqueKeys.some(
    (key) => !key.nullable && !key.hasExpressionParts && key.prefixLengths.every((p) => p === null) && key.columns.every((c) => named.has(c.toLowerCase())),
  );
}

/** The locking read, checked to be sendable: bound values need exactly as many `?` in the text. */
function lockingRead(parts: readonly (SqlFragment | null)[]): SqlFragment | RowImageUnplannable {
  const select = joinFragments([...parts, { sql: 'FOR UPDATE', values: [] }]);
  if (select.values.length > 0 && questionMarks(select.sql) !== select.values.length) {
    return unplannable('placeholder_mismatch', 'the clauses reused from the statement hold a `?` that is not a placeholder');
  }
  return select;
}

function clause(input: RowImagePlanInput, c: Clause | null): SqlFragment | null | undefined {
  return c === null ? null : (userFragment(input.sql, input.analysis, input.values, c.span.start, c.span.end) ?? undefined);
}

function planSingleTable(input: RowImagePlanInput, write: UpdateAnalysis | DeleteAnalysis, maxRows: number): RowImagePlanResult {
  const ref = write.tables[0] as TableRef;
  const target = makeTarget(ref, input.table);
  if ('reason' in target) return target;
  if (write.kind === 'update') {
    const column = assignedKey(write, target, () => true);
    if (column !== null) return unplannable('primary_key_assigned', `the statement assigns the primary-key column \`${column}\``);
  }
  const span = tableReferencesSpan(input.sql, write);
  const refs = span === null ? undefined : userFragment(input.sql, input.analysis, input.values, span.start, span.end);
  // LIMIT picks the same rows only under a total order; otherwise read them all (a superset), capped.
  const keep = write.limit !== null && write.orderBy !== null && totalOrder(input.sql, write.orderBy, input.table);
  const where = clause(input, write.where);
  const order = keep ? clause(input, write.orderBy) : null;
  const limit = keep ? clause(input, write.limit) : { sql: `LIMIT ${maxRows + 1}`, values: [] };
  if (refs === null || refs === undefined || where === undefined || order === undefined || limit === undefined || limit === null) {
    return unplannable('placeholder_mismatch', 'the clauses of the statement could not be reused with their values');
  }
  const list = keyReadList(target.metadata, target.primaryKey).join(', ');
  const select = lockingRead([{ sql: `SELECT ${list} FROM`, values: [] }, refs, where, order, limit]);
  if ('reason' in select) return select;
  return { kind: 'row_image', verb: write.kind, targets: [target], strategy: { kind: 'where', select, verb: write.kind }, maxRows };
}

function planMultiTable(input: RowImagePlanInput, write: UpdateAnalysis | DeleteAnalysis, maxRows: number): RowImagePlanResult {
  const referenced = write.kind === 'update' ? write.tables : write.referencedTables;
  const metadataOf = (ref: TableRef): TableMetadata | null => input.tables?.(ref) ?? (sameTable(ref, input.table) ? input.table : null);
  let written: TableRef[];
  if (write.kind === 'delete') {
    written = [...write.tables];
  } else {
    const placed = placeAssignments(write, referenced, metadataOf);
    if ('reason' in placed) return placed;
    written = placed;
  }
  const targets: RowImageTarget[] = [];
  const qualifiers: string[] = [];
  for (const ref of written) {
    const metadata = metadataOf(ref);
    if (metadata === null) return unplannable('missing_metadata', `no metadata was given for table \`${ref.name}\`, which the statement writes`);
    const target = makeTarget(ref, metadata);
    if ('reason' in target) return target;
    if (write.kind === 'update') {
      const column = assignedKey(write, target, (q, c) => placeOf(q, c, referenced, metadataOf) === ref);
      if (column !== null) return unplannable('primary_key_assigned', `the statement assigns the primary-key column \`${column}\` of \`${ref.name}\``);
    }
    targets.push(target);
    qualifiers.push(ref.alias === null ? tableSql(ref) : quoteIdentifier(ref.alias));
  }
  if (write.orderBy !== null || write.limit !== null) return unplannable('not_understood', 'a multi-table statement with ORDER BY or LIMIT');
  const span = tableReferencesSpan(input.sql, write);
  const refs = span === null ? null : userFragment(input.sql, input.analysis, input.values, span.start, span.end);
  const where = clause(input, write.where);
  if (refs === null || where === undefined) return unplannable('multi_table_unresolved', 'the table references of the statement could not be reused with their values');
  const list = targets.flatMap((t, i) => keyReadList(t.metadata, t.primaryKey, qualifiers[i])).join(', ');
  const select = lockingRead([{ sql: `SELECT ${list} FROM`, values: [] }, refs, where, { sql: `LIMIT ${maxRows + 1}`, values: [] }]);
  if ('reason' in select) return select;
  return { kind: 'row_image', verb: write.kind, targets, strategy: { kind: 'where', select, verb: write.kind }, maxRows };
}

type MetadataOf = (ref: TableRef) => TableMetadata | null;

/** The table reference an assigned column belongs to: by qualifier (alias, then name), else the one table having the column. */
function placeOf(qualifier: string | null, column: string, referenced: readonly TableRef[], metadataOf: MetadataOf): TableRef | 'missing' | null {
  if (qualifier !== null) {
    return (
      referenced.find((r) => r.alias === qualifier) ??
      referenced.find((r) => r.alias?.toLowerCase() === qualifier.toLowerCase()) ??
      referenced.find((r) => r.alias === null && r.name.toLowerCase() === qualifier.toLowerCase()) ??
      null
    );
  }
  const having: TableRef[] = [];
  for (const ref of referenced) {
    const metadata = metadataOf(ref);
    if (metadata === null) return 'missing';
    if (metadata.columnsByName.has(column.toLowerCase())) having.push(ref);
  }
  return having.length === 1 ? (having[0] as TableRef) : null;
}

/** The distinct tables an UPDATE assigns columns of, or why they cannot be told. */
function placeAssignments(write: UpdateAnalysis, referenced: readonly TableRef[], metadataOf: MetadataOf): TableRef[] | RowImageUnplannable {
  const out: TableRef[] = [];
  for (const assignment of write.assignments) {
    const place = placeOf(assignment.qualifier, assignment.column, referenced, metadataOf);
    if (place === 'missing') return unplannable('missing_metadata', `the table of the unqualified column \`${assignment.column}\` cannot be told without the metadata of every table referenced`);
    if (place === null) return unplannable('multi_table_unresolved', `the table of the assigned column \`${assignment.column}\` cannot be told`);
    if (!out.includes(place)) out.push(place);
  }
  return out;
}
