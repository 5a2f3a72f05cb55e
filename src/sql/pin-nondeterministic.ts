/**
 * Pins the nondeterministic function calls of an INSERT/REPLACE — UUID(), UUID_SHORT(), SYS_GUID(), RAND(),
 * SYSDATE() — to values evaluated once on the primary side, so that the same statement text gives the same
 * rows on both sides.
 *
 * In the VALUES rows and SET assignments of an INSERT the server evaluates each call site once for the row it
 * stands in. Evaluating every such call once beforehand, in one `SELECT` on the primary side, and binding the
 * results in place of the calls makes the statement deterministic; both sides then run the rewritten statement.
 *
 * Two pure functions, used in this order by replay planning:
 *
 * 1. {@link planNondeterministicPins}: which calls to pin, and the `SELECT` that evaluates them
 *    (`null` when pinning is not exact: replay by row image instead).
 * 2. {@link withPinnedValues}: the statement with each call replaced by a bound value.
 *
 * Every call becomes a `?` (wrapped so that it keeps the call's SQL type, see {@link PinSite.replacement}),
 * whatever the evaluated value, so one statement shape gives one text and the prepared-statement caches of both
 * sides do not fill with one-off statements.
 *
 * @module
 */
import { ReplayPlanError } from '../errors.js';
import { lex, type Token } from './lexer.js';
import type { Span, StatementAnalysis, UnsafeReason } from './types.js';

/** A function whose calls {@link planNondeterministicPins} pins. */
export type PinnableFunction = 'UUID' | 'UUID_SHORT' | 'SYS_GUID' | 'RAND' | 'SYSDATE';

/** One call to evaluate on the primary side and replace by its value. */
export interface PinSite {
  /** The function called. */
  readonly function: PinnableFunction;
  /** The analyzer's reason for it: `uuid` (UUID, UUID_SHORT, SYS_GUID), `random` (RAND) or `sysdate`. */
  readonly reason: 'uuid' | 'random' | 'sysdate';
  /** Where the call is in the statement, from the function name to its `)`. */
  readonly span: Span;
  /** The call as written (`sql.slice(span.start, span.end)`), e.g. `RAND(?)`, `SYSDATE(3)`, `UUID()`. */
  readonly text: string;
  /** The indexes of the `?` placeholders inside the call (the seed of `RAND(?)`), in order; they leave the statement with it. */
  readonly placeholders: readonly number[];
  /**
   * The text that replaces the call: one `?` with the call's SQL type, so that the value converts into the
   * column (or the enclosing expression) exactly as the call's result would have:
   * - `UUID()`, `SYS_GUID()`: `?` (a string, as the call's result);
   * - `RAND(…)`: `(? + 0e0)` (a DOUBLE; a bare string would be stored by string rules: `'0.906…'` into a
   *   VARCHAR(10) column fails where RAND() is rounded to fit);
   * - `UUID_SHORT()`: `CAST(? AS UNSIGNED)` (a BIGINT UNSIGNED, not a string turned into a DOUBLE by arithmetic);
   * - `SYSDATE(n)`: `CAST(? AS DATETIME(n))` (a DATETIME, so `SYSDATE() + 0` stays a number like 20240102030405).
   */
  readonly replacement: string;
  /** For SYSDATE: its fractional-seconds precision (0 to 6), which its evaluated text must have. Otherwise `null`. */
  readonly fsp: number | null;
}

/** The SELECT that evaluates the pinned calls on the primary side. */
export interface PinEvaluation {
  /**
   * `SELECT <call> AS \`pin0\`, <call> AS \`pin1\`, …` with every call's own text, in statement order.
   * The aliases keep two identical calls (`UUID(), UUID()`) apart in object rows.
   */
  readonly sql: string;
  /** The values of the placeholders inside the calls, in order (often empty). A new array, the caller's own to pass on. */
  readonly values: unknown[];
}

