/**
 * The account of every candidate container: in or out, and why. Pure.
 *
 * @module
 */
import { compare } from "./compare.ts";
import type { ModelResult, Service } from "./types.ts";

/** One candidate container in `lbsync explain`. */
export interface ExplainRow {
  /** Container name. */
  name: string;
  /** Short container id. */
  id: string;
  /** Engine it was listed from. */
  engine: string;
  /** `in`: a server of `service`; `out`: left out for `reason`. */
  status: "in" | "out";
  /** Service it joins or would join (`""` when unknown). */
  service: string;
  /** `address:port` the balancer uses (`""` when out). */
  address: string;
  /** For `out`, why; for `in`, how traffic reaches it. */
  reason: string;
}

/**
 * Rows for every candidate container, sorted by name.
 *
 * @example
 * ```ts
 * import { buildModel } from "./model.ts";
 * import { explainRows } from "./explain.ts";
 * console.log(explainRows(buildModel([])).length); // 0
 * ```
 */
export function explainRows(result: ModelResult): ExplainRow[] {
  const rows: ExplainRow[] = [];
  for (const service of result.model.services) {
    for (const server of service.servers) {
      rows.push({
        name: server.name,
        id: server.id,
        engine: server.engine,
        status: "in",
        service: service.name,
        address: server.endpoint,
        reason: routeOf(service) + (server.backup ? ", backup" : ""),
      });
    }
  }
  for (const s of result.skipped) {
    rows.push({
      name: s.name,
      id: s.id.slice(0, 12),
      engine: s.engine,
      status: "out",
      service: s.service,
      address: "",
      reason: s.reason,
    });
  }
  return rows.sort((a, b) => compare(a.name, b.name) || compare(a.id, b.id));
}

function routeOf(service: Service): string {
  if (service.mode === "tcp") return `tcp on port ${service.listen}`;
  const hosts = service.hosts.length > 0 ? service.hosts.join(",") : "any host";
  return `http ${hosts} ${service.path} on port ${service.listen}`;
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
  const body = rows.map((r) => [
    r.name,
    ...(showEngine ? [r.engine || "-"] : []),
    r.status,
    r.service || "-",
    r.address || "-",
    r.reason,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ");
  const parts = [line(header), ...body.map(line)];
  if (rows.length === 0) parts.push("(no candidate containers)");
  if (warnings.length > 0) parts.push("", "Warnings:", ...warnings.map((w) => `  ${w}`));
  return parts.join("\n") + "\n";
}
