/**
 * The shapes the statement analyzer produces. Everything here is plain data:
 * an analysis is computed once per distinct SQL text, cached, and shared by
 * every caller that sends that text, so all of it is read-only.
 *
 * Offsets are UTF-16 code-unit offsets into the analyzed SQL string (what
 * `String.prototype.slice` takes), half-open: `sql.slice(span.start, span.end)`.
 * Placeholder indexes are 0-based positions in the statement's `?` sequence,
 * i.e. indexes into the values array the caller passes.
 *
 * @module
 */

/** A half-open range `[start, end)` of UTF-16 offsets into the analyzed SQL text. */
export interface Span {
  /** Offset of the first character. */
  readonly start: number;
  /** Offset just past the last character. */
  readonly end: number;
}

/**
 * What a statement does, which decides where the pool sends it.
 * - `read`: returns rows and changes nothing (SELECT, SHOW, DESCRIBE, EXPLAIN, a CTE ending in SELECT, TABLE, VALUES).
 * - `write`: changes rows (INSERT, REPLACE, UPDATE, DELETE, LOAD DATA, SELECT … INTO, a CTE ending in DML).
 * - `transaction`: transaction control (BEGIN, COMMIT, SAVEPOINT, SET autocommit, SET TRANSACTION, …).
 * - `session`: changes session state only (SET, USE).
 * - `ddl`: changes the schema (CREATE, ALTER, DROP, RENAME, TRUNCATE).
 * - `other`: anything else (CALL, DO, LOCK TABLES, XA, GRANT, FLUSH, statements the analyzer did not understand …).
 *   Such statements always carry {@link StatementAnalysis.unsafe} reasons when their effect is unknown.
 */
export type StatementClass = 'read' | 'write' | 'transaction' | 'session' | 'ddl' | 'other';

/** A table named by a statement, as written in it (identifier quoting removed). */
export interface TableRef {
  /** The schema qualifier (`db` in `db.t`), or `null` when the statement relies on the default database. */
  readonly schema: string | null;
  /** The table name. */
  readonly name: string;
  /** The alias given to the table in the statement (`t` in `orders AS t`), or `null`. */
  readonly alias: string | null;
}

/**
 * A reason the statement cannot be replayed on another server as text and be
 * certain to produce the same effect there. Follows MySQL's list of statements
 * unsafe for statement-based replication, plus `unknown` for anything the
 * analyzer did not fully understand (which is never treated as safe).
 */
export type UnsafeReason =
  /** NOW(), CURRENT_TIMESTAMP, SYSDATE(), CURDATE(), UTC_TIMESTAMP(), UNIX_TIMESTAMP() and the other clock functions. */
  | 'time_function'
  /** SYSDATE() specifically: unlike NOW() it is not fixed by `SET timestamp`, so pinning the session clock does not make it deterministic. */
  | 'sysdate'
  /** UUID(), UUID_SHORT(), SYS_GUID(). */
  | 'uuid'
  /** RAND() (without a constant seed, and even with one its sequence depends on row order). */
  | 'random'
  /** LAST_INSERT_ID() or ROW_COUNT() / FOUND_ROWS(): their value depends on the session's history. */
  | 'session_function'
  /** `@user` variables read or assigned: their values live in the session. */
  | 'user_variable'
  /** `@@system` variables read: the two servers may hold different values. */
  | 'system_variable'
  /** UPDATE / DELETE with LIMIT but no ORDER BY: which rows are hit depends on the execution plan. */
  | 'limit_without_order_by'
  /** INSERT … SELECT / REPLACE … SELECT / CREATE … SELECT: the rows come from a query of the primary's data. */
  | 'insert_select'
  /** INSERT … ON DUPLICATE KEY UPDATE: unsafe when the table has more than one unique key (the pool decides this with table metadata). */
  | 'on_duplicate_key_update'
  /** INSERT IGNORE / UPDATE IGNORE / DELETE IGNORE: which rows were skipped depends on the data on each side. */
  | 'ignore'
  /** REPLACE: which rows were deleted first depends on the data on each side. */
  | 'replace'
  /** UPDATE / DELETE naming several tables. */
  | 'multi_table'
  /** A subquery reading other data inside a write (WHERE id IN (SELECT …), SET x = (SELECT …)). */
  | 'subquery'
  /** LOAD DATA: reads a file only the client or the primary's server has. */
  | 'load_data'
  /** Functions whose result differs between servers or calls: CONNECTION_ID(), VERSION(), DATABASE(), USER(), GET_LOCK(), SLEEP(), NEXTVAL(), a stored function, … */
  | 'nondeterministic_function'
  /** A call of a function the analyzer does not know (likely a stored function): it may read or write anything. */
  | 'unknown_function'
  /** A `/*! … *\/` or `/*M! … *\/` executable comment in the statement: the server may run its content. */
  | 'executable_comment'
  /** More than one statement in one string. */
  | 'multiple_statements'
  /**
   * A column the statement leaves to the server is filled from the clock: DEFAULT CURRENT_TIMESTAMP on an
   * INSERT that omits it, or ON UPDATE CURRENT_TIMESTAMP on an UPDATE. Never found by the analyzer alone;
   * added by the schema layer, which knows the table's columns.
   */
  | 'time_default'
  /** The analyzer could not fully understand the statement. Always unsafe. */
  | 'unknown';

