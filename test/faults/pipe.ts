/**
 * One direction of a proxied connection: a FIFO of chunks between a source socket and a destination socket, where
 * the fault proxy's latency, bandwidth limit, stall and byte budget are applied. Chunks leave in the order they came
 * (a delay never lets a later chunk overtake an earlier one), so the byte stream is never reordered.
 */
import type { Socket } from 'node:net';

/** How a connection is cut: `reset` sends a TCP RST (`socket.resetAndDestroy()`), `fin` a normal close. */
export type CutHow = 'reset' | 'fin';

/** The shaping of one direction, read live at every step so that a change applies to queued data too. */
export interface DirectionShaping {
  /** Each chunk waits at least this long (ms) after it arrived. */
  readonly latencyMs: number;
  /** Plus a random extra wait in [0, jitterMs) ms, drawn per chunk. */
  readonly jitterMs: number;
  /** At most this many bytes per second leave; 0 means no limit. */
  readonly bytesPerSecond: number;
  /** Nothing leaves while true (a black hole that keeps the connection open). */
  readonly stalled: boolean;
}

/** What a {@link Pipe} needs from its connection. */
export interface PipeHost {
  /** The current shaping of this direction. */
  shaping(): DirectionShaping;
  /** A number in [0, 1) for jitter. */
  random(): number;
  /** Bytes were handed to the destination socket. */
  forwarded(bytes: number): void;
  /** Cut the whole connection; `flush` is a socket whose last written bytes should leave before a RST. */
  cut(how: CutHow, flush?: Socket): void;
}

type Entry =
  | { readonly kind: 'data'; bytes: Buffer; readonly arrivedAt: number; readonly jitter: number; readonly onSent: (() => void) | undefined }
  | { readonly kind: 'cut'; readonly how: CutHow }
  | { readonly kind: 'end' };

/** Above this many queued bytes the source socket is paused, so a slow or stalled direction does not buffer without bound. */
const HIGH_WATER_BYTES = 1 << 20;
/** A bandwidth-limited direction sends slices of at most 1/50 of a second's worth of bytes. */
const SLICES_PER_SECOND = 50;

const now = (): number => performance.now();

/** A FIFO between `source` and `destination`; see the module comment. */
export class Pipe {
  readonly #source: Socket;
  readonly #destination: Socket;
  readonly #host: PipeHost;
  readonly #queue: Entry[] = [];
  #queuedBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #waitingDrain = false;
  #sourcePaused = false;
  #disposed = false;
  /** The slice being paid for under a bandwidth limit: its size, and when it may leave. */
  #charged: { bytes: number; at: number } | null = null;
  /** End of the time already paid for: slices leave one after another, never in a burst. */
  #paidUntil = 0;
  /** A byte budget: the connection is cut when byte `remaining + 1` would leave. */
  #budget: { remaining: number; how: CutHow } | null = null;
  /** Cut instead of queueing the next chunk that arrives. */
  #cutOnArrival: CutHow | null = null;

  /**
   * @param source - where the chunks come from (paused when too much is queued)
   * @param destination - where they go
   * @param host - shaping, randomness, counters and the connection's cut
   */
  constructor(source: Socket, destination: Socket, host: PipeHost) {
    this.#source = source;
    this.#destination = destination;
    this.#host = host;
  }

