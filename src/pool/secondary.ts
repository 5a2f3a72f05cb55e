/**
 * Running replay work on the secondary side: bounded by `replayTimeoutMs`, skipped while the circuit breaker is
 * open, and turned into a {@link ReplayFailure} instead of an exception, since the secondary side never decides
 * the caller's outcome (unless `strict`).
 *
 * @module
 */
import type { PoolConnection } from 'mysql2';
import { CircuitOpenError, ReplayDivergenceError, ReplayTimeoutError } from '../errors.js';
import type { Mode, Side } from '../mode/modes.js';
import type { FailedTable, ReplayFailure, ReplayFailureKind, TableKeys } from '../replay/failure.js';
import { asError, type DualEngine } from './engine.js';
import { failedHold, type HeldReplay } from './intents.js';
import { acquire, inTransaction, send } from './side-io.js';
import { openReplaySpan, replayOutcomeOf } from '../telemetry/telemetry.js';

/** What one write asks of the secondary side. */
export interface SecondaryWork {
  /** How the write is replayed, for the repair log when it fails. */
  readonly kind: Extract<ReplayFailureKind, 'statement' | 'row_image' | 'ddl'>;
  /** The table written, when known. */
  readonly table: FailedTable | null;
  /** Primary-key values of the rows written, when known. */
  readonly keys: readonly Readonly<Record<string, unknown>>[] | null;
  /** Other tables written (multi-table statements), with their keys. */
  readonly otherTables?: readonly TableKeys[];
  /** The caller's statement text. */
  readonly sql: string;
  /** True when the work sends several writes that must land together (a row image). */
  readonly atomic: boolean;
  /**
   * True for transaction control (BEGIN, SAVEPOINT, ROLLBACK TO …): it changes no data by itself, so its failure is
   * not a repair-log row of its own — it breaks the secondary transaction, whose writes are all recorded instead.
   */
  readonly control?: boolean;
  /** Applies the write on a secondary connection; throws on failure. */
  readonly run: (connection: PoolConnection) => Promise<void>;
}

/** Who the failure is about. */
export interface ReplayContext {
  readonly engine: DualEngine;
  readonly mode: Mode;
  readonly secondary: Side;
}

/** A {@link ReplayFailure} for `work`. */
export function failureOf(
  context: ReplayContext,
  work: Pick<SecondaryWork, 'table' | 'keys' | 'sql' | 'otherTables'>,
  kind: ReplayFailureKind,
  error: Error | null,
): ReplayFailure {
  return {
    kind,
    secondarySide: context.secondary,
    mode: context.mode,
    table: work.table,
    keys: work.keys,
    ...(work.otherTables === undefined ? {} : { otherTables: work.otherTables }),
    sql: work.sql,
    error,
    at: context.engine.options.now(),
  };
}

/**
 * Runs `work` on a connection of the secondary side's pool (an autocommit write's replay), inside a transaction
 * when it sends several statements. Resolves to `null` on success or to the failure; never rejects.
 * When the timeout passes first, the work still finishes in the background (its connection is released then)
 * and the failure is reported at once.
 */
export function replayOnPool(context: ReplayContext, work: SecondaryWork): Promise<ReplayFailure | null> {
  const { engine, secondary } = context;
  // The attempt's connection, shared with the timeout handler.
  const state: { connection: PoolConnection | null; destroyed: boolean } = { connection: null, destroyed: false };
  const attempt = async (): Promise<void> => {
    const held = await acquire(engine.sides[secondary].pool);
    state.connection = held;
    if (state.destroyed) held.destroy(); // the timeout passed while the pool made us wait
    try {
      if (work.atomic) await inTransaction(held, () => work.run(held));
      else await work.run(held);
    } finally {
      if (!state.destroyed) held.release();
    }
  };
  // A connection whose statement outlived the timeout is closed, not returned to the pool: its next user would
  // queue behind the stuck statement, and the late statement must not land after later replays.
  return guarded(context, work, attempt, () => {
    state.destroyed = true;
    state.connection?.destroy();
  });
}

/**
 * Like {@link replayOnPool}, but the replay runs inside a secondary transaction that stays open (pool option
 * `intents`): the caller commits it after the primary side committed, or rolls it back. A failed replay is rolled
 * back here. The connection stays out of the pool until then.
 */
