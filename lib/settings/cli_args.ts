/**
 * Command-line parsing for `lbsync`. Pure: argv in, a command or a `UsageError` out.
 *
 * @module
 */
import { DEFAULTS } from "../core/defaults.ts";
import { parseDuration } from "../core/util/duration.ts";
import { errorMessage, UsageError } from "../core/errors.ts";
import {
  isLoopback,
  parseCertName,
  parseCidr,
  parseInteger,
  parseName,
  parseResolvers,
  SOCKET_PATH,
} from "../core/util/grammar.ts";
import { parseHeartbeat } from "../core/heartbeat.ts";
import { parseListenAddress } from "../core/util/listen_address.ts";
import type { WatchOptions } from "../watch/watch.ts";
import type { Target } from "../apply/targets.ts";
import type { PortMapping, RedirectCode, StaticService } from "../core/types.ts";
import type { StoreOptions } from "../sources/store.ts";
import { parsePortMappings } from "../core/model/select.ts";
import type { RouteQuery } from "../core/route_request.ts";
import { closestOption, type CommandName, COMMANDS, findOption, OPTION_SPECS } from "./options.ts";
import { type ArgvToken as Token, parseArgv } from "./argv.ts";
import type { OptionValue } from "./config_file.ts";

/**
 * What the tokenizer gives for the option table: a string, strings or a flag per option, as
 * its spec says; each value goes through its own parser below.
 */
// deno-lint-ignore no-explicit-any
type Values = Record<string, any>;

function isCommand(value: string | undefined): value is CommandName {
  return (COMMANDS as readonly string[]).includes(value ?? "");
}

/** `lbsync help [COMMAND]`. */
function helpTopic(extra: string[]): CommandName | undefined {
  const [topic, ...more] = extra;
  if (more.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(more[0])}`);
  if (topic === undefined) return undefined;
  if (!isCommand(topic)) {
    throw new UsageError(
      `No help for ${JSON.stringify(topic)}: use render, watch, explain or route`,
    );
  }
  return topic;
}

/** An option given to a command it does not apply to is a usage error naming its commands. */
function checkApplicable(command: CommandName, tokens: Token[]): void {
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const spec = findOption(token.name);
    if (spec && !spec.commands.includes(command)) {
      throw new UsageError(
        `--${spec.name} works with ${spec.commands.join(", ")}, not ${command}`,
      );
    }
  }
}

/** The options that go with `--from-status`: the watch's settings make its model. */
const WITH_FROM_STATUS = new Set([
  "from-status",
  "config",
  "format",
  "log-format",
  "quiet",
  "verbose",
]);

/** With `--from-status`, an option that would shape a model of this run is a usage error. */
function checkFromStatus(tokens: Token[]): void {
  for (const token of tokens) {
    const spec = token.kind === "option" ? findOption(token.name) : undefined;
    if (spec && !WITH_FROM_STATUS.has(spec.name)) {
      throw new UsageError(
        `--${spec.name} does not go with --from-status: the watch's own settings made its model`,
      );
    }
  }
}

/**
 * `--from-status`: the base URL of a watch's status listener, from `http://HOST[:PORT]`, or
 * `HOST:PORT` or `PORT` as `--status-listen` takes them (a bare port is 127.0.0.1's).
 */
function statusUrl(value: string): string {
  if (!value.includes("://")) {
    const { hostname, port } = listenAddress("--from-status", value);
    return `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  }
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch { /* below */ }
  const plain = url?.protocol === "http:" && url.hostname !== "" && url.pathname === "/" &&
    !url.username && !url.password && !url.search && !url.hash;
  if (!url || !plain) {
    throw new UsageError(
      `Invalid --from-status ${
        JSON.stringify(value)
      }: use the watch's --status-listen address, http://HOST:PORT, HOST:PORT or PORT`,
    );
  }
  return url.origin;
}

