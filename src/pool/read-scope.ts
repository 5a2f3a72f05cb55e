/**
 * The request a read belongs to, for read routing: an AsyncLocalStorage scope the application opens around the
 * work of one request (`runWithReadKey(key, fn)`), carrying the routing key (sticky gray reads) and the request's
 * writes (read-your-writes). "The same request" is exactly that scope: everything `fn` runs, awaits or schedules
 * (callbacks, promises, timers), including nested scopes, which share the outer scope's writes.
 *
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { InvalidOptionError } from '../errors.js';
import type { ModePin } from '../mode/switch-gate.js';
import type { ResultCallback } from './side-io.js';

/** The writes of one request, shared by its nested scopes. */
interface RequestWrites {
  /** Writes issued and not answered yet (pool-level writes with a callback, checked-out connections). */
  inFlight: number;
  /** When the last write ended (or was issued, when its end cannot be seen), in the pool clock's milliseconds. */
  lastAt: number;
}

/** One request scope. */
export interface ReadRequest {
  /** The routing key the application gave, or `undefined`. */
  readonly key: string | undefined;
  /** @internal */
  readonly writes: RequestWrites;
}

const storage = new AsyncLocalStorage<ReadRequest>();

/**
 * Runs `fn` as one request for read routing: pool-level reads issued inside it are routed by `key` (the same key
 * stays on the same side while the gray share does not change), and stay on the primary side while a write issued
 * inside it is in flight or ended less than `readRouting.readYourWritesMs` ago. Any number of pools share the
 * scope. A nested call keeps the outer request's writes and uses its own key (`undefined`: the outer key).
 *
 * @param key - the routing key (a tenant or user id), or `undefined` for a request routed at random
 * @param fn - the request's work; its return value (or promise) is returned
 * @throws {@link InvalidOptionError} when `key` is not a string, a number or `undefined`, or `fn` is not a function
 */
export function runWithReadKey<T>(key: string | number | undefined, fn: () => T): T {
  if (key !== undefined && typeof key !== 'string' && !(typeof key === 'number' && Number.isFinite(key))) {
    throw new InvalidOptionError('runWithReadKey key', key, 'a string or finite number identifying the user or tenant, or undefined');
  }
  if (typeof fn !== 'function') throw new InvalidOptionError('runWithReadKey fn', fn, 'a function running the request');
  const outer = storage.getStore();
  const request: ReadRequest = {
    key: key === undefined ? outer?.key : String(key),
    writes: outer?.writes ?? { inFlight: 0, lastAt: Number.NEGATIVE_INFINITY },
  };
  return storage.run(request, fn);
}

/** The request scope the caller runs in, or `undefined` outside any {@link runWithReadKey}. */
export function currentReadRequest(): ReadRequest | undefined {
  return storage.getStore();
}

/**
 * Whether reads of `request` must stay on the primary side: a write of the request is in flight, or ended less
 * than `windowMs` ago.
 */
export function recentlyWrote(request: ReadRequest, now: number, windowMs: number): boolean {
  return request.writes.inFlight > 0 || now - request.writes.lastAt < windowMs;
}

/**
 * Notes a pool-level write issued in the current request (if any) and returns the callback to hand mysql2: the
 * caller's, wrapped so that the write's end is noted too. Without a request scope, `callback` comes back as is.
 * Without a callback (event-style calls) the write counts as ended when issued.
 */
export function trackWrite(callback: ResultCallback | undefined, now: () => number): ResultCallback | undefined {
  const request = storage.getStore();
  if (request === undefined) return callback;
  const writes = request.writes;
  writes.lastAt = now();
  if (callback === undefined) return undefined;
  writes.inFlight += 1;
  return (error, result, fields) => {
    writes.inFlight -= 1;
    writes.lastAt = now();
    callback(error, result, fields);
  };
}

/**
 * Notes a checked-out connection of the current request (if any) as a write in flight until it is released (a
 * transaction's writes are only visible to the request's later reads once it ends), and returns the pin to give
 * the connection: `pin` itself outside a request scope.
 */
export function trackCheckout(pin: ModePin, now: () => number): ModePin {
  const request = storage.getStore();
  if (request === undefined) return pin;
  const writes = request.writes;
  writes.inFlight += 1;
  let released = false;
  const release = (): void => {
    if (!released) {
      released = true;
      writes.inFlight -= 1;
      writes.lastAt = now();
    }
    pin.release();
  };
  // Everything else is read through to the gate's own pin.
  return Object.create(pin, { release: { value: release } }) as ModePin;
}
