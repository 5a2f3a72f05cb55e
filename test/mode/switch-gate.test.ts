/** ModeGate: fast path, drain, serialization of switches, pins, drain timeout, close. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, FlagsNotReadyError, InvalidOptionError } from '../../src/errors.js';
import {
  InMemoryFlagProvider,
  ModeGate,
  PollingFlagProvider,
  type DrainTimeoutReport,
  type FlagState,
  type Mode,
  type ModePin,
  type SwitchInfo,
  type WriteTicket,
} from '../../src/mode/index.js';

/** Lets every queued promise continuation run. */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Tracks whether a promise has settled, without awaiting it. */
function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { settled: true, value }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

function setup(initial: Mode = 'source_only', options: ConstructorParameters<typeof ModeGate>[1] = {}) {
  const flags = new InMemoryFlagProvider(initial);
  const switches: Array<[Mode, Mode, FlagState, SwitchInfo]> = [];
  const gate = new ModeGate(flags, { onSwitch: (from, to, state, info) => switches.push([from, to, state, info]), ...options });
  return { flags, gate, switches };
}

function sync<T extends object>(value: T | Promise<T>): T {
  expect(value).not.toBeInstanceOf(Promise);
  return value as T;
}

describe('ModeGate fast path', () => {
  it('admits writes synchronously when no switch is pending', () => {
    const { gate } = setup('source_first');
    const a = sync(gate.enter());
    const b = sync(gate.enter());
    expect(a.mode).toBe('source_first');
    expect(a.state.version).toBe(0);
    expect(gate.inFlight).toBe(2);
    a.leave();
    a.leave(); // a second leave is ignored
    expect(gate.inFlight).toBe(1);
    b.leave();
    expect(gate.inFlight).toBe(0);
    expect(gate.pending).toBe(false);
    expect(gate.pendingState).toBeNull();
  });

  it('switches at once when nothing is in flight', () => {
    const { flags, gate, switches } = setup();
    const state = flags.set('source_first', { source: 'ops' });
    expect(gate.currentMode).toBe('source_first');
    expect(gate.appliedState).toBe(state);
    expect(gate.pending).toBe(false);
    expect(switches).toHaveLength(1);
    const [from, to, applied, info] = switches[0]!;
    expect([from, to, applied]).toEqual(['source_only', 'source_first', state]);
    expect(info).toMatchObject({ adjacent: true, drainMs: 0, pinsUnderOtherModes: 0 });
    expect(info.previous.mode).toBe('source_only');
    expect(sync(gate.enter()).mode).toBe('source_first');
  });

  it('reports non-adjacent switches as such', () => {
    const { flags, switches } = setup();
    flags.set('target_first');
    expect(switches[0]![3].adjacent).toBe(false);
  });
});

