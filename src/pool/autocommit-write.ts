/**
 * A write outside any transaction, in a dual-write mode. It runs inside a short transaction on the primary side,
 * is replayed on the secondary side, and only then is the primary side committed: a second writer of the same
 * rows waits on the primary side's row locks until the replay is done, so the two sides apply conflicting writes
 * in the same order. A failed replay goes to the repair log inside that same transaction, so a committed write
 * is never without either its replay or its repair-log row. With `intents`, the replay is also held uncommitted
 * until the primary side committed, with an intent row in the primary transaction (see `intents.ts`).
 *
 * @module
 */
import { DdlRefusedError, DualWriteError, ReplayFailedError, UnsafeStatementError } from '../errors.js';
import { oppositeSide, primarySide, type Mode } from '../mode/modes.js';
import type { ReplayFailure } from '../replay/failure.js';
import { asError, type DualEngine, type PlannedWrite } from './engine.js';
import { runPrimaryStep, type PrimaryStep } from './primary-step.js';
import type { PoolConnection } from 'mysql2';
import { failureOf, guarded, replayHeldOnPool, replayOnPool, type ReplayContext, type SecondaryWork } from './secondary.js';
import { lostConnection, secondaryCommitFailed, type HeldReplay, type IntentBatch } from './intents.js';
import { acquire, send, sendAndForget, type Outcome } from './side-io.js';
import type { Statement } from './statement.js';
import { tracePrimary, traceWrite } from '../telemetry/telemetry.js';

/**
 * Runs a write (or DDL, or another non-read statement) issued on the pool itself in a dual-write mode and
 * resolves to the primary side's outcome; rejects with the primary side's error unchanged, or with a dualwrite
 * error when the statement is refused before it runs (or, with `strict`, when its replay fails).
 */
export function autocommitWrite(engine: DualEngine, statement: Statement, mode: Mode, scope?: AutocommitScope): Promise<Outcome> {
  const database = scope ? scope.database : engine.sides[primarySide(mode)].database;
  return traceWrite(engine, statement, mode, database, () => writeBothSides(engine, statement, mode, scope));
}

