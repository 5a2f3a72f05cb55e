/**
 * Promise helpers over mysql2's callback pools and connections, for the pool's own statements (BEGIN,
 * COMMIT, replays, repair-log rows). The caller's statements go through mysql2's own methods so their
 * results and errors stay exactly mysql2's.
 *
 * @module
 */
import type { FieldPacket, Pool, PoolConnection, QueryError, QueryOptions, QueryResult } from 'mysql2';

/** Which mysql2 method runs a statement: text protocol (`query`) or prepared statement (`execute`). */
export type Method = 'query' | 'execute';

/** What mysql2 hands a callback: the result and, for reads, the column definitions. */
export type Outcome = [QueryResult, FieldPacket[] | undefined];

/** A mysql2 callback connection or pool: what {@link send} needs. */
export type Sendable = Pick<PoolConnection, 'query' | 'execute'> | Pick<Pool, 'query' | 'execute'>;

/**
 * The callback of `query()`/`execute()` as the public API types it, like mysql2's: `result` is typed by the caller
 * (`T`) and present unless `error` is set.
 */
export type QueryCallback<T extends QueryResult = QueryResult> = (error: QueryError | null, result: T, fields: FieldPacket[]) => void;

/** The callback mysql2 calls with a statement's outcome. */
export type ResultCallback = (error: Error | null, result?: QueryResult, fields?: FieldPacket[]) => void;

/**
 * Runs one statement through mysql2's callback API and resolves to `[result, fields]`;
 * rejects with mysql2's own error object.
 *
 * @param target - a callback connection or pool
 * @param method - `query` or `execute`
 * @param sql - SQL text or mysql2 query options (`{ sql, values, timeout, … }`)
 * @param values - values for the `?` placeholders, or `undefined`
 */
export function send(target: Sendable, method: Method, sql: string | QueryOptions, values?: unknown): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const done: ResultCallback = (error, result, fields) => {
      if (error) reject(error);
      else resolve([result as QueryResult, fields]);
    };
    // mysql2 reads a `values` argument of `undefined` as "no values", but only when it is not passed at all for execute.
    const runner = target as { query: (...args: unknown[]) => unknown; execute: (...args: unknown[]) => unknown };
    if (values === undefined) runner[method](sql, done);
    else runner[method](sql, values, done);
  });
}

/** Takes a connection from a mysql2 callback pool. */
export function acquire(pool: Pick<Pool, 'getConnection'>): Promise<PoolConnection> {
  return new Promise((resolve, reject) => {
    pool.getConnection((error, connection) => {
      if (error) reject(error);
      else resolve(connection);
    });
  });
}

/**
 * Sends a statement whose outcome nobody waits for (session clean-up before a connection goes back to the pool).
 * mysql2 runs a connection's commands in order, so the next user of the connection runs after it.
 * A failure breaks the connection, which mysql2 then drops; nothing else depends on it.
 */
export function sendAndForget(connection: PoolConnection, sql: string): void {
  connection.query(sql, () => undefined);
}

/** The `affectedRows` of a write's result, or `null` for results that have none (reads, multi-results). */
export function affectedRowsOf(result: QueryResult): number | null {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const affected = (result as { affectedRows?: unknown }).affectedRows;
    if (typeof affected === 'number') return affected;
  }
  return null;
}

/**
 * The `insertId` of a write's result as an unsigned 64-bit integer (mysql2 returns IDs above 2^63 as negative
 * numbers or strings), or `null` when there is none or it cannot be exact: a plain `number` beyond 2^53 has
 * lost digits (the pool's connections need `supportBigNumbers` for such IDs).
 */
export function insertIdOf(result: QueryResult): bigint | null {
  if (result !== null && typeof result === 'object' && !Array.isArray(result)) {
    const id = (result as { insertId?: unknown }).insertId;
    if (typeof id === 'number') return Number.isSafeInteger(id) ? BigInt.asUintN(64, BigInt(id)) : null;
    if (typeof id === 'string' || typeof id === 'bigint') return BigInt.asUintN(64, BigInt(id));
  }
  return null;
}

/** Runs `work` on `connection` between START TRANSACTION and COMMIT; on failure rolls back and rethrows. */
export async function inTransaction(connection: PoolConnection, work: () => Promise<void>): Promise<void> {
  await send(connection, 'query', 'START TRANSACTION');
  try {
    await work();
    await send(connection, 'query', 'COMMIT');
  } catch (error) {
    await send(connection, 'query', 'ROLLBACK').catch(() => undefined);
    throw error;
  }
}
