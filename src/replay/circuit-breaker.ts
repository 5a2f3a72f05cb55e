/**
 * A circuit breaker for the secondary side: after a run of failures the pool stops waiting on it (each write it
 * skips goes to the repair log), lets one write probe it after a pause, and resumes replay once a probe succeeds.
 *
 * @module
 */

/** Where the breaker stands. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/** Settings of a {@link CircuitBreaker}. */
export interface CircuitBreakerSettings {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** First open period, in milliseconds. */
  readonly openMs: number;
  /** Longest open period, in milliseconds (the period doubles after each failed probe). */
  readonly maxOpenMs: number;
  /** Clock in milliseconds. */
  readonly now: () => number;
}

/**
 * Counts consecutive failures of one secondary side and decides whether the next replay may try it.
 * Single-threaded by construction (Node.js): no locking needed.
 */
export class CircuitBreaker {
  readonly #settings: CircuitBreakerSettings;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openUntil = 0;
  #openMs: number;
  #probing = false;

  /** @param settings - thresholds and clock */
  constructor(settings: CircuitBreakerSettings) {
    this.#settings = settings;
    this.#openMs = settings.openMs;
  }

  /** `closed` (replaying), `open` (skipping), or `half_open` (one probe in flight or due). */
  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Whether a replay may be attempted now. In the open state this turns the breaker half-open once the
   * pause has passed and lets exactly one caller through as the probe.
   */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#settings.now() < this.#openUntil) return false;
      this.#state = 'half_open';
    }
    if (this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** A replay succeeded: the circuit closes and the failure count restarts. */
  success(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#openMs = this.#settings.openMs;
    this.#state = 'closed';
  }

  /** A replay failed. Returns true when this failure opened (or re-opened) the circuit. */
  failure(): boolean {
    this.#failures += 1;
    if (this.#state === 'half_open') {
      this.#probing = false;
      this.#openMs = Math.min(this.#openMs * 2, this.#settings.maxOpenMs);
      this.#open();
      return true;
    }
    if (this.#state === 'closed' && this.#failures >= this.#settings.failureThreshold) {
      this.#open();
      return true;
    }
    return false;
  }

  #open(): void {
    this.#state = 'open';
    this.#openUntil = this.#settings.now() + this.#openMs;
  }
}
