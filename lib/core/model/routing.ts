/**
 * The routing table: which service holds each service name, listening port, and
 * (port, host, path prefix) route, with every conflict decided here and nowhere else. Pure.
 *
 * The rule is one: what was held first stays held (a service whose containers can never
 * serve as configured claims only what no one else does). A service's age is its oldest
 * container's creation time (static services count as held since start-up); a newcomer that
 * claims a name (compared without case), a port or a route already held loses that claim,
 * and the loss is reported with the holder and since when. Ties (created in the same second)
 * go by name, so the outcome is still deterministic.
 *
 * @module
 */
import { formatEndpoint } from "./address.ts";
import { compare } from "../util/compare.ts";
import { pushTo } from "../util/multimap.ts";
import { pathRegexSource } from "../util/path_regex.ts";
import type {
  HttpListener,
  Route,
  Service,
  ServiceRoute,
  TcpListener,
  VirtualHost,
} from "../types.ts";

/** A service before routing, with the time it has been held since (ms; `-Infinity`: start-up). */
export interface RoutingCandidate {
  service: Service;
  heldSince: number;
  /** True when no container of it can serve as configured: it yields to every other claim. */
  weak?: boolean;
}

/** A claim a service lost, to whom, and why. */
export interface LostClaim {
  /** The loser. */
  service: string;
  /** `conflict` (another service holds it) or `port-in-use` (another process does). */
  code: "conflict" | "port-in-use";
  /** What was lost, e.g. `host a.example.com path / on port 80`, `port 5432`, `name WEB`. */
  what: string;
  /** One line for people: what was lost to whom, since when. */
  reason: string;
}

/** The outcome of {@link buildRoutingTable}. */
export interface RoutingTable {
  /** Services that hold at least one route or tcp port, sorted by name, `routes` set. */
  services: Service[];
  /** HTTP listeners, sorted by port. */
  httpListeners: HttpListener[];
  /** TCP listeners, sorted by port. */
  tcpListeners: TcpListener[];
  /** Every claim lost, in the order decided. */
  lost: LostClaim[];
  /** Services left with no route at all, by name: the first claim they lost. */
  unrouted: Map<string, LostClaim>;
}

/** Settings of {@link buildRoutingTable}. */
export interface RoutingSettings {
  /** The default http port: held by http since start-up (it always has a listener). */
  defaultPort: number;
  /** Address the listeners bind to, `undefined`: every address. */
  listenAddress: string | undefined;
  /** With no `listenAddress`: every IPv6 address too. */
  ipv6?: boolean;
  /** Ports another process on this host holds, with a description: never claimed. */
  busyPorts?: ReadonlyMap<number, string>;
}

/**
 * Decides names, ports and routes, oldest first.
 *
 * @example
 * ```ts
 * import { buildModel } from "./model.ts";
 * // two services want the default route: the one with the older container keeps it
 * const c = (name: string, created: number) => ({
 *   id: name.padEnd(12, "0").replace(/[^0-9a-f]/g, "a"), name, image: "app",
 *   state: "running", health: "none" as const, labels: { "lbsync.service": name },
 *   networks: [{ name: "n", ip: "10.0.0.1", ipv6: "" }], networkMode: "n",
 *   ports: [{ port: 80, protocol: "tcp", published: [] }], created, engine: "",
 * });
 * const { model, skipped } = buildModel([c("new", 2000), c("old", 1000)]);
 * console.log(model.services.map((s) => s.name), skipped[0].code); // ["old"] "conflict"
 * ```
 */