/** What {@link planNondeterministicPins} found: the calls to pin and how to evaluate them. */
export interface PinPlan {
  /** The calls to pin, in statement order; never empty. */
  readonly sites: readonly PinSite[];
  /** The query to run on the primary side, in the write's own session, just before it; read it as {@link withPinnedValues} says. */
  readonly evaluation: PinEvaluation;
  /**
   * The reasons of the statement's other unsafe findings, which pinning leaves in place, each once, in order of
   * first appearance: e.g. `time_function` (fixed by pinning the session clock), `on_duplicate_key_update`,
   * `replace`, `ignore` (decided with the table's keys), `user_variable`, `unknown_function`, `subquery`
   * (outside every pinned call). Empty when the rewritten statement has no unsafe finding left.
   */
  readonly remaining: readonly UnsafeReason[];
}

/** The statement to run on both sides, with the pinned calls replaced by bound values. */
export interface PinnedStatement {
  /** The SQL text: the caller's, with each pinned call replaced by its {@link PinSite.replacement}. */
  readonly sql: string;
  /**
   * The values to bind, in `?` order: the caller's values without those of the placeholders inside pinned calls,
   * with each evaluated value at its call's `?`. Always a new array, even when the caller sent plain text.
   */
  readonly values: unknown[];
}

/** How each pinnable function is called and replaced. */
interface FunctionRule {
  readonly reason: PinSite['reason'];
  /** What may stand between the parentheses. */
  readonly args: 'none' | 'seed' | 'fsp';
}

const RULES: ReadonlyMap<string, FunctionRule> = new Map<PinnableFunction, FunctionRule>([
  ['UUID', { reason: 'uuid', args: 'none' }],
  ['UUID_SHORT', { reason: 'uuid', args: 'none' }],
  ['SYS_GUID', { reason: 'uuid', args: 'none' }],
  ['RAND', { reason: 'random', args: 'seed' }],
  ['SYSDATE', { reason: 'sysdate', args: 'fsp' }],
]);

/** Findings that make the text itself uncertain: which calls the server runs is not what the analysis saw. */
const BLOCKING: ReadonlySet<UnsafeReason> = new Set<UnsafeReason>(['unknown', 'executable_comment', 'multiple_statements']);
/** The reasons a pinnable call is reported with (RANDOM_BYTES is `random` too, but not pinnable: it blocks). */
const PINNED_REASONS: ReadonlySet<UnsafeReason> = new Set<UnsafeReason>(['uuid', 'random', 'sysdate']);

const QUESTION = 63;
/** An integer fractional-seconds precision, 0 to 6. */
const FSP = /^[0-6]$/;

/** The shape of each function's value as the server prints it in the text protocol. */
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DIGITS = /^\d{1,20}$/;
const UUID_TEXT = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const GUID_TEXT = /^[0-9a-fA-F]{32}$/;
const DATETIME_TEXT = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(?:\.(\d{1,6}))?$/;
const UINT64_MAX = 2n ** 64n - 1n;

