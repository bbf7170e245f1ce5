/**
 * Builds the backend model from containers. Pure: the same containers and options give
 * the same model, byte for byte once rendered.
 *
 * @module
 */
import { DEFAULTS } from "../defaults.ts";
import { dnsFields } from "./dns_names.ts";
import { withHttps } from "./tls.ts";
import { withOperatorFiles } from "./operator_files.ts";
import { MULTIPORTS_REFUSED, withNginxProxyLabels } from "../input/compat.ts";
import { formatEndpoint } from "./address.ts";
import { compare } from "../util/compare.ts";
import { pushTo } from "../util/multimap.ts";
import type { SkipCode } from "../errors.ts";
import { sha1 } from "../util/sha1.ts";
import { RESERVED_NAME_PREFIX } from "../util/grammar.ts";
import { haproxyLocation, parseDefaultRoot } from "./default_root.ts";
import { finalizeModelOptions, type ModelSettings } from "./model_settings.ts";
import { KEEPALIVE_AUTO, type LabelMemo } from "./labels.ts";
import { GENERATION_HOST, GENERATION_TOKEN } from "../util/generation.ts";
import {
  buildRoutingTable,
  groupsOf,
  hostOwner,
  type RoutingCandidate,
  type RoutingTable,
} from "./routing.ts";
import {
  type Member,
  selectContainerServices,
  SERVICE_LEVEL,
  type ServiceSettings,
} from "./select.ts";
import type {
  Balance,
  ContainerInfo,
  ErrorPage,
  HttpListener,
  Model,
  ModelOptions,
  ModelResult,
  Server,
  Service,
  SkippedContainer,
} from "../types.ts";

/**
 * Decides which containers are backends and builds the model that templates render.
 * `skipped` names every candidate left out and why; `warnings` reports conflicts that were
 * resolved (the oldest container's service-level labels win).
 *
 * @example
 * ```ts
 * import { buildModel } from "./model.ts";
 * const { model, skipped } = buildModel([{
 *   id: "a1b2c3d4e5f6a1b2", name: "web-1", image: "app", state: "running", health: "none",
 *   labels: { "lbsync.service": "web", "lbsync.host": "example.com" },
 *   networks: [{ name: "app", ip: "10.0.0.5", ipv6: "" }], networkMode: "app",
 *   ports: [{ port: 8080, protocol: "tcp", published: [] }], created: 0, engine: "",
 * }]);
 * console.log(model.services[0].servers[0].endpoint, skipped.length); // 10.0.0.5:8080 0
 * ```
 *
 * @throws {ConfigError} when an option is invalid (e.g. `hostIp` is not an IP)
 */
export function buildModel(containers: ContainerInfo[], given: ModelOptions = {}): ModelResult {
  const balancer = balancerNetworks(containers, given.balancerContainer);
  const options = { ...finalizeModelOptions(given), reachableNetworks: balancer.networks };
  const selected = selectAll(containers, options);
  const { skipped, warnings } = selected;
  if (balancer.warning) warnings.push(balancer.warning);
  const candidates = routingCandidates(selected, options);
  const table = buildRoutingTable(candidates, {
    defaultPort: options.listen,
    ipv6: options.enableIpv6,
    listenAddress: options.listenAddress,
    busyPorts: withHttpsPort(options),
  });
  for (const claim of table.lost) warnings.push(`service ${claim.service}: ${claim.reason}`);
  const model = modelOf(table, options);
  for (const s of options.certificates ? model.httpServices : []) {
    if (s.httpsListen > 0 && s.listen !== options.listen) {
      warnings.push(
        `service ${s.name}: ${options.labelPrefix}.httpslisten=${s.httpsListen} has no effect: HTTPS serves the hosts of port ${options.listen} (--listen) only, and its hosts are on port ${s.listen}`,
      );
    }
  }
  const defaultListener = model.httpListeners.find((l) => l.port === (options.listen));
  if (options.defaultHost !== undefined && !defaultListener?.hasDefaultHost) {
    warnings.push(
      `default host ${options.defaultHost}: no service routes it over HTTP; unknown hosts get ${model.unknownHostStatus}`,
    );
  }
  skipped.push(...unroutedServers(candidates, table));
  skipped.sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
  if (options.compat === "nginx-proxy") model.refusedNotes = multiportsNotes(skipped);
  return { model, skipped, warnings };
}

