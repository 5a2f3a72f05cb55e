/**
 * Replay planning: decides, before a write runs on the primary side, how its effect will reach the secondary
 * side — as the same statement made exact (explicit auto-increment IDs, a pinned clock), as a row image, or not
 * at all (the pool's policy then refuses it or records it).
 *
 * @module
 */
import type { ServerSettings, TableMetadata } from '../schema/types.js';
import { refineUnsafeFindings } from '../schema/statement-safety.js';
import { planNondeterministicPins, type PinPlan } from '../sql/pin-nondeterministic.js';
import { generatedIdRows, type AutoIncrementColumn } from '../sql/rewrite-explicit-ids.js';
import type { StatementAnalysis, UnsafeFinding, UnsafeReason } from '../sql/types.js';

/** How the generated auto-increment IDs of an INSERT are written into its replay. */
export interface IdPlan {
  /** The auto-increment column, as the explicit-ID rewrite needs it. */
  readonly column: AutoIncrementColumn;
  /** How many rows get a generated ID. */
  readonly generatedCount: number;
  /** The distance between consecutive generated IDs (`auto_increment_increment`). */
  readonly step: bigint;
  /** `NO_AUTO_VALUE_ON_ZERO` is in the primary side's `sql_mode`. */
  readonly noAutoValueOnZero: boolean;
  /**
   * Some rows give explicit IDs (lock mode 1 only). The generated IDs are consecutive unless an explicit ID at or
   * above the counter comes after a generated row: {@link generatedIdsAfter} checks that once insertId is known.
   */
  readonly mixed: boolean;
}

/** The same statement replayed on the secondary side, made exact. */
export interface StatementReplayPlan {
  readonly kind: 'statement';
  /** Run `SET timestamp` to the same instant on both sides around the statement (NOW(), DEFAULT/ON UPDATE CURRENT_TIMESTAMP). */
  readonly pinClock: boolean;
  /** Generated IDs to write explicitly, or `null` when the statement generates none. */
  readonly ids: IdPlan | null;
  /**
   * UUID()/RAND()/UUID_SHORT()/SYSDATE() calls to evaluate once on the primary side and bind as values on both
   * sides (the primary side then runs the rewritten statement), or `null`.
   */
  readonly pins: PinPlan | null;
}

/** The rows the statement leaves on the primary side, copied to the secondary side by primary key. */
export interface RowImageReplayPlan {
  readonly kind: 'row_image';
  /** Why a statement replay would not be exact, for events and the `record`/`reject` policies. */
  readonly reason: string;
}

/** No exact replay exists. */
export interface UnreplayablePlan {
  readonly kind: 'unreplayable';
  /** Why, for the error message and the repair log. */
  readonly reason: string;
}

/** How a write reaches the secondary side. */
export type ReplayPlan = StatementReplayPlan | RowImageReplayPlan | UnreplayablePlan;

/** What {@link planReplay} needs. */
export interface ReplayPlanInput {
  /** The statement text the primary side runs. */
  readonly sql: string;
  /** `analyze(sql)`. */
  readonly analysis: StatementAnalysis;
  /** The values bound to its `?` placeholders, or `undefined`. */
  readonly values: readonly unknown[] | undefined;
  /** Metadata of the table it writes (single-table writes), or `null` when unknown or several tables. */
  readonly table: TableMetadata | null;
  /** The primary side's server settings. */
  readonly settings: ServerSettings;
}

/** Findings made exact by pinning the session clock on both sides. */
const CLOCK: ReadonlySet<UnsafeReason> = new Set(['time_function', 'time_default']);

/** Findings pinning can remove (in INSERT rows, where each call is evaluated once). */
const PINNABLE: ReadonlySet<UnsafeReason> = new Set(['uuid', 'random', 'sysdate']);

