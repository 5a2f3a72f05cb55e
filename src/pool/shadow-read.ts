/**
 * Shadow reads: a sampled pool-level read runs on the primary side as usual (the caller's callback gets the
 * primary's answer, never waiting for the other side) and, at the same time, on the other side's own pool; once
 * both have answered, the results are compared and a difference is reported, never thrown.
 *
 * @module
 */
import type { FieldPacket, QueryError, QueryResult } from 'mysql2';
import type { Side } from '../mode/modes.js';
import { lex, type Token } from '../sql/lexer.js';
import type { StatementAnalysis } from '../sql/types.js';
import { compareResults, type ResultDiff, type SideResult } from './result-compare.js';
import type { ResolvedReadRouting } from './options.js';
import { send, type ResultCallback } from './side-io.js';
import type { Statement } from './statement.js';
import type { SidePool } from './sides.js';

/** A shadow read whose result differed from the primary's, as the pool's `shadowReadMismatch` event reports it. */
export interface ShadowReadMismatch {
  /**
   * The statement as the application sent it (with `?` placeholders; for `query()` with values mysql2 expands —
   * arrays, objects — the text mysql2 built, values written in). Literal values the application wrote into its
   * own SQL text are in it: treat the event as sensitive as the statement.
   */
  readonly statement: string;
  /** The values bound to the statement's placeholders, apart from the text, or `undefined`. */
  readonly values: readonly unknown[] | undefined;
  /** The side that answered the caller. */
  readonly primary: Side;
  /** The side the read was shadowed on. */
  readonly shadow: Side;
  /**
   * `rows`: both sides answered, with different rows ({@link ShadowReadMismatch.diff}). `error`: one side failed
   * and the other did not, or they failed with different error codes ({@link ShadowReadMismatch.errors}).
   */
  readonly kind: 'rows' | 'error';
  /** For `rows`: what differs. */
  readonly diff?: ResultDiff;
  /** For `error`: each side's error code (`null`: that side answered). */
  readonly errors?: {
    /** The primary side's error code or message, `null` when it answered. */
    readonly primary: string | null;
    /** The shadow side's error code or message, `null` when it answered. */
    readonly shadow: string | null;
  };
}

/** What a shadow read needs from its pool. */
export interface ShadowContext {
  /** The pool's read-routing options (normalisation, diff size). */
  readonly options: ResolvedReadRouting;
  /** Both sides' mysql2 pools. */
  readonly sides: Readonly<Record<Side, SidePool>>;
  /** Counters (`shadowReadsCompared`, `shadowReadMismatches`) of the pool's stats. */
  readonly stats: { shadowReadsCompared: number; shadowReadMismatches: number };
  /** Reports a mismatch (the pool's `shadowReadMismatch` event). */
  readonly report: (mismatch: ShadowReadMismatch) => void;
  /** Called when the shadow read is over (both answers in and compared). */
  readonly done: () => void;
}

/** What the statement's text says about comparing its results. */
export interface ReadShape {
  /** A top-level ORDER BY: rows compare in order. */
  readonly ordered: boolean;
  /**
   * Why the statement is not shadowed, or `null`: a LIMIT without ORDER BY (each side may pick other rows), or a
   * function whose value differs between the sides or calls (NOW(), RAND(), UUID(), CONNECTION_ID() …).
   */
  readonly unshadowable: string | null;
}

// Functions whose value differs between the sides or between calls; the first list is also valid without ().
const VOLATILE_BARE = new Set(['CURRENT_TIMESTAMP', 'CURRENT_DATE', 'CURRENT_TIME', 'LOCALTIME', 'LOCALTIMESTAMP', 'CURRENT_USER', 'UTC_TIMESTAMP', 'UTC_DATE', 'UTC_TIME']);
const VOLATILE_CALLS = new Set([
  'NOW', 'CURDATE', 'CURTIME', 'SYSDATE', 'UNIX_TIMESTAMP', 'RAND', 'UUID', 'UUID_SHORT', 'SYS_GUID', 'CONNECTION_ID', 'LAST_INSERT_ID',
  'ROW_COUNT', 'FOUND_ROWS', 'VERSION', 'DATABASE', 'SCHEMA', 'USER', 'SESSION_USER', 'SYSTEM_USER', 'BENCHMARK', 'SLEEP', 'NEXTVAL', 'LASTVAL',
]);
const shapes = new WeakMap<StatementAnalysis, ReadShape>();

