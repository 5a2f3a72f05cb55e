/**
 * `InMemoryFlagProvider`: a mode held in memory and changed by code.
 *
 * @module
 */
import type { FlagListener, FlagProvider, FlagState } from './flag-provider.js';
import { FlagListeners, freezeState } from './internal.js';
import { parseMode, type Mode } from './modes.js';

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
}

/** Options of {@link InMemoryFlagProvider.set}. */
export interface SetModeOptions {
  /** Who or what set the mode (an operator, a tool), recorded for the audit. */
  source?: string;
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
 */
export class InMemoryFlagProvider implements FlagProvider {
  #state: FlagState;
  readonly #listeners: FlagListeners;
  readonly #now: () => number;

  /**
   * @param initial - the mode in force until the first `set()`
   * @param options - see {@link InMemoryFlagProviderOptions}
   * @throws {@link InvalidModeError} when `initial` is not a mode
   */
  constructor(initial: Mode, options: InMemoryFlagProviderOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#listeners = new FlagListeners(options.onListenerError);
    const mode = parseMode(initial, 'the InMemoryFlagProvider initial mode');
    this.#state = freezeState(mode, 0, this.#now(), options.source);
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
   * Changes the mode. Setting the mode in force changes nothing (no new
   * version, no notification). Otherwise the version goes up by one and every
   * listener is called before `set()` returns; a throwing listener is reported
   * through `onListenerError` and stops neither the others nor the change.
   *
   * @param mode - the new mode
   * @param options - `source`: who or what set it
   * @returns the state in force afterwards
   * @throws {@link InvalidModeError} when `mode` is not a mode (nothing changes)
   */
  set(mode: Mode, options: SetModeOptions = {}): FlagState {
    const checked = parseMode(mode, 'InMemoryFlagProvider.set()');
    const previous = this.#state;
    if (checked === previous.mode) return previous;
    const next = freezeState(checked, previous.version + 1, this.#now(), options.source);
    this.#state = next;
    this.#listeners.notify(next, previous);
    return next;
  }
}
