/**
 * Per-table modes in the pool: which mode a statement runs under when the flag state gives some tables a mode of
 * their own ({@link FlagState.tableModes}), which side is current for the tables a read names, and the refusal of
 * `*_only` writes while the flag state is stale. No metadata I/O: only the cached analysis of the statement and
 * map lookups; a state without overrides costs one field read.
 *
 * @module
 */
import { FlagsStaleError, TableModesConflictError, type TableModeEntry } from '../errors.js';
import type { FlagState } from '../mode/flag-provider.js';
import { oppositeSide, primarySide, writesBothSides, type Mode, type Side } from '../mode/modes.js';
import { tableMode } from '../mode/table-modes.js';
import type { StatementAnalysis, TableRef } from '../sql/types.js';
import type { DualEngine } from './engine.js';
import type { Statement } from './statement.js';

/**
 * Whether `side` holds current data for a table in `mode`: the mode writes that side (both sides in the `*_first`
 * modes, only the primary side in the `*_only` modes).
 *
 * @param mode - the table's effective mode
 * @param side - a side
 * @returns `true` when writes to the table reach `side`
 */
export function currentOn(mode: Mode, side: Side): boolean {
  return writesBothSides(mode) || primarySide(mode) === side;
}

/**
 * The tables a statement names, with their effective modes under `state`. Unqualified names resolve against
 * `database` (the default database of the session, or of the default mode's primary side for pool-level statements).
 *
 * @param state - the flag state the statement runs under
 * @param statement - the analyzed statement
 * @param database - the default database unqualified names resolve to
 * @returns the written tables first, then the tables only read
 */
export function tableModesOf(state: FlagState, statement: Statement, database: string | null): readonly TableModeEntry[] {
  // The analysis is shared by every statement of the same text (the analyzer's cache): remember the answer for the
  // last state and database, so that repeated statements cost one lookup instead of building names again.
  const cached = lastEntries.get(statement.analysis);
  if (cached !== undefined && cached.state === state && cached.database === database) return cached.entries;
  const entries = listTableModes(state, statement, database);
  lastEntries.set(statement.analysis, { state, database, entries });
  return entries;
}

/** The last answer of {@link tableModesOf} per analysis. */
const lastEntries = new WeakMap<StatementAnalysis, { readonly state: FlagState; readonly database: string | null; readonly entries: readonly TableModeEntry[] }>();

function listTableModes(state: FlagState, statement: Statement, database: string | null): readonly TableModeEntry[] {
  const { tablesWritten, tablesRead } = statement.analysis;
  const entries: TableModeEntry[] = [];
  const seen = new Set<string>();
  const add = (ref: TableRef, access: 'write' | 'read'): void => {
    const schema = ref.schema ?? database;
    const table = schema === null ? ref.name : `${schema}.${ref.name}`;
    const key = table.toLowerCase();
    if (seen.has(key)) return;
    seen.add(key);
    entries.push({ table, mode: tableMode(state, schema, ref.name), access });
  };
  for (const ref of tablesWritten) add(ref, 'write');
  for (const ref of tablesRead) add(ref, 'read');
  return entries;
}

/**
 * The mode a pool-level write (or DDL, or other non-read statement) runs under: the effective mode of the tables it
 * writes, or the default mode when it names none (CALL, DO …) or the state has no overrides. Unqualified names
 * resolve against the default database of the default mode's primary side.
 *
 * @param engine - the pool's engine
 * @param statement - the analyzed statement
 * @param state - the flag state of its write ticket
 * @returns the mode to run it under
 * @throws {@link TableModesConflictError} when it writes tables in different modes, or reads a table whose data is
 *   not current on the primary side of that mode (nothing has run)
 */
export function writeMode(engine: DualEngine, statement: Statement, state: FlagState): Mode {
  if (state.tableModes === undefined) return state.mode;
  const entries = tableModesOf(state, statement, engine.sides[primarySide(state.mode)].database);
  try {
    return modeForWrite(statement, entries, state.mode);
  } catch (error) {
    engine.stats.refusedWrites += 1;
    throw error;
  }
}

/**
 * The one mode the written tables of `entries` share (`fallback` when it writes none it names), checked against the
 * tables the statement only reads. The analyzer lists the tables read by SELECT … INTO, not those read by
 * INSERT … SELECT or by a subquery of a write (docs/modes.md says so).
 *
 * @param statement - the statement (for the error message)
 * @param entries - its tables with their modes ({@link tableModesOf})
 * @param fallback - the mode when it writes no table it names
 * @throws {@link TableModesConflictError} as {@link writeMode}
 */
