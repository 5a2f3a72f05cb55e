/**
 * Errors raised by dualwrite itself. Errors of the databases (mysql2 error
 * objects) reach the caller unchanged; these classes cover what the library
 * decides on its own. Each has a stable `code` to branch on, and a message
 * that says what happened, why, and what to do.
 *
 * @module
 */
import type { SwitchReport } from './mode/redis-mode-controller.js';

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

/** Renders an outside value for an error message: strings quoted, long values cut. */
function renderValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value === undefined) text = 'undefined';
  else if (typeof value === 'bigint') text = `${value}n`;
  else if (typeof value === 'function') text = 'a function';
  else if (typeof value === 'symbol') text = value.toString();
  else {
    try {
      const json: string | undefined = JSON.stringify(value);
      text = json ?? Object.prototype.toString.call(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A value that should name a mode does not.
 *
 * Code `ER_DUALWRITE_INVALID_MODE`.
 */
export class InvalidModeError extends DualWriteError {
  /** The value that was read. */
  readonly value: unknown;
  /** Where the value came from (an option, a flag provider, a config key). */
  readonly where: string;

  /**
   * @param value - the value that is not a mode
   * @param where - where it came from, e.g. `"the PollingFlagProvider read() function"`
   * @param validModes - the modes accepted, in migration order
   * @param options - `cause`: the underlying error
   */
  constructor(value: unknown, where: string, validModes: readonly string[], options?: DualWriteErrorOptions) {
    super(
      'ER_DUALWRITE_INVALID_MODE',
      `Invalid mode ${renderValue(value)} from ${where}: a mode must be one of ${validModes.join(', ')}. ` +
        'The value was not applied. Fix it where it is set (exact spelling, lower case).',
      options,
    );
    this.value = value;
    this.where = where;
  }
}

/**
 * Reading the mode from a flag provider's source (a config center, a file, a
 * user function) failed. The underlying error is in `cause`.
 *
 * Code `ER_DUALWRITE_FLAG_LOAD_FAILED`.
 */
export class FlagLoadError extends DualWriteError {
  /**
   * @param what - what was being read, e.g. "the mode from the PollingFlagProvider read() function"
   * @param consequence - what dualwrite did about it, e.g. "The mode in force (source_first) stays until a read succeeds."
   * @param options - `cause`: the underlying error
   */
  constructor(what: string, consequence: string, options?: DualWriteErrorOptions) {
    const cause = options?.cause;
    const reason = cause instanceof Error ? cause.message : cause === undefined ? 'unknown error' : renderValue(cause);
    super(
      'ER_DUALWRITE_FLAG_LOAD_FAILED',
      `Could not read ${what}: ${reason}. ${consequence} ` +
        'Check that the flag source is reachable and holds one of source_only, source_first, target_first, target_only.',
      options,
    );
  }
}

/**
 * A flag provider was asked for the mode before it had one: it loads its first
 * value in `start()`, which was not called or has not finished.
 *
 * Code `ER_DUALWRITE_FLAGS_NOT_READY`.
 */
export class FlagsNotReadyError extends DualWriteError {
  /**
   * @param provider - the provider's name, e.g. "PollingFlagProvider"
   */
  constructor(provider: string) {
    super(
      'ER_DUALWRITE_FLAGS_NOT_READY',
      `${provider} has no mode yet: its first read happens in start(), which has not completed. ` +
        'Await provider.start() before creating the pool, or give the provider an `initial` mode to use until the first read succeeds.',
    );
  }
}

/**
 * An operation was attempted on (or was waiting on) something that has been closed.
 *
 * Code `ER_DUALWRITE_CLOSED`.
 */
export class ClosedError extends DualWriteError {
  /**
   * @param what - what was closed and what did not happen, e.g. "The mode gate was closed while this write waited for a mode switch"
   * @param advice - what to do, e.g. "The write was not sent; retry it on a new pool."
   * @param options - `cause`: the underlying error
   */
  constructor(what: string, advice: string, options?: DualWriteErrorOptions) {
    super('ER_DUALWRITE_CLOSED', `${what}. ${advice}`, options);
  }
}

/**
 * An option passed to a dualwrite constructor or function is out of range or of the wrong type.
 *
 * Code `ER_DUALWRITE_INVALID_OPTION`.
 */
export class InvalidOptionError extends DualWriteError {
  /** The option's name, e.g. `intervalMs`. */
  readonly option: string;

  /**
   * @param option - the option's name, qualified by its owner, e.g. "PollingFlagProvider intervalMs"
   * @param value - the value given
   * @param expected - what is accepted, e.g. "a positive number of milliseconds"
   */
  constructor(option: string, value: unknown, expected: string) {
    super(
      'ER_DUALWRITE_INVALID_OPTION',
      `Invalid option ${option}: ${renderValue(value)}; expected ${expected}. Nothing was created; pass a valid value.`,
    );
    this.option = option;
  }
}

/**
 * A replay on the secondary side could not be planned from the inputs dualwrite's own replay planning gave:
 * for example, a number of generated auto-increment IDs that does not match the rows whose ID the server
 * generated, or an ID that is not a positive integer. This is a dualwrite bug, never a problem of the caller's
 * statement; the statement is not replayed with made-up or missing IDs.
 *
 * Code `ER_DUALWRITE_REPLAY_PLAN`.
 */
export class ReplayPlanError extends DualWriteError {
  /** What did not fit, e.g. "2 generated IDs were given for 3 rows …". */
  readonly problem: string;

  /**
   * @param problem - what did not fit, without any value of the caller's statement
   * @param options - `cause`: the underlying error
   */
  constructor(problem: string, options?: DualWriteErrorOptions) {
    super(
      'ER_DUALWRITE_REPLAY_PLAN',
      `Could not plan the statement replay of a write on the secondary side: ${problem}. ` +
        'Replaying it anyway could give the secondary side other values than the primary side (IDs it numbers itself, ' +
        'values computed again), so it is not replayed as a statement. ' +
        'This is a dualwrite bug, not a problem with your statement: please report it with the statement text (values removed) ' +
        'and the CREATE TABLE of the table written.',
      options,
    );
    this.problem = problem;
  }
}

/**
 * A write was refused before it ran, because in a dual-write mode its effect could not be reproduced on the
 * secondary side under the configured policy (`unsafeStatements: 'reject'`, or an unreplayable statement
 * under `unreplayableStatements: 'reject'`). Nothing was run on either side.
 *
 * Code `ER_DUALWRITE_UNSAFE_STATEMENT`.
 */
export class UnsafeStatementError extends DualWriteError {
  /** Why the statement cannot be replayed exactly, e.g. "INSERT … SELECT (insert_select)". */
  readonly reason: string;
  /** The statement text as the caller sent it (values are not included). */
  readonly sql: string;

  /**
   * @param sql - the statement text, without values
   * @param reason - why it cannot be replayed exactly
   * @param option - the option that decides this, with the value that would let it run, e.g. "unsafeStatements: 'row_image'"
   */
  constructor(sql: string, reason: string, option: string) {
    super(
      'ER_DUALWRITE_UNSAFE_STATEMENT',
      `Refused to run a write in a dual-write mode: ${reason}, so replaying it on the secondary side would not reproduce ` +
        `its effect exactly, and the current policy refuses such statements. Nothing was run on either side. ` +
        `Rewrite the statement (for example: give explicit values instead of functions, add ORDER BY to UPDATE/DELETE … LIMIT), ` +
        `or set ${option}. Statement: ${excerpt(sql)}`,
    );
    this.reason = reason;
    this.sql = sql;
  }
}

/**
 * A schema change (CREATE/ALTER/DROP/RENAME/TRUNCATE …) was sent through the pool in a dual-write mode while
 * the `ddl` option is `'refuse'` (the default). Applying it to one side only would leave the two schemas
 * different, so it was run on neither.
 *
 * Code `ER_DUALWRITE_DDL_REFUSED`.
 */
export class DdlRefusedError extends DualWriteError {
  /** The statement text. */
  readonly sql: string;

  /**
   * @param sql - the DDL statement
   * @param kind - what it changes, e.g. `alter table`
   */
  constructor(sql: string, kind: string) {
    super(
      'ER_DUALWRITE_DDL_REFUSED',
      `Refused to run ${kind.toUpperCase()} through the dual-write pool: in a dual-write mode a schema change must reach both ` +
        `sides or neither, and the pool's \`ddl\` option is 'refuse'. Nothing was run on either side. Run the change on both ` +
        `databases with your migration tool, or create the pool with \`ddl: 'both'\` to apply such statements to the primary ` +
        `side and then the secondary side. Statement: ${excerpt(sql)}`,
    );
    this.sql = sql;
  }
}

/**
 * The secondary side failed to apply a write and the pool runs with `strict: true`, so the caller is failed
 * instead of the failure going to the repair log only. In an autocommit write the primary side's change was
 * rolled back; inside a transaction, the transaction is still open on the primary side and the caller decides
 * (ROLLBACK is the safe choice: its replay on the secondary side is incomplete).
 *
 * Code `ER_DUALWRITE_REPLAY_FAILED`.
 */
export class ReplayFailedError extends DualWriteError {
  /** The side that failed: `source` or `target`. */
  readonly side: string;

  /**
   * @param side - the secondary side that failed
   * @param what - what failed, e.g. "the replay of an UPDATE on `orders`"
   * @param options - `cause`: the secondary side's error
   */
  constructor(side: string, what: string, options?: DualWriteErrorOptions) {
    super(
      'ER_DUALWRITE_REPLAY_FAILED',
      `The secondary side (${side}) failed to apply ${what}: ${describeCause(options?.cause)}. The pool runs with strict: true, ` +
        'so the caller is failed instead of only recording the failure in the repair log. Check the secondary server and its ' +
        'schema; create the pool without strict to keep the primary side serving while the repair log collects such failures.',
      options,
    );
    this.side = side;
  }
}

/** The first 200 characters of a statement, for error messages. */
function excerpt(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
  }
  return String(cause);
}

/**
 * A statement replay on the secondary side ran without error but changed a different number of rows than on the
 * primary side: the two sides already held different data for the rows the statement touched. The write is in the
 * repair log (the primary side stays the source of truth); this error is what the `replayFailure` event carries.
 *
 * Code `ER_DUALWRITE_DIVERGENCE`.
 */
export class ReplayDivergenceError extends DualWriteError {
  /** Rows the primary side affected. */
  readonly primaryAffectedRows: number;
  /** Rows the secondary side affected. */
  readonly secondaryAffectedRows: number;

  /**
   * @param primaryAffectedRows - affectedRows on the primary side
   * @param secondaryAffectedRows - affectedRows on the secondary side
   */
  constructor(primaryAffectedRows: number, secondaryAffectedRows: number) {
    super(
      'ER_DUALWRITE_DIVERGENCE',
      `The replay affected ${secondaryAffectedRows} row(s) on the secondary side but the write affected ${primaryAffectedRows} on the ` +
        'primary side: the two sides held different rows before it. The write is in the repair log; run the repair tool ' +
        '(or a verification) for this table to make the secondary side equal to the primary side again.',
    );
    this.primaryAffectedRows = primaryAffectedRows;
    this.secondaryAffectedRows = secondaryAffectedRows;
  }
}

/**
 * The secondary side did not answer a replay within `replayTimeoutMs`. The write is in the repair log.
 *
 * Code `ER_DUALWRITE_REPLAY_TIMEOUT`.
 */
export class ReplayTimeoutError extends DualWriteError {
  /**
   * @param side - the secondary side
   * @param timeoutMs - the limit that passed
   */
  constructor(side: string, timeoutMs: number) {
    super(
      'ER_DUALWRITE_REPLAY_TIMEOUT',
      `The secondary side (${side}) did not apply the replay within ${timeoutMs} ms (replayTimeoutMs), so the pool stopped waiting ` +
        'to keep the primary side serving. The write is in the repair log. Check the secondary server (load, locks, network); ' +
        'raise replayTimeoutMs if such waits are expected.',
    );
  }
}

/**
 * The secondary side's circuit breaker is open: after repeated failures the pool does not wait on that side,
 * and the write goes to the repair log without a replay attempt. The breaker lets one write probe the side
 * again after a pause and closes when it succeeds. Carried by `replayFailure` events and repair-log rows.
 *
 * Code `ER_DUALWRITE_CIRCUIT_OPEN`.
 */
export class CircuitOpenError extends DualWriteError {
  /** @param side - the secondary side */
  constructor(side: string) {
    super(
      'ER_DUALWRITE_CIRCUIT_OPEN',
      `The replay was not attempted: the circuit breaker of the secondary side (${side}) is open after repeated failures. ` +
        'The write is in the repair log. Check the secondary server; replay resumes by itself once a probe succeeds.',
    );
  }
}

/**
 * `INSERT IGNORE` changed a value instead of only skipping a duplicate row: the server reported more
 * warnings than rows it skipped (a value truncated, out of range, or a zero date the target's
 * `sql_mode` forbids, which IGNORE turns from an error into a changed value).
 *
 * Code `ER_DUALWRITE_COPY_CHANGED_VALUE`.
 */
export class CopyChangedValueError extends DualWriteError {
  /** The table written. */
  readonly table: string;

  /**
   * @param table - the table written
   * @param detail - the server's warnings
   * @param options - `cause`: the underlying error
   */
  constructor(table: string, detail: string, options?: DualWriteErrorOptions) {
    super(
      'ER_DUALWRITE_COPY_CHANGED_VALUE',
      `Copying rows into \`${table}\` changed a value on the target instead of copying it exactly (${detail}). ` +
        'The statement has run: roll back the transaction it ran in, if any. Make the target column types and the ' +
        'session sql_mode of the target accept every source value (same column definitions; no NO_ZERO_DATE/NO_ZERO_IN_DATE ' +
        'when the source holds zero dates), then copy again.',
      options,
    );
    this.table = table;
  }
}

/**
 * The other side's table cannot receive the authoritative side's rows: columns or primary key differ.
 *
 * Code `ER_DUALWRITE_REPAIR_SCHEMA_MISMATCH`.
 */
export class RepairSchemaMismatchError extends DualWriteError {
  /**
   * @param table - the table
   * @param detail - how the tables differ
   */
  constructor(table: string, detail: string) {
    super(
      'ER_DUALWRITE_REPAIR_SCHEMA_MISMATCH',
      `Cannot repair \`${table}\`: ${detail}. Repair writes every column of the authoritative side's row by name and ` +
        "matches rows by primary key; nothing was changed. Make the other side's table definition match, then repair again.",
    );
  }
}

/**
 * A mode switch was written but not every live instance applied it within the timeout.
 * The new mode stays written (the instances still follow it); `report.pending` names the laggards.
 * (Defined here with the other errors; `dualwrite` re-exports it from the mode module too.)
 *
 * Code `ER_DUALWRITE_SWITCH_NOT_APPLIED`.
 */
export class SwitchNotAppliedError extends DualWriteError {
  /** The acknowledgements at the timeout. */
  readonly report: SwitchReport;

  /**
   * @param report - the acknowledgements at the timeout
   * @param timeoutMs - how long the switch waited
   */
  constructor(report: SwitchReport, timeoutMs: number) {
    super(
      'ER_DUALWRITE_SWITCH_NOT_APPLIED',
      `The switch to ${report.mode} (revision ${report.revision}) was not applied by ${report.pending.length} live instance(s) within ${timeoutMs} ms: ` +
        `${report.pending.map((ack) => `${ack.instanceId} (still at revision ${ack.revision}, ${ack.mode})`).join(', ')}. ` +
        'The new mode stays written and these instances will follow when they can; check their connection to Redis and their logs, then check again with status().',
    );
    this.report = report;
  }
}

/** One precondition of a guarded cut-over, as {@link CutoverRefusedError} lists it. */
export interface CutoverCheckResult {
  /** Which check: `verify`, `backlog` or `fleet`. */
  readonly check: string;
  /** Whether it passed. */
  readonly passed: boolean;
  /** What was found. */
  readonly detail: string;
  /** For a failed check: what to do. */
  readonly remedy?: string;
}

/**
 * A guarded switch was refused: a precondition failed (a recent clean verification, a bounded
 * repair-log backlog, the whole fleet on the current mode). Nothing was written; the refusal is
 * in the audit trail.
 *
 * Code `ER_DUALWRITE_CUTOVER_REFUSED`.
 */
export class CutoverRefusedError extends DualWriteError {
  /** Every check, passed or not. */
  readonly checks: readonly CutoverCheckResult[];

  /**
   * @param to - the mode (and table) that was asked for, e.g. `target_first` or `target_first for shop.orders`
   * @param checks - every check, passed or not
   */
  constructor(to: string, checks: readonly CutoverCheckResult[]) {
    const failed = checks.filter((check) => !check.passed);
    super(
      'ER_DUALWRITE_CUTOVER_REFUSED',
      `The switch to ${to} was refused: ${failed.length} precondition(s) failed. ` +
        failed.map((check) => `[${check.check}] ${check.detail}${check.remedy === undefined ? '' : ` — ${check.remedy}`}`).join('; ') +
        '. Nothing was written. Fix them and switch again, or override with force (audited).',
    );
    this.checks = checks;
  }
}

/** One table of a statement refused by {@link TableModesConflictError}, with its effective mode. */
export interface TableModeEntry {
  /** The table, `schema.table` (or the name as written when the schema is unknown). */
  readonly table: string;
  /** Its effective mode (its override, or the default mode). */
  readonly mode: string;
  /** Whether the statement writes it (`write`) or only reads it (`read`). */
  readonly access: 'write' | 'read';
}

/**
 * A statement names tables whose per-table modes cannot be honoured together: it writes tables in different modes,
 * reads a table whose data is not current on the side it would run on, or runs on a checked-out connection whose
 * pinned mode cannot serve a table's mode. Nothing was run.
 *
 * Code `ER_DUALWRITE_TABLE_MODES_CONFLICT`.
 */
export class TableModesConflictError extends DualWriteError {
  /** The tables the statement names, with their effective modes. */
  readonly tables: readonly TableModeEntry[];

  /**
   * @param statement - the statement (its start is quoted)
   * @param tables - the tables it names, with their modes
   * @param why - why they cannot be honoured together
   * @param remedy - what to do
   */
  constructor(statement: string, tables: readonly TableModeEntry[], why: string, remedy: string) {
    const listed = tables.map((entry) => `${entry.table} (${entry.access}, ${entry.mode})`).join(', ');
    const shown = statement.length > 200 ? `${statement.slice(0, 200)}…` : statement;
    super('ER_DUALWRITE_TABLE_MODES_CONFLICT', `Refused ${JSON.stringify(shown)}: ${why}. Tables: ${listed}. Nothing was run on either side. ${remedy}`);
    this.tables = tables;
  }
}

/**
 * A write in a `*_only` mode was refused because the flag state in force is stale: the instance lost its flag
 * source (e.g. Redis) long enough ago that it cannot know whether the fleet has moved on, and a write to one side
 * only could land on a side the fleet no longer treats as primary. Writes in the dual-write modes and reads go on.
 *
 * Code `ER_DUALWRITE_FLAGS_STALE`.
 */
export class FlagsStaleError extends DualWriteError {
  /** The mode the write would have run in. */
  readonly mode: string;

  /**
   * @param mode - the (effective) mode the write would have run in
   * @param staleForMs - how long the flag state has been without its source, in milliseconds, when known
   * @param table - the table written, when known
   */
  constructor(mode: string, staleForMs: number | null, table: string | null) {
    super(
      'ER_DUALWRITE_FLAGS_STALE',
      `A write${table === null ? '' : ` to ${table}`} in ${mode} was refused: this instance lost its flag source` +
        `${staleForMs === null ? '' : ` ${Math.round(staleForMs / 1000)} s ago`} and its mode is stale, so it cannot know whether the fleet has switched meanwhile; ` +
        `a ${mode} write reaches one side only and could land on a side the rest of the fleet no longer treats as primary. Nothing was run. ` +
        'Restore the connection to the flag source (the refusal ends with the next successful read), retry the write later, ' +
        "or create the pool with staleWrites: 'allow' to accept the risk (verify and repair then close any gap).",
    );
    this.mode = mode;
  }
}