/** One unsafe construct found in a statement, with where it is. */
export interface UnsafeFinding {
  /** Why this construct is unsafe to replay as text. */
  readonly reason: UnsafeReason;
  /** The construct as written, upper-cased for function names (`NOW`, `UUID`, `@@session.x`, `LIMIT`). */
  readonly detail: string;
  /** Where the construct is in the SQL text. */
  readonly span: Span;
}

/** How a single value in an INSERT row is written, which tells replay whether a value was given for a column. */
export type ValueKind =
  /** A lone `?` placeholder. */
  | 'placeholder'
  /** The `DEFAULT` keyword. */
  | 'default'
  /** The `NULL` keyword. */
  | 'null'
  /** A single literal: a number (optionally signed), a string, a hex/bit literal, TRUE/FALSE. Its text is `sql.slice(span.start, span.end)`. */
  | 'literal'
  /** Anything else: an expression, a function call, several tokens. */
  | 'expression';

/** One value in one row of an INSERT/REPLACE … VALUES statement. */
export interface ValueSlot {
  /** Where the value's text is (trimmed of surrounding whitespace and comments). */
  readonly span: Span;
  /** How the value is written. */
  readonly kind: ValueKind;
  /** The indexes of the `?` placeholders inside this value, in order (one for kind `placeholder`). */
  readonly placeholders: readonly number[];
}

/** One row of an INSERT/REPLACE … VALUES statement. */
export interface InsertRow {
  /** From the opening `(` to the closing `)` inclusive. */
  readonly span: Span;
  /** The row's values in column order. */
  readonly values: readonly ValueSlot[];
}

/** One `column = value` assignment (UPDATE … SET, INSERT … SET, ON DUPLICATE KEY UPDATE). */
export interface Assignment {
  /** The column assigned, qualifier removed (`t.a` gives `a`). */
  readonly column: string;
  /** The qualifier of the column (`t` in `t.a`), or `null`. */
  readonly qualifier: string | null;
  /** The span of the value expression. */
  readonly value: ValueSlot;
}

/** A clause of a statement: where it is and which placeholders belong to it. */
export interface Clause {
  /** From the clause's keyword (`WHERE`, `ORDER`, `LIMIT`, `SET`) to its last token, inclusive. */
  readonly span: Span;
  /** Where the clause's body starts (after the keyword(s)). */
  readonly bodyStart: number;
  /** The indexes of the `?` placeholders inside the clause, in order. */
  readonly placeholders: readonly number[];
}

/** What the analyzer learned about an INSERT or REPLACE statement. */
export interface InsertAnalysis {
  /** `insert` or `replace`. */
  readonly kind: 'insert' | 'replace';
  /** INSERT IGNORE. */
  readonly ignore: boolean;
  /** How the rows are given: `VALUES (…)` (or `VALUE`), `SET a = …`, or a query (`SELECT`, `TABLE`, `WITH`, parenthesized). */
  readonly form: 'values' | 'set' | 'select';
  /** The table inserted into. */
  readonly table: TableRef;
  /** The column list as written, or `null` when the statement gives none (all columns, in table order). For form `set`, the assigned columns. */
  readonly columns: readonly string[] | null;
  /**
   * Where the column list is: from `(` to `)` inclusive, or `null` when there is none.
   * For an empty list `()` the span still covers both parentheses.
   */
  readonly columnListSpan: Span | null;
  /** Where a column list would go when there is none: just after the table name (and partition clause). */
  readonly afterTable: number;
  /** The rows of form `values` (empty for the other forms). */
  readonly rows: readonly InsertRow[];
  /** The assignments of form `set` (empty for the other forms). */
  readonly set: readonly Assignment[];
  /** Number of rows the statement inserts when known (form `values`: rows.length; form `set`: 1), or `null` for form `select`. */
  readonly rowCount: number | null;
  /** The row alias after the rows (`AS new` or `AS new(a, b)`, MySQL 8.0.19+), or `null`. */
  readonly rowAlias: RowAlias | null;
  /** The ON DUPLICATE KEY UPDATE clause, or `null`. */
  readonly onDuplicateKeyUpdate: OnDuplicateKeyUpdate | null;
  /** Where the row source starts: the `VALUES`/`VALUE`/`SET`/`SELECT`/`(` token. */
  readonly sourceStart: number;
}

