/**
 * Writes the auto-increment IDs the primary side generated explicitly into an
 * INSERT/REPLACE, so that the statement replay on the secondary side stores
 * the very same IDs ("never let the two sides number rows independently").
 *
 * Two pure functions, used in this order by replay planning:
 *
 * 1. {@link generatedIdRows}: for which rows did the server generate the ID?
 *    (`null` when that cannot be decided from the text and values: replay by row image.)
 * 2. {@link withExplicitIds}: the same statement with those IDs written in.
 *
 * Placeholders stay placeholders: when the statement is sent with a values
 * array, each ID becomes a `?` bound to the ID, so the secondary's
 * prepared-statement cache sees one text per statement shape, not one per ID.
 * Everything else in the text (comments, ON DUPLICATE KEY UPDATE, the row
 * alias, RETURNING) is kept byte for byte.
 *
 * @module
 */
import { ReplayPlanError } from '../errors.js';
import type { InsertAnalysis, InsertRow, StatementAnalysis, ValueSlot } from './types.js';

/** The auto-increment column of the table an INSERT writes, as replay planning knows it from the table's metadata. */
export interface AutoIncrementColumn {
  /** The column's name (matched case-insensitively against the statement's column list, as MySQL does). */
  readonly name: string;
  /**
   * 0-based index of the column's value in a row of an INSERT without a column list
   * (`INSERT INTO t VALUES (…)`): the table's columns in table order, invisible columns left out.
   * Generated (virtual/stored) columns count: such an INSERT must give them a value (`DEFAULT`).
   * Only read for statements without a column list.
   */
  readonly position: number;
  /**
   * The number of values a row of an INSERT without a column list must have, when known.
   * A statement whose rows have another number of values is not decided (`null`).
   * When omitted, the rows only need to agree with each other and to reach {@link AutoIncrementColumn.position}.
   */
  readonly columnCount?: number;
}

/** Options of {@link generatedIdRows} and {@link withExplicitIds}. */
export interface ExplicitIdOptions {
  /**
   * The primary session ran with `NO_AUTO_VALUE_ON_ZERO` in `sql_mode`: a `0` written into the
   * auto-increment column is stored as 0 instead of asking for a generated ID. The replay session
   * must then run with the same `sql_mode`, since the rewrite leaves such rows untouched.
   * @defaultValue false
   */
  readonly noAutoValueOnZero?: boolean;
}

/**
 * A generated auto-increment ID: a positive integer as a safe-integer `number`, a `bigint`,
 * or a string of decimal digits (BIGINT UNSIGNED beyond 2^53 must be a `bigint` or a string).
 */
export type GeneratedId = number | bigint | string;

/** The statement to replay on the secondary side, with the generated IDs written in. */
export interface ExplicitIdRewrite {
  /** The SQL text to send. */
  readonly sql: string;
  /**
   * The values to bind, in `?` order: the caller's values with the IDs placed where their `?` is,
   * or `undefined` when the statement was plain text without values (the IDs are then written as literals).
   * Always a new array; the caller's array is never changed.
   */
  readonly values: unknown[] | undefined;
}

/** Where one generated row's ID goes. */
type Site =
  /** The auto-increment value is a `?`: only its bound value changes. */
  | { readonly kind: 'bound'; readonly index: number }
  /** The auto-increment value is `DEFAULT`, `NULL` or a zero literal at `[start, end)`: the text is replaced. */
  | { readonly kind: 'replace'; readonly start: number; readonly end: number }
  /** The row has no value for the column: `prefix` + the value is inserted at `at`. */
  | { readonly kind: 'insert'; readonly at: number; readonly prefix: string };

