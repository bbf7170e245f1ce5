/**
 * Per-container decisions: is it a candidate, is it in, and with what settings. Pure.
 *
 * @module
 */
import type { ModelSettings } from "./model_settings.ts";
import { DEFAULTS } from "../defaults.ts";
import { resolveEndpoint } from "./address.ts";
import { LabelError } from "../errors.ts";
import { isPort, parseName, parsePort, quote } from "../util/grammar.ts";
import {
  type ContainerLabels,
  labelGroups,
  labelKeys,
  type LabelMemo,
  readLabels,
} from "./labels.ts";
import type {
  ContainerInfo,
  PortMapping,
  Service,
  ServiceMode,
  SkippedContainer,
} from "../types.ts";

/** The service-level fields of a {@link Service}, as the model's merge rule (oldest wins) reads them. */
export const SERVICE_LEVEL = [
  "mode",
  "hosts",
  "path",
  "dest",
  "listen",
  "health",
  "rollover",
  "https",
  "hsts",
  "certName",
  "acme",
  "acmeWebroot",
  "nonGetRedirect",
  "trustDefaultCert",
  "httpOnMissingCert",
  "sslVerifyClient",
  "serverTokens",
  "httpsListen",
  "internalOnly",
  "balance",
  "keepalive",
  "scheme",
] as const;

/** Service-level settings as one container's labels give them: the {@link Service} fields. */
export interface ServiceSettings extends Pick<Service, (typeof SERVICE_LEVEL)[number]> {
  container: ContainerInfo;
  service: string;
}

/** A container that is in, with every setting resolved (its own view, before merging). */
export interface Member extends ServiceSettings {
  /** A fixed server of a static service. */
  static?: boolean;
  weight: number;
  backup: boolean;
  address: string;
  port: number;
}

/**
 * The decision on one container. A skipped container with valid labels still carries its
 * service `settings`: a service whose containers are all down is kept, with no servers.
 */
export type Selection =
  | { kind: "ignored" }
  | {
    kind: "skipped";
    skipped: SkippedContainer;
    settings: ServiceSettings | undefined;
    warnings: string[];
  }
  | { kind: "member"; member: Member; warnings: string[] };

const COMPOSE_SERVICE = "com.docker.compose.service";

/** The one service of a `--match` rule without a named group, when `--service` is not given. */
export const DEFAULT_MATCH_SERVICE = "match";
/** Likewise for `--match-image`. */
export const DEFAULT_IMAGE_SERVICE = "image";

/** No warnings: shared, never changed. */
const NO_WARNINGS = Object.freeze([]) as unknown as string[];

/**
 * Decides on a container and on each of its label groups (`lbsync.GROUP.FIELD`): one
 * selection for the plain `lbsync.*` labels and one per group, each group a service of its
 * own (named by `lbsync.GROUP.service`, else GROUP). `lbsync.enable=false` disables them all.
 */
export function selectContainerServices(
  c: ContainerInfo,
  options: ModelSettings,
  memo?: LabelMemo,
): Selection[] {
  const prefix = options.labelPrefix;
  const groups = labelGroups(c.labels, prefix);
  const plain = selectContainer(c, options, memo);
  if (options.ports && plain.kind !== "ignored" && !hasOwnLabels(c, prefix)) {
    return portMappings(c, options, options.ports, memo);
  }
  if (groups.length === 0) return [plain];
  const keys = labelKeys(prefix);
  const out: Selection[] = plain.kind === "ignored" ? [] : [plain];
  if (c.labels[keys.enable] === "false") return out;
  for (const group of groups) {
    // a group is read as if its prefix were PREFIX.GROUP: messages name the labels as written
    const groupKeys = labelKeys(`${keys.dotted}${group.name}`);
    const labels: Record<string, string> = {
      [groupKeys.enable]: "true",
      [groupKeys.service]: group.name,
    };
    for (const [key, value] of Object.entries(group.labels)) {
      labels[groupKeys.dotted + key.slice(keys.dotted.length)] = value;
    }
    const selection = selectContainer(
      { ...c, labels },
      { ...options, labelPrefix: `${keys.dotted}${group.name}` },
      memo,
    );
    if (selection.kind === "skipped") {
      selection.skipped.reason = `group ${group.name}: ${selection.skipped.reason}`;
    }
    out.push(selection);
  }
  return out;
}

/**
 * `--ports 80,443=3000,tcp:5432`: the zero-downtime proxy's syntax, with `tcp:` for a tcp
 * listener. Pure.
 *
 * @throws {LabelError} naming the bad entry
 */
export function parsePortMappings(text: string): PortMapping[] {
  const seen = new Set<number>();
  return text.split(",").map((entry) => {
    const match = /^(?:(tcp|http):)?(\d{1,5})(?:=(\d{1,5}))?$/.exec(entry.trim());
    if (!match) {
      throw new LabelError(
        `${quote(entry)} is not LISTEN[=PORT] or tcp:LISTEN[=PORT] (e.g. 80,443=3000,tcp:5432)`,
      );
    }
    const listen = parsePort(match[2]);
    if (seen.has(listen)) throw new LabelError(`port ${listen} is listed twice`);
    seen.add(listen);
    return {
      mode: (match[1] ?? "http") as ServiceMode,
      listen,
      port: parsePort(match[3] ?? match[2]),
    };
  });
}