/** The ports others hold, and with HTTPS on, the HTTPS port, which lbsync's listener holds. */
function withHttpsPort(options: ModelSettings): ReadonlyMap<number, string> | undefined {
  if (!options.certificates) return options.busyPorts;
  const port = options.httpsListen;
  return new Map([...(options.busyPorts ?? []), [port, "lbsync's HTTPS listener"]]);
}

/**
 * The listener with `--default-host` marked: that virtual host, when it is there and served
 * over HTTP, takes the requests for unknown hosts.
 */
function withDefaultHost(listener: HttpListener, options: ModelSettings): HttpListener {
  const name = options.defaultHost;
  const target = listener.virtualHosts.find((v) => v.host === name && v.httpOn);
  if (name === undefined || !target) return listener;
  return {
    ...listener,
    virtualHosts: listener.virtualHosts.map((v) => v === target ? { ...v, isDefault: true } : v),
    hasDefaultHost: true,
    defaultHostKey: target.key,
  };
}

/**
 * The host-level settings of each virtual host's service (the one of its `/` route, else its
 * first): `lbsync.access=internal`, whose keys are listed for HAProxy, and
 * `lbsync.servertokens`. Under `--compat nginx-proxy` access stays with each route, as
 * nginx-proxy's `NETWORK_ACCESS` guards the locations of its container only (each route of an
 * internal service is guarded in either mode: {@link Route.internalOnly}).
 */
function withOwnerSettings(
  listener: HttpListener,
  services: Service[],
  options: ModelSettings,
): HttpListener {
  const byName = new Map(services.map((s) => [s.name, s]));
  const hostWide = options.compat !== "nginx-proxy";
  const virtualHosts = listener.virtualHosts.map((v) => {
    const owner = byName.get(hostOwner(v) ?? "");
    const internal = hostWide && !!owner?.internalOnly;
    if (!owner || (!internal && owner.serverTokens === "")) return v;
    return {
      ...v,
      internalOnly: v.internalOnly || internal,
      serverTokens: owner.serverTokens,
    };
  });
  const keys = virtualHosts.filter((v) => v.internalOnly).map((v) => v.key);
  return keys.length === 0
    ? { ...listener, virtualHosts }
    : { ...listener, virtualHosts, internalGroups: groupsOf(keys) };
}

const NGINX_BALANCE: Record<Balance, [http: string, stream: string]> = {
  roundrobin: ["", ""],
  leastconn: ["least_conn", "least_conn"],
  // the whole client address, as HAProxy's balance source (ip_hash takes 3 bytes of IPv4)
  source: ["hash $remote_addr", "hash $remote_addr consistent"],
  random: ["random", "random"],
};

/**
 * A service's balancing, for both balancers. nginx cannot hash or pick at random with backup
 * servers: a service that has them is balanced round robin, with a warning, on both.
 */
function balanceOf(
  name: string,
  wanted: Balance,
  servers: Server[],
  warnings: string[],
): Pick<Service, "balance" | "nginxBalance" | "nginxStreamBalance"> {
  let balance = wanted;
  if ((wanted === "source" || wanted === "random") && servers.some((s) => s.backup)) {
    warnings.push(
      `service ${name}: balance ${wanted} cannot be used with backup servers; using roundrobin`,
    );
    balance = "roundrobin";
  }
  const [nginxBalance, nginxStreamBalance] = NGINX_BALANCE[balance];
  return { balance, nginxBalance, nginxStreamBalance };
}

