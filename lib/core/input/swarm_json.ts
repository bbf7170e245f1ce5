/**
 * Swarm services and their tasks (from a manager: `GET /services`, `GET /tasks`,
 * `GET /nodes`) as containers, so the same labels, selection and model apply. Pure.
 *
 * Each running task becomes one container: the service's labels, the task's overlay
 * addresses as networks, its host-mode published ports bound to its node's address. With
 * `vip`, each service becomes one container instead: its virtual IP on each network.
 *
 * @module
 */
import { arr, isObject, type Json, labelsOf, obj, str } from "../util/json_access.ts";
import { isPort } from "../util/grammar.ts";
import { compare } from "../util/compare.ts";
import type { ContainerInfo, ContainerNetwork, ContainerPort } from "../types.ts";

/** What a manager answered. */
export interface SwarmListing {
  /** `GET /services`. */
  services: unknown[];
  /** `GET /tasks`. */
  tasks: unknown[];
  /** `GET /nodes`. */
  nodes: unknown[];
}

/** Options of {@link containersFromSwarm}. */
export interface SwarmOptions {
  /** One server per service: its virtual IP (`--swarm-vip`). */
  vip?: boolean;
  /** Kept in each container's `engine`. */
  engine?: string;
}

/**
 * Containers for the running tasks of every service (or one per service with `vip`). Tasks
 * on a node that is down or drained are left out (state `node-down` / `node-drain`, so
 * `explain` says why).
 *
 * @example
 * ```ts
 * import { containersFromSwarm } from "./swarm_json.ts";
 * console.log(containersFromSwarm({ services: [], tasks: [], nodes: [] }).length); // 0
 * ```
 */
export function containersFromSwarm(
  listing: SwarmListing,
  options: SwarmOptions = {},
): ContainerInfo[] {
  const services = new Map<string, Json>();
  for (const s of listing.services.filter(isObject)) services.set(str(s.ID), s);
  const nodes = new Map<string, Json>();
  for (const n of listing.nodes.filter(isObject)) nodes.set(str(n.ID), n);
  const engine = options.engine ?? "";
  if (options.vip) {
    // the service VIPs name only network ids; the tasks' attachments give the names
    const names = new Map<string, string>();
    for (const t of listing.tasks.filter(isObject)) {
      for (const a of arr(t.NetworksAttachments).filter(isObject)) {
        const net = obj(a.Network);
        names.set(str(net.ID), str(obj(net.Spec).Name));
      }
    }
    return [...services.values()].map((s) => fromService(s, names, engine));
  }
  const out: ContainerInfo[] = [];
  for (const task of listing.tasks.filter(isObject)) {
    const service = services.get(str(task.ServiceID));
    if (!service) continue;
    const status = obj(task.Status);
    if (str(task.DesiredState) !== "running" && str(status.State) !== "running") continue;
    out.push(fromTask(task, service, nodes.get(str(task.NodeID)), engine));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function fromTask(
  task: Json,
  service: Json,
  node: Json | undefined,
  engine: string,
): ContainerInfo {
  const spec = obj(service.Spec);
  const status = obj(task.Status);
  const name = `${str(spec.Name)}.${task.Slot ?? str(task.NodeID).slice(0, 12)}.${
    str(task.ID).slice(0, 12)
  }`;
  const nodeAddr = nodeAddress(node);
  const ports = portsOf(service, arr(obj(status.PortStatus).Ports), nodeAddr);
  return {
    id: str(task.ID),
    name,
    image: str(obj(obj(obj(task.Spec).ContainerSpec)).Image),
    labels: labelsOf(spec.Labels),
    state: taskState(str(status.State), node),
    health: "none",
    networks: byName(arr(task.NetworksAttachments).filter(isObject).map((a) => network(a))),
    networkMode: "swarm",
    ports,
    created: Date.parse(str(task.CreatedAt)) || 0,
    engine,
  };
}

function fromService(
  service: Json,
  networkNames: Map<string, string>,
  engine: string,
): ContainerInfo {
  const spec = obj(service.Spec);
  const endpoint = obj(service.Endpoint);
  const networks = byName(
    arr(endpoint.VirtualIPs).filter(isObject).map((v) => ({
      name: networkNames.get(str(v.NetworkID)) || str(v.NetworkID).slice(0, 12),
      ip: str(v.Addr).split("/")[0],
      ipv6: "",
    })),
  );
  return {
    id: str(service.ID),
    name: str(spec.Name),
    image: str(obj(obj(obj(spec.TaskTemplate).ContainerSpec)).Image),
    labels: labelsOf(spec.Labels),
    state: "running",
    health: "none",
    networks,
    networkMode: "swarm",
    ports: portsOf(service, [], ""),
    created: Date.parse(str(service.CreatedAt)) || 0,
    engine,
  };
}

/**
 * A node's address: `Status.Addr`; a manager that reports `0.0.0.0` there (it listens on
 * every address) is reached at its advertised `ManagerStatus.Addr` instead.
 */
function nodeAddress(node: Json | undefined): string {
  const addr = str(obj(node?.Status).Addr);
  if (addr !== "" && addr !== "0.0.0.0") return addr;
  const advertised = str(obj(node?.ManagerStatus).Addr);
  return advertised.replace(/:\d+$/, "").replace(/^\[(.*)\]$/, "$1") || addr;
}

/** A task on a node that is down or drained is not running for the balancer. */
function taskState(state: string, node: Json | undefined): string {
  if (!node) return state;
  if (str(obj(node.Status).State) === "down") return "node-down";
  if (str(obj(node.Spec).Availability) === "drain") return "node-drain";
  return state;
}

function network(attachment: Json): ContainerNetwork {
  const net = obj(attachment.Network);
  const name = str(obj(net.Spec).Name) || str(net.ID).slice(0, 12);
  const address = arr(attachment.Addresses).map(String).find((a) => !a.includes(":")) ?? "";
  return { name, ip: address.split("/")[0], ipv6: "" };
}

/** Target ports of the service; host-mode published ports of the task bound to its node. */
function portsOf(service: Json, taskPorts: unknown[], nodeAddr: string): ContainerPort[] {
  const ports = new Map<string, ContainerPort>();
  const entry = (port: number, protocol: string) => {
    const key = `${port}/${protocol}`;
    if (!ports.has(key)) ports.set(key, { port, protocol, published: [] });
    return ports.get(key)!;
  };
  for (const p of arr(obj(service.Endpoint).Ports).filter(isObject)) {
    entry(Number(p.TargetPort), str(p.Protocol) || "tcp");
  }
  for (const p of taskPorts.filter(isObject)) {
    const e = entry(Number(p.TargetPort), str(p.Protocol) || "tcp");
    if (str(p.PublishMode) === "host" && isPort(Number(p.PublishedPort))) {
      e.published.push({ hostIp: nodeAddr, hostPort: Number(p.PublishedPort) });
    }
  }
  return [...ports.values()].filter((p) => isPort(p.port)).sort((a, b) => a.port - b.port);
}

/** Networks sorted by name, as {@link ContainerInfo.networks} promises. */
function byName(networks: ContainerNetwork[]): ContainerNetwork[] {
  return networks.sort((a, b) => compare(a.name, b.name));
}
