/**
 * The analyzer against real statements, as ORMs, query builders and people
 * write them. Each entry in ./corpus/*.ts gives the statement and what the
 * analysis must say about it; spans are checked through the text they cover.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/sql/index.js';
import type {
  Assignment,
  Clause,
  InsertAnalysis,
  StatementAnalysis,
  TableRef,
  ValueSlot,
} from '../../src/sql/index.js';
import type {
  AssignmentSpec,
  ClauseSpec,
  CorpusEntry,
  Expected,
  TableSpec,
  ValueSpec,
  WriteSpec,
} from './corpus/spec.js';
import { knex } from './corpus/knex.js';
import { typeorm } from './corpus/typeorm.js';
import { sequelize } from './corpus/sequelize.js';
import { drizzle } from './corpus/drizzle.js';
import { kysely } from './corpus/kysely.js';
import { prisma } from './corpus/prisma.js';
import { handWritten } from './corpus/mysql2.js';
import { edgeCases } from './corpus/edge.js';

const groups: Record<string, readonly CorpusEntry[]> = {
  knex,
  typeorm,
  sequelize,
  drizzle,
  kysely,
  prisma,
  'mysql2 hand-written': handWritten,
  'edge cases': edgeCases,
};

type Json = unknown;

const text = (sql: string, span: { start: number; end: number }): string => sql.slice(span.start, span.end);

const table = (t: TableRef): TableSpec => ({ schema: t.schema, name: t.name, alias: t.alias });

const value = (sql: string, v: ValueSlot): ValueSpec => ({
  kind: v.kind,
  text: text(sql, v.span),
  placeholders: [...v.placeholders],
});

const assignment = (sql: string, a: Assignment): AssignmentSpec => ({
  column: a.column,
  qualifier: a.qualifier,
  value: value(sql, a.value),
});

function clause(sql: string, c: Clause | null, spec: ClauseSpec | null): Json {
  if (c === null || spec === null) return c === null ? null : { text: text(sql, c.span), placeholders: [...c.placeholders] };
  const out: Record<string, Json> = { text: text(sql, c.span), placeholders: [...c.placeholders] };
  if (spec.body !== undefined) out.body = sql.slice(c.bodyStart, c.span.end).trim();
  return out;
}

/** Project the part of `w` that `spec` talks about, in the spec's vocabulary. */
function projectWrite(sql: string, w: StatementAnalysis['write'], spec: WriteSpec): Json {
  if (w === null) return null;
  if (w.kind !== spec.kind) return { kind: w.kind };
  const out: Record<string, Json> = { kind: w.kind };
  const s = spec as unknown as Record<string, unknown>;
  const has = (k: string): boolean => k in s;
  switch (w.kind) {
    case 'insert':
    case 'replace': {
      const i: InsertAnalysis = w;
      if (has('ignore')) out.ignore = i.ignore;
      if (has('form')) out.form = i.form;
      if (has('table')) out.table = table(i.table);
      if (has('columns')) out.columns = i.columns === null ? null : [...i.columns];
      if (has('columnList')) out.columnList = i.columnListSpan === null ? null : text(sql, i.columnListSpan);
      if (has('textBeforeAfterTable')) {
        const want = s.textBeforeAfterTable as string;
        const before = sql.slice(0, i.afterTable);
        out.textBeforeAfterTable = before.endsWith(want) ? want : before;
      }
      if (has('sourceStartsWith')) {
        const want = s.sourceStartsWith as string;
        const from = sql.slice(i.sourceStart);
        out.sourceStartsWith = from.startsWith(want) ? want : from.slice(0, Math.max(want.length, 20));
      }
      if (has('rowCount')) out.rowCount = i.rowCount;
      if (has('rows')) out.rows = i.rows.map((r) => r.values.map((v) => value(sql, v)));
      if (has('rowTexts')) out.rowTexts = i.rows.map((r) => text(sql, r.span));
      if (has('set')) out.set = i.set.map((a) => assignment(sql, a));
      if (has('onDuplicateKeyUpdate')) {
        const o = i.onDuplicateKeyUpdate;
        const os = s.onDuplicateKeyUpdate as Record<string, unknown> | null;
        if (o === null || os === null) out.onDuplicateKeyUpdate = o === null ? null : { present: true };
        else {
          const p: Record<string, Json> = {};
          if ('text' in os) p.text = text(sql, o.clause.span);
          if ('placeholders' in os) p.placeholders = [...o.clause.placeholders];
          if ('rowAlias' in os) p.rowAlias = o.rowAlias;
          if ('assignments' in os) p.assignments = o.assignments.map((a) => assignment(sql, a));
          out.onDuplicateKeyUpdate = p;
        }
      }
      return out;
    }
    case 'update': {
      if (has('ignore')) out.ignore = w.ignore;
      if (has('multiTable')) out.multiTable = w.multiTable;
      if (has('tables')) out.tables = w.tables.map(table);
      if (has('set')) out.set = clause(sql, w.set, s.set as ClauseSpec);
      if (has('assignments')) out.assignments = w.assignments.map((a) => assignment(sql, a));
      if (has('where')) out.where = clause(sql, w.where, s.where as ClauseSpec | null);
      if (has('orderBy')) out.orderBy = clause(sql, w.orderBy, s.orderBy as ClauseSpec | null);
      if (has('limit')) out.limit = clause(sql, w.limit, s.limit as ClauseSpec | null);
      return out;
    }
    case 'delete': {
      if (has('ignore')) out.ignore = w.ignore;
      if (has('multiTable')) out.multiTable = w.multiTable;
      if (has('tables')) out.tables = w.tables.map(table);
      if (has('referencedTables')) out.referencedTables = w.referencedTables.map(table);
      if (has('where')) out.where = clause(sql, w.where, s.where as ClauseSpec | null);
      if (has('orderBy')) out.orderBy = clause(sql, w.orderBy, s.orderBy as ClauseSpec | null);
      if (has('limit')) out.limit = clause(sql, w.limit, s.limit as ClauseSpec | null);
      return out;
    }
    case 'load_data':
      if (has('table')) out.table = w.table === null ? null : table(w.table);
      if (has('local')) out.local = w.local;
      return out;
    case 'select_into':
      if (has('into')) out.into = w.into;
      return out;
    case 'opaque':
      if (has('verb')) out.verb = w.verb;
      if (has('tables')) out.tables = w.tables.map(table);
      return out;
  }
}

