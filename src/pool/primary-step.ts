/**
 * One write on the primary side, prepared so that its replay is exact: the clock pinned when the statement reads
 * it, the rows locked first for a row image, and afterwards the secondary side's work built from the primary
 * side's result (generated IDs, resulting rows).
 *
 * @module
 */
import type { PoolConnection, QueryOptions } from 'mysql2';
import { withPinnedValues, type PinPlan } from '../sql/pin-nondeterministic.js';
import type { FailedTable, TableKeys } from '../replay/failure.js';
import { applyRowImage, lockBefore, readAfter, type RowImage, type RowImagePlan, type SqlRunner, type WriteResult } from '../replay/row-image.js';
import { generatedIdsAfter } from '../replay/plan.js';
import { explicitIdTexts, withExplicitIds } from '../sql/rewrite-explicit-ids.js';
import { ReplayDivergenceError } from '../errors.js';
import type { DualEngine, PlannedWrite } from './engine.js';
import type { SecondaryWork } from './secondary.js';
import { affectedRowsOf, insertIdOf, send, sendAndForget, type Method, type Outcome } from './side-io.js';
import { oppositeSide } from '../mode/modes.js';
import type { Statement } from './statement.js';

/** What running a write on the primary side produced. */
export interface PrimaryStep {
  /** The primary side's result, for the caller. */
  readonly outcome: Outcome;
  /** The replay for the secondary side, or `null` when the write is to be recorded instead (see `recordReason`). */
  readonly work: SecondaryWork | null;
  /** Why the write goes to the repair log instead of being replayed, or `null`. */
  readonly recordReason: string | null;
  /** Primary-key values of the rows written, when known (for the repair log when the write is recorded). */
  readonly keys?: readonly Readonly<Record<string, unknown>>[] | null;
  /** Other tables written, with their keys (multi-table statements). */
  readonly otherTables?: readonly TableKeys[];
}

/**
 * Runs the caller's statement on `connection` (on the primary side, inside a transaction) with what its replay
 * needs around it, and builds the secondary side's work. The caller's statement is sent exactly as given, so its
 * result and its error are mysql2's own; an error propagates unchanged.
 */
export async function runPrimaryStep(engine: DualEngine, statement: Statement, planned: PlannedWrite, connection: PoolConnection): Promise<PrimaryStep> {
  const { plan } = planned;
  const table: FailedTable | null = planned.tableRef;
  if (plan.kind === 'row_image' && planned.rowImage !== null && engine.options.unsafeStatements === 'row_image') {
    return rowImageStep(statement, planned.rowImage, connection, table);
  }
  if (plan.kind !== 'statement') {
    // The policy (or the lack of any exact replay) says: run on the primary side only and record it.
    const outcome = await send(connection, statement.method, statement.sqlArg, statement.valuesArg);
    return { outcome, work: null, recordReason: plan.reason };
  }
  const clock = plan.pinClock ? clockLiteral(engine.options.now()) : null;
  const primary = oppositeSide(planned.secondary);
  const run = plan.pins !== null ? await pinnedStatement(engine, statement, plan.pins, connection) : statement;
  const outcome = await sendAt(connection, run.method, run.sqlArg, run.valuesArg, clock, engine.statementClock(primary));
  let sql = run.text;
  let values: unknown[] | undefined = run.values;
  let keys: Record<string, unknown>[] | null = null;
  if (plan.ids !== null) {
    const first = insertIdOf(outcome[0]);
    if (first === null || first === 0n) return { outcome, work: null, recordReason: 'the primary side reported no exact insertId for generated auto-increment IDs' };
    const explicit = plan.ids.mixed ? explicitIdTexts(run.text, run.analysis, run.values, plan.ids.column, plan.ids) : null;
    const ids = generatedIdsAfter(first, plan.ids, explicit);
    if (ids === null) {
      return { outcome, work: null, recordReason: 'an explicit auto-increment ID at or above the counter came after a generated row, so the generated IDs cannot be told' };
    }
    ({ sql, values } = withExplicitIds(run.text, run.analysis, run.values, plan.ids.column, ids, plan.ids));
    if (planned.table !== null && planned.table.primaryKey.length === 1 && planned.table.primaryKey[0] === plan.ids.column.name) {
      keys = ids.map((id) => ({ [plan.ids!.column.name]: id }));
    }
  }
  const expected = affectedRowsOf(outcome[0]);
  const method = statement.method;
  const replaySql = sql;
  const replayValues = values;
  return {
    outcome,
    recordReason: null,
    work: {
      kind: 'statement',
      table,
      keys,
      sql: statement.text,
      atomic: false,
      run: async (secondary) => {
        const options = { sql: replaySql, timeout: engine.options.replayTimeoutMs };
        const [result] = await sendAt(secondary, method, options, replayValues, clock, engine.statementClock(planned.secondary));
        const affected = affectedRowsOf(result);
        if (expected !== null && affected !== null && affected !== expected) throw new ReplayDivergenceError(expected, affected);
      },
    },
  };
}

