/**
 * Containers from Docker Engines through lbsync's own Engine API client
 * (`engine_client.ts`, on Deno's sockets).
 *
 * One discovery pass makes exactly one request per engine, `GET /containers/json?all=1`:
 * the summaries carry names, labels, ports, networks, state and health (in `Status`).
 * Only `--compat nginx-proxy` inspects containers (once each: their environment is not in
 * the summaries).
 *
 * @module
 */
import { inspectEnv } from "../core/input/compat.ts";
import { DEFAULTS } from "../core/defaults.ts";
import { containersFromDockerApi } from "../core/input/docker_json.ts";
import { containersFromSwarm } from "../core/input/swarm_json.ts";
import { ConfigError, DockerError, errorMessage } from "../core/errors.ts";
import type { ContainerInfo } from "../core/types.ts";
import type { DockerEndpoint } from "./docker_endpoint.ts";
import { EngineClient, type EngineLimits, EngineRequestError } from "./engine_client.ts";

/** An engine that did not answer, and why. */
export interface EngineFailure {
  /** The endpoint URL. */
  endpoint: string;
  /** One line: what failed and why. */
  message: string;
}

/** Containers of every engine that answered, and the engines that did not. */
export interface DockerListing {
  /** Containers of the engines that answered. */
  containers: ContainerInfo[];
  /** The engines that did not. */
  failures: EngineFailure[];
}

/** Options of {@link listEngines}. */
export interface ListOptions {
  /** Render from the engines that answered when others fail. */
  allowPartial?: boolean;
  /** Per-request timeout in milliseconds (default 10 s). */
  timeoutMs?: number;
}

const INSPECT_CONCURRENCY = 16;

/** One Docker Engine, read through an {@link EngineClient}. */
export class DockerEngine {
  /** The Engine API client (connects on the first request). */
  readonly client: EngineClient;
  /**
   * What inspecting each running container once added to its summary, by id: the `VIRTUAL_*`
   * variables (`--compat nginx-proxy`), and the exposed ports Podman's summaries leave out.
   */
  readonly #inspected = new Map<
    string,
    Pick<ContainerInfo, "env" | "ports" | "networkMode" | "networks">
  >();

  /**
   * An engine at `endpoint`; `timeoutMs` bounds each request (headers and body). With
   * `swarm`, the engine is a Swarm manager and its services' tasks are listed instead of its
   * containers (`vip`: one entry per service, its virtual IP). With `inspectEnv`
   * (`--compat nginx-proxy`), each running container is inspected once for its `VIRTUAL_*`
   * variables, cached by id. Podman lists only published ports in its summaries (and, rootless,
   * no network mode): there, a running container listed without ports is inspected once for
   * the ports it exposes and its network mode.
   */
  constructor(
    readonly endpoint: DockerEndpoint,
    readonly timeoutMs: number = DEFAULTS.dockerTimeoutMs,
    readonly swarm: { vip?: boolean } | undefined = undefined,
    readonly inspectEnv = false,
    limits: Partial<Omit<EngineLimits, "timeoutMs">> = {},
  ) {
    this.client = new EngineClient(endpoint, { ...limits, timeoutMs });
  }

  /**
   * Lists every container with one request (and, where said above, one inspect per new
   * container).
   *
   * @param engineName kept in each container's `engine` field
   * @throws {DockerError} naming the endpoint and the cause
   */
  async list(engineName = ""): Promise<ContainerInfo[]> {
    if (this.swarm) return await this.#listSwarm(engineName);
    let json: unknown;
    try {
      json = await this.client.getJson("/containers/json", { all: true });
    } catch (error) {
      throw this.#failure("list containers", error);
    }
    const containers = containersFromDockerApi(json, {
      engine: engineName,
      source: this.endpoint.url,
    });
    const podman = this.client.server.startsWith("Libpod");
    const inspect = (c: ContainerInfo) =>
      c.state === "running" && (this.inspectEnv || (podman && c.ports.length === 0));
    return containers.some(inspect) ? await this.#withInspected(containers, inspect) : containers;
  }

  /** Forgets what was read of container `id` (its `destroy` event). */
  forget(id: string): void {
    this.#inspected.delete(id);
  }

