/**
 * Static services from the config file: fixed servers (a host or IP and a port) under the
 * same grammars as labels. Pure.
 *
 * @module
 */
import { ConfigError, LabelError } from "../errors.ts";
import {
  parseBoolean,
  parseChoice,
  parseHealthPath,
  parseHostNames,
  parseHosts,
  parseInteger,
  parseIp,
  parseName,
  parsePath,
  parsePort,
} from "../util/grammar.ts";
import { isObject } from "../util/json_access.ts";
import type { HttpsMode, StaticServer, StaticService } from "../types.ts";

/**
 * Validates the `services` of a config file.
 *
 * @example
 * ```ts
 * import { parseStaticServices } from "./static_services.ts";
 * const [maint] = parseStaticServices([{ name: "web", servers: [{ host: "10.0.0.9", port: 8080, backup: true }] }], "lbsync.json");
 * console.log(maint.servers[0].backup); // true
 * ```
 *
 * @throws {ConfigError} naming the file, the JSON path and the reason
 */
export function parseStaticServices(value: unknown, file: string): StaticService[] {
  const fail = (path: string, why: string) =>
    new ConfigError(`Invalid config ${file}: ${path}: ${why}`);
  if (!Array.isArray(value)) throw fail("$.services", "expected an array");
  return value.map((item, i) => parseStaticService(item, `$.services[${i}]`, fail));
}

/** Builds the error for a JSON path and a reason. */
export type PathFailure = (path: string, why: string) => Error;

/**
 * Validates one static service at JSON path `path`.
 *
 * @throws what `fail` builds, naming the path and the reason
 */
export function parseStaticService(item: unknown, path: string, fail: PathFailure): StaticService {
  if (!isObject(item)) throw fail(path, "expected an object");
  rejectUnknown(
    item,
    path,
    ["name", "mode", "host", "path", "listen", "health", "schemes", "servers"],
    fail,
  );
  const field = fieldReader(item, path, fail);
  const name = field("name", parseName);
  if (name === undefined) throw fail(`${path}.name`, "required");
  if (!Array.isArray(item.servers)) throw fail(`${path}.servers`, "expected an array");
  const https = httpsOfSchemes(item.schemes, `${path}.schemes`, fail);
  const servers = item.servers.map((server, j) =>
    parseStaticServer(server, `${path}.servers[${j}]`, fail)
  );
  return {
    name,
    mode: field("mode", (v) => parseChoice(v, ["http", "tcp"] as const)),
    hosts: field("host", parseHosts),
    path: field("path", parsePath),
    listen: field("listen", parsePort),
    health: field("health", parseHealthPath),
    ...(https ? { https } : {}),
    servers: byPriority(servers, `${path}.servers`, fail),
  };
}

/**
 * `priority` as the REST balancer had it: the lowest value serves, higher values are its
 * backups. nginx and HAProxy have one backup tier, so two values at most; more is refused
 * rather than approximated.
 */
function byPriority(
  servers: (StaticServer & { priority?: number })[],
  path: string,
  fail: PathFailure,
): StaticServer[] {
  const levels = [...new Set(servers.map((s) => s.priority ?? 0))].sort((a, b) => a - b);
  if (levels.length > 2) {
    throw fail(
      path,
      `priorities ${levels.join(", ")}: nginx and HAProxy have one backup tier, so at most two ` +
        "values (the lowest serves, the other is its backup)",
    );
  }
  return servers.map(({ priority, ...server }) =>
    (priority ?? 0) > levels[0] ? { ...server, backup: true } : server
  );
}

/**
 * `schemes` as the REST balancer had them, as the service's `lbsync.https`: `["http"]` is
 * `nohttps`, `["https"]` `nohttp`, both `noredirect` (HTTPS needs a certificate in
 * `--cert-dir`); absent, the default. Anything else is refused, with why.
 */
function httpsOfSchemes(
  value: unknown,
  path: string,
  fail: PathFailure,
): HttpsMode | undefined {
  if (value === undefined) return undefined;
  const items = Array.isArray(value) ? value : [value];
  const list = items.map((s) => typeof s === "string" ? s.toLowerCase() : undefined);
  const other = list.findIndex((s) => s !== "http" && s !== "https");
  if (other >= 0 || list.length === 0) {
    const shown = other < 0
      ? "[]"
      : typeof items[other] === "string"
      ? JSON.stringify(items[other])
      : `a${Array.isArray(items[other]) ? "n array" : ` ${typeof items[other]}`}`;
    throw fail(path, `${shown}: use ["http"], ["https"] or both`);
  }
  const http = list.includes("http");
  const https = list.includes("https");
  return http && https ? "noredirect" : https ? "nohttp" : "nohttps";
}

/**
 * Validates one fixed server at JSON path `path`.
 *
 * @throws what `fail` builds, naming the path and the reason
 */
export function parseStaticServer(
  value: unknown,
  path: string,
  fail: PathFailure,
): StaticServer & { priority?: number } {
  if (!isObject(value)) throw fail(path, "expected an object");
  rejectUnknown(value, path, ["host", "port", "weight", "backup", "priority"], fail);
  const get = fieldReader(value, path, fail);
  const host = get("host", parseServerHost);
  const port = get("port", parsePort);
  if (host === undefined) throw fail(`${path}.host`, "required");
  if (port === undefined) throw fail(`${path}.port`, "required");
  return {
    host,
    port,
    weight: get("weight", (v) => parseInteger(v, 1, 256)),
    backup: get("backup", parseBoolean),
    ...withPriority(get("priority", (v) => parseInteger(v, 0, 1000))),
  };
}

function withPriority(priority: number | undefined): { priority?: number } {
  return priority === undefined ? {} : { priority };
}

/** Reads field `key` of `item` with a label grammar; errors name the JSON path. */
function fieldReader(item: Record<string, unknown>, path: string, fail: PathFailure) {
  return <T>(key: string, parse: (v: string) => T): T | undefined => {
    const v = item[key];
    if (v === undefined) return undefined;
    if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      throw fail(`${path}.${key}`, "expected a string or a number");
    }
    try {
      return parse(String(v));
    } catch (error) {
      if (error instanceof LabelError) throw fail(`${path}.${key}`, error.message);
      throw error;
    }
  };
}

function rejectUnknown(
  item: Record<string, unknown>,
  path: string,
  allowed: string[],
  fail: PathFailure,
): void {
  for (const key of Object.keys(item)) {
    if (!allowed.includes(key)) {
      throw fail(`${path}.${key}`, `unknown setting (use ${allowed.join(", ")})`);
    }
  }
}

/** An IP address, or an RFC 1123 host name without a wildcard. */
function parseServerHost(value: string): string {
  if (/^[0-9.]+$|:/.test(value)) return parseIp(value);
  const why = new LabelError(`${JSON.stringify(value)} is not an IP address or a host name`);
  if (value.includes("*") || value.startsWith("~") || value.includes(",")) throw why;
  try {
    return parseHostNames(value)[0];
  } catch {
    throw why;
  }
}