/**
 * A row-image write: lock a superset of the rows it may touch, run it, read back what it left (still locked),
 * and build the secondary side's work, which deletes the rows gone and upserts the rows there, by primary key.
 * An image that cannot be complete (too many rows, a count that does not add up) is recorded for repair instead.
 */
async function rowImageStep(statement: Statement, plan: RowImagePlan, connection: PoolConnection, table: FailedTable | null): Promise<PrimaryStep> {
  const runner = sqlRunner(connection);
  const before = await lockBefore(runner, plan);
  const outcome = await send(connection, statement.method, statement.sqlArg, statement.valuesArg);
  const image = await readAfter(runner, plan, before, outcome[0] as WriteResult);
  const [first, ...others] = imageTables(image, table);
  const keys = first?.keys ?? null;
  const otherTables = others.length > 0 ? others : undefined;
  if (image.problem !== null) return { outcome, work: null, recordReason: image.problem.message, keys, ...(otherTables ? { otherTables } : {}) };
  return {
    outcome,
    recordReason: null,
    keys,
    work: {
      kind: 'row_image',
      table,
      keys,
      ...(otherTables ? { otherTables } : {}),
      sql: statement.text,
      atomic: true,
      run: async (secondary) => void (await applyRowImage(sqlRunner(secondary), image)),
    },
  };
}

/**
 * Each table of an image with the primary keys of every row it touches (kept or deleted), as `{ column: value }`
 * objects, for the repair log. The first is the table the statement writes first, named as the pool names it.
 */
function imageTables(image: RowImage, table: FailedTable | null): TableKeys[] {
  return image.tables.map((t, i) => ({
    table: i === 0 && table !== null ? table : { schema: t.table.schema ?? table?.schema ?? null, name: t.table.name },
    keys: [...t.rowKeys, ...t.deletedKeys].map((tuple) => Object.fromEntries(t.primaryKey.map((column, c) => [column, tuple[c]]))),
  }));
}

/** A promise-style runner over a mysql2 callback connection, as row-image replay takes it. */
function sqlRunner(connection: PoolConnection): SqlRunner {
  return { query: (options) => send(connection, 'query', options as QueryOptions) };
}

/**
 * Evaluates the statement's UUID()/RAND()/UUID_SHORT()/SYSDATE() calls on the primary side (in the write's own
 * session and transaction) and returns the statement with their values bound, which both sides then run.
 * The values are read as the server's text so that none is rounded on the way.
 */
async function pinnedStatement(engine: DualEngine, statement: Statement, pins: PinPlan, connection: PoolConnection): Promise<Statement> {
  const evaluation: QueryOptions = {
    sql: pins.evaluation.sql,
    values: pins.evaluation.values,
    rowsAsArray: true,
    typeCast: (field) => field.string(),
  };
  const [rows] = await send(connection, 'query', evaluation);
  const evaluated = (rows as string[][])[0] ?? [];
  const pinned = withPinnedValues(statement.text, statement.analysis, statement.values, pins, evaluated);
  return {
    method: statement.method,
    sqlArg: typeof statement.sqlArg === 'string' ? pinned.sql : { ...statement.sqlArg, sql: pinned.sql },
    valuesArg: pinned.values,
    text: pinned.sql,
    values: pinned.values,
    analysis: engine.analyzer.analyze(pinned.sql),
  };
}

/**
 * Sends a statement with the session clock pinned to `clock` (when not `null`): as one statement with MariaDB's
 * `SET STATEMENT timestamp = … FOR` prefix when the server supports it and the statement goes through `query()`
 * (a prepared statement's text must not change per call), else between `SET timestamp = …` and
 * `SET timestamp = DEFAULT` (the reset is not waited for: mysql2 runs it before the connection's next command).
 */
async function sendAt(connection: PoolConnection, method: Method, sql: string | QueryOptions, values: unknown, clock: string | null, statementClock: boolean): Promise<Outcome> {
  if (clock === null) return send(connection, method, sql, values);
  if (statementClock && method === 'query') {
    const prefix = `SET STATEMENT timestamp = ${clock} FOR `;
    return send(connection, method, typeof sql === 'string' ? prefix + sql : { ...sql, sql: prefix + sql.sql }, values);
  }
  await send(connection, 'query', `SET timestamp = ${clock}`);
  try {
    return await send(connection, method, sql, values);
  } finally {
    sendAndForget(connection, 'SET timestamp = DEFAULT');
  }
}

/** A Unix time in seconds with microseconds, as `SET timestamp` takes it: `1700000000.123000`. */
function clockLiteral(ms: number): string {
  const micros = BigInt(Math.round(ms * 1000));
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}
