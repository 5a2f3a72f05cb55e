/**
 * The analyzer's entry point: lexes a SQL text, splits it into statements,
 * hands each to the parser for its verb, and assembles one
 * {@link StatementAnalysis}. It never throws: whatever it cannot understand is
 * reported with an `unknown` finding, which the pool treats as unsafe.
 *
 * @module
 */
import { analyzeSet, analyzeTransaction, analyzeUse, type ControlOutcome } from './analyze-control.js';
import { analyzeDdl } from './analyze-ddl.js';
import { analyzeInsert } from './analyze-insert.js';
import { analyzeMeta, analyzeQuery, analyzeTableStatement, analyzeWith, type ReadOutcome } from './analyze-read.js';
import { analyzeDelete, analyzeUpdate } from './analyze-update-delete.js';
import { type Context, addFinding, createContext, isSymbol, notUnderstood, qualifiedNameAt, tableRef, wordAt } from './context.js';
import { scanExpressions } from './findings.js';
import { DDL_VERBS, KNOWN_OTHER_VERBS } from './keywords.js';
import { lex } from './lexer.js';
import type { DdlAnalysis, StatementAnalysis, StatementClass, TableRef, WriteAnalysis } from './types.js';

/** What one statement of a text turned out to be. */
interface StatementOutcome {
  class: StatementClass;
  verb: string;
  write: WriteAnalysis | null;
  transaction: ControlOutcome['transaction'];
  session: ControlOutcome['session'];
  ddl: DdlAnalysis | null;
  primaryOnly: boolean;
  tablesRead: readonly TableRef[];
  tablesWritten: readonly TableRef[];
}

const COMPOUND_OBJECTS = new Set(['PROCEDURE', 'FUNCTION', 'TRIGGER', 'EVENT', 'PACKAGE']);

/**
 * Analyzes one SQL text. Pure and never throws; prefer a {@link StatementAnalyzer}
 * (which caches by text) on hot paths.
 *
 * @param sql - The SQL text exactly as it will be sent to the server.
 */
export function analyze(sql: string): StatementAnalysis {
  try {
    return analyzeText(sql);
  } catch (error) {
    // A bug in the analyzer must never break the caller's query: report "not understood" instead.
    return {
      ...emptyOutcome('other', ''),
      placeholderCount: 0,
      placeholders: [],
      multiStatement: false,
      unsafe: [{ reason: 'unknown', detail: `analyzer error: ${String(error)}`, span: { start: 0, end: sql.length } }],
      understood: false,
    };
  }
}

function emptyOutcome(cls: StatementClass, verb: string): StatementOutcome {
  return { class: cls, verb, write: null, transaction: null, session: null, ddl: null, primaryOnly: false, tablesRead: [], tablesWritten: [] };
}

function analyzeText(sql: string): StatementAnalysis {
  const lexed = lex(sql);
  const ctx = createContext(sql, lexed.tokens);
  const tokens = lexed.tokens;

  if (lexed.unterminated) notUnderstood(ctx, 'unterminated string, identifier or comment', tokens.length - 1);
  if (lexed.unbalanced) notUnderstood(ctx, 'unbalanced parentheses', tokens.length - 1);
  for (const span of lexed.executableComments) ctx.findings.push({ reason: 'executable_comment', detail: sql.slice(span.start, Math.min(span.end, span.start + 8)), span });

  const ranges = statementRanges(ctx);
  let outcome: StatementOutcome;
  if (ranges.length === 0) {
    outcome = emptyOutcome('other', 'empty');
  } else {
    const [first, ...rest] = ranges as [[number, number], ...Array<[number, number]>];
    outcome = analyzeStatement(ctx, first[0], first[1]);
    if (rest.length > 0) {
      addFinding(ctx, 'multiple_statements', ';', rest[0]?.[0] ?? first[1], tokens.length);
      const others = rest.map(([a, b]) => analyzeStatement(ctx, a, b));
      const allReads = outcome.class === 'read' && others.every((o) => o.class === 'read');
      if (!allReads) notUnderstood(ctx, 'several statements in one text', rest[0]?.[0] ?? first[1]);
      outcome = {
        ...outcome,
        class: allReads ? 'read' : 'other',
        write: null,
        transaction: null,
        session: null,
        ddl: null,
        primaryOnly: allReads && (outcome.primaryOnly || others.some((o) => o.primaryOnly)),
        tablesRead: [outcome, ...others].flatMap((o) => o.tablesRead),
        tablesWritten: [outcome, ...others].flatMap((o) => o.tablesWritten),
      };
    }
  }

  const unsafe = ctx.findings.slice().sort((a, b) => a.span.start - b.span.start);
  return {
    class: outcome.class,
    verb: outcome.verb,
    placeholderCount: lexed.placeholders.length,
    placeholders: lexed.placeholders,
    multiStatement: ranges.length > 1,
    primaryOnly: outcome.class === 'read' && outcome.primaryOnly,
    tablesRead: outcome.tablesRead,
    tablesWritten: outcome.tablesWritten,
    write: outcome.write,
    transaction: outcome.transaction,
    session: outcome.session,
    ddl: outcome.ddl,
    unsafe,
    understood: !unsafe.some((f) => f.reason === 'unknown'),
  };
}