/** The row alias of an INSERT: `VALUES (…) AS new [(a, b)]` or `SET … AS new`. */
export interface RowAlias {
  /** The alias. */
  readonly name: string;
  /** From `AS` to the end of the alias or of its column list. */
  readonly span: Span;
  /** The alias's column list, or `null` when it has none. */
  readonly columns: readonly string[] | null;
}

/** The ON DUPLICATE KEY UPDATE part of an INSERT. */
export interface OnDuplicateKeyUpdate {
  /** The whole clause, from `ON` to the end of the last assignment. */
  readonly clause: Clause;
  /** The row alias of MySQL 8.0.19+ (`new` in `VALUES (…) AS new ON DUPLICATE KEY UPDATE a = new.a`), or `null`. */
  readonly rowAlias: string | null;
  /** The assignments. */
  readonly assignments: readonly Assignment[];
}

/** What the analyzer learned about an UPDATE statement. */
export interface UpdateAnalysis {
  /** Always `update`. */
  readonly kind: 'update';
  /** UPDATE IGNORE. */
  readonly ignore: boolean;
  /** True when the statement names more than one table (joins or a comma list). */
  readonly multiTable: boolean;
  /** Every table named in the table reference (the first is the one written for a single-table UPDATE). */
  readonly tables: readonly TableRef[];
  /** The SET clause. */
  readonly set: Clause;
  /** The assignments of the SET clause. */
  readonly assignments: readonly Assignment[];
  /** The WHERE clause, or `null`. */
  readonly where: Clause | null;
  /** The ORDER BY clause, or `null`. */
  readonly orderBy: Clause | null;
  /** The LIMIT clause, or `null`. */
  readonly limit: Clause | null;
}

/** What the analyzer learned about a DELETE statement. */
export interface DeleteAnalysis {
  /** Always `delete`. */
  readonly kind: 'delete';
  /** DELETE IGNORE. */
  readonly ignore: boolean;
  /** True for `DELETE t1, t2 FROM …` and `DELETE FROM t1 USING …` forms, and joins. */
  readonly multiTable: boolean;
  /** The tables rows are deleted from (for single-table DELETE, the one table). */
  readonly tables: readonly TableRef[];
  /** Every table named in the FROM / USING part (multi-table forms), or the one table. */
  readonly referencedTables: readonly TableRef[];
  /** The WHERE clause, or `null`. */
  readonly where: Clause | null;
  /** The ORDER BY clause, or `null`. */
  readonly orderBy: Clause | null;
  /** The LIMIT clause, or `null`. */
  readonly limit: Clause | null;
}

/** What the analyzer learned about a LOAD DATA / LOAD XML statement. */
export interface LoadDataAnalysis {
  /** Always `load_data`. */
  readonly kind: 'load_data';
  /** The table loaded into, or `null` if it could not be found. */
  readonly table: TableRef | null;
  /** LOAD DATA LOCAL (the file is on the client). */
  readonly local: boolean;
}

/** What the analyzer learned about `SELECT … INTO @var / OUTFILE / DUMPFILE`. */
export interface SelectIntoAnalysis {
  /** Always `select_into`. */
  readonly kind: 'select_into';
  /** What the rows are written into. */
  readonly into: 'variables' | 'outfile' | 'dumpfile';
}

/** A write statement the analyzer classified but could not take apart (for example a CTE ending in DML). */
export interface OpaqueWriteAnalysis {
  /** Always `opaque`. */
  readonly kind: 'opaque';
  /** The statement keyword that makes it a write (`INSERT`, `UPDATE`, `DELETE`, `REPLACE`). */
  readonly verb: string;
  /** The tables the analyzer could see being written, possibly empty. */
  readonly tables: readonly TableRef[];
}

/** The details of a write statement. */
export type WriteAnalysis =
  | InsertAnalysis
  | UpdateAnalysis
  | DeleteAnalysis
  | LoadDataAnalysis
  | SelectIntoAnalysis
  | OpaqueWriteAnalysis;

