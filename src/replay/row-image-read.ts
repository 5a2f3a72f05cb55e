/**
 * The two reads on the primary side around the statement: the locking read
 * of a superset of the rows it may touch ({@link lockBefore}), and the read of
 * what those rows (and the rows it inserted) became ({@link readAfter}).
 * Both run on the connection and in the open transaction of the statement.
 *
 * @module
 */
import { columnReadExpression, decodeColumnValue, isTimestampColumn, queryExact, withSessionTimeZone, type ExactRow } from '../migrate/codec.js';
import type { ColumnMetadata } from '../schema/types.js';
import { batches, columnOf, distinctKeys, keyId, keyReadList, keysPredicate, tableSql } from './row-image-sql.js';
import type {
  KeyTuple,
  RowImage,
  RowImageBefore,
  RowImagePlan,
  RowImageProblem,
  RowImageTarget,
  SqlFragment,
  SqlRunner,
  TableRowImage,
  WriteResult,
} from './row-image-types.js';
import { keyDisjunct, knownFromValue } from './row-image-values.js';

/**
 * Locks (`FOR UPDATE`) a superset of the rows the planned statement may touch and returns their
 * primary keys. Run it on the primary connection, inside the open transaction, right before the
 * statement. For an INSERT … SELECT giving its keys, it first runs the statement's SELECT.
 *
 * When more than `plan.maxRows` rows would be locked, it stops reading and returns a
 * `too_many_rows` problem: the caller then refuses the statement or records it for repair.
 */
export async function lockBefore(primary: SqlRunner, plan: RowImagePlan): Promise<RowImageBefore> {
  const strategy = plan.strategy;
  const target = plan.targets[0] as RowImageTarget;
  switch (strategy.kind) {
    case 'where': {
      const rows = await queryExact(primary, strategy.select.sql, strategy.select.values);
      if (rows.length > plan.maxRows) return failed(plan, tooMany(plan));
      let offset = 0;
      const keys = plan.targets.map((t) => {
        const columns = t.primaryKey.map((name) => columnOf(t.metadata, name));
        const from = offset;
        offset += columns.length;
        // A LEFT JOIN gives NULL keys for the tables it found no row in: nothing to lock there.
        const own = rows.map((row) => decodeRow(columns, row.slice(from, from + columns.length))).filter((key) => key.every((v) => v !== null));
        return distinctKeys(own);
      });
      return { keys, problem: null, selected: null };
    }
    case 'unique_keys': {
      const keys = await keysMatching(primary, target, strategy.disjuncts, plan.maxRows);
      return keys === null ? failed(plan, tooMany(plan)) : { keys: [keys], problem: null, selected: null };
    }
    case 'insert_select_generated':
      return { keys: [[]], problem: null, selected: null };
    case 'insert_select_keys': {
      const rows = await queryExact(primary, strategy.select.sql, strategy.select.values);
      if (rows.length > plan.maxRows) return failed(plan, tooMany(plan));
      const disjuncts = selectedKeyDisjuncts(target, strategy.insertColumns, rows);
      if (!Array.isArray(disjuncts)) return failed(plan, disjuncts);
      const keys = await keysMatching(primary, target, disjuncts, plan.maxRows);
      if (keys === null) return failed(plan, tooMany(plan));
      return { keys: [keys], problem: null, selected: { disjuncts, rows: rows.length } };
    }
  }
}

/**
 * Reads, `FOR UPDATE`, what the rows locked by {@link lockBefore} and the rows the statement inserted
 * look like now, and returns the image to apply on the secondary side. Run it on the primary
 * connection right after the statement succeeded, in the same transaction.
 *
 * Inserted rows are found by their unique-key values, and rows with generated IDs by the ID range
 * around `result.insertId` (from insertId − (G−1)·step to insertId + (G−1)·step for G generated rows;
 * for INSERT … SELECT from insertId to insertId + (affectedRows−1)·step). An `insertId` above 2^63 may
 * arrive negative or as a string; it is read as unsigned.
 *
 * The image's `problem` is set, and the image must not be applied as a complete replay, when:
 * the statement touched more rows than were locked (`count_mismatch`: a DELETE removed more rows, or an
 * UPDATE matched more rows, than were locked; an INSERT … SELECT inserted another number of rows than
 * were found — under `innodb_autoinc_lock_mode` 2 or with concurrent changes to the SELECT's data),
 * too many rows would be read, or `insertId` is unusable.
 *
 * @param before - what {@link lockBefore} returned for this plan
 * @param result - the statement's result (mysql2 `ResultSetHeader`)
 */
