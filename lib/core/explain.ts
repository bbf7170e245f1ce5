/**
 * The account of every candidate container: in or out, and why. Pure.
 *
 * @module
 */
import { escapeControls } from "./util/escape.ts";
import { compare } from "./util/compare.ts";
import { describeHint, type SettingName, type SkipCode } from "./errors.ts";
import { clientCaBySni } from "./model/tls.ts";
import type {
  ModelView,
  ModelViewResult,
  ServiceRoute,
  ServiceView,
  VirtualHostView,
} from "./types.ts";

/**
 * A candidate container's state: `in` (receives traffic on some route), `backup` (will, when
 * no primary server of its service is up), `conflict` (lost its route, port or name to an
 * established service, or its port to another process), `idle` (valid and running, but given no
 * route by design: an older container retired by a rollover), `out`.
 */
export type ExplainStatus = "in" | "backup" | "conflict" | "idle" | "quarantined" | "out";

/** One candidate container in `lbsync explain`. */
export interface ExplainRow {
  /** Container name. */
  name: string;
  /** Short container id. */
  id: string;
  /** Engine it was listed from. */
  engine: string;
  /** See {@link ExplainStatus}. */
  status: ExplainStatus;
  /** Why it is not `in`, as a code; `""` for `in` and `backup`. */
  code: SkipCode | "";
  /** Service it joins or would join (`""` when unknown). */
  service: string;
  /** `address:port` the balancer uses (`""` when out). */
  address: string;
  /** For `out`, why; for `in`, how traffic reaches it. */
  reason: string;
}

/**
 * Rows for every candidate container of a model result (or of a watch's, read through its
 * status listener), sorted by name. A reason that a setting would change
 * names it with `settingName` (the library's option field by default; the CLI gives flags).
 *
 * @example
 * ```ts
 * import { buildModel } from "./model/model.ts";
 * import { explainRows } from "./explain.ts";
 * console.log(explainRows(buildModel([])).length); // 0
 * ```
 */
export function explainRows(
  result: ModelViewResult,
  settingName?: (setting: SettingName) => string,
): ExplainRow[] {
  const rows: ExplainRow[] = [];
  for (const service of result.model.services) {
    // how traffic reaches the service: the same for each of its servers
    const routes = routesOf(service);
    const tls = httpsOf(service, result.model) + authOf(service, result.model) +
      overrideOf(service, result.model) + destOf(service, result.model);
    for (const server of service.servers) {
      rows.push({
        name: server.name,
        id: server.id,
        engine: server.engine,
        status: server.backup ? "backup" : "in",
        code: "",
        service: service.name,
        address: server.endpoint,
        reason: routes + (server.backup ? ", when no primary server is up" : "") + tls,
      });
    }
  }
  for (const s of result.skipped) {
    rows.push({
      name: s.name,
      id: s.id.slice(0, 12),
      engine: s.engine,
      status: STATUS_OF[s.code] ?? "out",
      code: s.code,
      service: s.service,
      address: "",
      reason: s.reason + describeHint(s.hint, settingName),
    });
  }
  return rows.sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
}

const STATUS_OF: Partial<Record<SkipCode, ExplainStatus>> = {
  "conflict": "conflict",
  "port-in-use": "conflict",
  "retired": "idle",
  "quarantined": "quarantined",
};

/** The routes a service holds, e.g. `http a.example.com,b.example.com /api on port 80`. */
function routesOf(service: ServiceView): string {
  if (service.mode === "tcp") return `tcp on port ${service.listen}`;
  const byPort = new Map<string, string[]>();
  for (const r of service.routes) {
    const key = `${r.path} on port ${r.port}`;
    byPort.set(key, [...(byPort.get(key) ?? []), hostOf(r)]);
  }
  return [...byPort.entries()].map(([key, hosts]) => `http ${bounded(hosts, ",")} ${key}`)
    .join("; ");
}

/**
 * With HTTPS on, how each of the service's hosts is served: `; https a.test (certificate
 * a.test, HTTP redirected)`, `; b.test: HTTP only, no certificate`.
 */
function httpsOf(service: ServiceView, model: ModelView): string {
  if (!model.tlsOn || service.mode === "tcp") return "";
  const parts: string[] = [];
  for (const route of service.routes) {
    const listener = model.httpListeners.find((l) => l.port === route.port);
    const v = listener?.virtualHosts.find((h) => h.host === route.host);
    if (!v || parts.some((p) => p.includes(` ${v.host} `) || p.startsWith(`${v.host}:`))) continue;
    if (v.httpsOn) {
      const how = v.redirectToHttps
        ? ", HTTP redirected"
        : v.httpOn
        ? ", HTTP too"
        : ", HTTPS only";
      const client = v.clientCa ? clientCertificates(v, v.clientCa) : "";
      // a port of its own (lbsync.httpslisten): the host is served over HTTPS there only
      const own = v.httpsBind && v.httpsBind.port !== listener!.httpsPorts?.[0]
        ? ` on port ${v.httpsBind.port}`
        : "";
      parts.push(`https ${v.host}${own} (certificate ${v.tls!.name}${how}${client})`);
    } else if (v.tls) parts.push(`${v.host}: HTTP only (lbsync.https=nohttps)`);
    else {
      const refused = v.refusedHttps
        ? " (nginx refuses its HTTPS handshake; HAProxy answers it as an unknown host)"
        : "";
      parts.push(
        `${v.host}: ${v.httpOn ? "HTTP only" : "not served"}, no certificate ${
          v.host.replace(/^\*\./, "")
        }.crt${refused}`,
      );
    }
  }
  const shown = parts.length <= EXPLAIN_LIST_LIMIT ? parts : [
    ...parts.slice(0, EXPLAIN_LIST_LIMIT),
    `and ${parts.length - EXPLAIN_LIST_LIMIT} more hosts`,
  ];
  return shown.map((p) => `; ${p}`).join("");
}