  /** Bytes waiting to leave. */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** Queues a chunk; `onSent` runs once its last byte was handed to the destination. */
  push(bytes: Buffer, onSent?: () => void): void {
    if (this.#disposed || bytes.length === 0) return;
    if (this.#cutOnArrival !== null) {
      const how = this.#cutOnArrival;
      this.#cutOnArrival = null;
      this.pushCut(how);
      return;
    }
    this.#queue.push({ kind: 'data', bytes, arrivedAt: now(), jitter: this.#host.random(), onSent });
    this.#queuedBytes += bytes.length;
    if (this.#queuedBytes > HIGH_WATER_BYTES && !this.#sourcePaused) {
      this.#sourcePaused = true;
      this.#source.pause();
    }
    this.#pump();
  }

  /** Queues a cut: what was queued before it still leaves first. */
  pushCut(how: CutHow): void {
    if (this.#disposed) return;
    this.#queue.push({ kind: 'cut', how });
    this.#pump();
  }

  /** Queues the end of the stream (the source sent FIN): the destination is ended once everything before it left. */
  pushEnd(): void {
    if (this.#disposed) return;
    this.#queue.push({ kind: 'end' });
    this.#pump();
  }

  /** Cut the connection when byte `bytes + 1` from now would leave in this direction (replaces an earlier budget). */
  cutAfter(bytes: number, how: CutHow): void {
    this.#budget = { remaining: bytes, how };
    this.#pump();
  }

  /** Cut the connection when the next chunk arrives, after what is queued now has left. */
  cutOnNextArrival(how: CutHow): void {
    this.#cutOnArrival = how;
  }

  /** Drops byte budgets and armed cuts (queued data stays and leaves). */
  disarm(): void {
    this.#budget = null;
    this.#cutOnArrival = null;
  }

  /** Re-reads the shaping (call after it changed). */
  kick(): void {
    this.#pump();
  }

  /** Stops for good: clears the timer and drops what is queued. */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#queuedBytes = 0;
  }

  #schedule(atMs: number): void {
    clearTimeout(this.#timer);
    // Rounded up, and the due time is checked again when it fires: a delay is never shorter than asked.
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, Math.max(1, Math.ceil(atMs - now())));
  }

  #pump(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (!this.#disposed && !this.#waitingDrain) {
      const head = this.#queue[0];
      if (head === undefined) return;
      const shaping = this.#host.shaping();
      if (shaping.stalled) return;
      if (head.kind === 'cut') {
        this.#queue.shift();
        this.#host.cut(head.how);
        return;
      }
      if (head.kind === 'end') {
        this.#queue.shift();
        this.#destination.end();
        continue;
      }
      const t = now();
      const ready = head.arrivedAt + shaping.latencyMs + head.jitter * shaping.jitterMs;
      if (t < ready) return this.#schedule(ready);
      let size = head.bytes.length;
      if (shaping.bytesPerSecond > 0) {
        if (this.#charged === null) {
          // Paid before it leaves: N bytes never take less than N / rate seconds.
          const bytes = Math.min(size, Math.max(1, Math.floor(shaping.bytesPerSecond / SLICES_PER_SECOND)));
          const at = Math.max(this.#paidUntil, t) + (bytes * 1000) / shaping.bytesPerSecond;
          this.#charged = { bytes, at };
          this.#paidUntil = at;
        }
        if (t < this.#charged.at) return this.#schedule(this.#charged.at);
        size = this.#charged.bytes;
      }
      this.#charged = null;
      this.#send(head, size);
    }
  }

  #send(head: Extract<Entry, { kind: 'data' }>, size: number): void {
    let slice = head.bytes.subarray(0, size);
    const budget = this.#budget;
    if (budget !== null && slice.length > budget.remaining) {
      slice = slice.subarray(0, budget.remaining);
      if (slice.length > 0) {
        this.#destination.write(slice);
        this.#host.forwarded(slice.length);
      }
      this.#host.cut(budget.how, this.#destination);
      return;
    }
    if (budget !== null) budget.remaining -= slice.length;
    head.bytes = head.bytes.subarray(slice.length);
    this.#queuedBytes -= slice.length;
    if (head.bytes.length === 0) this.#queue.shift();
    const flowing = this.#destination.write(slice);
    this.#host.forwarded(slice.length);
    if (head.bytes.length === 0) head.onSent?.();
    if (this.#sourcePaused && this.#queuedBytes <= HIGH_WATER_BYTES / 2) {
      this.#sourcePaused = false;
      this.#source.resume();
    }
    if (!flowing) {
      this.#waitingDrain = true;
      this.#destination.once('drain', () => {
        this.#waitingDrain = false;
        this.#pump();
      });
    }
  }
}
