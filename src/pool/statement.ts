/**
 * A caller's statement as the pool handles it: the arguments exactly as given (forwarded to the primary side
 * untouched) and the text and values the analyzer and the replay work from.
 *
 * @module
 */
import type { QueryOptions } from 'mysql2';
import type { StatementAnalysis } from '../sql/types.js';
import type { Method, ResultCallback } from './side-io.js';

/** One statement sent through the pool. */
export interface Statement {
  /** `query` or `execute`, as the caller chose. */
  readonly method: Method;
  /** The SQL argument as the caller gave it (text or mysql2 query options). */
  readonly sqlArg: string | QueryOptions;
  /** The values argument as the caller gave it (`undefined` when none). */
  readonly valuesArg: unknown;
  /** The SQL text analyzed and replayed. For `query()` with values mysql2 expands (arrays, objects), the text mysql2 sends. */
  readonly text: string;
  /** The values bound to `text`'s placeholders, or `undefined` when `text` is complete. */
  readonly values: unknown[] | undefined;
  /** What the analyzer found. */
  readonly analysis: StatementAnalysis;
  /**
   * True when mysql2 will turn `:name` placeholders into `?` with the values object (`namedPlaceholders`): the text
   * analyzed is not what the server runs, so such a write cannot be replayed and is refused.
   */
  readonly namedPlaceholders?: boolean;
}

/** True when mysql2 converts named placeholders for this call: the option is on (per query or for the pool) and the values are an object. */
export function usesNamedPlaceholders(args: CallArguments, values: unknown, poolDefault: unknown): boolean {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) return false;
  const own = typeof args.sqlArg === 'object' && args.sqlArg !== null ? (args.sqlArg as { namedPlaceholders?: unknown }).namedPlaceholders : undefined;
  return (own ?? poolDefault) === true;
}

/** The arguments of mysql2's `query`/`execute`, normalised: `(sql, values?, cb?)` or `(sql, cb)`. */
export interface CallArguments {
  readonly sqlArg: string | QueryOptions;
  readonly valuesArg: unknown;
  readonly callback: ResultCallback | undefined;
}

/** Sorts out mysql2's optional arguments the way mysql2 does: a function in second place is the callback. */
export function callArguments(sql: unknown, values: unknown, callback: unknown): CallArguments {
  if (typeof values === 'function') return { sqlArg: sql as string | QueryOptions, valuesArg: undefined, callback: values as ResultCallback };
  return {
    sqlArg: sql as string | QueryOptions,
    valuesArg: values,
    callback: typeof callback === 'function' ? (callback as ResultCallback) : undefined,
  };
}

/** The SQL text and the values a call carries (values in the options object count when none are passed apart). */
export function textAndValues(args: CallArguments): { text: string; values: unknown } {
  if (typeof args.sqlArg === 'string') return { text: args.sqlArg, values: args.valuesArg };
  if (args.sqlArg === null || typeof args.sqlArg !== 'object' || typeof args.sqlArg.sql !== 'string') {
    // Not something mysql2 accepts either: the primary side's mysql2 gives the caller its own error for it.
    return { text: '', values: args.valuesArg };
  }
  return { text: args.sqlArg.sql, values: args.valuesArg !== undefined ? args.valuesArg : args.sqlArg.values };
}

/**
 * True when mysql2's `query()` would not send the text with each `?` replaced by one value: an array (expanded
 * to a list), a plain object (`SET ?`, or named placeholders), or a `toSqlString()` object. The pool then works
 * from the text mysql2 builds, so that what it analyzes and replays is what the server ran.
 */
export function needsClientFormatting(values: unknown): boolean {
  if (values === undefined || values === null) return false;
  if (!Array.isArray(values)) return true;
  // Dates and byte arrays are single values; every other object (arrays, `SET ?` objects, mysql.raw()) is expanded.
  return values.some((v) => v !== null && typeof v === 'object' && !(v instanceof Date) && !ArrayBuffer.isView(v));
}
