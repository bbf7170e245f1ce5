/**
 * `--compat nginx-proxy`: containers configured for nginx-proxy by environment variables
 * (`VIRTUAL_HOST`, `VIRTUAL_PORT`, `VIRTUAL_PATH`, `VIRTUAL_DEST`; `HTTPS_METHOD`, `CERT_NAME`, `HSTS`;
 * `LETSENCRYPT_HOST`, whose hosts get certificates from `--acme-directory`;
 * `ACME_HTTP_CHALLENGE_LOCATION`, whether its challenges are answered from `--acme-webroot`;
 * `ENABLE_HTTP_ON_MISSING_CERT`)
 * become lbsync backends without labels.
 * Pure; the variables come from inspect objects (the Docker shell inspects each container
 * once in this mode).
 *
 * @module
 */
import { isObject } from "../util/json_access.ts";
import { sha1 } from "../util/sha1.ts";
import type { ContainerInfo } from "../types.ts";
import { MultiportsError, parseMultiports } from "./multiports.ts";

/** The only environment variables lbsync keeps from an inspect object. */
export const COMPAT_ENV = [
  "VIRTUAL_HOST",
  "VIRTUAL_PORT",
  "VIRTUAL_PATH",
  "HTTPS_METHOD",
  "CERT_NAME",
  "HSTS",
  "LETSENCRYPT_HOST",
  "NETWORK_ACCESS",
  "VIRTUAL_PROTO",
  "VIRTUAL_DEST",
  "VIRTUAL_HOST_MULTIPORTS",
  "ACME_HTTP_CHALLENGE_LOCATION",
  "SERVER_TOKENS",
  "EXTERNAL_HTTP_PORT",
  "EXTERNAL_HTTPS_PORT",
  "ENABLE_HTTP_ON_MISSING_CERT",
] as const;

/** The labels nginx-proxy reads from a container, and the lbsync label each stands for. */
const NGINX_PROXY_LABELS = {
  "com.github.nginx-proxy.nginx-proxy.loadbalance": "balance",
  "com.github.nginx-proxy.nginx-proxy.keepalive": "keepalive",
  "com.github.nginx-proxy.nginx-proxy.non-get-redirect": "nongetredirect",
  "com.github.nginx-proxy.nginx-proxy.trust-default-cert": "trustdefaultcert",
  "com.github.nginx-proxy.nginx-proxy.ssl_verify_client": "sslverifyclient",
} as const;

/** nginx's balancing directives as `lbsync.balance` names them; others stay as written. */
const BALANCE_OF: Record<string, string> = {
  "least_conn": "leastconn",
  "ip_hash": "source",
  "hash $remote_addr consistent": "source",
  "hash $remote_addr": "source",
  "random": "random",
};

/** nginx-proxy's HSTS value for HTTPS sites when `HSTS` is not set. */
export const NGINX_PROXY_HSTS = "max-age=31536000";

/**
 * The variables of {@link COMPAT_ENV} from an inspect object's `Config.Env` (`KEY=value`
 * strings); `undefined` when it sets none. Nothing else (secrets live there) is kept.
 */
export function compatEnv(env: unknown): Record<string, string> | undefined {
  if (!Array.isArray(env)) return undefined;
  const found: Record<string, string> = {};
  for (const entry of env) {
    if (typeof entry !== "string") continue;
    const at = entry.indexOf("=");
    const key = entry.slice(0, at);
    if (at > 0 && (COMPAT_ENV as readonly string[]).includes(key)) {
      found[key] = entry.slice(at + 1);
    }
  }
  return Object.keys(found).length > 0 ? found : undefined;
}

/** How a container whose `VIRTUAL_HOST_MULTIPORTS` does not parse is refused. */
export const MULTIPORTS_REFUSED =
  "the VIRTUAL_HOST_MULTIPORTS environment variable used for this container is not a valid YAML string";

/**
 * The container with nginx-proxy's variables turned into lbsync labels, as nginx-proxy
 * groups them: one service per host of `VIRTUAL_HOST` and `VIRTUAL_PATH` (a label group
 * each), so containers that share a host share its upstream whatever else their lists hold,
 * and containers on one host with different paths are routed by path. The port is
 * `VIRTUAL_PORT`, else the only exposed port, else 80. A container with labels of lbsync's
 * prefix is configured by them alone: its variables are ignored.
 *
 * @example
 * ```ts
 * import { withNginxProxyLabels } from "./compat.ts";
 * const c = withNginxProxyLabels({
 *   id: "1", name: "web", image: "web", labels: {}, state: "running", health: "none",
 *   networks: [], networkMode: "bridge", ports: [], created: 0, engine: "",
 *   env: { VIRTUAL_HOST: "app.example.com,www.example.com", VIRTUAL_PATH: "/api" },
 * }, "lbsync");
 * console.log(c.labels["lbsync.vh1.service"], c.labels["lbsync.vh1.port"]); // www.example.com-api 80
 * ```
 */
