/**
 * Strict grammars for values that reach a configuration file: label values, option values,
 * names and addresses from Docker JSON. Each parser returns the clean value or throws a
 * `LabelError` whose message says what the value should be. Pure.
 *
 * Anything rendered into nginx or HAProxy config passes one of these first: Mustache's
 * escaping is off, so these are the only guard against injected directives.
 *
 * @module
 */
import { compileHostRegex, HostRegexError } from "./host_regex.ts";
import { compilePathRegex, pathRegexSource } from "./path_regex.ts";
import { LabelError } from "../errors.ts";

// One DNS label: letters, digits, inner hyphens (length checked apart: no backtracking).
const HOST_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
// Path: unreserved and a few sub-delims of RFC 3986, and %XX escapes. No whitespace,
// `;`, `{`, `}`, `#`, quotes, backslashes, `$` (nginx variables) or control characters.
const PATH = /^\/(?:[A-Za-z0-9._~!*+,=:@\/-]|%[0-9A-Fa-f]{2})*$/;
const SAFE_PATH_CHAR = /^[A-Za-z0-9._~!*+,=:@\/-]$/;
// A health path may carry a query string as well.
const HEALTH_PATH = /^\/(?:[A-Za-z0-9._~!*+,=:@\/?&-]|%[0-9A-Fa-f]{2})*$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

/** Longest path or host list accepted. */
const MAX_VALUE_LENGTH = 1024;

/**
 * A comma-separated list of RFC 1123 host names to route, `*.` allowed in front; lowercased,
 * sorted. The `.invalid` domain is lbsync's own (see `GENERATION_HOST`).
 */
export function parseHosts(value: string): string[] {
  const hosts = parseHostNames(value);
  const reserved = hosts.find((host) => !host.startsWith("~") && /(?:^|\.)invalid$/.test(host));
  if (reserved !== undefined) {
    throw new LabelError(`${quote(reserved)}: the .invalid domain is reserved (RFC 2606)`);
  }
  return hosts;
}

/**
 * A certificate name (`lbsync.cert`, nginx-proxy's `CERT_NAME`): an RFC 1123 host name
 * (lowercased) or `default`, the files `NAME.crt` and `NAME.key` of the certificate directory.
 */
export function parseCertName(value: string): string {
  const names = parseHostNames(value);
  if (names.length !== 1 || names[0].includes("*") || names[0].startsWith("~")) {
    throw new LabelError("expected one host name (the certificate's file name without .crt)");
  }
  return names[0];
}

/**
 * A Strict-Transport-Security value: `max-age=SECONDS` with `includeSubDomains` and
 * `preload` optional (`; ` between them), or `off` (no header, returned as `""`).
 */
export function parseHsts(value: string): string {
  if (value === "off") return "";
  if (!/^max-age=[0-9]{1,10}(?:; ?includeSubDomains)?(?:; ?preload)?$/i.test(value)) {
    throw new LabelError(
      "expected off or max-age=SECONDS, optionally ; includeSubDomains and ; preload",
    );
  }
  return value;
}

/** Like {@link parseHosts}, without the reserved domain: for host names of servers. */
export function parseHostNames(value: string): string[] {
  guardLength(value);
  const hosts = value.split(",").map((h) => h.trim());
  const regexes = hosts.filter((h) => h.startsWith("~")).map(parseHostRegex);
  const names = hosts.filter((h) => !h.startsWith("~"));
  return [...parseNames(names, hosts.length), ...new Set(regexes)];
}

/**
 * A regular-expression host, nginx's `~REGEX` (matched against the lowercased host), in
 * lbsync's one dialect (`host_regex.ts`): what JavaScript, nginx and HAProxy read alike, and
 * match in linear time. What reaches `server_name` and HAProxy's `-m reg` is then confined to
 * a safe character set (no `{` `}` quotes `;` `#` whitespace).
 */
export function parseHostRegex(value: string): string {
  const source = value.slice(1);
  if (source.length === 0 || source.length > 255) {
    throw new LabelError(`${quote(value)} is not a host regex: 1 to 255 characters after ~`);
  }
  try {
    compileHostRegex(source);
  } catch (error) {
    if (!(error instanceof HostRegexError)) throw error;
    throw new LabelError(`${quote(value)} is not a host regex: ${error.message}`);
  }
  return value;
}

function parseNames(hosts: string[], listed: number): string[] {
  for (const host of hosts) {
    // Checked before lowercasing: "\u212A".toLowerCase() is "k", a look-alike would slip in.
    if (host.length > 253 || !isHostName(host)) {
      const which = listed > 1 ? `${quote(host)} is ` : "";
      throw new LabelError(
        `${which}not an RFC 1123 host name (optionally *.name or name.*) or an [IPv6] literal`,
      );
    }
  }
  return [...new Set(hosts.map((h) => h.toLowerCase()))].sort();
}