/** Splits the tokens at `;` into non-empty statement ranges (a compound CREATE PROCEDURE … body stays whole). */
function statementRanges(ctx: Context): Array<[number, number]> {
  const tokens = ctx.tokens;
  if (wordAt(ctx, 0) === 'CREATE') {
    for (let i = 1; i < Math.min(tokens.length, 12); i++) {
      if (COMPOUND_OBJECTS.has(wordAt(ctx, i))) return [[0, trimSemicolons(ctx, tokens.length)]];
    }
  }
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    if (i === tokens.length || isSymbol(ctx, i, ';')) {
      if (i > start) ranges.push([start, i]);
      start = i + 1;
    }
  }
  return ranges;
}

function trimSemicolons(ctx: Context, to: number): number {
  let end = to;
  while (end > 0 && isSymbol(ctx, end - 1, ';')) end--;
  return end;
}

/** The first keyword of the statement at `from`, looking through leading parentheses. */
function leadingWord(ctx: Context, from: number, to: number): number {
  let i = from;
  while (i < to && isSymbol(ctx, i, '(')) i++;
  return i;
}

function readOutcome(verb: string, read: ReadOutcome, primaryOnly: boolean): StatementOutcome {
  const tablesWritten = read.write?.kind === 'opaque' ? read.write.tables : [];
  return { ...emptyOutcome(read.class, verb), write: read.write, primaryOnly: read.locking || primaryOnly, tablesRead: read.tablesRead, tablesWritten };
}

function writeOutcome(verb: string, write: WriteAnalysis, tablesWritten: readonly TableRef[]): StatementOutcome {
  return { ...emptyOutcome('write', verb), write, tablesWritten };
}

/** A write whose structure was not understood: still a write, with the `unknown` finding already recorded. */
function opaqueWrite(verb: string, word: string, tables: readonly TableRef[] = []): StatementOutcome {
  return writeOutcome(verb, { kind: 'opaque', verb: word, tables }, tables);
}

/** Analyzes the DML statement starting at `from` (used directly and for the end of a WITH). */
function analyzeDml(ctx: Context, from: number, to: number, verb: string): StatementOutcome {
  const word = wordAt(ctx, from);
  if (word === 'INSERT' || word === 'REPLACE') {
    const insert = analyzeInsert(ctx, from, to);
    scanExpressions(ctx, from, to, insert === null || insert.form !== 'select');
    return insert === null ? opaqueWrite(verb, word) : writeOutcome(verb, insert, [insert.table]);
  }
  if (word === 'UPDATE') {
    const update = analyzeUpdate(ctx, from, to);
    scanExpressions(ctx, from, to, true);
    if (update === null) return opaqueWrite(verb, word);
    return writeOutcome(verb, update, update.multiTable ? update.tables : update.tables.slice(0, 1));
  }
  const del = analyzeDelete(ctx, from, to);
  scanExpressions(ctx, from, to, true);
  return del === null ? opaqueWrite(verb, word) : writeOutcome(verb, del, del.tables);
}