/** The {@link ReadShape} of a read (computed once per analysis, which the analyzer caches per text). */
export function readShape(statement: Statement): ReadShape {
  const known = shapes.get(statement.analysis);
  if (known !== undefined) return known;
  const tokens = lex(statement.text).tokens;
  let ordered = false;
  let limited = false;
  let volatile: string | null = null;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as Token;
    if (t.type === 'sysvar' || t.type === 'variable') volatile ??= 'a variable';
    if (t.type !== 'word') continue;
    const call = tokens[i + 1]?.type === 'punct' && tokens[i + 1]?.upper === '(';
    if (VOLATILE_BARE.has(t.upper) || (call && VOLATILE_CALLS.has(t.upper))) volatile ??= `${t.upper}()`;
  }
  // Top level only: an ORDER BY or LIMIT inside a subquery says nothing of the order of the result.
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i] as Token;
    if (t.type === 'word' && t.upper === 'ORDER' && tokens[i + 1]?.upper === 'BY') ordered = true;
    if (t.type === 'word' && t.upper === 'LIMIT') limited = true;
    i = t.match >= 0 ? t.match + 1 : i + 1;
  }
  const shape: ReadShape = {
    ordered,
    unshadowable: volatile !== null ? `it uses ${volatile}, whose value differs between the sides` : limited && !ordered ? 'LIMIT without ORDER BY may pick other rows on each side' : null,
  };
  shapes.set(statement.analysis, shape);
  return shape;
}

/**
 * Runs a sampled read on `primary` for the caller and on the other side for comparison. Returns what mysql2's
 * `query()`/`execute()` on the primary side returned (its own Query): the caller's callback is called by mysql2
 * with the primary's answer, as for any read.
 */
export function shadowRead(context: ShadowContext, statement: Statement, callback: ResultCallback, primary: Side, shadow: Side, shape: ReadShape): unknown {
  let primaryOutcome: Outcome | undefined;
  let shadowOutcome: Outcome | undefined;
  const settle = (): void => {
    if (primaryOutcome === undefined || shadowOutcome === undefined) return;
    const [p, s] = [primaryOutcome, shadowOutcome];
    // Off the caller's path: its callback has run (or is running) already.
    setImmediate(() => {
      try {
        const mismatch = compareOutcomes(context, statement, primary, shadow, shape, p, s);
        context.stats.shadowReadsCompared += 1;
        if (mismatch !== null) {
          context.stats.shadowReadMismatches += 1;
          context.report(mismatch);
        }
      } finally {
        context.done();
      }
    });
  };
  const pool = context.sides[primary].pool as unknown as Record<string, (...a: unknown[]) => unknown>;
  const wrapped: ResultCallback = (error, result, fields) => {
    primaryOutcome = outcome(error, result, fields);
    settle();
    callback(error, result, fields);
  };
  const handle = statement.valuesArg === undefined ? pool[statement.method]?.(statement.sqlArg, wrapped) : pool[statement.method]?.(statement.sqlArg, statement.valuesArg, wrapped);
  send(context.sides[shadow].pool, statement.method, statement.sqlArg, statement.valuesArg).then(
    ([result, fields]) => {
      shadowOutcome = { error: null, result, fields };
      settle();
    },
    (error: Error) => {
      shadowOutcome = { error, result: undefined, fields: undefined };
      settle();
    },
  );
  return handle;
}

interface Outcome {
  readonly error: Error | null;
  readonly result: QueryResult | undefined;
  readonly fields: readonly FieldPacket[] | undefined;
}

function outcome(error: Error | null, result: QueryResult | undefined, fields: FieldPacket[] | undefined): Outcome {
  return { error, result, fields };
}

function compareOutcomes(context: ShadowContext, statement: Statement, primary: Side, shadow: Side, shape: ReadShape, p: Outcome, s: Outcome): ShadowReadMismatch | null {
  const base = { statement: statement.text, values: statement.values, primary, shadow };
  if (p.error !== null || s.error !== null) {
    const codes = { primary: errorCode(p.error), shadow: errorCode(s.error) };
    return codes.primary !== null && codes.primary === codes.shadow ? null : { ...base, kind: 'error', errors: codes };
  }
  const diff = compareResults(p as SideResult, s as SideResult, { ordered: shape.ordered, profile: context.options.normalization, diffRows: context.options.diffRows });
  return diff === null ? null : { ...base, kind: 'rows', diff };
}

function errorCode(error: Error | null): string | null {
  if (error === null) return null;
  const code = (error as Partial<QueryError>).code;
  return typeof code === 'string' ? code : error.name;
}
