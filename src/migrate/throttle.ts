/**
 * Throttle signals for backfill: functions checked between chunks; while any of them says
 * `pause`, no new chunk starts (a chunk already running finishes). Ship-ready signals read the
 * load of a server (`Threads_running`), the lag of a replica (`Seconds_Behind_Master`), the
 * answer of any query, or a flag of the caller's own.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';
import { readRows } from '../schema/rows.js';
import { queryExact, type ExactQueryable, type ExactValue } from './codec.js';

/** What a throttle signal answers. */
export interface ThrottleDecision {
  /** True to hold the next chunk back. */
  readonly pause: boolean;
  /** Why, for progress reports (e.g. `Threads_running 41 > 30`). */
  readonly reason?: string;
}

/** A check run between chunks; backfill waits and asks again while it answers `pause: true`. */
export type ThrottleSignal = () => Promise<ThrottleDecision>;

/**
 * Pauses while the server's `Threads_running` (SHOW GLOBAL STATUS) is above `limit`.
 *
 * @param pool - a pool or connection of the server to watch (usually the source, or the target)
 * @param limit - the most threads running at which chunks still go on
 */
export function threadsRunningAbove(pool: ExactQueryable, limit: number): ThrottleSignal {
  if (!Number.isFinite(limit) || limit < 0) throw new InvalidOptionError('threadsRunningAbove limit', limit, 'a number of threads, 0 or more');
  return async () => {
    const rows = await queryExact(pool, "SHOW GLOBAL STATUS LIKE 'Threads_running'");
    const value = Number(asText(rows[0]?.[1]));
    if (!Number.isFinite(value)) return { pause: false };
    return value > limit ? { pause: true, reason: `Threads_running ${value} > ${limit}` } : { pause: false };
  };
}

/**
 * Pauses while a replica lags more than `seconds` behind its primary, by `Seconds_Behind_Master`
 * (`Seconds_Behind_Source` on MySQL 8) of SHOW REPLICA STATUS (SHOW SLAVE STATUS on servers
 * without it). A server that is not a replica (no row) never pauses; a replica whose SQL thread
 * is stopped (NULL lag) pauses, since its lag is unknown and growing. With several replication
 * channels, the largest lag counts.
 *
 * @param pool - a pool or connection of the replica to watch
 * @param seconds - the most lag at which chunks still go on
 */
export function replicaLagAbove(pool: ExactQueryable, seconds: number): ThrottleSignal {
  if (!Number.isFinite(seconds) || seconds < 0) throw new InvalidOptionError('replicaLagAbove seconds', seconds, 'a number of seconds, 0 or more');
  return async () => {
    let result: readonly [unknown, unknown];
    try {
      result = await pool.query({ sql: 'SHOW REPLICA STATUS' });
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ER_PARSE_ERROR') throw error;
      result = await pool.query({ sql: 'SHOW SLAVE STATUS' });
    }
    const rows = readRows(result);
    if (rows.length === 0) return { pause: false };
    let worst = 0;
    for (const row of rows) {
      const lag = row.seconds_behind_master ?? row.seconds_behind_source ?? null;
      if (lag === null) return { pause: true, reason: 'replica lag unknown (replication stopped)' };
      worst = Math.max(worst, Number(lag));
    }
    return worst > seconds ? { pause: true, reason: `replica lag ${worst}s > ${seconds}s` } : { pause: false };
  };
}

/**
 * Pauses while `sql` answers a truthy first column in its first row (not NULL, not empty, not a
 * number equal to 0), e.g. `SELECT COUNT(*) > 5 FROM information_schema.PROCESSLIST WHERE …`, or a
 * heartbeat-lag query `SELECT TIMESTAMPDIFF(SECOND, ts, UTC_TIMESTAMP()) > 10 FROM heartbeat`.
 *
 * @param pool - where to run the query
 * @param sql - a query returning one value
 */
export function customQuery(pool: ExactQueryable, sql: string): ThrottleSignal {
  if (typeof sql !== 'string' || sql.trim() === '') throw new InvalidOptionError('customQuery sql', sql, 'a query returning one value');
  return async () => {
    const rows = await queryExact(pool, sql);
    const value = asText(rows[0]?.[0]);
    const truthy = value !== null && value !== '' && !(Number.isFinite(Number(value)) && Number(value) === 0);
    return truthy ? { pause: true, reason: `custom query answered ${JSON.stringify(value.slice(0, 40))}` } : { pause: false };
  };
}

/**
 * Pauses while `isPaused()` returns true: an operator's switch (a signal handler, a file, a flag in memory).
 *
 * @param isPaused - read before each chunk
 * @param reason - the reason reported while paused
 */
export function pauseFlag(isPaused: () => boolean, reason = 'paused by flag'): ThrottleSignal {
  if (typeof isPaused !== 'function') throw new InvalidOptionError('pauseFlag isPaused', isPaused, 'a function returning a boolean');
  return () => Promise.resolve(isPaused() ? { pause: true, reason } : { pause: false });
}

/** The first signal that asks to pause, in order, or null when none does. */
export async function firstPause(signals: readonly ThrottleSignal[]): Promise<ThrottleDecision | null> {
  for (const signal of signals) {
    const decision = await signal();
    if (decision.pause) return decision;
  }
  return null;
}

function asText(value: ExactValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : value.toString('utf8');
}