/** Log output settings. */
export interface LogSettings {
  format: "text" | "json";
  /** 0 quiet (errors only), 1 default (warnings), 2 verbose. */
  level: 0 | 1 | 2;
}

/** A parsed command line. */
export type Command =
  | { command: "help"; topic?: CommandName }
  | { command: "version" }
  | {
    command: "render" | "explain" | "watch" | "route";
    options: WatchOptions;
    /** `route`: the request to route. */
    route?: RouteTarget;
    /** `explain` and `route`: the status listener of the watch whose model to read. */
    fromStatus?: string;
    /** Output format of `explain`. */
    format: "text" | "json";
    log: LogSettings;
    /** `--config FILE`, read by the caller, whose settings come before these arguments. */
    configPath?: string;
  };

/**
 * Parses `lbsync` arguments. `env` supplies `DOCKER_HOST`, `DOCKER_TLS_VERIFY` and
 * `DOCKER_CERT_PATH`; `config` holds the targets and static services of a `--config` file.
 *
 * @example
 * ```ts
 * import { parseCommandLine } from "./cli_args.ts";
 * const cmd = parseCommandLine(["render", "--from-file", "c.json", "-t", "nginx", "-o", "-"]);
 * console.log(cmd.command); // render
 * ```
 *
 * @throws {UsageError} with a one-line message naming the bad argument
 */
export function parseCommandLine(
  args: string[],
  env: Record<string, string | undefined> = {},
  config: { values?: Record<string, OptionValue>; targets?: Target[]; services?: StaticService[] } =
    {},
  now: () => number = Date.now,
): Command {
  const { positionals, tokens, values: given } = tokenize(args);
  const values = withConfigValues(given, config.values ?? {});
  const [command, ...extra] = positionals;
  if (command === "help") return { command: "help", topic: helpTopic(extra) };
  if (values.help) return { command: "help", topic: isCommand(command) ? command : undefined };
  if (values.version) return { command: "version" };
  if (command === undefined) {
    throw new UsageError("No command: use render, watch, explain or route (see --help)");
  }
  if (!isCommand(command)) {
    throw new UsageError(
      `Unknown command ${JSON.stringify(command)}: use render, watch, explain or route`,
    );
  }
  // options from the command line must fit the command; a shared --config file may hold more
  if (config.targets === undefined && config.services === undefined) {
    checkApplicable(command, tokens);
    if (values["from-status"] !== undefined) checkFromStatus(tokens);
  }
  const route = command === "route" ? routeQuery(extra.shift()) : undefined;
  if (extra.length > 0) throw new UsageError(`Unexpected argument ${JSON.stringify(extra[0])}`);

  const socket = haproxySocket(values["haproxy-socket"]);
  const options: WatchOptions = {
    ...sourceOptions(values, env),
    ...modelOptions(values, config, socket),
    targets: targetsOf(values, tokens, config, socket),
    apply: applyOptions(values),
    ...watchOptions(values, command, now),
  };
  checkServers(command, values, options);
  if (values.store !== undefined && (config.services?.length ?? 0) > 0) {
    throw new UsageError(
      "--store holds the static services: move the config file's services there (lbsync store import FILE)",
    );
  }
  const reportsOnly = command === "explain" || command === "route";
  if (!reportsOnly && options.targets!.length === 0 && values.config === undefined) {
    throw new UsageError("No target: give -t TEMPLATE -o PATH (e.g. -t nginx -o -)");
  }
  return {
    command,
    options,
    route,
    fromStatus: values["from-status"] === undefined ? undefined : statusUrl(values["from-status"]),
    format: values.format === undefined
      ? "text"
      : choice("--format", values.format, ["text", "json"] as const),
    log: {
      format: values["log-format"] === undefined
        ? "text"
        : choice("--log-format", values["log-format"], ["text", "json"] as const),
      level: values.quiet ? 0 : values.verbose ? 2 : 1,
    },
    configPath: values.config,
  };
}

