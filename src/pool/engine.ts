/**
 * The one engine behind a dual-write pool, its checked-out connections and its promise view: the two sides,
 * the mode gate, the statement analyzer, table metadata, the circuit breakers and the failure sink.
 *
 * @module
 */
import type { PoolConnection } from 'mysql2';
import { DualWriteError } from '../errors.js';
import type { FlagProvider, FlagState } from '../mode/flag-provider.js';
import { InMemoryFlagProvider } from '../mode/in-memory-flag-provider.js';
import { oppositeSide, type Mode, type Side } from '../mode/modes.js';
import { ModeGate, type SwitchInfo } from '../mode/switch-gate.js';
import { CircuitBreaker, type CircuitState } from '../replay/circuit-breaker.js';
import type { FailedTable, ReplayFailure } from '../replay/failure.js';
import { planReplay, type ReplayPlan } from '../replay/plan.js';
import { repairLogDdl, repairLogInsert } from '../replay/repair-log.js';
import { planRowImage, type RowImagePlan } from '../replay/row-image.js';
import { SchemaCache } from '../schema/cache.js';
import type { ServerSettings, TableMetadata } from '../schema/types.js';
import { StatementAnalyzer } from '../sql/cache.js';
import { healthCounters, type HealthCounters, type SideHealthStats } from '../telemetry/health.js';
import { resolveTelemetry } from '../telemetry/options.js';
import { Telemetry, traceRepairLog } from '../telemetry/telemetry.js';
import type { TableRef } from '../sql/types.js';
import { IntentLog } from './intents.js';
import { resolveOptions, type DualPoolOptions, type ResolvedOptions } from './options.js';
import type { ReadRoutingCounters } from './read-routing.js';
import { send, type Method } from './side-io.js';
import { openSide, type SidePool } from './sides.js';
import { callArguments, needsClientFormatting, textAndValues, usesNamedPlaceholders, type CallArguments, type Statement } from './statement.js';

/** Counters a pool keeps since it was created. */
export interface DualPoolStats {
  /**
   * Writes acknowledged to callers in the dual-write modes, by the side that answered them (a transaction's writes
   * count when it commits). Writes in the `*_only` modes go straight to mysql2 and are not counted.
   */
  readonly acknowledgedWrites: Record<Side, number>;
  /** Replays applied on the secondary side, by that side. */
  readonly replayedWrites: Record<Side, number>;
  /** Replays that went by row image (included in `replayedWrites`). */
  readonly rowImageReplays: number;
  /** Writes the secondary side did not get, by that side (every one is in the repair log unless counted in `unrecordedFailures`). */
  readonly replayFailures: Record<Side, number>;
  /** Failures that could not be written to the repair log (also emitted as `repairLogError`): each is a lost replay to investigate. */
  readonly unrecordedFailures: number;
  /** Writes refused before they ran (unsafe statements, DDL). */
  readonly refusedWrites: number;
  /**
   * Per-side health: statements run with that side as the primary side, their failures and a latency histogram
   * (see {@link SideHealthStats}; `healthBetween()` turns two samples into an error rate and percentiles).
   */
  readonly health: Record<Side, SideHealthStats>;
  /**
   * Pool-level reads that took the gray-read decision (eligible, gray share above 0, no recent write of their
   * request, the secondary's circuit not open): the denominator of the gray share.
   */
  readonly grayDecisions: number;
  /** Gray reads answered by the secondary side, by that side. */
  readonly grayReads: Record<Side, number>;
  /** Gray reads the secondary side failed, retried on the primary side (see docs/read-routing.md). */
  readonly grayFallbacks: number;
  /** Shadow reads started (the read ran on both sides). */
  readonly shadowReads: number;
  /** Reads sampled for a shadow read but not shadowed: `readRouting.maxShadowReadsInFlight` were running. */
  readonly shadowReadsDropped: number;
  /** Shadow reads whose two answers were compared (the others are still running). */
  readonly shadowReadsCompared: number;
  /** Shadow reads whose answers differed (each also emitted as `shadowReadMismatch`). */
  readonly shadowReadMismatches: number;
}

/** Things the engine tells its pool to emit. */
export interface EngineEvents {
  /** A write the secondary side does not have. */
  replayFailure(failure: ReplayFailure, recorded: boolean): void;
  /** The repair log could not be written. */
  repairLogError(error: Error, failures: readonly ReplayFailure[]): void;
  /** A secondary side's circuit breaker changed state. */
  circuit(side: Side, state: CircuitState): void;
  /** A mode switch took effect. */
  modeChange(change: ModeChange): void;
}

