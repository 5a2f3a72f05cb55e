/**
 * `ModeGate`: the ordering guarantee of a mode switch inside one process.
 *
 * Rules (the pool relies on them; see docs/modes.md):
 *
 * 1. **No reordering across a switch.** When the provider's mode changes, the
 *    writes in flight under the old mode finish (including their replay)
 *    before the first write under the new mode is admitted. Writes that
 *    arrive meanwhile wait, then run under the new mode. A change of the
 *    per-table modes ({@link FlagState.tableModes}) alone is a switch too, with
 *    the same rules; a change of anything else (`stale`, read routing) takes
 *    effect at once, without a drain.
 * 2. **Pinned holders keep their mode.** A transaction, or a connection
 *    checked out with `getConnection()`, pins the mode it started with and
 *    keeps it until it ends. Pins do not delay the switch for everyone else:
 *    a transaction left open for hours must not freeze the pool's writes.
 * 3. **Switches in quick succession serialize.** For A → B → C, no write runs
 *    under C before every write under B has left; a state superseded before
 *    it took effect is skipped (no write ever runs under it).
 *
 * **Across processes nothing is ordered.** Each process (each pool) has its
 * own gate: processes learn of a switch at different moments, drain at their
 * own pace, and keep pinned holders on the old mode. For a while two
 * processes run different modes. The window lasts, per process, the
 * provider's observation lag (for polling: up to `intervalMs` plus the read's
 * latency and the config center's propagation), plus the drain of its
 * in-flight writes, plus the remaining life of its pins of the old mode. In it,
 * writes of two processes to the same row may reach the two sides in opposite
 * orders, auto-increment ids may come from both sides at once, and a process
 * still in `source_only` does not write the target. The verifier and repair
 * close that window once every process has applied the new version and its
 * old pins have ended; see docs/modes.md, "Across processes".
 *
 * @module
 */
import { ClosedError, InvalidOptionError } from '../errors.js';
import type { FlagProvider, FlagState } from './flag-provider.js';
import { rethrowAsync, reportSafely } from './internal.js';
import type { Mode } from './modes.js';
import { isAdjacentStateSwitch, sameModes } from './table-modes.js';

/**
 * A single write admitted by a {@link ModeGate}. Run the write (on the primary
 * side, then its replay on the secondary) under `mode`, then call `leave()`
 * exactly once, whatever the outcome.
 */
export interface WriteTicket {
  /** The mode this write runs under. */
  readonly mode: Mode;
  /** The flag state this write runs under. */
  readonly state: FlagState;
  /**
   * Marks the write (and its replay) finished. A pending switch takes effect
   * when the last write of the old mode leaves. Calling it again does nothing.
   * A ticket never left blocks every later switch of the process: call it in
   * a `finally`.
   */
  leave(): void;
}

/**
 * A mode held by a long-lived holder (a transaction, a checked-out
 * connection) until it ends. Every statement of the holder runs under `mode`
 * without asking the gate again (statements of a pinned holder must not call
 * {@link ModeGate.enter}).
 */
export interface ModePin {
  /** The mode the holder runs under until it ends. */
  readonly mode: Mode;
  /** The flag state the holder runs under. */
  readonly state: FlagState;
  /** When the pin was taken (gate clock, milliseconds). */
  readonly pinnedAt: number;
  /** Ends the pin. Calling it again does nothing. */
  release(): void;
}

/** Details of a switch, passed to {@link ModeGateOptions.onSwitch}. */
export interface SwitchInfo {
  /** The state that was in force before the switch. */
  readonly previous: FlagState;
  /**
   * Whether the switch moved one step along the migration: the default mode and every table's effective mode moved
   * at most one step, and at least one of them moved (`isAdjacentSwitch` applied per table).
   */
  readonly adjacent: boolean;
  /** How long the new mode waited for the old mode's writes to finish, in milliseconds (0 when none were in flight). */
  readonly drainMs: number;
  /** Pins still open under other modes than the new ones, table modes included (they keep their modes until they end). */
  readonly pinsUnderOtherModes: number;
}

