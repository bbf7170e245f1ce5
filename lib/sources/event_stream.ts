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
      const client = await engine.streamClient();
      const stream = await client.getEvents({
        ...(since ? { since } : {}),
        filters: {
          type: engine.swarm
            ? ["container", "network", "service", "node"]
            : ["container", "network"],
        },
      }) as unknown as NodeStream;
      const stop = () => stream.destroy();
      options.signal.addEventListener("abort", stop, { once: true });
      handlers.onConnected(engine.endpoint.url);
      backoff = initial;
      try {
        for await (const event of jsonLines(stream)) {
          const time = event.time;
          if (typeof time === "number") since = String(time);
          handlers.onEvent(event);
        }
        reason = "event stream ended";
      } finally {
        options.signal.removeEventListener("abort", stop);
        stream.destroy();
      }
    } catch (error) {
      reason = describeDockerError(error);
    }
    if (options.signal.aborted) return;
    handlers.onDisconnected(reason, backoff);
    await sleep(backoff, options.signal);
    backoff = Math.min(backoff * 2, max);
  }
}

interface NodeStream extends AsyncIterable<Uint8Array | string> {
  destroy(): void;
}

/** Parses newline-delimited JSON from a byte stream; skips lines that are not JSON. */
async function* jsonLines(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<DockerEvent> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line) continue;
      try {
        yield JSON.parse(line) as DockerEvent;
      } catch {
        // a malformed line: the next resync catches whatever it meant
      }
    }
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