/** What {@link plan} found: one entry per row, and where each generated row's ID goes. */
interface Plan {
  /** Per row: did the server generate the ID. */
  readonly generated: boolean[];
  /** One per generated row, in row order (so in text order). */
  readonly sites: Site[];
  /** Per row: the explicit value written for the column as text (a bound value or a literal's text), or `null` for a generated row. */
  readonly explicit: (string | null)[];
  /** Where the column's name is added to the column list (or a column list is added), or -1. */
  readonly columnAt: number;
  /** The text inserted at {@link Plan.columnAt}. */
  readonly columnText: string;
}

/**
 * How a value written for the auto-increment column behaves: `generated` (DEFAULT, NULL), `zero` (generated unless
 * NO_AUTO_VALUE_ON_ZERO), `explicit` (a value of at least 1, stored as given), `unknown` (cannot be told).
 */
type SlotState = 'generated' | 'zero' | 'explicit' | 'unknown';

const QUESTION = 63;

/** Zero as MySQL reads it from a number literal or a numeric string: `0`, `-0`, `00`, `0.0`, `.0`, `0e5`. */
const ZERO_NUMBER = /^[+-]?(?:0+(?:\.0*)?|\.0+)(?:[eE][+-]?\d+)?$/;
/** A number that is at least 1 (so never stored as 0): `7`, `+7`, `007`, `1.5`, `2e3`. */
const POSITIVE_NUMBER = /^\+?0*[1-9]\d*(?:\.\d*)?(?:[eE]\+?\d+)?$/;
/** A generated ID as a string: decimal digits, not all zero. */
const ID_DIGITS = /^\d*[1-9]\d*$/;

/**
 * Tells, for each row of an INSERT/REPLACE … VALUES or … SET, whether the server generated
 * the value of the auto-increment column for that row (true) or stored a value the statement gave (false).
 *
 * A row's ID is generated when the column is not in the column list, or its value is `DEFAULT`,
 * `NULL`, or a zero (a literal `0`, `'0'`, `FALSE`, or a `?` bound to `null`, `undefined`, `0`, `0n`,
 * `'0'`, `false`) — a zero only without {@link ExplicitIdOptions.noAutoValueOnZero}.
 *
 * Returns `null` (replay by row image instead) when that cannot be decided exactly:
 * - the statement is not an INSERT/REPLACE of form `values` or `set`, or was not fully understood
 *   (an `unknown` finding), or holds an executable comment (`/*! … *\/`, whose content may not run on the other server);
 * - the value written for the column is an expression (`? + 1`, `(SELECT …)`), a literal that is not plainly 0 or
 *   at least 1 (`-5`, `0.4`, `X'00'`, `_utf8mb4'0'`), or a `?` bound to anything but the values above or a number,
 *   bigint or digit string of at least 1;
 * - the column is named twice, a row has another number of values than the column list (or than the other rows,
 *   or than {@link AutoIncrementColumn.columnCount}), or a row without a column list is too short;
 * - the column must be added to the rows and the statement has a row alias with a column list (`AS new(a, b)`);
 * - the statement has `?` placeholders but no values, or fewer values than placeholders, or a value that is an
 *   array, a Set or a `mysql.raw()` object (mysql2's `query()` writes those as lists or raw SQL, so the server did not
 *   see the text's row structure), or a `??`, or a `?` inside a string, comment or optimizer hint while values are
 *   given (mysql2's `query()` fills some of those, depending on its version, unlike the server).
 *
 * @param sql - The statement the primary ran (a literal's text is read from it: the analysis holds only its span).
 * @param analysis - `analyze(sql)`.
 * @param values - The values the statement was sent with (`undefined` for plain text).
 * @param column - The table's auto-increment column.
 * @param options - The primary session's relevant `sql_mode`.
 * @returns One boolean per row (one row for form `set`), or `null`.
 *
 * @example
 * ```ts
 * const sql = 'INSERT INTO `post`(`id`, `title`) VALUES (DEFAULT, ?), (7, ?)';
 * generatedIdRows(sql, analyze(sql), ['a', 'b'], { name: 'id', position: 0 }); // [true, false]
 * ```
 */
