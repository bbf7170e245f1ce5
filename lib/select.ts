/**
 * Per-container decisions: is it a candidate, is it in, and with what settings. Pure.
 *
 * @module
 */
import { resolveEndpoint } from "./address.ts";
import { LabelError } from "./errors.ts";
import { parseName, quote } from "./grammar.ts";
import { type ContainerLabels, readLabels } from "./labels.ts";
import type { ContainerInfo, ModelOptions, ServiceMode, SkippedContainer } from "./types.ts";

/** A container that is in, with every setting resolved (its own view, before merging). */
export interface Member {
  container: ContainerInfo;
  service: string;
  mode: ServiceMode;
  hosts: string[];
  path: string;
  listen: number;
  health: string;
  weight: number;
  backup: boolean;
  address: string;
  port: number;
}

/** The decision on one container. */
export type Selection =
  | { kind: "ignored" }
  | { kind: "skipped"; skipped: SkippedContainer; warnings: string[] }
  | { kind: "member"; member: Member; warnings: string[] };

const COMPOSE_SERVICE = "com.docker.compose.service";

/**
 * Decides on one container: not a candidate (`ignored`), a candidate left out (`skipped`,
 * with the reason), or a backend (`member`).
 */
export function selectContainer(c: ContainerInfo, options: ModelOptions): Selection {
  const prefix = options.labelPrefix ?? "lbsync";
  const matched = options.match ? options.match.exec(c.name) : null;
  const labelled = c.labels[`${prefix}.enable`] !== undefined ||
    c.labels[`${prefix}.service`] !== undefined;
  if (!labelled && !matched) return { kind: "ignored" };

  const warnings: string[] = [];
  const skip = (reason: string, service = ""): Selection => ({
    kind: "skipped",
    skipped: { id: c.id, name: c.name, engine: c.engine, service, reason },
    warnings,
  });

  if (c.labels[`${prefix}.enable`] === "false") return skip(`disabled by ${prefix}.enable=false`);
  let labels: ContainerLabels;
  try {
    const read = readLabels(c.labels, prefix);
    labels = read.labels;
    for (const key of read.unknown) {
      warnings.push(`container ${c.name}: unknown label ${key}, ignored`);
    }
  } catch (error) {
    if (error instanceof LabelError) return skip(error.message);
    throw error;
  }

  let service: string;
  try {
    service = serviceName(c, labels, matched, prefix);
  } catch (error) {
    if (error instanceof LabelError) return skip(error.message);
    throw error;
  }
  if (c.state !== "running") return skip(`not running (state ${quote(c.state)})`, service);
  if (!options.includeUnhealthy && (c.health === "starting" || c.health === "unhealthy")) {
    return skip(`Docker health is ${c.health} (--include-unhealthy keeps it)`, service);
  }
  try {
    parseName(c.name);
  } catch (error) {
    if (error instanceof LabelError) {
      return skip(`container name ${quote(c.name)}: ${error.message}`, service);
    }
    throw error;
  }

  const mode = labels.mode ?? "http";
  const listen = labels.listen ?? (mode === "http" ? options.listen ?? 80 : undefined);
  if (listen === undefined) return skip(`tcp service needs ${prefix}.listen`, service);

  const port = labels.port ?? onlyExposedPort(c, `${prefix}.port`);
  if (typeof port === "string") return skip(port, service);

  let endpoint;
  try {
    endpoint = resolveEndpoint(c, {
      mode: options.address ?? "network",
      port,
      network: labels.network ?? options.network,
      hostIp: options.hostIp,
    });
  } catch (error) {
    if (error instanceof LabelError) return skip(error.message, service);
    throw error;
  }

  return {
    kind: "member",
    warnings,
    member: {
      container: c,
      service,
      mode,
      hosts: mode === "http" ? labels.hosts ?? [] : [],
      path: mode === "http" ? labels.path ?? "/" : "",
      listen,
      health: labels.health ?? "",
      weight: labels.weight ?? 1,
      backup: labels.backup ?? false,
      address: endpoint.address,
      port: endpoint.port,
    },
  };
}

function serviceName(
  c: ContainerInfo,
  labels: ContainerLabels,
  matched: RegExpExecArray | null,
  prefix: string,
): string {
  if (labels.service) return labels.service;
  const [source, value] = matched?.groups?.service !== undefined
    ? ["--match group service", matched.groups.service]
    : c.labels[COMPOSE_SERVICE] !== undefined
    ? [`label ${COMPOSE_SERVICE}`, c.labels[COMPOSE_SERVICE]]
    : ["container name", c.name];
  try {
    return parseName(value);
  } catch (error) {
    if (!(error instanceof LabelError)) throw error;
    throw new LabelError(
      `service name ${quote(value)} from ${source}: ${error.message} (set ${prefix}.service)`,
    );
  }
}

/** The only exposed tcp port, or the reason there is none. */
function onlyExposedPort(c: ContainerInfo, portLabel: string): number | string {
  const tcp = c.ports.filter((p) => p.protocol === "tcp");
  if (tcp.length === 1) return tcp[0].port;
  if (tcp.length === 0) return `exposes no tcp port: set ${portLabel}`;
  return `exposes several ports (${
    tcp.map((p) => p.port).join(", ")
  }): choose one with ${portLabel}`;
}