/**
 * How a host asks client certificates: `, client certificates required by a.test.ca.crt`. HAProxy
 * asks them by SNI, which names hosts only: for a regex (or a wildcard at the end) it asks none.
 */
function clientCertificates(
  v: VirtualHostView,
  ca: NonNullable<VirtualHostView["clientCa"]>,
): string {
  const optional = ca.verify === "optional";
  const file = ca.path.slice(ca.path.lastIndexOf("/") + 1);
  const haproxy = clientCaBySni(v)
    ? ""
    : optional
    ? " (HAProxy asks none of this host: lets clients in unverified)"
    : " (HAProxy asks none of this host: answers 400)";
  return `, client certificates ${optional ? "asked" : "required"} by ${file}${haproxy}`;
}

/** With `--htpasswd-dir`, the service's routes that ask for basic auth: `; basic auth a.test/api`. */
function authOf(service: ServiceView, model: ModelView): string {
  const guarded = new Set<string>();
  for (const route of service.routes) {
    const r = listenerRouteOf(service, route, model);
    if (r?.auth) guarded.add(`${route.host}${r.path}`);
  }
  return guarded.size === 0 ? "" : `; basic auth ${bounded([...guarded].sort(), ", ")}`;
}

/**
 * With `--vhost-dir`, the service's routes whose location the operator's override replaces:
 * `; location a.test/ replaced by its override`.
 */
function overrideOf(service: ServiceView, model: ModelView): string {
  const replaced = new Set<string>();
  for (const route of service.routes) {
    const r = listenerRouteOf(service, route, model);
    if (r?.locationOverride) replaced.add(`${route.host}${r.path}`);
  }
  return replaced.size === 0
    ? ""
    : `; location ${bounded([...replaced].sort(), ", ")} replaced by its override`;
}

/** With `lbsync.dest`: `; path /app/ sent as /` (nginx-proxy's `VIRTUAL_DEST`). */
function destOf(service: ServiceView, model: ModelView): string {
  const route = service.routes[0];
  const dest = route && listenerRouteOf(service, route, model)?.dest;
  return dest ? `; path ${route.path} sent as ${dest}` : "";
}

/** The listener's route that a route of the service stands for (a virtual host's or a default one). */
function listenerRouteOf(service: ServiceView, route: ServiceRoute, model: ModelView) {
  const listener = model.httpListeners.find((l) => l.port === route.port);
  const routes = route.host === ""
    ? listener?.defaultRoutes
    : listener?.virtualHosts.find((h) => h.host === route.host)?.routes;
  return routes?.find((r) => r.service === service.name && r.path === route.path);
}

/** The most items of one list a row shows; the rest are counted. */
export const EXPLAIN_LIST_LIMIT = 20;

/** `items` joined by `separator`, at most {@link EXPLAIN_LIST_LIMIT}, then `(and N more)`. */
function bounded(items: readonly string[], separator: string): string {
  if (items.length <= EXPLAIN_LIST_LIMIT) return items.join(separator);
  const more = items.length - EXPLAIN_LIST_LIMIT;
  return `${items.slice(0, EXPLAIN_LIST_LIMIT).join(separator)} (and ${more} more)`;
}

function hostOf(route: ServiceRoute): string {
  return route.host || "any host";
}

/** A plain-text table of `rows`, then the warnings. */
export function formatExplainTable(rows: ExplainRow[], warnings: string[]): string {
  const showEngine = rows.some((r) => r.engine !== "");
  const header = [
    "CONTAINER",
    ...(showEngine ? ["ENGINE"] : []),
    "STATUS",
    "SERVICE",
    "ADDRESS",
    "WHY",
  ];
  // names and reasons come from engines and labels: no cell may hold a line break or a
  // bidirectional control (a forged row, text shown reversed)
  const body = rows.map((r) =>
    [
      r.name,
      ...(showEngine ? [r.engine || "-"] : []),
      r.status,
      r.service || "-",
      r.address || "-",
      r.reason,
    ].map(escapeControls)
  );
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  const parts = [line(header), ...body.map(line)];
  if (rows.length === 0) parts.push("(no candidate containers)");
  if (warnings.length > 0) {
    parts.push("", "Warnings:", ...warnings.map((w) => `  ${escapeControls(w)}`));
  }
  return parts.join("\n") + "\n";
}