/** Findings a row image makes exact: the statement runs once, on the primary side, and its resulting rows are copied. */
const ROW_IMAGE: ReadonlySet<UnsafeReason> = new Set([
  'ignore',
  'replace',
  'on_duplicate_key_update',
  'insert_select',
  'limit_without_order_by',
  'multi_table',
  'subquery',
  'uuid',
  'random',
  'sysdate',
  'nondeterministic_function',
  'user_variable',
  'session_function',
  'system_variable',
]);

/**
 * Plans the replay of one write. Never runs anything.
 *
 * - No unsafe findings (after {@link refineUnsafeFindings}), or only clock findings: a statement replay, with the
 *   clock pinned when needed, and for an INSERT that lets the server number rows, the IDs written explicitly.
 * - Findings a row image makes exact (INSERT IGNORE, REPLACE, ODKU on several unique keys, INSERT … SELECT,
 *   LIMIT without ORDER BY, multi-table, subqueries, UUID()/RAND()/SYSDATE(), session-dependent functions and
 *   variables), or an INSERT whose generated rows cannot be told exactly: a row image.
 * - Anything else (stored functions, executable comments, several statements, LOAD DATA, text the analyzer did
 *   not understand, a values array whose length is not the number of `?`, or quoting the analyzer cannot read under
 *   the primary side's sql_mode): unreplayable.
 */
export function planReplay(input: ReplayPlanInput): ReplayPlan {
  const { analysis, table } = input;
  const given = input.values?.length;
  if (given !== undefined && given !== analysis.placeholderCount) {
    // The primary side decides what such a call means (query() ignores extra values; execute() sends them all and the
    // server reads its own count, so past a multiple of 8 it misreads them): a rewrite that adds `?` cannot follow it.
    return {
      kind: 'unreplayable',
      reason:
        `${given} value${given === 1 ? ' was' : 's were'} given for ${analysis.placeholderCount} placeholder${analysis.placeholderCount === 1 ? '' : 's'} ` +
        '(pass exactly one value per `?`)',
    };
  }
  const quoting = quotingProblem(input.sql, input.settings.sqlMode);
  if (quoting !== null) return { kind: 'unreplayable', reason: quoting };
  const findings = refineUnsafeFindings(analysis, table);
  const never = findings.find((f) => !CLOCK.has(f.reason) && !ROW_IMAGE.has(f.reason));
  if (never !== undefined || !analysis.understood) {
    return { kind: 'unreplayable', reason: describe(never ?? { reason: 'unknown', detail: analysis.verb.toUpperCase(), span: { start: 0, end: 0 } }) };
  }
  // Calls evaluated once per row can be evaluated ahead and bound: then they no longer need a row image.
  const pins = findings.some((f) => PINNABLE.has(f.reason)) ? planNondeterministicPins(input.sql, analysis, input.values) : null;
  const left = pins === null ? findings : findings.filter((f) => !PINNABLE.has(f.reason));
  const rowImage = left.find((f) => ROW_IMAGE.has(f.reason));
  if (rowImage !== undefined) return { kind: 'row_image', reason: describe(rowImage) };
  const pinClock = left.some((f) => CLOCK.has(f.reason));
  const write = analysis.write;
  if (write === null || write.kind !== 'insert' || table === null || table.autoIncrementColumn === null) {
    return { kind: 'statement', pinClock, ids: null, pins };
  }
  const column = autoIncrementColumn(table);
  const options = { noAutoValueOnZero: input.settings.sqlMode.toUpperCase().includes('NO_AUTO_VALUE_ON_ZERO') };
  const generated = generatedIdRows(input.sql, analysis, input.values, column, options);
  if (generated === null) return { kind: 'row_image', reason: 'the rows whose auto-increment ID the server generates cannot be told exactly' };
  const generatedCount = generated.filter(Boolean).length;
  if (generatedCount === 0) return { kind: 'statement', pinClock, ids: null, pins };
  const mixed = generatedCount < generated.length;
  if (mixed && input.settings.innodbAutoincLockMode !== 1) {
    return {
      kind: 'unreplayable',
      reason:
        `an INSERT mixing explicit and generated auto-increment values under innodb_autoinc_lock_mode=${input.settings.innodbAutoincLockMode} ` +
        '(the generated IDs need not be consecutive; send the rows with explicit IDs and the rows without in separate statements)',
    };
  }
  return {
    kind: 'statement',
    pinClock,
    ids: { column, generatedCount, step: BigInt(input.settings.autoIncrementIncrement), mixed, ...options },
    pins,
  };
}

