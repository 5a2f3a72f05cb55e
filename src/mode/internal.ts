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