/** Every container's selections: the members of each service, and those left out. */
interface Selected {
  members: Map<string, Member[]>;
  /** Settings of services whose containers are out, by service (they may still claim routes). */
  fallbacks: Map<string, ServiceSettings[]>;
  /** Services with a container that is only down: they hold their routes while it is. */
  holding: Set<string>;
  skipped: SkippedContainer[];
  warnings: string[];
}

function selectAll(containers: ContainerInfo[], options: ModelSettings): Selected {
  const selected: Selected = {
    members: new Map(),
    fallbacks: new Map(),
    holding: new Set(),
    skipped: [],
    warnings: [],
  };
  const memo: LabelMemo = new Map();
  const prefix = options.labelPrefix;
  for (const listed of containers) {
    const c = options.compat === "nginx-proxy" ? withNginxProxyLabels(listed, prefix) : listed;
    for (const selection of selectContainerServices(c, options, memo)) {
      if (selection.kind === "ignored") continue;
      if (selection.warnings.length > 0) selected.warnings.push(...selection.warnings);
      if (selection.kind === "member") {
        pushTo(selected.members, selection.member.service, selection.member);
        continue;
      }
      selected.skipped.push(selection.skipped);
      // a container created and not started yet is about to change: it makes no service of
      // its own until it runs (else its start would cost two applies: 0 servers, then 1)
      if (selection.settings && c.state !== "created") {
        pushTo(selected.fallbacks, selection.settings.service, selection.settings);
        if (HOLDS_ROUTES.has(selection.skipped.code)) {
          selected.holding.add(selection.settings.service);
        }
      }
    }
  }
  return selected;
}

/** The model's fields for `--default-root` (see {@link Model.unknownPathStatus}). */
function unknownPathAnswer(defaultRoot: string | undefined) {
  const { status, location } = parseDefaultRoot(defaultRoot ?? "404");
  return {
    unknownPathStatus: status,
    unknownPathLocation: location,
    unknownPathReturn: location ? `${status} ${location}` : String(status),
    unknownPathHaproxyLocation: haproxyLocation(location),
    hasUnknownPathAnswer: status !== 0,
  };
}

/** The upstream / backend name of a service (see {@link ModelSettings.hostNamedBackends}). */
function backendName(name: string, options: ModelSettings): string {
  // a regex host's name is its SHA-1 under compat already, as nginx-proxy's
  const hashed = /^[0-9a-f]{40}(?:-[0-9a-f]{40})?$/.test(name);
  if (options.sha1UpstreamNames && options.compat === "nginx-proxy" && !hashed) {
    // nginx-proxy's SHA1_UPSTREAM_NAME: the host's SHA-1; a path's SHA-1 stays after the -
    const [, host, path] = /^(.*?)(-[0-9a-f]{40})?$/.exec(name)!;
    return `${sha1(host)}${path ?? ""}`;
  }
  const hostLike = hashed || (name.includes(".") && !/^[0-9.]+$/.test(name));
  return options.hostNamedBackends && hostLike ? name : `${options.namePrefix}${name}`;
}

/** Each service, built, with its age and whether it may only take what no one claims. */
function routingCandidates(selected: Selected, options: ModelSettings): RoutingCandidate[] {
  const { members, fallbacks, holding, skipped, warnings } = selected;
  const statics = staticMembers(options);
  const names = [...new Set([...members.keys(), ...fallbacks.keys(), ...statics.keys()])].sort(
    compare,
  );
  const candidates = names.map((name): RoutingCandidate => {
    const fixed = statics.get(name) ?? [];
    const out = fallbacks.get(name) ?? [];
    const heldSince = fixed.length > 0
      ? -Infinity
      : Math.min(oldest(members.get(name)), oldest(out));
    const weak = fixed.length === 0 && !members.has(name) && !holding.has(name);
    const service = members.has(name)
      ? buildService(name, [...retireOlder(name, members.get(name)!, skipped), ...fixed], warnings)
      // a static service merges with a discovered one whose containers are all out, too
      : buildService(name, [...out, ...fixed], []);
    service.backend = backendName(name, options);
    return { service, heldSince, weak };
  });
  uniqueBackends(candidates, options);
  return options.nginxDns
    ? candidates.map((c) => ({ ...c, service: { ...c.service, ...dnsFields(c.service) } }))
    : candidates;
}

