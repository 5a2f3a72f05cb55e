/**
 * The automatic fall-back of a guarded cut-over: after a switch, watch the health counters the fleet's
 * acknowledgements carry (see `InstanceCounters`), and put the previous flag values back when the new
 * primary side's error rate or p99 latency over the window crosses a threshold.
 *
 * Measured as deltas between acknowledgements: each instance's first acknowledgement seen after the
 * switch is its baseline, its latest one the sample; the fleet's counters are the sums over the
 * instances (`sumHealth`), turned into an error rate and a p99 by `healthBetween`. Nothing is judged
 * before `minStatements` statements ran on the new primary side, so a handful of failures on an idle
 * fleet does not switch back. Errors counted are the side's own (connection, timeouts, server faults),
 * never the application's SQL errors (duplicate keys, syntax).
 *
 * If the watcher itself dies (its process exits, Redis is unreachable for the whole window), the switch
 * stays: a fall-back is a safety net, not a transaction. The audit trail then shows the switch with no
 * fall-back after it; check `dualwrite status` and switch back by hand if needed.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { primarySide, type Mode, type Side } from '../mode/modes.js';
import type { FlagValues, RedisModeController } from '../mode/redis-mode-controller.js';
import type { InstanceAck } from '../mode/redis-flag-provider.js';
import { healthBetween, sumHealth, type SideHealth, type SideHealthStats } from '../telemetry/health.js';

/** Thresholds of the automatic fall-back. */
export interface FallbackOptions {
  /** How long to watch after the switch, in milliseconds. */
  readonly watchMs: number;
  /** Fall back when the new primary side's error rate over the window exceeds this (0 to 1). */
  readonly maxErrorRate?: number;
  /** Fall back when the new primary side's p99 latency over the window exceeds this, in milliseconds. */
  readonly maxP99Ms?: number;
  /** Statements the new primary must have run (fleet-wide) before anything is judged. @defaultValue 100 */
  readonly minStatements?: number;
  /** How often to read the acknowledgements, in milliseconds (they change once per heartbeat). @defaultValue 1000 */
  readonly pollMs?: number;
}

/** How a watch ended. */
export interface FallbackOutcome {
  /**
   * `fell_back`: a threshold was crossed and the previous values were put back; `healthy`: the window
   * passed; `superseded`: someone else switched meanwhile (nothing done); `stopped`: `stop()` was called.
   */
  readonly result: 'fell_back' | 'healthy' | 'superseded' | 'stopped';
  /** Why it fell back (which threshold, with the figures), or why it ended. */
  readonly reason: string;
  /** The fleet's health of the new primary side over the window (null when no instance reported counters). */
  readonly health: SideHealth | null;
  /** The revision the fall-back wrote. */
  readonly revision?: number;
}

/** A running watch. */
export interface FallbackWatch {
  /** Resolves when the watch ends (never rejects: errors of Redis are retried until the window ends). */
  readonly done: Promise<FallbackOutcome>;
  /** Stops watching (the switch stays); `done` resolves with `stopped`. */
  stop(): void;
}

/** Checked thresholds, with defaults. */
export interface CheckedFallback {
  /** How long to watch, in milliseconds. */
  readonly watchMs: number;
  /** Error-rate threshold, if any. */
  readonly maxErrorRate: number | undefined;
  /** p99 threshold in milliseconds, if any. */
  readonly maxP99Ms: number | undefined;
  /** Statements before judging. */
  readonly minStatements: number;
  /** Interval between reads of the acknowledgements, in milliseconds. */
  readonly pollMs: number;
}

/**
 * Checks fall-back options.
 *
 * @throws {@link InvalidOptionError} for a bad value, or when neither threshold is given
 */
export function checkFallback(options: FallbackOptions, owner: string): CheckedFallback {
  const { watchMs, maxErrorRate, maxP99Ms } = options;
  if (typeof watchMs !== 'number' || !(watchMs > 0) || watchMs > 2_147_483_647) throw new InvalidOptionError(`${owner} fallback.watchMs`, watchMs, 'a number of milliseconds above 0');
  if (maxErrorRate !== undefined && (typeof maxErrorRate !== 'number' || !(maxErrorRate >= 0 && maxErrorRate < 1))) {
    throw new InvalidOptionError(`${owner} fallback.maxErrorRate`, maxErrorRate, 'a fraction from 0 (any error) up to, not including, 1, e.g. 0.05 for 5%');
  }
  if (maxP99Ms !== undefined && (typeof maxP99Ms !== 'number' || !(maxP99Ms > 0))) throw new InvalidOptionError(`${owner} fallback.maxP99Ms`, maxP99Ms, 'a number of milliseconds above 0');
  if (maxErrorRate === undefined && maxP99Ms === undefined) {
    throw new InvalidOptionError(`${owner} fallback`, 'no threshold', 'maxErrorRate, maxP99Ms or both: without a threshold there is nothing to watch');
  }
  const minStatements = options.minStatements ?? 100;
  if (!Number.isSafeInteger(minStatements) || minStatements < 1) throw new InvalidOptionError(`${owner} fallback.minStatements`, minStatements, 'a whole number of statements, at least 1');
  const pollMs = options.pollMs ?? 1000;
  if (typeof pollMs !== 'number' || !(pollMs > 0)) throw new InvalidOptionError(`${owner} fallback.pollMs`, pollMs, 'a number of milliseconds above 0');
  return { watchMs, maxErrorRate, maxP99Ms, minStatements, pollMs };
}