export function generatedIdRows(
  sql: string,
  analysis: StatementAnalysis,
  values: readonly unknown[] | undefined,
  column: AutoIncrementColumn,
  options?: ExplicitIdOptions,
): boolean[] | null {
  return plan(sql, analysis, values, column, options)?.generated ?? null;
}

/**
 * For each row of an INSERT/REPLACE … VALUES or … SET, the explicit value it writes into the auto-increment column
 * as text (a bound value as `String(value)`, a literal without its quotes), or `null` for a row whose ID the server
 * generated; `null` as a whole when {@link generatedIdRows} is `null`. Replay planning uses it to see whether an
 * explicit ID may have moved the auto-increment counter between generated rows.
 */
export function explicitIdTexts(
  sql: string,
  analysis: StatementAnalysis,
  values: readonly unknown[] | undefined,
  column: AutoIncrementColumn,
  options?: ExplicitIdOptions,
): (string | null)[] | null {
  return plan(sql, analysis, values, column, options)?.explicit ?? null;
}

/**
 * Returns the statement with the generated IDs written into the auto-increment column of every row
 * for which {@link generatedIdRows} says true; the other rows, and the rest of the text, are unchanged.
 *
 * - A `DEFAULT`, `NULL` or zero value is replaced by the ID; a `?` keeps its text and gets the ID as its bound value.
 * - A column missing from the column list is added to it (backtick-quoted), with the ID at the end of every row;
 *   an empty `()` list becomes `` (`id`) ``, and `INSERT INTO t VALUES ()` gets the list `` (`id`) ``.
 * - Form `set` gets `` , `id` = … `` after its last assignment.
 * - When `values` is given (or the text has placeholders), each new value is a `?` and the ID is put in the
 *   returned values at that `?`'s index, shifting the values after it. Otherwise the ID is written as digits.
 *
 * IDs are kept as given in the values array (a `bigint` or digit string above 2^53 keeps every digit).
 *
 * @param sql - The statement the primary ran.
 * @param analysis - `analyze(sql)`.
 * @param values - The values it was sent with (`undefined` for plain text).
 * @param column - The table's auto-increment column.
 * @param ids - The generated IDs: one per row for which {@link generatedIdRows} says true, in row order.
 * @param options - The primary session's relevant `sql_mode`.
 * @throws {@link ReplayPlanError} when {@link generatedIdRows} is `null` for the statement, when `ids` does not
 * have one ID per generated row, or when an ID is not a positive integer (0 would make the secondary generate its own).
 *
 * @example
 * ```ts
 * const sql = 'insert into `t` (`a`) values (?), (?) on duplicate key update `a` = ?';
 * withExplicitIds(sql, analyze(sql), ['x', 'y', 'z'], { name: 'id', position: 0 }, [41n, 42n]);
 * // sql:    'insert into `t` (`a`, `id`) values (?, ?), (?, ?) on duplicate key update `a` = ?'
 * // values: ['x', 41n, 'y', 42n, 'z']
 * ```
 */
