/**
 * `RedisFlagProvider`: the mode of a fleet of processes, kept in Redis.
 *
 * Layout (names derived from `key`, default `dualwrite:flags`):
 * - `key`: the flag document, JSON (see {@link FlagDocument}), written by {@link RedisModeController}.
 * - channel `key`: a message after each write; every provider then re-reads the key.
 * - `key:instances` (set) and `key:instance:<id>` (string with a TTL): each
 *   provider's acknowledgement — the revision it has applied — refreshed by a heartbeat,
 *   so an instance that dies disappears after `instanceTtlMs`. With {@link RedisFlagProvider.trackApplied}
 *   each heartbeat also carries the pool's counters (replay failures, health per side), read by
 *   `dualwrite status` and the guarded cut-over's fall-back.
 *
 * @module
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { ClosedError, FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../errors.js';
import type { FlagListener, FlagProvider, FlagState, LoadedFlagProviderOptions } from './flag-provider.js';
import { FlagListeners, reportSafely, SerialRunner } from './internal.js';
import { parseMode, type Mode, type Side } from './modes.js';
import type { SideHealthStats } from '../telemetry/health.js';
import { checkRedisConnection, openRedis, redisFlagKeys, type RedisClientLike, type RedisConnection, type RedisFlagKeys } from './redis-client.js';
import { parseFlagDocument, sameFlagValues, stateFromDocument, type FlagDocument } from './redis-flag-document.js';

/** A {@link FlagState} of a {@link RedisFlagProvider}. */
export interface RedisFlagState extends FlagState {
  /** The revision of the flag document this state came from (0 for the `initial` state). */
  readonly revision: number;
  /**
   * Whether the provider has been cut off from Redis for longer than `staleAfterMs`: the
   * mode is the last one known, and the fleet may have moved on. See {@link RedisFlagProvider}.
   */
  readonly stale: boolean;
}

/** Connection health of a {@link RedisFlagProvider}, from {@link RedisFlagProvider.status}. */
export interface RedisFlagStatus {
  /** Whether both connections (commands and subscription) are up. */
  readonly connected: boolean;
  /** Since when `connected` has had its value, in milliseconds since the epoch. */
  readonly since: number;
  /** Whether the state in force is stale (disconnected for longer than `staleAfterMs`). */
  readonly stale: boolean;
  /** The last connection or read error, if any since the last successful read. */
  readonly lastError: Error | undefined;
}

/**
 * Something that reports the state a pool has put in force: a `DualPool`
 * (its `flagState` and `modeChange` event) fits. See {@link RedisFlagProvider.trackApplied}.
 */
export interface AppliedStateSource {
  /** The state in force. */
  readonly flagState: FlagState;
  /** Adds a `modeChange` listener (called once a switch is in force). */
  on(event: 'modeChange', listener: (change: { readonly state: FlagState }) => void): unknown;
  /** Removes a `modeChange` listener. */
  off(event: 'modeChange', listener: (change: { readonly state: FlagState }) => void): unknown;
  /**
   * The pool's counters (a `DualPool`'s `stats()` fits): when present, each acknowledgement carries
   * them (see {@link InstanceCounters}) for `dualwrite status` and the guarded cut-over's fall-back.
   */
  stats?(): PoolCountersSource;
}

/** The part of a pool's `stats()` an acknowledgement carries. */
export interface PoolCountersSource {
  /** Writes the secondary side did not get, by that side. */
  readonly replayFailures: Readonly<Record<Side, number>>;
  /** Failures that could not be written to the repair log. */
  readonly unrecordedFailures: number;
  /** Per-side health counters (statements as primary, their failures, latency histogram). */
  readonly health?: Readonly<Record<Side, SideHealthStats>>;
}

/**
 * Counters an instance tracked with {@link RedisFlagProvider.trackApplied} reports with each heartbeat
 * (all counted since its pool was created, so two acknowledgements give the interval between them).
 */
