/**
 * The shapes of row-image replay: what planning takes and returns, what the
 * locking read before the statement and the read after it return, and the
 * image applied to the secondary side. All plain, read-only data.
 *
 * @module
 */
import type { ExactRow } from '../migrate/codec.js';
import type { ServerSettings, TableMetadata } from '../schema/types.js';
import type { StatementAnalysis, TableRef } from '../sql/types.js';

/**
 * What row-image replay needs from a connection: a mysql2/promise `PoolConnection` or
 * `Connection` fits as is (structural type; this folder never loads mysql2).
 */
export interface SqlRunner {
  /** Runs a statement with `?` placeholders bound to `values`; resolves to `[rows or result header, fields]`. */
  query(options: { sql: string; values?: unknown; typeCast?: unknown; rowsAsArray?: boolean }): Promise<[unknown, unknown]>;
}

/** A table as the statement names it: replay on the secondary side uses the same qualification. */
export interface RowImageTable {
  /** The schema qualifier as written, or `null` when the statement relies on the default database. */
  readonly schema: string | null;
  /** The table name as written. */
  readonly name: string;
}

import type { KeyTuple, SqlFragment } from '../migrate/keyset.js';
export type { KeyTuple, SqlFragment };

/** Default of {@link RowImagePlanInput.maxRows}. */
export const DEFAULT_ROW_IMAGE_MAX_ROWS = 10_000;

/** Looks up the metadata of a table a statement names (used for multi-table UPDATE/DELETE). */
export type TableMetadataLookup = (table: TableRef) => TableMetadata | null | undefined;

/** What {@link planRowImage} takes. */
export interface RowImagePlanInput {
  /** The statement the primary side runs. */
  readonly sql: string;
  /** `analyze(sql)`. */
  readonly analysis: StatementAnalysis;
  /** The values the statement is sent with (`undefined` for plain text). */
  readonly values: readonly unknown[] | undefined;
  /**
   * Metadata of the table written: for a multi-table statement, of the first table it names
   * (`analysis.tablesWritten[0]`).
   */
  readonly table: TableMetadata;
  /**
   * Server settings of the primary side: `autoIncrementIncrement` (the step between generated IDs),
   * `innodbAutoincLockMode` (2 may interleave IDs of concurrent statements) and `sqlMode`
   * (NO_AUTO_VALUE_ON_ZERO). Use the values of the session that runs the statement.
   */
  readonly settings: Pick<ServerSettings, 'autoIncrementIncrement' | 'innodbAutoincLockMode' | 'sqlMode'>;
  /**
   * Metadata of the other tables a multi-table UPDATE/DELETE names (every table of its table
   * references, so that unqualified assigned columns can be placed). Without it, or when it
   * returns nothing for a table needed, a multi-table statement is unplannable (`missing_metadata`).
   */
  readonly tables?: TableMetadataLookup;
  /**
   * The most rows a plan may lock and read per statement; beyond it {@link lockBefore} /
   * {@link readAfter} report `too_many_rows` instead of reading further.
   * @defaultValue {@link DEFAULT_ROW_IMAGE_MAX_ROWS}
   */
  readonly maxRows?: number;
}

/** Why a statement cannot be replayed by row image. */
export type RowImageUnplannableReason =
  /** Not an INSERT, REPLACE, UPDATE or DELETE the analyzer took apart (SELECT … INTO, a CTE ending in DML, DDL, …). */
  | 'not_row_write'
  /** LOAD DATA: the rows come from a file; which keys it writes is unknown before it runs. */
  | 'load_data'
  /** The analyzer did not fully understand the statement, or it holds an executable comment or several statements. */
  | 'not_understood'
  /** The `?` placeholders of the text and the values do not agree (missing values, `??`, a `?` inside a string or name). */
  | 'placeholder_mismatch'
  /** A table written has no primary key: rows cannot be addressed on the secondary side. */
  | 'no_primary_key'
  /** A unique-key value of an inserted row is an expression (or a default that is one), so the rows it may conflict with cannot be found before. */
  | 'unique_key_expression'
  /** The auto-increment values cannot be told apart (generated or given) for some row, or lock mode 2 may scatter them. */
  | 'auto_increment_undecided'
  /** The statement assigns a primary-key column: the row would move to a key that was not locked. */
  | 'primary_key_assigned'
  /** A multi-table statement's parts could not be placed (which table an assigned column belongs to, its table references). */
  | 'multi_table_unresolved'
  /** Metadata of a table a multi-table statement writes (or reads an assigned column from) was not given. */
  | 'missing_metadata'
  /** INSERT … SELECT whose inserted rows cannot be found afterwards (no generated IDs, primary key not in the column list, or conflicts possible). */
  | 'insert_select_keys_unknown';

