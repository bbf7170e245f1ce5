/**
 * What changed between two HAProxy configurations: only `server` lines of backends (then the
 * runtime API can apply it without a reload), or anything else (then it takes a reload).
 * Pure; works on the rendered text, so it holds for custom templates too.
 *
 * @module
 */
import { withoutGeneration } from "../core/util/generation.ts";

/** A `server` line of a `backend` or `listen` section. */
export interface ServerLine {
  /** Backend (or listen section) name. */
  backend: string;
  /** Server name. */
  name: string;
  /** Address as written: an IPv4 address, `[IPv6]`, or a host name. */
  address: string;
  /** Port. */
  port: number;
  /** `weight N`, default 1. */
  weight: number;
  /** The options after the address, as written (`weight 2 backup check inter 2s`). */
  options: string;
  /** The options without `weight N`: what must match for a change of weight only. */
  fixedOptions: string;
}

/** A configuration split into its structure and its servers. */
export interface ParsedConfig {
  /** Every line but the servers of backends, in order: equal structures differ only in servers. */
  structure: string[];
  /** Servers by backend, each in file order. */
  servers: Map<string, ServerLine[]>;
}

/** One change the runtime API can make. */
export type ServerChange =
  | { kind: "add"; server: ServerLine }
  | { kind: "remove"; server: ServerLine }
  | { kind: "address"; server: ServerLine }
  | { kind: "weight"; server: ServerLine };

/**
 * What it takes to go from one configuration to another: the runtime changes in the order
 * to make them (additions, addresses and weights, then removals), or why it needs a reload.
 */
export type ChangePlan =
  | { runtime: true; changes: ServerChange[] }
  | { runtime: false; reason: string };

const SECTION =
  /^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|mailers|program|http-errors|ring|cache)\b\s*(\S*)/;
const SERVER = /^\s+server\s+(\S+)\s+(\S+)(?:\s+(.*?))?\s*$/;
const ENDPOINT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;
const IP_LITERAL = /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])$/;

/** Splits `text` into its structure and the servers of its backend and listen sections. */
export function parseConfig(text: string): ParsedConfig {
  const structure: string[] = [];
  const servers = new Map<string, ServerLine[]>();
  let backend: string | undefined;
  // the generation changes with every server line: it is not structure
  for (const line of withoutGeneration(text).split("\n")) {
    const section = SECTION.exec(line);
    if (section) {
      backend = section[1] === "backend" || section[1] === "listen" ? section[2] : undefined;
    }
    const server = backend === undefined ? null : serverLine(backend, line);
    if (!server) {
      structure.push(line);
      continue;
    }
    const list = servers.get(server.backend) ?? [];
    list.push(server);
    servers.set(server.backend, list);
  }
  return { structure, servers };
}

function serverLine(backend: string, line: string): ServerLine | null {
  const match = SERVER.exec(line);
  if (!match) return null;
  const endpoint = ENDPOINT.exec(match[2]);
  if (!endpoint) return null; // no port: keep it in the structure, a reload handles it
  const options = match[3] ?? "";
  const words = options.split(/\s+/).filter((w) => w !== "");
  const at = words.indexOf("weight");
  const weight = at >= 0 ? Number(words[at + 1]) : 1;
  if (at >= 0) words.splice(at, 2);
  return {
    backend,
    name: match[1],
    address: endpoint[1],
    port: Number(endpoint[2]),
    weight: Number.isInteger(weight) ? weight : NaN,
    options,
    fixedOptions: words.join(" "),
  };
}

/**
 * The changes from `before` to `after`, when they touch only servers of existing backends
 * and each one is something the runtime API can do; otherwise the reason a reload is needed.
 *
 * @example
 * ```ts
 * import { planServerChanges } from "./config_servers.ts";
 * const a = "backend app\n    server a 10.0.0.2:80 weight 1\n";
 * const b = a + "    server b 10.0.0.3:80 weight 1\n";
 * console.log(planServerChanges(a, b)); // { runtime: true, changes: [{ kind: "add", ... }] }
 * ```
 */
export function planServerChanges(before: string, after: string): ChangePlan {
  const old = parseConfig(before);
  const next = parseConfig(after);
  const differs = firstDifference(old.structure, next.structure);
  if (differs !== undefined) return { runtime: false, reason: `structure changed: ${differs}` };

  const changes: ServerChange[] = [];
  // Removals come last: a service whose server is replaced never has none in between.
  const removals: ServerChange[] = [];
  const backends = new Set([...old.servers.keys(), ...next.servers.keys()]);
  for (const backend of [...backends].sort()) {
    const was = byName(old.servers.get(backend) ?? []);
    const now = byName(next.servers.get(backend) ?? []);
    if (was === undefined || now === undefined) {
      return { runtime: false, reason: `backend ${backend} has two servers of the same name` };
    }
    for (const [name, server] of was) {
      if (!now.has(name)) removals.push({ kind: "remove", server });
    }
    for (const [name, server] of now) {
      const previous = was.get(name);
      const why = runtimeBlocker(server, previous);
      if (why) return { runtime: false, reason: `server ${backend}/${name}: ${why}` };
      if (!previous) changes.push({ kind: "add", server });
      else {
        if (previous.address !== server.address || previous.port !== server.port) {
          changes.push({ kind: "address", server });
        }
        if (previous.weight !== server.weight) changes.push({ kind: "weight", server });
      }
    }
  }
  return { runtime: true, changes: [...changes, ...removals] };
}

function runtimeBlocker(server: ServerLine, previous: ServerLine | undefined): string | undefined {
  if (!IP_LITERAL.test(server.address)) return "a host name needs a reload to be resolved";
  if (!(server.weight >= 0 && server.weight <= 256)) return "weight is not 0..256";
  if (previous && previous.fixedOptions !== server.fixedOptions) return "options changed";
  return undefined;
}

function byName(servers: ServerLine[]): Map<string, ServerLine> | undefined {
  const map = new Map<string, ServerLine>();
  for (const server of servers) {
    if (map.has(server.name)) return undefined;
    map.set(server.name, server);
  }
  return map;
}

function firstDifference(a: string[], b: string[]): string | undefined {
  const length = Math.max(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return JSON.stringify((b[i] ?? a[i]).trim());
  }
  return undefined;
}

/** The address without IPv6 brackets, as `show servers state` reports it. */
export function bareAddress(address: string): string {
  return address.startsWith("[") ? address.slice(1, -1) : address;
}