export interface InstanceCounters {
  /** Writes the secondary side did not get, by that side. */
  readonly replayFailures: Readonly<Record<Side, number>>;
  /** Failures that could not be written to the repair log (lost replays to investigate). */
  readonly unrecordedFailures: number;
  /** Repair-log rows this process wrote (replay failures minus the unrecorded ones). */
  readonly repairLogRows: number;
  /** Per-side health counters, when the pool keeps them (see `healthBetween`). */
  readonly health?: Readonly<Record<Side, SideHealthStats>>;
}

/** What one instance reports in Redis (`key:instance:<id>`). */
export interface InstanceAck {
  /** The instance id. */
  readonly instanceId: string;
  /** The revision of the flag document it has applied. */
  readonly revision: number;
  /** The mode it has applied. */
  readonly mode: Mode;
  /** Whether its state is stale (it should not be, while it can write this). */
  readonly stale: boolean;
  /** When it applied `revision`, in milliseconds since the epoch (its clock). */
  readonly appliedAt: number;
  /** Its last heartbeat, in milliseconds since the epoch (its clock). */
  readonly heartbeatAt: number;
  /** Whether "applied" means in force in a pool ({@link RedisFlagProvider.trackApplied}) or only heard. */
  readonly appliedBy: 'pool' | 'provider';
  /** The pool's counters at `heartbeatAt`, when tracked with a pool that has `stats()` (absent in older versions). */
  readonly counters?: InstanceCounters;
}

/** Options of {@link RedisFlagProvider}: a `redis` client or `connection` settings, and the rest. */
export type RedisFlagProviderOptions = RedisConnection &
  LoadedFlagProviderOptions & {
  /** The flag key. @defaultValue `'dualwrite:flags'` */
  readonly key?: string;
  /** This instance's id in acknowledgements. @defaultValue `<hostname>:<pid>:<random>` */
  readonly instanceId?: string;
  /**
   * Mode to use when the key does not exist or Redis cannot be reached at
   * `start()`. Without it, `start()` rejects in those cases.
   */
  readonly initial?: Mode;
  /**
   * How long `start()` waits for Redis before giving up (rejecting, or using `initial`).
   *
   * @defaultValue 10000
   */
  readonly startTimeoutMs?: number;
  /**
   * After this long without a connection, the state in force is marked stale
   * (a new state with `stale: true`, same mode). @defaultValue 10000
   */
  readonly staleAfterMs?: number;
  /** Interval of the acknowledgement heartbeat. @defaultValue 5000 */
  readonly heartbeatMs?: number;
  /**
   * Lifetime of an acknowledgement without a heartbeat: an instance silent for longer
   * is no longer counted by {@link RedisModeController}. Must exceed `heartbeatMs`. @defaultValue 15000
   */
  readonly instanceTtlMs?: number;
  /** Called when `status()` changes (connection lost or back, stale). Log it loudly. */
  readonly onStatusChange?: (status: RedisFlagStatus) => void;
};

const MAX_TIMER_MS = 2_147_483_647;
const NAME = 'RedisFlagProvider';

/**
 * A mode kept in Redis, pushed to every process through pub/sub, with
 * acknowledgements so that an operator ({@link RedisModeController}) knows
 * when the whole fleet runs a new mode.
 *
 * Behaviour:
 * - `start()` connects (through the caller's client, or one it opens from
 *   `connection`), subscribes, reads the key, and writes the first acknowledgement.
 * - On each pub/sub message, and on every reconnection, it re-reads the key (so a
 *   change made while it was disconnected is seen). A document with new values
 *   becomes a new state; the same values only move the acknowledged revision.
 * - Invalid content, or a missing key, never replaces the state: the error goes to `onError`.
 * - **Acknowledgement.** By default an instance acknowledges a revision as soon as its
 *   listeners (the pool's mode gate) have been called. That is "heard", not "in force":
 *   the gate may still be draining writes of the old mode, and transactions keep their
 *   mode until they end. Call {@link RedisFlagProvider.trackApplied} with the pool to
 *   acknowledge only once the pool's gate has switched (`appliedBy: 'pool'`).
 * - **Lost connection.** The state in force stays; `status()` says `connected: false`
 *   and since when, and `onStatusChange` is called. After `staleAfterMs` without a
 *   connection, a new state with the same values and `stale: true` is published to the
 *   listeners (the pool's `flagState.stale`), and `onStatusChange` is called again. A
 *   stale instance cannot know whether the fleet moved on: in `*_only` modes its writes
 *   reach one side only, so a switch it missed leaves the other side behind (repaired
 *   by verify/repair). So while the state is stale the pool refuses writes in the
 *   `*_only` modes (the written table's mode) with `FlagsStaleError`, and keeps
 *   running dual writes (both sides get them, whichever side the fleet now treats as
 *   primary) and reads; pool option `staleWrites: 'allow'` turns the refusal off. The
 *   next successful read after reconnection clears `stale` (a new state).
 * - Timers are `unref()`ed. `close()` removes this instance's acknowledgement and
 *   closes the connections it opened (never the caller's client).
 *
 * @example
 * const flags = new RedisFlagProvider({ redis: new Redis(process.env.REDIS_URL), onStatusChange: (s) => log.warn(s) });
 * await flags.start();
 * const pool = createPool({ source, target, flags });
 * flags.trackApplied(pool);
 */
