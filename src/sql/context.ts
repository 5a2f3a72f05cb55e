/**
 * The state one analysis carries, and the small token-walking helpers every
 * statement parser shares. Token ranges are half-open `[from, to)` indexes into
 * the token list.
 *
 * @module
 */
import type { Token } from './lexer.js';
import type { Clause, Span, TableRef, UnsafeFinding, UnsafeReason } from './types.js';

/** What one analysis carries while it walks the tokens. */
export interface Context {
  /** The SQL text. */
  readonly sql: string;
  /** All tokens of the text. */
  readonly tokens: readonly Token[];
  /** For each token, its placeholder ordinal (index into the values array), or -1. */
  readonly ordinals: Int32Array;
  /** Unsafe constructs found so far. */
  readonly findings: UnsafeFinding[];
  /** Indexes of tokens that are names (tables, aliases, CTEs): never function calls. */
  readonly names: Set<number>;
}

/** Creates the context for a token list. */
export function createContext(sql: string, tokens: readonly Token[]): Context {
  const ordinals = new Int32Array(tokens.length).fill(-1);
  let next = 0;
  for (let i = 0; i < tokens.length; i++) {
    if ((tokens[i] as Token).type === 'placeholder') ordinals[i] = next++;
  }
  return { sql, tokens, ordinals, findings: [], names: new Set() };
}

/** The upper-cased word at index `i`, or `''` when that token is not an unquoted word. */
export function wordAt(ctx: Context, i: number): string {
  const t = ctx.tokens[i];
  return t !== undefined && t.type === 'word' ? t.upper : '';
}

/** True when the token at `i` is the punctuation or operator `text`. */
export function isSymbol(ctx: Context, i: number, text: string): boolean {
  const t = ctx.tokens[i];
  return t !== undefined && (t.type === 'punct' || t.type === 'op') && t.upper === text;
}

/** The index after the token at `i`, skipping a whole parenthesized group when `i` opens one. */
export function skip(ctx: Context, i: number): number {
  const t = ctx.tokens[i];
  if (t !== undefined && t.match >= 0) return t.match + 1;
  return i + 1;
}

/** The first index in `[from, to)` at paren depth 0 (relative to `from`) where `test` holds, or `to`. */
export function findTop(ctx: Context, from: number, to: number, test: (i: number) => boolean): number {
  for (let i = from; i < to; i = skip(ctx, i)) {
    if (test(i)) return i;
  }
  return to;
}

/** The first index in `[from, to)` at depth 0 holding one of the words, or `to`. */
export function findTopWord(ctx: Context, from: number, to: number, words: ReadonlySet<string>): number {
  return findTop(ctx, from, to, (i) => words.has(wordAt(ctx, i)));
}

/** Splits `[from, to)` at depth-0 commas into ranges. An empty input gives no ranges. */
export function splitTop(ctx: Context, from: number, to: number): Array<[number, number]> {
  const parts: Array<[number, number]> = [];
  if (from >= to) return parts;
  let start = from;
  for (let i = from; i < to; i = skip(ctx, i)) {
    if (isSymbol(ctx, i, ',')) {
      parts.push([start, i]);
      start = i + 1;
    }
  }
  parts.push([start, Math.min(to, ctx.tokens.length)]);
  return parts;
}

/** The text span of tokens `[from, to)`; an empty range gives an empty span where `from` starts. */
export function spanOf(ctx: Context, from: number, to: number): Span {
  const first = ctx.tokens[from];
  const last = ctx.tokens[Math.min(to, ctx.tokens.length) - 1];
  if (first === undefined || last === undefined || to <= from) {
    const at = first?.start ?? ctx.sql.length;
    return { start: at, end: at };
  }
  return { start: first.start, end: last.end };
}

/** The placeholder ordinals of the `?` tokens in `[from, to)`. */
export function placeholdersIn(ctx: Context, from: number, to: number): readonly number[] {
  let out: number[] | null = null;
  const end = Math.min(to, ctx.tokens.length);
  for (let i = from; i < end; i++) {
    const ordinal = ctx.ordinals[i] as number;
    if (ordinal >= 0) (out ??= []).push(ordinal);
  }
  // Most values hold no placeholder: share one empty array instead of allocating one per value.
  return out ?? NO_PLACEHOLDERS;
}

