/**
 * The `lbsync` command: parse, call the library, print, exit.
 *
 * @example
 * ```sh
 * deno run --allow-read=. cli.ts render --from-file examples/containers.json -t nginx -o -
 * ```
 *
 * @module
 */
import meta from "./deno.json" with { type: "json" };
import type { ApplyReport } from "./lib/apply/apply.ts";
import { type Command, parseCommandLine } from "./lib/settings/cli_args.ts";
import { parseConfigFile } from "./lib/settings/config_file.ts";
import {
  ConfigError,
  describeHint,
  errorMessage,
  fileErrorReason,
  UsageError,
} from "./lib/core/errors.ts";
import { flagOf } from "./lib/settings/options.ts";
import { explainRows, formatExplainTable } from "./lib/core/explain.ts";
import { formatRouteAnswer, type RouteAnswer, routeRequest } from "./lib/core/route_request.ts";
import { createLogger, type Logger } from "./lib/cli/log.ts";
import { buildReadyModel, ReadinessGate } from "./lib/watch/readiness.ts";
import {
  denoRunIo,
  discover,
  portProbeOf,
  probeTimeout,
  type RunIo,
  runOnce,
  usesEngines,
} from "./lib/watch/run_once.ts";
import type { ModelResult } from "./lib/core/types.ts";
import { serveStatus } from "./lib/serve/status_server.ts";
import { serveAdmin } from "./lib/serve/admin/admin_server.ts";
import { DNS_ZONE, dnsRecords } from "./lib/core/model/dns_names.ts";
import { serveDns } from "./lib/serve/dns/dns_server.ts";
import { startAcme } from "./lib/serve/acme_service.ts";
import {
  describeUnlisted,
  fanOut,
  passBoundMs,
  Watcher,
  type WatchObserver,
  type WatchOptions,
} from "./lib/watch/watch.ts";
import { WatchStats } from "./lib/serve/watch_stats.ts";
import { helpText } from "./lib/settings/help.ts";
import { finalizeRunOptions } from "./lib/watch/run_settings.ts";
import { resolveEndpoints } from "./lib/sources/docker_endpoint.ts";

/** What the CLI writes to and reads from; tests pass their own. */
export interface CliIo extends RunIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env(): Record<string, string | undefined>;
}

const encoder = new TextEncoder();

/** The real terminal and file system. */
export const denoCliIo: CliIo = {
  ...denoRunIo,
  stdout: (text) => void Deno.stdout.writeSync(encoder.encode(text)),
  stderr: (text) => void Deno.stderr.writeSync(encoder.encode(text)),
  env: readDockerEnv,
};

/** The variables lbsync reads; each unset or not permitted one is simply absent. */
const ENV_NAMES = [
  "DOCKER_HOST",
  "DOCKER_TLS_VERIFY",
  "DOCKER_CERT_PATH",
  "DOCKER_API_VERSION",
  "HOME",
];

function readDockerEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of ENV_NAMES) {
    try {
      env[name] = Deno.env.get(name);
    } catch {
      // no --allow-env for it: as if unset
    }
  }
  return env;
}

/**
 * Runs `lbsync` with `args` and returns the exit code: 0 success, 1 failure at run time,
 * 2 usage or configuration error. Errors are one line on stderr; `-v` adds the stack.
 */
