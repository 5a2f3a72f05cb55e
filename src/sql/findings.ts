/**
 * Finds the expression-level constructs that make a statement unsafe to
 * replay as text: clock, random and session functions, variables, unknown
 * (stored) functions, and subqueries inside writes.
 *
 * @module
 */
import { type Context, addFinding, isSymbol, wordAt } from './context.js';
import {
  BARE_NONDETERMINISTIC_WORDS,
  BARE_TIME_WORDS,
  DETERMINISTIC_FUNCTIONS,
  DETERMINISTIC_PREFIXES,
  KEYWORDS_BEFORE_PAREN,
  PRIMARY_ONLY_FUNCTIONS,
  TIME_FUNCTIONS,
  UNSAFE_FUNCTIONS,
} from './keywords.js';

/** What the expression scan saw besides its findings. */
export interface ExpressionScan {
  /** A function that needs the primary side's session was called (LAST_INSERT_ID, GET_LOCK, NEXTVAL, …). */
  readonly primaryOnly: boolean;
}

const QUERY_STARTS = new Set(['SELECT', 'WITH']);

/**
 * Scans tokens `[from, to)` for unsafe expressions and records them in the context.
 *
 * @param subqueryReason - when true, a parenthesized SELECT/WITH is recorded as a `subquery` finding.
 */
export function scanExpressions(ctx: Context, from: number, to: number, subqueryReason: boolean): ExpressionScan {
  let primaryOnly = false;
  const end = Math.min(to, ctx.tokens.length);
  for (let i = from; i < end; i++) {
    const t = ctx.tokens[i];
    if (t === undefined) break;
    if (t.type === 'variable') {
      addFinding(ctx, 'user_variable', ctx.sql.slice(t.start, t.end).toLowerCase(), i);
      continue;
    }
    if (t.type === 'sysvar' && !ctx.names.has(i)) {
      addFinding(ctx, 'system_variable', ctx.sql.slice(t.start, t.end).toLowerCase(), i);
      continue;
    }
    if (t.type === 'punct' && t.upper === '(' && subqueryReason && QUERY_STARTS.has(wordAt(ctx, i + 1))) {
      addFinding(ctx, 'subquery', wordAt(ctx, i + 1), i, Math.min(t.match + 1, end));
      continue;
    }
    if ((t.type !== 'word' && t.type !== 'ident') || ctx.names.has(i)) continue;
    const word = t.upper;
    if (isSymbol(ctx, i - 1, '.') || t.type === 'ident') {
      // `db.fn(…)` and `` `fn`(…) `` can only be stored functions; other qualified words are columns.
      if (isSymbol(ctx, i + 1, '(')) addFinding(ctx, 'unknown_function', ctx.sql.slice(t.start, t.end), i, (ctx.tokens[i + 1]?.match ?? i + 1) + 1);
      continue;
    }
    if (isSymbol(ctx, i + 1, '(')) {
      if (classifyCall(ctx, i, word)) primaryOnly = true;
      continue;
    }
    if (BARE_TIME_WORDS.has(word)) addFinding(ctx, 'time_function', word, i);
    else if (BARE_NONDETERMINISTIC_WORDS.has(word)) addFinding(ctx, 'nondeterministic_function', word, i);
    else if ((word === 'NEXT' || word === 'PREVIOUS') && wordAt(ctx, i + 1) === 'VALUE' && wordAt(ctx, i + 2) === 'FOR') {
      addFinding(ctx, 'nondeterministic_function', `${word} VALUE FOR`, i, i + 3);
      primaryOnly = true;
    }
  }
  return { primaryOnly };
}

/** Records the finding for a call of `word(…)` at token `i`; returns true when it needs the primary side. */
function classifyCall(ctx: Context, i: number, word: string): boolean {
  const open = ctx.tokens[i + 1];
  const callEnd = open === undefined ? i + 2 : Math.min(open.match + 1, ctx.tokens.length);
  if (TIME_FUNCTIONS.has(word)) {
    // UNIX_TIMESTAMP(expr) converts its argument; only the bare form reads the clock.
    const empty = open !== undefined && open.match === i + 2;
    if (word !== 'UNIX_TIMESTAMP' || empty) addFinding(ctx, 'time_function', word, i, callEnd);
    return false;
  }
  const reason = UNSAFE_FUNCTIONS.get(word);
  if (reason !== undefined) {
    addFinding(ctx, reason, word, i, callEnd);
    return PRIMARY_ONLY_FUNCTIONS.has(word);
  }
  if (DETERMINISTIC_FUNCTIONS.has(word) || KEYWORDS_BEFORE_PAREN.has(word)) return false;
  if (DETERMINISTIC_PREFIXES.some((prefix) => word.startsWith(prefix))) return false;
  addFinding(ctx, 'unknown_function', word, i, callEnd);
  return false;
}
