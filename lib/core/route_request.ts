/**
 * The routing rule both built-in templates implement, as a pure function: which service a
 * request reaches. `lbsync route` and the conformance test use it. Pure.
 *
 * The rule (the README's "Routing rules" section says the same):
 * - Host: the `Host` header lowercased, without its port and one trailing dot; no header:
 *   the default host. A header with `..`, `/`, a space or a control character, or empty once
 *   port and dot are gone, is a bad request. An exact name wins over wildcards;
 *   `*.example.com` matches any name that ends with `.example.com` (not `example.com`), the
 *   longest wildcard first, then regular expressions (`~REGEX`, in sorted order) against the
 *   lowercased host. A host no service names goes to the default routes.
 * - Path: `%XX` decoded (every byte; `%00` or a bad escape is a bad request), `//` merged,
 *   `.` and `..` segments resolved (above the root: a bad request). The query is not part
 *   of it. The longest path prefix of the host wins; the prefix is a plain string prefix
 *   (`/api` matches `/api`, `/api/x` and `/apix`; write `/api/` to keep `/apix` out).
 * - The request target: a fragment (`#`) is a bad request; an absolute-form target
 *   (`http://a.test/x`) must name the host the `Host` header names (as the Host rule reads
 *   both), else it is a bad request, then routes as that host. Routing and forwarding then
 *   use one host in both balancers.
 * - HTTPS (`tls`): a host is known on its HTTPS port only (`--https-listen`, else its own
 *   `lbsync.httpslisten`), with no default host or default routes; over HTTP a host that
 *   redirects to HTTPS answers 301 to `https://HOST[:PORT]` and the target, except ACME
 *   challenges.
 * - A host with routes but none for the path, or no route at all: not found (404).
 * - A path equal to a proxied route's prefix without its trailing slash (`/api` when only
 *   `/api/` is routed) answers 301 to the prefix: nginx's rule, which HAProxy follows.
 *
 * @module
 */
import { locationFor } from "./model/default_root.ts";
import { compileHostRegex, type HostRegex, matchHostRegex } from "./util/host_regex.ts";
import { compilePathRegex, matchPathRegex, pathRegexSource } from "./util/path_regex.ts";
import { escapeControls } from "./util/escape.ts";
import type {
  BasicAuth,
  ModelView,
  OperatorFile,
  RouteView,
  Service,
  ServiceView,
} from "./types.ts";

/** A request to route: the listening port, the `Host` header (absent: none), the raw path. */
export interface RouteQuery {
  /** Port the request arrives on. */
  listen: number;
  /** True for a request over TLS (`https://`): `listen` is then an HTTPS port. */
  tls?: boolean;
  /** The `Host` header as sent; `undefined` when the request has none. */
  host?: string;
  /**
   * The request target as sent (raw, with `%XX`), origin-form (`/x`) or absolute-form
   * (`http://a.test/x`); a query string after `?` is ignored.
   */
  path?: string;
}

/**
 * Where a request goes; `S` is the service type of the model routed through (a whole
 * {@link Service} for a model, a {@link ServiceView} for the one a watch serves).
 */
export type RouteAnswer<S extends ServiceView = Service> =
  | {
    /** `routed`: to `service` (503 when it has no servers). */
    kind: "routed";
    service: S;
    /** The matching host (`""`: the default host) and path prefix. */
    host: string;
    path: string;
    /** The servers that may answer (backups only when no primary is up). */
    servers: S["servers"];
    /**
     * The normalized path the servers get, when the route replaces its prefix
     * (`lbsync.dest`; the balancers escape it as nginx does); absent otherwise.
     */
    upstreamPath?: string;
    /** Basic authentication the route asks for first (`--htpasswd-dir`): 401 without it. */
    auth?: BasicAuth;
    /**
     * The operator's location override (`--vhost-dir`): its directives answer in place of the
     * route's location, so where the request goes is the file's to say.
     */
    locationOverride?: OperatorFile;
  }
  /** No route: 404 on a known host, `unknownHostStatus` (404, 503 for nginx-proxy) else. */
  | { kind: "not-found"; host: string; path: string; status: number }
  /**
   * nginx's answer to `/api` when only `/api/` is routed (and proxied): 301 to `/api/`; or a
   * known host's answer for a path none of its routes serves (`--default-root 302 URL`).
   */
  | { kind: "redirect"; location: string; status?: number }
  | { kind: "bad-request"; reason: string };

