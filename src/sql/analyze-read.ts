/**
 * Analysis of statements that look like reads: SELECT (plain, parenthesized,
 * or after WITH), TABLE, VALUES, SHOW, DESCRIBE, EXPLAIN, HELP. A SELECT that
 * writes (`INTO`), a CTE that ends in DML, and anything carrying a write verb
 * in code position are caught here and never come out as reads.
 *
 * @module
 */
import {
  type Context,
  addFinding,
  isSymbol,
  notUnderstood,
  qualifiedNameAt,
  skip,
  tableRef,
  wordAt,
} from './context.js';
import { KEYWORDS_BEFORE_PAREN, WRITE_WORDS, WRITE_WORDS_THAT_ARE_FUNCTIONS } from './keywords.js';
import { parseTableRefs } from './table-refs.js';
import type { StatementClass, TableRef, WriteAnalysis } from './types.js';

/** What the read analysis found. */
export interface ReadOutcome {
  /** `read`, or `write` for SELECT … INTO and CTEs ending in DML, or `other` when a write verb hides inside. */
  readonly class: StatementClass;
  /** The write details for SELECT … INTO or a CTE ending in DML. */
  readonly write: WriteAnalysis | null;
  /** A locking read (FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE). */
  readonly locking: boolean;
  /** The tables read. */
  readonly tablesRead: TableRef[];
}

/** Functions whose argument syntax uses FROM (`EXTRACT(YEAR FROM d)`, `TRIM(LEADING 'x' FROM s)`). */
const FROM_FUNCTIONS = new Set(['EXTRACT', 'TRIM', 'SUBSTRING', 'SUBSTR', 'OVERLAY', 'POSITION']);
const DML_VERBS = new Set(['INSERT', 'REPLACE', 'UPDATE', 'DELETE']);

/** Analyzes a SELECT-like statement in tokens `[from, to)` (after any `WITH` list has been handled). */
export function analyzeQuery(ctx: Context, from: number, to: number): ReadOutcome {
  let locking = false;
  let into: 'variables' | 'outfile' | 'dumpfile' | null = null;
  let hiddenWrite = false;
  const tablesRead: TableRef[] = [];
  // Which open parens are function calls, so `EXTRACT(YEAR FROM d)` is not taken for a FROM clause.
  const fromFunction: boolean[] = [];

  for (let i = from; i < to; i++) {
    const t = ctx.tokens[i];
    if (t === undefined) break;
    if (t.type === 'punct') {
      if (t.upper === '(') fromFunction.push(FROM_FUNCTIONS.has(wordAt(ctx, i - 1)));
      else if (t.upper === ')') fromFunction.pop();
      continue;
    }
    if (t.type !== 'word' || isSymbol(ctx, i - 1, '.')) continue;
    const w = t.upper;
    if (w === 'FROM' && fromFunction[fromFunction.length - 1] !== true) {
      tablesRead.push(...parseTableRefs(ctx, i + 1, to).refs);
    } else if (w === 'JOIN' && fromFunction[fromFunction.length - 1] !== true) {
      // Joins are parsed with their FROM; nothing to do.
    } else if (w === 'FOR' && (wordAt(ctx, i + 1) === 'UPDATE' || wordAt(ctx, i + 1) === 'SHARE')) {
      locking = true;
      i++; // the UPDATE after FOR is not a write
    } else if (w === 'LOCK' && wordAt(ctx, i + 1) === 'IN' && wordAt(ctx, i + 2) === 'SHARE') {
      locking = true;
    } else if (w === 'INTO') {
      const next = ctx.tokens[i + 1];
      const nextWord = wordAt(ctx, i + 1);
      if (nextWord === 'OUTFILE') into = 'outfile';
      else if (nextWord === 'DUMPFILE') into = 'dumpfile';
      else if (next !== undefined && (next.type === 'variable' || next.type === 'word' || next.type === 'ident')) into ??= 'variables';
      else hiddenWrite = true;
    } else if (WRITE_WORDS.has(w) && !(WRITE_WORDS_THAT_ARE_FUNCTIONS.has(w) && isSymbol(ctx, i + 1, '('))) {
      hiddenWrite = true;
      notUnderstood(ctx, `${w} inside a read`, i);
    }
  }

  if (into !== null) {
    return { class: 'write', write: { kind: 'select_into', into }, locking, tablesRead };
  }
  if (hiddenWrite) {
    if (!ctx.findings.some((f) => f.reason === 'unknown')) notUnderstood(ctx, 'INTO', from);
    return { class: 'other', write: null, locking, tablesRead };
  }
  return { class: 'read', write: null, locking, tablesRead };
}

