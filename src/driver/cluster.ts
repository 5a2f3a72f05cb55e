/**
 * `DualPoolCluster`: what the driver module's `createPoolCluster()` returns, shaped like mysql2's PoolCluster
 * (`add`, `remove`, `of`, `getConnection(pattern, selector, cb)`, `end`) for ORMs that set up replication with one
 * (TypeORM's `replication` option). Every node is a dual-write pool over the driver's source and target: a node's
 * own host, user and password are ignored like any identity setting (see `driver-config.ts`), so reads a node
 * would send to a replica go to the primary side of the current mode. Nodes are never taken offline for errors.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import type { PoolOptions } from 'mysql2';
import { DualWriteError } from '../errors.js';
import type { DualConnection } from '../pool/dual-connection.js';
import type { DualPool } from '../pool/dual-pool.js';
import type { ResultCallback } from '../pool/side-io.js';

/** mysql2's selectors: round-robin, random, or always the first node matching. */
export type ClusterSelector = 'RR' | 'RANDOM' | 'ORDER';

/** The options of mysql2's `createPoolCluster` the cluster uses. */
export interface DualPoolClusterOptions {
  /** After a failed `getConnection`, try another node matching the pattern. @defaultValue true */
  readonly canRetry?: boolean;
  /** The selector when none is given. @defaultValue `'RR'` */
  readonly defaultSelector?: ClusterSelector;
}

/** The callback of {@link DualPoolCluster.getConnection}: an error, or a checked-out dual-write connection. */
export type ConnectionCallback = (error: NodeJS.ErrnoException | null, connection?: DualConnection) => void;

/** A set of nodes chosen by a pattern and a selector (mysql2's PoolNamespace). */
export class DualPoolNamespace {
  readonly #cluster: DualPoolCluster;
  readonly #pattern: string;
  readonly #selector: ClusterSelector;
  #next = 0;

  /** @internal */
  constructor(cluster: DualPoolCluster, pattern: string, selector: ClusterSelector) {
    this.#cluster = cluster;
    this.#pattern = pattern;
    this.#selector = selector;
  }

  /** A connection of one of the nodes matching the pattern (another one is tried after a failure when `canRetry`). */
  getConnection(callback: ConnectionCallback): void {
    const ids = this.#cluster.nodeIds(this.#pattern);
    this.#tryNodes(this.#order(ids), callback);
  }

  /** A query on a connection of one of the nodes (returned to its pool when the query ends). */
  query(sql: string, values?: unknown, callback?: ResultCallback): void {
    this.#run('query', sql, values, callback);
  }

  /** A prepared statement on a connection of one of the nodes. */
  execute(sql: string, values?: unknown, callback?: ResultCallback): void {
    this.#run('execute', sql, values, callback);
  }

  #run(method: 'query' | 'execute', sql: string, values: unknown, callback: ResultCallback | undefined): void {
    const cb = typeof values === 'function' ? (values as ResultCallback) : callback;
    const vals = typeof values === 'function' ? undefined : values;
    this.getConnection((error, connection) => {
      if (error || connection === undefined) return cb?.(error ?? noNode(this.#pattern));
      const done: ResultCallback = (e, result, fields) => {
        connection.release();
        cb?.(e, result, fields);
      };
      if (vals === undefined) connection[method](sql, done);
      else connection[method](sql, vals, done);
    });
  }

  #order(ids: string[]): string[] {
    if (ids.length <= 1) return ids;
    switch (this.#selector) {
      case 'ORDER':
        return ids;
      case 'RANDOM': {
        const first = Math.floor(Math.random() * ids.length);
        return [...ids.slice(first), ...ids.slice(0, first)];
      }
      default: {
        const first = this.#next++ % ids.length;
        return [...ids.slice(first), ...ids.slice(0, first)];
      }
    }
  }

