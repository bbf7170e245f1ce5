/**
 * Reads a container's `lbsync.*` labels through the strict grammars. Pure.
 *
 * @module
 */
import { LabelError } from "../errors.ts";
import {
  parseBoolean,
  parseCertName,
  parseChoice,
  parseHealthPath,
  parseHosts,
  parseHsts,
  parseInteger,
  parseName,
  parsePath,
  parsePort,
  parseRoutePath,
  quote,
} from "../util/grammar.ts";
import type { Balance, HttpsMode, RedirectCode, ServiceMode } from "../types.ts";

/** The lbsync labels of one container, parsed; absent labels are `undefined`. */
export interface ContainerLabels {
  enable?: boolean;
  service?: string;
  port?: number;
  hosts?: string[];
  path?: string;
  dest?: string;
  weight?: number;
  backup?: boolean;
  mode?: ServiceMode;
  listen?: number;
  httpslisten?: number;
  network?: string;
  health?: string;
  rollover?: boolean;
  https?: HttpsMode;
  hsts?: string;
  cert?: string;
  acme?: boolean;
  acmewebroot?: "true" | "false";
  nongetredirect?: RedirectCode;
  trustdefaultcert?: "true" | "false";
  httponmissingcert?: "true" | "false";
  sslverifyclient?: "on" | "optional";
  servertokens?: "on" | "off";
  access?: "internal" | "external";
  balance?: Balance;
  keepalive?: number;
  proto?: "http" | "https";
}

/** `lbsync.keepalive=auto`: twice the service's servers, as nginx-proxy's `keepalive=auto`. */
export const KEEPALIVE_AUTO = -1;

const PARSERS: { [K in keyof ContainerLabels]-?: (value: string) => ContainerLabels[K] } = {
  enable: parseBoolean,
  service: parseName,
  port: parsePort,
  hosts: parseHosts,
  path: parseRoutePath,
  dest: (v) => v === "" ? "" : parsePath(v),
  weight: (v) => parseInteger(v, 1, 256),
  backup: parseBoolean,
  mode: (v) => parseChoice(v, ["http", "tcp"] as const),
  listen: parsePort,
  httpslisten: parsePort,
  network: parseName,
  health: parseHealthPath,
  rollover: parseBoolean,
  https: (v) => parseChoice(v, ["redirect", "noredirect", "nohttp", "nohttps"] as const),
  hsts: parseHsts,
  cert: parseCertName,
  acme: parseBoolean,
  acmewebroot: (v) => parseChoice(v, ["true", "false"] as const),
  servertokens: (v) => parseChoice(v, ["on", "off"] as const),
  trustdefaultcert: (v) => parseChoice(v, ["true", "false"] as const),
  httponmissingcert: (v) => parseChoice(v, ["true", "false"] as const),
  sslverifyclient: (v) => parseChoice(v, ["on", "optional"] as const),
  nongetredirect: (v) =>
    Number(parseChoice(v, ["301", "302", "303", "307", "308"] as const)) as RedirectCode,
  access: (v) => parseChoice(v, ["internal", "external"] as const),
  balance: (v) => parseChoice(v, ["roundrobin", "leastconn", "source", "random"] as const),
  keepalive: (v) => v === "disabled" ? 0 : v === "auto" ? KEEPALIVE_AUTO : parseInteger(v, 0, 1024),
  proto: (v) => parseChoice(v, ["http", "https"] as const),
};

/** Label suffix of each field (`hosts` is the `host` label). */
export const LABEL_SUFFIX: Record<keyof ContainerLabels, string> = {
  enable: "enable",
  service: "service",
  port: "port",
  hosts: "host",
  path: "path",
  dest: "dest",
  weight: "weight",
  backup: "backup",
  mode: "mode",
  listen: "listen",
  httpslisten: "httpslisten",
  network: "network",
  health: "health",
  rollover: "rollover",
  https: "https",
  hsts: "hsts",
  cert: "cert",
  acme: "acme",
  acmewebroot: "acmewebroot",
  nongetredirect: "nongetredirect",
  trustdefaultcert: "trustdefaultcert",
  httponmissingcert: "httponmissingcert",
  sslverifyclient: "sslverifyclient",
  servertokens: "servertokens",
  access: "access",
  balance: "balance",
  keepalive: "keepalive",
  proto: "proto",
};

/** The label suffixes lbsync knows, e.g. `host`, `port`. */
export const LABEL_NAMES: readonly string[] = Object.values(LABEL_SUFFIX);

/**
 * Parses the `PREFIX.*` labels of a container. Unknown `PREFIX.*` keys are returned in
 * `unknown` so callers can warn about typos.
 *
 * @example
 * ```ts
 * import { readLabels } from "./labels.ts";
 * const { labels } = readLabels({ "lbsync.port": "8080", "lbsync.host": "Example.com" }, "lbsync");
 * console.log(labels.port, labels.hosts); // 8080 ["example.com"]
 * ```
 *
 * @throws {LabelError} naming the first bad label, e.g. `label lbsync.port="80}": not an integer in 1..65535`
 */