/**
 * A backend name without the prefix (nginx-proxy's host or SHA-1 names) that another service
 * already has goes to the younger one with lbsync's reserved prefix, so no container can take
 * an older service's upstream name (a label `lbsync.service` of a host's SHA-1, say).
 */
function uniqueBackends(candidates: RoutingCandidate[], options: ModelSettings): void {
  const taken = new Set<string>();
  const byAge = [...candidates].sort((a, b) =>
    a.heldSince - b.heldSince || compare(a.service.name, b.service.name)
  );
  for (const { service } of byAge) {
    const own = service.backend.toLowerCase();
    if (taken.has(own) && service.backend !== `${options.namePrefix}${service.name}`) {
      service.backend = `${RESERVED_NAME_PREFIX}${service.name}`;
    }
    taken.add(service.backend.toLowerCase());
  }
}

/** The servers of services that lost every route: out, with the reason of the loss. */
function unroutedServers(
  candidates: RoutingCandidate[],
  table: RoutingTable,
): SkippedContainer[] {
  const out: SkippedContainer[] = [];
  for (const { service } of candidates) {
    const claim = table.unrouted.get(service.name);
    if (!claim) continue;
    for (const server of service.servers) {
      out.push({
        id: server.containerId,
        name: server.name,
        engine: server.engine,
        service: service.name,
        code: claim.code,
        reason: claim.reason,
      });
    }
  }
  return out;
}

/** The model the templates render, from the routing table. */
function modelOf(table: RoutingTable, options: ModelSettings): Model {
  const { services, tcpListeners } = table;
  const defaultPort = options.listen;
  const files = options.operatorFiles;
  const httpListeners = table.httpListeners.map((l) => {
    const listener = withOwnerSettings(
      l.port === defaultPort ? withDefaultHost(withHttps(l, services, options), options) : l,
      services,
      options,
    );
    return files ? withOperatorFiles(listener, files) : listener;
  });
  const hosts = httpListeners.flatMap((l) => l.virtualHosts.map((v) => v.host));
  return {
    services,
    httpServices: services.filter((s) => s.mode === "http"),
    tcpServices: services.filter((s) => s.mode === "tcp"),
    httpListeners,
    tcpListeners,
    hasHttp: httpListeners.length > 0,
    hasTcp: tcpListeners.length > 0,
    hasHttps: httpListeners.some((l) => l.httpsListener !== undefined),
    tlsOn: options.certificates !== undefined,
    acmeChallenge: options.acmeChallenge ?? "",
    defaultServerTokens: options.compat === "nginx-proxy" ? "off" : "",
    implicitDefaultServer: options.compat === "nginx-proxy",
    redirectSparesAcme: options.compat !== "nginx-proxy" || !!options.acmeChallenge,
    acmeWebrootUnknownHosts: options.acmeWebrootUnknownHosts && !options.acmeChallenge
      ? options.acmeWebroot ?? ""
      : "",
    internalNetworks: [...options.internalNetworks],
    refusedNotes: [],
    ...(files?.proxyConf ? { proxyConf: files.proxyConf } : {}),
    ...(files?.dhparam ? { dhparam: files.dhparam } : {}),
    ...unknownHostPages(files?.errorPage, options),
    ...(files?.networkInternalConf ? { networkInternalConf: files.networkInternalConf } : {}),
    ...serverNamesHash(hosts),
    haproxySocket: options.haproxySocket ?? "",
    unknownHostStatus: unknownHostStatusOf(options),
    ...unknownPathAnswer(options.defaultRoot),
    nginxResolver: options.nginxDns ?? "",
    resolvers: (options.resolvers ?? []).join(" "),
    connectTimeout: `${options.connectTimeoutMs}ms`,
    trustDownstreamProxy: options.trustDownstreamProxy ?? false,
    proxyProtocol: options.proxyProtocol ?? false,
    generation: GENERATION_TOKEN,
    generationHost: GENERATION_HOST,
    generationAllow: options.listenAddress ?? "",
  };
}