export async function readAfter(primary: SqlRunner, plan: RowImagePlan, before: RowImageBefore, result: WriteResult): Promise<RowImage> {
  if (before.problem !== null) return { tables: [], problem: before.problem, insertedRowsFound: null };
  const strategy = plan.strategy;
  const target = plan.targets[0] as RowImageTarget;
  const affected = result.affectedRows ?? 0;
  if (strategy.kind === 'where') {
    const tables: TableRowImage[] = [];
    for (let i = 0; i < plan.targets.length; i++) tables.push(await readRows(primary, plan.targets[i] as RowImageTarget, before.keys[i] ?? []));
    const locked = before.keys.reduce((sum, keys) => sum + keys.length, 0);
    const gone = tables.reduce((sum, table) => sum + table.deletedKeys.length, 0);
    const found = strategy.verb === 'delete' ? gone : locked;
    const problem = affected > found ? mismatch(`the statement ${strategy.verb === 'delete' ? 'deleted' : 'matched'} ${affected} rows, but ${found} locked rows account for them`, affected, found) : null;
    return { tables, problem, insertedRowsFound: null };
  }

  const beforeKeys = before.keys[0] ?? [];
  let disjuncts: readonly SqlFragment[] = [];
  const ranges: [bigint, bigint][] = [];
  let expected: number | null = null;
  if (strategy.kind === 'unique_keys') {
    disjuncts = strategy.disjuncts;
    const generated = strategy.generated;
    if (generated !== null) {
      const id = insertIdOf(result.insertId);
      if (id === 'invalid') return incomplete({ kind: 'insert_id', message: 'rows got generated IDs but the result\'s insertId is not an exact integer (enable supportBigNumbers)' });
      const spread = BigInt(generated.rows - 1) * BigInt(generated.step);
      if (id !== null && id > 0n) ranges.push([id - spread < 1n ? 1n : id - spread, id + spread]);
      for (const e of generated.after) ranges.push([e + 1n, e + BigInt(generated.rows) * BigInt(generated.step)]);
    }
    if (strategy.countInserted) expected = affected;
  } else if (strategy.kind === 'insert_select_generated') {
    if (affected > plan.maxRows) return incomplete(tooMany(plan));
    const id = insertIdOf(result.insertId);
    if (affected > 0) {
      if (id === 'invalid' || id === null || id === 0n) return incomplete({ kind: 'insert_id', message: 'INSERT … SELECT inserted rows but the result\'s insertId is missing or not an exact integer' });
      ranges.push([id, id + BigInt(affected - 1) * BigInt(strategy.step)]);
    }
    expected = affected;
  } else {
    disjuncts = before.selected?.disjuncts ?? [];
    if ((before.selected?.rows ?? 0) !== affected) {
      const rows = before.selected?.rows ?? 0;
      return incomplete(mismatch(`the statement inserted ${affected} rows, but its SELECT returned ${rows} rows before it ran`, affected, rows));
    }
    expected = affected;
  }

  const matched = await keysMatching(primary, target, disjuncts, plan.maxRows);
  const inRange = await keysInRanges(primary, target, ranges);
  if (matched === null || beforeKeys.length + matched.length + inRange.length > plan.maxRows) return incomplete(tooMany(plan));
  const known = new Set(beforeKeys.map(keyId));
  const fresh = distinctKeys([...matched, ...inRange]).filter((key) => !known.has(keyId(key)));
  const table = await readRows(primary, target, distinctKeys([...beforeKeys, ...fresh]));
  // Exact for generated INSERT … SELECT ranges; a lower bound for the other inserts (ranges may hold other rows).
  const short = expected !== null && (strategy.kind === 'insert_select_generated' ? fresh.length !== expected : fresh.length < expected);
  const problem = short ? mismatch(`the statement inserted ${expected} rows, but ${fresh.length} new rows were found`, expected ?? 0, fresh.length) : null;
  return { tables: [table], problem, insertedRowsFound: fresh.length };
}

function tooMany(plan: RowImagePlan): RowImageProblem {
  const names = plan.targets.map((t) => t.table.name).join('`, `');
  return { kind: 'too_many_rows', message: `the statement may touch more than ${plan.maxRows} rows of \`${names}\`, more than a row image may lock and read`, found: plan.maxRows };
}

function mismatch(message: string, expected: number, found: number): RowImageProblem {
  return { kind: 'count_mismatch', message, expected, found };
}

function failed(plan: RowImagePlan, problem: RowImageProblem): RowImageBefore {
  return { keys: plan.targets.map(() => []), problem, selected: null };
}

function incomplete(problem: RowImageProblem): RowImage {
  return { tables: [], problem, insertedRowsFound: null };
}

/** `insertId` as an unsigned 64-bit integer, `null` when absent, `invalid` when it lost precision. */
function insertIdOf(value: WriteResult['insertId']): bigint | null | 'invalid' {
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? BigInt.asUintN(64, BigInt(value)) : 'invalid';
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  return /^-?\d+$/.test(value) ? BigInt.asUintN(64, BigInt(value)) : 'invalid';
}

function decodeRow(columns: readonly ColumnMetadata[], row: ExactRow): KeyTuple {
  return row.map((value, i) => decodeColumnValue(columns[i] as ColumnMetadata, value));
}

