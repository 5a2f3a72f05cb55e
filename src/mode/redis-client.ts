/**
 * The slice of an ioredis client the Redis flag provider and controller use,
 * the Redis names they share, and the lazy loading of ioredis (an optional
 * peer dependency, loaded only when the caller passes connection options
 * instead of a client).
 *
 * @module
 */
import { InvalidOptionError } from '../errors.js';

/**
 * What the Redis flag provider and controller need from a Redis client.
 * An ioredis `Redis` instance satisfies it; so does any client with the same
 * methods (ioredis `Cluster` is not supported: pub/sub and the keys must live on one node).
 */
export interface RedisClientLike {
  /** Connection status (`'ready'` when commands can run). */
  readonly status: string;
  /** `GET key`. */
  get(key: string): Promise<string | null>;
  /** `SET key value PX ms`. */
  set(key: string, value: string, px: 'PX', milliseconds: number): Promise<unknown>;
  /** `DEL key`. */
  del(key: string): Promise<number>;
  /** `MGET key …`. */
  mget(...keys: string[]): Promise<Array<string | null>>;
  /** `SADD key member`. */
  sadd(key: string, member: string): Promise<number>;
  /** `SREM key member`. */
  srem(key: string, member: string): Promise<number>;
  /** `SMEMBERS key`. */
  smembers(key: string): Promise<string[]>;
  /** `PUBLISH channel message`. */
  publish(channel: string, message: string): Promise<number>;
  /** `EVAL script numkeys key … arg …`. */
  eval(script: string, numberOfKeys: number, ...args: string[]): Promise<unknown>;
  /** `SUBSCRIBE channel` (on a connection of its own). */
  subscribe(channel: string): Promise<unknown>;
  /** A new connection with the same options (the subscriber connection). */
  duplicate(): RedisClientLike;
  /** Adds an event listener (`ready`, `close`, `message`, …). */
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Removes an event listener. */
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  /** Closes the connection after pending replies. */
  quit(): Promise<unknown>;
  /** Closes the connection at once. */
  disconnect(): void;
}

/**
 * Where to find Redis: a client the caller owns (never closed by dualwrite),
 * or ioredis connection settings (a `redis://` URL or an ioredis `RedisOptions`
 * object) from which dualwrite opens, and closes, its own connections.
 */
export type RedisConnection =
  | {
      /** An ioredis client the caller owns (never closed by dualwrite). */
      readonly redis: RedisClientLike;
    }
  | {
      /** ioredis connection options or a `redis://` URL: dualwrite loads ioredis and owns the client. */
      readonly connection: string | Readonly<Record<string, unknown>>;
    };

/** The Redis names derived from the flag key. */
export interface RedisFlagKeys {
  /** The flag document (a string key holding JSON). */
  readonly flags: string;
  /** The pub/sub channel announcing changes (same name as the key: channels and keys do not collide). */
  readonly channel: string;
  /** The set of registered instance ids. */
  readonly instances: string;
  /** The acknowledgement key of one instance (a string with a TTL). */
  instance(id: string): string;
}

/** Default flag key. */
export const DEFAULT_REDIS_FLAG_KEY = 'dualwrite:flags';

/**
 * The Redis names for a flag key.
 *
 * @throws {@link InvalidOptionError} when the key is empty
 */
export function redisFlagKeys(key: string = DEFAULT_REDIS_FLAG_KEY): RedisFlagKeys {
  if (typeof key !== 'string' || key === '') throw new InvalidOptionError('Redis flag key', key, 'a non-empty string such as "dualwrite:flags"');
  return { flags: key, channel: key, instances: `${key}:instances`, instance: (id) => `${key}:instance:${id}` };
}

/**
 * Checks a {@link RedisConnection} option without connecting.
 *
 * @throws {@link InvalidOptionError} when neither or both of `redis` and `connection` are given
 */
export function checkRedisConnection(options: Partial<{ redis: unknown; connection: unknown }>, owner: string): void {
  const hasClient = options.redis !== undefined;
  const hasConnection = options.connection !== undefined;
  if (hasClient === hasConnection) {
    throw new InvalidOptionError(`${owner} redis/connection`, hasClient ? 'both' : 'neither', 'exactly one of `redis` (an ioredis client you own) or `connection` (a redis:// URL or ioredis options)');
  }
}

/**
 * The client to use: the caller's, or a new ioredis client (ioredis is loaded here, lazily).
 *
 * @returns the client and whether dualwrite owns it (and must close it)
 * @throws {@link InvalidOptionError} when ioredis is not installed
 */
export async function openRedis(options: RedisConnection, owner: string): Promise<{ client: RedisClientLike; owned: boolean }> {
  if ('redis' in options) return { client: options.redis, owned: false };
  let module: { default?: unknown; Redis?: unknown };
  try {
    module = (await import('ioredis'));
  } catch (cause) {
    throw new InvalidOptionError(`${owner} connection`, String(cause), 'ioredis installed (`npm install ioredis`) when connection options are passed; or pass your own client as `redis`');
  }
  const Redis = (module.Redis ?? module.default) as new (options: unknown) => RedisClientLike;
  return { client: new Redis(options.connection), owned: true };
}
