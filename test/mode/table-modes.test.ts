/**
 * Per-table modes below the pool: the state helpers (lookup, equality, the per-table one-step rule), the in-memory
 * and polling providers carrying `tableModes`, and the mode gate treating a change of table modes alone as a
 * switch that drains in-flight writes, while a change of `stale` alone does not.
 */
import { describe, expect, it, vi } from 'vitest';
import { InvalidModeError, InvalidOptionError } from '../../src/errors.js';
import {
  InMemoryFlagProvider,
  isAdjacentStateSwitch,
  ModeGate,
  PollingFlagProvider,
  sameModes,
  tableMode,
  type FlagListener,
  type FlagProvider,
  type FlagState,
  type Mode,
} from '../../src/mode/index.js';

function state(mode: Mode, tableModes?: Record<string, Mode>, extra: Partial<FlagState> = {}): FlagState {
  return { mode, version: 0, updatedAt: 0, ...(tableModes === undefined ? {} : { tableModes }), ...extra };
}

describe('table-mode helpers', () => {
  it('look a table up by schema.table, case-insensitively, falling back to the default mode', () => {
    const s = state('source_only', { 'Shop.Orders': 'source_first' });
    expect(tableMode(s, 'shop', 'orders')).toBe('source_first');
    expect(tableMode(s, 'SHOP', 'ORDERS')).toBe('source_first');
    expect(tableMode(s, 'shop', 'users')).toBe('source_only');
    expect(tableMode(s, null, 'orders')).toBe('source_only');
    expect(tableMode(state('target_only'), 'shop', 'orders')).toBe('target_only');
  });

  it('compare states by their modes only', () => {
    expect(sameModes(state('source_first'), state('source_first', undefined, { version: 7, stale: true }))).toBe(true);
    expect(sameModes(state('source_first', { 'a.t': 'source_only' }), state('source_first', { 'A.T': 'source_only' }))).toBe(true);
    expect(sameModes(state('source_first', {}), state('source_first'))).toBe(true);
    expect(sameModes(state('source_first', { 'a.t': 'source_only' }), state('source_first'))).toBe(false);
    expect(sameModes(state('source_first', { 'a.t': 'source_only' }), state('source_first', { 'a.t': 'target_first' }))).toBe(false);
    expect(sameModes(state('source_first'), state('source_only'))).toBe(false);
  });

  it('apply the one-step rule to every table', () => {
    expect(isAdjacentStateSwitch(state('source_only'), state('source_only', { 'a.t': 'source_first' }))).toBe(true);
    expect(isAdjacentStateSwitch(state('source_only'), state('source_only', { 'a.t': 'target_first' }))).toBe(false);
    // The default moves one step and a table that had the new default as override stays: still one step.
    expect(isAdjacentStateSwitch(state('source_only', { 'a.t': 'source_first' }), state('source_first'))).toBe(true);
    // The default moves one step; a table whose override stays put did not move at all.
    expect(isAdjacentStateSwitch(state('source_first', { 'a.t': 'target_only' }), state('target_first', { 'a.t': 'target_only' }))).toBe(true);
    // Dropping an override that was two steps away from the default is a jump for that table.
    expect(isAdjacentStateSwitch(state('source_only', { 'a.t': 'target_first' }), state('source_only'))).toBe(false);
    expect(isAdjacentStateSwitch(state('source_only', { 'a.t': 'source_first' }), state('source_only', { 'a.t': 'source_first' }))).toBe(false);
  });
});