/** A mode switch that took effect, as the pool's `modeChange` event reports it. */
export interface ModeChange {
  /** The mode before. */
  readonly from: Mode;
  /** The mode now in force. */
  readonly to: Mode;
  /** The provider's state now in force. */
  readonly state: FlagState;
  /** How long the switch waited for in-flight writes, and the pins still open under other modes. */
  readonly info: SwitchInfo;
}

/** A planned write: the replay plan and the metadata of the table it writes. */
export interface PlannedWrite {
  readonly plan: ReplayPlan;
  /** For a `row_image` plan: how the rows are found (planned with the tables' metadata). */
  readonly rowImage: RowImagePlan | null;
  readonly table: TableMetadata | null;
  /** The table as written in the statement, with the schema filled in. */
  readonly tableRef: { readonly schema: string | null; readonly name: string } | null;
  /** The side the write is replayed on. */
  readonly secondary: Side;
  /** The other tables the statement writes (multi-table UPDATE/DELETE), schema filled in. */
  readonly otherTables: readonly FailedTable[];
}

/** The shared engine. One per `createPool()`; the callback pool, its connections and its promise view use it. */
export class DualEngine {
  readonly options: ResolvedOptions;
  readonly sides: Readonly<Record<Side, SidePool>>;
  readonly flags: FlagProvider;
  /** The in-memory provider `setMode()` drives, or `null` when the application passed its own `flags`. */
  readonly ownFlags: InMemoryFlagProvider | null;
  readonly gate: ModeGate;
  readonly analyzer = new StatementAnalyzer();
  readonly schema: Readonly<Record<Side, SchemaCache>>;
  readonly breakers: Readonly<Record<Side, CircuitBreaker | null>>;
  readonly stats: {
    acknowledgedWrites: Record<Side, number>;
    replayedWrites: Record<Side, number>;
    rowImageReplays: number;
    replayFailures: Record<Side, number>;
    unrecordedFailures: number;
    refusedWrites: number;
  } & ReadRoutingCounters = {
    acknowledgedWrites: { source: 0, target: 0 },
    replayedWrites: { source: 0, target: 0 },
    rowImageReplays: 0,
    replayFailures: { source: 0, target: 0 },
    unrecordedFailures: 0,
    refusedWrites: 0,
    grayDecisions: 0,
    grayReads: { source: 0, target: 0 },
    grayFallbacks: 0,
    shadowReads: 0,
    shadowReadsDropped: 0,
    shadowReadsCompared: 0,
    shadowReadMismatches: 0,
  };
  /** Live per-side health counters ({@link DualPoolStats.health} is their snapshot). */
  readonly health: HealthCounters = healthCounters();
  /** The pool's spans and metrics (option `telemetry`), or `null` when off. */
  readonly telemetry: Telemetry | null;
  /** Intent rows (option `intents`), or `null` when off. */
  readonly intents: IntentLog | null;
  readonly #events: EngineEvents;
  readonly #repairLogReady = new Map<Side, Promise<void>>();
  readonly #flavors: Partial<Record<Side, ServerSettings['flavor']>> = {};

  constructor(options: DualPoolOptions, events: EngineEvents) {
    this.options = resolveOptions(options);
    const telemetry = resolveTelemetry(options.telemetry); // before anything is opened: a bad option throws here
    this.#events = events;
    this.sides = { source: openSide('source', options.source), target: openSide('target', options.target) };
    this.ownFlags = options.flags ? null : new InMemoryFlagProvider(options.mode ?? 'source_only', { source: 'createPool' });
    this.flags = options.flags ?? (this.ownFlags as InMemoryFlagProvider);
    this.gate = new ModeGate(this.flags, {
      drainTimeoutMs: this.options.drainTimeoutMs,
      onSwitch: (from, to, state, info) => events.modeChange({ from, to, state, info }),
    });
    const ttl = this.options.schemaTtlMs;
    this.schema = {
      source: new SchemaCache({ query: (sql, values) => send(this.sides.source.pool, 'query', sql, values) }, { ttl }),
      target: new SchemaCache({ query: (sql, values) => send(this.sides.target.pool, 'query', sql, values) }, { ttl }),
    };
    const breaker = this.options.circuitBreaker;
    const make = (): CircuitBreaker | null => (breaker === false ? null : new CircuitBreaker({ ...breaker, now: this.options.now }));
    this.breakers = { source: make(), target: make() };
    this.telemetry = telemetry === null ? null : new Telemetry(telemetry, this);
    this.intents = this.options.intents ? new IntentLog(this.options.repairLogTable, { source: this.sides.source.pool, target: this.sides.target.pool }, this.options.replayTimeoutMs) : null;
  }

