/**
 * The shape of a corpus entry and the helpers used to write expectations.
 *
 * Expectations talk about text, not offsets: a span is written as the text it
 * must cover (`sql.slice(span.start, span.end)`), which keeps entries readable
 * and independent of whitespace edits elsewhere in the statement.
 *
 * Only the keys an entry gives are checked; see `project()` in
 * ../corpus.test.ts for how each key is compared.
 */
import type {
  SessionControl,
  StatementClass,
  TransactionControl,
  UnsafeReason,
  ValueKind,
} from '../../../src/sql/types.js';

/** A table as expected: compared exactly with the analyzer's TableRef. */
export interface TableSpec {
  readonly schema: string | null;
  readonly name: string;
  readonly alias: string | null;
}

/** One INSERT value: its kind, its text, and the global indexes of the `?` inside it. */
export interface ValueSpec {
  readonly kind: ValueKind;
  readonly text: string;
  readonly placeholders: readonly number[];
}

/** A clause as expected: its whole text (keyword included) and the `?` indexes inside it. */
export interface ClauseSpec {
  readonly text: string;
  readonly placeholders: readonly number[];
  /** When given: the clause text after its keyword(s), compared trimmed. */
  readonly body?: string;
}

/** One `column = value` assignment. */
export interface AssignmentSpec {
  readonly column: string;
  readonly qualifier: string | null;
  readonly value: ValueSpec;
}

export interface InsertSpec {
  readonly kind: 'insert' | 'replace';
  readonly ignore?: boolean;
  readonly form?: 'values' | 'set' | 'select';
  readonly table?: TableSpec;
  readonly columns?: readonly string[] | null;
  /** Text of the column list, parentheses included, or null when there is none. */
  readonly columnList?: string | null;
  /** `sql.slice(0, afterTable)` must end with this text (the table name, as written). */
  readonly textBeforeAfterTable?: string;
  /** `sql.slice(sourceStart)` must start with this text. */
  readonly sourceStartsWith?: string;
  readonly rowCount?: number | null;
  /** Each row's values. */
  readonly rows?: readonly (readonly ValueSpec[])[];
  /** Each row's text, parentheses included. */
  readonly rowTexts?: readonly string[];
  readonly set?: readonly AssignmentSpec[];
  readonly onDuplicateKeyUpdate?: {
    readonly text?: string;
    readonly placeholders?: readonly number[];
    readonly rowAlias?: string | null;
    readonly assignments?: readonly AssignmentSpec[];
  } | null;
}

export interface UpdateSpec {
  readonly kind: 'update';
  readonly ignore?: boolean;
  readonly multiTable?: boolean;
  readonly tables?: readonly TableSpec[];
  readonly set?: ClauseSpec;
  readonly assignments?: readonly AssignmentSpec[];
  readonly where?: ClauseSpec | null;
  readonly orderBy?: ClauseSpec | null;
  readonly limit?: ClauseSpec | null;
}

export interface DeleteSpec {
  readonly kind: 'delete';
  readonly ignore?: boolean;
  readonly multiTable?: boolean;
  readonly tables?: readonly TableSpec[];
  readonly referencedTables?: readonly TableSpec[];
  readonly where?: ClauseSpec | null;
  readonly orderBy?: ClauseSpec | null;
  readonly limit?: ClauseSpec | null;
}

export interface LoadDataSpec {
  readonly kind: 'load_data';
  readonly table?: TableSpec | null;
  readonly local?: boolean;
}

export interface SelectIntoSpec {
  readonly kind: 'select_into';
  readonly into?: 'variables' | 'outfile' | 'dumpfile';
}

export interface OpaqueSpec {
  readonly kind: 'opaque';
  readonly verb?: string;
  readonly tables?: readonly TableSpec[];
}

export type WriteSpec = InsertSpec | UpdateSpec | DeleteSpec | LoadDataSpec | SelectIntoSpec | OpaqueSpec;

export interface DdlSpec {
  readonly kind?: string;
  readonly tables?: readonly TableSpec[];
  readonly temporary?: boolean;
}

