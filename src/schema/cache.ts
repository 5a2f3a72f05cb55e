/**
 * `SchemaCache`: table metadata and server settings, read once and kept for a while.
 *
 * @module
 */
import { LRUCache } from 'lru-cache';
import { loadTable } from './load-table.js';
import { nameKey, namesAreCaseInsensitive } from './names.js';
import { loadServerSettings } from './server-settings.js';
import type { MetadataQueryable, MetadataQueryableSource, ServerSettings, TableMetadata } from './types.js';

/** Options of {@link SchemaCache}. */
export interface SchemaCacheOptions {
  /**
   * How long a table's metadata is trusted, in milliseconds, before it is read again.
   * DDL that passes through dualwrite invalidates entries at once; the TTL bounds how
   * long DDL run elsewhere (another client, a migration tool) goes unnoticed.
   * `0` keeps entries until they are invalidated or evicted.
   *
   * @defaultValue 300_000 (5 minutes)
   */
  ttl?: number;
  /**
   * Most tables kept; the least recently used is evicted beyond this.
   *
   * @defaultValue 1000
   */
  max?: number;
}

/** Default of {@link SchemaCacheOptions.ttl}: 5 minutes. */
export const DEFAULT_SCHEMA_TTL_MS = 300_000;
/** Default of {@link SchemaCacheOptions.max}. */
export const DEFAULT_SCHEMA_CACHE_MAX = 1000;

interface Flight<T> {
  readonly promise: Promise<T>;
}

/**
 * Table metadata and server settings of one server, cached.
 *
 * - Each table is read at most once at a time: concurrent `get()` calls for a table
 *   that is not cached share one load.
 * - A failed load is not cached; the next `get()` tries again.
 * - Entries expire after `ttl` and are dropped by `invalidate*()`, which callers run
 *   after DDL. A load that was under way when its entry was invalidated still answers
 *   the calls that were waiting for it, but its result is not kept.
 * - Names compare as the server compares them: case-insensitively when
 *   `lower_case_table_names` is 1 or 2.
 *
 * @example
 * const cache = new SchemaCache(pool);
 * const orders = await cache.get('shop', 'orders');
 * orders.autoIncrementColumn; // 'order_no'
 */
export class SchemaCache {
  readonly #source: MetadataQueryableSource;
  readonly #tables: LRUCache<string, TableMetadata>;
  readonly #loading = new Map<string, Flight<TableMetadata>>();
  #settings: ServerSettings | undefined;
  #settingsFlight: Flight<ServerSettings> | undefined;

  /**
   * @param source - the pool to read metadata through, or a function returning it before each load
   * @param options - TTL and size; see {@link SchemaCacheOptions}
   */
  constructor(source: MetadataQueryableSource, options: SchemaCacheOptions = {}) {
    const ttl = options.ttl ?? DEFAULT_SCHEMA_TTL_MS;
    const max = options.max ?? DEFAULT_SCHEMA_CACHE_MAX;
    if (!Number.isFinite(ttl) || ttl < 0) throw new RangeError(`SchemaCache: ttl must be a number of milliseconds ≥ 0 (0 = no expiry), got ${ttl}`);
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`SchemaCache: max must be an integer ≥ 1, got ${max}`);
    this.#source = source;
    this.#tables = new LRUCache<string, TableMetadata>({ max, ...(ttl > 0 ? { ttl } : {}) });
  }

  /** Number of tables currently cached (expired entries may still count until touched). */
  get size(): number {
    return this.#tables.size;
  }

  /**
   * The server's settings, read once per cache (concurrent first calls share one read;
   * a failed read is retried by the next call).
   *
   * @throws MetadataLoadError when the read fails
   */
  settings(): Promise<ServerSettings> {
    if (this.#settings) return Promise.resolve(this.#settings);
    if (this.#settingsFlight) return this.#settingsFlight.promise;
    const flight: Flight<ServerSettings> = {
      promise: this.#queryable()
        .then(loadServerSettings)
        .then(
          (settings) => {
            if (this.#settingsFlight === flight) {
              this.#settings = settings;
              this.#settingsFlight = undefined;
            }
            return settings;
          },
          (error: unknown) => {
            if (this.#settingsFlight === flight) this.#settingsFlight = undefined;
            throw error;
          },
        ),
    };
    this.#settingsFlight = flight;
    return flight.promise;
  }

  /**
   * The metadata of `schema`.`table`, from the cache or read from information_schema.
   *
   * @throws TableNotFoundError when the table does not exist (not cached: a later call looks again)
   * @throws MetadataLoadError when reading fails
   */
  async get(schema: string, table: string): Promise<TableMetadata> {
    const settings = this.#settings ?? (await this.settings());
    const key = this.#key(settings, schema, table);
    const cached = this.#tables.get(key);
    if (cached) return cached;
    const running = this.#loading.get(key);
    if (running) return running.promise;
    const flight: Flight<TableMetadata> = {
      promise: this.#queryable()
        .then((queryable) => loadTable(queryable, schema, table, settings))
        .then(
          (metadata) => {
            if (this.#loading.get(key) === flight) {
              this.#loading.delete(key);
              this.#tables.set(key, metadata);
            }
            return metadata;
          },
          (error: unknown) => {
            if (this.#loading.get(key) === flight) this.#loading.delete(key);
            throw error;
          },
        ),
    };
    this.#loading.set(key, flight);
    return flight.promise;
  }

  /**
   * The cached metadata of `schema`.`table` without any I/O, or undefined when it is not
   * cached (or the settings have not been read yet).
   */
  peek(schema: string, table: string): TableMetadata | undefined {
    if (!this.#settings) return undefined;
    return this.#tables.get(this.#key(this.#settings, schema, table));
  }

  /** Forgets `schema`.`table` (run after DDL on it: ALTER, DROP, RENAME, CREATE … LIKE). */
  invalidate(schema: string, table: string): void {
    if (!this.#settings) {
      // Nothing can be cached before the settings are known; loads waiting for them key later.
      return;
    }
    const key = this.#key(this.#settings, schema, table);
    this.#tables.delete(key);
    this.#loading.delete(key);
  }

  /** Forgets every table of `schema` (run after DROP DATABASE or DDL whose tables are unknown). */
  invalidateSchema(schema: string): void {
    if (!this.#settings) return;
    const prefix = `${nameKey(schema, namesAreCaseInsensitive(this.#settings.lowerCaseTableNames))}\u0000`;
    for (const key of [...this.#tables.keys()]) if (key.startsWith(prefix)) this.#tables.delete(key);
    for (const key of [...this.#loading.keys()]) if (key.startsWith(prefix)) this.#loading.delete(key);
  }

  /** Forgets every table. Server settings are kept (they change only with a server restart or SET GLOBAL; build a new cache then). */
  invalidateAll(): void {
    this.#tables.clear();
    this.#loading.clear();
  }

  #key(settings: ServerSettings, schema: string, table: string): string {
    const caseInsensitive = namesAreCaseInsensitive(settings.lowerCaseTableNames);
    return `${nameKey(schema, caseInsensitive)}\u0000${nameKey(table, caseInsensitive)}`;
  }

  async #queryable(): Promise<MetadataQueryable> {
    return typeof this.#source === 'function' ? this.#source() : this.#source;
  }
}