function analyzeStatement(ctx: Context, from: number, to: number): StatementOutcome {
  const at = leadingWord(ctx, from, to);
  const word = wordAt(ctx, at);
  const verb = word.toLowerCase();

  switch (word) {
    case 'SELECT':
    case 'VALUES': {
      const read = analyzeQuery(ctx, from, to);
      const scan = scanExpressions(ctx, from, to, false);
      return readOutcome(verb, read, scan.primaryOnly);
    }
    case 'WITH': {
      let endsInDml = false;
      const read = analyzeWith(ctx, at, to, (main) => {
        endsInDml = true;
        return analyzeDml(ctx, main, to, verb).tablesWritten.slice();
      });
      // A CTE ending in DML had its expressions scanned by the DML parser.
      const scan = endsInDml ? { primaryOnly: false } : scanExpressions(ctx, from, to, false);
      return readOutcome(verb, read, scan.primaryOnly);
    }
    case 'TABLE': {
      const read = analyzeTableStatement(ctx, at, to);
      scanExpressions(ctx, at, to, false);
      return readOutcome(verb, read, false);
    }
    case 'SHOW':
    case 'DESCRIBE':
    case 'DESC':
    case 'EXPLAIN':
    case 'HELP':
      return readOutcome(verb, analyzeMeta(ctx, at, to, word), false);
    case 'INSERT':
    case 'REPLACE':
    case 'UPDATE':
    case 'DELETE':
      return analyzeDml(ctx, at, to, verb);
    case 'LOAD':
      return analyzeLoad(ctx, at, to, verb);
    case 'BEGIN':
    case 'START':
    case 'COMMIT':
    case 'ROLLBACK':
    case 'SAVEPOINT':
    case 'RELEASE': {
      const control = analyzeTransaction(ctx, at, to);
      if (control.transaction !== null) return { ...emptyOutcome('transaction', verb), transaction: control.transaction };
      return otherOutcome(ctx, at, to, verb, word);
    }
    case 'SET': {
      const next = wordAt(ctx, at + 1);
      if (next === 'PASSWORD' || next === 'ROLE' || next === 'DEFAULT' || next === 'STATEMENT') return otherOutcome(ctx, at, to, verb, `SET ${next}`);
      const control = analyzeSet(ctx, at, to);
      scanExpressions(ctx, at, to, false);
      if (control.transaction !== null) return { ...emptyOutcome('transaction', verb), transaction: control.transaction };
      if (control.session !== null) return { ...emptyOutcome('session', verb), session: control.session };
      return emptyOutcome('other', verb);
    }
    case 'USE': {
      const control = analyzeUse(ctx, at, to);
      return control.session === null ? emptyOutcome('other', verb) : { ...emptyOutcome('session', verb), session: control.session };
    }
    default:
      break;
  }

  if (DDL_VERBS.has(word)) {
    const ddl = analyzeDdl(ctx, at, to);
    if (ddl !== null) return { ...emptyOutcome('ddl', verb), ddl, tablesWritten: ddl.tables };
  }
  return otherOutcome(ctx, at, to, verb, word);
}

/** Verbs followed by these words are understood `other` statements (ANALYZE TABLE, not MariaDB's ANALYZE SELECT/UPDATE). */
const ANALYZE_TABLE_WORDS = new Set(['TABLE', 'TABLES', 'NO_WRITE_TO_BINLOG', 'LOCAL']);
/** Object words after CREATE/DROP/ALTER/RENAME that are not schema objects but are understood (users, roles, servers). */
const ACCOUNT_OBJECTS = new Set(['USER', 'ROLE']);
/** `other` statements whose arguments are expressions worth scanning for variables and functions. */
const EXPRESSION_VERBS = new Set(['DO', 'CALL', 'EXECUTE', 'GET', 'SIGNAL', 'RESIGNAL']);

function otherOutcome(ctx: Context, at: number, to: number, verb: string, word: string): StatementOutcome {
  const known =
    (KNOWN_OTHER_VERBS.has(word) && word !== 'START') ||
    (word === 'START' && wordAt(ctx, at + 1) !== 'TRANSACTION') ||
    (word === 'ANALYZE' && ANALYZE_TABLE_WORDS.has(wordAt(ctx, at + 1))) ||
    (DDL_VERBS.has(word) && ACCOUNT_OBJECTS.has(wordAt(ctx, at + 1))) ||
    word === 'SET PASSWORD' ||
    word === 'SET ROLE' ||
    word === 'SET DEFAULT';
  if (!known && !ctx.findings.some((f) => f.reason === 'unknown')) notUnderstood(ctx, word === '' ? 'no statement keyword' : word, at);
  if (EXPRESSION_VERBS.has(word)) {
    // The routine or prepared statement named is not a function call to report.
    if (word === 'CALL' || word === 'EXECUTE') qualifiedNameAt(ctx, at + 1);
    scanExpressions(ctx, at, to, false);
  }
  return emptyOutcome('other', verb);
}

function analyzeLoad(ctx: Context, at: number, to: number, verb: string): StatementOutcome {
  const kind = wordAt(ctx, at + 1);
  if (kind !== 'DATA' && kind !== 'XML') return otherOutcome(ctx, at, to, verb, 'LOAD');
  let local = false;
  let table: TableRef | null = null;
  for (let i = at + 2; i < to; i++) {
    const w = wordAt(ctx, i);
    if (w === 'LOCAL') local = true;
    if (w === 'INTO' && wordAt(ctx, i + 1) === 'TABLE') {
      const name = qualifiedNameAt(ctx, i + 2);
      if (name !== null) table = tableRef(name.schema, name.name, null);
      break;
    }
  }
  addFinding(ctx, 'load_data', `LOAD ${kind}`, at, to);
  if (table === null) notUnderstood(ctx, 'LOAD DATA without INTO TABLE', at);
  return writeOutcome(verb, { kind: 'load_data', table, local }, table === null ? [] : [table]);
}