/** The arguments as tokens, positionals and option values; an unknown option is a usage error. */
/** The command line's values over a config file's; a repeatable option's lists joined. */
function withConfigValues(given: Values, config: Record<string, OptionValue>): Values {
  const values: Values = { ...config, ...given };
  for (const [name, value] of Object.entries(config)) {
    if (Array.isArray(value) && Array.isArray(given[name])) {
      values[name] = [...value, ...given[name]];
    }
  }
  return values;
}

function tokenize(args: string[]): { positionals: string[]; tokens: Token[]; values: Values } {
  return parseArgv(args, OPTION_SPECS, closestOption);
}

/** Where containers come from: engines, files, Swarm. */
function sourceOptions(
  values: Values,
  env: Record<string, string | undefined>,
): Partial<WatchOptions> {
  return {
    fromFiles: values["from-file"],
    docker: {
      urls: values.docker,
      tls: { ca: values["tls-ca"], cert: values["tls-cert"], key: values["tls-key"] },
      env,
    },
    allowPartial: values["allow-partial"],
    dockerTimeoutMs: duration("--docker-timeout", values["docker-timeout"]),
    store: values.store === undefined ? undefined : storeOptionsOf(values.store, values),
    swarm: values.swarm || values["swarm-vip"] ? { vip: values["swarm-vip"] } : undefined,
  };
}

/** Which containers are backends, and how the model is built from them. */
function modelOptions(
  values: Values,
  config: { services?: StaticService[] },
  socket: string | undefined,
): Partial<WatchOptions> {
  return {
    service: values.service === undefined ? undefined : serviceFlag(values.service),
    ports: values.ports === undefined ? undefined : portsFlag(values.ports),
    labelPrefix: values["label-prefix"],
    namePrefix: values["name-prefix"],
    match: values.match === undefined ? undefined : parseRegex("--match", values.match),
    matchImage: values["match-image"] === undefined
      ? undefined
      : parseRegex("--match-image", values["match-image"]),
    address: values.address === undefined
      ? undefined
      : choice("--address", values.address, ["network", "published"] as const),
    network: values.network,
    hostIp: values["host-ip"],
    listen: values.listen === undefined ? undefined : port("--listen", values.listen),
    listenAddress: values["listen-address"],
    internalNetworks: values["internal-networks"] === undefined
      ? undefined
      : networks(values["internal-networks"]),
    resolvers: values.resolvers === undefined ? undefined : resolvers(values.resolvers),
    defaultHost: values["default-host"] === undefined
      ? undefined
      : hostFlag("--default-host", values["default-host"]),
    certDir: configPath("--cert-dir", values["cert-dir"]),
    htpasswdDir: configPath("--htpasswd-dir", values["htpasswd-dir"]),
    vhostDir: configPath("--vhost-dir", values["vhost-dir"]),
    proxyConf: configPath("--proxy-conf", values["proxy-conf"]),
    dhparam: configPath("--dhparam", values.dhparam),
    networkInternalConf: configPath("--network-internal-conf", values["network-internal-conf"]),
    errorPage: configPath("--error-page", values["error-page"]),
    acmeWebroot: configPath("--acme-webroot", values["acme-webroot"]),
    acmeWebrootOptIn: values["acme-webroot-opt-in"],
    acmeWebrootUnknownHosts: values["acme-webroot-unknown-hosts"],
    nonGetRedirect: values["non-get-redirect"] === undefined ? undefined : Number(
      choice(
        "--non-get-redirect",
        values["non-get-redirect"],
        [
          "301",
          "302",
          "303",
          "307",
          "308",
        ] as const,
      ),
    ) as RedirectCode,
    httpsMethod: values["https-method"] === undefined ? undefined : choice(
      "--https-method",
      values["https-method"],
      ["redirect", "noredirect", "nohttp", "nohttps"] as const,
    ),
    trustDefaultCert: flagBoolean("--trust-default-cert", values["trust-default-cert"]),
    httpOnMissingCert: flagBoolean("--http-on-missing-cert", values["http-on-missing-cert"]),
    httpsListen: values["https-listen"] === undefined
      ? undefined
      : port("--https-listen", values["https-listen"]),
    connectTimeoutMs: duration("--connect-timeout", values["connect-timeout"]),
    includeUnhealthy: values["include-unhealthy"],
    trustDownstreamProxy: values["trust-downstream-proxy"],
    proxyProtocol: values["proxy-protocol"],
    enableIpv6: values["enable-ipv6"],
    sha1UpstreamNames: values["sha1-upstream-names"],
    defaultRoot: values["default-root"],
    preferIpv6: values["prefer-ipv6"],
    balancerContainer: values["balancer-container"] === undefined
      ? undefined
      : containerRef("--balancer-container", values["balancer-container"]),
    staticServices: config.services,
    haproxySocket: socket,
    compat: values.compat === undefined
      ? undefined
      : choice("--compat", values.compat, ["nginx-proxy"] as const),
    drainTimeoutMs: duration("--drain-timeout", values["drain-timeout"]),
    readyTimeoutMs: duration("--ready-timeout", values["ready-timeout"]),
    rollover: values.rollover,
  };
}

