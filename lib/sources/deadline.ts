/**
 * Deadlines as abort signals, on `AbortSignal.timeout`. The first `setTimeout` of a Deno
 * process costs it about 7 ms and 4 MB (BENCHMARKS.md, one-shot), as much as the rest of a
 * small render's I/O; the one-shot path (an engine request, the output lock) uses these instead.
 *
 * The timer keeps the process alive only while the deadline listens to it: `clear()` lets go.
 *
 * @module
 */

/** A signal that aborts at the deadline or with an outer signal; `clear()` ends it. */
export interface Deadline {
  readonly signal: AbortSignal;
  /** Stops listening to the timer (the signal aborts no more by time). */
  clear(): void;
}

/**
 * A deadline `ms` from now whose signal aborts with `reason()`, or with `outer`'s reason
 * when that aborts first.
 *
 * @example
 * ```ts
 * import { deadline } from "./deadline.ts";
 * const d = deadline(1_000, undefined, () => new Error("timed out after 1 s"));
 * try {
 *   await fetch("http://127.0.0.1:9/", { signal: d.signal }).catch(() => {});
 * } finally {
 *   d.clear();
 * }
 * ```
 */
export function deadline(
  ms: number,
  outer: AbortSignal | undefined,
  reason: () => Error,
): Deadline {
  const controller = new AbortController();
  const timer = AbortSignal.timeout(ms);
  const onTime = () => controller.abort(reason());
  const onOuter = () => controller.abort(outer!.reason);
  const clear = () => {
    timer.removeEventListener("abort", onTime);
    outer?.removeEventListener("abort", onOuter);
  };
  if (outer?.aborted) controller.abort(outer.reason);
  else {
    timer.addEventListener("abort", onTime, { once: true });
    outer?.addEventListener("abort", onOuter, { once: true });
    controller.signal.addEventListener("abort", clear, { once: true });
  }
  return { signal: controller.signal, clear };
}
