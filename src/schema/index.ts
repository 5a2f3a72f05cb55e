/**
 * Table metadata (columns, keys, auto-increment, time defaults, generated
 * columns) and server settings, read from information_schema and cached.
 * Knows nothing of pools: it talks to any {@link MetadataQueryable}.
 *
 * @module
 */
export type * from './types.js';
export { SchemaCache, DEFAULT_SCHEMA_CACHE_MAX, DEFAULT_SCHEMA_TTL_MS, type SchemaCacheOptions } from './cache.js';
export { loadTable, unquoteSqlString, type TableLoadSettings } from './load-table.js';
export { loadServerSettings, parseVersionNumber, detectFlavor } from './server-settings.js';
export { nameKey, namesAreCaseInsensitive } from './names.js';
export { refineUnsafeFindings } from './statement-safety.js';