describe('ModeGate drain', () => {
  it('holds new writes until the old mode’s writes have left, then admits them under the new mode', async () => {
    const { flags, gate, switches } = setup('source_first');
    const old1 = sync(gate.enter());
    const old2 = sync(gate.enter());
    const next = flags.set('target_first');
    expect(gate.pending).toBe(true);
    expect(gate.pendingState).toBe(next);
    expect(gate.currentMode).toBe('source_first');

    const waiting = gate.enter();
    expect(waiting).toBeInstanceOf(Promise);
    const admitted = track(waiting as Promise<WriteTicket>);
    const applied = track(gate.whenApplied(next.version));
    expect(gate.waiting).toBe(1);

    old1.leave();
    await settle();
    expect(admitted.settled).toBe(false);
    expect(applied.settled).toBe(false);
    expect(switches).toHaveLength(0);

    old2.leave();
    expect(gate.currentMode).toBe('target_first'); // in force synchronously when the last old write leaves
    expect(gate.inFlight).toBe(1); // the released waiter counts from now
    await settle();
    expect(admitted.value?.mode).toBe('target_first');
    expect(applied.value).toBe(next);
    expect(switches.map(([from, to]) => [from, to])).toEqual([['source_first', 'target_first']]);
  });

  it('serializes A → B → C: a state superseded before it took effect is skipped', async () => {
    const { flags, gate, switches } = setup('source_only');
    const a = sync(gate.enter());
    const b = flags.set('source_first');
    const waiter = track(gate.enter() as Promise<WriteTicket>);
    const c = flags.set('target_first');
    expect(gate.pendingState).toBe(c);
    const whenB = track(gate.whenApplied(b.version));
    a.leave();
    await settle();
    expect(waiter.value?.mode).toBe('target_first');
    expect(whenB.value).toBe(c); // version ≥ b's: b is settled, by a later state
    expect(switches.map(([from, to]) => [from, to])).toEqual([['source_only', 'target_first']]);
  });

  it('serializes A → B → C when writes ran under B: none under C before every B write left', async () => {
    const { flags, gate, switches } = setup('source_only');
    const a = sync(gate.enter());
    flags.set('source_first');
    const underB = track(gate.enter() as Promise<WriteTicket>);
    a.leave();
    await settle();
    const bTicket = underB.value!;
    expect(bTicket.mode).toBe('source_first');
    const c = flags.set('target_first');
    const underC = track(gate.enter() as Promise<WriteTicket>);
    const whenC = track(gate.whenApplied(c.version));
    await settle();
    expect(underC.settled).toBe(false);
    expect(whenC.settled).toBe(false);
    bTicket.leave();
    await settle();
    expect(underC.value?.mode).toBe('target_first');
    expect(whenC.value).toBe(c);
    expect(switches.map(([from, to]) => [from, to])).toEqual([
      ['source_only', 'source_first'],
      ['source_first', 'target_first'],
    ]);
  });

  it('a switch reverted before it took effect releases the waiters under the mode in force, without a switch', async () => {
    const { flags, gate, switches } = setup('source_first');
    const old = sync(gate.enter());
    const b = flags.set('target_first');
    const waiter = track(gate.enter() as Promise<WriteTicket>);
    const whenB = track(gate.whenApplied(b.version));
    const back = flags.set('source_first');
    expect(gate.pending).toBe(false);
    expect(gate.appliedState).toBe(back);
    await settle();
    expect(waiter.value?.mode).toBe('source_first');
    expect(whenB.value).toBe(back);
    expect(switches).toHaveLength(0);
    old.leave();
    expect(switches).toHaveLength(0);
  });

  it('whenApplied() resolves at once for a version in force, and waits for a future one', async () => {
    const { flags, gate } = setup();
    expect(await gate.whenApplied(0)).toBe(gate.appliedState);
    const later = track(gate.whenApplied(2));
    flags.set('source_first');
    await settle();
    expect(later.settled).toBe(false);
    flags.set('target_first');
    await settle();
    expect(later.value?.version).toBe(2);
    await expect(gate.whenApplied(Number.NaN)).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it('ignores stale or repeated states', () => {
    const listeners: Array<(next: FlagState, previous: FlagState) => void> = [];
    let state: FlagState = { mode: 'source_only', version: 5, updatedAt: 0 };
    const gate = new ModeGate({
      current: () => state,
      subscribe: (listener) => {
        listeners.push(listener);
        return () => undefined;
      },
    });
    const previous = state;
    state = { mode: 'target_only', version: 4, updatedAt: 0 };
    listeners[0]!(state, previous);
    expect(gate.currentMode).toBe('source_only');
    state = { mode: 'target_only', version: 5, updatedAt: 0 };
    listeners[0]!(state, previous);
    expect(gate.currentMode).toBe('source_only');
    state = { mode: 'target_only', version: 6, updatedAt: 0 };
    listeners[0]!(state, previous);
    expect(gate.currentMode).toBe('target_only');
  });
});

describe('ModeGate pins', () => {
  it('a pin keeps its mode and does not delay the switch for other writers', () => {
    const { flags, gate, switches } = setup('source_first');
    const pin = sync(gate.pin());
    expect(pin.mode).toBe('source_first');
    const write = sync(gate.enter());
    flags.set('target_first');
    expect(gate.pending).toBe(true);
    write.leave(); // the single write drains; the open pin does not hold the switch
    expect(gate.currentMode).toBe('target_first');
    expect(switches[0]![3].pinsUnderOtherModes).toBe(1);
    expect(pin.mode).toBe('source_first');
    expect(sync(gate.enter()).mode).toBe('target_first');
    expect(gate.openPins()).toEqual({ source_only: 0, source_first: 1, target_first: 0, target_only: 0 });
    expect(gate.stalePins).toBe(1);
    pin.release();
    pin.release();
    expect(gate.stalePins).toBe(0);
    expect(gate.openPins().source_first).toBe(0);
  });

  it('a pin taken while a switch drains waits, then pins the new mode', async () => {
    const { flags, gate } = setup('source_first');
    const write = sync(gate.enter());
    flags.set('target_first');
    const pending = gate.pin();
    expect(pending).toBeInstanceOf(Promise);
    const pinned = track(pending as Promise<ModePin>);
    await settle();
    expect(pinned.settled).toBe(false);
    write.leave();
    await settle();
    expect(pinned.value?.mode).toBe('target_first');
    expect(gate.openPins().target_first).toBe(1);
    expect(gate.stalePins).toBe(0);
  });

  it('pinnedAt comes from the gate clock', () => {
    const { gate } = setup('source_only', { now: () => 123 });
    expect(sync(gate.pin()).pinnedAt).toBe(123);
  });
});

describe('ModeGate drain timeout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports a slow drain every drainTimeoutMs but keeps waiting, in order', async () => {
    vi.useFakeTimers({ now: 0 });
    const reports: DrainTimeoutReport[] = [];
    const { flags, gate, switches } = setup('source_first', { drainTimeoutMs: 100, onDrainTimeout: (report) => reports.push(report) });
    const stuck = sync(gate.enter());
    const next = flags.set('target_first');
    const waiter = track(gate.enter() as Promise<WriteTicket>);
    await vi.advanceTimersByTimeAsync(99);
    expect(reports).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(reports).toEqual([{ from: 'source_first', to: 'target_first', state: next, inFlight: 1, waiting: 1, waitedMs: 100 }]);
    await vi.advanceTimersByTimeAsync(150);
    expect(reports.map((r) => r.waitedMs)).toEqual([100, 200]);
    expect(waiter.settled).toBe(false);
    expect(gate.currentMode).toBe('source_first');

    stuck.leave();
    await settle();
    expect(waiter.value?.mode).toBe('target_first');
    expect(switches[0]![3].drainMs).toBe(250);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reports).toHaveLength(2);
  });

  it('is off with 0, and validates the option', async () => {
    vi.useFakeTimers();
    const onDrainTimeout = vi.fn();
    const { flags, gate } = setup('source_first', { drainTimeoutMs: 0, onDrainTimeout });
    sync(gate.enter());
    flags.set('target_first');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(onDrainTimeout).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    const flags2 = new InMemoryFlagProvider('source_only');
    expect(() => new ModeGate(flags2, { drainTimeoutMs: -1 })).toThrow(InvalidOptionError);
    expect(() => new ModeGate(flags2, { drainTimeoutMs: 2 ** 31 })).toThrow(/drainTimeoutMs/);
    expect(() => new ModeGate(flags2, { drainTimeoutMs: Infinity })).not.toThrow();
  });
});