export function buildRoutingTable(
  candidates: RoutingCandidate[],
  settings: RoutingSettings,
): RoutingTable {
  const ordered = [...candidates].sort(byAge);
  const lost: LostClaim[] = [];
  const lose: Lose = (c, what, holder) => {
    const to = "service" in holder
      ? { code: "conflict" as const, text: `service ${holder.service.name} (${since(holder)})` }
      : holder;
    lost.push({
      service: c.service.name,
      code: to.code,
      what,
      reason: `lost ${what} to ${to.text}`,
    });
  };
  const named = uniqueNames(ordered, lose);
  const onPort = claimPorts(named, settings, lose);
  const { routes, http, tcpListeners } = claimRoutes(onPort, settings, lose);

  const unrouted = new Map<string, LostClaim>();
  for (const claim of lost) {
    if (!routes.has(claim.service) && !unrouted.has(claim.service)) {
      unrouted.set(claim.service, claim);
    }
  }
  const services = named
    .filter((c) => routes.has(c.service.name))
    .map((c) => ({ ...c.service, routes: routes.get(c.service.name)! }))
    .sort((a, b) => compare(a.name, b.name));
  // tcp listeners carry the service with its routes, like `services`
  const final = new Map(services.map((s) => [s.name, s]));
  return {
    services,
    httpListeners: [...http.entries()]
      .sort(([a], [b]) => a - b)
      .map(([port, list]) => httpListener(port, list, settings)),
    tcpListeners: tcpListeners
      .map((l) => ({ ...l, service: final.get(l.service.name)! }))
      .sort((a, b) => a.port - b.port),
    lost,
    unrouted,
  };
}

/** Records that `c` lost `what` to `holder`. */
type Lose = (c: RoutingCandidate, what: string, holder: RoutingCandidate | Holder) => void;

/** 1. Names: unique without regard to case (nginx upstream names are case-insensitive). */
function uniqueNames(ordered: RoutingCandidate[], lose: Lose): RoutingCandidate[] {
  const byName = new Map<string, RoutingCandidate>();
  const named: RoutingCandidate[] = [];
  for (const c of ordered) {
    const key = c.service.name.toLowerCase();
    const holder = byName.get(key);
    if (holder) {
      lose(c, `name ${c.service.name} (names are compared without case)`, holder);
      continue;
    }
    byName.set(key, c);
    named.push(c);
  }
  return named;
}

/**
 * 2. Ports: the default http port is http's from start-up; others go to the first claimant
 * (http services share an http port; a tcp service has its port alone); a port another
 * process holds is lost.
 */
function claimPorts(
  named: RoutingCandidate[],
  settings: RoutingSettings,
  lose: Lose,
): RoutingCandidate[] {
  const portOwner = new Map<number, RoutingCandidate | "http">([[settings.defaultPort, "http"]]);
  const portHolders = new Map<number, RoutingCandidate>();
  const onPort: RoutingCandidate[] = [];
  for (const c of named) {
    const port = c.service.listen;
    const busy = settings.busyPorts?.get(port);
    const owner = portOwner.get(port);
    if (owner === undefined && busy !== undefined) {
      lose(c, `port ${port}`, { code: "port-in-use", text: busy });
      continue;
    }
    if (owner === undefined) {
      portOwner.set(port, c.service.mode === "http" ? "http" : c);
      if (c.service.mode === "http") portHolders.set(port, c);
      onPort.push(c);
    } else if (owner === "http" && c.service.mode === "http") {
      onPort.push(c);
    } else {
      const holder = owner === "http" ? portHolders.get(port) : owner;
      lose(
        c,
        `port ${port}`,
        holder ?? {
          code: "conflict",
          text: `the http listener on port ${port} (held since start-up)`,
        },
      );
    }
  }
  return onPort;
}

