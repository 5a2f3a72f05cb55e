/**
 * Pieces of the statement's own text that row-image replay reuses (its table
 * references, WHERE/ORDER BY/LIMIT clauses, the SELECT of an INSERT … SELECT),
 * found with the analyzer's spans and, where the analysis has no span, the lexer.
 *
 * @module
 */
import { lex, type Token } from '../sql/lexer.js';
import type { Assignment, Clause, DeleteAnalysis, Span, StatementAnalysis, UpdateAnalysis } from '../sql/types.js';
import type { SqlFragment } from './row-image-types.js';

/** Number of `?` characters in a text (mysql2 may substitute any of them, in strings and names too). */
export function questionMarks(text: string): number {
  let count = 0;
  for (let at = text.indexOf('?'); at >= 0; at = text.indexOf('?', at + 1)) count++;
  return count;
}

/**
 * The statement's text in `[start, end)` with the values of the placeholders inside it, or `null`
 * when it cannot be sent on its own: a placeholder without a value, a `??`, or values to bind
 * while the text holds a `?` that is not a placeholder (inside a string or a name).
 */
export function userFragment(sql: string, analysis: StatementAnalysis, values: readonly unknown[] | undefined, start: number, end: number): SqlFragment | null {
  const text = sql.slice(start, end);
  const bound: unknown[] = [];
  analysis.placeholders.forEach((offset, index) => {
    if (offset >= start && offset < end) bound.push(index);
  });
  if (bound.length === 0) return { sql: text, values: [] };
  if (values === undefined) return null;
  const out: unknown[] = [];
  for (const index of bound as number[]) {
    if (index >= values.length || sql.charCodeAt((analysis.placeholders[index] as number) + 1) === 63) return null;
    out.push(values[index]);
  }
  return questionMarks(text) === out.length ? { sql: text, values: out } : null;
}

/** Joins fragments with spaces. */
export function joinFragments(parts: readonly (SqlFragment | null | undefined)[], separator = ' '): SqlFragment {
  const present = parts.filter((part): part is SqlFragment => part !== null && part !== undefined && part.sql !== '');
  return { sql: present.map((part) => part.sql).join(separator), values: present.flatMap((part) => part.values) };
}

/** The index after token `i`, skipping a parenthesized group it opens. */
function skip(tokens: readonly Token[], i: number): number {
  const t = tokens[i] as Token;
  return t.match >= 0 ? t.match + 1 : i + 1;
}

function wordAt(tokens: readonly Token[], i: number): string {
  const t = tokens[i];
  return t !== undefined && t.type === 'word' ? t.upper : '';
}

/** The first top-level token index in `[from, tokens.length)` for which `test` holds, or `tokens.length`. */
function findTop(tokens: readonly Token[], from: number, test: (i: number) => boolean): number {
  for (let i = from; i < tokens.length; i = skip(tokens, i)) if (test(i)) return i;
  return tokens.length;
}

/** Index of the first token starting at or after `offset`. */
function tokenAt(tokens: readonly Token[], offset: number): number {
  const i = tokens.findIndex((t) => t.start >= offset);
  return i < 0 ? tokens.length : i;
}

/**
 * Where the statement's code ends when read from `from`: before a top-level `;` or `RETURNING`,
 * at the end of the last token before it.
 */
export function codeEnd(sql: string, from: number): number {
  const tokens = lex(sql).tokens;
  const first = tokenAt(tokens, from);
  const stop = findTop(tokens, first, (i) => wordAt(tokens, i) === 'RETURNING' || (tokens[i]?.type === 'punct' && tokens[i]?.upper === ';'));
  return stop > first ? (tokens[stop - 1] as Token).end : from;
}

const UPDATE_MODIFIERS = new Set(['LOW_PRIORITY', 'IGNORE']);
const DELETE_MODIFIERS = new Set(['LOW_PRIORITY', 'QUICK', 'IGNORE']);