/** The config file's targets, then the command line's `-t`/`-o` pairs, with their commands. */
function targetsOf(
  values: Values,
  tokens: Token[],
  config: { targets?: Target[] },
  socket: string | undefined,
): Target[] {
  return [...(config.targets ?? []), ...pairTargets(tokens)].map((t) => ({
    ...t,
    check: t.check ?? values["check-cmd"],
    reload: t.reload ?? values["reload-cmd"],
    haproxySocket: t.haproxySocket ?? (t.template === "haproxy" ? socket : undefined),
  }));
}

/** How outputs are written, checked, backed up and confirmed. */
function applyOptions(values: Values): WatchOptions["apply"] {
  return {
    backupDir: values["backup-dir"],
    keepBackups: values["keep-backups"] === undefined
      ? undefined
      : integer("--keep-backups", values["keep-backups"], 1, 100_000),
    dryRun: values["dry-run"],
    commandTimeoutMs: duration("--command-timeout", values["command-timeout"]),
    lockTimeoutMs: duration("--lock-timeout", values["lock-timeout"]),
    confirmTimeoutMs: duration("--confirm-timeout", values["confirm-timeout"]),
  };
}

/** Watch mode: batching, resyncs, retirement, and lbsync's own servers. */
function watchOptions(values: Values, command: string, now: () => number): Partial<WatchOptions> {
  return {
    signalContainer: values["signal-container"] === undefined
      ? undefined
      : signalTarget(values["signal-container"]),
    heartbeat: values.heartbeat === undefined ? undefined : heartbeat(values.heartbeat),
    // Swarm has no task events: a scaled service is seen at the next resync
    resyncMs: duration("--resync", values.resync) ??
      (values.swarm || values["swarm-vip"] ? DEFAULTS.swarmResyncMs : undefined),
    since: values.since === undefined ? undefined : parseSince(values.since, now),
    configPath: values.config,
    retireAfterMs: duration("--retire-after", values["retire-after"]),
    statusListen: values["status-listen"],
    nginxDns: values["nginx-dns"] === undefined
      ? undefined
      : resolverAddress(command, values["nginx-dns"]),
    nginxDnsPublic: values["nginx-dns-public"],
    adminListen: values["admin-listen"],
    adminTokenFile: values["admin-token-file"],
    acmeDirectory: values["acme-directory"] === undefined
      ? undefined
      : acmeDirectory(values["acme-directory"]),
    acmeEmail: values["acme-email"] === undefined ? undefined : email(values["acme-email"]),
    acmeCaFile: values["acme-ca-file"],
    acmeListen: values["acme-listen"],
  };
}

