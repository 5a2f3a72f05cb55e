/**
 * Errors raised by dualwrite itself. Errors of the databases (mysql2 error
 * objects) reach the caller unchanged; these classes cover what the library
 * decides on its own. Each has a stable `code` to branch on, and a message
 * that says what happened, why, and what to do.
 *
 * @module
 */

/** Options accepted by every {@link DualWriteError} constructor. */
export interface DualWriteErrorOptions {
  /** The underlying error, if any (kept as the standard `Error.cause`). */
  cause?: unknown;
}

/**
 * Base class of every error dualwrite raises itself.
 *
 * Branch on `code` (stable across versions), not on the message or the class name.
 */
export class DualWriteError extends Error {
  /** Stable machine-readable code, e.g. `ER_DUALWRITE_TABLE_NOT_FOUND`. */
  readonly code: string;

  /**
   * @param code - stable code, `ER_DUALWRITE_*`
   * @param message - what happened, why, and what to do
   * @param options - `cause`: the underlying error
   */
  constructor(code: string, message: string, options?: DualWriteErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * A table's metadata was requested but information_schema does not list the table.
 *
 * Code `ER_DUALWRITE_TABLE_NOT_FOUND`.
 */
export class TableNotFoundError extends DualWriteError {
  /** The schema (database) that was searched. */
  readonly schema: string;
  /** The table that was not found. */
  readonly table: string;

  /**
   * @param schema - database searched
   * @param table - table not found
   * @param options - `cause`: the underlying error
   */
  constructor(schema: string, table: string, options?: DualWriteErrorOptions) {
    super(
      'ER_DUALWRITE_TABLE_NOT_FOUND',
      `Table \`${schema}\`.\`${table}\` was not found in information_schema, so its columns and keys are unknown. ` +
        'Check the spelling (table names are case-sensitive unless lower_case_table_names is 1 or 2), that the table exists ' +
        'on this side, and that the connecting user has a privilege on it (information_schema hides tables the user cannot see).',
      options,
    );
    this.schema = schema;
    this.table = table;
  }
}

/**
 * Reading metadata (table structure or server settings) from the database failed.
 * The database error is in `cause`.
 *
 * Code `ER_DUALWRITE_METADATA_LOAD_FAILED`.
 */
export class MetadataLoadError extends DualWriteError {
  /**
   * @param what - what was being read, e.g. "the columns of `shop`.`orders`"
   * @param options - `cause`: the database error
   */
  constructor(what: string, options?: DualWriteErrorOptions) {
    const cause = options?.cause;
    const reason = cause instanceof Error ? cause.message : typeof cause === 'string' ? cause : 'unknown error';
    super(
      'ER_DUALWRITE_METADATA_LOAD_FAILED',
      `Could not read ${what}: ${reason}. dualwrite needs this metadata to replay writes exactly. ` +
        'Check that the database is reachable and that the user may SELECT from information_schema; the error is retried on the next request.',
      options,
    );
  }
}