function isHostName(host: string): boolean {
  // an IPv6 literal in brackets, as a Host header names one ([fd00::1]); IPv4 reads as a name
  if (host.startsWith("[") && host.endsWith("]")) {
    const inner = host.slice(1, -1);
    return IPV6.test(inner) && inner.includes(":") && isIpv6(inner);
  }
  // one wildcard, at the start (*.example.com) or, as nginx also reads, the end (www.example.*)
  const bare = host.startsWith("*.")
    ? host.slice(2)
    : host.endsWith(".*")
    ? host.slice(0, -2)
    : host;
  const labels = bare.split(".");
  return labels.every((label) => label.length <= 63 && HOST_LABEL.test(label));
}

/**
 * A path prefix in the form both balancers match: starts with `/`, safe characters only.
 * `%XX` of a safe character is decoded (`/%61pi` is `/api`: requests are matched decoded),
 * `//` merged; an escape of anything else, or a `.` or `..` segment, is refused.
 */
export function parsePath(value: string): string {
  guardLength(value);
  if (!PATH.test(value)) {
    throw new LabelError(
      "not a path: must start with / and use only A-Z a-z 0-9 . _ ~ ! * + , = : @ / - and %XX",
    );
  }
  const decoded = value.replace(/%([0-9A-Fa-f]{2})/g, (escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    if (!SAFE_PATH_CHAR.test(char)) {
      throw new LabelError(
        `${escape} is not allowed in a path: requests are matched decoded, and ` +
          `${JSON.stringify(char)} is not a safe path character`,
      );
    }
    return char;
  }).replace(/\/{2,}/g, "/");
  if (/\/\.\.?(?:\/|$)/.test(decoded)) {
    throw new LabelError("has a . or .. segment: requests are matched with them resolved");
  }
  return decoded;
}

/**
 * The path of a route: a prefix ({@link parsePath}), or `~REGEX` (nginx's case-sensitive regex
 * location; `~ REGEX`, nginx-proxy's spelling, is the same) in the path dialect
 * (`path_regex.ts`), kept as written (nginx-proxy names its files by the SHA-1 of it). `~*`
 * (case-insensitive) is outside the dialect.
 */
export function parseRoutePath(value: string): string {
  if (!value.startsWith("~")) return parsePath(value);
  guardLength(value);
  if (value.startsWith("~*")) {
    throw new LabelError(
      "not a path regex: ~* (without case) is outside the dialect; write ~ with classes such as [Aa]",
    );
  }
  const source = pathRegexSource(value);
  if (source.length === 0 || source.length > 255) {
    throw new LabelError("not a path regex: 1 to 255 characters after ~");
  }
  try {
    compilePathRegex(source);
  } catch (error) {
    if (!(error instanceof HostRegexError)) throw error;
    throw new LabelError(`not a path regex: ${error.message} of the regex`);
  }
  return value;
}

/** A health check path: like {@link parsePath}, with `?` and `&` for a query string. */
export function parseHealthPath(value: string): string {
  guardLength(value);
  if (!HEALTH_PATH.test(value)) {
    throw new LabelError(
      "not a path: must start with / and use only A-Z a-z 0-9 . _ ~ ! * + , = : @ / ? & - and %XX",
    );
  }
  return value;
}

/** A decimal integer in `min..max`. */
export function parseInteger(value: string, min: number, max: number): number {
  if (!/^[0-9]{1,6}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new LabelError(`not an integer in ${min}..${max}`);
  }
  return Number(value);
}

/** A TCP port, 1..65535. */
export function parsePort(value: string): number {
  return parseInteger(value, 1, 65535);
}

/**
 * True for a TCP or UDP port number, 1..65535: the one rule for ports from every source
 * (labels, engine answers, Swarm tasks, files), so no balancer ever sees another.
 */
export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

/** `true` or `false`. */
export function parseBoolean(value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw new LabelError("not true or false");
}

/** One of `choices`. */
export function parseChoice<T extends string>(value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new LabelError(`not one of ${choices.join(", ")}`);
}

/** The prefix no name may start with: lbsync's own upstreams and backends are named with it. */
export const RESERVED_NAME_PREFIX = "lbsync_";

/**
 * A name used as an nginx upstream, HAProxy backend or server name: letters, digits,
 * `_`, `.`, `-`, starting with a letter or digit, at most 128 characters.
 */
export function parseName(value: string): string {
  if (value.length > 128 || !NAME.test(value)) {
    throw new LabelError(
      "not a name: use A-Z a-z 0-9 _ . - (starting with a letter or digit, at most 128)",
    );
  }
  if (value.startsWith(RESERVED_NAME_PREFIX)) {
    throw new LabelError(`names starting with ${RESERVED_NAME_PREFIX} are reserved`);
  }
  return value;
}

/** An IPv4 or IPv6 address (no brackets, no zone). */
export function parseIp(value: string): string {
  if (IPV4.test(value)) return value;
  if (IPV6.test(value) && value.includes(":") && isIpv6(value)) return value.toLowerCase();
  throw new LabelError(`${quote(value)} is not an IP address`);
}