/**
 * Finds the UUID(), UUID_SHORT(), SYS_GUID(), RAND() and SYSDATE() calls of an INSERT/REPLACE … VALUES or
 * … SET that can be pinned exactly, and builds the `SELECT` that evaluates them on the primary side.
 *
 * Returns `null` (replay by row image instead) when the statement has no such call, or when pinning is not exact:
 * - the statement is not an INSERT/REPLACE of form `values` or `set`, was not fully understood (an `unknown`
 *   finding), holds an executable comment (`/*! … *\/`: what runs depends on the server) or several statements;
 * - a call is outside the row values and SET values: in ON DUPLICATE KEY UPDATE (evaluated once per conflicting
 *   row, or not at all), RETURNING, …; or inside a subquery;
 * - a call has an argument other than: nothing (UUID, UUID_SHORT, SYS_GUID, RAND, SYSDATE); one number, string or
 *   hex literal, `NULL`, or `?`, optionally signed (the seed of RAND); one digit 0–6 (the precision of SYSDATE).
 *   A column (`RAND(id)`), a variable or an expression is never taken: its value is not known before the row is;
 * - a seeded `RAND(n)` is not a row value by itself (`RAND(5) * 2`): an enclosing function may evaluate it twice
 *   (NULLIF does), taking the seed's second number, which one pinned value cannot reproduce;
 * - a call is written with something between the name and `(` (`RAND /* c *\/ ()`);
 * - another function of the same reasons that cannot be pinned is called (RANDOM_BYTES);
 * - placeholders and values disagree: a `?` without values, a number of values other than the number of `?`,
 *   a `??`, a `?` inside a string, comment or hint (the result is sent with values, and mysql2's `query()` fills
 *   those too), or a value mysql2's `query()` would write as a list, as `key = value` pairs or as raw SQL
 *   (an array, a Set or Map, a plain object, a `mysql.raw()` object): the server would not see the text's rows.
 *
 * Unseeded calls inside expressions are pinned (`UNHEX(REPLACE(UUID(), '-', ''))`, `CONCAT('u-', UUID_SHORT())`):
 * if an enclosing function evaluates one twice, the statement stores one value the original could have produced.
 *
 * Other unsafe findings do not prevent the plan; they are listed in {@link PinPlan.remaining} for the caller to
 * decide on (a `time_function` is fixed by pinning the session clock, ON DUPLICATE KEY UPDATE needs the table's
 * keys, …).
 *
 * Not seen here: a column whose DEFAULT is such a call (`DEFAULT (UUID())`) when the statement omits it, and
 * triggers. The schema layer must check those.
 *
 * @param sql - The statement the caller sent.
 * @param analysis - `analyze(sql)`.
 * @param values - The values the statement was sent with (`undefined` for plain text).
 * @returns The plan, or `null`.
 *
 * @example
 * ```ts
 * const sql = 'INSERT INTO t (id, score, at) VALUES (UUID(), RAND(?), ?)';
 * const plan = planNondeterministicPins(sql, analyze(sql), [42, 'x']);
 * // plan.evaluation: { sql: 'SELECT UUID() AS `pin0`, RAND(?) AS `pin1`', values: [42] }
 * ```
 */
export function planNondeterministicPins(sql: string, analysis: StatementAnalysis, values: readonly unknown[] | undefined): PinPlan | null {
  const write = analysis.write;
  if (write === null || (write.kind !== 'insert' && write.kind !== 'replace') || write.form === 'select') return null;
  if (!analysis.understood || analysis.multiStatement) return null;

  const calls: Array<{ name: string; span: Span }> = [];
  const remaining: UnsafeReason[] = [];
  const subqueries: Span[] = [];
  for (const finding of analysis.unsafe) {
    const reason = finding.reason;
    if (BLOCKING.has(reason)) return null;
    if (PINNED_REASONS.has(reason)) {
      if (!RULES.has(finding.detail)) return null;
      calls.push({ name: finding.detail, span: finding.span });
      continue;
    }
    if (reason === 'subquery') subqueries.push(finding.span);
    if (!remaining.includes(reason)) remaining.push(reason);
  }
  if (calls.length === 0) return null;
  if (!placeholdersMatch(sql, analysis, values)) return null;

  // Where a call may stand: the values of the rows (form values) or of the assignments (form set).
  const slots: readonly Span[] = write.form === 'values' ? write.rows.flatMap((row) => row.values.map((v) => v.span)) : write.set.map((a) => a.value.span);

  // Calls, slots and placeholders are all in text order: one forward walk over each (a 1000-row INSERT with a
  // UUID() per row stays linear).
  const offsets = analysis.placeholders;
  const sites: PinSite[] = [];
  let previousEnd = -1;
  let s = 0;
  let ph = 0;
  for (const call of calls) {
    const { span } = call;
    // An overlap would be a call inside another's arguments, which the argument rules refuse anyway.
    if (span.start < previousEnd) return null;
    previousEnd = span.end;
    // Slots are disjoint: the only one that can hold the call is the first that does not end before it.
    while (s < slots.length && (slots[s] as Span).end < span.end) s++;
    const slot = slots[s];
    if (slot === undefined || slot.start > span.start) return null;
    if (subqueries.some((q) => q.start <= span.start && span.end <= q.end)) return null;
    while (ph < offsets.length && (offsets[ph] as number) < span.start) ph++;
    const placeholders: number[] = [];
    while (ph < offsets.length && (offsets[ph] as number) < span.end) placeholders.push(ph++);
    const site = siteOf(sql, call.name as PinnableFunction, span, slot, placeholders);
    if (site === null) return null;
    sites.push(site);
  }

  const evaluationValues: unknown[] = [];
  for (const site of sites) for (const index of site.placeholders) evaluationValues.push(values?.[index]);
  return {
    sites,
    evaluation: { sql: 'SELECT ' + sites.map((site, i) => `${site.text} AS \`pin${i}\``).join(', '), values: evaluationValues },
    remaining,
  };
}

