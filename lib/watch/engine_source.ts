/**
 * What the watch loop needs of an engine: list its containers, follow its events, stop a
 * retired container. Docker engines provide it; tests give a fake one.
 *
 * @module
 */
import type { ContainerInfo } from "../core/types.ts";
import type { DockerEngine } from "../sources/docker.ts";
import type { SwarmManagers } from "../sources/swarm_managers.ts";
import { type EventHandlers, followEvents } from "../sources/event_stream.ts";

/** One engine as the watch loop sees it. */
export interface EngineSource {
  /** The engine's URL, e.g. `unix:///var/run/docker.sock`. */
  readonly url: string;
  /** Its containers now; `name` tells them apart when several engines are merged. */
  list(name: string): Promise<ContainerInfo[]>;
  /** Forgets what it cached of a destroyed container. */
  forget(id: string): void;
  /** Stops a container (a rollover's retired one). */
  stop(id: string): Promise<void>;
  /** For a Swarm read through one of its managers: the manager in use. */
  inUse?(): string;
  /** Follows the events until `signal` aborts, reconnecting; resolves then. */
  follow(handlers: EventHandlers, options: { since?: string; signal: AbortSignal }): Promise<void>;
}

/** A Docker engine as an {@link EngineSource}. */
export function dockerSource(engine: DockerEngine): EngineSource {
  return {
    url: engine.endpoint.url,
    list: (name) => engine.list(name),
    forget: (id) => engine.forget(id),
    stop: (id) => engine.stop(id),
    follow: (handlers, options) => followEvents(engine, handlers, options),
  };
}

/**
 * The managers of one Swarm as one {@link EngineSource}: listed and followed through the
 * manager in use; when its stream breaks, the next manager takes over.
 */
export function swarmSource(managers: SwarmManagers): EngineSource {
  return {
    url: managers.url,
    inUse: () => managers.current.endpoint.url,
    list: (name) => managers.list(name),
    forget: (id) => managers.current.forget(id),
    stop: (id) => managers.current.stop(id),
    follow: (handlers, options) =>
      followEvents(() => managers.current, {
        ...handlers,
        onDisconnected(reason, retryInMs) {
          managers.next();
          handlers.onDisconnected(reason, retryInMs);
        },
      }, { ...options, maxBackoffMs: 1000 }),
  };
}