/**
 * The span of the table references of an UPDATE (between the modifiers and SET) or a DELETE
 * (after FROM, or after USING in `DELETE FROM t1 USING …`), or `null` when not found.
 */
export function tableReferencesSpan(sql: string, write: UpdateAnalysis | DeleteAnalysis): Span | null {
  const tokens = lex(sql).tokens;
  let i = 1;
  const modifiers = write.kind === 'update' ? UPDATE_MODIFIERS : DELETE_MODIFIERS;
  while (modifiers.has(wordAt(tokens, i))) i++;
  let end: number;
  if (write.kind === 'update') {
    end = write.set.span.start;
  } else {
    const tail = write.where ?? write.orderBy ?? write.limit;
    end = tail === null ? codeEnd(sql, tokens[i]?.start ?? sql.length) : tail.span.start;
    const last = tokenAt(tokens, end);
    if (wordAt(tokens, i) === 'FROM') {
      const using = findTop(tokens, i + 1, (j) => wordAt(tokens, j) === 'USING');
      i = using < last ? using + 1 : i + 1;
    } else {
      const from = findTop(tokens, i, (j) => wordAt(tokens, j) === 'FROM');
      if (from >= last) return null;
      i = from + 1;
    }
  }
  const first = tokens[i];
  const lastIndex = tokenAt(tokens, end) - 1;
  const lastToken = tokens[lastIndex];
  if (first === undefined || lastToken === undefined || lastIndex < i) return null;
  return { start: first.start, end: lastToken.end };
}

/** Unquotes a word or backtick identifier token. */
function identifier(sql: string, t: Token): string | null {
  if (t.type === 'word') return sql.slice(t.start, t.end);
  if (t.type === 'ident') return sql.slice(t.start + 1, t.end - 1).replaceAll('``', '`');
  return null;
}

/**
 * The columns of an ORDER BY clause when every item is a plain column reference
 * (`a`, `t.a`, `` `a` DESC ``), lower-cased; `null` when an item is anything else.
 */
export function orderByColumns(sql: string, clause: Clause): string[] | null {
  const tokens = lex(sql.slice(clause.bodyStart, clause.span.end)).tokens;
  const text = sql.slice(clause.bodyStart, clause.span.end);
  const columns: string[] = [];
  let item: Token[] = [];
  const finish = (): boolean => {
    const last = item[item.length - 1];
    if (last !== undefined && (last.upper === 'ASC' || last.upper === 'DESC') && last.type === 'word') item.pop();
    if (item.length === 0 || item.length % 2 === 0) return false;
    for (let k = 1; k < item.length; k += 2) if (item[k]?.upper !== '.') return false;
    const name = identifier(text, item[item.length - 1] as Token);
    if (name === null) return false;
    columns.push(name.toLowerCase());
    item = [];
    return true;
  };
  for (const t of tokens) {
    if (t.type === 'punct' && t.upper === ',') {
      if (!finish()) return null;
    } else {
      item.push(t);
    }
  }
  return finish() ? columns : null;
}

/**
 * True when an assignment cannot change its column: `c = c` or `c = LAST_INSERT_ID(c)`
 * (the ON DUPLICATE KEY UPDATE idiom that returns the existing row's ID), qualifiers allowed.
 */
export function isIdentityAssignment(sql: string, assignment: Assignment): boolean {
  const text = sql.slice(assignment.value.span.start, assignment.value.span.end);
  const tokens = lex(text).tokens;
  let i = 0;
  let wrapped = false;
  if (wordAt(tokens, 0) === 'LAST_INSERT_ID' && tokens[1]?.upper === '(' && tokens[1].match === tokens.length - 1) {
    wrapped = true;
    i = 2;
  }
  const end = wrapped ? tokens.length - 1 : tokens.length;
  const last = tokens[end - 1];
  if (last === undefined || (end - i) % 2 === 0) return false;
  for (let k = i + 1; k < end; k += 2) if (tokens[k]?.upper !== '.') return false;
  return identifier(text, last)?.toLowerCase() === assignment.column.toLowerCase();
}