export function withExplicitIds(
  sql: string,
  analysis: StatementAnalysis,
  values: readonly unknown[] | undefined,
  column: AutoIncrementColumn,
  ids: readonly GeneratedId[],
  options?: ExplicitIdOptions,
): ExplicitIdRewrite {
  const found = plan(sql, analysis, values, column, options);
  if (found === null) {
    throw new ReplayPlanError(
      'withExplicitIds() was called for a statement whose generated rows cannot be decided (generatedIdRows() returns null for it)',
    );
  }
  const { sites } = found;
  if (ids.length !== sites.length) {
    throw new ReplayPlanError(
      `${ids.length} generated ID${ids.length === 1 ? ' was' : 's were'} given for ${sites.length} row${sites.length === 1 ? '' : 's'} ` +
        `whose auto-increment value the server generated (out of ${found.generated.length})`,
    );
  }
  const literals = ids.map(idText);

  // Literal text when the statement is plain text; otherwise a `?` per ID, bound in the values array.
  const src = values?.slice();
  if (src !== undefined) {
    // A `?` slot keeps its text: only its bound value changes.
    sites.forEach((site, i) => {
      if (site.kind === 'bound') src[site.index] = ids[i];
    });
  }
  const offsets = analysis.placeholders;
  const out: unknown[] | undefined = src === undefined ? undefined : [];
  let next = 0; // the next of the caller's values to copy into `out`
  const copyBefore = (at: number): void => {
    if (out === undefined || src === undefined) return;
    while (next < offsets.length && (offsets[next] as number) < at) out.push(src[next++]);
  };

  // Edits are in text order (the column list comes before the rows, rows in order); each slices the original
  // text, so every span stays valid and the output is built once from pieces.
  const pieces: string[] = [];
  let pos = 0;
  if (found.columnAt >= 0) {
    pieces.push(sql.slice(0, found.columnAt), found.columnText);
    pos = found.columnAt;
  }
  for (let i = 0; i < sites.length; i++) {
    const site = sites[i] as Site;
    if (site.kind === 'bound') continue;
    const text = out === undefined ? (literals[i] as string) : '?';
    const at = site.kind === 'replace' ? site.start : site.at;
    pieces.push(sql.slice(pos, at), site.kind === 'replace' ? text : site.prefix + text);
    pos = site.kind === 'replace' ? site.end : site.at;
    if (out !== undefined) {
      copyBefore(at);
      out.push(ids[i]);
    }
  }
  pieces.push(sql.slice(pos));
  if (out !== undefined && src !== undefined) {
    while (next < src.length) out.push(src[next++]);
  }
  return { sql: pieces.join(''), values: out };
}

/** Finds which rows got generated IDs and where each ID goes; `null` when that cannot be decided. */
function plan(
  sql: string,
  analysis: StatementAnalysis,
  values: readonly unknown[] | undefined,
  column: AutoIncrementColumn,
  options: ExplicitIdOptions | undefined,
): Plan | null {
  const write = analysis.write;
  if (write === null || (write.kind !== 'insert' && write.kind !== 'replace') || write.form === 'select') return null;
  if (!analysis.understood) return null;
  for (const finding of analysis.unsafe) {
    if (finding.reason === 'unknown' || finding.reason === 'executable_comment') return null;
  }
  if (!placeholdersMatch(sql, analysis, values)) return null;
  const zeroGenerates = options?.noAutoValueOnZero !== true;
  const name = column.name.toLowerCase();
  const quoted = '`' + column.name.replaceAll('`', '``') + '`';

  if (write.form === 'set') {
    const assignments = write.set;
    const last = assignments[assignments.length - 1];
    if (last === undefined) return null;
    let found: ValueSlot | null = null;
    for (const a of assignments) {
      if (a.column.toLowerCase() !== name) continue;
      if (found !== null) return null; // named twice: the server refuses it
      found = a.value;
    }
    if (found === null) {
      if ((write.rowAlias?.columns ?? null) !== null) return null;
      return { generated: [true], sites: [{ kind: 'insert', at: last.value.span.end, prefix: `, ${quoted} = ` }], explicit: [null], columnAt: -1, columnText: '' };
    }
    const site = siteOf(sql, found, values, zeroGenerates);
    if (site === undefined) return null;
    return { generated: [site !== null], sites: site === null ? [] : [site], explicit: [site === null ? slotText(sql, found, values) : null], columnAt: -1, columnText: '' };
  }

  const rows = write.rows;
  const lastRow = rows[rows.length - 1];
  if (lastRow === undefined) return null;
  let slotIndex: number;
  if (write.columns !== null) {
    const columns = write.columns;
    slotIndex = -1;
    for (let c = 0; c < columns.length; c++) {
      if ((columns[c] as string).toLowerCase() !== name) continue;
      if (slotIndex >= 0) return null; // named twice: the server refuses it
      slotIndex = c;
    }
    for (const row of rows) if (row.values.length !== columns.length) return null;
    if (slotIndex < 0) {
      // The column is not in the list: the server generated every row's ID; add it to the list and to every row.
      const list = write.columnListSpan;
      if (list === null) return null;
      return addColumn(sql, write, list.end - 1, columns.length === 0 ? quoted : `, ${quoted}`);
    }
  } else {
    const width = lastRow.values.length;
    for (const row of rows) if (row.values.length !== width) return null;
    if (width === 0) {
      // `INSERT INTO t VALUES ()`: every column takes its default; give the statement a column list of its own.
      return addColumn(sql, write, write.afterTable, ` (${quoted})`);
    }
    if (column.columnCount !== undefined && width !== column.columnCount) return null;
    if (!Number.isInteger(column.position) || column.position < 0 || column.position >= width) return null;
    slotIndex = column.position;
  }

  const generated: boolean[] = new Array<boolean>(rows.length);
  const explicit: (string | null)[] = new Array<string | null>(rows.length);
  const sites: Site[] = [];
  for (let r = 0; r < rows.length; r++) {
    const slot = (rows[r] as InsertRow).values[slotIndex] as ValueSlot;
    const site = siteOf(sql, slot, values, zeroGenerates);
    if (site === undefined) return null;
    generated[r] = site !== null;
    explicit[r] = site === null ? slotText(sql, slot, values) : null;
    if (site !== null) sites.push(site);
  }
  return { generated, sites, explicit, columnAt: -1, columnText: '' };
}