const NO_PLACEHOLDERS: readonly number[] = Object.freeze([]);

/** A clause spanning tokens `[from, to)` whose body starts at token `bodyFrom`. */
export function clauseOf(ctx: Context, from: number, bodyFrom: number, to: number): Clause {
  const span = spanOf(ctx, from, to);
  return { span, bodyStart: ctx.tokens[bodyFrom]?.start ?? span.end, placeholders: placeholdersIn(ctx, from, to) };
}

/** The name a word or backtick identifier stands for (backticks removed, doubled backticks undone), or `null`. */
export function identifierAt(ctx: Context, i: number): string | null {
  const t = ctx.tokens[i];
  if (t === undefined) return null;
  if (t.type === 'word') return ctx.sql.slice(t.start, t.end);
  if (t.type === 'ident') {
    const closed = t.end - t.start >= 2 && ctx.sql.charCodeAt(t.end - 1) === 96;
    return ctx.sql.slice(t.start + 1, closed ? t.end - 1 : t.end).replaceAll('``', '`');
  }
  if (t.type === 'string') {
    // Some names may be written as strings (savepoints in some tools, aliases): take the literal's text.
    const raw = ctx.sql.slice(t.start, t.end);
    const quote = raw.search(/['"]/);
    if (quote < 0) return null;
    const q = raw[quote] as string;
    return raw.slice(quote + 1, raw.endsWith(q) && raw.length > quote + 1 ? -1 : undefined).replaceAll(q + q, q);
  }
  return null;
}

/** A parsed `[schema.]name`, and the index after it. */
export interface QualifiedName {
  /** The schema qualifier, or `null`. */
  readonly schema: string | null;
  /** The object's name. */
  readonly name: string;
  /** The index just past the name. */
  readonly next: number;
}

/** Parses `[schema.]name` at `i` (words or backtick identifiers), marking the tokens as names. */
export function qualifiedNameAt(ctx: Context, i: number): QualifiedName | null {
  const first = ctx.tokens[i];
  if (first === undefined || (first.type !== 'word' && first.type !== 'ident')) return null;
  const firstName = identifierAt(ctx, i) as string;
  ctx.names.add(i);
  if (isSymbol(ctx, i + 1, '.')) {
    const second = ctx.tokens[i + 2];
    if (second !== undefined && (second.type === 'word' || second.type === 'ident')) {
      ctx.names.add(i + 2);
      return { schema: firstName, name: identifierAt(ctx, i + 2) as string, next: i + 3 };
    }
  }
  return { schema: null, name: firstName, next: i + 1 };
}

/** Builds a TableRef. */
export function tableRef(schema: string | null, name: string, alias: string | null): TableRef {
  return { schema, name, alias };
}

/** Records an unsafe finding for tokens `[from, to)`. */
export function addFinding(ctx: Context, reason: UnsafeReason, detail: string, from: number, to = from + 1): void {
  ctx.findings.push({ reason, detail, span: spanOf(ctx, from, to) });
}

/**
 * Skips statement modifiers (`LOW_PRIORITY`, `IGNORE`, …) starting at `from`, recording an `ignore`
 * finding for IGNORE. Returns the index after them and whether IGNORE was among them.
 */
export function skipModifiers(ctx: Context, from: number, modifiers: ReadonlySet<string>): { next: number; ignore: boolean } {
  let i = from;
  let ignore = false;
  while (modifiers.has(wordAt(ctx, i))) {
    if (wordAt(ctx, i) === 'IGNORE') {
      ignore = true;
      addFinding(ctx, 'ignore', 'IGNORE', i);
    }
    i++;
  }
  return { next: i, ignore };
}

/** Records an `unknown` finding: the analyzer did not understand the statement at token `at`. */
export function notUnderstood(ctx: Context, detail: string, at: number): void {
  addFinding(ctx, 'unknown', detail, at);
}