describe('InMemoryFlagProvider table modes', () => {
  it('sets and clears one table, notifying once per change, and ignores a repeat', () => {
    const flags = new InMemoryFlagProvider('source_only', { now: () => 5 });
    const listener = vi.fn<FlagListener>();
    flags.subscribe(listener);
    const one = flags.set('source_first', { table: 'shop.orders', source: 'ops' });
    expect(one).toEqual({ mode: 'source_only', version: 1, updatedAt: 5, source: 'ops', tableModes: { 'shop.orders': 'source_first' } });
    expect(Object.isFrozen(one.tableModes)).toBe(true);
    expect(flags.set('source_first', { table: 'shop.orders' })).toBe(one);
    const two = flags.set('source_first'); // the default moves, the override stays
    expect(two).toMatchObject({ mode: 'source_first', version: 2, tableModes: { 'shop.orders': 'source_first' } });
    const three = flags.clearTableMode('shop.orders');
    expect(three.version).toBe(3);
    expect(three).not.toHaveProperty('tableModes');
    expect(flags.clearTableMode('shop.orders')).toBe(three);
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('refuses a key without a schema and a value that is not a mode, changing nothing', () => {
    const flags = new InMemoryFlagProvider('source_only');
    const before = flags.current();
    expect(() => flags.set('source_first', { table: 'orders' })).toThrow(InvalidOptionError);
    expect(() => flags.set('sauce_first' as Mode, { table: 'shop.orders' })).toThrow(InvalidModeError);
    expect(() => new InMemoryFlagProvider('source_only', { tableModes: { 'shop.orders': 'nope' as Mode } })).toThrow(InvalidOptionError);
    expect(flags.current()).toBe(before);
    expect(new InMemoryFlagProvider('source_only', { tableModes: {} }).current()).not.toHaveProperty('tableModes');
  });
});

describe('PollingFlagProvider table modes', () => {
  it('carries tableModes from an object answer, and a change of them alone is a new state', async () => {
    let answer: unknown = { mode: 'source_only', tableModes: { 'shop.orders': 'source_first' } };
    const flags = new PollingFlagProvider({ read: () => answer as string, intervalMs: 60_000 });
    await flags.start();
    expect(flags.current()).toMatchObject({ mode: 'source_only', version: 0, tableModes: { 'shop.orders': 'source_first' } });
    await flags.refresh();
    expect(flags.current().version).toBe(0); // same values: no new state
    answer = { mode: 'source_only', tableModes: { 'shop.orders': 'target_first' } };
    await flags.refresh();
    expect(flags.current()).toMatchObject({ version: 1, tableModes: { 'shop.orders': 'target_first' } });
    answer = { mode: 'source_only', tableModes: { orders: 'target_first' } };
    await expect(flags.refresh()).rejects.toBeInstanceOf(InvalidModeError);
    expect(flags.current().version).toBe(1);
    await flags.close();
  });
});

describe('ModeGate and table modes', () => {
  /** A provider whose states the test hands over one by one (any field, `stale` included). */
  class ScriptedProvider implements FlagProvider {
    #state: FlagState;
    readonly #listeners = new Set<FlagListener>();
    constructor(initial: FlagState) {
      this.#state = initial;
    }
    current(): FlagState {
      return this.#state;
    }
    subscribe(listener: FlagListener): () => void {
      this.#listeners.add(listener);
      return () => this.#listeners.delete(listener);
    }
    push(next: Omit<FlagState, 'version' | 'updatedAt'>): void {
      const previous = this.#state;
      this.#state = { ...next, version: previous.version + 1, updatedAt: 0 };
      for (const listener of this.#listeners) listener(this.#state, previous);
    }
  }

  it('drains in-flight writes for a change of table modes, not for a change of stale alone', async () => {
    const flags = new ScriptedProvider(state('source_only'));
    const switches: Array<[Mode, Mode, FlagState]> = [];
    const gate = new ModeGate(flags, { onSwitch: (from, to, next) => switches.push([from, to, next]) });
    const ticket = gate.enter();
    if (ticket instanceof Promise) throw new Error('no switch is pending');

    flags.push({ mode: 'source_only', stale: true });
    expect(gate.pending).toBe(false); // nothing to drain: same modes
    expect(gate.appliedState.stale).toBe(true);

    flags.push({ mode: 'source_only', stale: true, tableModes: { 'shop.orders': 'source_first' } });
    expect(gate.pending).toBe(true);
    const waiting = gate.enter();
    expect(waiting).toBeInstanceOf(Promise);
    expect(switches).toEqual([]);

    ticket.leave();
    const next = await waiting;
    expect(next.state.tableModes).toEqual({ 'shop.orders': 'source_first' });
    next.leave();
    expect(switches.map(([from, to, s]) => [from, to, s.tableModes])).toEqual([['source_only', 'source_only', { 'shop.orders': 'source_first' }]]);
    gate.close();
  });

  it('counts a pin of older table modes as stale, though the default mode is the same', () => {
    const flags = new ScriptedProvider(state('source_first'));
    const infos: number[] = [];
    const gate = new ModeGate(flags, { onSwitch: (_from, _to, _state, info) => infos.push(info.pinsUnderOtherModes) });
    const pin = gate.pin();
    if (pin instanceof Promise) throw new Error('no switch is pending');
    flags.push({ mode: 'source_first', stale: true });
    expect(gate.stalePins).toBe(0); // only `stale` changed: the pin runs the modes in force
    flags.push({ mode: 'source_first', tableModes: { 'shop.orders': 'target_first' } });
    expect(infos).toEqual([1]);
    expect(gate.stalePins).toBe(1);
    expect(gate.openPins().source_first).toBe(1);
    pin.release();
    expect(gate.stalePins).toBe(0);
    expect(gate.openPins().source_first).toBe(0);
    gate.close();
  });
});
