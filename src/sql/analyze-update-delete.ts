/**
 * Takes UPDATE and DELETE statements apart: the tables, and the spans and
 * placeholders of their SET, WHERE, ORDER BY and LIMIT clauses, so replay can
 * reuse the WHERE clause (with its own values) to find the rows a statement hits.
 *
 * @module
 */
import {
  type Context,
  addFinding,
  clauseOf,
  findTop,
  findTopWord,
  isSymbol,
  notUnderstood,
  qualifiedNameAt,
  skipModifiers,
  splitTop,
  tableRef,
  wordAt,
} from './context.js';
import { parseAssignments } from './analyze-insert.js';
import { CLAUSE_END_WORDS } from './keywords.js';
import { parseTableRefs } from './table-refs.js';
import type { Clause, DeleteAnalysis, TableRef, UpdateAnalysis } from './types.js';

const UPDATE_MODIFIERS = new Set(['LOW_PRIORITY', 'IGNORE']);
const DELETE_MODIFIERS = new Set(['LOW_PRIORITY', 'QUICK', 'IGNORE']);
const SET_WORD = new Set(['SET']);
const AFTER_WHERE = new Set(['ORDER', 'LIMIT', 'RETURNING']);
const AFTER_ORDER = new Set(['LIMIT', 'RETURNING']);
const AFTER_LIMIT = new Set(['RETURNING']);

interface TailClauses {
  where: Clause | null;
  orderBy: Clause | null;
  limit: Clause | null;
}

/** Parses `[WHERE …] [ORDER BY …] [LIMIT …]` from `from` to `to`. */
function parseTail(ctx: Context, from: number, to: number): TailClauses | null {
  let i = from;
  let where: Clause | null = null;
  let orderBy: Clause | null = null;
  let limit: Clause | null = null;
  if (wordAt(ctx, i) === 'WHERE') {
    const end = findTopWord(ctx, i + 1, to, AFTER_WHERE);
    where = clauseOf(ctx, i, i + 1, end);
    i = end;
  }
  if (wordAt(ctx, i) === 'ORDER' && wordAt(ctx, i + 1) === 'BY') {
    const end = findTopWord(ctx, i + 2, to, AFTER_ORDER);
    orderBy = clauseOf(ctx, i, i + 2, end);
    i = end;
  }
  if (wordAt(ctx, i) === 'LIMIT') {
    const end = findTopWord(ctx, i + 1, to, AFTER_LIMIT);
    limit = clauseOf(ctx, i, i + 1, end);
    i = end;
  }
  if (wordAt(ctx, i) === 'RETURNING') i = to;
  if (i < to) {
    notUnderstood(ctx, 'unexpected clause', i);
    return null;
  }
  return { where, orderBy, limit };
}

function flagLimit(ctx: Context, tail: TailClauses): void {
  if (tail.limit !== null && tail.orderBy === null) {
    ctx.findings.push({ reason: 'limit_without_order_by', detail: 'LIMIT', span: tail.limit.span });
  }
}

/** Analyzes an UPDATE in tokens `[from, to)`; `null` when its structure is not understood. */
export function analyzeUpdate(ctx: Context, from: number, to: number): UpdateAnalysis | null {
  const modifiers = skipModifiers(ctx, from + 1, UPDATE_MODIFIERS);
  const ignore = modifiers.ignore;
  const i = modifiers.next;
  const setAt = findTopWord(ctx, i, to, SET_WORD);
  if (setAt >= to) {
    notUnderstood(ctx, 'no SET in UPDATE', i);
    return null;
  }
  const refs = parseTableRefs(ctx, i, setAt);
  if (refs.refs.length === 0 || refs.end !== setAt) {
    notUnderstood(ctx, 'UPDATE table reference', refs.end);
    return null;
  }
  const setEnd = findTopWord(ctx, setAt + 1, to, CLAUSE_END_WORDS);
  const assignments = parseAssignments(ctx, setAt + 1, setEnd);
  if (assignments === null) return null;
  const tail = parseTail(ctx, setEnd, to);
  if (tail === null) return null;
  const multiTable = refs.joined;
  if (multiTable) addFinding(ctx, 'multi_table', 'UPDATE', from, setAt);
  flagLimit(ctx, tail);
  return {
    kind: 'update',
    ignore,
    multiTable,
    tables: refs.refs,
    set: clauseOf(ctx, setAt, setAt + 1, setEnd),
    assignments,
    ...tail,
  };
}