/** A statement that cannot be replayed by row image, and why. */
export interface RowImageUnplannable {
  /** Always `unplannable`. */
  readonly kind: 'unplannable';
  /** Why, as a stable code. */
  readonly reason: RowImageUnplannableReason;
  /** What exactly, for people (names no value of the statement). */
  readonly message: string;
}

/** One table a planned statement writes. */
export interface RowImageTarget {
  /** The table as the statement names it. */
  readonly table: RowImageTable;
  /** Its primary-key column names, in key order. */
  readonly primaryKey: readonly string[];
  /** The columns an image writes: every column that is not generated, in table order. */
  readonly columns: readonly string[];
  /** Its metadata. */
  readonly metadata: TableMetadata;
}

/** The generated auto-increment IDs an INSERT … VALUES may have produced. */
export interface GeneratedIdCandidates {
  /** The auto-increment column. */
  readonly column: string;
  /** G: the rows whose ID the server generated. */
  readonly rows: number;
  /** `auto_increment_increment`. */
  readonly step: number;
  /**
   * Explicit IDs written before a generated row: the counter jumps past such an ID, so the rows
   * generated after it are looked for in (id, id + G·step] too.
   */
  readonly after: readonly bigint[];
}

/**
 * How a plan finds the rows a statement touches (internal to row-image replay; the caller
 * only passes it on).
 * - `where`: a locking read with the statement's own table references and clauses (UPDATE, DELETE).
 * - `unique_keys`: rows matching any unique key of any new row, plus generated IDs (INSERT/REPLACE … VALUES/SET).
 * - `insert_select_generated`: INSERT … SELECT whose rows get generated IDs: the ID range after the fact.
 * - `insert_select_keys`: INSERT … SELECT giving the key columns: its SELECT is run first to learn the keys.
 */
export type RowImageStrategy =
  | {
      readonly kind: 'where';
      /** `SELECT <keys of every target> FROM … WHERE … FOR UPDATE`. */
      readonly select: SqlFragment;
      /** UPDATE or DELETE (how `affectedRows` is checked). */
      readonly verb: 'update' | 'delete';
    }
  | {
      readonly kind: 'unique_keys';
      /** One predicate per (new row, unique key), OR-ed in batches. */
      readonly disjuncts: readonly SqlFragment[];
      /** Generated-ID candidates, or `null` when no row's ID is generated. */
      readonly generated: GeneratedIdCandidates | null;
      /** Plain INSERT or INSERT IGNORE: every inserted row is new, so at least `affectedRows` new rows must be found. */
      readonly countInserted: boolean;
    }
  | {
      readonly kind: 'insert_select_generated';
      /** The auto-increment column. */
      readonly column: string;
      /** `auto_increment_increment`. */
      readonly step: number;
    }
  | {
      readonly kind: 'insert_select_keys';
      /** The statement's SELECT part, to run before it. */
      readonly select: SqlFragment;
      /** The insert column each output column of the SELECT goes to. */
      readonly insertColumns: readonly string[];
    };

/** A statement that can be replayed by row image, and how. */
export interface RowImagePlan {
  /** Always `row_image`. */
  readonly kind: 'row_image';
  /** The statement's verb. */
  readonly verb: 'insert' | 'replace' | 'update' | 'delete';
  /** The tables written (one, except for multi-table UPDATE/DELETE). */
  readonly targets: readonly RowImageTarget[];
  /** How the rows are found. */
  readonly strategy: RowImageStrategy;
  /** {@link RowImagePlanInput.maxRows}. */
  readonly maxRows: number;
}