/** Passed to {@link ModeGateOptions.onDrainTimeout} while a switch waits for in-flight writes. */
export interface DrainTimeoutReport {
  /** The mode in force, whose writes are still in flight. */
  readonly from: Mode;
  /** The mode waiting to take effect. */
  readonly to: Mode;
  /** The flag state waiting to take effect. */
  readonly state: FlagState;
  /** Writes of the old mode still in flight. */
  readonly inFlight: number;
  /** Writes and pins waiting for the new mode. */
  readonly waiting: number;
  /** How long the switch has been waiting, in milliseconds. */
  readonly waitedMs: number;
}

/** Open pins per mode. */
export type PinCounts = Readonly<Record<Mode, number>>;

/** Options of {@link ModeGate}. */
export interface ModeGateOptions {
  /**
   * How long a switch may wait for the old mode's in-flight writes before it
   * is reported through `onDrainTimeout`, in milliseconds; the report repeats
   * every `drainTimeoutMs` while the wait lasts. The switch keeps waiting:
   * it never takes effect while a write of the old mode is in flight, because
   * that could reorder two writes. `0` or `Infinity` turns the report off.
   *
   * @defaultValue 5000
   */
  drainTimeoutMs?: number;
  /** Called when a switch has waited `drainTimeoutMs` (and again every `drainTimeoutMs` after). */
  onDrainTimeout?: (report: DrainTimeoutReport) => void;
  /**
   * Called once a switch is in force: every write of the old mode has left
   * and writes now run under `to`. A switch of per-table modes alone is
   * reported too (then `from === to`; compare `info.previous.tableModes` and
   * `state.tableModes`). Not called when a state arrives with the same modes
   * as in force (for example a switch reverted before it took effect, or a
   * state that only became stale).
   */
  onSwitch?: (from: Mode, to: Mode, state: FlagState, info: SwitchInfo) => void;
  /**
   * Called when `onSwitch` or `onDrainTimeout` throws. The gate's state is
   * never affected by a throwing callback.
   *
   * @defaultValue re-throws from a microtask (`queueMicrotask`)
   */
  onCallbackError?: (error: unknown) => void;
  /**
   * Clock for `pinnedAt`, `drainMs` and `waitedMs`, in milliseconds.
   *
   * @defaultValue `Date.now`
   */
  now?: () => number;
}

/** Default of {@link ModeGateOptions.drainTimeoutMs}. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 5000;

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Orders writes across mode switches inside one process; see the module
 * documentation for the rules.
 *
 * The pool calls {@link ModeGate.enter} before each single write (one outside
 * a pinned holder) and {@link WriteTicket.leave} when the write and its replay
 * are done, and {@link ModeGate.pin} when a transaction or checked-out
 * connection begins. Reads need no ticket: route them by {@link ModeGate.currentMode}.
 *
 * The gate subscribes to the provider when constructed and unsubscribes in
 * {@link ModeGate.close}; it never closes the provider.
 *
 * @example
 * const gate = new ModeGate(flags, { onSwitch: (from, to) => events.emit('mode', from, to) });
 * const entered = gate.enter();
 * const ticket = entered instanceof Promise ? await entered : entered; // a promise only while a switch drains
 * try {
 *   await writeUnder(ticket.mode);
 * } finally {
 *   ticket.leave();
 * }
 */
export class ModeGate {
  readonly #core: GateCore;
  readonly #unsubscribe: () => void;

  /**
   * @param provider - where the mode comes from; its `current()` is read now
   * @param options - see {@link ModeGateOptions}
   * @throws what `provider.current()` throws (e.g. {@link FlagsNotReadyError} for a provider not started)
   * @throws {@link InvalidOptionError} when `drainTimeoutMs` is out of range
   */
  constructor(provider: FlagProvider, options: ModeGateOptions = {}) {
    const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    if (typeof drainTimeoutMs !== 'number' || !(drainTimeoutMs >= 0) || (drainTimeoutMs > MAX_TIMER_MS && drainTimeoutMs !== Infinity)) {
      throw new InvalidOptionError('ModeGate drainTimeoutMs', drainTimeoutMs, `0, Infinity, or a number of milliseconds up to ${MAX_TIMER_MS}`);
    }
    this.#core = new GateCore(provider.current(), drainTimeoutMs, options);
    this.#unsubscribe = provider.subscribe((next) => this.#core.change(next));
  }

