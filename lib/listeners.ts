/**
 * Turns services into listeners: HTTP ports with virtual hosts and routes, TCP ports with
 * their service. Route and port conflicts are resolved by service name order. Pure.
 *
 * @module
 */
import { formatEndpoint } from "./address.ts";
import { compare } from "./compare.ts";
import { pushTo } from "./multimap.ts";
import type { HttpListener, Route, Service, TcpListener, VirtualHost } from "./types.ts";

/** HTTP and TCP listeners of a model, sorted by port. */
export interface Listeners {
  httpListeners: HttpListener[];
  tcpListeners: TcpListener[];
}

/**
 * Builds the listeners. On a conflict (same host and path on one port, or two services on
 * one TCP port) a service with servers beats one without, then the first by name keeps it;
 * a warning names the other. The default HTTP port always has a listener (answering 404
 * without services), so the configuration is valid and startable with no containers.
 */
export function buildListeners(
  services: Service[],
  defaultPort: number,
  listenAddress: string | undefined,
  warnings: string[],
): Listeners {
  const ordered = [...services].sort((a, b) =>
    Number(b.hasServers) - Number(a.hasServers) || compare(a.name, b.name)
  );
  const http = new Map<number, Service[]>([[defaultPort, []]]);
  for (const s of ordered.filter((s) => s.mode === "http")) {
    pushTo(http, s.listen, s);
  }
  const httpListeners = [...http.entries()]
    .sort(([a], [b]) => a - b)
    .map(([port, list]) => httpListener(port, list, listenAddress, warnings));

  const tcpListeners: TcpListener[] = [];
  const taken = new Map<number, string>([...http.keys()].map((p) => [p, "http"]));
  for (const service of ordered.filter((s) => s.mode === "tcp")) {
    const owner = taken.get(service.listen);
    if (owner !== undefined) {
      warnings.push(
        `service ${service.name}: port ${service.listen} is already used by ${
          owner === "http" ? "http services" : `service ${owner}`
        }; not listening`,
      );
      continue;
    }
    taken.set(service.listen, service.name);
    tcpListeners.push({ ...bindings(service.listen, listenAddress), service });
  }
  tcpListeners.sort((a, b) => a.port - b.port);
  return { httpListeners, tcpListeners };
}

function httpListener(
  port: number,
  services: Service[],
  listenAddress: string | undefined,
  warnings: string[],
): HttpListener {
  const byHost = new Map<string, Route[]>();
  const defaults: Route[] = [];
  const owners = new Map<string, string>();
  for (const service of services) {
    const route: Route = {
      path: service.path,
      service: service.name,
      hasServers: service.hasServers,
      health: service.health,
      dnsName: service.dnsName,
      dnsPort: service.dnsPort,
    };
    for (const host of service.hosts.length > 0 ? service.hosts : [""]) {
      const key = `${host} ${service.path}`;
      const owner = owners.get(key);
      if (owner !== undefined) {
        warnings.push(
          `service ${service.name}: ${host || "default host"} ${service.path} on port ${port} ` +
            `is already routed to service ${owner}; route dropped`,
        );
        continue;
      }
      owners.set(key, service.name);
      if (host === "") defaults.push(route);
      else pushTo(byHost, host, route);
    }
  }
  const virtualHosts = [...byHost.entries()].map(([host, routes]) => virtualHost(host, routes));
  virtualHosts.sort(byHostPrecedence);
  const defaultRoutes = defaults.sort(byPathPrecedence);
  return {
    ...bindings(port, listenAddress),
    virtualHosts,
    defaultRoutes,
    hasDefaultRootRoute: defaultRoutes.some((r) => r.path === "/"),
  };
}

function virtualHost(host: string, routes: Route[]): VirtualHost {
  const wildcard = host.startsWith("*.");
  return {
    host,
    wildcard,
    matchKind: wildcard ? "end" : "str",
    matchValue: wildcard ? host.slice(1) : host,
    routes: routes.sort(byPathPrecedence),
    hasRootRoute: routes.some((r) => r.path === "/"),
  };
}

/** Exact names first (sorted), then wildcards, the longest (most specific) first. */
function byHostPrecedence(a: VirtualHost, b: VirtualHost): number {
  if (a.wildcard !== b.wildcard) return a.wildcard ? 1 : -1;
  if (a.wildcard) return b.host.length - a.host.length || compare(a.host, b.host);
  return compare(a.host, b.host);
}

/** Longest path first, so a prefix never shadows a longer one. */
function byPathPrecedence(a: Route, b: Route): number {
  return b.path.length - a.path.length || compare(a.path, b.path);
}

function bindings(port: number, address: string | undefined) {
  if (address === undefined) return { port, nginxListen: String(port), haproxyBind: `:${port}` };
  const endpoint = formatEndpoint(address, port);
  return { port, nginxListen: endpoint, haproxyBind: endpoint };
}
