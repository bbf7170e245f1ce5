/**
 * Durations as operators write them. Pure.
 *
 * @module
 */
import { ConfigError } from "../errors.ts";

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The longest duration accepted: 596 hours. Timers hold at most 2^31-1 ms (about 596.5
 * hours); a longer one would fire at once.
 */
export const MAX_DURATION_MS = 596 * 3_600_000;

/**
 * Parses `250ms`, `2s`, `1.5s`, `5m`, `1h` or `0` into milliseconds, at most
 * {@link MAX_DURATION_MS} (`596h`).
 *
 * @example
 * ```ts
 * import { parseDuration } from "./duration.ts";
 * console.log(parseDuration("2s"), parseDuration("250ms")); // 2000 250
 * ```
 *
 * @throws {ConfigError} e.g. `Cannot parse duration "2x": use a number and ms, s, m or h`
 */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const match = /^([0-9]{1,9}(?:\.[0-9]{1,3})?)(ms|s|m|h)$/.exec(text);
  if (!match) {
    throw new ConfigError(
      `Cannot parse duration ${
        JSON.stringify(text)
      }: use a number and ms, s, m or h (e.g. 500ms, 2s)`,
    );
  }
  const ms = Math.round(Number(match[1]) * UNIT_MS[match[2]]);
  if (ms > MAX_DURATION_MS) {
    throw new ConfigError(
      `Cannot parse duration ${JSON.stringify(text)}: at most 596h (a timer holds about 24 days)`,
    );
  }
  return ms;
}

/**
 * Milliseconds as {@link parseDuration} reads them, in the largest unit that is whole:
 * `2000` is `2s`, `500` is `500ms`, `0` is `0`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * console.log(formatDuration(60_000), formatDuration(1500)); // 1m 1500ms
 * ```
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0";
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
