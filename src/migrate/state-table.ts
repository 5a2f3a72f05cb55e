/**
 * The state tables the migration tools keep on the target (backfill and verify checkpoints):
 * created on first use, once per store, and read back as text.
 *
 * @module
 */
import type { ExactQueryable, ExactValue } from './codec.js';

/**
 * A function that runs `createSql` (a `CREATE TABLE IF NOT EXISTS`) the first time it is called and
 * resolves at once afterwards; a failed attempt is made again on the next call.
 */
export function createOnce(runner: ExactQueryable, createSql: string): () => Promise<void> {
  let ready: Promise<void> | null = null;
  return () => {
    ready ??= runner.query({ sql: createSql }).then(
      () => undefined,
      (error: unknown) => {
        ready = null; // try again next time
        throw error;
      },
    );
    return ready;
  };
}

/** A value a state table stores as text (`''` for NULL). */
export function storedText(value: ExactValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : value.toString('utf8');
}