/**
 * Returns the statement with each call of `plan` replaced by `?` (in its {@link PinSite.replacement}) and its
 * evaluated value bound there. The placeholders inside a replaced call leave the values with it; every other value
 * keeps its order. The SQL text depends only on the statement and the plan, never on the evaluated values.
 *
 * **The evaluated values must be the server's own text.** Run {@link PinPlan.evaluation} on the primary side with
 * mysql2's `query()` (the text protocol; `execute()`'s binary protocol sends DOUBLE and DATETIME as bytes) and a
 * typeCast that keeps every column's text, `typeCast: (field) => field.string()`, then pass the row's values in
 * column order. mysql2's default conversions lose what makes the replay exact: RAND()'s DOUBLE printed as the
 * shortest decimal text that reads back as the same double (the `(? + 0e0)` reads it back), UUID_SHORT()'s digits
 * beyond 2^53, SYSDATE(6)'s microseconds (a JS `Date` keeps milliseconds and shifts by the client's time zone).
 * Run it in the write's own session: SYSDATE() is printed in the session's time zone, which both sides must share
 * when the statement is replayed (as for NOW() pinning), and a TIMESTAMP column converts from it.
 *
 * Each value is checked against the shape its function prints (a decimal number for RAND, up to 20 digits for
 * UUID_SHORT, `xxxxxxxx-xxxx-…` for UUID, 32 hex digits for SYS_GUID, `YYYY-MM-DD hh:mm:ss` with exactly `n`
 * fraction digits for SYSDATE(n)), so a value read with the wrong typeCast is refused rather than stored rounded.
 *
 * @param sql - The statement the caller sent.
 * @param analysis - `analyze(sql)`.
 * @param values - The values it was sent with (`undefined` for plain text); never changed.
 * @param plan - `planNondeterministicPins(sql, analysis, values)`.
 * @param evaluated - The evaluation's row, one string per {@link PinPlan.sites} entry, in order.
 * @throws {@link ReplayPlanError} when the plan does not belong to this statement, when `evaluated` has another
 * length than the plan's sites, or when a value is not a string of its function's shape.
 *
 * @example
 * ```ts
 * const sql = 'INSERT INTO t (id, score, at) VALUES (UUID(), RAND(?), ?)';
 * const analysis = analyze(sql);
 * const plan = planNondeterministicPins(sql, analysis, [42, 'x'])!;
 * const [rows] = await primary.query({ sql: plan.evaluation.sql, values: plan.evaluation.values, rowsAsArray: true, typeCast: (f) => f.string() });
 * withPinnedValues(sql, analysis, [42, 'x'], plan, rows[0]);
 * // sql:    'INSERT INTO t (id, score, at) VALUES (?, (? + 0e0), ?)'
 * // values: ['3f1c…-…', '0.7768…', 'x']
 * ```
 */
