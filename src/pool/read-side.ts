/**
 * Which side serves a pool-level read (`pool.query()` / `pool.execute()` of a statement that writes nothing):
 * the primary side of the mode in force. Per-table modes and read routing (gray and shadow reads) decide here.
 *
 * @module
 */
import type { FlagState } from '../mode/flag-provider.js';
import { primarySide, type Side } from '../mode/modes.js';
import type { DualEngine } from './engine.js';
import type { Statement } from './statement.js';

/**
 * The side whose data is current for every table `statement` reads, under `state`.
 *
 * @param engine - the pool's engine (table metadata, default databases)
 * @param statement - the analyzed read
 * @param state - the flag state in force
 */
export function readSide(engine: DualEngine, statement: Statement, state: FlagState): Side {
  void engine;
  void statement;
  return primarySide(state.mode);
}