export async function runCli(args: string[], io: CliIo = denoCliIo): Promise<number> {
  let command: Command;
  try {
    command = await parseWithConfig(args, io);
  } catch (error) {
    io.stderr(`lbsync: error: ${errorMessage(error)}\n`);
    return 2;
  }
  if (command.command === "help") {
    io.stdout(helpText(command.topic));
    return 0;
  }
  if (command.command === "version") {
    io.stdout(`lbsync ${meta.version}\n`);
    return 0;
  }
  const log = createLogger(command.log, (line) => io.stderr(line + "\n"));
  try {
    if (command.command === "route") {
      const { result } = await currentModel(command.options, io, log);
      const answer = routeRequest(result.model, command.route!);
      io.stdout(
        command.format === "json"
          ? JSON.stringify(routeJson(answer), null, 2) + "\n"
          : formatRouteAnswer(answer, command.route!),
      );
      return 0;
    }
    if (command.command === "explain") {
      const { result, manager } = await currentModel(command.options, io, log);
      const rows = explainRows(result, flagOf);
      io.stdout(
        command.format === "json"
          ? JSON.stringify({ containers: rows, warnings: result.warnings, manager }, null, 2) + "\n"
          : formatExplainTable(rows, result.warnings) +
            (manager ? `\nRead from Swarm manager ${manager}\n` : ""),
      );
      return 0;
    }
    if (command.command === "watch") return await runWatch(command, args, io, log);
    const result = await runOnce(command.options, io);
    for (const f of result.failures) log.warn(f.message);
    report(result, log);
    for (const target of result.targets) {
      if (target.output === "-") io.stdout(target.content);
      else if (target.diff !== undefined) io.stdout(target.diff);
      else if (target.changed) log.debug(`wrote ${target.output}`, { template: target.template });
      else log.debug(`unchanged ${target.output}`, { template: target.template });
    }
    const summary = renderSummary(result);
    if (summary) log.info(summary);
    reportApply(result.apply, log);
    if (result.apply.notified) log.debug(result.apply.notified);
    return 0;
  } catch (error) {
    log.error(errorMessage(error));
    if (command.log.level === 2 && error instanceof Error && error.stack) {
      io.stderr(error.stack + "\n");
    }
    return error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
  }
}

/**
 * One line for `render` (unless `--quiet`): what it wrote and reloaded, or that nothing
 * changed. Nothing when every target printed to standard output.
 */
function renderSummary(result: Awaited<ReturnType<typeof runOnce>>): string | undefined {
  const files = result.targets.filter((t) => t.output !== "-" && t.diff === undefined);
  if (files.length === 0) return undefined;
  const wrote = files.filter((t) => t.changed).map((t) => t.output);
  if (wrote.length === 0) return `nothing changed (${files.map((t) => t.output).join(", ")})`;
  const reloads = result.apply.reloads.length;
  const runtime = result.apply.targets.filter((t) => t.runtime?.applied).length;
  const how = [
    ...(reloads > 0 ? [`${reloads} reload${reloads === 1 ? "" : "s"}`] : []),
    ...(runtime > 0 ? [`${runtime} through the HAProxy runtime API`] : []),
  ];
  return `wrote ${wrote.join(", ")}${how.length > 0 ? `; ${how.join(", ")}` : ""}`;
}

/** What a watch follows, for its first log line: the engines and files it reads. */
function watchedSources(options: Parameters<typeof discover>[0]): Record<string, string> {
  const files = options.fromFiles ?? [];
  const engines = usesEngines(options)
    ? resolveEndpoints(options.docker).map((e) => e.url).join(",")
    : "";
  return {
    ...(engines ? { engines } : {}),
    ...(files.length > 0 ? { files: files.join(",") } : {}),
  };
}

/** Discovers the containers and builds the model, as `render` would, for the reports. */
async function currentModel(
  given: WatchOptions,
  io: CliIo,
  log: Logger,
): Promise<{ result: ModelResult; manager?: string }> {
  const options = finalizeRunOptions(given);
  const { containers, failures, fromFiles, manager } = await discover(options, io);
  for (const f of failures) log.warn(f.message);
  const gate = new ReadinessGate({ probeTimeoutMs: probeTimeout(options) });
  const busyPorts = await portProbeOf(options.targets ?? [], options);
  const result = await buildReadyModel(containers, options, gate, 0, fromFiles, busyPorts);
  return { result, manager };
}

/** `lbsync route --format json`: the answer with the service by name, not the whole model. */
function routeJson(answer: RouteAnswer): Record<string, unknown> {
  if (answer.kind !== "routed") return answer;
  const { service, ...rest } = answer;
  return {
    ...rest,
    service: service.name,
    backend: service.backend,
    mode: service.mode,
    servers: answer.servers.map((s) => ({ name: s.name, id: s.id, endpoint: s.endpoint })),
  };
}

