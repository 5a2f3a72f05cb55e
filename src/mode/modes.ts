/**
 * The four run-time modes of a dual-write pool, in migration order, and the
 * facts the pool derives from a mode: which side answers the caller (primary),
 * which side receives the replay (secondary), and whether a switch is one step
 * along the migration.
 *
 * @module
 */
import { InvalidModeError } from '../errors.js';

/**
 * A run-time mode of the pool.
 *
 * - `source_only`: every statement runs on the source; the target is not touched.
 * - `source_first`: writes run on the source (which answers the caller), then are replayed on the target.
 * - `target_first`: writes run on the target (which answers the caller), then are replayed on the source.
 * - `target_only`: every statement runs on the target; the source is not touched.
 */
export type Mode = 'source_only' | 'source_first' | 'target_first' | 'target_only';

/** One of the two databases: `source` (migrated away from) or `target` (migrated to). */
export type Side = 'source' | 'target';

/**
 * The four modes in migration order: a migration moves forward one step at a
 * time along this list, and a rollback moves back one step at a time.
 */
export const MODES: readonly ['source_only', 'source_first', 'target_first', 'target_only'] = Object.freeze([
  'source_only',
  'source_first',
  'target_first',
  'target_only',
] as const);

/**
 * Whether `value` is exactly one of the four mode names (no trimming, no case folding).
 *
 * @param value - anything
 * @returns `true` when `value` is a {@link Mode}
 */
export function isMode(value: unknown): value is Mode {
  return value === 'source_only' || value === 'source_first' || value === 'target_first' || value === 'target_only';
}

/**
 * Reads a mode from an outside value (an option, a config center, a file, an
 * HTTP answer). Surrounding whitespace is ignored (files end with a newline);
 * nothing else is forgiven: case and spelling must match a mode exactly.
 *
 * @param value - the value to read
 * @param where - where the value came from, for the error message, e.g. `"the PollingFlagProvider read() function"`
 * @returns the mode
 * @throws {@link InvalidModeError} when `value` is not one of the four modes
 */
export function parseMode(value: unknown, where: string): Mode {
  if (isMode(value)) return value;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (isMode(trimmed)) return trimmed;
  }
  throw new InvalidModeError(value, where, MODES);
}

/**
 * The side that answers the caller in `mode`: the source in `source_*` modes,
 * the target in `target_*` modes.
 *
 * @param mode - a mode
 * @returns the primary side
 */
export function primarySide(mode: Mode): Side {
  return mode === 'source_only' || mode === 'source_first' ? 'source' : 'target';
}

/**
 * The side that receives the replay in `mode`, or `null` in the `*_only`
 * modes, which use one side.
 *
 * @param mode - a mode
 * @returns the secondary side, or `null`
 */
export function secondarySide(mode: Mode): Side | null {
  switch (mode) {
    case 'source_first':
      return 'target';
    case 'target_first':
      return 'source';
    default:
      return null;
  }
}

/**
 * Whether writes go to both sides in `mode` (the `*_first` modes).
 *
 * @param mode - a mode
 * @returns `true` for `source_first` and `target_first`
 */
export function writesBothSides(mode: Mode): boolean {
  return mode === 'source_first' || mode === 'target_first';
}

/**
 * Whether switching from `from` to `to` moves exactly one step along
 * `source_only → source_first → target_first → target_only`, in either
 * direction. Staying in the same mode is not a step (`false`). The pool
 * allows any switch; a guarded cut-over refuses the others, and switch events
 * report this.
 *
 * @param from - the mode in force
 * @param to - the mode switched to
 * @returns `true` for a one-step move forward or back
 */
export function isAdjacentSwitch(from: Mode, to: Mode): boolean {
  return Math.abs(MODES.indexOf(from) - MODES.indexOf(to)) === 1;
}

/**
 * The other side: `target` for `source` and `source` for `target`.
 *
 * @param side - a side
 * @returns the opposite side
 */
export function oppositeSide(side: Side): Side {
  return side === 'source' ? 'target' : 'source';
}