/** 3. Routes: (port, host, path) for http, to the first claimant; the port itself for tcp. */
function claimRoutes(onPort: RoutingCandidate[], settings: RoutingSettings, lose: Lose) {
  const routes = new Map<string, ServiceRoute[]>();
  const routeOwner = new Map<string, RoutingCandidate>();
  const http = new Map<number, { route: Route; host: string }[]>([[settings.defaultPort, []]]);
  const tcpListeners: TcpListener[] = [];
  for (const c of onPort) {
    const s = c.service;
    if (s.mode === "tcp") {
      routes.set(s.name, [{ port: s.listen, host: "", path: "" }]);
      tcpListeners.push({
        ...bindings(s.listen, settings.listenAddress, settings.ipv6),
        service: s,
      });
      continue;
    }
    for (const host of s.hosts.length > 0 ? s.hosts : [""]) {
      const key = `${s.listen} ${host} ${s.path}`;
      const holder = routeOwner.get(key);
      if (holder) {
        lose(
          c,
          `${host ? `host ${host}` : "the default host"} path ${s.path} on port ${s.listen}`,
          holder,
        );
        continue;
      }
      routeOwner.set(key, c);
      pushTo(routes, s.name, { port: s.listen, host, path: s.path });
      pushTo(http, s.listen, { route: routeTo(s), host });
    }
  }
  return { routes, http, tcpListeners };
}

/** Who holds a claim when it is not a service. */
interface Holder {
  code: LostClaim["code"];
  text: string;
}

/** Weak claims last; then oldest first; the same instant: by name without case, then by name. */
function byAge(a: RoutingCandidate, b: RoutingCandidate): number {
  if (Boolean(a.weak) !== Boolean(b.weak)) return a.weak ? 1 : -1;
  if (a.heldSince !== b.heldSince) return a.heldSince < b.heldSince ? -1 : 1;
  return compare(a.service.name.toLowerCase(), b.service.name.toLowerCase()) ||
    compare(a.service.name, b.service.name);
}

function since(c: RoutingCandidate): string {
  return Number.isFinite(c.heldSince)
    ? `held since ${new Date(c.heldSince).toISOString()}`
    : "held since start-up";
}

function routeTo(service: Service): Route {
  return {
    path: service.path,
    pathRegex: pathRegexSource(service.path),
    dest: service.dest,
    // (?s): a %0A in the path is a newline there, and `.` must take it too
    destPattern: service.dest && `(?s)^${service.path.replace(/[.*+]/g, "\\$&")}(.*)$`,
    service: service.name,
    backend: service.backend,
    redirectFrom: "",
    hasServers: service.hasServers,
    health: service.health,
    dnsName: service.dnsName,
    dnsPort: service.dnsPort,
    scheme: service.scheme,
    keepalive: service.keepalive,
    internalOnly: service.internalOnly,
  };
}

function httpListener(
  port: number,
  routes: { route: Route; host: string }[],
  settings: RoutingSettings,
): HttpListener {
  const byHost = new Map<string, Route[]>();
  const defaults: Route[] = [];
  for (const { route, host } of routes) {
    if (host === "") defaults.push(route);
    else pushTo(byHost, host, route);
  }
  const virtualHosts = [...byHost.entries()].sort(([a], [b]) => byHostName(a, b))
    .map(([host, list], i) => virtualHost(host, list, i));
  const defaultRoutes = withRedirects(defaults).sort(byPathPrecedence);
  const redirects = [
    ...virtualHosts.flatMap((v) => v.routes.map((r) => [v.key, r.redirectFrom])),
    ...defaultRoutes.map((r) => ["", r.redirectFrom]),
  ].filter(([, from]) => from !== "").map(([host, from]) => `${host}|${from}`);
  return {
    ...bindings(port, settings.listenAddress, settings.ipv6),
    virtualHosts,
    hasVirtualHosts: virtualHosts.length > 0,
    exactHostGroups: groupsOf(
      virtualHosts.filter((v) => v.matchKind === "str").map((v) => v.host),
    ),
    redirectGroups: groupsOf(redirects),
    hasRedirects: redirects.length > 0,
    defaultRoutes,
    hasDefaultRootRoute: defaultRoutes.some((r) => r.path === "/"),
    hasDefaultHost: false,
    defaultHostKey: "",
    internalGroups: [],
  };
}

/**
 * The service whose settings a virtual host follows (HTTPS, access): the one of its `/`
 * route, else of its first route.
 */
export function hostOwner(v: VirtualHost): string | undefined {
  return (v.routes.find((r) => r.path === "/") ?? v.routes[0])?.service;
}

