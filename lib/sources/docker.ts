/**
 * Containers from Docker Engines through `npm:dockerode`, imported on first use so runs
 * that read files never pay for it.
 *
 * One discovery pass makes exactly one request per engine, `GET /containers/json?all=1`:
 * the summaries carry names, labels, ports, networks, state and health (in `Status`).
 * Only `--compat nginx-proxy` inspects containers (once each: their environment is not in
 * the summaries).
 *
 * @module
 */
import { inspectEnv } from "../core/input/compat.ts";
import type DockerodeType from "npm:dockerode@^4.0.0";
import { containersFromDockerApi } from "../core/input/docker_json.ts";
import { containersFromSwarm } from "../core/input/swarm_json.ts";
import { ConfigError, DockerError, errorMessage, fileErrorReason } from "../core/errors.ts";
import type { ContainerInfo } from "../core/types.ts";
import type { DockerEndpoint } from "./docker_endpoint.ts";

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

/** The dockerode client type. */
export type Dockerode = DockerodeType;

/** One Docker Engine: a dockerode client made on first use. */
export class DockerEngine {
  #client: Promise<Dockerode> | undefined;
  #streamClient: Promise<Dockerode> | undefined;
  /** `--compat nginx-proxy`: the `VIRTUAL_*` variables of each container, by id. */
  readonly #env = new Map<string, Record<string, string> | undefined>();

  /**
   * An engine at `endpoint`; `timeoutMs` bounds each request. With `swarm`, the engine is a
   * Swarm manager and its services' tasks are listed instead of its containers (`vip`: one
   * entry per service, its virtual IP). With `inspectEnv` (`--compat nginx-proxy`), each
   * running container is inspected once for its `VIRTUAL_*` variables, cached by id.
   */
  constructor(
    readonly endpoint: DockerEndpoint,
    readonly timeoutMs = 10_000,
    readonly swarm: { vip?: boolean } | undefined = undefined,
    readonly inspectEnv = false,
  ) {}

  /** The dockerode client (dockerode is imported on the first call). */
  client(): Promise<Dockerode> {
    this.#client ??= createClient(this.endpoint, this.timeoutMs);
    return this.#client;
  }

  /** A client without a request timeout, for the long-lived event stream. */
  streamClient(): Promise<Dockerode> {
    this.#streamClient ??= createClient(this.endpoint, 0);
    return this.#streamClient;
  }

  /**
   * Lists every container with one request.
   *
   * @param engineName kept in each container's `engine` field
   * @throws {DockerError} naming the endpoint and the cause
   */
  async list(engineName = ""): Promise<ContainerInfo[]> {
    if (this.swarm) return await this.#listSwarm(engineName);
    let json: unknown;
    try {
      const client = await this.client();
      json = await client.listContainers({ all: true });
    } catch (error) {
      throw this.#failure("list containers", error);
    }
    const containers = containersFromDockerApi(json, {
      engine: engineName,
      source: this.endpoint.url,
    });
    return this.inspectEnv ? await this.#withEnv(containers) : containers;
  }

  /** Forgets what was read of container `id` (its `destroy` event). */
  forget(id: string): void {
    this.#env.delete(id);
  }

