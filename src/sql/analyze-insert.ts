/**
 * Takes INSERT and REPLACE statements apart: table, column list, each row's
 * values with their spans and placeholders (so replay can add or replace the
 * auto-increment value without parsing again), the SET form, the query form
 * and ON DUPLICATE KEY UPDATE with its row alias.
 *
 * @module
 */
import {
  type Context,
  addFinding,
  clauseOf,
  findTop,
  identifierAt,
  isSymbol,
  notUnderstood,
  placeholdersIn,
  qualifiedNameAt,
  skip,
  skipModifiers,
  spanOf,
  splitTop,
  tableRef,
  wordAt,
} from './context.js';
import type { Assignment, InsertAnalysis, RowAlias, InsertRow, OnDuplicateKeyUpdate, ValueKind, ValueSlot } from './types.js';

const INSERT_MODIFIERS = new Set(['LOW_PRIORITY', 'DELAYED', 'HIGH_PRIORITY', 'IGNORE']);
const QUERY_STARTS = new Set(['SELECT', 'WITH', 'TABLE']);

/** Analyzes an INSERT or REPLACE in tokens `[from, to)`; `null` when its structure is not understood. */
export function analyzeInsert(ctx: Context, from: number, to: number): InsertAnalysis | null {
  const kind = wordAt(ctx, from) === 'REPLACE' ? 'replace' : 'insert';
  const modifiers = skipModifiers(ctx, from + 1, INSERT_MODIFIERS);
  const ignore = modifiers.ignore;
  let i = modifiers.next;
  if (kind === 'replace') addFinding(ctx, 'replace', 'REPLACE', from);
  if (wordAt(ctx, i) === 'INTO') i++;
  const name = qualifiedNameAt(ctx, i);
  if (name === null) {
    notUnderstood(ctx, 'no table name after INSERT', i);
    return null;
  }
  i = name.next;
  if (wordAt(ctx, i) === 'PARTITION' && isSymbol(ctx, i + 1, '(')) i = skip(ctx, i + 1);
  const afterTable = ctx.tokens[i - 1]?.end ?? 0;

  // Column list: `(a, b)`, unless the parenthesis opens a query (`INSERT INTO t (SELECT …)`).
  let columns: string[] | null = null;
  let columnListSpan = null;
  if (isSymbol(ctx, i, '(') && !QUERY_STARTS.has(wordAt(ctx, i + 1)) && !isSymbol(ctx, i + 1, '(')) {
    const close = ctx.tokens[i]?.match ?? to;
    columns = [];
    for (const [a, b] of splitTop(ctx, i + 1, close)) {
      const column = columnName(ctx, a, b);
      if (column === null) {
        notUnderstood(ctx, 'column list', a);
        return null;
      }
      columns.push(column.name);
    }
    columnListSpan = spanOf(ctx, i, close + 1);
    i = close + 1;
  }

  const sourceStart = ctx.tokens[i]?.start ?? ctx.sql.length;
  const source = wordAt(ctx, i);
  const odkuAt = findTop(ctx, i, to, (j) => wordAt(ctx, j) === 'ON' && wordAt(ctx, j + 1) === 'DUPLICATE');
  const returningAt = findTop(ctx, i, to, (j) => wordAt(ctx, j) === 'RETURNING');
  const sourceEnd = Math.min(odkuAt, returningAt);
  let rows: InsertRow[] = [];
  let set: Assignment[] = [];
  let form: InsertAnalysis['form'];
  let rowAlias: RowAlias | null = null;
  let rowsEnd = sourceEnd;

  if (source === 'VALUES' || source === 'VALUE') {
    form = 'values';
    const parsed = parseRows(ctx, i + 1, sourceEnd);
    if (parsed === null) return null;
    rows = parsed.rows;
    rowsEnd = parsed.end;
  } else if (source === 'SET') {
    form = 'set';
    rowsEnd = findTop(ctx, i + 1, sourceEnd, (j) => wordAt(ctx, j) === 'AS');
    const parsed = parseAssignments(ctx, i + 1, rowsEnd);
    if (parsed === null) return null;
    set = parsed;
    columns = set.map((a) => a.column);
  } else if (QUERY_STARTS.has(source) || isSymbol(ctx, i, '(')) {
    form = 'select';
    addFinding(ctx, 'insert_select', source === '' ? 'SELECT' : source, i, sourceEnd);
    rowsEnd = sourceEnd;
  } else {
    notUnderstood(ctx, 'no VALUES, SET or SELECT in INSERT', i);
    return null;
  }

  // `AS alias [(columns)]` after the rows (MySQL 8.0.19+).
  if (form !== 'select' && wordAt(ctx, rowsEnd) === 'AS') {
    const asAt = rowsEnd;
    const name = identifierAt(ctx, asAt + 1);
    ctx.names.add(asAt + 1);
    let aliasColumns: string[] | null = null;
    rowsEnd = asAt + 2;
    if (isSymbol(ctx, rowsEnd, '(')) {
      const close = ctx.tokens[rowsEnd]?.match ?? to;
      aliasColumns = [];
      for (const [a, b] of splitTop(ctx, rowsEnd + 1, close)) {
        const column = columnName(ctx, a, b);
        if (column === null) {
          notUnderstood(ctx, 'row alias column list', a);
          return null;
        }
        aliasColumns.push(column.name);
      }
      rowsEnd = close + 1;
    }
    if (name === null) {
      notUnderstood(ctx, 'row alias', asAt);
      return null;
    }
    rowAlias = { name, span: spanOf(ctx, asAt, rowsEnd), columns: aliasColumns };
  }
  if (rowsEnd < sourceEnd && form !== 'select') {
    notUnderstood(ctx, 'unexpected text after the rows', rowsEnd);
    return null;
  }

  let onDuplicateKeyUpdate: OnDuplicateKeyUpdate | null = null;
  if (odkuAt < to) {
    if (wordAt(ctx, odkuAt + 2) !== 'KEY' || wordAt(ctx, odkuAt + 3) !== 'UPDATE') {
      notUnderstood(ctx, 'ON DUPLICATE', odkuAt);
      return null;
    }
    const end = returningAt;
    const assignments = parseAssignments(ctx, odkuAt + 4, end);
    if (assignments === null) return null;
    onDuplicateKeyUpdate = { clause: clauseOf(ctx, odkuAt, odkuAt + 4, end), rowAlias: rowAlias?.name ?? null, assignments };
    addFinding(ctx, 'on_duplicate_key_update', 'ON DUPLICATE KEY UPDATE', odkuAt, odkuAt + 4);
  }

  const rowCount = form === 'values' ? rows.length : form === 'set' ? 1 : null;
  return {
    kind,
    ignore,
    form,
    table: tableRef(name.schema, name.name, null),
    columns,
    columnListSpan,
    afterTable,
    rows,
    set,
    rowCount,
    rowAlias,
    onDuplicateKeyUpdate,
    sourceStart,
  };
}

