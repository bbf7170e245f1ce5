/**
 * Time as the impure layers receive it: a clock they are given, the system's in production
 * and a fake one in tests (`systemClock` lives in `watch/clock.ts`). Types only.
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
