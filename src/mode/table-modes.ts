/**
 * Per-table modes: a table can run in another mode than the pool's default
 * ({@link FlagState.tableModes}, keyed by `schema.table`), so that a
 * migration can move one table at a time. This module holds the facts about
 * a state's table modes that do not depend on the pool: the lookup of a
 * table's effective mode, whether two states carry the same modes (a switch
 * for the mode gate), and whether a switch moves every table one step at most.
 *
 * Keys are matched case-insensitively (`Shop.Orders` and `shop.orders` are the
 * same table), as MySQL does with `lower_case_table_names` 1 or 2: two tables
 * whose names differ only in case cannot be given different modes.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import type { FlagState } from './flag-provider.js';
import { isMode, MODES, type Mode } from './modes.js';

/**
 * The table modes of one {@link FlagState}, indexed for lookups: built once per
 * state (cached), so that a statement costs a map lookup per table it names.
 */
export interface TableModeIndex {
  /** The default mode (tables without an override). */
  readonly mode: Mode;
  /** Overrides by lower-cased `schema.table`. Empty when the state has none. */
  readonly overrides: ReadonlyMap<string, Mode>;
  /** Every mode in force for some table: the default and each override, without repeats. */
  readonly modes: readonly Mode[];
}

const indexes = new WeakMap<FlagState, TableModeIndex>();

/**
 * Whether `state` carries at least one table override. A field read and, for
 * a state with a `tableModes` object, one cached lookup.
 *
 * @param state - a flag state
 * @returns `true` when some table has its own mode
 */
export function hasTableModes(state: FlagState): boolean {
  return state.tableModes !== undefined && tableModeIndex(state).overrides.size > 0;
}

/**
 * The indexed table modes of `state` (built on first use, then cached per state object).
 *
 * @param state - a flag state
 * @returns the index
 */
export function tableModeIndex(state: FlagState): TableModeIndex {
  let index = indexes.get(state);
  if (index === undefined) {
    const overrides = new Map<string, Mode>();
    for (const [table, mode] of Object.entries(state.tableModes ?? {})) overrides.set(table.toLowerCase(), mode);
    index = Object.freeze({ mode: state.mode, overrides, modes: Object.freeze([...new Set([state.mode, ...overrides.values()])]) });
    indexes.set(state, index);
  }
  return index;
}

/**
 * The mode of one table under `state`: its override, or the default mode.
 *
 * @param state - a flag state
 * @param schema - the table's schema (database); `null` when unknown (the default mode applies)
 * @param table - the table name
 * @returns the table's effective mode
 */
export function tableMode(state: FlagState, schema: string | null, table: string): Mode {
  if (state.tableModes === undefined || schema === null) return state.mode;
  return tableModeIndex(state).overrides.get(`${schema}.${table}`.toLowerCase()) ?? state.mode;
}

/**
 * Whether two states put the same modes in force: the same default mode and
 * the same overrides. Versions, times, sources, `stale` and read routing are
 * not compared. A change of `tableModes` alone is a switch for the mode gate.
 *
 * @param a - a flag state
 * @param b - another flag state
 * @returns `true` when every table runs in the same mode under both
 */
export function sameModes(a: FlagState, b: FlagState): boolean {
  if (a === b) return true;
  if (a.mode !== b.mode) return false;
  if (a.tableModes === b.tableModes) return true;
  const x = tableModeIndex(a).overrides;
  const y = tableModeIndex(b).overrides;
  if (x.size !== y.size) return false;
  for (const [table, mode] of x) if (y.get(table) !== mode) return false;
  return true;
}

/**
 * Whether a switch from `from` to `to` moves every table at most one step along
 * `source_only → source_first → target_first → target_only` and at least one
 * table (or the default) one step: the per-table form of {@link isAdjacentSwitch}.
 * A table that gains or loses an override is compared between its effective
 * modes before and after.
 *
 * @param from - the state in force
 * @param to - the state switched to
 * @returns `true` when no table jumps a step and something moved
 */
export function isAdjacentStateSwitch(from: FlagState, to: FlagState): boolean {
  const before = tableModeIndex(from);
  const after = tableModeIndex(to);
  let moved = false;
  const step = (a: Mode, b: Mode): boolean => {
    const distance = Math.abs(MODES.indexOf(a) - MODES.indexOf(b));
    if (distance === 1) moved = true;
    return distance <= 1;
  };
  if (!step(before.mode, after.mode)) return false;
  for (const table of new Set([...before.overrides.keys(), ...after.overrides.keys()])) {
    if (!step(before.overrides.get(table) ?? before.mode, after.overrides.get(table) ?? after.mode)) return false;
  }
  return moved;
}

/**
 * Whether `table` is a `schema.table` key: two non-empty parts without dots or whitespace (as
 * `RedisModeController` accepts them).
 *
 * @param table - anything
 * @returns `true` for a usable key
 */
export function isTableKey(table: unknown): table is string {
  return typeof table === 'string' && /^[^.\s]+\.[^.\s]+$/.test(table);
}

/**
 * Checks a `schema.table` key of a table override.
 *
 * @param table - the key
 * @param where - where it came from, for the error message
 * @returns the key, unchanged
 * @throws {@link InvalidOptionError} when it is not a non-empty `schema.table` name
 */
export function checkTableKey(table: unknown, where: string): string {
  if (!isTableKey(table)) {
    throw new InvalidOptionError(
      where,
      table,
      'a table name qualified with its database, as `schema.table` (e.g. "shop.orders"), without quotes: unqualified names are resolved against the primary side\'s default database when a statement runs, never in the key',
    );
  }
  return table;
}

/**
 * Checks and freezes a whole set of overrides; an empty set becomes `undefined` (no overrides).
 *
 * @param tableModes - overrides by `schema.table`
 * @param where - where they came from, for the error message
 * @returns the frozen overrides, or `undefined` when there are none
 * @throws {@link InvalidOptionError} for a bad key or a value that is not a mode
 */
export function checkTableModes(tableModes: Readonly<Record<string, Mode>> | undefined | null, where: string): Readonly<Record<string, Mode>> | undefined {
  if (tableModes === undefined || tableModes === null) return undefined;
  if (typeof tableModes !== 'object' || Array.isArray(tableModes)) {
    throw new InvalidOptionError(where, tableModes, 'an object of "schema.table": mode');
  }
  const entries = Object.entries(tableModes);
  if (entries.length === 0) return undefined;
  const checked: Record<string, Mode> = {};
  for (const [table, mode] of entries) {
    checkTableKey(table, `${where} key`);
    if (!isMode(mode)) throw new InvalidOptionError(`${where}["${table}"]`, mode, `one of ${MODES.map((m) => `'${m}'`).join(', ')}`);
    checked[table] = mode;
  }
  return Object.freeze(checked);
}
