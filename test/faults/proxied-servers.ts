/**
 * "A private source and a private target server, each behind a {@link FaultProxy}" in one call, for scenario tests
 * that inject network faults (through the proxies) and server faults (stop, kill -9, restart, pause through
 * {@link SpawnedServer}), plus databases on both and dual-write pools that reach the servers through the proxies.
 *
 * @example
 * const servers = await spawnProxiedServers('outage');
 * afterAll(() => servers.destroy());
 * const db = await servers.createDatabases('orders');        // direct pools for set-up and checks: db.source, db.target
 * const pool = db.createPool({ mode: 'source_first' });      // the dual-write pool, through the proxies
 * servers.target.proxy.refuseNew();  …  servers.target.server.kill();  …  await servers.restoreAll();
 */
import type { PoolOptions } from 'mysql2';
import type { DualPoolOptions } from '../../src/pool/options.js';
import { createPool, type DualPromisePool } from '../../src/promise.js';
import { createTestDatabases, spawnTestServer, type TestDatabases } from '../support/databases.js';
import type { SpawnedServer, SpawnServerOptions } from '../support/servers.js';
import { FaultProxy } from './fault-proxy.js';

/** One spawned server and the proxy in front of it. */
export interface ProxiedServer {
  /** The server process: `stop()`, `kill()`, `start()`, `restart()`, `pause()`, `resume()` (its port survives a restart). */
  readonly server: SpawnedServer;
  /** The proxy the clients of {@link ProxiedServers.createDatabases} pools go through. */
  readonly proxy: FaultProxy;
  /** The server's own URL (no database), bypassing the proxy. */
  readonly directUrl: string;
  /** The same URL through the proxy. */
  readonly url: string;
}

/** Options of {@link ProxiedDatabases.createPool}: the dual-write options plus mysql2 pool options for each side. */
export interface ProxiedPoolOptions extends Omit<DualPoolOptions, 'source' | 'target'> {
  /** mysql2 pool options for the source side (the URI is set by the helper). */
  readonly sourcePool?: Omit<PoolOptions, 'uri'>;
  /** mysql2 pool options for the target side (the URI is set by the helper). */
  readonly targetPool?: Omit<PoolOptions, 'uri'>;
}

/** A database of the same name on both servers: direct mysql2 pools (`source`, `target`) and proxied URLs. */
export interface ProxiedDatabases extends TestDatabases {
  /** {@link TestDatabases.sourceUrl} through the source proxy. */
  readonly proxiedSourceUrl: string;
  /** {@link TestDatabases.targetUrl} through the target proxy. */
  readonly proxiedTargetUrl: string;
  /** A dual-write pool (`dualwrite/promise`) on this database through both proxies; ended by `drop()`. */
  createPool(options?: ProxiedPoolOptions): DualPromisePool;
}

/** The pair {@link spawnProxiedServers} returns. */
export interface ProxiedServers {
  /** The source server and its proxy. */
  readonly source: ProxiedServer;
  /** The target server and its proxy. */
  readonly target: ProxiedServer;
  /** Creates a uniquely named database on both servers (directly, not through the proxies). */
  createDatabases(prefix: string): Promise<ProxiedDatabases>;
  /** Restores both proxies to pass-through and brings both servers back (resumed, started). */
  restoreAll(): Promise<void>;
  /** Ends the pools and databases made here, closes the proxies and destroys the servers. Idempotent. */
  destroy(): Promise<void>;
}

/** Options of {@link spawnProxiedServers}. */
export interface SpawnProxiedServersOptions {
  /** Server settings for both servers (see {@link SpawnServerOptions.settings}). */
  readonly settings?: SpawnServerOptions['settings'];
  /** Random source for the proxies' jitter. */
  readonly random?: () => number;
}

async function proxied(server: SpawnedServer, random: (() => number) | undefined): Promise<ProxiedServer> {
  const proxy = await FaultProxy.start({ upstream: server.url, ...(random ? { random } : {}) });
  return { server, proxy, directUrl: server.url, url: proxy.url };
}

/**
 * Spawns a private source and target server (copies of the run's template, so about a second each) and puts a
 * {@link FaultProxy} in front of each. Always call `destroy()` (in `afterAll`).
 *
 * @param name - a label for the servers' temp directories and the databases
 */
export async function spawnProxiedServers(name: string, options: SpawnProxiedServersOptions = {}): Promise<ProxiedServers> {
  const settings = options.settings ? { settings: options.settings } : {};
  const spawned = await Promise.allSettled([spawnTestServer({ name: `${name}-source`, ...settings }), spawnTestServer({ name: `${name}-target`, ...settings })]);
  const servers = spawned.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = spawned.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed !== undefined) {
    await Promise.allSettled(servers.map((server) => server.destroy()));
    throw failed.reason;
  }
  const [sourceServer, targetServer] = servers as [SpawnedServer, SpawnedServer];
  const source = await proxied(sourceServer, options.random);
  const target = await proxied(targetServer, options.random);
  const databases: ProxiedDatabases[] = [];
  let destroyed: Promise<void> | undefined;

  const restoreAll = async (): Promise<void> => {
    for (const side of [source, target]) {
      side.proxy.restore();
      await side.server.resume();
      await side.server.start();
    }
  };

  return {
    source,
    target,
    restoreAll,
    async createDatabases(prefix) {
      const db = await createTestDatabases(`${name}_${prefix}`, { servers: { sourceUrl: source.directUrl, targetUrl: target.directUrl } });
      const pools: DualPromisePool[] = [];
      const proxiedSourceUrl = source.proxy.urlFor(db.sourceUrl);
      const proxiedTargetUrl = target.proxy.urlFor(db.targetUrl);
      const proxiedDb: ProxiedDatabases = {
        ...db,
        proxiedSourceUrl,
        proxiedTargetUrl,
        createPool(poolOptions = {}) {
          const { sourcePool, targetPool, ...dual } = poolOptions;
          const pool = createPool({ ...dual, source: { ...sourcePool, uri: proxiedSourceUrl }, target: { ...targetPool, uri: proxiedTargetUrl } });
          pools.push(pool);
          return pool;
        },
        drop: async () => {
          await Promise.allSettled(pools.splice(0).map((pool) => pool.end()));
          await db.drop();
        },
      };
      databases.push(proxiedDb);
      return proxiedDb;
    },
    destroy: () =>
      (destroyed ??= (async () => {
        // Pools first (through healthy proxies and running servers), then the proxies, then the servers.
        await restoreAll().catch(() => undefined);
        await Promise.allSettled(databases.map((db) => db.drop()));
        await Promise.allSettled([source.proxy.close(), target.proxy.close()]);
        await Promise.allSettled([source.server.destroy(), target.server.destroy()]);
      })()),
  };
}