export function withNginxProxyLabels(c: ContainerInfo, prefix: string): ContainerInfo {
  if (Object.keys(c.labels).some((key) => key.startsWith(`${prefix}.`))) return c;
  let routes: VirtualRoute[];
  try {
    routes = virtualRoutes(c);
  } catch (error) {
    if (!(error instanceof MultiportsError)) throw error;
    // a candidate all the same (nginx-proxy would warn in its file), out with the reason
    // nginx-proxy's words, which its users (and its tests) look for in the config
    const refused = `${MULTIPORTS_REFUSED}: ${error.message}`;
    return { ...c, labels: { ...c.labels, [`${prefix}.enable`]: "true" }, refused };
  }
  if (routes.length === 0) return c;
  const https = { ...httpsLabels(c.env ?? {}), ...nginxProxyLabels(c.labels) };
  const letsencrypt = new Set(
    (c.env?.LETSENCRYPT_HOST ?? "").split(",").map((h) => h.trim().toLowerCase()),
  );
  const derived: Record<string, string> = {};
  routes.forEach((route, i) => {
    const group = `${prefix}.vh${i}`;
    derived[`${group}.service`] = serviceOf(route.host, route.path);
    derived[`${group}.host`] = route.host;
    derived[`${group}.port`] = route.port;
    for (const [field, value] of Object.entries(https)) derived[`${group}.${field}`] = value;
    if (route.path) derived[`${group}.path`] = route.path;
    if (route.dest) derived[`${group}.dest`] = route.dest;
    if (route.proto) derived[`${group}.proto`] = route.proto;
    if (route.listen) derived[`${group}.listen`] = route.listen;
    if (route.httpsListen) derived[`${group}.httpslisten`] = route.httpsListen;
    if (letsencrypt.has(route.host.toLowerCase())) derived[`${group}.acme`] = "true";
  });
  return { ...c, labels: { ...c.labels, ...derived } };
}

/** One host and path of a container, as its nginx-proxy variables give them. */
interface VirtualRoute {
  host: string;
  path?: string;
  port: string;
  dest?: string;
  proto?: string;
  /** The port the host is served on (`EXTERNAL_HTTP_PORT`, `external_http_port`). */
  listen?: string;
  /** Its HTTPS port (`EXTERNAL_HTTPS_PORT`, `external_https_port`). */
  httpsListen?: string;
}

/**
 * The container's hosts and paths: `VIRTUAL_HOST_MULTIPORTS` when set (it replaces
 * `VIRTUAL_HOST`, `VIRTUAL_PORT`, `VIRTUAL_PATH`, `VIRTUAL_DEST`, `VIRTUAL_PROTO`), else one
 * per host of `VIRTUAL_HOST` with `VIRTUAL_PATH`. A port not given is the only exposed one,
 * else 80 (`VIRTUAL_PORT` first, for `VIRTUAL_HOST`).
 */
function virtualRoutes(c: ContainerInfo): VirtualRoute[] {
  const env = c.env ?? {};
  const tcp = c.ports.filter((p) => p.protocol === "tcp");
  const defaultPort = tcp.length === 1 ? String(tcp[0].port) : "80";
  const multiports = env.VIRTUAL_HOST_MULTIPORTS?.trim();
  if (multiports) {
    return parseMultiports(multiports).flatMap((host) =>
      host.paths.map(({ path, settings }) => ({
        host: host.host,
        path,
        port: settings.port ?? defaultPort,
        dest: settings.dest,
        proto: settings.proto ?? "http",
        listen: host.externalHttpPort,
        httpsListen: host.externalHttpsPort,
      }))
    );
  }
  const list = env.VIRTUAL_HOST?.trim();
  if (!list) return [];
  const route = {
    port: env.VIRTUAL_PORT?.trim() || defaultPort,
    path: env.VIRTUAL_PATH?.trim() || undefined,
    // VIRTUAL_DEST replaces the VIRTUAL_PATH prefix upstream; empty is nginx-proxy's "off"
    dest: env.VIRTUAL_DEST?.trim() || undefined,
    // nginx-proxy's per-container HTTP port: the host is served on that port instead
    listen: env.EXTERNAL_HTTP_PORT?.trim() || undefined,
    httpsListen: env.EXTERNAL_HTTPS_PORT?.trim() || undefined,
  };
  return list.split(",").map((h) => h.trim()).filter((h) => h !== "")
    .map((host) => ({ host, ...route }));
}