/** A network in CIDR form (`10.0.0.0/8`, `fc00::/7`), or one address (`::1`). */
export function parseCidr(value: string): string {
  const [ip, bits, ...rest] = value.split("/");
  const address = parseIp(ip);
  if (rest.length > 0) throw new LabelError(`${quote(value)} is not a network (ADDRESS/BITS)`);
  if (bits === undefined) return address;
  const max = address.includes(":") ? 128 : 32;
  if (!/^[0-9]{1,3}$/.test(bits) || Number(bits) > max) {
    throw new LabelError(`${quote(value)}: the prefix length must be 0..${max}`);
  }
  return `${address}/${Number(bits)}`;
}

/** nginx's `resolver` parameters lbsync passes on, and the values each takes. */
const RESOLVER_PARAMETERS: Record<string, RegExp> = {
  valid: /^(?:[0-9]{1,6}[smhd])+$|^[0-9]{1,9}$/,
  ipv4: /^(?:on|off)$/,
  ipv6: /^(?:on|off)$/,
};

/**
 * The DNS servers of nginx's `resolver` (nginx-proxy's `RESOLVERS`), space- or
 * comma-separated: IPv4 addresses (`8.8.8.8`, `10.0.0.2:5353`), IPv6 ones (`2001:db8::53`,
 * `[::1]:5353`), and the parameters `valid=TIME`, `ipv4=on|off`, `ipv6=on|off`. Returned as
 * nginx writes them (an IPv6 address in brackets), addresses first.
 *
 * @example
 * ```ts
 * import { parseResolvers } from "./grammar.ts";
 * console.log(parseResolvers("8.8.8.8 2001:db8::53 valid=30s")); // [ "8.8.8.8", "[2001:db8::53]", "valid=30s" ]
 * ```
 */
export function parseResolvers(value: string): string[] {
  guardLength(value);
  const addresses: string[] = [];
  const parameters = new Map<string, string>();
  for (const token of value.split(/[\s,]+/).filter((t) => t !== "")) {
    const parameter = /^([a-z0-9_]+)=(.*)$/.exec(token);
    if (parameter) {
      const [, name, given] = parameter;
      const grammar = RESOLVER_PARAMETERS[name];
      if (!Object.hasOwn(RESOLVER_PARAMETERS, name) || !grammar.test(given)) {
        throw new LabelError(
          `${quote(token)}: the parameters are valid=TIME (30s, 5m), ipv4=on|off, ipv6=on|off`,
        );
      }
      if (parameters.has(name)) throw new LabelError(`${name}= is given twice`);
      parameters.set(name, token);
    } else addresses.push(resolverAddress(token));
  }
  if (addresses.length === 0) throw new LabelError("names no DNS server address");
  return [...addresses, ...parameters.values()];
}

/** One DNS server address of {@link parseResolvers}, as nginx writes it. */
function resolverAddress(token: string): string {
  if (token.includes("%")) {
    throw new LabelError(`${quote(token)}: nginx takes no scoped IPv6 address`);
  }
  const bracketed = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(token);
  const v4 = /^([0-9.]+)(?::([0-9]{1,5}))?$/.exec(token);
  const [ip, port] = bracketed
    ? [bracketed[1], bracketed[2]]
    : v4
    ? [v4[1], v4[2]]
    : [token, undefined];
  let address: string;
  try {
    address = parseIp(ip);
  } catch {
    throw new LabelError(
      `${quote(token)} is not a DNS server address: use IPV4, IPV4:PORT, IPV6 or [IPV6]:PORT`,
    );
  }
  if (port !== undefined && !isPort(Number(port))) {
    throw new LabelError(`${quote(token)}: the port must be 1..65535`);
  }
  if (!bracketed && !v4 && !address.includes(":")) {
    throw new LabelError(`${quote(token)} is not a DNS server address`);
  }
  const host = address.includes(":") ? `[${address}]` : address;
  return port === undefined ? host : `${host}:${Number(port)}`;
}

/** True when `ip` is an IPv6 address. */
export function isIpv6(ip: string): boolean {
  try {
    return new URL(`http://[${ip}]/`).hostname.length > 2;
  } catch {
    return false;
  }
}

/** `value` as a JSON string, cut to 60 characters: safe to show on one log line. */
export function quote(value: string): string {
  const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
  return JSON.stringify(shown);
}

function guardLength(value: string): void {
  if (value.length > MAX_VALUE_LENGTH) {
    throw new LabelError(`longer than ${MAX_VALUE_LENGTH} characters`);
  }
}

/** An absolute socket path: nothing that could break out of a `stats socket` line. */
export const SOCKET_PATH = /^\/[A-Za-z0-9._@+\/-]{1,200}$/;

/** True for an address only this machine can reach (`localhost`, `127.x.y.z`, `::1`). */
export function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "::1" || /^127(\.\d{1,3}){3}$/.test(hostname);
}