/** What the watch needs to know about the switch it guards. */
export interface WatchedSwitch {
  /** The revision the switch wrote. */
  readonly revision: number;
  /** The mode switched to (its primary side is watched). */
  readonly to: Mode;
  /** The table of a per-table switch (reported in the reason; the counters are per side, not per table). */
  readonly table: string | null;
  /** The flag values to put back. */
  readonly previous: FlagValues;
  /** Who, for the audit of the fall-back. */
  readonly actor: string | undefined;
}

/**
 * Starts watching a switch (see the module notes).
 *
 * @param controller - the controller that switched
 * @param watched - the switch
 * @param options - checked thresholds ({@link checkFallback})
 * @param now - clock @defaultValue `Date.now`
 */
export function watchForFallback(controller: RedisModeController, watched: WatchedSwitch, options: CheckedFallback, now: () => number = Date.now): FallbackWatch {
  const side: Side = primarySide(watched.to);
  const baselines = new Map<string, SideHealthStats>();
  let stopped = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const sample = (acks: readonly InstanceAck[]): SideHealth | null => {
    const before: SideHealthStats[] = [];
    const after: SideHealthStats[] = [];
    for (const ack of acks) {
      const health = ack.counters?.health?.[side];
      if (health === undefined) continue;
      const baseline = baselines.get(ack.instanceId);
      if (baseline === undefined || health.statements < baseline.statements) {
        baselines.set(ack.instanceId, health); // first seen, or its pool was recreated
        continue;
      }
      before.push(baseline);
      after.push(health);
    }
    return after.length === 0 ? null : healthBetween(sumHealth(before), sumHealth(after));
  };

  const judge = (health: SideHealth): string | null => {
    if (health.statements < options.minStatements) return null;
    const what = `the new primary side (${side})${watched.table === null ? '' : ` of the switch of ${watched.table}`}`;
    if (options.maxErrorRate !== undefined && health.errorRate > options.maxErrorRate) {
      return `${what} failed ${health.errors} of ${health.statements} statements (error rate ${percent(health.errorRate)} > ${percent(options.maxErrorRate)})`;
    }
    if (options.maxP99Ms !== undefined && health.p99Ms !== null && health.p99Ms > options.maxP99Ms) {
      return `${what} answered with a p99 latency of ${health.p99Ms.toFixed(1)} ms over ${health.statements} statements (> ${options.maxP99Ms} ms)`;
    }
    return null;
  };

  const run = async (): Promise<FallbackOutcome> => {
    const deadline = now() + options.watchMs;
    let last: SideHealth | null = null;
    for (;;) {
      if (stopped) return { result: 'stopped', reason: 'the watch was stopped; the switch stays', health: last };
      try {
        const report = await controller.status();
        if (report.revision !== watched.revision) {
          return { result: 'superseded', reason: `revision ${report.revision} was written after the switch (revision ${watched.revision}); not watching it`, health: last };
        }
        last = sample([...report.applied, ...report.pending]) ?? last;
        const reason = last === null ? null : judge(last);
        if (reason !== null) {
          const written = await controller.restoreFlags(watched.previous, { source: watched.actor, reason, onlyIfRevision: watched.revision });
          if (written === null) return { result: 'superseded', reason: `a later switch was written before the fall-back (which was: ${reason})`, health: last };
          return { result: 'fell_back', reason, health: last, revision: written.revision };
        }
      } catch {
        // Redis unreachable for a moment: look again at the next poll (the switch stays if it never answers)
      }
      if (now() >= deadline) {
        return { result: 'healthy', reason: last === null ? 'no instance reported health counters during the window' : `no threshold crossed over ${last.statements} statements`, health: last };
      }
      await sleep(Math.min(options.pollMs, Math.max(1, deadline - now())));
    }
  };

  return {
    done: run(),
    stop: () => {
      stopped = true;
      wake?.();
    },
  };
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(rate < 0.01 ? 2 : 1)}%`;
}
