/**
 * `--config FILE`: the same settings as the command line, as JSON, plus several targets
 * each with its own check and reload. Pure: text in, the options' values (as the command-line
 * tokenizer gives them, for the one option parser) and the targets out.
 *
 * @example
 * ```json
 * {
 *   "docker": ["unix:///var/run/docker.sock"],
 *   "network": "web",
 *   "backup-dir": "/var/backups/lbsync",
 *   "targets": [
 *     { "template": "nginx", "output": "/etc/nginx/conf.d/lbsync.conf",
 *       "check": "nginx -t", "reload": "nginx -s reload" },
 *     { "template": "haproxy", "output": "/etc/haproxy/haproxy.cfg",
 *       "check": "haproxy -c -f {}", "reload": "systemctl reload haproxy" }
 *   ]
 * }
 * ```
 *
 * @module
 */
import { ConfigError } from "../core/errors.ts";
import { OPTION_SPECS } from "./options.ts";
import { SOCKET_PATH } from "../core/util/grammar.ts";
import { isObject, parseJson } from "../core/util/json_access.ts";
import { parseStaticServices } from "../core/input/static_services.ts";
import type { Target } from "../apply/targets.ts";
import type { StaticService } from "../core/types.ts";

/** Settings a config file may hold: option name -> its kind (from the one option table). */
export const CONFIG_SETTINGS: Readonly<Record<string, "string" | "strings" | "boolean">> = Object
  .fromEntries(
    OPTION_SPECS.filter((o) => o.config !== false).map((o) => [
      o.name,
      o.type === "boolean" ? "boolean" : o.multiple ? "strings" : "string",
    ]),
  );

/** An option's value as given: a string, the strings of a repeatable option, or a flag. */
export type OptionValue = string | string[] | true;

/** A config file's settings, and its targets. */
export interface ConfigContents {
  /**
   * The options' values by option name, as the command line would give them (its flags win;
   * a repeatable option's values come before the command line's).
   */
  values: Record<string, OptionValue>;
  /** Targets, each with its own check and reload. */
  targets: Target[];
  /** Static services: fixed servers, validated. */
  services: StaticService[];
}

/**
 * Parses a config file's text.
 *
 * @throws {ConfigError} naming the file, the JSON path and the reason
 */
export function parseConfigFile(text: string, file: string): ConfigContents {
  const fail = (path: string, why: string) =>
    new ConfigError(`Invalid config ${file}: ${path}: ${why}`);
  let json: unknown;
  try {
    json = parseJson(text);
  } catch (error) {
    throw new ConfigError(`Invalid config ${file}: not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(json)) throw fail("$", "expected an object");
  const values: Record<string, OptionValue> = {};
  let targets: Target[] = [];
  let services: StaticService[] = [];
  for (const [key, value] of Object.entries(json)) {
    const path = `$.${key}`;
    if (key === "targets") {
      targets = parseTargets(value, fail);
      continue;
    }
    if (key === "services") {
      services = parseStaticServices(value, file);
      continue;
    }
    const kind = CONFIG_SETTINGS[key];
    if (kind === undefined) throw fail(path, "unknown setting");
    if (kind === "boolean") {
      if (typeof value !== "boolean") throw fail(path, "expected true or false");
      if (value) values[key] = true;
    } else if (kind === "strings") {
      const list = Array.isArray(value) ? value : [value];
      values[key] = list.map((v, i) => {
        if (typeof v !== "string") {
          throw fail(Array.isArray(value) ? `${path}[${i}]` : path, "expected a string");
        }
        return v;
      });
    } else {
      if (typeof value !== "string" && typeof value !== "number") {
        throw fail(path, "expected a string or a number");
      }
      values[key] = String(value);
    }
  }
  return { values, targets, services };
}

function parseTargets(value: unknown, fail: (path: string, why: string) => ConfigError): Target[] {
  if (!Array.isArray(value)) throw fail("$.targets", "expected an array");
  return value.map((item, i) => {
    const path = `$.targets[${i}]`;
    if (!isObject(item)) throw fail(path, "expected an object");
    for (const key of Object.keys(item)) {
      if (!["template", "output", "check", "reload", "haproxySocket"].includes(key)) {
        throw fail(
          `${path}.${key}`,
          "unknown setting (use template, output, check, reload, haproxySocket)",
        );
      }
    }
    const text = (key: string, required: boolean): string | undefined => {
      const v = item[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== "string" || v === "") {
        throw fail(`${path}.${key}`, "expected a non-empty string");
      }
      return v;
    };
    return {
      template: text("template", true)!,
      output: text("output", true)!,
      check: text("check", false),
      reload: text("reload", false),
      haproxySocket: socketPath(text("haproxySocket", false), `${path}.haproxySocket`, fail),
    };
  });
}

function socketPath(
  value: string | undefined,
  path: string,
  fail: (path: string, why: string) => ConfigError,
): string | undefined {
  if (value === undefined || SOCKET_PATH.test(value)) return value;
  throw fail(path, "expected an absolute path of letters, digits and . _ - / @ +");
}