export class RedisFlagProvider implements FlagProvider {
  /** This instance's id in acknowledgements. */
  readonly instanceId: string;
  readonly #options: RedisFlagProviderOptions;
  readonly #keys: RedisFlagKeys;
  readonly #listeners: FlagListeners;
  readonly #now: () => number;
  readonly #staleAfterMs: number;
  readonly #heartbeatMs: number;
  readonly #instanceTtlMs: number;
  readonly #startTimeoutMs: number;
  #state: RedisFlagState | undefined;
  /** Latest document revision whose values equal the state in force. */
  #revision = 0;
  #client: RedisClientLike | undefined;
  #subscriber: RedisClientLike | undefined;
  #ownsClient = false;
  #up = { client: false, subscriber: false };
  #status: RedisFlagStatus;
  #starting: Promise<void> | undefined;
  readonly #reads = new SerialRunner<FlagLoadError | InvalidModeError | undefined>(() => this.#readOnce(), () => this.#closed);
  #staleTimer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #tracked: { source: AppliedStateSource; listener: () => void } | undefined;
  #acked: { revision: number; at: number } | undefined;
  #closed = false;
  readonly #unhook: Array<() => void> = [];

  /**
   * @param options - see {@link RedisFlagProviderOptions}
   * @throws {@link InvalidOptionError} when neither or both of `redis`/`connection` are given, or a duration is out of range
   * @throws {@link InvalidModeError} when `initial` is not a mode
   */
  constructor(options: RedisFlagProviderOptions) {
    checkRedisConnection(options, NAME);
    this.#options = options;
    this.#keys = redisFlagKeys(options.key);
    this.#now = options.now ?? Date.now;
    this.#staleAfterMs = duration('staleAfterMs', options.staleAfterMs, 10_000);
    this.#heartbeatMs = duration('heartbeatMs', options.heartbeatMs, 5_000);
    this.#instanceTtlMs = duration('instanceTtlMs', options.instanceTtlMs, 15_000);
    this.#startTimeoutMs = duration('startTimeoutMs', options.startTimeoutMs, 10_000);
    if (this.#instanceTtlMs <= this.#heartbeatMs) {
      throw new InvalidOptionError(`${NAME} instanceTtlMs`, this.#instanceTtlMs, `more than heartbeatMs (${this.#heartbeatMs}), or every instance would expire between heartbeats`);
    }
    const instanceId = options.instanceId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    if (typeof instanceId !== 'string' || instanceId === '') throw new InvalidOptionError(`${NAME} instanceId`, instanceId, 'a non-empty string');
    this.instanceId = instanceId;
    this.#listeners = new FlagListeners(options.onListenerError);
    this.#status = Object.freeze({ connected: false, since: this.#now(), stale: false, lastError: undefined });
    if (options.initial !== undefined) {
      const mode = parseMode(options.initial, `the ${NAME} initial option`);
      this.#state = stateFromDocument({ mode, revision: 0 }, 0, this.#now(), options.source, { revision: 0, stale: false });
    }
  }

  /**
   * The state in force (a field read).
   *
   * @throws {@link FlagsNotReadyError} before `start()` succeeded, when no `initial` mode was given
   */
  current(): RedisFlagState {
    const state = this.#state;
    if (state === undefined) throw new FlagsNotReadyError(NAME);
    return state;
  }

  /** {@inheritDoc FlagProvider.subscribe} */
  subscribe(listener: FlagListener): () => void {
    return this.#listeners.add(listener);
  }

  /** Connection health (a fresh frozen object on each change). */
  status(): RedisFlagStatus {
    return this.#status;
  }

  /**
   * Connects, subscribes, reads the key and acknowledges it. Calling it again returns the same promise.
   *
   * @throws {@link FlagLoadError} when Redis cannot be reached within `startTimeoutMs`, or the key is
   *   missing or invalid, and no `initial` was given (the connections are closed; `start()` may be called again)
   * @throws {@link ClosedError} after `close()`
   */
  start(): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`${NAME}.start() was called after close()`, 'A closed provider does not connect again; create a new one.'));
    this.#starting ??= this.#start().catch(async (error: unknown) => {
      this.#starting = undefined;
      await this.#disconnect();
      throw error;
    });
    return this.#starting;
  }

  /**
   * From now on, acknowledge a revision only once `source` (the pool) has put it in force,
   * instead of when the listeners were called. Call it right after creating the pool.
   *
   * @param source - the pool (anything with `flagState` and a `modeChange` event)
   * @returns a function that goes back to acknowledging on the listener call
   */
  trackApplied(source: AppliedStateSource): () => void {
    this.#untrack();
    const listener = (): void => this.#acknowledge();
    source.on('modeChange', listener);
    this.#tracked = { source, listener };
    this.#acknowledge(true); // rewrite now: the stored acknowledgement must say at once that it now means "in force in the pool"
    return () => {
      if (this.#tracked?.source === source) this.#untrack();
    };
  }

  /**
   * Stops watching: removes this instance's acknowledgement (when connected), closes the
   * connections it opened, stops the timers. The state stays readable. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#untrack();
    clearTimeout(this.#staleTimer);
    clearInterval(this.#heartbeat);
    const client = this.#client;
    if (client !== undefined && this.#status.connected) {
      await Promise.all([client.del(this.#keys.instance(this.instanceId)), client.srem(this.#keys.instances, this.instanceId)]).catch(() => undefined);
    }
    await this.#disconnect();
  }

  async #start(): Promise<void> {
    const { client, owned } = await openRedis(this.#options, NAME);
    this.#client = client;
    this.#ownsClient = owned;
    const subscriber = client.duplicate();
    this.#subscriber = subscriber;
    this.#watch(client, 'client');
    this.#watch(subscriber, 'subscriber');
    const onMessage = (...args: unknown[]): void => {
      if (args[0] === this.#keys.channel) void this.#read().then((error) => error && this.#report(error));
    };
    subscriber.on('message', onMessage);
    this.#unhook.push(() => subscriber.off('message', onMessage));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#startTimeoutMs);
      timer.unref();
    });
    try {
      const first = await Promise.race([subscriber.subscribe(this.#keys.channel).then(() => this.#read()), timeout]);
      if (this.#closed) return;
      const error =
        first === 'timeout'
          ? new FlagLoadError(`the mode from Redis key "${this.#keys.flags}"`, `Redis did not answer within ${this.#startTimeoutMs} ms (startTimeoutMs). ${this.#consequence()}`)
          : first;
      if (error !== undefined) {
        if (this.#state === undefined) throw error;
        this.#report(error);
      }
    } finally {
      clearTimeout(timer);
    }
    this.#updateConnected();
    this.#acknowledge();
    const heartbeat = setInterval(() => this.#acknowledge(true), this.#heartbeatMs);
    heartbeat.unref();
    this.#heartbeat = heartbeat;
  }

  #watch(connection: RedisClientLike, which: 'client' | 'subscriber'): void {
    this.#up[which] = connection.status === 'ready';
    const onReady = (): void => {
      this.#up[which] = true;
      this.#updateConnected();
    };
    const onDown = (): void => {
      this.#up[which] = false;
      this.#updateConnected();
    };
    const onError = (...args: unknown[]): void => {
      const error = args[0];
      this.#setStatus({ lastError: error instanceof Error ? error : new Error(String(error)) });
    };
    connection.on('ready', onReady);
    connection.on('close', onDown);
    connection.on('end', onDown);
    connection.on('error', onError);
    this.#unhook.push(() => {
      connection.off('ready', onReady);
      connection.off('close', onDown);
      connection.off('end', onDown);
      connection.off('error', onError);
    });
  }

  #updateConnected(): void {
    if (this.#closed || this.#starting === undefined) return;
    const connected = this.#up.client && this.#up.subscriber;
    if (connected === this.#status.connected) return;
    this.#setStatus({ connected, since: this.#now() });
    if (connected) {
      clearTimeout(this.#staleTimer);
      this.#staleTimer = undefined;
      // Subscribe first (idempotent; ioredis also resubscribes), then read: a change published
      // after the SUBSCRIBE reply is pushed, one made before it (or while disconnected) is in the key.
      const subscriber = this.#subscriber;
      void subscriber
        ?.subscribe(this.#keys.channel)
        .then(() => this.#read())
        .then((error) => {
          if (error !== undefined) this.#report(error);
          else this.#acknowledge(true); // rewrite at once: the acknowledgement may have expired meanwhile
        })
        .catch((error: unknown) => this.#setStatus({ lastError: error instanceof Error ? error : new Error(String(error)) }));
    } else if (this.#staleTimer === undefined) {
      const timer = setTimeout(() => this.#goStale(), this.#staleAfterMs);
      timer.unref();
      this.#staleTimer = timer;
    }
  }

  #goStale(): void {
    this.#staleTimer = undefined;
    if (this.#closed || this.#status.connected) return;
    const previous = this.#state;
    if (previous !== undefined && !previous.stale) {
      this.#state = Object.freeze({ ...previous, version: previous.version + 1, stale: true });
      this.#listeners.notify(this.#state, previous);
    }
    this.#setStatus({ stale: true });
  }

  #setStatus(change: Partial<RedisFlagStatus>): void {
    this.#status = Object.freeze({ ...this.#status, ...change });
    const onStatusChange = this.#options.onStatusChange;
    if (onStatusChange !== undefined) reportSafely(onStatusChange, this.#status);
  }

  /** One read at a time; a read requested meanwhile runs once more after it. Never rejects. */
  #read(): Promise<FlagLoadError | InvalidModeError | undefined> {
    return this.#reads.run();
  }


  async #readOnce(): Promise<FlagLoadError | InvalidModeError | undefined> {
    const client = this.#client;
    if (client === undefined || this.#closed) return undefined;
    const what = `the mode from Redis key "${this.#keys.flags}"`;
    let text: string | null;
    try {
      text = await client.get(this.#keys.flags);
    } catch (cause) {
      return this.#fail(new FlagLoadError(what, this.#consequence(), { cause }));
    }
    if (this.#closed) return undefined;
    if (text === null) {
      return this.#fail(new FlagLoadError(what, `The key does not exist: set it with RedisModeController.switchMode(). ${this.#consequence()}`, { cause: 'no such key' }));
    }
    let document: FlagDocument;
    try {
      document = parseFlagDocument(text, `Redis key "${this.#keys.flags}"`);
    } catch (error) {
      if (!(error instanceof InvalidModeError)) throw error;
      return this.#fail(this.#state === undefined ? new FlagLoadError(what, this.#consequence(), { cause: error }) : error);
    }
    this.#apply(document);
    if (this.#status.lastError !== undefined || this.#status.stale) this.#setStatus({ lastError: undefined, stale: false });
    return undefined;
  }

  #apply(document: FlagDocument): void {
    const previous = this.#state;
    this.#revision = document.revision;
    if (previous !== undefined && !previous.stale && sameFlagValues(previous, document)) {
      this.#acknowledge(); // a new revision with the values in force is applied at once
      return;
    }
    const version = previous === undefined ? 0 : previous.version + 1;
    const next = stateFromDocument(document, version, this.#now(), this.#options.source, { revision: document.revision, stale: false });
    this.#state = next;
    if (previous !== undefined) this.#listeners.notify(next, previous);
    this.#acknowledge();
  }

  /** Writes this instance's acknowledgement (fire and forget; errors land in `status().lastError`). */
  #acknowledge(heartbeat = false): void {
    const client = this.#client;
    const state = this.#state;
    if (client === undefined || state === undefined || this.#closed || !this.#status.connected) return;
    const tracked = this.#tracked;
    const applied = tracked === undefined ? state : tracked.source.flagState;
    const revision = applied === state ? this.#revision : (applied as Partial<RedisFlagState>).revision;
    if (revision === undefined) return; // the pool runs a state that is not ours: nothing to acknowledge
    const now = this.#now();
    if (this.#acked?.revision !== revision) this.#acked = { revision, at: now };
    else if (!heartbeat) return;
    const ack: InstanceAck = {
      instanceId: this.instanceId,
      revision,
      mode: applied.mode,
      stale: state.stale,
      appliedAt: this.#acked.at,
      heartbeatAt: now,
      appliedBy: tracked === undefined ? 'provider' : 'pool',
      ...countersOf(tracked?.source),
    };
    Promise.all([client.set(this.#keys.instance(this.instanceId), JSON.stringify(ack), 'PX', this.#instanceTtlMs), client.sadd(this.#keys.instances, this.instanceId)]).catch(
      (error: unknown) => this.#setStatus({ lastError: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  #untrack(): void {
    const tracked = this.#tracked;
    if (tracked === undefined) return;
    tracked.source.off('modeChange', tracked.listener);
    this.#tracked = undefined;
  }

  async #disconnect(): Promise<void> {
    for (const unhook of this.#unhook.splice(0)) unhook();
    const subscriber = this.#subscriber;
    const client = this.#client;
    this.#subscriber = undefined;
    this.#client = undefined;
    subscriber?.disconnect();
    if (client !== undefined && this.#ownsClient) client.disconnect();
    this.#up = { client: false, subscriber: false };
    await Promise.resolve();
  }

  #report(error: FlagLoadError | InvalidModeError): void {
    const onError = this.#options.onError;
    if (onError !== undefined) reportSafely(onError, error);
  }

  #fail(error: FlagLoadError | InvalidModeError): FlagLoadError | InvalidModeError {
    this.#setStatus({ lastError: error });
    return error;
  }

  #consequence(): string {
    const state = this.#state;
    return state === undefined
      ? 'There is no mode yet and no `initial` mode was given: start() rejects until Redis answers with a valid document (call it again), or pass `initial`.'
      : `The mode in force (${state.mode}, revision ${state.revision}) stays until a read succeeds.`;
  }
}

/** The counters of a tracked pool, as an acknowledgement carries them; nothing when it has no `stats()` or it throws. */
function countersOf(source: AppliedStateSource | undefined): { counters?: InstanceCounters } {
  if (source?.stats === undefined) return {};
  try {
    const stats = source.stats();
    const failures = { source: stats.replayFailures.source, target: stats.replayFailures.target };
    const counters: InstanceCounters = {
      replayFailures: failures,
      unrecordedFailures: stats.unrecordedFailures,
      repairLogRows: Math.max(0, failures.source + failures.target - stats.unrecordedFailures),
      ...(stats.health === undefined ? {} : { health: stats.health }),
    };
    return { counters };
  } catch {
    return {}; // a closed pool may refuse; the acknowledgement itself still counts
  }
}

function duration(name: string, value: number | undefined, fallback: number): number {
  const ms = value ?? fallback;
  if (typeof ms !== 'number' || !(ms > 0 && ms <= MAX_TIMER_MS)) throw new InvalidOptionError(`${NAME} ${name}`, ms, `a number of milliseconds above 0 and at most ${MAX_TIMER_MS}`);
  return ms;
}
