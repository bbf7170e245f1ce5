/**
 * `lbsync watch`: the watch loop with its servers (status, admin API, DNS for nginx, ACME),
 * its log lines and its signals. Loaded only for watch mode.
 *
 * @module
 */
import { ConfigError, fileErrorReason } from "../core/errors.ts";
import type { Logger } from "./log.ts";
import { type discover, usesEngines } from "../watch/discovery.ts";
import {
  describeUnlisted,
  fanOut,
  passBoundMs,
  Watcher,
  type WatchObserver,
  type WatchOptions,
} from "../watch/watch.ts";
import { WatchStats } from "../serve/watch_stats.ts";
import { resolveEndpoints } from "../sources/docker_endpoint.ts";
import type { CliIo, PipelineCommand } from "./cli_io.ts";
import { reportApply } from "./apply_log.ts";

/** After SIGTERM or SIGINT, the longest watch mode waits for the pass in progress. */
const STOP_GRACE_MS = 3_000;

/**
 * Watch mode until SIGTERM or SIGINT (then exit 0 once the apply in progress is done);
 * SIGHUP resyncs and re-reads files.
 */
export async function runWatch(
  command: PipelineCommand,
  reparse: () => Promise<PipelineCommand>,
  io: CliIo,
  log: Logger,
): Promise<number> {
  const controller = new AbortController();
  const reload = command.configPath ? async () => (await reparse()).options : undefined;
  const stats = new WatchStats(undefined, passBoundMs(command.options));
  const observers: WatchObserver[] = [watchLogger(log), stats];
  if (command.options.nginxDns !== undefined) {
    // each of lbsync's own servers loads only when asked for
    const { serveDns } = await import("../serve/dns/dns_server.ts");
    const { DNS_ZONE, dnsRecords } = await import("../core/model/dns_names.ts");
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
    const { startAcme } = await import("../serve/acme_service.ts");
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
  const store = await followStore(options, stats, log);
  const watcher = new Watcher(options, fanOut(...observers), reloadOptions, {
    ...(store ? { store: store.follower } : {}),
  });
  stats.setEngines(watcher.engineUrls);
  if (command.options.statusListen !== undefined) {
    const resync = () => watcher.resync("POST /resync", false);
    const { serveStatus } = await import("../serve/status_server.ts");
    const { port } = serveStatus(command.options.statusListen, stats, resync, controller.signal);
    log.info(`status on port ${port}: /healthz /status /explain /metrics, POST /resync`);
  }
  if (command.options.adminListen !== undefined) {
    const { serveAdmin } = await import("../serve/admin/admin_server.ts");
    const { port } = serveAdmin({
      address: command.options.adminListen,
      token: await readToken(command.options.adminTokenFile, io),
      configPath: command.configPath,
      apply: () => watcher.refresh("admin API"),
      backend: store?.backend(() => watcher.refresh("admin API")),
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

/** With `--store`: its follower (state to /healthz and the log) and the admin API's backend. */
async function followStore(options: WatchOptions, stats: WatchStats, log: Logger) {
  if (options.store === undefined) return undefined;
  const { openStore } = await import("../sources/store.ts");
  const { StoreFollower } = await import("../watch/store_follower.ts");
  const { storeServices } = await import("../serve/admin/store_services.ts");
  const { client, prefix, url } = await openStore(options.store);
  const follower = new StoreFollower(client, prefix, url);
  follower.onState((state) => {
    stats.storeState(state);
    if (state.state === "connected") {
      log.info(`store ${url}: connected (revision ${state.revision})`);
    } else {log.error(
        `store ${url}: ${state.state}: ${state.detail} (keeping the last known services)`,
      );}
  });
  stats.storeState(follower.state());
  const backend = (apply: () => Promise<string | undefined>) =>
    storeServices({ client, prefix, apply, catchUp: () => follower.readAll() });
  return { follower, backend };
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
