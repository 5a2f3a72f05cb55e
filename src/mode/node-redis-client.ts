/**
 * `nodeRedisClient()`: lets the Redis flag provider and controller run on a node-redis (`redis` package, v4 or v5)
 * client instead of ioredis. The provider and controller speak {@link RedisClientLike} (ioredis-shaped); this
 * wraps a node-redis client into that shape.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { InvalidOptionError } from '../errors.js';
import type { RedisClientLike } from './redis-client.js';

/**
 * The slice of a node-redis client (`createClient()` from `redis` v4 or v5) that {@link nodeRedisClient} uses.
 * Method names are node-redis's own (camelCase, options objects).
 */
export interface NodeRedisClient {
  /** Whether the client is connected and ready for commands. */
  readonly isReady: boolean;
  /** Whether the client is open (connected, or reconnecting). */
  readonly isOpen: boolean;
  /** Opens the connection. */
  connect(): Promise<unknown>;
  /** A new client with the same options, not yet connected. */
  duplicate(): NodeRedisClient;
  /** `GET`. */
  get(key: string): Promise<unknown>;
  /** `SET key value PX ms`. */
  set(key: string, value: string, options: { PX: number }): Promise<unknown>;
  /** `DEL`. */
  del(keys: string | string[]): Promise<unknown>;
  /** `MGET`. */
  mGet(keys: string[]): Promise<unknown>;
  /** `SADD`. */
  sAdd(key: string, members: string | string[]): Promise<unknown>;
  /** `SREM`. */
  sRem(key: string, members: string | string[]): Promise<unknown>;
  /** `SMEMBERS`. */
  sMembers(key: string): Promise<unknown>;
  /** `PUBLISH`. */
  publish(channel: string, message: string): Promise<unknown>;
  /** `EVAL`. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
  /** `SUBSCRIBE channel`, with the listener node-redis calls with (message, channel). */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Adds an event listener (`ready`, `end`, `error`, `reconnecting`). */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Closes after pending replies (v5 `close()`, v4 `quit()`). */
  close?(): Promise<unknown>;
  /** v4's graceful close. */
  quit?(): Promise<unknown>;
  /** Closes at once (v5 `destroy()`). */
  destroy?(): void;
  /** v4's immediate close (v5: an async close at once). */
  disconnect?(): Promise<unknown> | void;
}

/**
 * Wraps a node-redis client so that `RedisFlagProvider` and `RedisModeController` can use it as their `redis`
 * option. The caller keeps owning the client: connect it first (`await client.connect()`) and close it yourself
 * after the provider or controller. The provider's subscriber connection is a `duplicate()` this wrapper opens,
 * and closes when the provider closes.
 *
 * Connection events map as follows: node-redis `ready` → `ready`; `reconnecting` → `close` (the connection was
 * lost; node-redis is retrying); `end` → `end`; `error` → `error`. node-redis resubscribes its channels after a
 * reconnection by itself, so subscribing to a channel already subscribed does nothing.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * const client = createClient({ url: 'redis://flags:6379' });
 * await client.connect();
 * const flags = new RedisFlagProvider({ redis: nodeRedisClient(client), initial: 'source_only' });
 * ```
 *
 * @param client - a node-redis v4 or v5 client (`createClient()`), connected or connecting
 * @throws {@link InvalidOptionError} when `client` does not look like a node-redis client (for ioredis, pass the client itself as `redis`)
 */
export function nodeRedisClient(client: NodeRedisClient): RedisClientLike {
  const missing = ['connect', 'duplicate', 'sAdd', 'mGet', 'eval', 'subscribe'].filter(
    (method) => typeof (client as unknown as Record<string, unknown>)?.[method] !== 'function',
  );
  if (missing.length > 0) {
    throw new InvalidOptionError(
      'nodeRedisClient(client)',
      typeof client,
      `a node-redis client from createClient() of the \`redis\` package (missing: ${missing.join(', ')}); an ioredis client needs no wrapper: pass it as \`redis\``,
    );
  }
  return new NodeRedisAdapter(client, false);
}

/** One node-redis connection, seen as a {@link RedisClientLike}. */
class NodeRedisAdapter extends EventEmitter implements RedisClientLike {
  readonly #client: NodeRedisClient;
  /** Whether this adapter opened the connection (a duplicate) and so closes it. */
  readonly #owned: boolean;
  readonly #subscribed = new Set<string>();
  #ended = false;

  constructor(client: NodeRedisClient, owned: boolean) {
    super();
    this.#client = client;
    this.#owned = owned;
    client.on('ready', () => this.emit('ready'));
    client.on('reconnecting', () => this.emit('close'));
    client.on('end', () => {
      this.#ended = true;
      this.emit('end');
    });
    // node-redis throws an unhandled 'error' when nobody listens: keep listening, and pass it on only to listeners.
    client.on('error', (error: unknown) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });
  }

  get status(): string {
    if (this.#client.isReady) return 'ready';
    return this.#ended || !this.#client.isOpen ? 'end' : 'reconnecting';
  }

  async get(key: string): Promise<string | null> {
    return (await this.#client.get(key)) as string | null;
  }

  async set(key: string, value: string, _px: 'PX', milliseconds: number): Promise<unknown> {
    return this.#client.set(key, value, { PX: milliseconds });
  }

  async del(key: string): Promise<number> {
    return Number(await this.#client.del(key));
  }

  async mget(...keys: string[]): Promise<Array<string | null>> {
    return (await this.#client.mGet(keys)) as Array<string | null>;
  }

  async sadd(key: string, member: string): Promise<number> {
    return Number(await this.#client.sAdd(key, member));
  }

  async srem(key: string, member: string): Promise<number> {
    return Number(await this.#client.sRem(key, member));
  }

  async smembers(key: string): Promise<string[]> {
    return (await this.#client.sMembers(key)) as string[];
  }

  async publish(channel: string, message: string): Promise<number> {
    return Number(await this.#client.publish(channel, message));
  }

  eval(script: string, numberOfKeys: number, ...args: string[]): Promise<unknown> {
    return this.#client.eval(script, { keys: args.slice(0, numberOfKeys), arguments: args.slice(numberOfKeys) });
  }

  async subscribe(channel: string): Promise<unknown> {
    if (this.#subscribed.has(channel)) return undefined;
    this.#subscribed.add(channel);
    try {
      return await this.#client.subscribe(channel, (message, from) => this.emit('message', from, message));
    } catch (error) {
      this.#subscribed.delete(channel);
      throw error;
    }
  }

  duplicate(): RedisClientLike {
    const copy = this.#client.duplicate();
    const adapter = new NodeRedisAdapter(copy, true);
    // ioredis duplicates connect by themselves; node-redis ones wait for connect(). Errors surface as 'error' events.
    copy.connect().catch(() => undefined);
    return adapter;
  }

  async quit(): Promise<unknown> {
    if (!this.#owned) return undefined; // the caller's client: the caller closes it
    this.#ended = true;
    const client = this.#client;
    if (!client.isOpen) return undefined;
    return client.close !== undefined ? client.close() : client.quit?.();
  }

  disconnect(): void {
    if (!this.#owned) return;
    this.#ended = true;
    const client = this.#client;
    if (!client.isOpen) return;
    if (client.destroy !== undefined) client.destroy();
    else void Promise.resolve(client.disconnect?.()).catch(() => undefined);
  }
}