  /** Sorts out a call's arguments and analyzes its statement (cached by text). */
  statement(method: Method, sql: unknown, values: unknown, callback: unknown, formatWith: Side): { statement: Statement; args: CallArguments } {
    const args = callArguments(sql, values, callback);
    const { text, values: bound } = textAndValues(args);
    const poolDefault = (this.sides[formatWith].pool.config as { connectionConfig?: { namedPlaceholders?: unknown } }).connectionConfig?.namedPlaceholders;
    if (usesNamedPlaceholders(args, bound, poolDefault)) {
      return { statement: { method, sqlArg: args.sqlArg, valuesArg: args.valuesArg, text, values: undefined, analysis: this.analyzer.analyze(text), namedPlaceholders: true }, args };
    }
    if (method === 'query' && needsClientFormatting(bound)) {
      // What mysql2 sends is the text with the values written in: analyze and replay exactly that.
      const formatted = this.sides[formatWith].pool.format(text, bound);
      return { statement: { method, sqlArg: args.sqlArg, valuesArg: args.valuesArg, text: formatted, values: undefined, analysis: this.analyzer.analyze(formatted) }, args };
    }
    const list = Array.isArray(bound) ? (bound as unknown[]) : undefined;
    return { statement: { method, sqlArg: args.sqlArg, valuesArg: args.valuesArg, text, values: list, analysis: this.analyzer.analyze(text) }, args };
  }

