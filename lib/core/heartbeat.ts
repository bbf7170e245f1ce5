/**
 * Heartbeat batching: a burst of events becomes one batch. A batch closes MIN after its
 * last event, or MAX after its first, whichever comes first (the debounce of docker-gen and
 * the `wait` of consul-template). Pure: times are numbers the caller supplies.
 *
 * @module
 */
import { DEFAULTS } from "./defaults.ts";
import { parseDuration } from "./util/duration.ts";
import { ConfigError } from "./errors.ts";

/** `--heartbeat MIN[:MAX]` in milliseconds. */
export interface Heartbeat {
  /** A batch closes this long after its last event. */
  minMs: number;
  /** ... or this long after its first, whichever is sooner. */
  maxMs: number;
}

/** The default, `500ms:2s`. */
export const DEFAULT_HEARTBEAT: Heartbeat = DEFAULTS.heartbeat;

/**
 * Parses `MIN[:MAX]`; MAX defaults to 4 x MIN. `0` closes every batch at once.
 *
 * @example
 * ```ts
 * import { parseHeartbeat } from "./heartbeat.ts";
 * console.log(parseHeartbeat("500ms:2s")); // { minMs: 500, maxMs: 2000 }
 * ```
 *
 * @throws {ConfigError} e.g. `Cannot parse heartbeat "2s:1s": max must be >= min`
 */
export function parseHeartbeat(text: string): Heartbeat {
  const [min, max, ...rest] = text.split(":");
  const fail = (why: string) =>
    new ConfigError(`Cannot parse heartbeat ${JSON.stringify(text)}: ${why}`);
  if (rest.length > 0) throw fail("use MIN or MIN:MAX (e.g. 500ms:2s)");
  let minMs: number, maxMs: number;
  try {
    minMs = parseDuration(min);
    maxMs = max === undefined ? minMs * 4 : parseDuration(max);
  } catch (error) {
    throw fail((error as Error).message.replace(/^Cannot parse duration /, "duration "));
  }
  if (maxMs < minMs) throw fail("max must be >= min");
  return { minMs, maxMs };
}

/** An open batch: when its first and last events arrived. */
export interface Batch {
  firstAt: number;
  lastAt: number;
  /** Events in the batch. */
  events: number;
}

/** The batch after an event at `now` (a new one when `batch` is undefined). */
export function addEvent(batch: Batch | undefined, now: number): Batch {
  return batch
    ? { firstAt: batch.firstAt, lastAt: now, events: batch.events + 1 }
    : { firstAt: now, lastAt: now, events: 1 };
}

/** When `batch` closes: MIN after its last event, but never later than MAX after its first. */
export function closesAt(batch: Batch, heartbeat: Heartbeat): number {
  return Math.min(batch.lastAt + heartbeat.minMs, batch.firstAt + heartbeat.maxMs);
}
