/**
 * `--compat nginx-proxy`: containers configured for nginx-proxy by environment variables
 * (`VIRTUAL_HOST`, `VIRTUAL_PORT`, `VIRTUAL_PATH`) become lbsync backends without labels.
 * Pure; the variables come from inspect objects (the Docker shell inspects each container
 * once in this mode).
 *
 * @module
 */
import { isObject } from "./json_access.ts";
import type { ContainerInfo } from "./types.ts";

/** The only environment variables lbsync keeps from an inspect object. */
export const COMPAT_ENV = ["VIRTUAL_HOST", "VIRTUAL_PORT", "VIRTUAL_PATH"] as const;

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

/**
 * The container with nginx-proxy's variables turned into lbsync labels: `VIRTUAL_HOST`
 * enables it in a service named after its first host (containers with the same
 * `VIRTUAL_HOST` share one upstream, as in nginx-proxy), `VIRTUAL_PORT` and `VIRTUAL_PATH`
 * give the port and path, and port 80 is used when several ports are exposed and no
 * `VIRTUAL_PORT` is set. A container with labels of lbsync's prefix is configured by them
 * alone: its variables are ignored.
 *
 * @example
 * ```ts
 * import { withNginxProxyLabels } from "./compat.ts";
 * const c = withNginxProxyLabels({
 *   id: "1", name: "web", image: "web", labels: {}, state: "running", health: "none",
 *   networks: [], networkMode: "bridge", ports: [], created: 0, engine: "",
 *   env: { VIRTUAL_HOST: "app.example.com" },
 * }, "lbsync");
 * console.log(c.labels["lbsync.host"]); // app.example.com
 * ```
 */
export function withNginxProxyLabels(c: ContainerInfo, prefix: string): ContainerInfo {
  const host = c.env?.VIRTUAL_HOST?.trim();
  if (!host || Object.keys(c.labels).some((key) => key.startsWith(`${prefix}.`))) return c;
  const derived: Record<string, string> = {
    [`${prefix}.enable`]: "true",
    [`${prefix}.service`]: serviceOf(host),
    [`${prefix}.host`]: host,
  };
  const port = c.env?.VIRTUAL_PORT?.trim() ||
    (c.ports.filter((p) => p.protocol === "tcp").length > 1 &&
        c.ports.some((p) => p.port === 80)
      ? "80"
      : "");
  if (port) derived[`${prefix}.port`] = port;
  const path = c.env?.VIRTUAL_PATH?.trim();
  if (path) derived[`${prefix}.path`] = path;
  return { ...c, labels: { ...c.labels, ...derived } };
}

/** A service name from a `VIRTUAL_HOST` list: its first host, `*.` spelled `wildcard.`. */
function serviceOf(hosts: string): string {
  const first = hosts.split(",")[0].trim().toLowerCase().replace(/^\*\./, "wildcard.");
  const name = first.replace(/[^a-z0-9_.-]/g, "_").replace(/^[^a-z0-9]+/, "");
  return name.slice(0, 200) || "virtual_host";
}

/** Reads `Config.Env` of an inspect object (helper for the Docker shell). */
export function inspectEnv(inspect: unknown): Record<string, string> | undefined {
  return isObject(inspect) && isObject(inspect.Config) ? compatEnv(inspect.Config.Env) : undefined;
}
