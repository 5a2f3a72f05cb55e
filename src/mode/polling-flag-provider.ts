/**
 * `PollingFlagProvider`: reads the mode from a user function at a fixed
 * interval. The route for config centers (Nacos, Apollo, Consul, etcd, a
 * database row): wrap the client's read in `read`.
 *
 * @module
 */
import { ClosedError, FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../errors.js';
import type { FlagListener, FlagProvider, FlagState, FlagStateLike, LoadedFlagProviderOptions } from './flag-provider.js';
import { FlagListeners, freezeState, reportSafely } from './internal.js';
import { MODES, parseMode, type Mode } from './modes.js';
import { checkTableModes } from './table-modes.js';

/**
 * What a {@link PollingFlagProviderOptions.read} function may return: a mode
 * name, or a {@link FlagStateLike} object. Checked at run time, so the
 * untyped answer of a config client can be returned as it is.
 */
export type PolledFlag = string | FlagStateLike;

/** Options of {@link PollingFlagProvider}. */
export interface PollingFlagProviderOptions extends LoadedFlagProviderOptions {
  /**
   * Reads the mode from its source. May be synchronous or return a promise.
   * It is never called again before the previous call settled. Give it a
   * timeout of its own: a call that never settles stops the polling (no
   * later read starts while it is pending).
   */
  read: () => PolledFlag | Promise<PolledFlag>;
  /**
   * Delay between the end of one read and the start of the next, in
   * milliseconds. A slow read delays the next one; reads never overlap.
   *
   * @defaultValue 1000
   */
  intervalMs?: number;
  /**
   * Mode to use until the first read succeeds. Without it, `start()` rejects
   * when the first read fails, and `current()` throws until a read succeeds.
   * With it, a failed first read is reported through `onError` and `start()`
   * resolves.
   */
  initial?: Mode;
}

/** Default of {@link PollingFlagProviderOptions.intervalMs}. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** Longest delay `setTimeout` honours. */
const MAX_TIMER_MS = 2_147_483_647;

const WHERE = 'the PollingFlagProvider read() function';

/**
 * A mode read from a user function every `intervalMs`.
 *
 * - `start()` does the first read (see {@link PollingFlagProviderOptions.initial}), then polls.
 * - A read that fails or returns an invalid value changes nothing: the last
 *   good mode stays, the error goes to `onError` and `lastError`.
 * - A read that returns the mode in force changes nothing. A different mode
 *   becomes a new state (version + 1) and listeners are called.
 * - Reads never overlap: the next read is scheduled `intervalMs` after the
 *   previous one settled; `refresh()` during a read joins it.
 * - The timer is `unref()`ed: it never keeps the process alive. `close()` stops it.
 *
 * Versions start at 0 (the `initial` state, or the first state read).
 *
 * @example
 * const flags = new PollingFlagProvider({
 *   read: async () => (await configClient.get('dualwrite.mode')).trim(),
 *   intervalMs: 2000,
 *   onError: (error) => logger.warn(error.message),
 * });
 * await flags.start();
 */
export class PollingFlagProvider implements FlagProvider {
  #state: FlagState | undefined;
  readonly #listeners: FlagListeners;
  readonly #read: () => PolledFlag | Promise<PolledFlag>;
  readonly #intervalMs: number;
  readonly #onError: ((error: FlagLoadError | InvalidModeError) => void) | undefined;
  readonly #source: string | undefined;
  readonly #now: () => number;
  #reading: Promise<FlagLoadError | InvalidModeError | undefined> | undefined;
  #starting: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #lastError: FlagLoadError | InvalidModeError | undefined;

  /**
   * @param options - see {@link PollingFlagProviderOptions}
   * @throws {@link InvalidOptionError} when `read` is not a function or `intervalMs` is out of range
   * @throws {@link InvalidModeError} when `initial` is given and is not a mode
   */
  constructor(options: PollingFlagProviderOptions) {
    if (typeof options.read !== 'function') {
      throw new InvalidOptionError('PollingFlagProvider read', options.read, 'a function returning the mode');
    }
    const intervalMs = options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    if (typeof intervalMs !== 'number' || !(intervalMs > 0 && intervalMs <= MAX_TIMER_MS)) {
      throw new InvalidOptionError('PollingFlagProvider intervalMs', intervalMs, `a number of milliseconds above 0 and at most ${MAX_TIMER_MS}`);
    }
    this.#read = options.read;
    this.#intervalMs = intervalMs;
    this.#onError = options.onError;
    this.#source = options.source;
    this.#now = options.now ?? Date.now;
    this.#listeners = new FlagListeners(options.onListenerError);
    if (options.initial !== undefined) {
      const mode = parseMode(options.initial, 'the PollingFlagProvider initial option');
      this.#state = freezeState(mode, 0, this.#now(), this.#source);
    }
  }

  /**
   * The state in force (a field read).
   *
   * @throws {@link FlagsNotReadyError} before the first successful read when no `initial` mode was given
   */
  current(): FlagState {
    const state = this.#state;
    if (state === undefined) throw new FlagsNotReadyError('PollingFlagProvider');
    return state;
  }

  /** {@inheritDoc FlagProvider.subscribe} */
  subscribe(listener: FlagListener): () => void {
    return this.#listeners.add(listener);
  }

  /**
   * The error of the last read, or `undefined` when the last read succeeded
   * (or none has run yet).
   */
  get lastError(): FlagLoadError | InvalidModeError | undefined {
    return this.#lastError;
  }

  /**
   * Does the first read, then polls every `intervalMs`. Calling it again
   * returns the same promise.
   *
   * @returns resolves once the provider has a mode (read, or `initial` after a failed first read)
   * @throws {@link FlagLoadError} when the first read fails or returns an invalid value and no
   *   `initial` was given; polling does not start, and `start()` may be called again
   * @throws {@link ClosedError} after `close()`
   */
  start(): Promise<void> {
    if (this.#closed) {
      return Promise.reject(new ClosedError('PollingFlagProvider.start() was called after close()', 'A closed provider does not poll again; create a new one.'));
    }
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /**
   * Reads now, without waiting for the timer (joins the read in progress, if
   * any). Does not start polling.
   *
   * @returns the state in force after the read
   * @throws the read's {@link FlagLoadError} or {@link InvalidModeError}; the last good state stays in force
   * @throws {@link ClosedError} after `close()`
   */
  async refresh(): Promise<FlagState> {
    if (this.#closed) {
      throw new ClosedError('PollingFlagProvider.refresh() was called after close()', 'A closed provider does not read again; create a new one.');
    }
    const error = await this.#poll();
    if (error !== undefined) throw error;
    return this.current();
  }

  /**
   * Stops polling. A read in progress finishes but its result is ignored.
   * The last state stays readable through `current()`. Idempotent.
   */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    return Promise.resolve();
  }

  async #start(): Promise<void> {
    const error = await this.#poll();
    if (this.#closed) return;
    if (error !== undefined) {
      if (this.#state === undefined) {
        this.#starting = undefined; // let the caller retry
        throw error;
      }
      this.#report(error);
    }
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed) return;
    const timer = setTimeout(() => this.#tick(), this.#intervalMs);
    timer.unref();
    this.#timer = timer;
  }

  #tick(): void {
    this.#timer = undefined;
    void this.#poll().then((error) => {
      this.#schedule();
      if (error !== undefined) this.#report(error);
    });
  }

  #report(error: FlagLoadError | InvalidModeError): void {
    const onError = this.#onError;
    if (onError !== undefined) reportSafely(onError, error);
  }

  /** One read at a time: joins the read in progress. Never rejects. */
  #poll(): Promise<FlagLoadError | InvalidModeError | undefined> {
    this.#reading ??= this.#readOnce().finally(() => {
      this.#reading = undefined;
    });
    return this.#reading;
  }

  async #readOnce(): Promise<FlagLoadError | InvalidModeError | undefined> {
    let raw: unknown;
    try {
      raw = await this.#read();
    } catch (cause) {
      return this.#closed ? undefined : this.#fail(new FlagLoadError(`the mode from ${WHERE}`, this.#consequence(), { cause }));
    }
    if (this.#closed) return undefined;
    let input: FlagInput;
    try {
      input = toInput(raw);
    } catch (error) {
      if (!(error instanceof InvalidModeError)) throw error;
      return this.#fail(
        this.#state === undefined ? new FlagLoadError(`the mode from ${WHERE}`, this.#consequence(), { cause: error }) : error,
      );
    }
    this.#lastError = undefined;
    const previous = this.#state;
    if (previous !== undefined && previous.mode === input.mode && sameTableModes(previous.tableModes, input.tableModes)) return undefined;
    const base = freezeState(
      input.mode,
      previous === undefined ? 0 : previous.version + 1,
      input.updatedAt ?? this.#now(),
      input.source ?? this.#source,
    );
    const next = input.tableModes === undefined ? base : Object.freeze({ ...base, tableModes: input.tableModes });
    this.#state = next;
    if (previous !== undefined) this.#listeners.notify(next, previous);
    return undefined;
  }

  #fail(error: FlagLoadError | InvalidModeError): FlagLoadError | InvalidModeError {
    this.#lastError = error;
    return error;
  }

  #consequence(): string {
    const state = this.#state;
    return state === undefined
      ? 'There is no mode yet and no `initial` mode was given, so the provider cannot be used: start() rejects until a read succeeds (call it again), or pass `initial`.'
      : `The mode in force (${state.mode}, version ${state.version}) stays until a read succeeds; the next read is in ${this.#intervalMs} ms.`;
  }
}