/**
 * nginx-proxy's own container labels: `loadbalance` (an nginx directive: `least_conn;`,
 * `ip_hash;`, `random;`, `hash $remote_addr;`, `hash $remote_addr consistent;`) and `keepalive` (a number, `auto`
 * or `disabled`; `auto`, twice the servers, when not set, as nginx-proxy's default). Another
 * directive stays as written, so the label grammar refuses it with a reason.
 */
function nginxProxyLabels(all: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = { keepalive: "auto" };
  for (const [key, field] of Object.entries(NGINX_PROXY_LABELS)) {
    const value = all[key]?.trim().replace(/;$/, "").trim();
    if (value === undefined || value === "") continue;
    labels[field] = field === "balance"
      ? BALANCE_OF[value] ?? value
      : field === "trustdefaultcert"
      ? goBoolean(value)
      : value;
  }
  return labels;
}

/**
 * `HTTPS_METHOD`, `CERT_NAME` and `HSTS` as the `https`, `cert` and `hsts` labels. As in
 * nginx-proxy, HTTPS sites send HSTS (`max-age=31536000`) unless `HSTS=off`, and none with
 * `HTTPS_METHOD=noredirect`.
 */
function httpsLabels(env: Record<string, string>): Record<string, string> {
  const labels: Record<string, string> = {};
  const method = env.HTTPS_METHOD?.trim();
  if (method) labels.https = method;
  if (env.CERT_NAME?.trim()) labels.cert = env.CERT_NAME.trim();
  if (env.NETWORK_ACCESS?.trim()) labels.access = env.NETWORK_ACCESS.trim();
  if (env.VIRTUAL_PROTO?.trim()) labels.proto = env.VIRTUAL_PROTO.trim();
  labels.hsts = method === "noredirect" ? "off" : env.HSTS?.trim() || NGINX_PROXY_HSTS;
  // nginx-proxy's values: true, false, and legacy (answered as true)
  const challenge = env.ACME_HTTP_CHALLENGE_LOCATION?.trim().toLowerCase();
  if (challenge) labels.acmewebroot = challenge === "legacy" ? "true" : challenge;
  if (env.SERVER_TOKENS?.trim()) labels.servertokens = env.SERVER_TOKENS.trim();
  const httpOnMissing = env.ENABLE_HTTP_ON_MISSING_CERT?.trim();
  if (httpOnMissing) labels.httponmissingcert = goBoolean(httpOnMissing);
  return labels;
}

/**
 * A boolean as nginx-proxy's template reads it (Go's `strconv.ParseBool`): `1`, `t`, `T`,
 * `TRUE`, `true`, `True` and their `false` forms become `true` / `false`; anything else stays
 * as written, so the label grammar refuses it with a reason.
 */
function goBoolean(value: string): string {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(value)) return "true";
  if (["0", "f", "F", "FALSE", "false", "False"].includes(value)) return "false";
  return value;
}

/**
 * A service name for a host and path, as nginx-proxy names the upstream: the host for `/`,
 * else the host, `-` and the SHA-1 of the path; a regex host by its SHA-1; `*.` spelled
 * `wildcard.`.
 */
function serviceOf(host: string, path: string | undefined): string {
  const lower = host.toLowerCase();
  const first = lower.startsWith("~") ? sha1(host) : lower.replace(/^\*\./, "wildcard.");
  const name = (path && path !== "/" ? `${first}-${sha1(path)}` : first)
    .replace(/[^a-z0-9_.-]/gi, "_").replace(/^[^a-z0-9]+/i, "");
  return name.slice(0, 128) || "virtual_host";
}

/** Reads `Config.Env` of an inspect object (helper for the Docker shell). */
export function inspectEnv(inspect: unknown): Record<string, string> | undefined {
  return isObject(inspect) && isObject(inspect.Config) ? compatEnv(inspect.Config.Env) : undefined;
}