  /**
   * Plans the replay of a write on the secondary side, loading the written table's metadata from the primary side
   * when it is not cached yet.
   *
   * @param database - the default database of the primary side's session (unqualified names resolve to it)
   */
  async plan(statement: Statement, primary: Side, database: string | null): Promise<PlannedWrite> {
    if (statement.namedPlaceholders === true) {
      this.stats.refusedWrites += 1;
      throw new DualWriteError(
        'ER_DUALWRITE_UNSUPPORTED',
        'A write with named placeholders (namedPlaceholders: true and a values object) is not supported in a dual-write mode: mysql2 ' +
          'rewrites `:name` into `?` after the pool has analyzed the statement, so it cannot be replayed exactly. Nothing was run. ' +
          'Use `?` placeholders with an array of values.',
      );
    }
    const cache = this.schema[primary];
    const settings = await cache.settings();
    this.#flavors[primary] = settings.flavor;
    const secondary = oppositeSide(primary);
    if (this.#flavors[secondary] === undefined) {
      // Learn the other side's flavour in the background; until then the portable clock pin is used there.
      this.schema[secondary].settings().then((s) => (this.#flavors[secondary] = s.flavor), () => undefined);
    }
    const { analysis } = statement;
    const written = analysis.tablesWritten;
    const first = written[0];
    const tableRef = first === undefined ? null : this.qualify(first, database);
    const otherTables = written.slice(1).map((ref) => this.qualify(ref, database));
    const table = tableRef?.schema ? await this.#metadata(cache, tableRef.schema, tableRef.name) : null;
    const single = written.length === 1 ? table : null;
    const plan = planReplay({ sql: statement.text, analysis, values: statement.values, table: single, settings });
    if (plan.kind !== 'row_image') return { plan, rowImage: null, table: single, tableRef, secondary, otherTables };
    if (table === null) return { plan: { kind: 'unreplayable', reason: `${plan.reason}, and the metadata of the table written could not be read` }, rowImage: null, table, tableRef, secondary, otherTables };
    // A multi-table statement needs every table it names: load them now so the planner can look them up.
    const named = new Map<string, TableMetadata>();
    for (const ref of [...written, ...analysis.tablesRead]) {
      const { schema, name } = this.qualify(ref, database);
      const metadata = schema === null ? null : await this.#metadata(cache, schema, name);
      if (metadata !== null) named.set(`${ref.schema ?? ''}.${ref.name}`, metadata);
    }
    const rowImage = planRowImage({
      sql: statement.text,
      analysis,
      values: statement.values,
      table,
      settings,
      tables: (ref) => named.get(`${ref.schema ?? ''}.${ref.name}`),
      maxRows: this.options.maxRowImageRows,
    });
    if (rowImage.kind === 'unplannable') return { plan: { kind: 'unreplayable', reason: `${plan.reason}, and ${rowImage.message}` }, rowImage: null, table, tableRef, secondary, otherTables };
    return { plan, rowImage, table, tableRef, secondary, otherTables };
  }

  /** The server flavour of `side`, once a write has learnt it. */
  flavor(side: Side): ServerSettings['flavor'] | undefined {
    return this.#flavors[side];
  }

  /** Whether `side` runs MariaDB, whose `SET STATEMENT timestamp = … FOR …` pins the clock in the statement itself (unknown: no). */
  statementClock(side: Side): boolean {
    return this.#flavors[side] === 'mariadb';
  }

  /** Resolves a table reference of a statement against a session's default database. */
  qualify(ref: TableRef, database: string | null): { schema: string | null; name: string } {
    return { schema: ref.schema ?? database, name: ref.name };
  }

  async #metadata(cache: SchemaCache, schema: string, table: string): Promise<TableMetadata | null> {
    const cached = cache.peek(schema, table);
    if (cached !== undefined) return cached;
    try {
      return await cache.get(schema, table);
    } catch {
      // The statement will fail on the primary side with the server's own error, or, if it succeeds, be recorded
      // for repair (a write without metadata cannot be replayed exactly).
      return null;
    }
  }

  /**
   * Counts and emits failures, and writes them to the repair log of the primary side: through `connection` when
   * given (inside its open transaction, so the write and its repair-log row commit together), else through the
   * primary side's pool. Never throws: a repair log that cannot be written is emitted as `repairLogError` and counted.
   */
  async recordFailures(primary: Side, failures: readonly ReplayFailure[], connection: PoolConnection | null): Promise<void> {
    if (failures.length === 0) return;
    let recorded = true;
    try {
      // The table exists when repairLogReady() succeeded before the caller took its connection; when it did not,
      // try once more here, outside any connection the caller holds (the pool may have none to spare).
      if (connection === null) await this.#createRepairLog(primary);
      const { sql, values } = repairLogInsert(this.options.repairLogTable, failures);
      await traceRepairLog(this, primary, failures[0]!.mode as Mode, failures.length, () => send(connection ?? this.sides[primary].pool, 'query', sql, values));
    } catch (error) {
      recorded = false;
      this.stats.unrecordedFailures += failures.length;
      this.#events.repairLogError(asError(error), failures);
    }
    for (const failure of failures) {
      this.stats.replayFailures[failure.secondarySide as Side] += 1;
      this.telemetry?.failure(failure, recorded);
      this.#events.replayFailure(failure, recorded);
    }
  }

  /**
   * Counts and emits failures already in the repair log (a write whose intent row stays pending because the
   * secondary side did not commit): nothing is written.
   */
  countRecorded(failures: readonly ReplayFailure[]): void {
    for (const failure of failures) {
      this.stats.replayFailures[failure.secondarySide as Side] += 1;
      this.telemetry?.failure(failure, true);
      this.#events.replayFailure(failure, true);
    }
  }

  /** Asks the breaker whether a replay to `side` may be tried now (emitting `half_open` when a probe is let through). */
  replayAllowed(side: Side): boolean {
    const breaker = this.breakers[side];
    if (breaker === null) return true;
    const before = breaker.state;
    const allowed = breaker.allow();
    if (breaker.state !== before) this.#events.circuit(side, breaker.state);
    return allowed;
  }

  /** Reports a breaker's verdict on a replay attempt and emits state changes. */
  replayOutcome(side: Side, ok: boolean): void {
    const breaker = this.breakers[side];
    if (breaker === null) return;
    const before = breaker.state;
    if (ok) breaker.success();
    else breaker.failure();
    if (breaker.state !== before) this.#events.circuit(side, breaker.state);
  }

  /**
   * Makes sure the repair log exists on `side` before a dual write takes a connection: the table is created on a
   * connection of its own (DDL would commit an open transaction), and doing it while the caller holds a
   * connection could wait forever on a pool whose every connection is held the same way. Never rejects: a
   * failure is remembered for {@link REPAIR_LOG_RETRY_MS} (so writes do not queue behind a DDL that keeps
   * failing, e.g. without the CREATE privilege), and recording into a missing table then reports `repairLogError`.
   */
  repairLogReady(side: Side): Promise<void> {
    const known = this.#repairLogReady.get(side);
    if (known !== undefined) return known;
    const ready = this.#createRepairLog(side).catch((error: unknown) => {
      this.#events.repairLogError(asError(error), []);
      setTimeout(() => this.#repairLogReady.delete(side), REPAIR_LOG_RETRY_MS).unref();
    });
    this.#repairLogReady.set(side, ready);
    return ready;
  }

  async #createRepairLog(side: Side): Promise<void> {
    await send(this.sides[side].pool, 'query', repairLogDdl(this.options.repairLogTable));
  }
}

/** How long a failed creation of the repair log is remembered before the next dual write tries again, in milliseconds. */
export const REPAIR_LOG_RETRY_MS = 30_000;

/** Anything thrown, as an Error. */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new DualWriteError('ER_DUALWRITE_UNKNOWN', String(error));
}
