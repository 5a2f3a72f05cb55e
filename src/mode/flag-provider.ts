/**
 * `FlagProvider`: where the pool learns its mode, and how it hears that the
 * mode changed. Providers in this folder: {@link InMemoryFlagProvider} (set by
 * code) and {@link PollingFlagProvider} (polls a user function, the route for
 * config centers such as Nacos, Apollo or Consul). Later providers (Redis,
 * file, HTTP, OpenFeature) implement the same interface.
 *
 * @module
 */
import type { FlagLoadError, InvalidModeError } from '../errors.js';
import type { Mode } from './modes.js';

/**
 * Read-routing settings carried by a {@link FlagState}: the fleet-wide shares of pool-level reads that are gray
 * (served by the secondary side) or shadowed (also run on the secondary side and compared). A field given here
 * overrides the pool's own `readRouting` option of the same name; an absent field leaves the pool's option in
 * force. Every field is optional so that new settings can be added without breaking providers or callers.
 * See docs/read-routing.md.
 */
export interface ReadRoutingSettings {
  /**
   * Percentage (0 to 100) of pool-level reads served by the secondary side in the `*_first` modes ("gray
   * reads"), to try the secondary under real load before it becomes primary.
   */
  readonly grayReadPercent?: number;
  /**
   * Percentage (0 to 100) of pool-level reads also run on the secondary side in the `*_first` modes, whose result
   * is compared with the primary's ("shadow reads"); the caller always gets the primary's answer.
   */
  readonly shadowReadPercent?: number;
}

/**
 * The flag values in force at one version of a provider. Immutable: a change
 * produces a new object with a higher `version`.
 */
export interface FlagState {
  /** The mode of the whole pool (tables without an override in {@link FlagState.tableModes}). */
  readonly mode: Mode;
  /**
   * Increases with every change, per provider (never reused, never decreases).
   * Compare versions of the same provider only.
   */
  readonly version: number;
  /** When this state was set, in milliseconds since the epoch. */
  readonly updatedAt: number;
  /** Who or what set this state (an operator, a tool, a config key), for the audit. */
  readonly source?: string;
  /**
   * Per-table mode overrides, keyed by `schema.table` (matched case-insensitively): such a table runs in its own
   * mode instead of {@link FlagState.mode}, so that a migration can move one table at a time. Absent (or empty)
   * means every table runs in `mode`. See docs/modes.md, "Per-table modes".
   */
  readonly tableModes?: Readonly<Record<string, Mode>>;
  /**
   * Whether the provider has lost its flag source for longer than it trusts its last value (set by
   * `RedisFlagProvider` after `staleAfterMs` without Redis). While the state in force is stale, the pool
   * refuses writes in the `*_only` modes (option `staleWrites`); absent means not stale.
   */
  readonly stale?: boolean;
  /** Read-routing settings (gray and shadow read shares), overriding the pool's own options. */
  readonly readRouting?: ReadRoutingSettings;
}

/**
 * What a flag source may hand to a provider: the mode, and optionally who set
 * it and when. The provider assigns the version.
 */
export interface FlagStateLike {
  /** The mode (validated at run time with {@link parseMode}). */
  readonly mode: Mode;
  /** Who or what set it, for the audit. */
  readonly source?: string;
  /** When it was set, in milliseconds since the epoch; defaults to the time it was read. */
  readonly updatedAt?: number;
  /** Per-table mode overrides, keyed by `schema.table` (see {@link FlagState.tableModes}). */
  readonly tableModes?: Readonly<Record<string, Mode>>;
}

/**
 * Called after a provider's state changed. `next` is the new state, `previous`
 * the state it replaced. Listeners are called synchronously, in subscription
 * order, one change at a time and in version order: a change made from inside
 * a listener is delivered after the current change has reached every
 * listener (so `provider.current()` may already be newer than `next`).
 */
export type FlagListener = (next: FlagState, previous: FlagState) => void;

/**
 * Source of the pool's mode.
 *
 * Contract for implementers:
 * - `current()` is called for every statement the pool runs: return a field,
 *   never compute, never do I/O.
 * - A change produces a new frozen {@link FlagState} with a higher version and
 *   notifies every listener once; a value equal to the current one changes
 *   nothing (no new version, no notification).
 * - A value that cannot be read or is invalid never replaces the state in
 *   force: the provider keeps the last good state and reports the error.
 */
export interface FlagProvider {
  /**
   * The state in force. Synchronous and cheap (a field read): it runs for every statement.
   *
   * @throws {@link FlagsNotReadyError} from providers that load their first
   *   value in `start()`, when called before that load succeeded
   */
  current(): FlagState;
  /**
   * Registers a listener for changes. It is not called for the state in force
   * at subscription time; read `current()` for that.
   *
   * @param listener - called with (next, previous) after each change
   * @returns a function that removes this listener (calling it twice is harmless)
   */
  subscribe(listener: FlagListener): () => void;
  /**
   * Loads the first value and starts watching for changes, for providers that
   * need it. Await it before handing the provider to a pool. Calling it again
   * returns the same promise.
   */
  start?(): Promise<void>;
  /** Stops watching (timers, connections). The state in force stays readable. */
  close?(): Promise<void>;
}

/**
 * Options shared by the providers that load their state from somewhere else (polling function, file, Redis):
 * how load errors, throwing listeners, the audit source and the clock are handled.
 */
export interface LoadedFlagProviderOptions {
  /**
   * Called when a load fails ({@link FlagLoadError}, the underlying error in `cause`) or returns something that is
   * not a mode ({@link InvalidModeError}). The last good state stays in force: a provider never falls back to a
   * default. Errors that reject `start()` are not passed here too.
   *
   * @defaultValue none: the error is kept by the provider (`lastError`) only (a config-source outage must not crash
   *   the fleet); pass a function to log it.
   */
  readonly onError?: (error: FlagLoadError | InvalidModeError) => void;
  /**
   * Called when a listener throws (with the error and the change it was told of); the other listeners and the
   * change go on regardless.
   *
   * @defaultValue re-throws from a microtask
   */
  readonly onListenerError?: (error: unknown, next: FlagState, previous: FlagState) => void;
  /** Recorded as the `source` of states whose loaded value names none. */
  readonly source?: string;
  /**
   * Clock for `updatedAt`, in milliseconds since the epoch.
   *
   * @defaultValue `Date.now`
   */
  readonly now?: () => number;
}
