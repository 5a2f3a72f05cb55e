/**
 * The Redis flag provider and controller on node-redis (`redis` v5) clients through nodeRedisClient(), against a
 * private redis-server: switches pushed and acknowledged, a lost connection seen and recovered from.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../src/errors.js';
import { nodeRedisClient, type NodeRedisClient } from '../../src/mode/node-redis-client.js';
import { RedisFlagProvider } from '../../src/mode/redis-flag-provider.js';
import { RedisModeController } from '../../src/mode/redis-mode-controller.js';
import { until } from '../pool/helpers.js';
import { CutProxy, spawnRedisServer, type PrivateRedis } from '../support/redis-server.js';

let redis: PrivateRedis;
const cleanup: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  redis = await spawnRedisServer();
});
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step().catch(() => undefined);
});
afterAll(async () => {
  await redis.stop();
});

/** A connected node-redis client (closed after the test), optionally through a proxy port. */
async function nodeRedis(port = redis.port): Promise<NodeRedisClient> {
  const client = createClient({ socket: { host: '127.0.0.1', port, reconnectStrategy: () => 50 } });
  client.on('error', () => undefined);
  await client.connect();
  cleanup.push(() => Promise.resolve(client.isOpen ? client.destroy() : undefined));
  return client;
}

const newKey = (): string => `dwtest:nr:${randomBytes(4).toString('hex')}`;

describe('nodeRedisClient', () => {
  it('drives a provider and a controller: a switch reaches every instance and is acknowledged', async () => {
    const key = newKey();
    const controller = new RedisModeController({ redis: nodeRedisClient(await nodeRedis()), key });
    cleanup.push(() => controller.close());
    await controller.switchMode('source_only', { source: 'test' });

    const providers = [];
    for (let i = 0; i < 2; i += 1) {
      const provider = new RedisFlagProvider({ redis: nodeRedisClient(await nodeRedis()), key, instanceId: `nr-${i}`, heartbeatMs: 200, instanceTtlMs: 2000 });
      cleanup.push(() => provider.close());
      await provider.start();
      expect(provider.current().mode).toBe('source_only');
      providers.push(provider);
    }
    const report = await controller.switchMode('source_first', { wait: true, timeoutMs: 10_000 });
    expect(report.complete).toBe(true);
    expect(report.applied.map((ack) => ack.instanceId).sort()).toEqual(['nr-0', 'nr-1']);
    for (const provider of providers) expect(provider.current()).toMatchObject({ mode: 'source_first', revision: report.revision });
  });

  it('sees a lost connection, and reads the change made meanwhile once it is back', async () => {
    const key = newKey();
    const controller = new RedisModeController({ redis: nodeRedisClient(await nodeRedis()), key });
    cleanup.push(() => controller.close());
    await controller.switchMode('source_first');
    const proxy = await CutProxy.start(redis.port);
    cleanup.push(() => proxy.close());
    const provider = new RedisFlagProvider({ redis: nodeRedisClient(await nodeRedis(proxy.port)), key, staleAfterMs: 300 });
    cleanup.push(() => provider.close());
    await provider.start();
    expect(provider.status().connected).toBe(true);

    proxy.refuseNew();
    proxy.cut();
    await until(() => !provider.status().connected, 'the provider sees the lost connection');
    await until(() => provider.current().stale, 'the state goes stale after staleAfterMs');
    expect(provider.current().mode).toBe('source_first'); // the last known mode stays
    await controller.switchMode('target_first');

    proxy.acceptNew();
    await until(() => provider.current().mode === 'target_first', 'the change made while disconnected is read after reconnection');
    expect(provider.current().stale).toBe(false);
    expect(provider.status().connected).toBe(true);
  });

  it('refuses something that is not a node-redis client, naming what is missing', () => {
    expect(() => nodeRedisClient({} as NodeRedisClient)).toThrow(InvalidOptionError);
    expect(() => nodeRedisClient({} as NodeRedisClient)).toThrow(/missing: connect, duplicate/);
  });
});
