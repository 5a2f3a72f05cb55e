/**
 * `OpenFeatureFlagProvider`: the mode evaluated through an OpenFeature client, so that any OpenFeature server
 * provider (flagd, LaunchDarkly, Flagsmith, GO Feature Flag, …) can drive the pool.
 *
 * The OpenFeature SDK is not imported here: the application passes its own `Client`
 * (`OpenFeature.getClient()` of `@openfeature/server-sdk`), and this module only uses the methods described by
 * {@link OpenFeatureClientLike}. The library loads without the SDK installed.
 *
 * @module
 */
import { ClosedError, FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../errors.js';
import type { FlagListener, FlagProvider, FlagState, LoadedFlagProviderOptions, ReadRoutingSettings } from './flag-provider.js';
import { FlagListeners, reportSafely, SerialRunner } from './internal.js';
import { MODES, parseMode, type Mode } from './modes.js';
import { parseFlagDocument, sameFlagValues, stateFromDocument, type FlagDocument } from './redis-flag-document.js';

/** Default of {@link OpenFeatureFlagProviderOptions.modeKey}. */
export const DEFAULT_OPENFEATURE_MODE_KEY = 'dualwrite.mode';

/** The OpenFeature event names this provider listens to (the values of the SDK's `ProviderEvents`). */
const EVENTS = {
  ready: 'PROVIDER_READY',
  changed: 'PROVIDER_CONFIGURATION_CHANGED',
  error: 'PROVIDER_ERROR',
  stale: 'PROVIDER_STALE',
} as const;

/** The part of OpenFeature's `EvaluationDetails` this provider reads. */
export interface OpenFeatureDetailsLike<T> {
  /** The evaluated value (the default value when the evaluation failed). */
  readonly value: T;
  /** Why this value (`STATIC`, `TARGETING_MATCH`, `DISABLED`, `ERROR`, …). */
  readonly reason?: string;
  /** Set when the evaluation failed (`FLAG_NOT_FOUND`, `TYPE_MISMATCH`, `PROVIDER_NOT_READY`, …). */
  readonly errorCode?: string;
  /** The provider's explanation of `errorCode`. */
  readonly errorMessage?: string;
  /** The variant chosen, when the provider names one. */
  readonly variant?: string;
}

/**
 * An OpenFeature evaluation context: attributes of this process the flag rules may target (a `targetingKey` such as
 * the instance or service name, a region, a canary marker).
 */
export type OpenFeatureContext = Readonly<Record<string, unknown>>;

/** Handler shape of OpenFeature's `addHandler` / `removeHandler`. */
export type OpenFeatureEventHandler = (details?: unknown) => unknown;

/**
 * The methods of an OpenFeature server `Client` (`@openfeature/server-sdk`) this provider uses. A real `Client`
 * fits this interface; nothing else is needed from the SDK.
 */
export interface OpenFeatureClientLike {
  /** Evaluates a string flag (never throws: failures come back as `errorCode`). */
  getStringDetails(flagKey: string, defaultValue: string, context?: OpenFeatureContext): Promise<OpenFeatureDetailsLike<string>>;
  /** Evaluates a number flag. */
  getNumberDetails(flagKey: string, defaultValue: number, context?: OpenFeatureContext): Promise<OpenFeatureDetailsLike<number>>;
  /** Evaluates an object (JSON) flag. */
  getObjectDetails(flagKey: string, defaultValue: Record<string, never>, context?: OpenFeatureContext): Promise<OpenFeatureDetailsLike<unknown>>;
  /** Adds a provider event handler (`PROVIDER_READY`, `PROVIDER_CONFIGURATION_CHANGED`, …). */
  addHandler(eventType: string, handler: OpenFeatureEventHandler): void;
  /** Removes a handler added with `addHandler`. */
  removeHandler(eventType: string, handler: OpenFeatureEventHandler): void;
}

/** Options of {@link OpenFeatureFlagProvider} (`source` defaults to `openfeature:<modeKey>`). */
export interface OpenFeatureFlagProviderOptions extends LoadedFlagProviderOptions {
  /** The application's OpenFeature client, e.g. `OpenFeature.getClient('dualwrite')` after `setProviderAndWait`. */
  readonly client: OpenFeatureClientLike;
  /** Key of the string flag holding the mode of the whole pool. @defaultValue `'dualwrite.mode'` */
  readonly modeKey?: string;
  /**
   * Key of an object flag holding per-table modes, e.g. `{"shop.orders":"target_first"}`
   * (see {@link FlagState.tableModes}). Not evaluated when absent. A disabled flag means no overrides.
   */
  readonly tableModesKey?: string;
  /**
   * Key of an object flag holding the read-routing settings, e.g. `{"grayReadPercent":5}`
   * (see {@link FlagState.readRouting}). A disabled flag means no settings. Give this or
   * {@link OpenFeatureFlagProviderOptions.grayReadPercentKey}, not both.
   */
  readonly readRoutingKey?: string;
  /** Key of a number flag (0 to 100) holding `readRouting.grayReadPercent`. A disabled flag means no setting. */
  readonly grayReadPercentKey?: string;
  /** Evaluation context passed with every evaluation (copied at construction). @defaultValue `{}` */
  readonly context?: OpenFeatureContext;
  /**
   * Also re-evaluate on this interval, in milliseconds, for OpenFeature providers that do not emit
   * `PROVIDER_CONFIGURATION_CHANGED` (the SDK's events are the normal path). @defaultValue none: events only
   */
  readonly intervalMs?: number;
  /** Mode to use when the first evaluation fails at `start()`. Without it, `start()` rejects. */
  readonly initial?: Mode;
  /**
   * How long after a `PROVIDER_STALE` or `PROVIDER_ERROR` event, with no `PROVIDER_READY` or
   * `PROVIDER_CONFIGURATION_CHANGED` since, the state in force is marked `stale`, in milliseconds (0: at once).
   * A short outage of the flag service then changes nothing; a long one makes the pool refuse `*_only` writes
   * (its `staleWrites` option), as for a Redis provider cut off from Redis. @defaultValue 10000
   */
  readonly staleAfterMs?: number;
}

/** A state of an {@link OpenFeatureFlagProvider}. */
export interface OpenFeatureFlagState extends FlagState {
  /**
   * Whether the OpenFeature provider reported `PROVIDER_STALE` or `PROVIDER_ERROR`, and neither `PROVIDER_READY`
   * nor `PROVIDER_CONFIGURATION_CHANGED` followed within `staleAfterMs`: the values are the last good ones and may
   * be out of date (the same meaning as a stale Redis state).
   */
  readonly stale: boolean;
}

const NAME = 'OpenFeatureFlagProvider';
const MAX_TIMER_MS = 2_147_483_647;

/**
 * The mode (and optionally table modes and read routing) evaluated through an OpenFeature client.
 *
 * - `start()` subscribes to the client's events, then evaluates the flags. It is re-evaluated on
 *   `PROVIDER_READY` and every `PROVIDER_CONFIGURATION_CHANGED`, and on `intervalMs` when given. Evaluations
 *   never overlap; one requested meanwhile runs once after the one in progress.
 * - `current()` is a field read: the flags are evaluated on events, never per statement.
 * - An evaluation that fails (an OpenFeature `errorCode`, a disabled mode flag) or gives an invalid value never
 *   replaces the state in force: the error goes to `onError` and `lastError`. OpenFeature never throws from an
 *   evaluation, it returns the default value with an error code; this provider treats that as a failure, never as
 *   a mode.
 * - `PROVIDER_STALE` and `PROVIDER_ERROR` are reported through `onError`; when neither `PROVIDER_READY` nor
 *   `PROVIDER_CONFIGURATION_CHANGED` follows within `staleAfterMs`, the state in force is marked `stale` (a new
 *   state, same values). The next of those events and a good evaluation clear it.
 * - Versions start at 0. `close()` removes the handlers and stops the timer; the client stays the application's.
 *
 * @example
 * await OpenFeature.setProviderAndWait('dualwrite', new FlagdProvider());
 * const flags = new OpenFeatureFlagProvider({
 *   client: OpenFeature.getClient('dualwrite'),
 *   context: { targetingKey: os.hostname(), service: 'orders' },
 *   onError: (error) => logger.error(error.message),
 * });
 * await flags.start();
 * const pool = createPool({ source, target, flags });
 */
export class OpenFeatureFlagProvider implements FlagProvider {
  readonly #client: OpenFeatureClientLike;
  readonly #keys: { mode: string; tableModes?: string; readRouting?: string; grayReadPercent?: string };
  readonly #context: OpenFeatureContext;
  readonly #intervalMs: number | undefined;
  readonly #options: OpenFeatureFlagProviderOptions;
  readonly #listeners: FlagListeners;
  readonly #now: () => number;
  readonly #handlers: Array<[string, OpenFeatureEventHandler]>;
  #state: OpenFeatureFlagState | undefined;
  #lastError: FlagLoadError | InvalidModeError | undefined;
  #starting: Promise<void> | undefined;
  readonly #evaluations = new SerialRunner<FlagLoadError | InvalidModeError | undefined>(() => this.#evaluateOnce(), () => this.#closed);
  #timer: NodeJS.Timeout | undefined;
  #subscribed = false;
  readonly #staleAfterMs: number;
  /** A STALE or ERROR event came, and no READY or CONFIGURATION_CHANGED since. */
  #troubled = false;
  #staleTimer: NodeJS.Timeout | undefined;
  /** Whether start()'s first evaluation has settled: until then start() reports the outcome, not the handlers. */
  #started = false;
  #closed = false;

  /**
   * @param options - see {@link OpenFeatureFlagProviderOptions}
   * @throws {@link InvalidOptionError} when `client` lacks the methods used, a key is empty, both read-routing keys
   *   are given, `context` is not an object, or `intervalMs` is out of range
   * @throws {@link InvalidModeError} when `initial` is not a mode
   */
  constructor(options: OpenFeatureFlagProviderOptions) {
    const client = options.client as Partial<OpenFeatureClientLike> | undefined;
    const methods = ['getStringDetails', 'getNumberDetails', 'getObjectDetails', 'addHandler', 'removeHandler'] as const;
    if (typeof client !== 'object' || client === null || methods.some((method) => typeof client[method] !== 'function')) {
      throw new InvalidOptionError(`${NAME} client`, client, 'an OpenFeature server Client (OpenFeature.getClient() of @openfeature/server-sdk)');
    }
    const keys: { mode: string; tableModes?: string; readRouting?: string; grayReadPercent?: string } = { mode: checkKey('modeKey', options.modeKey ?? DEFAULT_OPENFEATURE_MODE_KEY) };
    if (options.tableModesKey !== undefined) keys.tableModes = checkKey('tableModesKey', options.tableModesKey);
    if (options.readRoutingKey !== undefined && options.grayReadPercentKey !== undefined) {
      throw new InvalidOptionError(`${NAME} grayReadPercentKey`, options.grayReadPercentKey, 'no grayReadPercentKey when readRoutingKey is given (the object flag carries grayReadPercent)');
    }
    if (options.readRoutingKey !== undefined) keys.readRouting = checkKey('readRoutingKey', options.readRoutingKey);
    if (options.grayReadPercentKey !== undefined) keys.grayReadPercent = checkKey('grayReadPercentKey', options.grayReadPercentKey);
    const context = options.context ?? {};
    if (typeof context !== 'object' || context === null || Array.isArray(context)) {
      throw new InvalidOptionError(`${NAME} context`, context, 'an OpenFeature evaluation context object, e.g. { targetingKey: "orders-1" }');
    }
    if (options.intervalMs !== undefined && (typeof options.intervalMs !== 'number' || !(options.intervalMs > 0 && options.intervalMs <= MAX_TIMER_MS))) {
      throw new InvalidOptionError(`${NAME} intervalMs`, options.intervalMs, `a number of milliseconds above 0 and at most ${MAX_TIMER_MS}, or nothing (events only)`);
    }
    const staleAfterMs = options.staleAfterMs ?? 10_000;
    if (typeof staleAfterMs !== 'number' || !(staleAfterMs >= 0 && staleAfterMs <= MAX_TIMER_MS)) {
      throw new InvalidOptionError(`${NAME} staleAfterMs`, staleAfterMs, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`);
    }
    this.#staleAfterMs = staleAfterMs;
    this.#client = client as OpenFeatureClientLike;
    this.#keys = keys;
    this.#context = Object.freeze({ ...context });
    this.#intervalMs = options.intervalMs;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#listeners = new FlagListeners(options.onListenerError);
    this.#handlers = [
      [EVENTS.ready, () => this.#recovered()],
      // Every change event re-evaluates: `flagsChanged` is not reliable (the SDK's InMemoryProvider omits removed flags).
      [EVENTS.changed, () => this.#recovered()],
      [EVENTS.error, (details) => this.#onTrouble('PROVIDER_ERROR', details)],
      [EVENTS.stale, (details) => this.#onTrouble('PROVIDER_STALE', details)],
    ];
    if (options.initial !== undefined) {
      const mode = parseMode(options.initial, `the ${NAME} initial option`);
      this.#state = stateFromDocument({ mode, revision: 0 }, 0, this.#now(), this.#source(), { stale: false });
    }
  }

  /**
   * The state in force (a field read).
   *
   * @throws {@link FlagsNotReadyError} before `start()` succeeded, when no `initial` mode was given
   */
  current(): OpenFeatureFlagState {
    const state = this.#state;
    if (state === undefined) throw new FlagsNotReadyError(NAME);
    return state;
  }

  /** {@inheritDoc FlagProvider.subscribe} */
  subscribe(listener: FlagListener): () => void {
    return this.#listeners.add(listener);
  }

  /** The error of the last evaluation, or `undefined` when it succeeded (or none ran yet). */
  get lastError(): FlagLoadError | InvalidModeError | undefined {
    return this.#lastError;
  }

  /**
   * Subscribes to the client's events and evaluates the flags. Calling it again returns the same promise.
   *
   * @throws {@link FlagLoadError} when the first evaluation fails and no `initial` was given (the handlers are
   *   removed again; `start()` may be called again, e.g. after `setProviderAndWait`)
   * @throws {@link ClosedError} after `close()`
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`${NAME}.start() was called after close()`, 'A closed provider does not evaluate again; create a new one.'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  /**
   * Evaluates the flags now (joins an evaluation in progress).
   *
   * @returns the state in force afterwards
   * @throws the evaluation's {@link FlagLoadError} or {@link InvalidModeError}; the last good state stays in force
   * @throws {@link ClosedError} after `close()`
   */
  async refresh(): Promise<OpenFeatureFlagState> {
    if (this.#closed) throw new ClosedError(`${NAME}.refresh() was called after close()`, 'A closed provider does not evaluate again; create a new one.');
    const error = await this.#evaluate();
    if (error !== undefined) throw error;
    return this.current();
  }

  /** Removes the event handlers and stops the timer. The state stays readable. Idempotent. */
  close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    return Promise.resolve();
  }

  async #start(): Promise<void> {
    // Handlers first, so that a change between the first evaluation and the subscription is not missed.
    for (const [event, handler] of this.#handlers) this.#client.addHandler(event, handler);
    this.#subscribed = true;
    // The SDK runs a PROVIDER_READY handler at once when the provider is ready: that evaluation is the first one.
    const error = await (this.#evaluations.running ?? this.#evaluate());
    if (this.#closed) return;
    this.#started = error === undefined || this.#state !== undefined;
    if (error !== undefined) {
      if (this.#state === undefined) {
        this.#unsubscribe();
        this.#starting = undefined;
        throw error instanceof FlagLoadError ? error : new FlagLoadError(this.#what(), this.#consequence(), { cause: error });
      }
      this.#report(error);
    }
    if (this.#intervalMs !== undefined) {
      const timer = setInterval(() => this.#reevaluate(), this.#intervalMs);
      timer.unref();
      this.#timer = timer;
    }
  }

  #unsubscribe(): void {
    if (!this.#subscribed) return;
    this.#subscribed = false;
    for (const [event, handler] of this.#handlers) this.#client.removeHandler(event, handler);
  }

  #onTrouble(event: string, details: unknown): void {
    if (this.#closed) return;
    const message = (details as { message?: unknown } | undefined)?.message;
    const error = new FlagLoadError(
      this.#what(),
      `${this.#consequence()} The OpenFeature provider reported ${event}: unless it reports PROVIDER_READY or PROVIDER_CONFIGURATION_CHANGED within ${this.#staleAfterMs} ms, the state in force is marked stale.`,
      { cause: typeof message === 'string' && message !== '' ? message : event },
    );
    this.#lastError = error;
    this.#troubled = true;
    if (this.#staleTimer === undefined) {
      const timer = setTimeout(() => this.#markStale(), this.#staleAfterMs);
      timer.unref();
      this.#staleTimer = timer;
    }
    this.#report(error);
  }

  #markStale(): void {
    this.#staleTimer = undefined;
    const previous = this.#state;
    if (this.#closed || !this.#troubled || previous === undefined || previous.stale) return;
    this.#replace(previous, { ...previous, version: previous.version + 1, updatedAt: this.#now(), stale: true });
  }

  /** READY or CONFIGURATION_CHANGED: the provider is back (or never left); evaluate. */
  #recovered(): void {
    this.#troubled = false;
    clearTimeout(this.#staleTimer);
    this.#staleTimer = undefined;
    this.#reevaluate();
  }

  /** Evaluates from an event or the timer; errors go to `onError`. */
  #reevaluate(): void {
    if (this.#closed) return;
    const evaluation = this.#evaluate();
    if (!this.#started) return; // start() reports the outcome of its first evaluation, including reruns it joined
    void evaluation.then((error) => {
      if (error !== undefined && !this.#closed) this.#report(error);
    });
  }

  /** One evaluation at a time; one requested meanwhile runs once more after it. Never rejects. */
  #evaluate(): Promise<FlagLoadError | InvalidModeError | undefined> {
    return this.#evaluations.run();
  }


  async #evaluateOnce(): Promise<FlagLoadError | InvalidModeError | undefined> {
    let document: FlagDocument;
    try {
      document = await this.#document();
    } catch (error) {
      if (this.#closed) return undefined;
      const failure = error instanceof InvalidModeError || error instanceof FlagLoadError ? error : new FlagLoadError(this.#what(), this.#consequence(), { cause: error });
      this.#lastError = failure;
      return failure;
    }
    if (this.#closed) return undefined;
    this.#lastError = undefined;
    const previous = this.#state;
    // A stale state stays stale while the provider is still in trouble: its evaluations may come from an old cache.
    const stale = previous?.stale === true && this.#troubled;
    if (previous !== undefined && previous.stale === stale && sameFlagValues(previous, document)) return undefined;
    const next = stateFromDocument(document, previous === undefined ? 0 : previous.version + 1, this.#now(), this.#source(), { stale });
    if (previous === undefined) this.#state = next;
    else this.#replace(previous, next);
    return undefined;
  }

  #replace(previous: OpenFeatureFlagState, next: OpenFeatureFlagState): void {
    const frozen = Object.isFrozen(next) ? next : Object.freeze(next);
    this.#state = frozen;
    this.#listeners.notify(frozen, previous);
  }

  /** Evaluates every configured flag and checks the values. */
  async #document(): Promise<FlagDocument> {
    const keys = this.#keys;
    const [mode, tableModes, readRouting, percent] = await Promise.all([
      this.#client.getStringDetails(keys.mode, '', this.#context),
      keys.tableModes === undefined ? undefined : this.#client.getObjectDetails(keys.tableModes, {}, this.#context),
      keys.readRouting === undefined ? undefined : this.#client.getObjectDetails(keys.readRouting, {}, this.#context),
      keys.grayReadPercent === undefined ? undefined : this.#client.getNumberDetails(keys.grayReadPercent, 0, this.#context),
    ]);
    const raw: Record<string, unknown> = { mode: parseMode(checked(mode, keys.mode, this.#consequence(), false), flagWhere(keys.mode)) };
    const tables = keys.tableModes === undefined ? undefined : checked(tableModes, keys.tableModes, this.#consequence(), true);
    if (tables !== undefined && !isEmptyObject(tables)) raw.tableModes = tables;
    const routing = keys.readRouting === undefined ? undefined : checked(readRouting, keys.readRouting, this.#consequence(), true);
    if (routing !== undefined && !isEmptyObject(routing)) raw.readRouting = routing;
    const share = keys.grayReadPercent === undefined ? undefined : checked(percent, keys.grayReadPercent, this.#consequence(), true);
    if (share !== undefined) raw.readRouting = { grayReadPercent: share } satisfies ReadRoutingSettings;
    // The document checks of the Redis and file providers, with error messages naming the flags.
    return parseFlagDocument(JSON.stringify(raw), `the OpenFeature flags ${Object.values(keys).map((key) => `"${key}"`).join(', ')}`);
  }

  #report(error: FlagLoadError | InvalidModeError): void {
    const onError = this.#options.onError;
    if (onError !== undefined) reportSafely(onError, error);
  }

  #source(): string {
    return this.#options.source ?? `openfeature:${this.#keys.mode}`;
  }

  #what(): string {
    return `the mode from the OpenFeature flag "${this.#keys.mode}"`;
  }

  #consequence(): string {
    const state = this.#state;
    return state === undefined
      ? 'There is no mode yet and no `initial` mode was given: start() rejects until an evaluation succeeds (call it again once the OpenFeature provider is ready, e.g. after setProviderAndWait), or pass `initial`.'
      : `The mode in force (${state.mode}, version ${state.version}) stays until an evaluation succeeds.`;
  }
}

function checkKey(option: string, key: unknown): string {
  if (typeof key !== 'string' || key.trim() === '') throw new InvalidOptionError(`${NAME} ${option}`, key, 'a non-empty OpenFeature flag key');
  return key;
}

function flagWhere(key: string): string {
  return `the OpenFeature flag "${key}"`;
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/**
 * The value of an evaluation, or a {@link FlagLoadError} for an OpenFeature error code. A disabled optional flag
 * gives `undefined` (not set); a disabled mode flag is an error (there is no mode to fall back to).
 */
function checked<T>(details: OpenFeatureDetailsLike<T> | undefined, key: string, consequence: string, optional: boolean): T | undefined {
  if (details === undefined) return undefined;
  if (details.errorCode !== undefined) {
    const message = details.errorMessage === undefined || details.errorMessage === '' ? details.errorCode : `${details.errorCode}: ${details.errorMessage}`;
    throw new FlagLoadError(`the value of the OpenFeature flag "${key}"`, consequence, { cause: message });
  }
  if (details.reason === 'DISABLED') {
    if (optional) return undefined;
    throw new InvalidModeError(details.value, `${flagWhere(key)} (the flag is disabled, so it gives no mode; enable it)`, MODES);
  }
  return details.value;
}
