/**
 * The pool's OpenTelemetry spans and metrics, through `@opentelemetry/api` only. One {@link Telemetry} per pool,
 * created by the engine when the `telemetry` option is on; the pool's files call the `trace*` helpers below,
 * which cost one `null` check when it is off. docs/observability.md lists every span, attribute and metric.
 *
 * @module
 */
import type { Attributes, Counter, Histogram, Meter, ObservableResult, Span, Tracer } from '@opentelemetry/api';
import { LRUCache } from 'lru-cache';
import { CircuitOpenError, ReplayDivergenceError, ReplayTimeoutError } from '../errors.js';
import { MODES, primarySide, type Mode, type Side } from '../mode/modes.js';
import type { ReplayFailure } from '../replay/failure.js';
import { quoteTableName } from '../replay/repair-log.js';
import type { DualEngine } from '../pool/engine.js';
import type { Statement } from '../pool/statement.js';
import { send } from '../pool/side-io.js';
import { HEALTH_BUCKET_BOUNDS_MS } from './health.js';
import type { ResolvedTelemetry } from './options.js';
import { sanitizeSql } from './sanitize.js';

/** Attribute names of the pool's own spans and metrics (besides the database semantic conventions' `db.*`). */
export const TELEMETRY_ATTRIBUTES = Object.freeze({
  /** The pool's mode for the write (`source_first`, …). */
  mode: 'dualwrite.mode',
  /** The side a span or measurement is about: `source` or `target`. */
  side: 'dualwrite.side',
  /** How the secondary side gets the write: `statement`, `row_image`, `ddl` (on failures: the repair-log kind). */
  replayKind: 'dualwrite.replay.kind',
  /** What became of a replay: `applied`, `failed`, `timeout`, `divergence`, `circuit_open`. */
  replayOutcome: 'dualwrite.replay.outcome',
  /** Whether a failure reached the repair log. */
  recorded: 'dualwrite.recorded',
  /** The table a per-table mode applies to (`schema.table`), or `*` for the pool's default mode. */
  table: 'dualwrite.table',
} as const);

/** What became of a replay on the secondary side, as the `dualwrite.replay.outcome` attribute says. */
export type ReplayOutcome = 'applied' | 'failed' | 'timeout' | 'divergence' | 'circuit_open';

/** The spans the pool starts. */
export type SpanName = 'dualwrite.write' | 'dualwrite.commit' | 'dualwrite.primary' | 'dualwrite.secondary' | 'dualwrite.repair_log';

/** A span the caller ends itself, with the outcome it learns last (a replay, whose timeout races its work). */
export interface OpenSpan {
  /** Runs `fn` with this span as the active one (so the mysql2 instrumentation's spans become its children). */
  run<T>(fn: () => Promise<T>): Promise<T>;
  /** Ends the span with the replay's outcome, and its error when it failed. */
  end(outcome: ReplayOutcome, error?: unknown): void;
}

/** A pool's spans and metrics. */
export class Telemetry {
  readonly #otel: ResolvedTelemetry;
  readonly #tracer: Tracer | null;
  readonly #engine: DualEngine;
  readonly #texts = new LRUCache<string, string>({ max: 500 });
  #failures: Counter | null = null;
  #mismatches: Counter | null = null;
  #closed: () => boolean = () => false;
  readonly #unregister: (() => void)[] = [];

  /**
   * @param otel - the resolved `telemetry` option
   * @param engine - the pool's engine (its sides, flags, health counters)
   */
  constructor(otel: ResolvedTelemetry, engine: DualEngine) {
    this.#otel = otel;
    this.#tracer = otel.tracer;
    this.#engine = engine;
    if (otel.meter !== null) this.#metrics(otel.meter);
  }

  /**
   * Subscribes to the pool's own events (`shadowReadMismatch`) and learns when it is closed (its observable
   * gauges then stop reporting and are unregistered).
   */
  watch(pool: { on(event: string, listener: (...args: never[]) => void): unknown; readonly _closed: boolean }): void {
    this.#closed = () => pool._closed;
    const mismatches = this.#mismatches;
    if (mismatches !== null) pool.on('shadowReadMismatch', () => mismatches.add(1));
  }