export function modeForWrite(statement: Statement, entries: readonly TableModeEntry[], fallback: Mode): Mode {
  // Plain loops: this runs for every write when some table has its own mode.
  let mode: Mode | undefined;
  let mixed = false;
  for (const entry of entries) {
    if (entry.access !== 'write') continue;
    if (mode === undefined) mode = entry.mode as Mode;
    else if (entry.mode !== mode) mixed = true;
  }
  mode ??= fallback;
  if (mixed) {
    throw new TableModesConflictError(
      statement.text,
      entries,
      'it writes tables that are in different modes, so no single primary side and replay fits all of them',
      'Write each table in its own statement, or switch the tables to the same mode first.',
    );
  }
  const primary = primarySide(mode);
  let stale = false;
  for (const entry of entries) if (entry.access === 'read' && !currentOn(entry.mode as Mode, primary)) stale = true;
  if (stale) {
    throw new TableModesConflictError(
      statement.text,
      entries,
      `it runs on the ${primary} side (the primary side of ${mode}), but reads a table whose writes no longer reach that side`,
      'Read that table in a statement of its own, or switch the tables to modes that keep both sides current (the *_first modes).',
    );
  }
  return mode;
}

/**
 * The side a pool-level read (`pool.query()` / `pool.execute()` of a statement that writes nothing) runs on: one
 * whose data is current for every table it reads, preferring the primary side of the default mode (always that one
 * without per-table modes, for one field read). Read routing (gray and shadow reads) builds on this choice. Tables
 * the analyzer cannot see (behind a view or a stored function) are not considered.
 *
 * @param engine - the pool's engine
 * @param statement - the analyzed read
 * @param state - the flag state in force
 * @returns the side
 * @throws {@link TableModesConflictError} when no side is current for every table read (nothing has run)
 */
export function readSide(engine: DualEngine, statement: Statement, state: FlagState): Side {
  const preferred = primarySide(state.mode);
  if (state.tableModes === undefined) return preferred;
  const { tablesRead, tablesWritten } = statement.analysis;
  if (tablesRead.length === 0 && tablesWritten.length === 0) return preferred;
  const entries = tableModesOf(state, statement, engine.sides[preferred].database);
  if (entries.every((entry) => currentOn(entry.mode as Mode, preferred))) return preferred;
  const other = oppositeSide(preferred);
  if (entries.every((entry) => currentOn(entry.mode as Mode, other))) return other;
  throw new TableModesConflictError(
    statement.text,
    entries,
    'no side holds current data for every table it reads (a table in source_only is current on the source only, one in target_only on the target only)',
    'Read those tables in separate statements, or move them to modes that share a current side.',
  );
}

/**
 * Refuses a write in a `*_only` mode while `state` is stale (unless the pool allows it with `staleWrites: 'allow'`).
 *
 * @param engine - the pool's engine
 * @param state - the flag state in force
 * @param mode - the write's effective mode
 * @param statement - the write (its first table is named in the error)
 * @throws {@link FlagsStaleError} when the write must not run (nothing has run)
 */
export function refuseStaleWrite(engine: DualEngine, state: FlagState, mode: Mode, statement: Statement): void {
  if (state.stale !== true || writesBothSides(mode) || engine.options.staleWrites === 'allow') return;
  const { analysis } = statement;
  if (analysis.class === 'other' && analysis.unsafe.length === 0) return; // changes no data (DO 1, FLUSH …)
  engine.stats.refusedWrites += 1;
  const ref = statement.analysis.tablesWritten[0];
  throw new FlagsStaleError(mode, staleFor(engine), ref === undefined ? null : ref.schema === null ? ref.name : `${ref.schema}.${ref.name}`);
}

/** How long the provider has been cut off, when it reports it (RedisFlagProvider's `status()`), else `null`. */
function staleFor(engine: DualEngine): number | null {
  const status = (engine.flags as { status?: () => { connected?: unknown; since?: unknown } }).status;
  if (typeof status !== 'function') return null;
  const { connected, since } = status.call(engine.flags);
  return connected === false && typeof since === 'number' ? Math.max(0, Date.now() - since) : null;
}

/**
 * The mode a checked-out connection works in, from its pinned state: the default mode, except that a connection
 * pinned in `P_only` works as `P_first` (it mirrors its session and transactions on the other side) when some table
 * is in `P_first` (same primary side `P`), so that it can write that table; its statements on `P_only` tables then
 * run on the primary side only.
 *
 * @param state - the pinned flag state
 * @returns the mode the connection's session runs in
 */
export function connectionMode(state: FlagState): Mode {
  const mode = state.mode;
  if (writesBothSides(mode) || state.tableModes === undefined) return mode;
  const dual: Mode = mode === 'source_only' ? 'source_first' : 'target_first';
  return Object.values(state.tableModes).includes(dual) ? dual : mode;
}