/**
 * Why the analysis of `sql` cannot be trusted under `sqlMode`, or `null`. The analyzer reads text with the default
 * quoting rules; with NO_BACKSLASH_ESCAPES a backslash ends no quote (`'a\'` is a whole string), and with ANSI_QUOTES
 * `"…"` is a name, not a string, so a text holding those characters may hide code (a subquery, a second value) from it.
 */
function quotingProblem(sql: string, sqlMode: string): string | null {
  const mode = sqlMode.toUpperCase();
  if (mode.includes('NO_BACKSLASH_ESCAPES') && sql.includes('\\')) {
    return 'a backslash in a statement run under sql_mode NO_BACKSLASH_ESCAPES (dualwrite reads strings with backslash escapes, so it cannot tell where they end)';
  }
  if (mode.includes('ANSI_QUOTES') && sql.includes('"')) {
    return 'a double quote in a statement run under sql_mode ANSI_QUOTES (dualwrite reads "…" as a string, the server as a name)';
  }
  return null;
}

/**
 * The generated IDs of an INSERT: `count` IDs from the first one, `step` apart; or `null` when an explicit ID that
 * comes after a generated row may have moved the counter (it is not a plain integer below `first`), so the server
 * numbered the later rows from that ID on.
 *
 * @param explicit - per row, the explicit ID's text or `null` for a generated row (`explicitIdTexts`); only read for mixed plans
 */
export function generatedIdsAfter(first: bigint, plan: IdPlan, explicit: readonly (string | null)[] | null): bigint[] | null {
  if (plan.mixed) {
    if (explicit === null) return null;
    const firstGenerated = explicit.indexOf(null);
    for (const text of explicit.slice(firstGenerated + 1)) {
      if (text !== null && !(/^\d+$/.test(text) && BigInt(text) < first)) return null;
    }
  }
  const ids: bigint[] = [];
  for (let i = 0n; i < BigInt(plan.generatedCount); i++) ids.push(first + i * plan.step);
  return ids;
}

/** The table's auto-increment column with its position in an INSERT without a column list (visible columns, generated ones included). */
function autoIncrementColumn(table: TableMetadata): AutoIncrementColumn {
  const visible = table.columns.filter((c) => !c.invisible);
  const name = table.autoIncrementColumn as string;
  return { name, position: visible.findIndex((c) => c.name === name), columnCount: visible.length };
}

function describe(finding: UnsafeFinding): string {
  const what: Record<UnsafeReason, string> = {
    time_function: 'a clock function',
    sysdate: 'SYSDATE()',
    uuid: 'a UUID function',
    random: 'RAND()',
    session_function: 'a session function',
    user_variable: 'a user variable',
    system_variable: 'a system variable',
    limit_without_order_by: 'LIMIT without ORDER BY',
    insert_select: 'INSERT … SELECT',
    on_duplicate_key_update: 'ON DUPLICATE KEY UPDATE on a table with several unique keys',
    ignore: 'IGNORE',
    replace: 'REPLACE',
    multi_table: 'a multi-table write',
    subquery: 'a subquery',
    load_data: 'LOAD DATA',
    nondeterministic_function: 'a nondeterministic function',
    unknown_function: 'a function dualwrite does not know (a stored function may write anything)',
    executable_comment: 'an executable comment',
    multiple_statements: 'several statements in one text',
    time_default: 'a DEFAULT/ON UPDATE CURRENT_TIMESTAMP column',
    unknown: 'a statement dualwrite does not fully understand',
  };
  return `${what[finding.reason]} (${finding.reason}: ${finding.detail})`;
}