/**
 * Routes a request through the model (or a {@link ModelView} of one) by the rule above.
 *
 * @example
 * ```ts
 * import { buildModel, routeRequest } from "../../mod.ts";
 * const { model } = buildModel([{
 *   id: "a1b2c3d4e5f6", name: "admin-1", image: "app", state: "running", health: "none",
 *   labels: { "lbsync.service": "admin", "lbsync.path": "/admin" },
 *   networks: [{ name: "app", ip: "10.0.0.5", ipv6: "" }], networkMode: "app",
 *   ports: [{ port: 8080, protocol: "tcp", published: [] }], created: 0, engine: "",
 * }]);
 * const answer = routeRequest(model, { listen: 80, host: "x.example", path: "//%61dmin/a" });
 * console.log(answer.kind === "routed" && answer.service.name); // admin
 * ```
 */
export function routeRequest<S extends ServiceView>(
  model: ModelView<S>,
  query: RouteQuery,
): RouteAnswer<S> {
  const tcp = model.tcpListeners.find((l) => l.port === query.listen);
  if (tcp) return routed(tcp.service, "", "");
  const host = normalizeHost(query.host);
  if (host === null) return { kind: "bad-request", reason: "invalid Host header" };
  const target = requestTarget(query.path ?? "/", query.host);
  if (typeof target !== "string") return target;
  const path = normalizePath(target.split("?")[0]);
  if (path === null) return { kind: "bad-request", reason: "invalid path" };
  const listener = model.httpListeners.find((l) =>
    query.tls ? l.httpsPorts?.includes(query.listen) : l.port === query.listen
  );
  if (!listener) return { kind: "not-found", host, path, status: model.unknownHostStatus };
  const named = host === ""
    ? undefined
    : listener.virtualHosts.find((v) =>
      v.regex
        ? matchHostRegex(hostRegex(v.matchValue), host)
        : v.wildcard
        ? host.endsWith(v.matchValue)
        : v.suffixWildcard
        ? host.startsWith(v.matchValue)
        : host === v.host
    );
  // over HTTPS a host is known on its own HTTPS port only, and there is no default host
  // or default route; over HTTP a host served over HTTPS only is unknown, and unknown hosts
  // go to --default-host
  const vhost = query.tls
    ? (named?.httpsOn && named.httpsBind?.port === query.listen ? named : undefined)
    : named?.httpOn !== false && named
    ? named
    : listener.virtualHosts.find((v) => v.isDefault);
  const toHttps = !query.tls && vhost?.redirectToHttps && vhost.httpsBind &&
    !path.startsWith("/.well-known/acme-challenge/");
  if (toHttps) {
    const port = vhost.httpsBind!.port === 443 ? "" : `:${vhost.httpsBind!.port}`;
    return { kind: "redirect", location: `https://${host}${port}${target}` };
  }
  const routes = vhost ? vhost.routes : query.tls ? [] : listener.defaultRoutes;
  const redirect = routes.find((r) => r.redirectFrom === path);
  if (redirect) return { kind: "redirect", location: redirect.path };
  // regex routes sort first: tried in order on the path's bytes, then the longest prefix
  let bytes: string | null | undefined;
  const route = routes.find((r) => {
    if (!r.path.startsWith("~")) return path.startsWith(r.path);
    bytes ??= normalizePathBytes(target.split("?")[0]);
    return bytes !== null && matchPathRegex(pathRegex(pathRegexSource(r.path)), bytes);
  });
  if (!route && vhost && model.unknownPathLocation) {
    const location = locationFor(model.unknownPathLocation, host, target);
    return { kind: "redirect", location, status: model.unknownPathStatus };
  }
  if (!route) {
    const status = vhost ? model.unknownPathStatus || 404 : model.unknownHostStatus;
    return { kind: "not-found", host, path, status };
  }
  const service = model.services.find((s) => s.name === route.service)!;
  const upstreamPath = route.dest && !route.path.startsWith("~")
    ? route.dest + path.slice(route.path.length)
    : undefined;
  return routed(service, vhost?.host ?? "", route.path, route, upstreamPath);
}