/** Parses the command line; with `--config FILE`, its settings come first, then the flags. */
async function parseWithConfig(args: string[], io: CliIo): Promise<Command> {
  const first = parseCommandLine(args, io.env());
  if (!("configPath" in first) || first.configPath === undefined) return first;
  const path = first.configPath;
  let text: string;
  try {
    text = await io.readTextFile(path);
  } catch (error) {
    const why = fileErrorReason(error);
    throw new ConfigError(`Cannot read config ${path}: ${why}`);
  }
  const config = parseConfigFile(text, path);
  return parseCommandLine([...config.args, ...args], io.env(), config);
}

/** After SIGTERM or SIGINT, the longest watch mode waits for the pass in progress. */
const STOP_GRACE_MS = 4_000;

/**
 * Watch mode until SIGTERM or SIGINT (then exit 0 once the apply in progress is done);
 * SIGHUP resyncs and re-reads files.
 */
async function runWatch(
  command: Extract<Command, { options: unknown }>,
  args: string[],
  io: CliIo,
  log: Logger,
): Promise<number> {
  const controller = new AbortController();
  const reload = command.configPath
    ? async () => (await parseWithConfig(args, io) as typeof command).options
    : undefined;
  const stats = new WatchStats(undefined, passBoundMs(command.options));
  const observers: WatchObserver[] = [watchLogger(log), stats];
  if (command.options.nginxDns !== undefined) {
    const dns = await serveDns(
      command.options.nginxDns,
      (code) => stats.dnsAnswered(code),
      { public: command.options.nginxDnsPublic },
    );
    controller.signal.addEventListener("abort", () => dns.close());
    observers.push({ built: (result) => dns.update(dnsRecords(result.model)) });
    log.info(`DNS for nginx on udp port ${dns.port} (and tcp): *.${DNS_ZONE}`);
  }
  let options = command.options;
  let reloadOptions = reload;
  if (options.acmeDirectory !== undefined) {
    const acme = startAcme(options, {
      issued: (_host, message) => {
        stats.acmeOrder("issued");
        log.info(message);
      },
      failed: (_host, message) => {
        stats.acmeOrder("failed");
        log.error(message);
      },
    });
    controller.signal.addEventListener("abort", () => acme.close());
    observers.push(acme.observer);
    // the templates send challenges to lbsync: the address stays through config reloads
    const withChallenges = (o: WatchOptions) => ({ ...o, acmeChallenge: acme.challengeAddress });
    options = withChallenges(options);
    reloadOptions = reload && (async () => withChallenges(await reload()));
    log.info(`ACME challenges answered on ${acme.challengeAddress}: ${options.acmeDirectory}`);
  }
  const watcher = new Watcher(options, fanOut(...observers), reloadOptions);
  stats.setEngines(watcher.engineUrls);
  if (command.options.statusListen !== undefined) {
    const resync = () => watcher.resync("POST /resync", false);
    const { port } = serveStatus(command.options.statusListen, stats, resync, controller.signal);
    log.info(`status on port ${port}: /healthz /status /metrics, POST /resync`);
  }
  if (command.options.adminListen !== undefined) {
    const { port } = serveAdmin({
      address: command.options.adminListen,
      token: await readToken(command.options.adminTokenFile, io),
      configPath: command.configPath!,
      apply: () => watcher.refresh("admin API"),
    }, controller.signal);
    log.info(`admin API on port ${port}: /services`);
  }
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    controller.abort();
    // the pass in progress has this long to finish; each of its steps is bounded, but by more
    deadline ??= setTimeout(() => {
      log.warn(`stopping: the pass in progress did not end within ${STOP_GRACE_MS} ms; exiting`);
      Deno.exit(0);
    }, STOP_GRACE_MS);
  };
  const hangup = () => {
    log.info("SIGHUP: full resync, re-reading files");
    watcher.resync("SIGHUP", true);
  };
  const signals = [["SIGTERM", stop], ["SIGINT", stop], ["SIGHUP", hangup]] as const;
  for (const [name, handler] of signals) Deno.addSignalListener(name, handler);
  try {
    log.info("watching", watchedSources(command.options));
    await watcher.run(controller.signal);
    log.info("stopped");
    return 0;
  } finally {
    clearTimeout(deadline);
    for (const [name, handler] of signals) Deno.removeSignalListener(name, handler);
  }
}

