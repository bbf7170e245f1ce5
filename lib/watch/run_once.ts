/**
 * One pass: discover containers, build the model, render every target, write what changed.
 *
 * @module
 */
import { type ApplyReport, applyTargets } from "../apply/apply.ts";
import type { HaproxyRuntime } from "../haproxy/runtime_apply.ts";
import type { EngineFailure } from "../sources/docker.ts";
import { denoFileReader, type FileReader } from "../sources/files.ts";
import { loadTargets, type RenderedTarget, renderTargets } from "../apply/targets.ts";
import type { ContainerInfo, ModelResult } from "../core/types.ts";
import { finalizeRunOptions, type RunSettings } from "./run_settings.ts";
import type { RunOptions } from "./run_options.ts";
import { discover, type Discovery } from "./discovery.ts";
import {
  buildPassModel,
  busyPortProbe,
  probeTimeout,
  readDirectoryInputs,
  readStoreServices,
} from "./model_pass.ts";
import { fileTargetsOf, notifierOf } from "./apply_pass.ts";
import { ReadinessGate } from "./readiness.ts";

export type { RunOptions } from "./run_options.ts";
export { discover, type Discovery } from "./discovery.ts";

/** A rendered target and whether its output file changed. */
export interface TargetOutcome extends RenderedTarget {
  /** True when the output differed from the live file (always for `-`). */
  changed: boolean;
  /** Unified diff against the live file, in a dry run. */
  diff?: string;
  /** Backup made of the replaced file. */
  backup?: string;
}

/** What {@link runOnce} did. */
export interface RunResult extends ModelResult {
  /** Every container discovered. */
  containers: ContainerInfo[];
  /** Engines that did not answer (only with `allowPartial`). */
  failures: EngineFailure[];
  /** Each target, in the order given. */
  targets: TargetOutcome[];
  /** Checks and reloads run. */
  apply: ApplyReport;
}

/** The reads a run needs; tests may replace them. */
export type RunIo = FileReader;

/** Reads through Deno's file APIs. */
export const denoRunIo: RunIo = denoFileReader;

/**
 * Discovers containers, builds the model, renders every target, then writes each output
 * whose bytes changed. Templates are loaded and parsed before any source is read, and all
 * targets are rendered before any is written.
 *
 * @example
 * ```ts
 * import { runOnce } from "./run_once.ts";
 * const result = await runOnce({
 *   fromFiles: ["examples/containers.json"],
 *   targets: [{ template: "haproxy", output: "-" }],
 * });
 * console.log(result.targets[0].content.length > 0); // true
 * ```
 */
export async function runOnce(given: RunOptions, io: RunIo = denoRunIo): Promise<RunResult> {
  const options = finalizeRunOptions(given);
  const loaded = await loadTargets(options.targets ?? [], io.readTextFile);
  const { result, discovery } = await passModel(options, io);
  const rendered = renderTargets(loaded, result.model);
  const files = fileTargetsOf(rendered, options);
  const haproxy = await haproxyRuntimeFor(files, options.drainTimeoutMs);
  const apply = await applyTargets(files, {
    ...options.apply,
    notify: notifierOf(options),
    haproxy,
  });
  await haproxy?.settled();
  const targets = rendered.map((t): TargetOutcome => {
    const report = apply.targets.find((r) => r.output === t.output);
    return { ...t, changed: report?.changed ?? true, diff: report?.diff, backup: report?.backup };
  });
  const { containers, failures } = discovery;
  return { ...result, containers, failures, targets, apply };
}

/** The HAProxy runtime client, loaded only when a target names an HAProxy socket. */
async function haproxyRuntimeFor(
  files: readonly { haproxySocket?: string }[],
  drainTimeoutMs: number | undefined,
): Promise<HaproxyRuntime | undefined> {
  if (!files.some((f) => f.haproxySocket)) return undefined;
  const { HaproxyRuntime } = await import("../haproxy/runtime_apply.ts");
  return new HaproxyRuntime({ drainTimeoutMs });
}

/**
 * The model of one pass of `render`, `explain` and `route`, so that what the reports say is
 * what `render` writes: discovers the containers, reads the model's other inputs once (the
 * operator's directories, the store, the ports others hold), and builds by the path watch
 * mode builds by ({@link buildPassModel}), waiting up to `readyTimeoutMs` for new containers.
 *
 * @throws {ConfigError} for a bad endpoint or TLS file
 * @throws {DockerError} when a source cannot be read
 */
export async function passModel(
  options: RunSettings,
  io: FileReader = denoRunIo,
): Promise<{ result: ModelResult; discovery: Discovery }> {
  const discovery = await discover(options, io);
  const inputs = {
    busyPorts: await busyPortProbe(options.targets ?? [], options),
    directories: await readDirectoryInputs(options),
    stored: await readStoreServices(options),
  };
  const result = await buildPassModel(discovery.containers, options, inputs, {
    gate: new ReadinessGate({ probeTimeoutMs: probeTimeout(options) }),
    waitMs: options.readyTimeoutMs,
    fromFiles: discovery.fromFiles,
  });
  return { result, discovery };
}