async function writeBothSides(engine: DualEngine, statement: Statement, mode: Mode, scope?: AutocommitScope): Promise<Outcome> {
  const primary = primarySide(mode);
  const context: ReplayContext = { engine, mode, secondary: oppositeSide(primarySide(mode)) };
  const database = scope ? scope.database : engine.sides[primary].database;
  const { analysis } = statement;
  if (analysis.class === 'ddl' && scope === undefined) return ddlOnBothSides(context, statement, database);
  if (analysis.class === 'other' && analysis.unsafe.length === 0) {
    // No data changes and nothing unknown (DO 1, FLUSH …): the primary side alone.
    return send(scope?.connection ?? engine.sides[primary].pool, statement.method, statement.sqlArg, statement.valuesArg);
  }
  const planned = await engine.plan(statement, primary, database);
  refuseByPolicy(engine, statement, planned);
  if (scope === undefined) await engine.repairLogReady(primary);
  const replay = scope?.replay ?? ((work: SecondaryWork) => replayOnPool(context, work));
  // A row image needs its locks for its own correctness; strict needs the transaction to undo the write.
  if (!engine.options.replayWhileLocked && planned.plan.kind !== 'row_image' && !engine.options.strict) {
    return writeThenReplay(context, statement, planned, scope?.connection ?? null, replay);
  }
  const connection = scope?.connection ?? (await acquire(engine.sides[primary].pool));
  try {
    await send(connection, 'query', 'START TRANSACTION');
    let step;
    try {
      step = await tracePrimary(engine, statement, mode, database, () => runPrimaryStep(engine, statement, planned, connection));
    } catch (error) {
      sendAndForget(connection, 'ROLLBACK');
      throw error;
    }
    const intents = engine.intents;
    let held: HeldReplay | null = null;
    let batch: IntentBatch | null = null;
    let failure: ReplayFailure | null;
    if (step.work === null) failure = notReplayed(context, planned, statement, step);
    else if (intents !== null) {
      // The intent row names what the primary step knows, so it is written while the secondary side replays.
      const intent = intents.write(connection, primary, context, [step.work]).then(
        (written) => ({ written, error: null }),
        (error: unknown) => ({ written: null, error }),
      );
      held = await (scope?.replayHeld ?? ((work: SecondaryWork) => replayHeldOnPool(context, work)))(step.work);
      failure = held.failure;
      if (failure !== null) held = null; // rolled back already; its failure row covers the write
      const { written, error } = await intent;
      batch = written;
      if (error !== null) {
        // Without its intent row the held replay is not protected: undo it. A lost primary connection took the
        // write with it (nothing to record, the caller gets the primary's error); otherwise the write goes on
        // and is recorded as missing on the secondary side.
        await held?.rollback();
        held = null;
        if (lostConnection(error)) {
          sendAndForget(connection, 'ROLLBACK');
          throw asError(error);
        }
        failure ??= failureOf(context, step.work, 'transaction', asError(error));
      }
    } else failure = await replay(step.work);
    if (failure !== null && failure.kind !== 'recorded' && engine.options.strict) {
      sendAndForget(connection, 'ROLLBACK');
      throw new ReplayFailedError(context.secondary, `the replay of ${analysis.verb.toUpperCase()} ${planned.tableRef?.name ?? ''}`.trim(), { cause: failure.error ?? failure.kind });
    }
    if (failure !== null) await engine.recordFailures(primary, [failure], connection);
    try {
      await send(connection, 'query', 'COMMIT');
    } catch (error) {
      if (held !== null) {
        // The intent row exists exactly when the primary side committed: the drain repairs what is needed.
        await held.rollback();
        throw error;
      }
      // The primary side lost the write but the secondary side may have applied it: let the repair tool look.
      if (failure === null && step.work !== null) {
        await engine.recordFailures(primary, [failureOf(context, step.work, 'transaction', error as Error)], null);
      }
      throw error;
    }
    if (held !== null && batch !== null && step.work !== null) {
      const commitError = await held.commit();
      if (commitError === null) intents?.done(batch);
      else engine.countRecorded([failureOf(context, step.work, 'transaction', secondaryCommitFailed(context.secondary, commitError))]);
    } else if (batch !== null) {
      intents?.done(batch); // the replay failed: the failure's own row covers the write
    }
    engine.stats.acknowledgedWrites[primary] += 1;
    clearInTransactionFlag(step.outcome);
    return step.outcome;
  } finally {
    if (scope === undefined) connection.release();
  }
}

/**
 * `replayWhileLocked: false`: the write commits on the primary side on its own (no transaction around it), the
 * connection goes back to the pool, and then the replay runs. Cheaper, but two callers writing the same row can
 * see their replays reach the secondary side in the other order than the primary side applied them; a replay
 * that then affects a different number of rows is recorded as a divergence, and the verifier closes the rest.
 * A failed replay is recorded after the write committed, so a crash in between loses its repair-log row.
 */
async function writeThenReplay(
  context: ReplayContext,
  statement: Statement,
  planned: PlannedWrite,
  held: PoolConnection | null,
  replay: (work: SecondaryWork) => Promise<ReplayFailure | null>,
): Promise<Outcome> {
  const { engine } = context;
  const primary = primarySide(context.mode);
  const connection = held ?? (await acquire(engine.sides[primary].pool));
  let step: PrimaryStep;
  try {
    step = await tracePrimary(engine, statement, context.mode, null, () => runPrimaryStep(engine, statement, planned, connection));
  } finally {
    if (held === null) connection.release();
  }
  engine.stats.acknowledgedWrites[primary] += 1;
  const failure = step.work !== null ? await replay(step.work) : notReplayed(context, planned, statement, step);
  if (failure !== null) await engine.recordFailures(primary, [failure], null);
  return step.outcome;
}

/** Where an autocommit write on a checked-out connection runs: that connection, and its session's secondary side. */
export interface AutocommitScope {
  /** The checked-out primary connection (not released here). */
  readonly connection: PoolConnection;
  /** The session's default database on the primary side. */
  readonly database: string | null;
  /** Runs the replay on the session's secondary side and waits for it. */
  readonly replay: (work: SecondaryWork) => Promise<ReplayFailure | null>;
  /** With `intents`: runs the replay in a secondary transaction left open for the caller to commit or roll back. */
  readonly replayHeld?: (work: SecondaryWork) => Promise<HeldReplay>;
}

