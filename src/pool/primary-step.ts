/**
 * One write on the primary side, prepared so that its replay is exact: the clock pinned when the statement reads
 * it, the rows locked first for a row image, and afterwards the secondary side's work built from the primary
 * side's result (generated IDs, resulting rows).
 *
 * @module
 */
import type { PoolConnection } from 'mysql2';
import type { FailedTable } from '../replay/failure.js';
import { generatedIds } from '../replay/plan.js';
import { withExplicitIds } from '../sql/rewrite-explicit-ids.js';
import { ReplayDivergenceError } from '../errors.js';
import type { DualEngine, PlannedWrite } from './engine.js';
import type { SecondaryWork } from './secondary.js';
import { affectedRowsOf, insertIdOf, send, sendAndForget, type Outcome } from './side-io.js';
import type { Statement } from './statement.js';

/** What running a write on the primary side produced. */
export interface PrimaryStep {
  /** The primary side's result, for the caller. */
  readonly outcome: Outcome;
  /** The replay for the secondary side, or `null` when the write is to be recorded instead (see `recordReason`). */
  readonly work: SecondaryWork | null;
  /** Why the write goes to the repair log instead of being replayed, or `null`. */
  readonly recordReason: string | null;
}

/**
 * Runs the caller's statement on `connection` (on the primary side, inside a transaction) with what its replay
 * needs around it, and builds the secondary side's work. The caller's statement is sent exactly as given, so its
 * result and its error are mysql2's own; an error propagates unchanged.
 */
export async function runPrimaryStep(engine: DualEngine, statement: Statement, planned: PlannedWrite, connection: PoolConnection): Promise<PrimaryStep> {
  const { plan } = planned;
  const table: FailedTable | null = planned.tableRef;
  if (plan.kind !== 'statement') {
    // Row images arrive with the row-image module; until a plan can be replayed it is recorded, never dropped.
    const outcome = await send(connection, statement.method, statement.sqlArg, statement.valuesArg);
    return { outcome, work: null, recordReason: plan.reason };
  }
  const clock = plan.pinClock ? clockLiteral(engine.options.now()) : null;
  if (clock !== null) await send(connection, 'query', `SET timestamp = ${clock}`);
  let outcome: Outcome;
  try {
    outcome = await send(connection, statement.method, statement.sqlArg, statement.valuesArg);
  } finally {
    if (clock !== null) sendAndForget(connection, 'SET timestamp = DEFAULT');
  }
  let sql = statement.text;
  let values: unknown[] | undefined = statement.values;
  let keys: Record<string, unknown>[] | null = null;
  if (plan.ids !== null) {
    const first = insertIdOf(outcome[0]);
    if (first === null || first === 0n) return { outcome, work: null, recordReason: 'the primary side reported no exact insertId for generated auto-increment IDs' };
    const ids = generatedIds(first, plan.ids);
    ({ sql, values } = withExplicitIds(statement.text, statement.analysis, statement.values, plan.ids.column, ids, plan.ids));
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
        if (clock !== null) await send(secondary, 'query', `SET timestamp = ${clock}`);
        try {
          const [result] = await send(secondary, method, { sql: replaySql, timeout: engine.options.replayTimeoutMs }, replayValues);
          const affected = affectedRowsOf(result);
          if (expected !== null && affected !== null && affected !== expected) throw new ReplayDivergenceError(expected, affected);
        } finally {
          if (clock !== null) sendAndForget(secondary, 'SET timestamp = DEFAULT');
        }
      },
    },
  };
}

/** A Unix time in seconds with microseconds, as `SET timestamp` takes it: `1700000000.123000`. */
function clockLiteral(ms: number): string {
  const micros = BigInt(Math.round(ms * 1000));
  return `${micros / 1_000_000n}.${(micros % 1_000_000n).toString().padStart(6, '0')}`;
}