/** True when the container carries labels of its own (`PREFIX.enable` or `PREFIX.service`). */
function hasOwnLabels(c: ContainerInfo, prefix: string): boolean {
  const keys = labelKeys(prefix);
  return c.labels[keys.enable] !== undefined || c.labels[keys.service] !== undefined;
}

/**
 * A container selected by a rule, with `--ports`: one service per mapping, named after the
 * rule's service (`NAME-LISTEN` when there are several mappings).
 */
function portMappings(
  c: ContainerInfo,
  options: ModelSettings,
  mappings: PortMapping[],
  memo?: LabelMemo,
): Selection[] {
  const keys = labelKeys(options.labelPrefix);
  const base = ruleService(c, options);
  return mappings.map((m) =>
    selectContainer(
      {
        ...c,
        labels: {
          ...c.labels,
          [keys.service]: mappings.length > 1 ? `${base}-${m.listen}` : base,
          [keys.dotted + "port"]: String(m.port),
          [keys.dotted + "listen"]: String(m.listen),
          [keys.dotted + "mode"]: m.mode,
        },
      },
      options,
      memo,
    )
  );
}

/** The service a rule (`--match`, `--match-image`) gives a container it selects. */
function ruleService(c: ContainerInfo, options: ModelSettings): string {
  const matched = options.match?.exec(c.name) ?? null;
  const byName = matched?.groups?.service;
  const byImage = options.matchImage?.exec(c.image)?.groups?.service;
  return byName ?? byImage ?? options.service ??
    (matched ? DEFAULT_MATCH_SERVICE : DEFAULT_IMAGE_SERVICE);
}

/**
 * Decides on one container: not a candidate (`ignored`), a candidate left out (`skipped`,
 * with the reason), or a backend (`member`).
 */
export function selectContainer(
  c: ContainerInfo,
  options: ModelSettings,
  memo?: LabelMemo,
): Selection {
  const prefix = options.labelPrefix;
  const matched = options.match ? options.match.exec(c.name) : null;
  const keys = labelKeys(prefix);
  const labelled = c.labels[keys.enable] !== undefined || c.labels[keys.service] !== undefined;
  const imageMatched = options.matchImage?.test(c.image) ?? false;
  if (!labelled && !matched && !imageMatched) return { kind: "ignored" };

  let warnings = NO_WARNINGS;
  let service = "";
  let settings: ServiceSettings | undefined;
  try {
    if (c.labels[keys.enable] === "false") {
      throw new LabelError(`disabled by ${keys.enable}=false`, { code: "disabled" });
    }
    checkContainerId(c.id);
    if (c.refused !== undefined) throw new LabelError(c.refused, { code: "unsupported" });
    const read = readLabels(c.labels, prefix, memo);
    if (read.unknown.length > 0) {
      warnings = read.unknown.map((key) => `container ${c.name}: unknown label ${key}, ignored`);
    }
    service = serviceName(c, read.labels, { matched, imageMatched }, options);
    settings = serviceSettings(c, read.labels, service, options);
    return { kind: "member", warnings, member: resolveMember(c, read.labels, settings, options) };
  } catch (error) {
    if (!(error instanceof LabelError)) throw error;
    // a container skipped before its service was known still shows its service label
    service ||= validName(c.labels[keys.service]);
    return {
      kind: "skipped",
      skipped: {
        id: error.code === "bad-id" ? "" : c.id,
        name: c.name,
        engine: c.engine,
        service,
        code: error.code,
        reason: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
      },
      settings,
      warnings,
    };
  }
}

function serviceSettings(
  c: ContainerInfo,
  labels: ContainerLabels,
  service: string,
  options: ModelSettings,
): ServiceSettings {
  const mode = labels.mode ?? "http";
  const listen = labels.listen ?? (mode === "http" ? options.listen : undefined);
  if (listen === undefined) {
    throw new LabelError(
      `tcp service needs ${options.labelPrefix}.listen`,
      {
        code: "no-listen",
      },
    );
  }
  if (labels.path?.startsWith("~") && labels.dest) {
    // nginx takes no URI in the proxy_pass of a regex location
    throw new LabelError(
      `${options.labelPrefix}.dest needs a path prefix, not the regex ${labels.path}`,
    );
  }
  return {
    container: c,
    service,
    mode,
    hosts: mode === "http" ? labels.hosts ?? [] : [],
    path: mode === "http" ? labels.path ?? "/" : "",
    dest: mode === "http" ? labels.dest ?? "" : "",
    listen,
    health: labels.health ?? "",
    rollover: labels.rollover ?? options.rollover ?? false,
    https: labels.https ?? "",
    hsts: labels.hsts ?? "",
    certName: labels.cert ?? "",
    acme: labels.acme ?? false,
    acmeWebroot: labels.acmewebroot ?? "",
    nonGetRedirect: labels.nongetredirect ?? 0,
    trustDefaultCert: labels.trustdefaultcert ?? "",
    httpOnMissingCert: labels.httponmissingcert ?? "",
    sslVerifyClient: labels.sslverifyclient ?? "",
    serverTokens: labels.servertokens ?? "",
    httpsListen: labels.httpslisten ?? 0,
    internalOnly: labels.access === "internal",
    balance: labels.balance ?? "roundrobin",
    keepalive: labels.keepalive ?? DEFAULTS.keepalive,
    scheme: labels.proto ?? "http",
  };
}