describe('ModeGate callbacks', () => {
  it('a throwing onSwitch is reported and changes nothing', async () => {
    const errors: unknown[] = [];
    const boom = new Error('audit sink down');
    const flags = new InMemoryFlagProvider('source_first');
    const gate = new ModeGate(flags, {
      onSwitch: () => {
        throw boom;
      },
      onCallbackError: (error) => errors.push(error),
    });
    const write = sync(gate.enter());
    flags.set('target_first');
    const waiter = track(gate.enter() as Promise<WriteTicket>);
    expect(() => write.leave()).not.toThrow();
    await settle();
    expect(errors).toEqual([boom]);
    expect(gate.currentMode).toBe('target_first');
    expect(waiter.value?.mode).toBe('target_first');
  });
});

describe('ModeGate close', () => {
  it('rejects waiting writes, pins and whenApplied() with ER_DUALWRITE_CLOSED, and refuses new ones', async () => {
    const { flags, gate } = setup('source_first');
    const write = sync(gate.enter());
    const next = flags.set('target_first');
    const waitingWrite = track(gate.enter() as Promise<WriteTicket>);
    const waitingPin = track(gate.pin() as Promise<ModePin>);
    const applied = track(gate.whenApplied(next.version));
    gate.close();
    gate.close();
    await settle();
    for (const waiter of [waitingWrite, waitingPin, applied]) {
      expect(waiter.error).toBeInstanceOf(ClosedError);
      expect((waiter.error as ClosedError).code).toBe('ER_DUALWRITE_CLOSED');
    }
    expect((waitingWrite.error as Error).message).toMatch(/closed while this write waited.*Nothing was sent/);
    expect(gate.closed).toBe(true);
    expect(gate.pending).toBe(false);
    write.leave(); // harmless after close
    await expect(gate.enter() as Promise<WriteTicket>).rejects.toThrow(/closed, so this write was not admitted/);
    await expect(gate.pin() as Promise<ModePin>).rejects.toBeInstanceOf(ClosedError);
    await expect(gate.whenApplied(next.version + 1)).rejects.toBeInstanceOf(ClosedError);
    flags.set('target_only'); // unsubscribed: no effect
    expect(gate.currentMode).toBe('source_first');
  });
});

describe('ModeGate construction', () => {
  it('needs a provider that has a mode', () => {
    const flags = new PollingFlagProvider({ read: () => 'source_only' });
    expect(() => new ModeGate(flags)).toThrow(FlagsNotReadyError);
  });
});
