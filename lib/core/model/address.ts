/**
 * Chooses the address and port the balancer uses to reach a container. Pure.
 *
 * @module
 */
import { LabelError } from "../errors.ts";
import { isPort, parseIp, quote } from "../util/grammar.ts";
import type { AddressMode, ContainerInfo, PortBinding } from "../types.ts";

/** Where a container is reached. */
export interface Endpoint {
  address: string;
  port: number;
}

/** Inputs of {@link resolveEndpoint} besides the container. */
export interface EndpointOptions {
  mode: AddressMode;
  /** Container port that receives traffic. */
  port: number;
  /** Network chosen by label or option, if any. */
  network?: string;
  /** Host IP for published ports and host-network containers. */
  hostIp?: string;
  /**
   * On several networks and none chosen: the first by name (nginx-proxy's way, under
   * `--compat nginx-proxy`) instead of refusing the container.
   */
  firstNetwork?: boolean;
  /** On a network that gives both, its IPv6 address (`--prefer-ipv6`). */
  preferIpv6?: boolean;
  /** The networks the balancer is on, when it is not on all (`--balancer-container`). */
  reachable?: ReadonlySet<string>;
}

const ANY_ADDRESS = new Set(["", "0.0.0.0", "::"]);

/**
 * The address and port of a container, by the rules of the `--address` modes.
 *
 * @throws {LabelError} with a one-line reason when the container cannot be reached
 */
export function resolveEndpoint(c: ContainerInfo, options: EndpointOptions): Endpoint {
  const hostNetwork = c.networkMode === "host";
  if (hostNetwork) return { address: options.hostIp ?? "127.0.0.1", port: options.port };
  return options.mode === "published" ? publishedEndpoint(c, options) : networkEndpoint(c, options);
}

function networkEndpoint(c: ContainerInfo, given: EndpointOptions): Endpoint {
  const options = withReachableNetworks(c, given);
  const names = c.networks.map((n) => n.name);
  let network = c.networks[0];
  if (options.network !== undefined) {
    const found = c.networks.find((n) => n.name === options.network);
    if (!found) {
      throw new LabelError(
        `not on network ${quote(options.network)} (on: ${names.join(", ") || "none"})`,
        NO_ADDRESS,
      );
    }
    network = found;
  } else if (c.networks.length > 1 && options.firstNetwork) {
    // the first by name (networks come sorted), the same on every run; never Swarm's routing
    // mesh, as nginx-proxy
    network = c.networks.find((n) => (n.ip || n.ipv6) && n.name !== "ingress") ?? network;
  } else if (c.networks.length > 1) {
    throw new LabelError(
      `on several networks (${names.join(", ")}): choose one with lbsync.network`,
      { ...NO_ADDRESS, hint: { setting: "network" } },
    );
  }
  if (!network) {
    throw new LabelError("on no network: use published ports or host networking", {
      ...NO_ADDRESS,
      hint: { setting: "address", value: "published" },
    });
  }
  const ip = options.preferIpv6 ? network.ipv6 || network.ip : network.ip || network.ipv6;
  if (!ip) throw new LabelError(`has no IP address on network ${quote(network.name)}`, NO_ADDRESS);
  return { address: parseIp(ip), port: options.port };
}

/**
 * With the balancer's networks known and none chosen: the container's networks it shares with
 * the balancer, the one of them when only one, else the first by name.
 *
 * @throws {LabelError} when the container shares no network with the balancer
 */
function withReachableNetworks(c: ContainerInfo, options: EndpointOptions): EndpointOptions {
  if (options.reachable === undefined || options.network !== undefined) return options;
  const shared = c.networks.filter((n) => options.reachable!.has(n.name));
  if (shared.length === 0) {
    throw new LabelError(
      `on no network the balancer is on (container on: ${
        c.networks.map((n) => n.name).join(", ") || "none"
      }; balancer on: ${[...options.reachable].join(", ") || "none"})`,
      { ...NO_ADDRESS, hint: { setting: "network" } },
    );
  }
  return { ...options, network: shared[0].name };
}

function publishedEndpoint(c: ContainerInfo, options: EndpointOptions): Endpoint {
  const port = c.ports.find((p) => p.port === options.port && p.protocol === "tcp");
  const binding = port && preferIpv4(port.published);
  if (!binding) throw new LabelError(`port ${options.port}/tcp is not published`, NO_ADDRESS);
  const hostIp = options.hostIp ??
    (ANY_ADDRESS.has(binding.hostIp) ? "127.0.0.1" : binding.hostIp);
  if (!isPort(binding.hostPort)) {
    throw new LabelError(`port ${options.port}/tcp has no valid published port`, NO_ADDRESS);
  }
  return { address: parseIp(hostIp), port: binding.hostPort };
}

function preferIpv4(bindings: PortBinding[]): PortBinding | undefined {
  return bindings.find((b) => !b.hostIp.includes(":")) ?? bindings[0];
}

const NO_ADDRESS = { code: "no-address" } as const;

/** `address:port`, with brackets around an IPv6 address (a valid IP with a colon). */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}