/** The admin API token: the first line of `--admin-token-file`, at least 16 characters. */
async function readToken(path: string | undefined, io: CliIo): Promise<string | undefined> {
  if (path === undefined) return undefined;
  let text: string;
  try {
    text = await io.readTextFile(path);
  } catch (error) {
    const why = fileErrorReason(error);
    throw new ConfigError(`Cannot read --admin-token-file ${path}: ${why}`);
  }
  // as ssh does with keys: a secret others can read is no secret
  const mode = (await Deno.stat(path)).mode ?? 0;
  if ((mode & 0o077) !== 0) {
    throw new ConfigError(
      `--admin-token-file ${path}: readable by group or others (mode ${
        (mode & 0o777).toString(8)
      }): chmod 600 it`,
    );
  }
  const token = text.split("\n")[0].trim();
  if (token.length < 16) {
    throw new ConfigError(`--admin-token-file ${path}: the token needs at least 16 characters`);
  }
  return token;
}

/** Log lines for the watch loop; a warning about the same thing is said once. */
function watchLogger(log: Logger): WatchObserver {
  const said = new Set<string>();
  const once = (line: string) => {
    if (said.has(line)) return;
    said.add(line);
    log.warn(line);
  };
  return {
    cycle(report) {
      for (const w of report.result.warnings) once(w);
      for (const s of report.result.skipped) {
        if (s.code === "bad-label") once(`container ${s.name} skipped: ${s.reason}`);
      }
      const servers = report.result.model.services.reduce((n, s) => n + s.servers.length, 0);
      const fields = {
        why: report.reasons.join(","),
        events: report.events,
        services: report.result.model.services.length,
        servers,
        ms: report.ms,
      };
      if (report.changed.length === 0) log.debug("no change", fields);
      else {
        const runtime = report.apply.targets.filter((t) => t.runtime?.applied).length;
        log.info(`applied ${report.changed.join(", ")}`, {
          ...fields,
          reloads: report.apply.reloads.length,
          ...(runtime > 0 ? { runtime } : {}),
        });
      }
      reportApply(report.apply, log);
    },
    error: (message) => log.error(message),
    info: (message) => log.info(message),
    event: (effect, engine) =>
      log.debug(`event ${effect.kind}`, { container: effect.containerId.slice(0, 12), engine }),
    engine: (url, state, detail) => {
      if (state === "connected") log.info(`connected to ${url}`);
      else log.debug(`disconnected from ${url}`, { why: detail });
    },
    manager: (url, manager) => log.info(`Swarm manager in use: ${manager}`, { swarm: url }),
    waiting: (engines) => once(`Not applying: ${describeUnlisted(engines)}`),
    quarantined: (q) =>
      log.warn(
        `service ${q.service} quarantined: the balancer refused it (${q.reason}); the rest applied, and it is tried again when it changes`,
      ),
  };
}

/** Commands run and what HAProxy runtime APIs did; a runtime API that failed is a warning. */
function reportApply(apply: ApplyReport, log: Logger): void {
  for (const t of apply.targets) {
    const r = t.runtime;
    if (r?.applied) log.debug(`runtime API applied ${t.output}`, { commands: r.commands });
    else if (r?.failed) {
      log.warn(`HAProxy runtime API failed for ${t.output}: ${r.reason}; reloaded`);
    } else if (r) log.debug(`reloading for ${t.output}: ${r.reason}`);
  }
  for (const c of [...apply.checks, ...apply.reloads]) {
    log.debug(`ran ${c.command}`, { exit: c.code, ms: c.ms, output: c.output });
  }
}

/** Warnings always; label errors as warnings; every skipped container with -v. */
function report(result: ModelResult, log: Logger): void {
  for (const warning of result.warnings) log.warn(warning);
  for (const s of result.skipped) {
    if (s.code === "bad-label") log.warn(`container ${s.name} skipped: ${s.reason}`);
    else log.debug(`container ${s.name} skipped: ${s.reason}${describeHint(s.hint, flagOf)}`);
  }
}

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
