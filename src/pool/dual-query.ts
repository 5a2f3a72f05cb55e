/**
 * The object `query()`/`execute()` return for a statement the pool runs itself (a write in a dual-write mode):
 * an EventEmitter shaped like mysql2's Query — `fields`, `result`, `error`, `end` events and `.stream()` —
 * fed from the primary side's outcome. Reads and single-side modes return mysql2's own Query instead.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { Readable, type ReadableOptions } from 'node:stream';
import type { FieldPacket, QueryResult } from 'mysql2';
import type { ResultCallback } from './side-io.js';

/**
 * What `query()`/`execute()` of the dual-write pool and its connections return: mysql2's own Query, or a
 * {@link DualQuery} — both EventEmitters with `.stream()`.
 */
export type QueryHandle = EventEmitter & {
  /** A readable object stream of the result rows. */
  stream(options?: ReadableOptions): Readable;
};

/** A mysql2-Query-shaped handle on a statement the dual-write pool runs. */
export class DualQuery extends EventEmitter {
  /** The statement text, as mysql2's Query exposes it. */
  readonly sql: string;
  /** The values it was sent with. */
  readonly values: unknown;
  readonly #callback: ResultCallback | undefined;
  #settled = false;

  /**
   * @param sql - the statement text
   * @param values - its values
   * @param callback - the caller's callback, if any
   */
  constructor(sql: string, values: unknown, callback: ResultCallback | undefined) {
    super();
    this.sql = sql;
    this.values = values;
    this.#callback = callback;
  }

  /**
   * Delivers the outcome the way mysql2 does: to the callback when there is one, else as events (`error`, or
   * `fields` and one `result` per row for a read, or one `result` for a write's ResultSetHeader); then `end`.
   * Runs on the next tick so that a throwing callback surfaces as an uncaught exception, as with mysql2, instead
   * of being swallowed by a promise.
   */
  settle(error: Error | null, result?: QueryResult, fields?: FieldPacket[]): void {
    if (this.#settled) return;
    this.#settled = true;
    process.nextTick(() => {
      if (this.#callback !== undefined) {
        if (error) this.#callback(error);
        else this.#callback(null, result, fields);
      } else if (error) {
        this.emit('error', error);
      } else if (Array.isArray(result) && fields !== undefined) {
        this.emit('fields', fields, 0);
        for (const row of result) this.emit('result', row, 0);
      } else {
        this.emit('result', result, 0);
      }
      this.emit('end');
    });
  }

  /** A readable object stream of the result rows (or of the one ResultSetHeader of a write), like mysql2's `Query.stream()`. */
  stream(options?: ReadableOptions): Readable {
    const stream = new Readable({ ...options, objectMode: true, read: () => undefined });
    this.on('result', (row: unknown) => stream.push(row));
    this.on('fields', (fields: unknown) => stream.emit('fields', fields));
    this.on('error', (error: Error) => stream.destroy(error));
    this.on('end', () => stream.push(null));
    return stream;
  }
}
