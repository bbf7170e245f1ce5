/**
 * Reads a container's `lbsync.*` labels through the strict grammars. Pure.
 *
 * @module
 */
import { LabelError } from "./errors.ts";
import {
  parseBoolean,
  parseChoice,
  parseHealthPath,
  parseHosts,
  parseInteger,
  parseName,
  parsePath,
  parsePort,
  quote,
} from "./grammar.ts";
import type { ServiceMode } from "./types.ts";

/** The lbsync labels of one container, parsed; absent labels are `undefined`. */
export interface ContainerLabels {
  enable?: boolean;
  service?: string;
  port?: number;
  hosts?: string[];
  path?: string;
  weight?: number;
  backup?: boolean;
  mode?: ServiceMode;
  listen?: number;
  network?: string;
  health?: string;
}

const PARSERS: { [K in keyof ContainerLabels]-?: (value: string) => ContainerLabels[K] } = {
  enable: parseBoolean,
  service: parseName,
  port: parsePort,
  hosts: parseHosts,
  path: parsePath,
  weight: (v) => parseInteger(v, 1, 256),
  backup: parseBoolean,
  mode: (v) => parseChoice(v, ["http", "tcp"] as const),
  listen: parsePort,
  network: parseName,
  health: parseHealthPath,
};

/** Label suffix of each field (`hosts` is the `host` label). */
const SUFFIX: Record<keyof ContainerLabels, string> = {
  enable: "enable",
  service: "service",
  port: "port",
  hosts: "host",
  path: "path",
  weight: "weight",
  backup: "backup",
  mode: "mode",
  listen: "listen",
  network: "network",
  health: "health",
};

/** The label suffixes lbsync knows, e.g. `host`, `port`. */
export const LABEL_NAMES: readonly string[] = Object.values(SUFFIX);

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
): { labels: ContainerLabels; unknown: string[] } {
  const labels: Record<string, unknown> = {};
  for (const field of Object.keys(PARSERS) as (keyof ContainerLabels)[]) {
    const key = `${prefix}.${SUFFIX[field]}`;
    const value = all[key];
    if (value === undefined) continue;
    try {
      labels[field] = PARSERS[field](value);
    } catch (error) {
      if (!(error instanceof LabelError)) throw error;
      throw new LabelError(`label ${key}=${quote(value)}: ${error.message}`);
    }
  }
  const known = new Set(LABEL_NAMES.map((s) => `${prefix}.${s}`));
  const unknown = Object.keys(all)
    .filter((k) => k.startsWith(`${prefix}.`) && !known.has(k))
    .sort();
  return { labels: labels as ContainerLabels, unknown };
}