/** The plan when the column is added to the column list at `columnAt` and a value to the end of every row. */
function addColumn(sql: string, write: InsertAnalysis, columnAt: number, columnText: string): Plan | null {
  const rows = write.rows;
  const lastRow = rows[rows.length - 1];
  if (lastRow === undefined) return null;
  if ((write.rowAlias?.columns ?? null) !== null) return null;
  const generated: boolean[] = new Array<boolean>(rows.length).fill(true);
  const sites: Site[] = new Array<Site>(rows.length);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r] as InsertRow;
    const lastValue = row.values[row.values.length - 1];
    sites[r] = lastValue === undefined ? { kind: 'insert', at: row.span.start + 1, prefix: '' } : { kind: 'insert', at: lastValue.span.end, prefix: ', ' };
  }
  return { generated, sites, explicit: new Array<string | null>(rows.length).fill(null), columnAt, columnText };
}

/** The value a slot writes, as text: its bound value, or its literal's text without quotes. */
function slotText(sql: string, slot: ValueSlot, values: readonly unknown[] | undefined): string {
  if (slot.kind === 'placeholder') return String(values?.[slot.placeholders[0] ?? -1]);
  const text = sql.slice(slot.span.start, slot.span.end);
  const quote = text.charCodeAt(0);
  return quote === 39 || quote === 34 ? text.slice(1, -1) : text;
}

/**
 * Where the ID goes for a slot that the server filled with a generated ID, `null` for a slot holding an
 * explicit value, `undefined` when that cannot be decided.
 */
function siteOf(sql: string, slot: ValueSlot, values: readonly unknown[] | undefined, zeroGenerates: boolean): Site | null | undefined {
  let state: SlotState;
  switch (slot.kind) {
    case 'default':
    case 'null':
      state = 'generated';
      break;
    case 'placeholder': {
      const index = slot.placeholders[0];
      if (index === undefined || values === undefined || index >= values.length) return undefined;
      state = valueState(values[index]);
      if (state === 'generated' || (state === 'zero' && zeroGenerates)) return { kind: 'bound', index };
      break;
    }
    case 'literal':
      state = literalState(sql.slice(slot.span.start, slot.span.end));
      break;
    default:
      return undefined; // an expression: its value is known only to the server
  }
  if (state === 'unknown') return undefined;
  if (state === 'explicit' || (state === 'zero' && !zeroGenerates)) return null;
  return { kind: 'replace', start: slot.span.start, end: slot.span.end };
}

