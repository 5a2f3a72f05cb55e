/**
 * Per-test-file databases on the SOURCE and TARGET servers of the run, so test
 * files can run in parallel without touching each other's tables.
 */
import { randomBytes } from 'node:crypto';
import { createConnection, createPool, type Pool, type PoolOptions } from 'mysql2/promise';
import { inject } from 'vitest';
import type { ServerRoute } from './provided.js';
import { spawnServer, urlWithDatabase, type SpawnedServer, type SpawnServerOptions } from './servers.js';

/** The servers the global setup found. */
export interface TestServers {
  /** SOURCE server URL, no database in the path. */
  sourceUrl: string;
  /** TARGET server URL, no database in the path. */
  targetUrl: string;
  /** How they were found: env URLs, spawned processes, or Docker containers. */
  route: ServerRoute;
  /** Template datadir for {@link spawnTestServer}, or null. */
  templateDatadir: string | null;
}

/** The servers of this run (call inside a test file, not at import time of shared code). */
export function testServers(): TestServers {
  return {
    sourceUrl: inject('sourceUrl'),
    targetUrl: inject('targetUrl'),
    route: inject('serverRoute'),
    templateDatadir: inject('templateDatadir'),
  };
}

/** {@link spawnServer} using the run's template datadir (fast copy instead of a new install). */
export function spawnTestServer(options: SpawnServerOptions = {}): Promise<SpawnedServer> {
  const templateDir = options.templateDir ?? testServers().templateDatadir ?? undefined;
  return spawnServer({ ...options, ...(templateDir ? { templateDir } : {}) });
}

export { urlWithDatabase };

/** One database of the same name on both servers, with a pool on each. */
export interface TestDatabases {
  /** Database name, `dw_<prefix>_<random>`. */
  name: string;
  /** SOURCE URL with the database in the path. */
  sourceUrl: string;
  /** TARGET URL with the database in the path. */
  targetUrl: string;
  /** mysql2/promise pool on the SOURCE database. */
  source: Pool;
  /** mysql2/promise pool on the TARGET database. */
  target: Pool;
  /** Ends both pools and drops the database on both servers. Idempotent. */
  drop(): Promise<void>;
}

/** Options of {@link createTestDatabases}. */
export interface CreateTestDatabasesOptions {
  /** Extra mysql2 pool options for `source` and `target` (the URI is set by the helper). */
  poolOptions?: Omit<PoolOptions, 'uri'>;
  /** Servers to use instead of the run's, e.g. URLs of servers spawned by the test. */
  servers?: { sourceUrl: string; targetUrl: string };
}

/**
 * Creates a uniquely named database on the SOURCE and the TARGET server and opens a pool on each.
 *
 * @example
 * const db = await createTestDatabases('schema');
 * afterAll(() => db.drop());
 */
export async function createTestDatabases(prefix: string, options: CreateTestDatabasesOptions = {}): Promise<TestDatabases> {
  const servers = options.servers ?? testServers();
  const cleanPrefix = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 40);
  const name = `dw_${cleanPrefix}_${randomBytes(5).toString('hex')}`;
  await Promise.all([createDatabase(servers.sourceUrl, name), createDatabase(servers.targetUrl, name)]);
  const sourceUrl = urlWithDatabase(servers.sourceUrl, name);
  const targetUrl = urlWithDatabase(servers.targetUrl, name);
  const source = createPool({ connectionLimit: 10, ...options.poolOptions, uri: sourceUrl });
  const target = createPool({ connectionLimit: 10, ...options.poolOptions, uri: targetUrl });
  let dropped: Promise<void> | undefined;
  return {
    name,
    sourceUrl,
    targetUrl,
    source,
    target,
    drop: () =>
      (dropped ??= (async () => {
        await Promise.allSettled([source.end(), target.end()]);
        await Promise.all([dropDatabase(servers.sourceUrl, name), dropDatabase(servers.targetUrl, name)]);
      })()),
  };
}

async function createDatabase(serverUrl: string, name: string): Promise<void> {
  const connection = await createConnection({ uri: serverUrl });
  try {
    await connection.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await connection.end();
  }
}

async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  let connection;
  try {
    connection = await createConnection({ uri: serverUrl, connectTimeout: 5000 });
  } catch {
    return; // the server is gone (a fault test stopped it): nothing to drop
  }
  try {
    await connection.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await connection.end();
  }
}
