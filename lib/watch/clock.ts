/**
 * The system clock for the watch loop (and the ACME manager): tests give a fake one, so
 * batching, drains, readiness re-probes, retirements and resyncs are tested without sleeping.
 *
 * @module
 */
import type { Clock } from "../core/util/clock.ts";

export type { Clock, TimerId } from "../core/util/clock.ts";

/** The system clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout> | undefined),
};
