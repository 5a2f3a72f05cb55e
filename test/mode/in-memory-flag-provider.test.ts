/** InMemoryFlagProvider: versions, no-op sets, listener order and isolation. */
import { describe, expect, it, vi } from 'vitest';
import { InvalidModeError } from '../../src/errors.js';
import { InMemoryFlagProvider, type FlagState, type Mode } from '../../src/mode/index.js';

describe('InMemoryFlagProvider', () => {
  it('starts at version 0 and bumps the version on each change', () => {
    let clock = 1000;
    const flags = new InMemoryFlagProvider('source_only', { source: 'boot', now: () => clock });
    expect(flags.current()).toEqual({ mode: 'source_only', version: 0, updatedAt: 1000, source: 'boot' });
    clock = 2000;
    const next = flags.set('source_first', { source: 'ops' });
    expect(next).toEqual({ mode: 'source_first', version: 1, updatedAt: 2000, source: 'ops' });
    expect(flags.current()).toBe(next);
    expect(Object.isFrozen(next)).toBe(true);
    expect(flags.set('target_first').version).toBe(2);
    expect(flags.current()).not.toHaveProperty('source');
  });

  it('changes nothing when the mode is already in force', () => {
    const flags = new InMemoryFlagProvider('source_first');
    const listener = vi.fn();
    flags.subscribe(listener);
    const before = flags.current();
    expect(flags.set('source_first', { source: 'again' })).toBe(before);
    expect(flags.current()).toBe(before);
    expect(listener).not.toHaveBeenCalled();
  });

  it('notifies listeners synchronously with (next, previous), until unsubscribed', () => {
    const flags = new InMemoryFlagProvider('source_only');
    const calls: Array<[Mode, Mode]> = [];
    const unsubscribe = flags.subscribe((next, previous) => calls.push([next.mode, previous.mode]));
    flags.set('source_first');
    expect(calls).toEqual([['source_first', 'source_only']]);
    unsubscribe();
    unsubscribe();
    flags.set('target_first');
    expect(calls).toHaveLength(1);
  });

  it('refuses an invalid mode and keeps the mode in force', () => {
    const flags = new InMemoryFlagProvider('source_only');
    expect(() => flags.set('target' as Mode)).toThrow(InvalidModeError);
    expect(() => flags.set('target' as Mode)).toThrow(/"target" from InMemoryFlagProvider\.set\(\)/);
    expect(flags.current().version).toBe(0);
    expect(() => new InMemoryFlagProvider('nope' as Mode)).toThrow(InvalidModeError);
  });

  it('isolates a throwing listener: the others run, the change holds, onListenerError hears of it', () => {
    const reported: Array<[unknown, Mode, Mode]> = [];
    const flags = new InMemoryFlagProvider('source_only', {
      onListenerError: (error, next, previous) => reported.push([error, next.mode, previous.mode]),
    });
    const boom = new Error('listener failed');
    const after = vi.fn();
    flags.subscribe(() => {
      throw boom;
    });
    flags.subscribe(after);
    const state = flags.set('source_first');
    expect(state.mode).toBe('source_first');
    expect(flags.current()).toBe(state);
    expect(after).toHaveBeenCalledOnce();
    expect(reported).toEqual([[boom, 'source_first', 'source_only']]);
  });

  it('by default re-throws a listener error from a microtask instead of swallowing it', async () => {
    const flags = new InMemoryFlagProvider('source_only');
    const boom = new Error('listener failed');
    flags.subscribe(() => {
      throw boom;
    });
    const queued: Array<() => void> = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
      queued.push(callback);
    });
    try {
      expect(() => flags.set('source_first')).not.toThrow();
    } finally {
      spy.mockRestore();
    }
    expect(queued).toHaveLength(1);
    expect(() => queued[0]!()).toThrow(boom);
    await Promise.resolve();
  });

  it('delivers changes made from inside a listener after the current one, in version order', () => {
    const flags = new InMemoryFlagProvider('source_only');
    const seen: Array<[string, number, number]> = [];
    flags.subscribe((next, previous) => {
      seen.push(['a', next.version, previous.version]);
      if (next.mode === 'source_first') flags.set('target_first');
    });
    flags.subscribe((next: FlagState, previous: FlagState) => seen.push(['b', next.version, previous.version]));
    flags.set('source_first');
    expect(seen).toEqual([
      ['a', 1, 0],
      ['b', 1, 0],
      ['a', 2, 1],
      ['b', 2, 1],
    ]);
    expect(flags.current().mode).toBe('target_first');
  });

  it('skips a listener unsubscribed by an earlier listener of the same change', () => {
    const flags = new InMemoryFlagProvider('source_only');
    const second = vi.fn();
    let unsubscribeSecond = (): void => undefined;
    flags.subscribe(() => unsubscribeSecond());
    unsubscribeSecond = flags.subscribe(second);
    flags.set('source_first');
    expect(second).not.toHaveBeenCalled();
  });
});