/** Statuses nginx-proxy's error page answers (`error_page 500 502 503 504`). */
const ERROR_PAGE_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** What HAProxy's `http-request return ... file` holds: its buffer, less room for headers. */
const HAPROXY_PAGE_BYTES = 12 * 1024;

/**
 * `--error-page` as the model's answers to unknown hosts: only when that answer is a 50x
 * (`--compat nginx-proxy`'s 503), as nginx-proxy's fallback server uses it.
 */
function unknownHostPages(
  page: ErrorPage | undefined,
  options: ModelSettings,
): Pick<Model, "unknownHostPage" | "haproxyUnknownHostPage"> {
  if (!page || !ERROR_PAGE_STATUSES.has(unknownHostStatusOf(options))) return {};
  const file = { path: page.path, version: page.version };
  return {
    unknownHostPage: file,
    ...(page.bytes <= HAPROXY_PAGE_BYTES ? { haproxyUnknownHostPage: file } : {}),
  };
}

/** 404 for a host no service names, 503 under `--compat nginx-proxy` (its default server's). */
function unknownHostStatusOf(options: ModelSettings): number {
  return options.compat === "nginx-proxy" ? 503 : 404;
}

/** The default of {@link ModelOptions.namePrefix}. */
export const DEFAULT_NAME_PREFIX: string = DEFAULTS.namePrefix;

/**
 * Why a container may be out while its service still holds its routes (answering 503), so
 * that no newcomer takes them while it is down. A service whose containers can never serve
 * as configured (bad labels, no address) claims its routes only where no one else does.
 */
const HOLDS_ROUTES: ReadonlySet<SkipCode> = new Set(["not-running", "unhealthy", "not-ready"]);

/** Service-level settings: the oldest container's value wins. */
const LABEL_OF: Record<(typeof SERVICE_LEVEL)[number], string> = {
  mode: "mode",
  hosts: "host",
  path: "path",
  dest: "dest",
  listen: "listen",
  health: "health",
  rollover: "rollover",
  https: "https",
  hsts: "hsts",
  certName: "cert",
  acme: "acme",
  acmeWebroot: "acmewebroot",
  nonGetRedirect: "nongetredirect",
  trustDefaultCert: "trustdefaultcert",
  httpOnMissingCert: "httponmissingcert",
  sslVerifyClient: "sslverifyclient",
  serverTokens: "servertokens",
  httpsListen: "httpslisten",
  internalOnly: "access",
  balance: "balance",
  keepalive: "keepalive",
  scheme: "proto",
};

/**
 * The networks of the balancer's own container (`--balancer-container`, an id prefix or a
 * name), found among `containers`; none when it is on the host's network (it reaches every
 * container) or not given. Not found: a warning, and every network counts as reachable.
 */
function balancerNetworks(
  containers: ContainerInfo[],
  id: string | undefined,
): { networks?: ReadonlySet<string>; warning?: string } {
  if (id === undefined || id === "") return {};
  const self = containers.find((c) => c.name === id || (id.length >= 12 && c.id.startsWith(id)));
  if (!self) {
    return {
      warning: `balancer container ${
        JSON.stringify(id)
      } is not among the engines' containers: a container on several networks is reached on the first by name`,
    };
  }
  if (self.networkMode === "host") return {};
  return { networks: new Set(self.networks.map((n) => n.name)) };
}

/**
 * The containers refused for their `VIRTUAL_HOST_MULTIPORTS`, as comments of the config can
 * carry them: every character outside printable ASCII made `?`, so no text breaks a line.
 */
