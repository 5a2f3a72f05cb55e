/**
 * Parses table references: the `FROM` list of a SELECT, the table part of an
 * UPDATE, the `FROM`/`USING` parts of a DELETE. Comma lists, joins with ON or
 * USING, derived tables, aliases, partitions and index hints.
 *
 * @module
 */
import {
  type Context,
  findTop,
  identifierAt,
  isSymbol,
  qualifiedNameAt,
  skip,
  tableRef,
  wordAt,
} from './context.js';
import { JOIN_WORDS, NOT_ALIAS_WORDS } from './keywords.js';
import type { TableRef } from './types.js';

/** Table references parsed from a range of tokens. */
export interface TableRefList {
  /** Every named table, in order of appearance (derived tables are not listed). */
  readonly refs: TableRef[];
  /** True when there were several factors (a join or a comma list) or a derived table. */
  readonly joined: boolean;
  /** True when a derived table or LATERAL subquery appeared. */
  readonly derived: boolean;
  /** The index where parsing stopped. */
  readonly end: number;
}

const CLAUSE_STOP = new Set(['WHERE', 'GROUP', 'HAVING', 'ORDER', 'LIMIT', 'WINDOW', 'UNION', 'EXCEPT', 'INTERSECT', 'FOR', 'LOCK', 'INTO', 'SET', 'RETURNING', 'PROCEDURE']);
const QUERY_STARTS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/** Parses table references starting at `from`, stopping at a clause keyword or `to`. */
export function parseTableRefs(ctx: Context, from: number, to: number): TableRefList {
  const refs: TableRef[] = [];
  let factors = 0;
  let derived = false;
  let i = from;
  outer: while (i < to) {
    const factor = parseFactor(ctx, i, to, refs);
    if (factor.next < 0) break;
    factors++;
    derived ||= factor.derived;
    i = factor.next;
    while (i < to) {
      const w = wordAt(ctx, i);
      if (isSymbol(ctx, i, ',')) {
        i++;
        continue outer;
      }
      if (JOIN_WORDS.has(w)) {
        while (i < to && JOIN_WORDS.has(wordAt(ctx, i)) && wordAt(ctx, i) !== 'JOIN' && wordAt(ctx, i) !== 'STRAIGHT_JOIN') i++;
        i++; // JOIN or STRAIGHT_JOIN
        continue outer;
      }
      if (w === 'ON') {
        i = findTop(ctx, i + 1, to, (j) => isSymbol(ctx, j, ',') || JOIN_WORDS.has(wordAt(ctx, j)) || CLAUSE_STOP.has(wordAt(ctx, j)) || isSymbol(ctx, j, ';'));
        continue;
      }
      if (w === 'USING') {
        i = skip(ctx, i + 1);
        continue;
      }
      break outer;
    }
  }
  return { refs, joined: factors > 1 || derived, derived, end: i };
}

interface Factor {
  readonly next: number;
  readonly derived: boolean;
}

function parseFactor(ctx: Context, at: number, to: number, refs: TableRef[]): Factor {
  let i = at;
  if (wordAt(ctx, i) === 'LATERAL') i++;
  if (isSymbol(ctx, i, '(')) {
    const open = ctx.tokens[i];
    const close = open?.match ?? to;
    if (QUERY_STARTS.has(wordAt(ctx, i + 1)) || isSymbol(ctx, i + 1, '(')) {
      return { next: skipAlias(ctx, close + 1, to, true), derived: true };
    }
    const nested = parseTableRefs(ctx, i + 1, close);
    refs.push(...nested.refs);
    return { next: close + 1, derived: nested.derived };
  }
  if (wordAt(ctx, i) === 'JSON_TABLE' && isSymbol(ctx, i + 1, '(')) {
    ctx.names.add(i);
    return { next: skipAlias(ctx, skip(ctx, i + 1), to, true), derived: true };
  }
  if (wordAt(ctx, i) === 'DUAL') return { next: i + 1, derived: false };
  const name = qualifiedNameAt(ctx, i);
  if (name === null || CLAUSE_STOP.has(wordAt(ctx, i)) || NOT_ALIAS_WORDS.has(wordAt(ctx, i))) return { next: -1, derived: false };
  i = name.next;
  if (wordAt(ctx, i) === 'PARTITION' && isSymbol(ctx, i + 1, '(')) i = skip(ctx, i + 1);
  const aliasAt = aliasIndex(ctx, i, to);
  let alias: string | null = null;
  if (aliasAt >= 0) {
    alias = identifierAt(ctx, aliasAt);
    ctx.names.add(aliasAt);
    i = aliasAt + 1;
  }
  i = skipIndexHints(ctx, i, to);
  refs.push(tableRef(name.schema, name.name, alias));
  return { next: i, derived: false };
}

/** The index of an alias at `i` (after an optional AS), or -1. */
export function aliasIndex(ctx: Context, i: number, to: number): number {
  let j = i;
  if (wordAt(ctx, j) === 'AS') j++;
  if (j >= to) return -1;
  const t = ctx.tokens[j];
  if (t === undefined) return -1;
  if (t.type === 'ident' || (t.type === 'string' && j > i)) return j;
  if (t.type === 'word' && !NOT_ALIAS_WORDS.has(t.upper) && !CLAUSE_STOP.has(t.upper)) return j;
  return -1;
}

function skipAlias(ctx: Context, i: number, to: number, columnList: boolean): number {
  const at = aliasIndex(ctx, i, to);
  if (at < 0) return i;
  ctx.names.add(at);
  let next = at + 1;
  if (columnList && isSymbol(ctx, next, '(')) next = skip(ctx, next);
  return next;
}

function skipIndexHints(ctx: Context, at: number, to: number): number {
  let i = at;
  while (i < to) {
    const w = wordAt(ctx, i);
    const next = wordAt(ctx, i + 1);
    if (!((w === 'USE' || w === 'IGNORE' || w === 'FORCE') && (next === 'INDEX' || next === 'KEY'))) break;
    i += 2;
    if (wordAt(ctx, i) === 'FOR') {
      i++;
      if (wordAt(ctx, i) === 'JOIN') i++;
      else i += 2; // ORDER BY / GROUP BY
    }
    if (isSymbol(ctx, i, '(')) i = skip(ctx, i);
  }
  return i;
}