/** The transaction-control statements, as the pool must track them. */
export type TransactionControl =
  | {
      /** BEGIN [WORK] / START TRANSACTION. */
      readonly kind: 'begin';
      /** START TRANSACTION READ ONLY. */
      readonly readOnly: boolean;
      /** START TRANSACTION WITH CONSISTENT SNAPSHOT. */
      readonly consistentSnapshot: boolean;
    }
  | {
      /** COMMIT [WORK] [AND [NO] CHAIN] [[NO] RELEASE]. */
      readonly kind: 'commit';
      /** AND CHAIN: a new transaction starts at once. */
      readonly chain: boolean;
      /** RELEASE: the server closes the connection. */
      readonly release: boolean;
    }
  | {
      /** ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE]. */
      readonly kind: 'rollback';
      /** AND CHAIN: a new transaction starts at once. */
      readonly chain: boolean;
      /** RELEASE: the server closes the connection. */
      readonly release: boolean;
    }
  | {
      /** SAVEPOINT name. */
      readonly kind: 'savepoint';
      /** The savepoint's name. */
      readonly name: string;
    }
  | {
      /** ROLLBACK [WORK] TO [SAVEPOINT] name. */
      readonly kind: 'rollback_to_savepoint';
      /** The savepoint's name. */
      readonly name: string;
    }
  | {
      /** RELEASE SAVEPOINT name. */
      readonly kind: 'release_savepoint';
      /** The savepoint's name. */
      readonly name: string;
    }
  | {
      /** SET autocommit = 0 | 1 (also `SET @@autocommit`, `SET SESSION autocommit`, ON/OFF). */
      readonly kind: 'set_autocommit';
      /** The new value, or `null` when it is an expression the analyzer cannot evaluate. */
      readonly value: boolean | null;
    }
  | {
      /** SET [GLOBAL | SESSION] TRANSACTION ISOLATION LEVEL … / READ ONLY / READ WRITE. */
      readonly kind: 'set_transaction';
      /** The scope keyword: `next` when none is given (applies to the next transaction only). */
      readonly scope: 'next' | 'session' | 'global';
    };

/** Session-state statements. */
export type SessionControl =
  | {
      /** USE db: changes the default database, which decides what unqualified table names mean. */
      readonly kind: 'use';
      /** The new default database. */
      readonly schema: string;
    }
  | {
      /** SET of session or global variables (not autocommit or TRANSACTION, which are transaction control). */
      readonly kind: 'set';
      /** The variables assigned, lower-cased, without `@@` and scope (`sql_mode`, `names`, `@x` for user variables). */
      readonly variables: readonly string[];
      /** True when a GLOBAL or PERSIST variable is assigned. */
      readonly global: boolean;
    };

/** What a DDL statement changes. */
export interface DdlAnalysis {
  /** The verb and object, lower-cased: `create table`, `alter table`, `drop table`, `rename table`, `truncate table`, `create index`, `drop index`, `create database`, `create view`, … */
  readonly kind: string;
  /** The tables created, altered or dropped (both names of a RENAME). Empty when the object is not a table. */
  readonly tables: readonly TableRef[];
  /** CREATE TEMPORARY TABLE / DROP TEMPORARY TABLE: the table lives in the session only. */
  readonly temporary: boolean;
}

/**
 * Everything the analyzer learned about one SQL text. Computed once per
 * distinct text and shared; never mutate it.
 */
export interface StatementAnalysis {
  /** What the statement does; decides routing. */
  readonly class: StatementClass;
  /**
   * The statement's first keyword, lower-cased: `select`, `insert`, `replace`, `update`, `delete`,
   * `with`, `begin`, `start`, `commit`, `set`, `create`, `show`, `call`, … (the details are in
   * {@link StatementAnalysis.write}, {@link StatementAnalysis.transaction}, {@link StatementAnalysis.ddl});
   * `empty` for a text with no statement in it (only whitespace, comments or `;`);
   * `''` when the text starts with something that is not a keyword (it is then `other`, not understood).
   */
  readonly verb: string;
  /** Number of `?` placeholders in code position. */
  readonly placeholderCount: number;
  /** The offset of each `?` placeholder, in order. */
  readonly placeholders: readonly number[];
  /**
   * True when the text holds more than one statement (a `;` followed by more code).
   * A single trailing `;` does not count.
   */
  readonly multiStatement: boolean;
  /**
   * For reads: true when the read must run on the primary side of the connection's transaction or session
   * (SELECT … FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE, LAST_INSERT_ID(), GET_LOCK() …). Always false for other classes.
   */
  readonly primaryOnly: boolean;
  /** The tables the statement reads from, where the analyzer could tell (best effort; used for read routing). */
  readonly tablesRead: readonly TableRef[];
  /** For writes, the tables written. For DDL, the tables changed. Otherwise empty. */
  readonly tablesWritten: readonly TableRef[];
  /** Details of a write, or `null` when {@link StatementAnalysis.class} is not `write`. */
  readonly write: WriteAnalysis | null;
  /** Details of a transaction-control statement, or `null`. */
  readonly transaction: TransactionControl | null;
  /** Details of a session statement, or `null`. */
  readonly session: SessionControl | null;
  /** Details of a DDL statement, or `null`. */
  readonly ddl: DdlAnalysis | null;
  /**
   * Every construct that makes the statement unsafe to replay as text, in order of appearance.
   * Empty means the statement text alone determines its effect (given the same data and schema).
   */
  readonly unsafe: readonly UnsafeFinding[];
  /** True when the analyzer fully understood the statement's structure (no `unknown` finding). */
  readonly understood: boolean;
}