function multiportsNotes(skipped: SkippedContainer[]): { name: string; reason: string }[] {
  const printable = (text: string) => text.replace(/[^\x20-\x7e]/g, "?");
  return skipped.filter((s) => s.reason.startsWith(MULTIPORTS_REFUSED))
    .map((s) => ({ name: printable(s.name), reason: printable(s.reason) }));
}

/**
 * Rollover: when a service rolls over, only its newest container serves (every member is
 * ready: the others were skipped before). The older ones are retired, with the reason.
 */
function retireOlder(name: string, members: Member[], skipped: SkippedContainer[]): Member[] {
  if (!members.some((m) => m.rollover)) return members;
  const newest = members.reduce((a, b) => (b.container.created > a.container.created ? b : a));
  // Created at the same instant (container summaries count whole seconds): the order is
  // unknown, so none of them retires the other.
  const keep = members.filter((m) => m.container.created === newest.container.created);
  for (const m of members) {
    if (keep.includes(m)) continue;
    const c = m.container;
    skipped.push({
      id: c.id,
      name: c.name,
      engine: c.engine,
      service: name,
      code: "retired",
      reason: `retired by rollover: ${newest.container.name} is newer and ready`,
    });
  }
  return keep;
}

/**
 * A service from its members; from the settings of skipped containers (and no servers)
 * when every container of it is out.
 */
function buildService(
  name: string,
  members: (Member | ServiceSettings)[],
  warnings: string[],
): Service {
  const byAge = [...members].sort((a, b) =>
    a.container.created - b.container.created || compare(a.container.id, b.container.id)
  );
  const oldest = byAge[0];
  for (const field of SERVICE_LEVEL) {
    const want = oldest[field];
    // static servers join the service as discovered: their settings never conflict
    const differs = (m: Member | ServiceSettings) =>
      !("static" in m && m.static) && !sameValue(m[field], want);
    if (!byAge.some(differs)) continue;
    const others = byAge.filter(differs).map((m) => m.container.name);
    warnings.push(
      `service ${name}: ${others.join(", ")} disagree${others.length === 1 ? "s" : ""} on ` +
        `${LABEL_OF[field]}; using ${
          JSON.stringify(String(want))
        } of ${oldest.container.name}, the oldest`,
    );
  }
  const servers = serversOf(members.filter((m): m is Member => "address" in m));
  // Only backup servers left (e.g. a maintenance page): they serve as primaries, since
  // nginx refuses an upstream with backup servers only.
  if (servers.every((s) => s.backup)) servers.forEach((s) => s.backup = false);
  return {
    name,
    backend: name,
    routes: [],
    mode: oldest.mode,
    hosts: oldest.hosts,
    path: oldest.path,
    dest: oldest.dest,
    destOffset: oldest.dest ? oldest.path.length : 0,
    listen: oldest.listen,
    health: oldest.health,
    hasHealth: oldest.health !== "",
    rollover: oldest.rollover,
    servers,
    hasServers: servers.length > 0,
    dnsName: "",
    dnsPort: 0,
    https: oldest.https,
    hsts: oldest.hsts,
    certName: oldest.certName,
    acme: oldest.acme,
    acmeWebroot: oldest.acmeWebroot,
    nonGetRedirect: oldest.nonGetRedirect,
    trustDefaultCert: oldest.trustDefaultCert,
    httpOnMissingCert: oldest.httpOnMissingCert,
    sslVerifyClient: oldest.sslVerifyClient,
    serverTokens: oldest.serverTokens,
    httpsListen: oldest.httpsListen,
    internalOnly: oldest.internalOnly,
    ...balanceOf(name, oldest.balance, servers, warnings),
    keepalive: oldest.keepalive === KEEPALIVE_AUTO ? 2 * servers.length : oldest.keepalive,
    scheme: oldest.scheme,
    backendTls: oldest.scheme === "https",
  };
}