/** lbsync's own servers: valid addresses, and off loopback only when meant. */
function checkServers(command: string, values: Values, options: WatchOptions): void {
  if (options.adminListen !== undefined) {
    if (command !== "watch") throw new UsageError("--admin-listen works with watch");
    if (values.config === undefined && values.store === undefined) {
      throw new UsageError("--admin-listen needs --config FILE or --store: changes are kept there");
    }
    const { hostname } = listenAddress("--admin-listen", options.adminListen);
    if (options.adminTokenFile === undefined && !isLoopback(hostname)) {
      throw new UsageError(
        `Refusing --admin-listen ${options.adminListen} without --admin-token-file: only a loopback address may go without a token`,
      );
    }
  }
  if (options.nginxDns !== undefined && !options.nginxDnsPublic) {
    const { hostname } = listenAddress("--nginx-dns", values["nginx-dns"]!);
    if (!isLoopback(hostname)) {
      throw new UsageError(
        `Refusing --nginx-dns ${
          values["nginx-dns"]
        }: off loopback a DNS server can be used to flood others; add --nginx-dns-public to mean it`,
      );
    }
  }
  if (options.statusListen !== undefined) listenAddress("--status-listen", options.statusListen);
  if (options.acmeListen !== undefined) listenAddress("--acme-listen", options.acmeListen);
  if (options.acmeDirectory !== undefined && options.certDir === undefined) {
    throw new UsageError("--acme-directory needs --cert-dir DIR: certificates are kept there");
  }
  checkOperatorFiles(options);
}

/**
 * nginx-proxy's operator files are nginx configuration and nginx's htpasswd, and a webroot is
 * files nginx serves: the built-in HAProxy template cannot honour them, and basic auth silently
 * missing would open a door.
 */
function checkOperatorFiles(options: WatchOptions): void {
  const flag = options.htpasswdDir !== undefined
    ? "--htpasswd-dir"
    : options.vhostDir !== undefined
    ? "--vhost-dir"
    : options.proxyConf !== undefined
    ? "--proxy-conf"
    : options.networkInternalConf !== undefined
    ? "--network-internal-conf"
    : options.acmeWebroot !== undefined
    ? "--acme-webroot"
    : undefined;
  if (flag && (options.targets ?? []).some((t) => t.template === "haproxy")) {
    throw new UsageError(
      `${flag} works with nginx targets: ${
        flag === "--acme-webroot"
          ? "HAProxy serves no files"
          : "its files are nginx configuration, which the haproxy template cannot include"
      }`,
    );
  }
}

/** `--acme-directory URL`: an http(s) URL. */
function acmeDirectory(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch { /* below */ }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new UsageError(
      `Invalid --acme-directory ${
        JSON.stringify(value)
      }: use the ACME server's https:// directory URL`,
    );
  }
  return url.href;
}