/** What {@link planRowImage} returns. */
export type RowImagePlanResult = RowImagePlan | RowImageUnplannable;

/**
 * Why a locked or read image cannot be applied as a complete replay. The caller records the
 * statement for repair (with the keys known, if any) instead of applying the image.
 * - `too_many_rows`: more than `maxRows` rows would be locked or read.
 * - `count_mismatch`: the rows found do not account for the statement's `affectedRows`
 *   (rows it touched were not locked, e.g. IDs interleaved or data changed under READ COMMITTED).
 * - `insert_id`: rows got generated IDs but the result's `insertId` is missing or imprecise.
 * - `unexpected_rows`: an INSERT … SELECT's SELECT returned rows whose keys cannot be used (NULL or generated keys).
 */
export interface RowImageProblem {
  /** What went wrong, as a stable code. */
  readonly kind: 'too_many_rows' | 'count_mismatch' | 'insert_id' | 'unexpected_rows';
  /** What exactly, for people. */
  readonly message: string;
  /** For `count_mismatch`: the count the statement reported. */
  readonly expected?: number;
  /** For `count_mismatch`: the count found; for `too_many_rows`: the limit. */
  readonly found?: number;
}

/** The result of {@link lockBefore}: the keys locked, per target, before the statement runs. */
export interface RowImageBefore {
  /** The keys locked, one list per {@link RowImagePlan.targets} entry. */
  readonly keys: readonly (readonly KeyTuple[])[];
  /** Set when the image cannot be complete; then {@link readAfter} returns it without reading. */
  readonly problem: RowImageProblem | null;
  /** INSERT … SELECT with keys: the predicates built from the SELECT's rows, and how many rows it returned. */
  readonly selected: { readonly disjuncts: readonly SqlFragment[]; readonly rows: number } | null;
}

/** What the statement's result tells the read after it (mysql2's `ResultSetHeader`). */
export interface WriteResult {
  /** The first generated auto-increment ID (mysql2 gives IDs above 2^63 as negative numbers or strings). */
  readonly insertId?: number | bigint | string | null;
  /** Rows affected (matched, for an UPDATE over a connection with mysql2's default FOUND_ROWS flag). */
  readonly affectedRows?: number;
}

/** The rows one table holds after the statement, by primary key. */
export interface TableRowImage {
  /** The table as the statement names it. */
  readonly table: RowImageTable;
  /** Primary-key column names. */
  readonly primaryKey: readonly string[];
  /** The columns of {@link TableRowImage.rows}: every non-generated column, in table order. */
  readonly columns: readonly string[];
  /** The rows that exist, with exact values of {@link TableRowImage.columns}. */
  readonly rows: readonly ExactRow[];
  /** The primary key of each row of {@link TableRowImage.rows}. */
  readonly rowKeys: readonly KeyTuple[];
  /** Keys locked before the statement whose rows no longer exist. */
  readonly deletedKeys: readonly KeyTuple[];
  /** Metadata used to write the values back. */
  readonly metadata: TableMetadata;
}

/** The rows a statement left on the primary side, to apply on the secondary side. */
export interface RowImage {
  /** One entry per table written. */
  readonly tables: readonly TableRowImage[];
  /** Set when the image is not complete: do not apply it as a replay; record it for repair. */
  readonly problem: RowImageProblem | null;
  /**
   * INSERT / REPLACE: the rows found that were not locked before the statement — the inserted rows,
   * plus (for INSERT … VALUES) rows of the ID range around `insertId` that already existed, so a
   * superset; exact for INSERT … SELECT with generated IDs. `readAfter` has already compared it with
   * `affectedRows` where that is meaningful and reported a shortfall in `problem`. `null` for UPDATE/DELETE.
   */
  readonly insertedRowsFound: number | null;
}
