/**
 * Follows one engine's event stream (`GET /events`), reconnecting with backoff when the
 * engine goes away.
 *
 * @module
 */
import type { DockerEvent } from "../core/input/docker_events.ts";
import { describeDockerError, type DockerEngine } from "./docker.ts";

/** Callbacks of {@link followEvents}. */
export interface EventHandlers {
  /** One event, as the engine sent it. */
  onEvent(event: DockerEvent): void;
  /**
   * The stream is (re)connected, to the engine at `url`: anything may have changed meanwhile,
   * so resync.
   */
  onConnected(url: string): void;
  /** The stream broke or could not connect; `retryInMs` until the next attempt. */
  onDisconnected(reason: string, retryInMs: number): void;
}

/** Options of {@link followEvents}. */
export interface FollowOptions {
  /** Start the first stream at this time (Docker `since`: unix seconds). */
  since?: string;
  /** Stops following. */
  signal: AbortSignal;
  /** First retry delay, doubled after each failure (default 250 ms). */
  initialBackoffMs?: number;
  /** Longest retry delay (default 5 s). */
  maxBackoffMs?: number;
}

/**
 * Follows container and network events until `signal` aborts. After a disconnect it retries
 * with exponential backoff and resumes from the last event seen. `engine` may be a function:
 * each attempt then connects to the engine it gives (a Swarm's manager in use).
 */
export async function followEvents(
  source: DockerEngine | (() => DockerEngine),
  handlers: EventHandlers,
  options: FollowOptions,
): Promise<void> {
  const initial = options.initialBackoffMs ?? 250;
  const max = options.maxBackoffMs ?? 5000;
  let backoff = initial;
  let since = options.since;
  while (!options.signal.aborted) {
    let reason: string;
    const engine = typeof source === "function" ? source() : source;
    try {
      const query = {
        ...(since ? { since } : {}),
        filters: {
          type: engine.swarm
            ? ["container", "network", "service", "node"]
            : ["container", "network"],
        },
      };
      const opened = () => handlers.onConnected(engine.endpoint.url);
      for await (const event of engine.client.events(query, options.signal, opened)) {
        backoff = initial; // the stream works: a later break retries promptly
        const time = (event as DockerEvent).time;
        if (typeof time === "number") since = String(time);
        handlers.onEvent(event as DockerEvent);
      }
      reason = "event stream ended";
    } catch (error) {
      reason = describeDockerError(error);
    }
    if (options.signal.aborted) return;
    handlers.onDisconnected(reason, backoff);
    await sleep(backoff, options.signal);
    backoff = Math.min(backoff * 2, max);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