/** The index of the statement after a `WITH [RECURSIVE] name [(cols)] AS (…) [, …]` list starting at `from`. */
export function skipWithList(ctx: Context, from: number, to: number): number {
  let i = from + 1;
  if (wordAt(ctx, i) === 'RECURSIVE') i++;
  while (i < to) {
    ctx.names.add(i);
    i++;
    if (isSymbol(ctx, i, '(')) {
      for (let j = i + 1; j < (ctx.tokens[i]?.match ?? i); j++) ctx.names.add(j);
      i = skip(ctx, i);
    }
    if (wordAt(ctx, i) !== 'AS') return -1;
    i++;
    // MariaDB and MySQL allow no other form, but be lenient about materialization hints.
    while (wordAt(ctx, i) === 'NOT' || wordAt(ctx, i) === 'MATERIALIZED') i++;
    if (!isSymbol(ctx, i, '(')) return -1;
    i = skip(ctx, i);
    if (!isSymbol(ctx, i, ',')) return i;
    i++;
  }
  return -1;
}

/** Analyzes `WITH … <statement>`: a read when it ends in a query, an opaque write when it ends in DML. */
export function analyzeWith(ctx: Context, from: number, to: number, analyzeDml: (from: number) => TableRef[]): ReadOutcome {
  const main = skipWithList(ctx, from, to);
  if (main < 0 || main >= to) {
    notUnderstood(ctx, 'WITH', from);
    return { class: 'other', write: null, locking: false, tablesRead: [] };
  }
  const verb = wordAt(ctx, main);
  if (DML_VERBS.has(verb)) {
    const tables = analyzeDml(main);
    addFinding(ctx, 'subquery', 'WITH', from, main);
    const reads = analyzeQuery(ctx, from, main);
    return { class: 'write', write: { kind: 'opaque', verb, tables }, locking: false, tablesRead: reads.tablesRead };
  }
  return analyzeQuery(ctx, from, to);
}

/** Analyzes SHOW, DESCRIBE, DESC, EXPLAIN and HELP. */
export function analyzeMeta(ctx: Context, from: number, to: number, verb: string): ReadOutcome {
  if (verb === 'SHOW' || verb === 'HELP') return { class: 'read', write: null, locking: false, tablesRead: [] };
  let i = from + 1;
  let analyze = false;
  // EXPLAIN [ANALYZE] [EXTENDED | PARTITIONS | FORMAT = x] stmt — ANALYZE runs the statement.
  for (;;) {
    const w = wordAt(ctx, i);
    if (w === 'ANALYZE') analyze = true;
    if (w === 'ANALYZE' || w === 'EXTENDED' || w === 'PARTITIONS') i++;
    else if (w === 'FORMAT' && isSymbol(ctx, i + 1, '=')) i += 3;
    else break;
  }
  const inner = wordAt(ctx, i);
  if (analyze && (DML_VERBS.has(inner) || inner === 'WITH')) {
    notUnderstood(ctx, 'EXPLAIN ANALYZE runs the statement', i);
    return { class: 'other', write: null, locking: false, tablesRead: [] };
  }
  if (inner === 'SELECT' || inner === 'WITH' || inner === 'TABLE' || isSymbol(ctx, i, '(') || DML_VERBS.has(inner)) {
    return { class: 'read', write: null, locking: false, tablesRead: [] };
  }
  // DESCRIBE t [column]
  const name = qualifiedNameAt(ctx, i);
  const tablesRead = name === null || KEYWORDS_BEFORE_PAREN.has(inner) ? [] : [tableRef(name.schema, name.name, null)];
  return { class: 'read', write: null, locking: false, tablesRead };
}

/** Analyzes the `TABLE t` statement. */
export function analyzeTableStatement(ctx: Context, from: number, to: number): ReadOutcome {
  const name = qualifiedNameAt(ctx, from + 1);
  const outcome = analyzeQuery(ctx, name?.next ?? from + 1, to);
  const tablesRead = name === null ? outcome.tablesRead : [tableRef(name.schema, name.name, null), ...outcome.tablesRead];
  return { ...outcome, tablesRead };
}
