/**
 * dualwrite: zero-downtime MySQL/MariaDB migration.
 *
 * This entry point will carry the mysql2 callback-shaped API (`createPool`,
 * `createConnection`, `createDriver`) once the dual-write pool lands; today it
 * exports the foundation that pool stands on: the statement analyzer, the
 * table-metadata cache and the error classes.
 *
 * @packageDocumentation
 */
export * from './errors.js';
export * from './sql/index.js';
export * from './schema/index.js';
export * from './mode/index.js';