/** Parses `(…), (…), …` (optionally `ROW(…)`) from `from`; stops at the first token that is not a row. */
function parseRows(ctx: Context, from: number, to: number): { rows: InsertRow[]; end: number } | null {
  const rows: InsertRow[] = [];
  let i = from;
  while (i < to) {
    if (wordAt(ctx, i) === 'ROW') i++;
    if (!isSymbol(ctx, i, '(')) {
      notUnderstood(ctx, 'VALUES row', i);
      return null;
    }
    const close = ctx.tokens[i]?.match ?? to;
    const values = splitTop(ctx, i + 1, close).map(([a, b]) => valueSlot(ctx, a, b));
    rows.push({ span: spanOf(ctx, i, close + 1), values });
    i = close + 1;
    if (!isSymbol(ctx, i, ',')) break;
    i++;
  }
  return { rows, end: i };
}

/** Describes the value written in tokens `[a, b)`. */
export function valueSlot(ctx: Context, a: number, b: number): ValueSlot {
  return { span: spanOf(ctx, a, b), kind: valueKind(ctx, a, b), placeholders: placeholdersIn(ctx, a, b) };
}

function valueKind(ctx: Context, a: number, b: number): ValueKind {
  const t = ctx.tokens[a];
  if (t === undefined || b <= a) return 'expression';
  if (b - a === 1) {
    if (t.type === 'placeholder') return 'placeholder';
    if (t.type === 'string' || t.type === 'number' || t.type === 'hex') return 'literal';
    if (t.type === 'word') {
      if (t.upper === 'DEFAULT') return 'default';
      if (t.upper === 'NULL') return 'null';
      if (t.upper === 'TRUE' || t.upper === 'FALSE') return 'literal';
    }
    return 'expression';
  }
  if (b - a === 2 && t.type === 'op' && (t.upper === '-' || t.upper === '+') && ctx.tokens[a + 1]?.type === 'number') {
    return 'literal';
  }
  return 'expression';
}

/** A column reference `[[schema.]table.]column` filling exactly tokens `[a, b)`, or `null`. */
function columnName(ctx: Context, a: number, b: number): { name: string; qualifier: string | null } | null {
  const parts: string[] = [];
  for (let i = a; i < b; i++) {
    if ((i - a) % 2 === 1) {
      if (!isSymbol(ctx, i, '.')) return null;
      continue;
    }
    const part = identifierAt(ctx, i);
    const t = ctx.tokens[i];
    if (part === null || t === undefined || (t.type !== 'word' && t.type !== 'ident')) return null;
    ctx.names.add(i);
    parts.push(part);
  }
  if (parts.length === 0 || (b - a) % 2 === 0) return null;
  return { name: parts[parts.length - 1] as string, qualifier: parts.length > 1 ? (parts[parts.length - 2] as string) : null };
}

/** Parses `col = expr, …` in tokens `[from, to)`; `null` when one is malformed. */
export function parseAssignments(ctx: Context, from: number, to: number): Assignment[] | null {
  const out: Assignment[] = [];
  if (from >= to) {
    notUnderstood(ctx, 'no assignment', from);
    return null;
  }
  for (const [a, b] of splitTop(ctx, from, to)) {
    const eq = findTop(ctx, a, b, (j) => isSymbol(ctx, j, '=') || isSymbol(ctx, j, ':='));
    const column = eq < b ? columnName(ctx, a, eq) : null;
    if (column === null || eq + 1 >= b) {
      notUnderstood(ctx, 'assignment', a);
      return null;
    }
    out.push({ column: column.name, qualifier: column.qualifier, value: valueSlot(ctx, eq + 1, b) });
  }
  return out;
}