/** How a value bound to the auto-increment column's `?` behaves. */
function valueState(value: unknown): SlotState {
  if (value === null || value === undefined) return 'generated';
  switch (typeof value) {
    case 'number':
      if (value === 0) return 'zero';
      return value >= 1 && Number.isFinite(value) ? 'explicit' : 'unknown';
    case 'bigint':
      return value === 0n ? 'zero' : value > 0n ? 'explicit' : 'unknown';
    case 'boolean':
      return value ? 'explicit' : 'zero';
    case 'string':
      return numberTextState(value);
    default:
      return 'unknown';
  }
}

/** How a literal written for the auto-increment column behaves. */
function literalState(text: string): SlotState {
  const upper = text.toUpperCase();
  if (upper === 'TRUE') return 'explicit';
  if (upper === 'FALSE') return 'zero';
  const quote = text.charCodeAt(0);
  if (quote === 39 || quote === 34) {
    // A plain '…' or "…" string: its content, if it holds no escape or doubled quote.
    const content = text.slice(1, -1);
    if (text.length < 2 || text.charCodeAt(text.length - 1) !== quote || content.includes(text[0] as string) || content.includes('\\')) {
      return 'unknown';
    }
    return numberTextState(content);
  }
  return numberTextState(text); // numbers; hex/bit literals and introduced strings fall out as Unknown
}

/** How a number written as text (a literal or a string value) behaves when stored in an integer column. */
function numberTextState(text: string): SlotState {
  if (ZERO_NUMBER.test(text)) return 'zero';
  if (POSITIVE_NUMBER.test(text)) return 'explicit';
  return 'unknown';
}

/**
 * True when the placeholders of the text and the values agree the way both mysql2 `execute()` (the server's
 * placeholders) and mysql2 `query()` (text substitution of every `?` and `??`) read them.
 */
function placeholdersMatch(sql: string, analysis: StatementAnalysis, values: readonly unknown[] | undefined): boolean {
  const count = analysis.placeholderCount;
  // Plain text: the IDs are written as literals, and a `?` inside a string or comment is only text.
  if (values === undefined) return count === 0;
  if (values.length < count) return false;
  for (let i = 0; i < count; i++) {
    if (expandsInText(values[i])) return false;
  }
  for (const offset of analysis.placeholders) {
    if (sql.charCodeAt(offset + 1) === QUESTION) return false; // `??`: an identifier placeholder
  }
  let marks = 0;
  for (let at = sql.indexOf('?'); at >= 0; at = sql.indexOf('?', at + 1)) marks++;
  return marks === count;
}

/**
 * True for a value that mysql2's `query()` writes into the text as more than one value or as raw SQL:
 * an array or a Set (a list `a, b`), or an object with `toSqlString()` (`mysql.raw()`).
 */
function expandsInText(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return Array.isArray(value) || value instanceof Set || typeof (value as { toSqlString?: unknown }).toSqlString === 'function';
}

/** The ID as the digits to write into the text, after checking it is a positive integer. */
function idText(id: GeneratedId, i: number): string {
  if (typeof id === 'number' && Number.isSafeInteger(id) && id > 0) return String(id);
  if (typeof id === 'bigint' && id > 0n) return id.toString();
  if (typeof id === 'string' && ID_DIGITS.test(id)) return id;
  const shown = typeof id === 'bigint' ? `${id}n` : typeof id === 'string' ? JSON.stringify(id.slice(0, 40)) : String(id);
  throw new ReplayPlanError(
    `generated ID #${i} (${shown}, a ${typeof id}) is not a positive integer: an ID must be a positive safe-integer number, ` +
      'a bigint, or a string of decimal digits, and 0 would make the secondary side generate an ID of its own',
  );
}
