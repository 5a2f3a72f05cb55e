/**
 * Internal helpers of the flag providers and the mode gate: the listener list,
 * state construction, and the default way to surface an error thrown by user
 * code that has no caller to return to.
 *
 * @module
 * @internal
 */
import type { FlagListener, FlagState } from './flag-provider.js';
import type { Mode } from './modes.js';

/**
 * Re-throws `error` from a fresh microtask, so that it reaches the process's
 * `uncaughtException` handling instead of being swallowed, without unwinding
 * the code that caught it.
 *
 * @internal
 */
export function rethrowAsync(error: unknown): void {
  queueMicrotask(() => {
    throw error;
  });
}

/**
 * Calls `report(error)`; if the reporter itself throws, that error is
 * re-thrown asynchronously. Never throws.
 *
 * @internal
 */
export function reportSafely<E>(report: (error: E) => void, error: E): void {
  try {
    report(error);
  } catch (reporterError) {
    rethrowAsync(reporterError);
  }
}

interface Entry {
  readonly listener: FlagListener;
}

/**
 * Subscribers of one provider. Delivers changes synchronously, in version
 * order, one change at a time; a throwing listener is reported and does not
 * stop the others.
 *
 * @internal
 */
export class FlagListeners {
  readonly #entries = new Set<Entry>();
  readonly #queue: Array<readonly [FlagState, FlagState]> = [];
  #delivering = false;
  readonly #onError: (error: unknown, next: FlagState, previous: FlagState) => void;

  constructor(onError: ((error: unknown, next: FlagState, previous: FlagState) => void) | undefined) {
    this.#onError = onError ?? rethrowAsync;
  }

  /** Adds a listener; returns its unsubscribe function. */
  add(listener: FlagListener): () => void {
    const entry: Entry = { listener };
    this.#entries.add(entry);
    return () => {
      this.#entries.delete(entry);
    };
  }

  /** Delivers a change to every listener (queued behind a delivery in progress). */
  notify(next: FlagState, previous: FlagState): void {
    this.#queue.push([next, previous]);
    if (this.#delivering) return;
    this.#delivering = true;
    try {
      for (let change = this.#queue.shift(); change !== undefined; change = this.#queue.shift()) {
        const [n, p] = change;
        for (const entry of Array.from(this.#entries)) {
          if (!this.#entries.has(entry)) continue; // unsubscribed by an earlier listener of this change
          try {
            entry.listener(n, p);
          } catch (error) {
            reportSafely((e) => this.#onError(e, n, p), error);
          }
        }
      }
    } finally {
      this.#delivering = false;
    }
  }
}

/**
 * Builds a frozen {@link FlagState}; `source` is left out when not given.
 *
 * @internal
 */
export function freezeState(mode: Mode, version: number, updatedAt: number, source: string | undefined): FlagState {
  return Object.freeze(source === undefined ? { mode, version, updatedAt } : { mode, version, updatedAt, source });
}

/**
 * Runs an async task one at a time, never overlapping: a call made while it runs joins that run and makes it run
 * once more after it (so a change announced mid-read is not missed), unless `stopped()` says to stop. Used by the
 * providers that re-read their source on every notification.
 */
export class SerialRunner<T> {
  readonly #task: () => Promise<T>;
  readonly #stopped: () => boolean;
  #running: Promise<T> | undefined;
  #again = false;

  /**
   * @param task - one run (must not reject, or the joined callers get its rejection)
   * @param stopped - checked before a run requested meanwhile: `true` skips it
   */
  constructor(task: () => Promise<T>, stopped: () => boolean) {
    this.#task = task;
    this.#stopped = stopped;
  }

  /** The run in progress, if any. */
  get running(): Promise<T> | undefined {
    return this.#running;
  }

  /** Starts a run, or joins the one in progress and asks for one more after it; resolves to the last run's result. */
  run(): Promise<T> {
    if (this.#running !== undefined) {
      this.#again = true;
      return this.#running;
    }
    const loop = async (): Promise<T> => {
      let result: T;
      do {
        this.#again = false;
        result = await this.#task();
      } while (this.#again && !this.#stopped());
      return result;
    };
    this.#running = loop().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }
}