  /**
   * Adds the `VIRTUAL_*` variables to each running container: one inspect per container not
   * seen before (at most 16 at a time); the cache keeps only listed containers.
   */
  async #withEnv(containers: ContainerInfo[]): Promise<ContainerInfo[]> {
    const listed = new Set(containers.map((c) => c.id));
    for (const id of this.#env.keys()) if (!listed.has(id)) this.#env.delete(id);
    const unknown = containers.filter((c) => c.state === "running" && !this.#env.has(c.id));
    const client = unknown.length > 0 ? await this.client() : undefined;
    for (let i = 0; i < unknown.length; i += INSPECT_CONCURRENCY) {
      await Promise.all(
        unknown.slice(i, i + INSPECT_CONCURRENCY).map(async (c) => {
          try {
            this.#env.set(c.id, inspectEnv(await client!.getContainer(c.id).inspect()));
          } catch (error) {
            if ((error as { statusCode?: number }).statusCode === 404) return; // gone meanwhile
            throw this.#failure(`inspect container ${c.id.slice(0, 12)}`, error);
          }
        }),
      );
    }
    return containers.map((c) => {
      const env = this.#env.get(c.id);
      return env ? { ...c, env } : c;
    });
  }

  /** Services, running tasks and nodes of a Swarm manager: three requests. */
  async #listSwarm(engineName: string): Promise<ContainerInfo[]> {
    try {
      const client = await this.client();
      const [services, tasks, nodes] = await Promise.all([
        client.listServices(),
        client.listTasks({ filters: { "desired-state": ["running"] } }),
        client.listNodes(),
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
      await (await this.client()).getContainer(id).stop();
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 304) return; // already stopped
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
      await (await this.client()).getContainer(name).kill({ signal });
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
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

async function createClient(endpoint: DockerEndpoint, timeout: number): Promise<Dockerode> {
  const { default: Docker } = await import("npm:dockerode@^4.0.0");
  const version = endpoint.apiVersion ? { version: `v${endpoint.apiVersion}` } : {};
  const bounded = timeout > 0 ? { timeout } : {};
  if (endpoint.socketPath) {
    return new Docker({ socketPath: endpoint.socketPath, ...bounded, ...version });
  }
  const tls = endpoint.protocol === "https" ? await readTls(endpoint) : {};
  return new Docker({
    host: endpoint.host,
    port: endpoint.port,
    protocol: endpoint.protocol,
    ...bounded,
    ...version,
    ...tls,
  });
}

async function readTls(
  endpoint: DockerEndpoint,
): Promise<{ ca?: string; cert?: string; key?: string }> {
  const out: { ca?: string; cert?: string; key?: string } = {};
  for (const kind of ["ca", "cert", "key"] as const) {
    const path = endpoint.tls?.[kind];
    if (!path) continue;
    try {
      out[kind] = await Deno.readTextFile(path);
    } catch (error) {
      const why = fileErrorReason(error);
      throw new ConfigError(`Cannot read TLS ${kind} ${path} for ${endpoint.url}: ${why}`, {
        cause: error,
      });
    }
  }
  return out;
}

/** A short, human cause for a failed Docker request. */
export function describeDockerError(error: unknown): string {
  const e = error as {
    code?: string;
    statusCode?: number;
    json?: { message?: string };
    message?: string;
  };
  switch (e.code) {
    case "ENOENT":
      return "no such socket";
    case "EACCES":
    case "EPERM":
      return "permission denied (is the user in the docker group?)";
    case "ECONNREFUSED":
      return "connection refused";
    case "ECONNRESET":
      return "connection reset";
    case "ETIMEDOUT":
    case "ESOCKETTIMEDOUT":
      return "timed out";
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return "host not found";
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return "host unreachable";
  }
  const message = errorMessage(error);
  if (/certificate|self[- ]signed|tls|ssl|EPROTO|handshake/i.test(`${e.code ?? ""} ${message}`)) {
    return `TLS failure: ${message}`;
  }
  if (e.statusCode !== undefined) {
    const raw = typeof e.json === "string" ? e.json : e.json?.message ?? message;
    // dockerode prefixes "(HTTP code 400) bad parameter - " when the body has no message
    const detail = raw.replace(/^\(HTTP code \d+\) [^-]*- /, "").trim();
    if (/HTTP request to an HTTPS server/i.test(detail)) {
      return "the engine requires TLS: give the endpoint a CA, client certificate and key (DOCKER_TLS_VERIFY=1, DOCKER_CERT_PATH)";
    }
    if (/client version .* is too (new|old)|API version/i.test(detail)) {
      return `API version not supported: ${detail}`;
    }
    return `engine answered ${e.statusCode}: ${detail}`;
  }
  if (/timeout/i.test(message)) return "timed out";
  return message;
}
