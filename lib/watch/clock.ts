/**
 * Time for the watch loop: the system clock in production, a fake one in tests, so batching,
 * drains, readiness re-probes, retirements and resyncs can be tested without sleeping.
 *
 * @module
 */

/** A timer handle of a {@link Clock}: whatever it returned, given back to cancel. */
export type TimerId = unknown;

/** Now, and timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timer (nothing for `undefined` or one that ran). */
  clearTimeout(id: TimerId | undefined): void;
}

/** The system clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout> | undefined),
};