export function withPinnedValues(
  sql: string,
  analysis: StatementAnalysis,
  values: readonly unknown[] | undefined,
  plan: PinPlan,
  evaluated: readonly string[],
): PinnedStatement {
  const { sites } = plan;
  if (evaluated.length !== sites.length) {
    throw new ReplayPlanError(
      `${evaluated.length} evaluated value${evaluated.length === 1 ? ' was' : 's were'} given for ${sites.length} pinned call${sites.length === 1 ? '' : 's'}`,
    );
  }
  if ((values?.length ?? 0) !== analysis.placeholderCount) {
    throw new ReplayPlanError(`the statement has ${analysis.placeholderCount} placeholders but ${values?.length ?? 0} values were given for pinning`);
  }
  sites.forEach((site, i) => {
    if (sql.slice(site.span.start, site.span.end) !== site.text) {
      throw new ReplayPlanError(`pinned call #${i} (${site.function}) is not where the plan says: the plan was made for another statement`);
    }
    checkEvaluated(site, evaluated[i], i);
  });

  const offsets = analysis.placeholders;
  const out: unknown[] = [];
  const pieces: string[] = [];
  let pos = 0;
  let next = 0; // the next of the caller's values (and `?` offsets) not yet copied or dropped
  sites.forEach((site, i) => {
    // The caller's values before the call keep their order; those inside it (the seed of RAND(?)) leave with it.
    while (next < offsets.length && (offsets[next] as number) < site.span.start) out.push(values?.[next++]);
    while (next < offsets.length && (offsets[next] as number) < site.span.end) next++;
    pieces.push(sql.slice(pos, site.span.start), site.replacement);
    out.push(evaluated[i]);
    pos = site.span.end;
  });
  pieces.push(sql.slice(pos));
  while (next < offsets.length) out.push(values?.[next++]);
  return { sql: pieces.join(''), values: out };
}

/**
 * The site for a call of `name` at `span` standing in the value `slot`, holding the placeholders `placeholders`,
 * or `null` when it cannot be pinned exactly.
 */
function siteOf(sql: string, name: PinnableFunction, span: Span, slot: Span, placeholders: readonly number[]): PinSite | null {
  const rule = RULES.get(name);
  if (rule === undefined) return null;
  const text = sql.slice(span.start, span.end);
  const { tokens } = lex(text);
  const open = tokens[1];
  const close = tokens[tokens.length - 1];
  // `NAME(` … `)` and nothing else; the `(` right after the name, as every server reads a built-in call.
  if (tokens.length < 3 || open === undefined || close === undefined) return null;
  if (open.upper !== '(' || open.match !== tokens.length - 1 || open.start !== (tokens[0] as Token).end) return null;
  const args = tokens.slice(2, -1);

  let fsp: number | null = null;
  let replacement: string;
  switch (rule.args) {
    case 'none':
      if (args.length > 0) return null;
      replacement = name === 'UUID_SHORT' ? 'CAST(? AS UNSIGNED)' : '?';
      break;
    case 'seed':
      if (args.length > 0) {
        if (!isConstantSeed(args)) return null;
        // A seeded RAND inside an expression may be evaluated twice (NULLIF), giving the seed's second number.
        if (slot.start !== span.start || slot.end !== span.end) return null;
      }
      replacement = '(? + 0e0)';
      break;
    case 'fsp': {
      if (args.length > 1) return null;
      const digit = args[0];
      if (digit !== undefined) {
        const digitText = text.slice(digit.start, digit.end);
        if (digit.type !== 'number' || !FSP.test(digitText)) return null;
        fsp = Number(digitText);
      } else {
        fsp = 0;
      }
      replacement = fsp === 0 ? 'CAST(? AS DATETIME)' : `CAST(? AS DATETIME(${fsp}))`;
      break;
    }
  }

  return { function: name, reason: rule.reason, span, text, placeholders, replacement, fsp };
}