export async function replayHeldOnPool(context: ReplayContext, work: SecondaryWork): Promise<HeldReplay> {
  const { engine, secondary } = context;
  const state: { connection: PoolConnection | null; destroyed: boolean } = { connection: null, destroyed: false };
  const attempt = async (): Promise<void> => {
    const held = await acquire(engine.sides[secondary].pool);
    state.connection = held;
    if (state.destroyed) held.destroy(); // the timeout passed while the pool made us wait
    await send(held, 'query', 'START TRANSACTION');
    await work.run(held);
  };
  const failure = await guarded(context, work, attempt, () => {
    state.destroyed = true;
    state.connection?.destroy();
  });
  const connection = state.connection;
  if (connection === null || state.destroyed) return failure === null ? failedHold(failureOf(context, work, work.kind, null)) : failedHold(failure);
  if (failure !== null) {
    await endHeld(connection, 'ROLLBACK', engine.options.replayTimeoutMs);
    return failedHold(failure);
  }
  return {
    failure: null,
    commit: () => endHeld(connection, 'COMMIT', engine.options.replayTimeoutMs, secondary),
    rollback: async () => void (await endHeld(connection, 'ROLLBACK', engine.options.replayTimeoutMs)),
  };
}

/**
 * Ends a held secondary transaction with `sql` (COMMIT or ROLLBACK), bounded by `timeoutMs`, and gives the
 * connection back: released when it answered, destroyed when it failed or did not answer in time (its server ends
 * the transaction then). Resolves to `null` or the error; never rejects.
 */
async function endHeld(connection: PoolConnection, sql: string, timeoutMs: number, side?: Side): Promise<Error | null> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new ReplayTimeoutError(side ?? 'secondary', timeoutMs)), timeoutMs);
  });
  const answered = send(connection, 'query', sql).then(
    () => null,
    (error: unknown) => asError(error),
  );
  const outcome = await Promise.race([answered, timedOut]);
  clearTimeout(timer);
  if (outcome === null) connection.release();
  else connection.destroy();
  return outcome;
}

/**
 * Runs `attempt` under the breaker and the timeout, turning its outcome into `null` or a failure.
 * Shared by autocommit replays and by replays inside a checked-out connection's session.
 */
export async function guarded(
  context: ReplayContext,
  work: Pick<SecondaryWork, 'table' | 'keys' | 'sql' | 'kind'>,
  attempt: () => Promise<void>,
  onTimeout?: () => void,
): Promise<ReplayFailure | null> {
  const { engine, secondary } = context;
  const span = openReplaySpan(engine, secondary, context.mode, work);
  if (!engine.replayAllowed(secondary)) {
    span?.end('circuit_open');
    return failureOf(context, work, 'circuit_open', new CircuitOpenError(secondary));
  }
  const timeoutMs = engine.options.replayTimeoutMs;
  let timer: NodeJS.Timeout | undefined;
  // DDL replays are not bounded: no primary lock waits on them (DDL runs outside the primary's transaction), and a
  // schema change on a large table legitimately takes long; cutting it short would record a change still running.
  const timeout = new Promise<never>((_, reject) => {
    if (work.kind === 'ddl') return;
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new ReplayTimeoutError(secondary, timeoutMs));
    }, timeoutMs);
  });
  const running = span === null ? attempt() : span.run(attempt);
  running.catch(() => undefined); // a late failure after the timeout is already reported as the timeout
  try {
    await Promise.race([running, timeout]);
    engine.replayOutcome(secondary, true);
    span?.end('applied');
    if (work.table !== null) {
      engine.stats.replayedWrites[secondary] += 1;
      if (work.kind === 'row_image') engine.stats.rowImageReplays += 1;
    }
    return null;
  } catch (error) {
    engine.replayOutcome(secondary, answered(error));
    span?.end(replayOutcomeOf(error), error);
    return failureOf(context, work, work.kind, asError(error));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True when the secondary side answered: the replay ran but its data differed (a divergence, a duplicate key, a
 * missing table). Such a failure goes to the repair log but says nothing about the side's health, so it does not
 * count toward opening the circuit breaker — a backfill in progress makes many replays affect 0 rows, and an open
 * circuit would then skip every replay. Timeouts and connection errors (mysql2 marks them `fatal`) do count.
 */
function answered(error: unknown): boolean {
  if (error instanceof ReplayDivergenceError) return true;
  const e = error as { fatal?: unknown; sqlState?: unknown };
  return e !== null && typeof e === 'object' && e.fatal !== true && typeof e.sqlState === 'string';
}