  /** The mode in force: the mode of single writes admitted now (the old mode while a switch drains). */
  get currentMode(): Mode {
    return this.#core.applied.mode;
  }

  /** The flag state in force. */
  get appliedState(): FlagState {
    return this.#core.applied;
  }

  /** Whether a switch is waiting for the old mode's writes to finish (new writes wait meanwhile). */
  get pending(): boolean {
    return this.#core.target !== null;
  }

  /** The state waiting to take effect, or `null` when no switch is pending. */
  get pendingState(): FlagState | null {
    return this.#core.target;
  }

  /** Single writes admitted and not yet left. */
  get inFlight(): number {
    return this.#core.inFlight;
  }

  /** Writes and pins waiting for a pending switch to take effect. */
  get waiting(): number {
    return this.#core.waiters.length;
  }

  /** Whether {@link ModeGate.close} was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** Pins still open under other modes than those in force (the default mode, or a table's mode, differs). */
  get stalePins(): number {
    const core = this.#core;
    return core.pinsOutside(core.applied);
  }

  /**
   * Admits a single write. Returns the ticket at once (no promise) when no
   * switch is pending: the common case, costing one small object. While a
   * switch drains, returns a promise that resolves once the switch is in
   * force, with a ticket of the new mode.
   *
   * @returns a ticket, or a promise of one while a switch drains
   * @throws (as a rejected promise) {@link ClosedError} when the gate is closed, or is closed while the write waits
   */
  enter(): WriteTicket | Promise<WriteTicket> {
    const core = this.#core;
    if (core.fast) {
      core.inFlight++;
      return new Ticket(core, core.applied);
    }
    return core.waitForTicket();
  }

  /**
   * Pins the mode for a long-lived holder (a transaction, a checked-out
   * connection). While a switch drains, waits like {@link ModeGate.enter}
   * (a holder's first write must not overtake the old mode's writes), then
   * pins the new mode. An open pin never delays a switch for other writers.
   *
   * @returns a pin, or a promise of one while a switch drains
   * @throws (as a rejected promise) {@link ClosedError} when the gate is closed, or is closed while the pin waits
   */
  pin(): ModePin | Promise<ModePin> {
    const core = this.#core;
    if (core.fast) return core.newPin();
    return core.waitForPin();
  }