/** Analyzes a DELETE in tokens `[from, to)`; `null` when its structure is not understood. */
export function analyzeDelete(ctx: Context, from: number, to: number): DeleteAnalysis | null {
  const modifiers = skipModifiers(ctx, from + 1, DELETE_MODIFIERS);
  const ignore = modifiers.ignore;
  const i = modifiers.next;

  if (wordAt(ctx, i) === 'FROM') {
    const usingAt = findTop(ctx, i + 1, to, (j) => wordAt(ctx, j) === 'USING');
    if (usingAt < to) {
      // DELETE FROM t1, t2 USING <table references> [WHERE …]
      const targets = parseNameList(ctx, i + 1, usingAt);
      const refs = parseTableRefs(ctx, usingAt + 1, to);
      return multiDelete(ctx, from, targets, refs.refs, refs.end, to, ignore);
    }
    const refs = parseTableRefs(ctx, i + 1, to);
    if (refs.refs.length === 0) {
      notUnderstood(ctx, 'DELETE table', i + 1);
      return null;
    }
    if (refs.joined) return multiDelete(ctx, from, refs.refs.slice(0, 1), refs.refs, refs.end, to, ignore);
    const tail = parseTail(ctx, refs.end, to);
    if (tail === null) return null;
    flagLimit(ctx, tail);
    return { kind: 'delete', ignore, multiTable: false, tables: refs.refs, referencedTables: refs.refs, ...tail };
  }

  // DELETE t1[.*], t2 FROM <table references> [WHERE …]
  const fromAt = findTop(ctx, i, to, (j) => wordAt(ctx, j) === 'FROM');
  if (fromAt >= to) {
    notUnderstood(ctx, 'no FROM in DELETE', i);
    return null;
  }
  const targets = parseNameList(ctx, i, fromAt);
  const refs = parseTableRefs(ctx, fromAt + 1, to);
  return multiDelete(ctx, from, targets, refs.refs, refs.end, to, ignore);
}

function multiDelete(
  ctx: Context,
  from: number,
  targets: TableRef[],
  referenced: TableRef[],
  tailFrom: number,
  to: number,
  ignore: boolean,
): DeleteAnalysis | null {
  const tail = parseTail(ctx, tailFrom, to);
  if (tail === null || targets.length === 0) {
    if (targets.length === 0) notUnderstood(ctx, 'DELETE targets', from);
    return null;
  }
  addFinding(ctx, 'multi_table', 'DELETE', from, tailFrom);
  // A target may name a table by its alias in the references: report the real table.
  const tables = targets.map((target) => {
    if (target.schema !== null) return target;
    const lower = target.name.toLowerCase();
    return referenced.find((r) => r.alias?.toLowerCase() === lower) ?? referenced.find((r) => r.name.toLowerCase() === lower) ?? target;
  });
  return { kind: 'delete', ignore, multiTable: true, tables, referencedTables: referenced, ...tail };
}

/** Parses `t1[.*], db.t2[.*]` in `[from, to)`. */
function parseNameList(ctx: Context, from: number, to: number): TableRef[] {
  const out: TableRef[] = [];
  for (const [a, b] of splitTop(ctx, from, to)) {
    const name = qualifiedNameAt(ctx, a);
    if (name === null) continue;
    let next = name.next;
    if (isSymbol(ctx, next, '.') && isSymbol(ctx, next + 1, '*')) next += 2;
    if (next !== b) {
      notUnderstood(ctx, 'DELETE target', a);
      continue;
    }
    out.push(tableRef(name.schema, name.name, null));
  }
  return out;
}