/**
 * The origin-form path of a request target, or why the target is refused: a fragment, a
 * scheme other than http and https or an authority not followed by `/`, or an authority that
 * is not the `Host` header's (compared without case, the scheme's port, an empty port and no
 * port being one; a trailing dot counts). HAProxy's rule, which the nginx template follows.
 */
function requestTarget(
  target: string,
  header: string | undefined,
): string | { kind: "bad-request"; reason: string } {
  const bad = (reason: string) => ({ kind: "bad-request" as const, reason });
  if (target.includes("#")) return bad("a fragment in the target");
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:/.test(target)) return target;
  const absolute = /^(https?):\/\/([^/?#]*)(\/.*)$/i.exec(target);
  if (!absolute) return bad("an absolute target that is not http(s)://authority/path");
  const port = absolute[1].toLowerCase() === "https" ? "443" : "80";
  const authority = (value: string) => value.toLowerCase().replace(new RegExp(`:(${port})?$`), "");
  if (header === undefined || authority(absolute[2]) !== authority(header.trim())) {
    return bad("the target's host is not the Host header's");
  }
  return absolute[3];
}

const regexes = new Map<string, HostRegex>();

/** A regex compiled once by `compile` (the grammar let only ones of the dialect through). */
function compiled(source: string, compile: (source: string) => HostRegex): HostRegex {
  const key = `${compile === compileHostRegex ? "h" : "p"}${source}`;
  let re = regexes.get(key);
  if (!re) {
    re = compile(source);
    if (regexes.size >= 256) regexes.clear();
    regexes.set(key, re);
  }
  return re;
}

const hostRegex = (source: string) => compiled(source, compileHostRegex);
const pathRegex = (source: string) => compiled(source, compilePathRegex);

function routed<S extends ServiceView>(
  service: S,
  host: string,
  path: string,
  files: Pick<RouteView, "auth" | "locationOverride"> = {},
  upstreamPath?: string,
): RouteAnswer<S> {
  const { auth, locationOverride } = files;
  const primary = service.servers.filter((s) => !s.backup);
  return {
    kind: "routed",
    service,
    host,
    path,
    servers: primary.length > 0 ? primary : service.servers,
    ...(auth ? { auth } : {}),
    ...(locationOverride ? { locationOverride } : {}),
    ...(upstreamPath !== undefined ? { upstreamPath } : {}),
  };
}

/**
 * The host a `Host` header names, as both balancers see it: lowercased, without the port and
 * one trailing dot; `""` for no header; `null` for a header they refuse (400).
 */
export function normalizeHost(header: string | undefined): string | null {
  if (header === undefined) return "";
  const value = header.trim();
  // nginx refuses these: a dot pair, a slash, a space or a control character
  // deno-lint-ignore no-control-regex
  if (value.includes("..") || /[\/\x00-\x20\x7f]/.test(value)) return null;
  let host = value;
  if (value.startsWith("[")) {
    const end = value.indexOf("]");
    host = end < 0 ? value : value.slice(0, end + 1);
  } else if (value.includes(":")) {
    host = value.slice(0, value.indexOf(":"));
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  return host === "" ? null : host.toLowerCase();
}

/**
 * A request path as both balancers match it: every `%XX` decoded, `//` merged, `.` and `..`
 * resolved; a trailing `/`, `/.` or `/..` leaves a trailing `/`. `null` for a path they
 * refuse (400): a bad or `%00` escape, or `..` above the root.
 *
 * @example
 * ```ts
 * import { normalizePath } from "./route_request.ts";
 * console.log(normalizePath("/x/..//%61dmin/./a"), normalizePath("/../etc")); // /admin/a null
 * ```
 */
export function normalizePath(raw: string): string | null {
  const bytes = percentDecode(raw);
  return bytes === null ? null : resolveSegments(textOf(bytes));
}

/**
 * The path {@link normalizePath} gives, one character per byte of it (its UTF-8, as the
 * balancers hold it): what a path regex is matched against.
 */
export function normalizePathBytes(raw: string): string | null {
  const bytes = percentDecode(raw);
  return bytes === null ? null : resolveSegments(byteText(bytes));
}

/** `//` merged, `.` and `..` resolved (`null` above the root). */
function resolveSegments(decoded: string): string | null {
  const trailing = /\/(?:\.\.?)?$/.test(decoded);
  const stack: string[] = [];
  for (const segment of decoded.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") stack.push(segment);
    else if (stack.pop() === undefined) return null;
  }
  if (stack.length === 0) return "/";
  return "/" + stack.join("/") + (trailing ? "/" : "");
}

/** The bytes of `raw` with every `%XX` decoded once; `null` for a bad or `%00` escape. */
function percentDecode(raw: string): Uint8Array | null {
  const bytes: number[] = [];
  const encoder = new TextEncoder();
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c !== 0x25) {
      if (c < 0x80) bytes.push(c);
      else bytes.push(...encoder.encode(raw[i]));
      continue;
    }
    const hex = raw.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex) || hex === "00") return null;
    bytes.push(parseInt(hex, 16));
    i += 2;
  }
  return new Uint8Array(bytes);
}

