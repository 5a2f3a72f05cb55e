/**
 * What every fault scenario does around its faults: private servers behind proxies, the workload tables, a
 * `source_first` dual-write pool through the proxies with short timeouts, and waits on the workload's progress.
 */
import type { DualPromisePool } from '../../src/promise.js';
import { until } from '../pool/helpers.js';
import { spawnProxiedServers, type ProxiedDatabases, type ProxiedPoolOptions, type ProxiedServers } from './proxied-servers.js';
import { createWorkloadTables, type Workload } from './workload.js';

/** Liveness bound of every wait (a hung pool fails the scenario instead of hanging it); never a speed assertion. */
export const PROGRESS_DEADLINE_MS = 15_000;

/** Servers, databases with the workload tables, and a `source_first` pool through the proxies. */
export interface ScenarioSetup {
  readonly servers: ProxiedServers;
  readonly db: ProxiedDatabases;
  readonly pool: DualPromisePool;
}

/** Spawns the servers and opens the pool; call `servers.destroy()` in `afterAll`. */
export async function setUpScenario(name: string): Promise<ScenarioSetup> {
  const servers = await spawnProxiedServers(name);
  try {
    return await openScenario(servers, name);
  } catch (error) {
    await servers.destroy();
    throw error;
  }
}

/**
 * New databases with the workload tables on `servers`, and a `source_first` pool through the proxies.
 * `overrides` replace the scenario's pool options (e.g. `replayTimeoutMs: undefined` for the library's default).
 */
export async function openScenario(servers: ProxiedServers, prefix: string, overrides: Partial<ProxiedPoolOptions> = {}): Promise<ScenarioSetup> {
  const db = await servers.createDatabases(prefix);
  await createWorkloadTables([db.source, db.target]);
  const pool = db.createPool({
    mode: 'source_first',
    replayTimeoutMs: 1000,
    circuitBreaker: { failureThreshold: 3, openMs: 100, maxOpenMs: 400 },
    // Short connect timeouts: a connection opened to an unreachable side gives its pool slot back.
    sourcePool: { connectionLimit: 20, connectTimeout: 2000 },
    targetPool: { connectionLimit: 20, connectTimeout: 2000 },
    ...overrides,
  });
  return { servers, db, pool };
}

/** Waits until the workload has completed `writes` more writes (acknowledged or rolled back on purpose). */
export async function progress(workload: Workload, writes: number, what: string): Promise<void> {
  const mark = workload.completed;
  await until(() => workload.completed >= mark + writes, `${writes} completed writes ${what}`, PROGRESS_DEADLINE_MS);
}

/** Waits `ms` (how long a fault lasts; the scenario does not assert anything about time). */
export const hold = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The error codes of a lost or refused connection, as mysql2 reports them. */
export const CONNECTION_LOST = /^(ECONNRESET|PROTOCOL_CONNECTION_LOST|EPIPE|ETIMEDOUT|ECONNREFUSED|PROTOCOL_SEQUENCE_TIMEOUT)$/;