/** A read's answer, checked. */
interface FlagInput {
  mode: Mode;
  source?: string;
  updatedAt?: number;
  tableModes?: Readonly<Record<string, Mode>>;
}

/** Checks a read's answer: a mode name, or an object with a `mode`. */
function toInput(raw: unknown): FlagInput {
  if (typeof raw === 'string') return { mode: parseMode(raw, WHERE) };
  if (typeof raw === 'object' && raw !== null && 'mode' in raw) {
    const object = raw as { mode: unknown; source?: unknown; updatedAt?: unknown; tableModes?: unknown };
    const mode = parseMode(object.mode, `the \`mode\` field returned by ${WHERE}`);
    const input: FlagInput = { mode };
    const tableModes = readTableModes(object.tableModes);
    if (tableModes !== undefined) input.tableModes = tableModes;
    if (typeof object.source === 'string') input.source = object.source;
    if (typeof object.updatedAt === 'number' && Number.isFinite(object.updatedAt)) input.updatedAt = object.updatedAt;
    return input;
  }
  throw new InvalidModeError(raw, WHERE, MODES);
}

/** Checks the `tableModes` of a read's answer (a bad key or mode rejects the whole answer); empty means none. */
function readTableModes(raw: unknown): Readonly<Record<string, Mode>> | undefined {
  if (raw === undefined || raw === null) return undefined;
  try {
    return checkTableModes(raw as Record<string, Mode>, `the \`tableModes\` field returned by ${WHERE}`);
  } catch (cause) {
    throw new InvalidModeError(raw, `the \`tableModes\` field returned by ${WHERE} (${(cause as Error).message})`, MODES, { cause });
  }
}

/** Whether two sets of overrides are equal (both absent counts as equal). */
function sameTableModes(a: Readonly<Record<string, Mode>> | undefined, b: Readonly<Record<string, Mode>> | undefined): boolean {
  const x = Object.entries(a ?? {});
  if (x.length !== Object.keys(b ?? {}).length) return false;
  return x.every(([table, mode]) => b?.[table] === mode);
}