  /** Runs `fn` inside a new span about `side` (a child of the active one), ending it with `fn`'s outcome. */
  async span<T>(name: SpanName, side: Side, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
    const tracer = this.#tracer;
    if (tracer === null) return fn();
    const { context, trace } = this.#otel.api;
    const span = tracer.startSpan(name, { kind: this.#otel.api.SpanKind.INTERNAL, attributes }, context.active());
    try {
      const result = await context.with(trace.setSpan(context.active(), span), fn);
      this.#end(span, side);
      return result;
    } catch (error) {
      this.#fail(span, error);
      this.#end(span, side);
      throw error;
    }
  }

  /** Starts a span the caller ends ({@link OpenSpan}), or returns `null` without a tracer. */
  open(name: SpanName, side: Side, attributes: Attributes): OpenSpan | null {
    const tracer = this.#tracer;
    if (tracer === null) return null;
    const { context, trace } = this.#otel.api;
    const span = tracer.startSpan(name, { kind: this.#otel.api.SpanKind.INTERNAL, attributes }, context.active());
    const active = trace.setSpan(context.active(), span);
    return {
      run: (fn) => context.with(active, fn),
      end: (outcome, error) => {
        span.setAttribute(TELEMETRY_ATTRIBUTES.replayOutcome, outcome);
        if (outcome !== 'applied') this.#fail(span, error === undefined ? { code: outcome } : error);
        this.#end(span, side);
      },
    };
  }

  /**
   * The database semantic-convention attributes of `statement` run on `side` (the text sanitised, see
   * {@link sanitizeSql}), plus the pool's mode and the side.
   */
  statementAttributes(statement: Statement, side: Side, mode: Mode, database: string | null): Attributes {
    const { analysis } = statement;
    const table = analysis.tablesWritten[0] ?? analysis.tablesRead[0];
    const namespace = table?.schema ?? database;
    const attributes: Attributes = {
      ...this.sideAttributes(side, mode),
      'db.operation.name': analysis.verb.toUpperCase(),
      'db.query.text': this.#sanitized(statement.text),
    };
    if (namespace !== null && namespace !== undefined) attributes['db.namespace'] = namespace;
    if (table !== undefined) attributes['db.collection.name'] = table.name;
    return attributes;
  }

  /** The mode and the side (`db.system.name` is set when the span ends: the pool learns a side's flavour during the first write). */
  sideAttributes(side: Side, mode: Mode): Attributes {
    return { [TELEMETRY_ATTRIBUTES.mode]: mode, [TELEMETRY_ATTRIBUTES.side]: side };
  }

  /** Ends `span` with `db.system`/`db.system.name` of `side`: `mariadb` once the pool learnt it, else `mysql`. */
  #end(span: Span, side: Side): void {
    const system = this.#engine.flavor(side) === 'mariadb' ? 'mariadb' : 'mysql';
    span.setAttribute('db.system', system);
    span.setAttribute('db.system.name', system);
    span.end();
  }

  /** Counts a write the secondary side did not get (`dualwrite.replay.failures`). */
  failure(failure: ReplayFailure, recorded: boolean): void {
    this.#failures?.add(1, {
      [TELEMETRY_ATTRIBUTES.side]: failure.secondarySide,
      [TELEMETRY_ATTRIBUTES.replayKind]: failure.kind,
      [TELEMETRY_ATTRIBUTES.recorded]: recorded,
      'error.type': errorType(failure.error),
    });
  }

  #fail(span: Span, error: unknown): void {
    // Only the error's code: a server's message can quote the values of the statement (a duplicate key, …).
    const type = errorType(error);
    span.setAttribute('error.type', type);
    span.setStatus({ code: this.#otel.api.SpanStatusCode.ERROR, message: type });
  }

  #sanitized(text: string): string {
    let sanitized = this.#texts.get(text);
    if (sanitized === undefined) {
      sanitized = sanitizeSql(text);
      this.#texts.set(text, sanitized);
    }
    return sanitized;
  }

  #metrics(meter: Meter): void {
    const engine = this.#engine;
    const duration: Histogram = meter.createHistogram('dualwrite.side.duration', {
      unit: 's',
      description: 'Duration of statements callers ran through the pool, by the side that served them (its primary side, or a routed read)',
      advice: { explicitBucketBoundaries: HEALTH_BUCKET_BOUNDS_MS.map((ms) => ms / 1000) },
    });
    for (const side of ['source', 'target'] as const) {
      const ok: Attributes = { [TELEMETRY_ATTRIBUTES.side]: side };
      engine.health[side].listener = (seconds, error) => {
        duration.record(seconds, error === null || error === undefined ? ok : { [TELEMETRY_ATTRIBUTES.side]: side, 'error.type': errorType(error) });
      };
      this.#unregister.push(() => (engine.health[side].listener = null));
    }
    this.#failures = meter.createCounter('dualwrite.replay.failures', {
      unit: '{failure}',
      description: 'Writes the secondary side did not get, by side, kind (repair-log kind) and error type',
    });
    this.#mismatches = meter.createCounter('dualwrite.read.shadow_mismatches', {
      unit: '{mismatch}',
      description: 'Shadow reads whose secondary answer differed from the primary one',
    });
    const mode = meter.createObservableGauge('dualwrite.mode', {
      unit: '1',
      description: `Mode in force, as its index in [${MODES.join(', ')}]: one series for the default (dualwrite.table = *) and one per table override`,
    });
    const gray = meter.createObservableGauge('dualwrite.read.gray_share', {
      unit: '1',
      description: 'Share (0 to 1) of eligible reads served by the secondary side (gray reads) in the state in force',
    });
    const observe = (result: { observe(metric: typeof mode, value: number, attributes?: Attributes): void }): void => {
      if (this.#stopIfClosed()) return;
      const state = engine.gate.appliedState;
      result.observe(mode, MODES.indexOf(state.mode), { [TELEMETRY_ATTRIBUTES.table]: '*' });
      for (const [table, tableMode] of Object.entries(state.tableModes ?? {})) result.observe(mode, MODES.indexOf(tableMode), { [TELEMETRY_ATTRIBUTES.table]: table });
      const percent = state.readRouting?.grayReadPercent ?? engine.options.readRouting.grayReadPercent;
      result.observe(gray, percent / 100);
    };
    meter.addBatchObservableCallback(observe, [mode, gray]);
    this.#unregister.push(() => meter.removeBatchObservableCallback(observe, [mode, gray]));
    if (this.#otel.repairLogBacklog) {
      const backlog = meter.createObservableGauge('dualwrite.repair_log.backlog', {
        unit: '{row}',
        description: 'Rows of each side\'s repair log not repaired yet (COUNT on each collection); a side that cannot be counted reports nothing',
      });
      const count = async (result: ObservableResult): Promise<void> => {
        if (this.#stopIfClosed()) return;
        await Promise.all((['source', 'target'] as const).map(async (side) => {
          const rows = await this.#backlog(side);
          if (rows !== null) result.observe(rows, { [TELEMETRY_ATTRIBUTES.side]: side });
        }));
      };
      backlog.addCallback(count);
      this.#unregister.push(() => backlog.removeCallback(count));
    }
  }

  /** Pending rows of `side`'s repair log, 0 when it does not exist, `null` when it cannot be counted now. */
  async #backlog(side: Side): Promise<number | null> {
    const table = quoteTableName(this.#engine.options.repairLogTable);
    try {
      const [rows] = await send(this.#engine.sides[side].pool, 'query', { sql: `SELECT COUNT(*) AS n FROM ${table} WHERE repaired_at IS NULL`, timeout: 5000 });
      return Number((rows as { n: number | string }[])[0]?.n ?? 0);
    } catch (error) {
      return (error as { errno?: unknown }).errno === ER_NO_SUCH_TABLE ? 0 : null;
    }
  }

  #stopIfClosed(): boolean {
    if (!this.#closed()) return false;
    for (const unregister of this.#unregister.splice(0)) unregister();
    return true;
  }
}

/** mysql2 errno of a missing table. */
const ER_NO_SUCH_TABLE = 1146;

/** The `error.type` of an error: its code (`ER_DUP_ENTRY`, `ECONNRESET`, `ER_DUALWRITE_…`), else its class name. */
export function errorType(error: unknown): string {
  if (error === null || error === undefined) return 'unknown';
  if (typeof error !== 'object') return typeof error === 'string' ? 'unknown' : typeof error;
  const { code, errno } = error as { code?: unknown; errno?: unknown };
  if (typeof code === 'string' && code !== '') return code;
  if (typeof errno === 'number') return String(errno);
  return (error as Error).name || 'Error';
}

/** The outcome attribute of a replay that threw `error`. */
export function replayOutcomeOf(error: unknown): ReplayOutcome {
  if (error instanceof ReplayTimeoutError) return 'timeout';
  if (error instanceof ReplayDivergenceError) return 'divergence';
  if (error instanceof CircuitOpenError) return 'circuit_open';
  return 'failed';
}

/**
 * A dual write (`dualwrite.write`): runs `fn` in its span when the pool has telemetry, else just runs it.
 *
 * @param database - the default database of the session the write runs in
 */
export function traceWrite<T>(engine: DualEngine, statement: Statement, mode: Mode, database: string | null, fn: () => Promise<T>): Promise<T> {
  const telemetry = engine.telemetry;
  if (telemetry === null) return fn();
  return telemetry.span('dualwrite.write', primarySide(mode), telemetry.statementAttributes(statement, primarySide(mode), mode, database), fn);
}

/** The primary side's part of a dual write (`dualwrite.primary`): the caller's statement, or a COMMIT when `statement` is null. */
export function tracePrimary<T>(engine: DualEngine, statement: Statement | null, mode: Mode, database: string | null, fn: () => Promise<T>): Promise<T> {
  const telemetry = engine.telemetry;
  if (telemetry === null) return fn();
  const side = primarySide(mode);
  const attributes = statement === null ? { ...telemetry.sideAttributes(side, mode), 'db.operation.name': 'COMMIT' } : telemetry.statementAttributes(statement, side, mode, database);
  return telemetry.span('dualwrite.primary', side, attributes, fn);
}

/**
 * A COMMIT of a checked-out connection in a dual-write mode (`dualwrite.commit`). Its children: the primary side's
 * COMMIT (`dualwrite.primary`), the repair-log rows of the transaction's failed replays (`dualwrite.repair_log`),
 * and the secondary side's COMMIT (`dualwrite.secondary`).
 */
export function traceCommit<T>(engine: DualEngine, mode: Mode, fn: () => Promise<T>): Promise<T> {
  const telemetry = engine.telemetry;
  if (telemetry === null) return fn();
  const side = primarySide(mode);
  return telemetry.span('dualwrite.commit', side, { ...telemetry.sideAttributes(side, mode), 'db.operation.name': 'COMMIT' }, fn);
}

/** Rows written to the repair log of `side` (`dualwrite.repair_log`). */
export function traceRepairLog<T>(engine: DualEngine, side: Side, mode: Mode, rows: number, fn: () => Promise<T>): Promise<T> {
  const telemetry = engine.telemetry;
  if (telemetry === null) return fn();
  const attributes = { ...telemetry.sideAttributes(side, mode), 'db.operation.name': 'INSERT', 'db.collection.name': engine.options.repairLogTable, 'dualwrite.repair_log.rows': rows };
  return telemetry.span('dualwrite.repair_log', side, attributes, fn);
}

/** Opens the span of one replay on the secondary side (`dualwrite.secondary`), or returns `null` without telemetry. */
export function openReplaySpan(engine: DualEngine, secondary: Side, mode: Mode, work: { readonly kind: string; readonly sql: string; readonly table: { readonly schema: string | null; readonly name: string } | null }): OpenSpan | null {
  const telemetry = engine.telemetry;
  if (telemetry === null) return null;
  const statement = { text: work.sql, analysis: engine.analyzer.analyze(work.sql) } as Statement;
  const attributes = { ...telemetry.statementAttributes(statement, secondary, mode, work.table?.schema ?? null), [TELEMETRY_ATTRIBUTES.replayKind]: work.kind };
  return telemetry.open('dualwrite.secondary', secondary, attributes);
}