/** Keys of the rows matching any of the disjuncts, locked; `null` when more than `maxRows`. */
async function keysMatching(primary: SqlRunner, target: RowImageTarget, disjuncts: readonly SqlFragment[], maxRows: number): Promise<KeyTuple[] | null> {
  const columns = target.primaryKey.map((name) => columnOf(target.metadata, name));
  const list = keyReadList(target.metadata, target.primaryKey).join(', ');
  const keys: KeyTuple[] = [];
  for (const batch of batches(disjuncts)) {
    const where = batch.map((d) => d.sql).join(' OR ');
    const sql = `SELECT ${list} FROM ${tableSql(target.table)} WHERE ${where} LIMIT ${maxRows + 1} FOR UPDATE`;
    const rows = await queryExact(primary, sql, batch.flatMap((d) => d.values));
    keys.push(...rows.map((row) => decodeRow(columns, row)));
    if (distinctKeys(keys).length > maxRows) return null;
  }
  return distinctKeys(keys);
}

/** Keys of the rows whose auto-increment value lies in one of the ranges, locked. */
async function keysInRanges(primary: SqlRunner, target: RowImageTarget, ranges: readonly [bigint, bigint][]): Promise<KeyTuple[]> {
  const ai = target.metadata.autoIncrementColumn;
  if (ranges.length === 0 || ai === null) return [];
  const columns = target.primaryKey.map((name) => columnOf(target.metadata, name));
  const column = columnReadExpression(columnOf(target.metadata, ai));
  const where = ranges.map(([lo, hi]) => `${column} BETWEEN ${lo} AND ${hi}`).join(' OR ');
  const sql = `SELECT ${keyReadList(target.metadata, target.primaryKey).join(', ')} FROM ${tableSql(target.table)} WHERE ${where} FOR UPDATE`;
  return (await queryExact(primary, sql)).map((row) => decodeRow(columns, row));
}

/** Reads the rows of `keys`, locked; keys without a row are the deleted ones. */
async function readRows(primary: SqlRunner, target: RowImageTarget, keys: readonly KeyTuple[]): Promise<TableRowImage> {
  const metadata = target.metadata;
  const keyColumns = target.primaryKey.map((name) => columnOf(metadata, name));
  const columns = target.columns.map((name) => columnOf(metadata, name));
  const list = [...keyColumns, ...columns].map((c) => columnReadExpression(c)).join(', ');
  const rows: ExactRow[] = [];
  const rowKeys: KeyTuple[] = [];
  const read = async (): Promise<void> => {
    for (const batch of batches(keys)) {
      const where = keysPredicate(metadata, target.primaryKey, batch);
      const sql = `SELECT ${list} FROM ${tableSql(target.table)} WHERE ${where.sql} FOR UPDATE`;
      for (const row of await queryExact(primary, sql, where.values)) {
        rowKeys.push(decodeRow(keyColumns, row.slice(0, keyColumns.length)));
        rows.push(decodeRow(columns, row.slice(keyColumns.length)));
      }
    }
  };
  // Key values of a TIMESTAMP key are UTC text: compare them in a UTC session.
  if (keyColumns.some(isTimestampColumn)) await withSessionTimeZone(primary, '+00:00', read);
  else await read();
  const present = new Set(rowKeys.map(keyId));
  const deletedKeys = keys.filter((key) => !present.has(keyId(key)));
  return { table: target.table, primaryKey: target.primaryKey, columns: target.columns, rows, rowKeys, deletedKeys, metadata };
}

/** The primary-key predicates of the rows an INSERT … SELECT's SELECT returned, or why they cannot be built. */
function selectedKeyDisjuncts(target: RowImageTarget, insertColumns: readonly string[], rows: readonly ExactRow[]): SqlFragment[] | RowImageProblem {
  const metadata = target.metadata;
  const position = new Map(insertColumns.map((name, i) => [name.toLowerCase(), i]));
  const columns = target.primaryKey.map((name) => columnOf(metadata, name));
  const key = metadata.uniqueKeys.find((k) => k.primary) ?? {
    name: 'PRIMARY', primary: true, columns: target.primaryKey, prefixLengths: target.primaryKey.map(() => null), nullable: false, hasExpressionParts: false,
  };
  const out: SqlFragment[] = [];
  for (const row of rows) {
    if (row.length !== insertColumns.length) return { kind: 'unexpected_rows', message: `the SELECT returned ${row.length} columns for ${insertColumns.length} insert columns` };
    const parts = columns.map((column) => {
      const value = row[position.get(column.name.toLowerCase()) ?? -1] ?? null;
      // NULL or 0 in the auto-increment column asks for a generated ID, which is not known yet.
      return column.autoIncrement && (value === null || value === '0') ? { kind: 'generated' as const } : knownFromValue(column, value);
    });
    const found = keyDisjunct(key, columns, parts);
    if (typeof found === 'string') return { kind: 'unexpected_rows', message: 'a row of the SELECT has a primary-key value that is NULL, generated, or cannot be compared exactly' };
    out.push(found);
  }
  return out;
}