  /**
   * Adds what an inspect tells to each container `wanted` picks: one inspect per container not
   * seen before (at most 16 at a time); the cache keeps only listed containers.
   */
  async #withInspected(
    containers: ContainerInfo[],
    wanted: (c: ContainerInfo) => boolean,
  ): Promise<ContainerInfo[]> {
    const listed = new Set(containers.map((c) => c.id));
    for (const id of this.#inspected.keys()) if (!listed.has(id)) this.#inspected.delete(id);
    const unknown = containers.filter((c) => wanted(c) && !this.#inspected.has(c.id));
    for (let i = 0; i < unknown.length; i += INSPECT_CONCURRENCY) {
      await Promise.all(
        unknown.slice(i, i + INSPECT_CONCURRENCY).map(async (c) => {
          try {
            const json = await this.client.getJson(`/containers/${c.id}/json`);
            const [full] = containersFromDockerApi(json);
            this.#inspected.set(c.id, {
              env: inspectEnv(json),
              ports: full?.ports ?? [],
              networkMode: full?.networkMode ?? "",
              networks: full?.networks ?? [],
            });
          } catch (error) {
            if (statusOf(error) === 404) return; // gone meanwhile
            throw this.#failure(`inspect container ${c.id.slice(0, 12)}`, error);
          }
        }),
      );
    }
    return containers.map((c) => {
      const more = this.#inspected.get(c.id);
      if (!more) return c;
      const env = this.inspectEnv && more.env ? { env: more.env } : {};
      // what a summary left out (Podman's: exposed ports, a host network's mode)
      const ports = c.ports.length === 0 ? { ports: more.ports } : {};
      const mode = c.networkMode === "" ? { networkMode: more.networkMode } : {};
      const networks = c.networks.length === 0 ? { networks: more.networks } : {};
      return { ...c, ...env, ...ports, ...mode, ...networks };
    });
  }

  /** Services, running tasks and nodes of a Swarm manager: three requests. */
  async #listSwarm(engineName: string): Promise<ContainerInfo[]> {
    try {
      const [services, tasks, nodes] = await Promise.all([
        this.client.getJson("/services"),
        this.client.getJson("/tasks", { filters: { "desired-state": ["running"] } }),
        this.client.getJson("/nodes"),
      ]);
      return containersFromSwarm(
        { services, tasks, nodes } as { services: unknown[]; tasks: unknown[]; nodes: unknown[] },
        { vip: this.swarm?.vip, engine: engineName },
      );
    } catch (error) {
      throw this.#failure("list Swarm services", error);
    }
  }

  #failure(what: string, error: unknown): Error {
    if (error instanceof ConfigError) return error;
    return new DockerError(
      `Cannot ${what} on ${this.endpoint.url}: ${describeDockerError(error)}`,
      {
        cause: error,
      },
    );
  }

  /**
   * Stops container `id` (SIGTERM, then SIGKILL after the container's stop timeout): used to
   * retire containers after a rollover, the only other write lbsync makes to an engine.
   *
   * @throws {DockerError} naming the container, the endpoint and the cause
   */
  async stop(id: string): Promise<void> {
    try {
      // the engine answers 304 when it is already stopped
      await this.client.request("POST", `/containers/${encodeURIComponent(id)}/stop`);
    } catch (error) {
      throw new DockerError(
        `Cannot stop container ${id.slice(0, 12)} on ${this.endpoint.url}: ${
          describeDockerError(error)
        }`,
        { cause: error },
      );
    }
  }

  /**
   * Sends `signal` to container `name` (e.g. SIGHUP to an nginx container to reload it).
   *
   * @throws {DockerError} naming the container, the endpoint and the cause
   */
  async signal(name: string, signal: string): Promise<void> {
    try {
      await this.client.request("POST", `/containers/${encodeURIComponent(name)}/kill`, { signal });
    } catch (error) {
      const status = statusOf(error);
      const why = status === 404
        ? "no such container"
        : status === 409
        ? "container is not running"
        : describeDockerError(error);
      throw new DockerError(
        `Cannot signal container ${name} (${signal}) on ${this.endpoint.url}: ${why}`,
        { cause: error },
      );
    }
  }
}

/**
 * Lists the containers of every engine in parallel. With several engines each container's
 * `engine` is its endpoint URL.
 *
 * @throws {DockerError} naming every engine that failed, unless `allowPartial`
 */
export async function listEngines(
  engines: DockerEngine[],
  options: ListOptions = {},
): Promise<DockerListing> {
  const several = engines.length > 1;
  const results = await Promise.allSettled(
    engines.map((e) => e.list(several ? e.endpoint.url : "")),
  );
  const containers: ContainerInfo[] = [];
  const failures: EngineFailure[] = [];
  results.forEach((r, i) => {
    if (r.status === "fulfilled") containers.push(...r.value);
    else {
      if (r.reason instanceof ConfigError) throw r.reason;
      failures.push({ endpoint: engines[i].endpoint.url, message: errorMessage(r.reason) });
    }
  });
  if (failures.length > 0 && (!options.allowPartial || failures.length === engines.length)) {
    throw new DockerError(failures.map((f) => f.message).join("; "));
  }
  return { containers, failures };
}

function statusOf(error: unknown): number | undefined {
  return error instanceof EngineRequestError ? error.status : undefined;
}

/** A short, human cause for a failed Docker request. */
export function describeDockerError(error: unknown): string {
  return error instanceof EngineRequestError ? error.reason : errorMessage(error);
}