/** The repair-log entry of a write that is run on the primary side only (by policy, or because its row image could not be complete). */
export function notReplayed(context: ReplayContext, planned: PlannedWrite, statement: Statement, step: PrimaryStep): ReplayFailure {
  const reason = new DualWriteError(
    'ER_DUALWRITE_NOT_REPLAYED',
    `The write ran on the primary side only: ${step.recordReason ?? 'no exact replay exists for it'}. It is in the repair log; ` +
      '`dualwrite repair --drain-log` (or drainRepairLog()) copies the rows it changed to the secondary side.',
  );
  const otherTables = step.otherTables ?? planned.otherTables.map((table) => ({ table, keys: null }));
  return failureOf(context, { table: planned.tableRef, keys: step.keys ?? null, sql: statement.text, ...(otherTables.length > 0 ? { otherTables } : {}) }, 'recorded', reason);
}

/** Throws {@link UnsafeStatementError} when the policy refuses how the write would be replayed. Nothing has run yet. */
export function refuseByPolicy(engine: DualEngine, statement: Statement, planned: PlannedWrite): void {
  const { plan } = planned;
  if (plan.kind === 'row_image' && engine.options.unsafeStatements === 'reject') {
    engine.stats.refusedWrites += 1;
    throw new UnsafeStatementError(statement.text, plan.reason, "unsafeStatements: 'row_image' (copy the resulting rows) or 'record'");
  }
  if (plan.kind === 'unreplayable' && engine.options.unreplayableStatements === 'reject') {
    engine.stats.refusedWrites += 1;
    throw new UnsafeStatementError(statement.text, plan.reason, "unreplayableStatements: 'record' (run on the primary side only and record it for repair)");
  }
}

/**
 * DDL in a dual-write mode: refused by default; with `ddl: 'both'`, run on the primary side and then on the
 * secondary side (a failure there is recorded), and the cached metadata of the tables it names is dropped.
 */
async function ddlOnBothSides(context: ReplayContext, statement: Statement, database: string | null): Promise<Outcome> {
  const { engine, mode } = context;
  const primary = primarySide(mode);
  const ddl = statement.analysis.ddl;
  if (engine.options.ddl === 'refuse' && ddl?.temporary !== true) {
    engine.stats.refusedWrites += 1;
    throw new DdlRefusedError(statement.text, ddl?.kind ?? statement.analysis.verb);
  }
  const outcome = await send(engine.sides[primary].pool, statement.method, statement.sqlArg, statement.valuesArg);
  forgetTables(engine, statement, database);
  if (ddl?.temporary === true) return outcome; // session-local: meaningless on another pooled connection
  const table = statement.analysis.tablesWritten[0];
  const work = { kind: 'ddl' as const, table: table ? engine.qualify(table, database) : null, keys: null, sql: statement.text };
  const failure = await guarded(context, work, async () => {
    await send(engine.sides[context.secondary].pool, statement.method, statement.sqlArg, statement.valuesArg);
  });
  if (failure !== null) await engine.recordFailures(primary, [failure], null);
  return outcome;
}

/** Drops cached metadata of the tables a DDL statement names, on both sides. */
export function forgetTables(engine: DualEngine, statement: Statement, database: string | null): void {
  for (const ref of statement.analysis.tablesWritten) {
    const { schema, name } = engine.qualify(ref, database);
    for (const cache of [engine.schema.source, engine.schema.target]) {
      if (schema === null) cache.invalidateAll();
      else cache.invalidate(schema, name);
    }
  }
}

/** SERVER_STATUS_IN_TRANS: set in the result because the pool wrapped the write in a transaction the caller did not open. */
const SERVER_STATUS_IN_TRANS = 1;

/** Makes the result's `serverStatus` what the caller would have seen from a plain autocommit write. */
function clearInTransactionFlag(outcome: Outcome): void {
  const header = outcome[0] as { serverStatus?: unknown };
  if (header !== null && typeof header === 'object' && typeof header.serverStatus === 'number') header.serverStatus &= ~SERVER_STATUS_IN_TRANS;
}
