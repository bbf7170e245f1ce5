/**
 * What a Docker event means for the backend list. Pure.
 *
 * @module
 */

/** The parts of a Docker event lbsync reads (`GET /events`). */
export interface DockerEvent {
  /** `container`, `network`, `service`, `node`, ... */
  Type?: string;
  /** `start`, `die`, `health_status: healthy`, `connect`, ... */
  Action?: string;
  /** The object concerned; network events name the container in `Attributes.container`. */
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  /** Unix seconds. */
  time?: number;
  /** Unix nanoseconds. */
  timeNano?: number;
}

/** What to do about one event. */
export interface EventEffect {
  /** Short kind for logs and metrics, e.g. `start`, `health_status`, `network connect`. */
  kind: string;
  /** The container concerned. */
  containerId: string;
  /** The backend list may have changed: re-list the engine. */
  relevant: boolean;
  /** A graceful stop began: take the container out now, before it stops answering. */
  stopping: boolean;
  /** The container is gone or started anew: forget that it was stopping. */
  settled: boolean;
  /**
   * A Swarm service or node changed: its tasks start, stop and move for a while after, and
   * Swarm sends no task events, so the engine is worth re-listing a few times.
   */
  swarmChange: boolean;
  /** When the engine emitted the event, in ms since the epoch (0 when unknown). */
  timeMs: number;
}

const CONTAINER_ACTIONS = new Set([
  "start",
  "kill",
  "die",
  "stop",
  "destroy",
  "pause",
  "unpause",
  "health_status",
  "rename",
  "update",
]);

// `docker stop` sends SIGTERM (15) first; `docker kill` SIGKILL (9); SIGINT and SIGQUIT also
// end a process. Other signals (SIGHUP to reload, SIGUSR1...) do not stop the container.
const STOPPING_SIGNALS = new Set(["15", "9", "2", "3", "SIGTERM", "SIGKILL", "SIGINT", "SIGQUIT"]);

/**
 * Classifies an event. `health_status: healthy` counts as `health_status`; network events
 * concern the container in `Actor.Attributes.container`.
 *
 * @example
 * ```ts
 * import { classifyEvent } from "./docker_events.ts";
 * const e = classifyEvent({ Type: "container", Action: "kill", Actor: { ID: "abc", Attributes: { signal: "15" } } });
 * console.log(e.stopping); // true
 * ```
 */
export function classifyEvent(event: DockerEvent): EventEffect {
  const action = (event.Action ?? "").split(":")[0].trim();
  const timeMs = event.timeNano ? Math.floor(event.timeNano / 1e6) : (event.time ?? 0) * 1000;
  const attributes = event.Actor?.Attributes ?? {};
  if (event.Type === "network" && (action === "connect" || action === "disconnect")) {
    return {
      kind: `network ${action}`,
      containerId: attributes.container ?? "",
      relevant: true,
      stopping: false,
      settled: false,
      swarmChange: false,
      timeMs,
    };
  }
  if (event.Type === "service" || event.Type === "node") {
    // Swarm: services created, updated (scaled, rolled) or removed; nodes drained or down
    const relevant = ["create", "update", "remove"].includes(action);
    return {
      kind: `${event.Type} ${action}`,
      containerId: "",
      relevant,
      stopping: false,
      settled: false,
      swarmChange: relevant,
      timeMs,
    };
  }
  const containerId = event.Actor?.ID ?? "";
  if (event.Type !== "container" || !CONTAINER_ACTIONS.has(action)) {
    return {
      kind: action || "unknown",
      containerId,
      relevant: false,
      stopping: false,
      settled: false,
      swarmChange: false,
      timeMs,
    };
  }
  return {
    kind: action,
    containerId,
    relevant: true,
    stopping: action === "kill" && STOPPING_SIGNALS.has(attributes.signal ?? ""),
    settled: action === "start" || action === "die" || action === "destroy",
    swarmChange: false,
    timeMs,
  };
}
