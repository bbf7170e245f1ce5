/**
 * The commands that run the pipeline: `render`, `explain` and `route` here, `watch` in
 * `watch_command.ts` (loaded when used). `cli.ts` loads this module only for them, so that
 * `--version` and `help` load almost nothing.
 *
 * @module
 */
import { ConfigError, describeHint, errorMessage, UsageError } from "../core/errors.ts";
import { flagOf } from "../settings/options.ts";
import type { RouteAnswer } from "../core/route_request.ts";
import type { Logger } from "./log.ts";
import { passModel, runOnce } from "../watch/run_once.ts";
import type { CliIo, PipelineCommand } from "./cli_io.ts";
import { reportApply } from "./apply_log.ts";
import type { ModelResult, ServiceView } from "../core/types.ts";
import type { LiveModel } from "../core/live_model.ts";
import { finalizeRunOptions } from "../watch/run_settings.ts";

/**
 * Runs `command` (render, explain, route or watch) and returns the exit code; `reparse`
 * reads the settings again (watch mode's config file).
 */
export async function runCommand(
  command: PipelineCommand,
  reparse: () => Promise<PipelineCommand>,
  io: CliIo,
  log: Logger,
): Promise<number> {
  try {
    if (command.command === "route") {
      const { result, listen } = await reportModel(command, io, log);
      const { formatRouteAnswer, routeRequest } = await import("../core/route_request.ts");
      // https:// without a port: the HTTPS port of the default listener's hosts
      const https = command.route!.tls
        ? result.model.httpListeners.find((l) => l.port === listen)?.httpsPorts?.[0] ?? 443
        : listen;
      const query = { ...command.route!, listen: command.route!.listen ?? https };
      const answer = routeRequest(result.model, query);
      io.stdout(
        command.format === "json"
          ? JSON.stringify(routeJson(answer), null, 2) + "\n"
          : formatRouteAnswer(answer, query),
      );
      return 0;
    }
    if (command.command === "explain") {
      const { result, manager } = await reportModel(command, io, log);
      const { explainRows, formatExplainTable } = await import("../core/explain.ts");
      const rows = explainRows(result, flagOf);
      const { fromStatus } = command;
      const json = { containers: rows, warnings: result.warnings, manager, fromStatus };
      io.stdout(
        command.format === "json"
          ? JSON.stringify(json, null, 2) + "\n"
          : formatExplainTable(rows, result.warnings) +
            (manager ? `\nRead from Swarm manager ${manager}\n` : "") +
            (fromStatus ? `\nThe model in force of the watch at ${fromStatus}\n` : ""),
      );
      return 0;
    }
    if (command.command === "watch") {
      const { runWatch } = await import("./watch_command.ts");
      return await runWatch(command, reparse, io, log);
    }
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

/**
 * What `explain` and `route` report on: with `--from-status`, the model the watch applied
 * (read by a module loaded only then); else the model of this pass, built by the path
 * `render` builds it by, with the same inputs.
 */
async function reportModel(
  command: PipelineCommand,
  io: CliIo,
  log: Logger,
): Promise<LiveModel> {
  if (command.fromStatus !== undefined) {
    const { readLiveModel } = await import("../sources/watch_status.ts");
    return await readLiveModel(command.fromStatus);
  }
  const options = finalizeRunOptions(command.options);
  const { result, discovery } = await passModel(options, io);
  for (const f of discovery.failures) log.warn(f.message);
  return { result, listen: options.listen, manager: discovery.manager };
}

/** `lbsync route --format json`: the answer with the service by name, not the whole model. */
function routeJson(answer: RouteAnswer<ServiceView>): Record<string, unknown> {
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

/** Warnings always; label errors as warnings; every skipped container with -v. */
function report(result: ModelResult, log: Logger): void {
  for (const warning of result.warnings) log.warn(warning);
  for (const s of result.skipped) {
    if (s.code === "bad-label") log.warn(`container ${s.name} skipped: ${s.reason}`);
    else log.debug(`container ${s.name} skipped: ${s.reason}${describeHint(s.hint, flagOf)}`);
  }
}
