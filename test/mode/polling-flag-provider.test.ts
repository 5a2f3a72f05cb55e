/** PollingFlagProvider on a fake clock: first read, errors, invalid values, no overlap, close. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, FlagLoadError, FlagsNotReadyError, InvalidModeError, InvalidOptionError } from '../../src/errors.js';
import { PollingFlagProvider, type FlagStateLike, type Mode, type PolledFlag } from '../../src/mode/index.js';

/** A read function whose answers the test sets; records calls and concurrency. */
function scriptedRead(first: PolledFlag | Error) {
  const script = {
    answer: first,
    delayMs: 0,
    calls: 0,
    active: 0,
    maxActive: 0,
    startedAt: [] as number[],
    read: async (): Promise<PolledFlag> => {
      script.calls++;
      script.active++;
      script.maxActive = Math.max(script.maxActive, script.active);
      script.startedAt.push(Date.now());
      try {
        if (script.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, script.delayMs));
        if (script.answer instanceof Error) throw script.answer;
        return script.answer;
      } finally {
        script.active--;
      }
    },
  };
  return script;
}

describe('PollingFlagProvider', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('has no mode before start(); start() does the first read', async () => {
    const script = scriptedRead('source_first');
    const flags = new PollingFlagProvider({ read: script.read, source: 'nacos' });
    expect(() => flags.current()).toThrow(FlagsNotReadyError);
    expect(() => flags.current()).toThrow(/await provider\.start\(\)/i);
    await flags.start();
    expect(script.calls).toBe(1);
    expect(flags.current()).toEqual({ mode: 'source_first', version: 0, updatedAt: 1_000_000, source: 'nacos' });
    expect(flags.start()).toBe(flags.start());
    await flags.close();
  });

  it('rejects start() when the first read fails and no initial was given, and allows a retry', async () => {
    const script = scriptedRead(new Error('connection refused'));
    const onError = vi.fn();
    const flags = new PollingFlagProvider({ read: script.read, onError });
    const error = await flags.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FlagLoadError);
    expect((error as FlagLoadError).code).toBe('ER_DUALWRITE_FLAG_LOAD_FAILED');
    expect((error as FlagLoadError).message).toContain('connection refused');
    expect((error as FlagLoadError).message).toContain('no `initial` mode');
    expect((error as FlagLoadError).cause).toBe(script.answer);
    expect(onError).not.toHaveBeenCalled(); // reported by the rejection, once
    expect(() => flags.current()).toThrow(FlagsNotReadyError);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(script.calls).toBe(1); // polling did not start

    script.answer = 'target_first';
    await flags.start();
    expect(flags.current().mode).toBe('target_first');
    await flags.close();
  });

  it('rejects start() for an invalid first value without initial, the InvalidModeError as cause', async () => {
    const flags = new PollingFlagProvider({ read: () => 'source-first' });
    const error = await flags.start().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FlagLoadError);
    expect((error as FlagLoadError).cause).toBeInstanceOf(InvalidModeError);
    expect((error as FlagLoadError).message).toContain('"source-first"');
    expect((error as FlagLoadError).message).toContain('source_only, source_first, target_first, target_only');
  });

  it('falls back on initial when the first read fails, reporting through onError', async () => {
    const script = scriptedRead(new Error('timeout'));
    const errors: unknown[] = [];
    const flags = new PollingFlagProvider({ read: script.read, initial: 'source_only', intervalMs: 500, onError: (e) => errors.push(e) });
    expect(flags.current().mode).toBe('source_only');
    await flags.start();
    expect(flags.current()).toMatchObject({ mode: 'source_only', version: 0 });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FlagLoadError);
    expect((errors[0] as Error).message).toContain('The mode in force (source_only, version 0) stays');
    expect(flags.lastError).toBe(errors[0]);

    script.answer = 'source_first';
    await vi.advanceTimersByTimeAsync(500);
    expect(flags.current()).toMatchObject({ mode: 'source_first', version: 1 });
    expect(flags.lastError).toBeUndefined();
    await flags.close();
  });

  it('picks up changes every intervalMs and notifies listeners; an unchanged mode is no new version', async () => {
    const script = scriptedRead('source_only');
    const flags = new PollingFlagProvider({ read: script.read, intervalMs: 1000 });
    const seen: Array<[Mode, number, Mode]> = [];
    flags.subscribe((next, previous) => seen.push([next.mode, next.version, previous.mode]));
    await flags.start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(script.calls).toBe(4);
    expect(flags.current().version).toBe(0);
    expect(seen).toEqual([]);

    script.answer = 'source_first';
    await vi.advanceTimersByTimeAsync(1000);
    expect(seen).toEqual([['source_first', 1, 'source_only']]);
    const object: FlagStateLike = { mode: 'target_first', source: 'apollo: release 42', updatedAt: 5 };
    script.answer = object;
    await vi.advanceTimersByTimeAsync(1000);
    expect(flags.current()).toEqual({ mode: 'target_first', version: 2, updatedAt: 5, source: 'apollo: release 42' });
    await flags.close();
  });

  it('keeps the last good mode when a read fails or returns an invalid value, never a default', async () => {
    const script = scriptedRead('target_first');
    const errors: Array<FlagLoadError | InvalidModeError> = [];
    const flags = new PollingFlagProvider({ read: script.read, intervalMs: 100, onError: (e) => errors.push(e) });
    await flags.start();
    const good = flags.current();

    script.answer = new Error('503 from config center');
    await vi.advanceTimersByTimeAsync(100);
    expect(flags.current()).toBe(good);
    expect(errors.at(-1)).toBeInstanceOf(FlagLoadError);
    expect(errors.at(-1)?.message).toContain('503 from config center');
    expect(errors.at(-1)?.message).toContain('target_first');

    for (const invalid of ['', 'TARGET_ONLY', { mode: 'sideways' }, { notMode: true }, 7, null] as unknown[]) {
      script.answer = invalid as PolledFlag;
      await vi.advanceTimersByTimeAsync(100);
      expect(flags.current()).toBe(good);
      expect(errors.at(-1)).toBeInstanceOf(InvalidModeError);
      expect(flags.lastError).toBe(errors.at(-1));
    }
    expect(errors).toHaveLength(7);
    expect(errors[2]?.message).toContain('"TARGET_ONLY"');
    expect(errors[3]?.message).toContain('"sideways"');
    expect(errors[3]?.message).toContain('`mode` field');

    script.answer = 'target_only';
    await vi.advanceTimersByTimeAsync(100);
    expect(flags.current()).toMatchObject({ mode: 'target_only', version: good.version + 1 });
    await flags.close();
  });

  it('survives a read that throws synchronously and an onError that throws', async () => {
    let fail = false;
    const flags = new PollingFlagProvider({
      read: () => {
        if (fail) throw new Error('sync failure');
        return 'source_only';
      },
      intervalMs: 100,
      onError: () => {
        throw new Error('logger broke');
      },
    });
    await flags.start();
    fail = true;
    const queued: Array<() => void> = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((callback) => {
      queued.push(callback);
    });
    try {
      await vi.advanceTimersByTimeAsync(100);
    } finally {
      spy.mockRestore();
    }
    expect(flags.lastError?.message).toContain('sync failure');
    expect(() => queued.forEach((callback) => callback())).toThrow('logger broke');
    fail = false;
    await vi.advanceTimersByTimeAsync(100);
    expect(flags.lastError).toBeUndefined();
    await flags.close();
  });

  it('never overlaps reads: a slow read delays the next one', async () => {
    const script = scriptedRead('source_first');
    const flags = new PollingFlagProvider({ read: script.read, intervalMs: 1000 });
    await flags.start();
    script.delayMs = 5000;
    const refreshed = flags.refresh(); // joins the next read when one is running, else starts one
    await vi.advanceTimersByTimeAsync(30_000);
    await refreshed;
    expect(script.maxActive).toBe(1);
    // Each read starts intervalMs after the previous one settled: 5000 ms of read + 1000 ms of wait.
    const gaps = script.startedAt.slice(2).map((t, i) => t - script.startedAt[i + 1]!);
    expect(gaps.length).toBeGreaterThanOrEqual(3);
    for (const gap of gaps) expect(gap).toBe(6000);
    await flags.close();
  });

  it('refresh() joins the read in progress', async () => {
    const script = scriptedRead('source_first');
    script.delayMs = 200;
    const flags = new PollingFlagProvider({ read: script.read, initial: 'source_only' });
    const a = flags.refresh();
    const b = flags.refresh();
    await vi.advanceTimersByTimeAsync(200);
    expect((await a).mode).toBe('source_first');
    expect(await b).toBe(await a);
    expect(script.calls).toBe(1);
    script.answer = 'bogus';
    const c = flags.refresh().then(
      () => null,
      (e: unknown) => e,
    );
    await vi.advanceTimersByTimeAsync(200);
    expect(await c).toBeInstanceOf(InvalidModeError);
    expect(flags.current().mode).toBe('source_first');
    await flags.close();
  });

  it('close() stops polling and ignores the result of a read in progress', async () => {
    const script = scriptedRead('source_only');
    const flags = new PollingFlagProvider({ read: script.read, intervalMs: 100 });
    const listener = vi.fn();
    flags.subscribe(listener);
    await flags.start();
    script.delayMs = 50;
    script.answer = 'source_first';
    await vi.advanceTimersByTimeAsync(120); // a read is in progress
    expect(script.active).toBe(1);
    await flags.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(script.calls).toBe(2);
    expect(flags.current().mode).toBe('source_only');
    expect(listener).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    await expect(flags.start()).rejects.toBeInstanceOf(ClosedError);
    await expect(flags.refresh()).rejects.toThrow(/after close\(\)/);
    await flags.close();
  });

  it('validates its options', () => {
    const read = (): Mode => 'source_only';
    expect(() => new PollingFlagProvider({ read, intervalMs: 0 })).toThrow(InvalidOptionError);
    expect(() => new PollingFlagProvider({ read, intervalMs: Number.NaN })).toThrow(/intervalMs: NaN|intervalMs: null/);
    expect(() => new PollingFlagProvider({ read, intervalMs: 2 ** 31 })).toThrow(InvalidOptionError);
    expect(() => new PollingFlagProvider({ read: 'source_only' as unknown as () => Mode })).toThrow(/read/);
    expect(() => new PollingFlagProvider({ read, initial: 'x' as Mode })).toThrow(/initial option/);
  });
});

describe('PollingFlagProvider timer', () => {
  it('does not keep the process alive (the timer is unref()ed)', async () => {
    const timers: NodeJS.Timeout[] = [];
    const real = globalThis.setTimeout;
    const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation((callback: () => void, ms?: number) => {
      const timer = real(callback, ms);
      timers.push(timer);
      return timer;
    });
    const flags = new PollingFlagProvider({ read: () => 'source_only', intervalMs: 60_000 });
    try {
      await flags.start();
    } finally {
      spy.mockRestore();
    }
    expect(timers).toHaveLength(1);
    expect(timers[0]!.hasRef()).toBe(false);
    await flags.close();
  });
});