function serversOf(members: Member[]): Server[] {
  const count = new Map<string, number>();
  for (const m of members) count.set(m.container.name, (count.get(m.container.name) ?? 0) + 1);
  const servers = members
    .map((m): Server => {
      const id = m.container.id.slice(0, 12);
      // Same name on two engines: the short id keeps server names unique.
      const name = count.get(m.container.name)! > 1
        ? `${m.container.name}-${id}`
        : m.container.name;
      return {
        name,
        id,
        containerId: m.container.id,
        engine: m.container.engine,
        address: m.address,
        port: m.port,
        endpoint: formatEndpoint(m.address, m.port),
        weight: m.weight,
        backup: m.backup,
        state: "up",
        static: m.static === true,
      };
    })
    .sort((a, b) =>
      compare(a.name, b.name) || compare(a.containerId, b.containerId) ||
      compare(a.engine, b.engine)
    );
  // The same container listed through two endpoints of one engine: number the repeats.
  const used = new Set<string>();
  for (const server of servers) {
    let name = server.name;
    for (let n = 2; used.has(name); n++) name = `${server.name}-${n}`;
    server.name = name;
    used.add(name);
  }
  return servers;
}

/** The oldest creation time among `settings` (Infinity for none). */
function oldest(settings: ServiceSettings[] | undefined): number {
  let min = Infinity;
  for (const s of settings ?? []) if (s.container.created < min) min = s.container.created;
  return min;
}

/** nginx hash sizes that fit every host name, so nginx never warns or refuses to start. */
function serverNamesHash(hosts: string[]): {
  serverNamesHashBucketSize: number;
  serverNamesHashMaxSize: number;
} {
  const longest = hosts.reduce((max, h) => Math.max(max, h.length), 0);
  // One hash element is a pointer, the name and 2 bytes, pointer-aligned; a bucket ends
  // with a pointer. Room for 4 of the longest per bucket, so nginx finds a hash size
  // without collisions overflowing a bucket; then enough buckets for every name.
  const element = 8 + Math.ceil((longest + 2) / 8) * 8;
  return {
    serverNamesHashBucketSize: Math.max(64, nextPowerOfTwo(4 * element + 8)),
    serverNamesHashMaxSize: Math.max(512, nextPowerOfTwo(new Set(hosts).size * 2)),
  };
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Equal settings: the same primitive, or arrays with the same items (host lists). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((item, i) => item === b[i]);
}

/**
 * The fixed servers of static services as members, by service name. They come after every
 * container in age, so a discovered service's own settings win when both exist.
 */
function staticMembers(options: ModelSettings): Map<string, Member[]> {
  const out = new Map<string, Member[]>();
  for (const service of options.staticServices ?? []) {
    for (const server of service.servers) {
      const name = `${server.host}-${server.port}`.replace(/[^A-Za-z0-9_.-]/g, "_");
      pushTo(out, service.name, {
        container: {
          id: `static:${service.name}:${server.host}:${server.port}`,
          name,
          image: "",
          labels: {},
          state: "running",
          health: "none",
          networks: [],
          networkMode: "static",
          ports: [],
          created: Number.MAX_SAFE_INTEGER,
          engine: "",
        },
        static: true,
        service: service.name,
        mode: service.mode ?? "http",
        hosts: service.mode === "tcp" ? [] : service.hosts ?? [],
        path: service.mode === "tcp" ? "" : service.path ?? "/",
        listen: service.listen ?? options.listen,
        health: service.health ?? "",
        rollover: false,
        https: service.https ?? "",
        hsts: "",
        certName: "",
        acme: false,
        acmeWebroot: "",
        nonGetRedirect: 0,
        trustDefaultCert: "",
        httpOnMissingCert: "",
        sslVerifyClient: "",
        serverTokens: "",
        httpsListen: 0,
        internalOnly: false,
        balance: "roundrobin",
        keepalive: DEFAULTS.keepalive,
        scheme: "http",
        dest: "",
        weight: server.weight ?? 1,
        backup: server.backup ?? false,
        address: server.host,
        port: server.port,
      });
    }
  }
  return out;
}
