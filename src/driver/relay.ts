/**
 * The handle a driver connection returns for a statement it cannot send at once (the connection is still opening,
 * or is moving to the mode now in force): a mysql2-Query-shaped EventEmitter that relays the events of the real
 * query once it is sent, or delivers the error that kept it from being sent.
 *
 * @module
 */
import type { EventEmitter } from 'node:events';
import { DualQuery } from '../pool/dual-query.js';
import type { ResultCallback } from '../pool/side-io.js';

/** The events of mysql2's Query (and of {@link DualQuery}) that a relay passes on. */
const RELAYED = ['fields', 'result', 'error', 'end'] as const;

/** A mysql2-Query-shaped stand-in for a statement sent later. `stream()` works as on {@link DualQuery}. */
export class QueryRelay extends DualQuery {
  /**
   * @param sql - the statement text
   * @param values - its values
   * @param callback - the caller's callback, handed to the real query when it is sent
   */
  constructor(sql: string, values: unknown, callback: ResultCallback | undefined) {
    super(sql, values, callback);
  }

  /** Relays the events of the query now sent (its callback, if any, was given to it directly). */
  attach(query: EventEmitter): void {
    for (const name of RELAYED) {
      query.on(name, (...args: unknown[]) => {
        // mysql2 emits `error` only when no callback was given; then the caller listens here, as on the real query.
        this.emit(name, ...args);
      });
    }
  }

  /** The statement could not be sent: the callback or an `error` event gets `error`, then `end`. */
  fail(error: Error): void {
    this.settle(error);
  }
}