/** `words` in space-joined groups of at most 50 (HAProxy reads at most 64 words a line). */
export function groupsOf(words: string[]): string[] {
  const groups: string[] = [];
  for (let i = 0; i < words.length; i += 50) groups.push(words.slice(i, i + 50).join(" "));
  return groups;
}

function virtualHost(host: string, routes: Route[], index: number): VirtualHost {
  const wildcard = host.startsWith("*.");
  const suffixWildcard = !host.startsWith("~") && host.endsWith(".*");
  const regex = host.startsWith("~");
  return {
    host,
    // an underscore: no host name has one, so no host can take a regex's key
    key: regex ? `lbsync_regex_${index}` : host,
    wildcard,
    suffixWildcard,
    regex,
    matchKind: regex ? "reg" : wildcard ? "end" : suffixWildcard ? "beg" : "str",
    matchValue: regex || wildcard ? host.slice(1) : suffixWildcard ? host.slice(0, -1) : host,
    routes: withRedirects(routes).sort(byPathPrecedence),
    hasRootRoute: routes.some((r) => r.path === "/"),
    // plain HTTP until HTTPS is decided (see tls.ts)
    httpsMode: "nohttps",
    httpOn: true,
    httpsOn: false,
    redirectToHttps: false,
    refusedHttps: false,
    acmeWebroot: "",
    nonGetRedirect: 0,
    serverTokens: "",
    hsts: "",
    isDefault: false,
    internalOnly: false,
  };
}

/**
 * nginx answers `/api` with 301 to `/api/` when `location /api/` proxies and no location
 * `/api` exists; the model says so, for HAProxy and `routeRequest` to do the same.
 */
function withRedirects(routes: Route[]): Route[] {
  const paths = new Set(routes.map((r) => r.path));
  return routes.map((r) => {
    const from = r.path.slice(0, -1);
    const proxied = r.hasServers || r.dnsPort > 0;
    return r.pathRegex === "" && r.path.endsWith("/") && from !== "" && proxied &&
        !paths.has(from)
      ? { ...r, redirectFrom: from }
      : r;
  });
}

/**
 * nginx's order: exact names (sorted), then wildcards at the start, the longest (most specific)
 * first, then wildcards at the end, the longest first, then regular expressions (`~...`,
 * sorted: tried in that order, the first match wins).
 */
function byHostName(a: string, b: string): number {
  const rank = (h: string) =>
    h.startsWith("~") ? 3 : h.startsWith("*.") ? 1 : h.endsWith(".*") ? 2 : 0;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (rank(a) === 1 || rank(a) === 2) return b.length - a.length || compare(a, b);
  return compare(a, b);
}

/**
 * Regex paths first, sorted (nginx tries its regex locations before the longest prefix, in the
 * order written, and HAProxy's rules and `route` take this order); then the longest prefix
 * first, so a prefix never shadows a longer one.
 */
function byPathPrecedence(a: Route, b: Route): number {
  const regex = Number(b.pathRegex !== "") - Number(a.pathRegex !== "");
  if (regex !== 0 || a.pathRegex !== "") return regex || compare(a.path, b.path);
  return b.path.length - a.path.length || compare(a.path, b.path);
}

/**
 * The nginx `listen` and HAProxy `bind` arguments of `port` on `address` (every IPv4 one when
 * unset, and every IPv6 one with `ipv6`: nginx's second `listen`, HAProxy's dual-stack bind).
 */
export function bindings(
  port: number,
  address: string | undefined,
  ipv6 = false,
): { port: number; nginxListen: string; nginxListen6: string; haproxyBind: string } {
  if (address === undefined) {
    return ipv6
      ? {
        port,
        nginxListen: String(port),
        nginxListen6: `[::]:${port}`,
        haproxyBind: `:::${port} v4v6`,
      }
      : { port, nginxListen: String(port), nginxListen6: "", haproxyBind: `:${port}` };
  }
  const endpoint = formatEndpoint(address, port);
  return { port, nginxListen: endpoint, nginxListen6: "", haproxyBind: endpoint };
}