  /** Open pins per mode (a fresh snapshot). */
  openPins(): PinCounts {
    return Object.freeze({ ...this.#core.pins });
  }

  /**
   * Resolves once the gate runs the provider's state of `version` or a later
   * one: a switch has taken effect, not merely been announced. A state
   * superseded before it took effect counts as applied once a later one is;
   * compare the resolved state's mode when that matters. Waits as long as the
   * provider has not reached `version`.
   *
   * @param version - a version of the gate's provider
   * @returns the state in force at that moment
   * @throws (as a rejected promise) {@link ClosedError} when the gate is closed first
   */
  whenApplied(version: number): Promise<FlagState> {
    return this.#core.whenApplied(version);
  }

  /**
   * Closes the gate: unsubscribes from the provider, rejects the writes and
   * pins waiting for a switch and the `whenApplied()` promises with
   * {@link ClosedError}, and refuses new writes. Tickets and pins already out
   * may still be left and released. Idempotent.
   */
  close(): void {
    if (this.#core.closed) return;
    this.#unsubscribe();
    this.#core.close();
  }
}

type Waiter =
  | { readonly pin: false; readonly resolve: (ticket: WriteTicket) => void; readonly reject: (error: unknown) => void }
  | { readonly pin: true; readonly resolve: (pin: ModePin) => void; readonly reject: (error: unknown) => void };

interface AppliedWaiter {
  readonly version: number;
  readonly resolve: (state: FlagState) => void;
  readonly reject: (error: unknown) => void;
}

/** The gate's state, shared with the tickets and pins it hands out. */
class GateCore {
  applied: FlagState;
  /** The state waiting for the drain, or `null`. Invariant: non-null only while `inFlight > 0`. */
  target: FlagState | null = null;
  /** `!closed && target === null`: the one field `enter()` reads on its fast path. */
  fast = true;
  closed = false;
  inFlight = 0;
  waiters: Waiter[] = [];
  readonly pins: Record<Mode, number> = { source_only: 0, source_first: 0, target_first: 0, target_only: 0 };
  /** Open pins per pinned state (a few entries: the states pinned since the oldest open pin). */
  readonly pinStates = new Map<FlagState, number>();
  #latestVersion: number;
  #appliedWaiters: AppliedWaiter[] = [];
  /** When the pending switch started waiting, or `undefined` when none waits. */
  #drainStartedAt: number | undefined;
  #drainTimer: NodeJS.Timeout | undefined;
  readonly #drainTimeoutMs: number;
  readonly #options: ModeGateOptions;
  readonly #now: () => number;

  constructor(initial: FlagState, drainTimeoutMs: number, options: ModeGateOptions) {
    this.applied = initial;
    this.#latestVersion = initial.version;
    this.#drainTimeoutMs = drainTimeoutMs;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The provider announced a new state. */
  change(next: FlagState): void {
    if (this.closed || !(next.version > this.#latestVersion)) return;
    this.#latestVersion = next.version;
    if (sameModes(next, this.applied)) {
      // Same modes as in force, every table included (possibly a pending switch reverted, or only `stale` or read
      // routing changed): nothing to drain.
      this.target = null;
      this.fast = true;
      this.#endDrain();
      this.applied = next;
      this.#releaseWaiters();
      this.#resolveApplied();
      return;
    }
    const wasPending = this.target !== null;
    this.target = next; // replaces a pending state: it never took effect, so no write ran under it
    this.fast = false;
    if (this.inFlight === 0) {
      this.#switchNow();
    } else if (!wasPending) {
      this.#drainStartedAt = this.#now();
      this.#startDrainTimer();
    }
  }

  /** A ticket left. */
  leave(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.target !== null) this.#switchNow();
  }

  newPin(): ModePin {
    const state = this.applied;
    this.pins[state.mode]++;
    this.pinStates.set(state, (this.pinStates.get(state) ?? 0) + 1);
    return new Pin(this, state, this.#now());
  }

  waitForTicket(): Promise<WriteTicket> {
    if (this.closed) return Promise.reject(closedOnEntry(false));
    return new Promise<WriteTicket>((resolve, reject) => {
      this.waiters.push({ pin: false, resolve, reject });
    });
  }

  waitForPin(): Promise<ModePin> {
    if (this.closed) return Promise.reject(closedOnEntry(true));
    return new Promise<ModePin>((resolve, reject) => {
      this.waiters.push({ pin: true, resolve, reject });
    });
  }

  /** Open pins whose modes (the default or a table's) differ from those of `state`. */
  pinsOutside(state: FlagState): number {
    let count = 0;
    for (const [pinned, open] of this.pinStates) if (!sameModes(pinned, state)) count += open;
    return count;
  }

  /** A pin of `state` was released. */
  unpin(state: FlagState): void {
    this.pins[state.mode]--;
    const open = (this.pinStates.get(state) ?? 1) - 1;
    if (open > 0) this.pinStates.set(state, open);
    else this.pinStates.delete(state);
  }

  whenApplied(version: number): Promise<FlagState> {
    if (typeof version !== 'number' || Number.isNaN(version)) {
      return Promise.reject(new InvalidOptionError('ModeGate.whenApplied() version', version, 'a version number of the provider'));
    }
    if (this.applied.version >= version) return Promise.resolve(this.applied);
    if (this.closed) {
      return Promise.reject(
        new ClosedError(`The mode gate is closed, so the flag state of version ${version} will never take effect in it`, 'Check the mode of a pool that is open.'),
      );
    }
    return new Promise<FlagState>((resolve, reject) => {
      this.#appliedWaiters.push({ version, resolve, reject });
    });
  }

  close(): void {
    this.closed = true;
    this.fast = false;
    this.target = null;
    this.#endDrain();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      waiter.reject(
        new ClosedError(
          `The mode gate was closed while this ${waiter.pin ? 'transaction or connection' : 'write'} waited for a mode switch to take effect`,
          'Nothing was sent to either side. The pool is shutting down; run the work on a pool that is open.',
        ),
      );
    }
    const appliedWaiters = this.#appliedWaiters;
    this.#appliedWaiters = [];
    for (const waiter of appliedWaiters) {
      waiter.reject(
        new ClosedError(
          `The mode gate was closed before the flag state of version ${waiter.version} took effect`,
          'The switch was not confirmed in this pool; check the mode of a pool that is open.',
        ),
      );
    }
  }

  #switchNow(): void {
    const previous = this.applied;
    const next = this.target;
    if (next === null) return;
    const drainMs = this.#elapsedDrain();
    this.applied = next;
    this.target = null;
    this.fast = true;
    this.#endDrain();
    this.#releaseWaiters();
    this.#resolveApplied();
    const onSwitch = this.#options.onSwitch;
    if (onSwitch !== undefined) {
      const info: SwitchInfo = {
        previous,
        adjacent: isAdjacentStateSwitch(previous, next),
        drainMs,
        pinsUnderOtherModes: this.pinsOutside(next),
      };
      this.#callback(() => onSwitch(previous.mode, next.mode, next, info));
    }
  }

  #elapsedDrain(): number {
    const startedAt = this.#drainStartedAt;
    return startedAt === undefined ? 0 : Math.max(0, this.#now() - startedAt);
  }

  /** Admits every waiter under the state in force (their tickets count as in flight from now). */
  #releaseWaiters(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const waiter of waiters) {
      if (waiter.pin) {
        waiter.resolve(this.newPin());
      } else {
        this.inFlight++;
        waiter.resolve(new Ticket(this, this.applied));
      }
    }
  }

  #resolveApplied(): void {
    if (this.#appliedWaiters.length === 0) return;
    const applied = this.applied;
    const still: AppliedWaiter[] = [];
    for (const waiter of this.#appliedWaiters) {
      if (applied.version >= waiter.version) waiter.resolve(applied);
      else still.push(waiter);
    }
    this.#appliedWaiters = still;
  }

  #startDrainTimer(): void {
    const every = this.#drainTimeoutMs;
    if (every === 0 || every === Infinity || this.#options.onDrainTimeout === undefined) return;
    const timer = setInterval(() => this.#reportDrain(), every);
    timer.unref();
    this.#drainTimer = timer;
  }

  #endDrain(): void {
    if (this.#drainTimer !== undefined) clearInterval(this.#drainTimer);
    this.#drainTimer = undefined;
    this.#drainStartedAt = undefined;
  }

  #reportDrain(): void {
    const target = this.target;
    const onDrainTimeout = this.#options.onDrainTimeout;
    if (target === null || onDrainTimeout === undefined) return;
    const report: DrainTimeoutReport = {
      from: this.applied.mode,
      to: target.mode,
      state: target,
      inFlight: this.inFlight,
      waiting: this.waiters.length,
      waitedMs: this.#elapsedDrain(),
    };
    this.#callback(() => onDrainTimeout(report));
  }

  #callback(call: () => void): void {
    try {
      call();
    } catch (error) {
      reportSafely(this.#options.onCallbackError ?? rethrowAsync, error);
    }
  }
}

class Ticket implements WriteTicket {
  readonly mode: Mode;
  readonly state: FlagState;
  #core: GateCore | null;

  constructor(core: GateCore, state: FlagState) {
    this.#core = core;
    this.state = state;
    this.mode = state.mode;
  }

  leave(): void {
    const core = this.#core;
    if (core === null) return;
    this.#core = null;
    core.leave();
  }
}

class Pin implements ModePin {
  readonly mode: Mode;
  readonly state: FlagState;
  readonly pinnedAt: number;
  #core: GateCore | null;

  constructor(core: GateCore, state: FlagState, pinnedAt: number) {
    this.#core = core;
    this.state = state;
    this.mode = state.mode;
    this.pinnedAt = pinnedAt;
  }

  release(): void {
    const core = this.#core;
    if (core === null) return;
    this.#core = null;
    core.unpin(this.state);
  }
}

function closedOnEntry(pin: boolean): ClosedError {
  return new ClosedError(
    `The mode gate is closed, so this ${pin ? 'transaction or connection' : 'write'} was not admitted`,
    'Nothing was sent to either side. The pool is shutting down; run the work on a pool that is open.',
  );
}