export function readLabels(
  all: Record<string, string>,
  prefix: string,
  memo?: LabelMemo,
): { labels: ContainerLabels; unknown: string[] } {
  const { byKey, dotted } = labelKeys(prefix);
  const labels: Record<string, unknown> = {};
  let unknown: string[] | undefined;
  // One pass over the container's own labels: most are not ours.
  for (const key in all) {
    if (!key.startsWith(dotted)) continue;
    const field = byKey.get(key);
    if (field === undefined) {
      if (groupOf(key, dotted) === undefined) (unknown ??= []).push(key);
      continue;
    }
    const value = all[key];
    let values = memo?.get(field);
    if (memo && !values) memo.set(field, values = new Map());
    let parsed = values?.get(value);
    if (parsed === undefined) {
      try {
        parsed = { value: PARSERS[field](value) };
      } catch (error) {
        if (!(error instanceof LabelError)) throw error;
        parsed = error;
      }
      values?.set(value, parsed);
    }
    if (parsed instanceof LabelError) {
      throw new LabelError(`label ${key}=${quote(value)}: ${parsed.message}`);
    }
    labels[field] = parsed.value;
  }
  return { labels: labels as ContainerLabels, unknown: unknown?.sort() ?? NONE };
}

/**
 * Parsed label values by field and value, for one model build: the containers of a service
 * mostly carry the same values, so each is parsed once. Values are immutable once parsed.
 */
export type LabelMemo = Map<keyof ContainerLabels, Map<string, { value: unknown } | LabelError>>;

/** The full label names for a prefix, made once per prefix: this runs per container. */
export interface LabelKeys {
  /** Each field with its label, e.g. `["hosts", "lbsync.host"]`. */
  fields: [keyof ContainerLabels, string][];
  /** Every known label name, with its field. */
  byKey: Map<string, keyof ContainerLabels>;
  /** `PREFIX.` */
  dotted: string;
  /** `PREFIX.enable` */
  enable: string;
  /** `PREFIX.service` */
  service: string;
  /** `PREFIX.port` */
  port: string;
  /** `PREFIX.listen` */
  listen: string;
}

const keyCache = new Map<string, LabelKeys>();
const NONE = Object.freeze([]) as unknown as string[];

/** The label names of `prefix` (cached). */
export function labelKeys(prefix: string): LabelKeys {
  let keys = keyCache.get(prefix);
  if (!keys) {
    const fields = (Object.keys(PARSERS) as (keyof ContainerLabels)[])
      .map((f): [keyof ContainerLabels, string] => [f, `${prefix}.${LABEL_SUFFIX[f]}`]);
    keys = {
      fields,
      byKey: new Map(fields.map(([field, key]) => [key, field])),
      dotted: `${prefix}.`,
      enable: `${prefix}.enable`,
      service: `${prefix}.service`,
      port: `${prefix}.port`,
      listen: `${prefix}.listen`,
    };
    keyCache.set(prefix, keys);
  }
  return keys;
}

/** A label group: `PREFIX.GROUP.FIELD` labels that make one more service of a container. */
export interface LabelGroup {
  /** The group name, e.g. `admin` for `lbsync.admin.port`. */
  name: string;
  /** Its labels in the plain form (`lbsync.admin.port` as `lbsync.port`). */
  labels: Record<string, string>;
}

/**
 * The label groups of a container, sorted by name: `lbsync.web.port=8080` and
 * `lbsync.admin.port=9000` give groups `web` and `admin`, each a service of its own.
 */
export function labelGroups(all: Record<string, string>, prefix: string): LabelGroup[] {
  const { dotted, byKey } = labelKeys(prefix);
  let groups: Map<string, Record<string, string>> | undefined;
  for (const key in all) {
    if (!key.startsWith(dotted) || byKey.has(key)) continue;
    const found = groupOf(key, dotted);
    if (found === undefined) continue;
    groups ??= new Map();
    const labels = groups.get(found.group) ?? {};
    labels[`${dotted}${found.suffix}`] = all[key];
    groups.set(found.group, labels);
  }
  if (groups === undefined) return [];
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, labels]) => ({ name, labels }));
}

const SUFFIXES = new Set(Object.values(LABEL_SUFFIX));
const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

/** `PREFIX.GROUP.FIELD` split, when FIELD is a known label and GROUP a valid name. */
function groupOf(key: string, dotted: string): { group: string; suffix: string } | undefined {
  const rest = key.slice(dotted.length);
  const dot = rest.lastIndexOf(".");
  if (dot <= 0) return undefined;
  const group = rest.slice(0, dot);
  const suffix = rest.slice(dot + 1);
  if (!SUFFIXES.has(suffix) || !GROUP_NAME.test(group) || SUFFIXES.has(group)) return undefined;
  return { group, suffix };
}