/** True for a seed that is a constant known before any row: one literal, `NULL` or `?`, optionally signed. */
function isConstantSeed(args: readonly Token[]): boolean {
  let i = 0;
  const first = args[0];
  if (first !== undefined && first.type === 'op' && (first.upper === '-' || first.upper === '+')) i = 1;
  if (args.length !== i + 1) return false;
  const t = args[i] as Token;
  if (t.type === 'number' || t.type === 'placeholder') return true;
  // A sign before a string or NULL is an expression of its own; keep to the plain forms.
  return i === 0 && (t.type === 'string' || t.type === 'hex' || (t.type === 'word' && t.upper === 'NULL'));
}

/**
 * True when the placeholders of the text and the values agree the way both mysql2 `execute()` (the server's
 * placeholders) and mysql2 `query()` (text substitution of every `?` and `??`) read them. The rewritten statement
 * always carries values, so a `?` that is only text (inside a string or a comment) is refused even for plain text.
 */
function placeholdersMatch(sql: string, analysis: StatementAnalysis, values: readonly unknown[] | undefined): boolean {
  const count = analysis.placeholderCount;
  if ((values?.length ?? 0) !== count) return false;
  if (values !== undefined) {
    for (const value of values) if (expandsInText(value)) return false;
  }
  for (const offset of analysis.placeholders) {
    if (sql.charCodeAt(offset + 1) === QUESTION) return false; // `??`: an identifier placeholder
  }
  let marks = 0;
  for (let at = sql.indexOf('?'); at >= 0; at = sql.indexOf('?', at + 1)) marks++;
  return marks === count;
}

/**
 * True for a value that mysql2's `query()` does not write as one SQL value: an array or a Set (a list `a, b`),
 * a `mysql.raw()` object (raw SQL), any other object but a Date or bytes (`key = value` pairs), a function or symbol.
 */
function expandsInText(value: unknown): boolean {
  if (value === null) return false;
  const type = typeof value;
  if (type === 'function' || type === 'symbol') return true;
  if (type !== 'object') return false;
  return !(value instanceof Date) && !ArrayBuffer.isView(value);
}

/** Checks that an evaluated value is the text its function prints; throws otherwise. */
function checkEvaluated(site: PinSite, value: unknown, i: number): void {
  const problem = evaluatedProblem(site, value);
  if (problem === null) return;
  throw new ReplayPlanError(
    `evaluated value #${i} for ${site.function}() ${problem}; the evaluation SELECT must be read with query() and ` +
      'a typeCast that keeps the server text, `typeCast: (field) => field.string()`, so that no digit is lost',
  );
}

/** What is wrong with an evaluated value, or `null`. Never quotes the value itself. */
function evaluatedProblem(site: PinSite, value: unknown): string | null {
  if (typeof value !== 'string') {
    const kind = value === null ? 'null' : value instanceof Date ? 'a Date' : ArrayBuffer.isView(value) ? 'bytes' : `of type ${typeof value}`;
    return `is not a string (${kind})`;
  }
  switch (site.function) {
    case 'RAND':
      return NUMBER_TEXT.test(value) && Number.isFinite(Number(value)) ? null : `is not a decimal number (${value.length} characters)`;
    case 'UUID_SHORT':
      return DIGITS.test(value) && BigInt(value) <= UINT64_MAX ? null : `is not an unsigned 64-bit integer in digits (${value.length} characters)`;
    case 'UUID':
      return UUID_TEXT.test(value) ? null : `is not a UUID of 36 characters (${value.length} characters)`;
    case 'SYS_GUID':
      return GUID_TEXT.test(value) ? null : `is not 32 hexadecimal digits (${value.length} characters)`;
    case 'SYSDATE': {
      const match = DATETIME_TEXT.exec(value);
      const digits = match?.[1]?.length ?? 0;
      if (match !== null && digits === site.fsp) return null;
      return `is not a DATETIME with ${site.fsp ?? 0} fraction digits (${value.length} characters)`;
    }
  }
}
