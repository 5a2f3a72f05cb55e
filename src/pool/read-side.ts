/**
 * Which side serves a pool-level read (`pool.query()` / `pool.execute()` of a statement that writes nothing): the
 * primary side of the default mode, unless per-table modes make another side the only current one for the tables
 * read. Read routing (gray and shadow reads) builds on this choice.
 *
 * @module
 */
import type { FlagState } from '../mode/flag-provider.js';
import type { Side } from '../mode/modes.js';
import type { DualEngine } from './engine.js';
import type { Statement } from './statement.js';
import { currentReadSide } from './table-modes.js';

/**
 * The side whose data is current for every table `statement` reads, under `state`: the primary side of
 * `state.mode` when it is current for all of them (always, without per-table modes), else the other side when that
 * one is. Costs one field read when `state` has no `tableModes`; otherwise map lookups on the cached analysis.
 *
 * @param engine - the pool's engine (default databases)
 * @param statement - the analyzed read
 * @param state - the flag state in force
 * @returns the side to read from
 * @throws {@link TableModesConflictError} when no side is current for every table read (e.g. one table in
 *   `source_only` and another in `target_only`); deliver it to the caller as the query's error
 */
export function readSide(engine: DualEngine, statement: Statement, state: FlagState): Side {
  return currentReadSide(engine, statement, state);
}