/** Decoded bytes as text: UTF-8 where valid, else Latin-1 per byte. */
function textOf(bytes: Uint8Array): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return byteText(bytes);
  }
}

/** One character per byte. */
function byteText(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

/**
 * The route a request takes, for `lbsync route`: one line per fact, each with its control
 * characters escaped (a watch's model is read from the network).
 */
export function formatRouteAnswer(
  answer: RouteAnswer<ServiceView>,
  query: RouteQuery,
): string {
  if (answer.kind === "bad-request") return `400 bad request: ${answer.reason}\n`;
  if (answer.kind === "redirect") {
    const status = answer.status === undefined
      ? "301 moved permanently"
      : `${answer.status} redirect`;
    return `${status}: to ${escapeControls(answer.location)}\n`;
  }
  if (answer.kind === "not-found") {
    return `${answer.status} not found: no route for host ${
      answer.host || "(default)"
    } path ${answer.path} ` +
      `on port ${query.listen}\n`;
  }
  const s = answer.service;
  const lines = [
    `service  ${s.name}`,
    `route    ${s.mode === "tcp" ? `tcp port ${query.listen}` : routeText(answer)}`,
    ...(answer.upstreamPath !== undefined ? [`upstream ${answer.upstreamPath}`] : []),
    ...(answer.locationOverride
      ? [`override ${answer.locationOverride.path} replaces the location: its directives answer`]
      : []),
    ...(answer.auth
      ? [`auth     basic, users of ${answer.auth.path} (401 without credentials)`]
      : []),
    `backend  ${s.backend}`,
    ...(answer.servers.length === 0
      ? ["servers  (none: 503)"]
      : answer.servers.map((v, i) =>
        `${i === 0 ? "servers" : "       "}  ${v.name} ${v.endpoint}`
      )),
  ];
  return lines.map(escapeControls).join("\n") + "\n";
}

function routeText(answer: Extract<RouteAnswer<ServiceView>, { kind: "routed" }>): string {
  return `host ${answer.host || "(default)"} path ${answer.path}`;
}