/** `--acme-email`: one address, no spaces or angle brackets. */
function email(value: string): string {
  if (!/^[^\s@<>,;"]{1,64}@[A-Za-z0-9.-]{1,253}$/.test(value)) {
    throw new UsageError(`Invalid --acme-email ${JSON.stringify(value)}: use one address`);
  }
  return value;
}

/**
 * The request of `lbsync route URL`; `listen` is absent when the URL names no port: the
 * request then goes to the model's default http port (`--listen`, or the watch's).
 */
export type RouteTarget = Omit<RouteQuery, "listen"> & { listen?: number };

/**
 * The request of `lbsync route URL`: `http://HOST[:PORT]/PATH?QUERY` (the path as written:
 * no normalization here, that is the rule under test), `https://...` (over TLS: `PORT` is an
 * HTTPS port) or `tcp://[HOST]:PORT`.
 */
export function routeQuery(url: string | undefined): RouteTarget {
  if (url === undefined) throw new UsageError("route needs a URL, e.g. http://example.com/api");
  const match = /^(https?|tcp):\/\/([^/?#\s]*?)(?::(\d{1,5}))?(\/[^#\s]*)?$/i.exec(url);
  const bad = () =>
    new UsageError(
      `Invalid URL ${JSON.stringify(url)}: use http://HOST[:PORT]/PATH or tcp://:PORT`,
    );
  if (!match) throw bad();
  const [, scheme, host, portText, path] = match;
  const listen = portText === undefined ? undefined : port("the URL's port", portText);
  if (scheme.toLowerCase() === "tcp") {
    if (listen === undefined) throw bad();
    return { listen };
  }
  const tls = scheme.toLowerCase() === "https" ? { tls: true } : {};
  return { listen, host: host === "" ? undefined : host, path: path ?? "/", ...tls };
}

/** `--ports LIST`. */
function portsFlag(value: string): PortMapping[] {
  try {
    return parsePortMappings(value);
  } catch (error) {
    throw new UsageError(`Invalid --ports ${JSON.stringify(value)}: ${errorMessage(error)}`);
  }
}

/** `--service NAME`: a valid service name. */
function serviceFlag(value: string): string {
  try {
    return parseName(value);
  } catch (error) {
    throw new UsageError(`Invalid --service ${JSON.stringify(value)}: ${errorMessage(error)}`);
  }
}

/** `--haproxy-socket`: an absolute path, written into the config as is. */
function haproxySocket(value: string | undefined): string | undefined {
  if (value === undefined || SOCKET_PATH.test(value)) return value;
  throw new UsageError(
    `Invalid --haproxy-socket ${
      JSON.stringify(value)
    }: use an absolute path of letters, digits and . _ - / @ +`,
  );
}

/**
 * A path the balancer's config names (`--cert-dir`, `--vhost-dir`, ...), made absolute: it is
 * written into the config, so it must be letters, digits and `. _ - / @ +`.
 */
function configPath(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const path = value.startsWith("/") ? value : `${Deno.cwd()}/${value}`;
  const clean = path.replace(/\/\.\//g, "/").replace(/\/+$/, "") || "/";
  if (!SOCKET_PATH.test(clean)) {
    throw new UsageError(
      `Invalid ${flag} ${JSON.stringify(value)}: use a path of letters, digits and . _ - / @ +`,
    );
  }
  return clean;
}

/** `--internal-networks`: comma-separated CIDR networks. */
function networks(value: string): string[] {
  try {
    return value.split(",").map((n) => parseCidr(n.trim()));
  } catch (error) {
    throw new UsageError(
      `Invalid --internal-networks ${JSON.stringify(value)}: ${errorMessage(error)}`,
    );
  }
}

/** `--resolvers`: nginx's DNS servers and `resolver` parameters. */
function resolvers(value: string): string[] {
  try {
    return parseResolvers(value);
  } catch (error) {
    throw new UsageError(`Invalid --resolvers ${JSON.stringify(value)}: ${errorMessage(error)}`);
  }
}

/** One exact host name (lowercased). */
function hostFlag(flag: string, value: string): string {
  try {
    return parseCertName(value);
  } catch (error) {
    throw new UsageError(`Invalid ${flag} ${JSON.stringify(value)}: ${errorMessage(error)}`);
  }
}

/** `--nginx-dns ADDR` as nginx's `resolver` writes it: `HOST:PORT`, `[V6]:PORT`. */
function resolverAddress(command: string, value: string): string {
  if (command === "render") {
    throw new UsageError("--nginx-dns works with watch: the watch answers nginx's queries");
  }
  const { hostname, port } = listenAddress("--nginx-dns", value);
  return `${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
}

/** `parseListenAddress`, its error a usage error. */
function listenAddress(flag: string, value: string): { hostname: string; port: number } {
  try {
    return parseListenAddress(value, flag);
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
}

function heartbeat(value: string) {
  try {
    return parseHeartbeat(value);
  } catch (error) {
    throw new UsageError(`Invalid --heartbeat: ${errorMessage(error)}`);
  }
}

/**
 * `--since`: unix seconds, an RFC 3339 time, or a duration meaning that long ago; returned
 * as unix seconds, the form the Docker API takes.
 */
export function parseSince(value: string, now: () => number = Date.now): string {
  if (/^\d{1,12}(\.\d{1,9})?$/.test(value)) return value;
  const date = Date.parse(value);
  if (/^\d{4}-\d\d-\d\d/.test(value) && Number.isFinite(date)) {
    return String(Math.floor(date / 1000));
  }
  try {
    return String(Math.floor((now() - parseDuration(value)) / 1000));
  } catch {
    throw new UsageError(
      `Invalid --since ${
        JSON.stringify(value)
      }: use unix seconds, an RFC 3339 time or a duration (10m)`,
    );
  }
}

/** `NAME[:SIGNAL]`, SIGHUP by default. */
function signalTarget(value: string): { name: string; signal: string } {
  const [name, signal = "SIGHUP", ...rest] = value.split(":");
  try {
    parseName(name);
  } catch (error) {
    throw new UsageError(
      `Invalid --signal-container ${JSON.stringify(value)}: ${errorMessage(error)}`,
    );
  }
  if (rest.length > 0 || !/^(SIG)?[A-Z0-9]{1,10}$/.test(signal)) {
    throw new UsageError(
      `Invalid --signal-container ${
        JSON.stringify(value)
      }: use NAME or NAME:SIGNAL (e.g. nginx:SIGHUP)`,
    );
  }
  return {
    name,
    signal: signal.startsWith("SIG") || /^\d+$/.test(signal) ? signal : `SIG${signal}`,
  };
}

function integer(flag: string, value: string, min: number, max: number): number {
  try {
    return parseInteger(value, min, max);
  } catch (error) {
    throw new UsageError(`Invalid ${flag} ${JSON.stringify(value)}: ${errorMessage(error)}`);
  }
}

function duration(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new UsageError(`Invalid ${flag}: ${errorMessage(error)}`);
  }
}

/** `-t` starts a target, the next `-o` gives its output; a `-t` without `-o` prints. */
function pairTargets(tokens: Token[]): Target[] {
  const targets: Target[] = [];
  let open: Target | undefined;
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    if (token.name === "template") {
      open = { template: token.value!, output: "-" };
      targets.push(open);
    } else if (token.name === "output") {
      if (!open) throw new UsageError(`-o ${token.value} must follow a -t TEMPLATE`);
      open.output = token.value!;
      open = undefined;
    }
  }
  return targets;
}

/** A container's id or name, as Docker spells them. */
function containerRef(flag: string, value: string): string {
  if (/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,254}$/.test(value)) return value;
  throw new UsageError(
    `Invalid ${flag} ${JSON.stringify(value)}: a container id or name (letters, digits, _ . -)`,
  );
}

function parseRegex(flag: string, source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new UsageError(`Invalid ${flag} ${JSON.stringify(source)}: ${errorMessage(error)}`);
  }
}

function port(flag: string, value: string): number {
  return integer(flag, value, 1, 65535);
}

/** A `true` / `false` flag value (nginx-proxy's spellings: `1`, `0`, any case); unset stays unset. */
function flagBoolean(flag: string, value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const lower = value.trim().toLowerCase();
  if (["true", "1", "t"].includes(lower)) return true;
  if (["false", "0", "f"].includes(lower)) return false;
  throw new UsageError(`Invalid ${flag} ${JSON.stringify(value)}: use true or false`);
}

function choice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`Invalid ${flag} ${JSON.stringify(value)}: use ${choices.join(" or ")}`);
}

/** `--store URL` and its TLS and auth flags, as the store client takes them. */
export function storeOptionsOf(
  url: string,
  values: Readonly<Record<string, unknown>>,
): StoreOptions {
  const text = (name: string) => values[name] as string | undefined;
  return {
    url,
    ca: text("store-ca"),
    cert: text("store-cert"),
    key: text("store-key"),
    user: text("store-user"),
    passwordFile: text("store-password-file"),
  };
}
