/**
 * The service's database pool — the only dual-write-specific code of the service.
 *
 * Before the migration this file was:
 *
 *   import { createPool } from 'mysql2/promise';
 *   export const openPool = (env) => createPool({ uri: env.DATABASE_URL, connectionLimit: 20 });
 *
 * Now the same mysql2/promise-shaped pool writes to both databases; which one answers is the pool's mode
 * (`source_only` until the operator starts dual-writing; see admin.ts).
 */
// In your application: `from 'dualwrite/promise'` (this repository imports its own source).
import { createPool } from '../../src/promise.js';

/** Where the service's databases are: the current one, and the one it is moving to. */
export interface DatabaseEnv {
  /** The database the service uses today (the source). */
  readonly DATABASE_URL: string;
  /** The database it is moving to (the target). */
  readonly NEW_DATABASE_URL: string;
}

/** Opens the service's pool. */
export function openPool(env: DatabaseEnv): ReturnType<typeof createPool> {
  return createPool({ source: { uri: env.DATABASE_URL, connectionLimit: 20 }, target: { uri: env.NEW_DATABASE_URL, connectionLimit: 20 }, mode: 'source_only' });
}
