/**
 * Normalizes Docker Engine API JSON into {@link ContainerInfo}. Pure.
 *
 * @module
 */
import { compare } from "../util/compare.ts";
import { isPort } from "../util/grammar.ts";
import { arr, isObject, type Json, labelsOf, num, str } from "../util/json_access.ts";
import { DockerError } from "../errors.ts";
import { compatEnv } from "./compat.ts";
import type {
  ContainerHealth,
  ContainerInfo,
  ContainerNetwork,
  ContainerPort,
  PortBinding,
} from "../types.ts";

/**
 * Normalizes Docker API JSON into containers: the array `GET /containers/json` returns
 * (summaries), `GET /containers/{id}/json` objects (inspect) or the array `docker inspect`
 * prints. A single object is taken as a one-element array. Output is sorted by name, then id.
 *
 * @example
 * ```ts
 * import { containersFromDockerApi } from "./docker_json.ts";
 * const [c] = containersFromDockerApi([{
 *   Id: "0123456789ab", Names: ["/web-1"], Image: "nginx", Labels: {}, State: "running",
 *   Status: "Up 2 minutes (healthy)", Created: 1700000000, Ports: [],
 *   NetworkSettings: { Networks: { bridge: { IPAddress: "172.17.0.2" } } },
 * }]);
 * console.log(c.name, c.health, c.networks[0].ip); // web-1 healthy 172.17.0.2
 * ```
 *
 * @param json parsed JSON
 * @param options `engine`: kept in {@link ContainerInfo.engine}; `source`: named in errors
 * @throws {DockerError} when an item is neither a summary nor an inspect object
 */
export function containersFromDockerApi(
  json: unknown,
  options: { engine?: string; source?: string } = {},
): ContainerInfo[] {
  const engine = options.engine ?? "";
  const source = options.source ?? "Docker API JSON";
  const items = Array.isArray(json) ? json : [json];
  const containers = items.map((item, index) => {
    if (!isObject(item) || typeof item.Id !== "string") {
      throw new DockerError(
        `Cannot read containers from ${source}: item ${index} is not a container (no "Id")`,
      );
    }
    if (Array.isArray(item.Names)) return fromSummary(item, engine);
    if (isObject(item.Config) && isObject(item.State)) return fromInspect(item, engine);
    throw new DockerError(
      `Cannot read containers from ${source}: item ${index} (${item.Id.slice(0, 12)}) is neither ` +
        `a /containers/json summary nor an inspect object`,
    );
  });
  return containers.sort(byNameThenId);
}

function fromSummary(item: Json, engine: string): ContainerInfo {
  const names = (item.Names as unknown[]).filter((n): n is string => typeof n === "string");
  const status = str(item.Status);
  const health = isObject(item.Health)
    ? healthOf(str(item.Health.Status))
    : healthFromStatus(status);
  const ports = new Map<string, ContainerPort>();
  for (const p of arr(item.Ports)) {
    if (!isObject(p)) continue;
    const port = num(p.PrivatePort);
    const protocol = str(p.Type) || "tcp";
    const entry = portEntry(ports, port, protocol);
    if (typeof p.PublicPort === "number") {
      entry.published.push({ hostIp: str(p.IP), hostPort: p.PublicPort });
    }
  }
  const hostConfig = isObject(item.HostConfig) ? item.HostConfig : {};
  return {
    id: item.Id as string,
    // A summary lists link aliases too (`/other/alias`); the container's own name has one slash.
    name: stripSlash(names.find((n) => n.lastIndexOf("/") === 0) ?? names[0] ?? ""),
    image: str(item.Image),
    labels: labelsOf(item.Labels),
    state: str(item.State),
    health,
    networks: networksOf(item.NetworkSettings),
    networkMode: str(hostConfig.NetworkMode),
    ports: sortPorts(ports),
    created: num(item.Created) * 1000,
    engine,
  };
}

function fromInspect(item: Json, engine: string): ContainerInfo {
  const config = item.Config as Json;
  const state = item.State as Json;
  const settings = isObject(item.NetworkSettings) ? item.NetworkSettings : {};
  const hostConfig = isObject(item.HostConfig) ? item.HostConfig : {};
  const ports = new Map<string, ContainerPort>();
  const exposed = isObject(config.ExposedPorts) ? Object.keys(config.ExposedPorts) : [];
  const bound = isObject(settings.Ports) ? settings.Ports : {};
  for (const key of [...exposed, ...Object.keys(bound)]) {
    const [port, protocol = "tcp"] = key.split("/");
    portEntry(ports, Number(port), protocol);
  }
  for (const [key, bindings] of Object.entries(bound)) {
    const [port, protocol = "tcp"] = key.split("/");
    const entry = portEntry(ports, Number(port), protocol);
    for (const b of arr(bindings)) {
      if (isObject(b)) {
        entry.published.push({ hostIp: str(b.HostIp), hostPort: Number(b.HostPort) });
      }
    }
  }
  const created = Date.parse(str(item.Created));
  const env = compatEnv(config.Env);
  return {
    id: item.Id as string,
    name: stripSlash(str(item.Name)),
    image: str(config.Image),
    labels: labelsOf(config.Labels),
    state: str(state.Status) || (state.Running === true ? "running" : "exited"),
    health: isObject(state.Health) ? healthOf(str(state.Health.Status)) : "none",
    networks: networksOf(settings),
    networkMode: str(hostConfig.NetworkMode),
    ports: sortPorts(ports),
    created: Number.isFinite(created) ? created : 0,
    engine,
    ...(env ? { env } : {}),
  };
}

function healthFromStatus(status: string): ContainerHealth {
  if (status.includes("(health: starting)")) return "starting";
  if (status.includes("(unhealthy)")) return "unhealthy";
  if (status.includes("(healthy)")) return "healthy";
  return "none";
}

function healthOf(status: string): ContainerHealth {
  return status === "starting" || status === "healthy" || status === "unhealthy" ? status : "none";
}

function networksOf(settings: unknown): ContainerNetwork[] {
  const networks = isObject(settings) && isObject(settings.Networks) ? settings.Networks : {};
  return Object.entries(networks)
    .map(([name, n]) => ({
      name,
      ip: isObject(n) ? str(n.IPAddress) : "",
      ipv6: isObject(n) ? str(n.GlobalIPv6Address) : "",
    }))
    .sort((a, b) => compare(a.name, b.name));
}

function portEntry(ports: Map<string, ContainerPort>, port: number, protocol: string) {
  const key = `${port}/${protocol}`;
  let entry = ports.get(key);
  if (!entry) {
    entry = { port, protocol, published: [] };
    ports.set(key, entry);
  }
  return entry;
}

/** The ports, sorted; a port or published port outside 1..65535 is not one (engine data). */
function sortPorts(ports: Map<string, ContainerPort>): ContainerPort[] {
  return [...ports.values()]
    .filter((p) => isPort(p.port))
    .map((p) => ({
      ...p,
      published: p.published.filter((b) => isPort(b.hostPort)).sort(byBinding),
    }))
    .sort((a, b) => a.port - b.port || compare(a.protocol, b.protocol));
}

function byBinding(a: PortBinding, b: PortBinding): number {
  return compare(a.hostIp, b.hostIp) || a.hostPort - b.hostPort;
}

function byNameThenId(a: ContainerInfo, b: ContainerInfo): number {
  return compare(a.name, b.name) || compare(a.id, b.id) || compare(a.engine, b.engine);
}

function stripSlash(name: string): string {
  return name.startsWith("/") ? name.slice(1) : name;
}