/** The sorted set of reasons, for exact comparison. */
const reasons = (a: StatementAnalysis): string[] => [...new Set(a.unsafe.map((f) => f.reason))].sort();

/** Project `a` onto the keys `spec` gives, in the spec's vocabulary. */
function project(sql: string, a: StatementAnalysis, spec: Expected): Record<string, Json> {
  const out: Record<string, Json> = {};
  const has = (k: keyof Expected): boolean => k in spec;
  if (has('class')) out.class = a.class;
  if (has('verb')) out.verb = a.verb;
  if (has('placeholderCount')) out.placeholderCount = a.placeholderCount;
  if (has('placeholders')) out.placeholders = [...a.placeholders];
  if (has('multiStatement')) out.multiStatement = a.multiStatement;
  if (has('primaryOnly')) out.primaryOnly = a.primaryOnly;
  if (has('understood')) out.understood = a.understood;
  if (has('unsafe')) out.unsafe = reasons(a);
  if (has('unsafeIncludes')) {
    const found = new Set(a.unsafe.map((f) => f.reason));
    out.unsafeIncludes = (spec.unsafeIncludes ?? []).filter((r) => found.has(r));
  }
  if (has('notRead')) out.notRead = a.class !== 'read' ? true : `class is read`;
  if (has('unsafeDetails')) out.unsafeDetails = a.unsafe.map((f) => [f.reason, f.detail]);
  if (has('unsafeSpans')) out.unsafeSpans = a.unsafe.map((f) => [f.reason, text(sql, f.span)]);
  if (has('tablesRead')) out.tablesRead = a.tablesRead.map(table);
  if (has('tablesWritten')) out.tablesWritten = a.tablesWritten.map(table);
  if (has('write')) out.write = spec.write == null ? a.write && { kind: a.write.kind } : projectWrite(sql, a.write, spec.write);
  if (has('transaction')) out.transaction = a.transaction;
  if (has('session')) out.session = a.session && { ...a.session, ...('variables' in a.session ? { variables: [...a.session.variables] } : {}) };
  if (has('ddl')) {
    const d = a.ddl;
    const ds = spec.ddl;
    if (d === null || ds == null) out.ddl = d === null ? null : { kind: d.kind };
    else {
      const p: Record<string, Json> = {};
      if ('kind' in ds) p.kind = d.kind;
      if ('tables' in ds) p.tables = d.tables.map(table);
      if ('temporary' in ds) p.temporary = d.temporary;
      out.ddl = p;
    }
  }
  return out;
}

/** What the spec says, normalised the same way (unsafe as a sorted set). */
function normalise(spec: Expected): Record<string, Json> {
  const out: Record<string, Json> = { ...spec };
  if (spec.unsafe !== undefined) out.unsafe = [...new Set(spec.unsafe)].sort();
  return out;
}

/** Invariants every analysis must satisfy, whatever the statement. */
function checkWellFormed(sql: string, a: StatementAnalysis): void {
  expect.soft(a.placeholderCount, 'placeholderCount === placeholders.length').toBe(a.placeholders.length);
  for (const p of a.placeholders) expect.soft(sql[p], `placeholder offset ${p} points at a ?`).toBe('?');
  expect.soft(a.understood, 'understood iff no `unknown` finding').toBe(!a.unsafe.some((f) => f.reason === 'unknown'));
  if (a.class !== 'read') expect.soft(a.primaryOnly, 'primaryOnly only for reads').toBe(false);
  expect.soft(a.write !== null, 'write details iff class write').toBe(a.class === 'write');
  expect.soft(a.transaction !== null, 'transaction details iff class transaction').toBe(a.class === 'transaction');
  expect.soft(a.session !== null, 'session details iff class session').toBe(a.class === 'session');
  expect.soft(a.ddl !== null, 'ddl details iff class ddl').toBe(a.class === 'ddl');
  expect.soft(a.multiStatement, 'multiStatement iff multiple_statements finding').toBe(
    a.unsafe.some((f) => f.reason === 'multiple_statements'),
  );
  for (const f of a.unsafe) {
    expect.soft(0 <= f.span.start && f.span.start <= f.span.end && f.span.end <= sql.length, `span of ${f.reason}`).toBe(true);
  }
}

describe('statement corpus', () => {
  it('holds at least 170 statements', () => {
    const total = Object.values(groups).reduce((n, g) => n + g.length, 0);
    expect(total).toBeGreaterThanOrEqual(170);
  });

  for (const [name, entries] of Object.entries(groups)) {
    describe(name, () => {
      it.each(entries.map((e, i) => [i, e.note ? `${e.note}: ${e.sql}` : e.sql, e] as const))(
        '#%i %s',
        (_i, _title, entry) => {
          const a = analyze(entry.sql);
          expect(project(entry.sql, a, entry.expect)).toEqual(normalise(entry.expect));
          checkWellFormed(entry.sql, a);
        },
      );
    });
  }
});