/** The server a container gives; throws the reason it is out. */
function resolveMember(
  c: ContainerInfo,
  labels: ContainerLabels,
  settings: ServiceSettings,
  options: ModelSettings,
): Member {
  if (c.state !== "running") {
    throw new LabelError(`not running (state ${quote(c.state)})`, { code: "not-running" });
  }
  if (!options.includeUnhealthy && (c.health === "starting" || c.health === "unhealthy")) {
    throw new LabelError(`Docker health is ${c.health}`, {
      code: "unhealthy",
      hint: { setting: "includeUnhealthy" },
    });
  }
  try {
    parseName(c.name);
  } catch (error) {
    throw new LabelError(`container name ${quote(c.name)}: ${(error as Error).message}`, {
      code: "bad-name",
    });
  }
  const endpoint = resolveEndpoint(c, {
    mode: options.address,
    port: labels.port ?? onlyExposedPort(c, `${options.labelPrefix}.port`),
    network: labels.network ?? options.network,
    hostIp: options.hostIp,
    firstNetwork: options.compat === "nginx-proxy",
    preferIpv6: options.preferIpv6,
    reachable: options.reachableNetworks,
  });
  const notReady = options.notReady?.get(c.id);
  if (notReady !== undefined) {
    throw new LabelError(`not ready: ${notReady}`, { code: "not-ready" });
  }
  return {
    ...settings,
    weight: labels.weight ?? 1,
    backup: labels.backup ?? false,
    address: endpoint.address,
    port: endpoint.port,
  };
}

/**
 * A container id as engines write it: 64 (or, shortened, 12) lowercase hex digits; a Swarm
 * task id is 25 lowercase letters and digits. Anything else never reaches a template.
 * (Lengths first, then one class: an alternation of three patterns cost 10% of buildModel.)
 */
const NOT_HEX = /[^0-9a-f]/;
const NOT_BASE36 = /[^0-9a-z]/;

function checkContainerId(id: string): void {
  const valid = id.length === 64 || id.length === 12
    ? !NOT_HEX.test(id)
    : id.length === 25 && !NOT_BASE36.test(id);
  if (!valid) {
    throw new LabelError(
      `container id ${quote(id)} is not 12 or 64 hex digits (or a 25-character task id)`,
      { code: "bad-id" },
    );
  }
}

/** `value` when it is a valid name, else `""`: for reports about skipped containers. */
function validName(value: string | undefined): string {
  if (value === undefined) return "";
  try {
    return parseName(value);
  } catch {
    return "";
  }
}

/**
 * The service a container joins: its `lbsync.service` label; else the named group `service`
 * of `--match` / `--match-image`; else, when a rule without that group selected it, the
 * rule's one service (`--service`, default `match` / `image`); else the compose service;
 * else the container name.
 */
function serviceName(
  c: ContainerInfo,
  labels: ContainerLabels,
  rules: { matched: RegExpExecArray | null; imageMatched: boolean },
  options: ModelSettings,
): string {
  if (labels.service) return labels.service;
  const prefix = options.labelPrefix;
  const [source, value] = rules.matched || rules.imageMatched
    ? ["the match rule", ruleService(c, options)]
    : c.labels[COMPOSE_SERVICE] !== undefined
    ? [`label ${COMPOSE_SERVICE}`, c.labels[COMPOSE_SERVICE]]
    : ["container name", c.name];
  try {
    return parseName(value);
  } catch (error) {
    if (!(error instanceof LabelError)) throw error;
    throw new LabelError(
      `service name ${quote(value)} from ${source}: ${error.message} (set ${prefix}.service)`,
      { code: "bad-name" },
    );
  }
}

/** The only exposed tcp port; throws the reason when there is none or several. */
function onlyExposedPort(c: ContainerInfo, portLabel: string): number {
  // a library caller's containers skip the input's parsing: a port outside 1..65535 is none
  const tcp = c.ports.filter((p) => p.protocol === "tcp" && isPort(p.port));
  if (tcp.length === 1) return tcp[0].port;
  if (tcp.length === 0) {
    throw new LabelError(`exposes no tcp port: set ${portLabel}`, { code: "no-port" });
  }
  throw new LabelError(
    `exposes several ports (${tcp.map((p) => p.port).join(", ")}): choose one with ${portLabel}`,
    { code: "no-port" },
  );
}