  #tryNodes(ids: string[], callback: ConnectionCallback): void {
    const [id, ...rest] = ids;
    const pool = id === undefined ? undefined : this.#cluster.node(id);
    if (pool === undefined) return process.nextTick(callback, noNode(this.#pattern));
    pool.getConnection((error, connection) => {
      if (!error) return callback(null, connection);
      if (this.#cluster.canRetry && rest.length > 0) {
        this.#cluster.emit('warn', error);
        return this.#tryNodes(rest, callback);
      }
      callback(error);
    });
  }
}

/** See the module description. */
export class DualPoolCluster extends EventEmitter {
  readonly #createPool: (config: PoolOptions) => DualPool;
  readonly #nodes = new Map<string, DualPool>();
  readonly #namespaces = new Map<string, DualPoolNamespace>();
  readonly #defaultSelector: ClusterSelector;
  #lastId = 0;
  #closed = false;
  /** Whether a failed `getConnection` tries another matching node. */
  readonly canRetry: boolean;

  /**
   * @param createPool - creates a node's dual-write pool from the node's settings
   * @param options - see {@link DualPoolClusterOptions}
   */
  constructor(createPool: (config: PoolOptions) => DualPool, options: DualPoolClusterOptions = {}) {
    super();
    this.#createPool = createPool;
    this.canRetry = options.canRetry ?? true;
    this.#defaultSelector = selectorOf(options.defaultSelector) ?? 'RR';
  }

  /** mysql2's `add([id,] config)`: a node named `id` (or `CLUSTER::n`), a dual-write pool with the node's settings. */
  add(id: string | PoolOptions, config?: PoolOptions): void {
    const name = typeof id === 'string' ? id : `CLUSTER::${++this.#lastId}`;
    const settings = typeof id === 'string' ? config : id;
    if (this.#nodes.has(name)) return;
    this.#nodes.set(name, this.#createPool(settings ?? {}));
  }

  /** mysql2's `remove(pattern)`: ends and forgets the nodes matching the pattern. */
  remove(pattern: string): void {
    for (const id of this.nodeIds(pattern)) {
      this.#nodes.get(id)?.end();
      this.#nodes.delete(id);
      this.emit('remove', id);
    }
  }

  /** mysql2's `of(pattern, selector)`: the nodes matching `pattern` (`*` wildcards), chosen by `selector`. */
  of(pattern = '*', selector?: string): DualPoolNamespace {
    const chosen = selectorOf(selector) ?? this.#defaultSelector;
    const key = `${pattern}\u0000${chosen}`;
    let namespace = this.#namespaces.get(key);
    if (namespace === undefined) {
      namespace = new DualPoolNamespace(this, pattern, chosen);
      this.#namespaces.set(key, namespace);
    }
    return namespace;
  }

  /** mysql2's `getConnection([pattern, [selector,]] callback)`. */
  getConnection(pattern: string | ConnectionCallback, selector?: string | ConnectionCallback, callback?: ConnectionCallback): void {
    if (typeof pattern === 'function') return this.of().getConnection(pattern);
    if (typeof selector === 'function') return this.of(pattern).getConnection(selector);
    if (callback === undefined) throw new DualWriteError('ER_DUALWRITE_INVALID_OPTION', 'DualPoolCluster.getConnection() needs a callback as its last argument.');
    this.of(pattern, selector).getConnection(callback);
  }

  /** Ends every node's pool. */
  end(callback?: (error?: Error) => void): void {
    if (this.#closed) {
      if (callback) process.nextTick(callback);
      return;
    }
    this.#closed = true;
    const pools = [...this.#nodes.values()];
    let pending = pools.length;
    let failed: Error | undefined;
    if (pending === 0 && callback) process.nextTick(callback);
    for (const pool of pools) {
      pool.end((error) => {
        failed ??= error;
        if (--pending === 0) callback?.(failed);
      });
    }
  }

  /** @internal The ids of the nodes matching `pattern`, in the order they were added. */
  nodeIds(pattern: string): string[] {
    const expression = new RegExp(`^${pattern.replace(/[.+?^=!:${}()|[\]/\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    return [...this.#nodes.keys()].filter((id) => expression.test(id));
  }

  /** @internal A node's pool. */
  node(id: string): DualPool | undefined {
    return this.#nodes.get(id);
  }
}

function selectorOf(value: string | undefined): ClusterSelector | undefined {
  const upper = value?.toUpperCase();
  return upper === 'RR' || upper === 'RANDOM' || upper === 'ORDER' ? upper : undefined;
}

function noNode(pattern: string): Error {
  return Object.assign(new Error(`Pool does Not exist: no node of the dual-write pool cluster matches "${pattern}".`), { code: 'POOL_NOEXIST' });
}