/** What an entry expects; every key is optional and only given keys are checked. */
export interface Expected {
  readonly class?: StatementClass;
  readonly verb?: string;
  readonly placeholderCount?: number;
  /** Text of each placeholder's position must be `?`; this gives their offsets exactly when needed. */
  readonly placeholders?: readonly number[];
  readonly multiStatement?: boolean;
  readonly primaryOnly?: boolean;
  readonly understood?: boolean;
  /** The exact set of unsafe reasons (order and repetition ignored). `[]` means safe. */
  readonly unsafe?: readonly UnsafeReason[];
  /** Reasons that must be among the findings (others may be there too); for cases the conventions leave open. */
  readonly unsafeIncludes?: readonly UnsafeReason[];
  /** When true: the class must not be `read` (for texts whose exact class the conventions leave open). */
  readonly notRead?: true;
  /** Exact list of `[reason, detail]` pairs, in order of appearance. Given for a few entries only. */
  readonly unsafeDetails?: readonly (readonly [UnsafeReason, string])[];
  /** Exact list of `[reason, text of span]` pairs, in order. Given for a few entries only. */
  readonly unsafeSpans?: readonly (readonly [UnsafeReason, string])[];
  readonly tablesRead?: readonly TableSpec[];
  readonly tablesWritten?: readonly TableSpec[];
  readonly write?: WriteSpec | null;
  readonly transaction?: TransactionControl | null;
  readonly session?: SessionControl | null;
  readonly ddl?: DdlSpec | null;
}

export interface CorpusEntry {
  readonly sql: string;
  readonly note?: string;
  readonly expect: Expected;
}

// ---------------------------------------------------------------------------
// Helpers for writing expectations.

/** A table reference: `T('users')`, `T('users', 'u')`, `T('db', 'User', null)`. */
export function T(name: string): TableSpec;
export function T(name: string, alias: string | null): TableSpec;
export function T(schema: string | null, name: string, alias: string | null): TableSpec;
export function T(a: string | null, b?: string | null, c?: string | null): TableSpec {
  if (c !== undefined) return { schema: a, name: b as string, alias: c };
  return { schema: null, name: a as string, alias: b ?? null };
}

/** A lone placeholder, with its global index. */
export const P = (index: number): ValueSpec => ({ kind: 'placeholder', text: '?', placeholders: [index] });
/** The DEFAULT keyword, as written. */
export const DEF = (text = 'DEFAULT'): ValueSpec => ({ kind: 'default', text, placeholders: [] });
/** The NULL keyword, as written. */
export const NUL = (text = 'NULL'): ValueSpec => ({ kind: 'null', text, placeholders: [] });
/** A single literal, as written. */
export const LIT = (text: string): ValueSpec => ({ kind: 'literal', text, placeholders: [] });
/** An expression, as written, with the indexes of the placeholders inside it. */
export const EXPR = (text: string, ...placeholders: number[]): ValueSpec => ({
  kind: 'expression',
  text,
  placeholders,
});

/** An assignment `column = value`, optionally qualified. */
export const A = (column: string, value: ValueSpec, qualifier: string | null = null): AssignmentSpec => ({
  column,
  qualifier,
  value,
});

/** A clause: its text and the indexes of its placeholders. */
export const C = (text: string, ...placeholders: number[]): ClauseSpec => ({ text, placeholders });

/** Build N rows of `?` placeholders, `width` values each, numbered from `first`. */
export function placeholderRows(rows: number, width: number, first = 0): ValueSpec[][] {
  const out: ValueSpec[][] = [];
  let next = first;
  for (let r = 0; r < rows; r++) {
    const row: ValueSpec[] = [];
    for (let c = 0; c < width; c++) row.push(P(next++));
    out.push(row);
  }
  return out;
}

/** Transaction-control shorthands. */
export const BEGIN = (readOnly = false, consistentSnapshot = false): TransactionControl => ({
  kind: 'begin',
  readOnly,
  consistentSnapshot,
});
export const COMMIT = (chain = false, release = false): TransactionControl => ({ kind: 'commit', chain, release });
export const ROLLBACK = (chain = false, release = false): TransactionControl => ({ kind: 'rollback', chain, release });
export const SAVEPOINT = (name: string): TransactionControl => ({ kind: 'savepoint', name });
export const ROLLBACK_TO = (name: string): TransactionControl => ({ kind: 'rollback_to_savepoint', name });
export const RELEASE = (name: string): TransactionControl => ({ kind: 'release_savepoint', name });
export const SET_TX = (scope: 'next' | 'session' | 'global' = 'next'): TransactionControl => ({
  kind: 'set_transaction',
  scope,
});
export const AUTOCOMMIT = (value: boolean | null): TransactionControl => ({ kind: 'set_autocommit', value });

/** Session-control shorthands. */
export const USE = (schema: string): SessionControl => ({ kind: 'use', schema });
export const SET_VARS = (variables: string[], global = false): SessionControl => ({ kind: 'set', variables, global });
