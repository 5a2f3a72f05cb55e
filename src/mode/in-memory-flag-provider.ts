/**
 * `InMemoryFlagProvider`: a mode held in memory and changed by code.
 *
 * @module
 */
import type { FlagListener, FlagProvider, FlagState } from './flag-provider.js';
import { FlagListeners, freezeState } from './internal.js';
import { parseMode, type Mode } from './modes.js';
import { checkTableKey, checkTableModes } from './table-modes.js';

/** Options of {@link InMemoryFlagProvider}. */
export interface InMemoryFlagProviderOptions {
  /** Who or what set the initial mode, recorded as `source` of the first state. */
  source?: string;
  /**
   * Called when a listener throws. The other listeners still run and the
   * change still takes effect.
   *
   * @defaultValue re-throws the error from a microtask (`queueMicrotask`), so
   *   it surfaces as an uncaught exception instead of being swallowed
   */
  onListenerError?: (error: unknown, next: FlagState, previous: FlagState) => void;
  /**
   * Clock for `updatedAt`, in milliseconds since the epoch.
   *
   * @defaultValue `Date.now`
   */
  now?: () => number;
  /** Per-table overrides in force from the start, keyed by `schema.table` (see {@link FlagState.tableModes}). */
  tableModes?: Readonly<Record<string, Mode>>;
}

/** Options of {@link InMemoryFlagProvider.set}. */
export interface SetModeOptions {
  /** Who or what set the mode (an operator, a tool), recorded for the audit. */
  source?: string;
  /**
   * Sets the mode of this one table (`schema.table`) instead of the default mode: the table then runs in `mode`
   * whatever the default is, until {@link InMemoryFlagProvider.clearTableMode}. See docs/modes.md, "Per-table modes".
   */
  table?: string;
}

/**
 * A mode held in memory, changed with {@link InMemoryFlagProvider.set}. The
 * starting point for tests, single-process services, and control code that
 * learns the mode some other way.
 *
 * The first state has version 0; each change adds 1.
 *
 * @example
 * const flags = new InMemoryFlagProvider('source_only');
 * flags.set('source_first', { source: 'ops: start dual-write' }); // → { mode: 'source_first', version: 1, … }
 * flags.set('source_first', { table: 'shop.orders' }); // only shop.orders: { mode: 'source_only', tableModes: { 'shop.orders': 'source_first' }, … }
 */
export class InMemoryFlagProvider implements FlagProvider {
  #state: FlagState;
  readonly #listeners: FlagListeners;
  readonly #now: () => number;

  /**
   * @param initial - the mode in force until the first `set()`
   * @param options - see {@link InMemoryFlagProviderOptions}
   * @throws {@link InvalidModeError} when `initial` is not a mode
   * @throws {@link InvalidOptionError} when `tableModes` holds a bad key or mode
   */
  constructor(initial: Mode, options: InMemoryFlagProviderOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#listeners = new FlagListeners(options.onListenerError);
    const mode = parseMode(initial, 'the InMemoryFlagProvider initial mode');
    const tableModes = checkTableModes(options.tableModes, 'InMemoryFlagProvider tableModes');
    this.#state = withTableModes(freezeState(mode, 0, this.#now(), options.source), tableModes);
  }

  /** The state in force (a field read). */
  current(): FlagState {
    return this.#state;
  }

  /** {@inheritDoc FlagProvider.subscribe} */
  subscribe(listener: FlagListener): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * Changes the default mode, or with `options.table` the mode of one table. Setting the mode in force changes
   * nothing (no new version, no notification). Otherwise the version goes up by one and every listener is called
   * before `set()` returns; a throwing listener is reported through `onListenerError` and stops neither the others
   * nor the change.
   *
   * @param mode - the new mode
   * @param options - `source`: who or what set it; `table`: the one table (`schema.table`) it applies to
   * @returns the state in force afterwards
   * @throws {@link InvalidModeError} when `mode` is not a mode (nothing changes)
   * @throws {@link InvalidOptionError} when `table` is not a `schema.table` name (nothing changes)
   */
  set(mode: Mode, options: SetModeOptions = {}): FlagState {
    const checked = parseMode(mode, 'InMemoryFlagProvider.set()');
    const previous = this.#state;
    if (options.table !== undefined) {
      const table = checkTableKey(options.table, 'InMemoryFlagProvider.set() table');
      const current = previous.tableModes ?? {};
      if (current[table] === checked) return previous;
      return this.#change(previous.mode, { ...current, [table]: checked }, options.source);
    }
    if (checked === previous.mode) return previous;
    return this.#change(checked, previous.tableModes, options.source);
  }

  /**
   * Removes the override of one table: it runs in the default mode again. A table without an override changes
   * nothing.
   *
   * @param table - the table, `schema.table`
   * @param options - `source`: who or what cleared it
   * @returns the state in force afterwards
   * @throws {@link InvalidOptionError} when `table` is not a `schema.table` name
   */
  clearTableMode(table: string, options: { source?: string } = {}): FlagState {
    checkTableKey(table, 'InMemoryFlagProvider.clearTableMode() table');
    const previous = this.#state;
    if (previous.tableModes?.[table] === undefined) return previous;
    const { [table]: _removed, ...rest } = previous.tableModes;
    return this.#change(previous.mode, rest, options.source);
  }

  #change(mode: Mode, tableModes: Readonly<Record<string, Mode>> | undefined, source: string | undefined): FlagState {
    const previous = this.#state;
    const next = withTableModes(freezeState(mode, previous.version + 1, this.#now(), source), checkTableModes(tableModes, 'InMemoryFlagProvider tableModes'));
    this.#state = next;
    this.#listeners.notify(next, previous);
    return next;
  }
}

/** `state` with `tableModes` added (frozen), or `state` itself when there are none. */
function withTableModes(state: FlagState, tableModes: Readonly<Record<string, Mode>> | undefined): FlagState {
  return tableModes === undefined ? state : Object.freeze({ ...state, tableModes });
}
