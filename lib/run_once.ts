/**
 * One pass: discover containers, build the model, render every target, write what changed.
 *
 * @module
 */
import { ConfigError } from "./errors.ts";
import { buildModel } from "./model.ts";
import { denoFileReader, type FileReader, readContainerFiles } from "./sources/files.ts";
import { loadTargets, type RenderedTarget, renderTargets, type Target } from "./targets.ts";
import type { ContainerInfo, ModelOptions, ModelResult } from "./types.ts";
import { readLive, writeFileAtomic } from "./write_file.ts";

/** Where containers come from and what to render. */
export interface RunOptions extends ModelOptions {
  /** Docker API JSON files (`-` = standard input). */
  fromFiles?: string[];
  /** Templates and outputs. */
  targets?: Target[];
}

/** A rendered target and whether its output file changed. */
export interface TargetOutcome extends RenderedTarget {
  /** True when the output differed from the live file and was written (always for `-`). */
  changed: boolean;
}

/** What {@link runOnce} did. */
export interface RunResult extends ModelResult {
  /** Every container discovered. */
  containers: ContainerInfo[];
  /** Each target, in the order given. */
  targets: TargetOutcome[];
}

/** The effects a run needs; tests may replace any of them. */
export interface RunIo extends FileReader {
  readLive(path: string): Promise<string | undefined>;
  writeFile(path: string, text: string): Promise<void>;
}

/** Effects through Deno's file APIs. */
export const denoRunIo: RunIo = {
  ...denoFileReader,
  readLive,
  writeFile: writeFileAtomic,
};

/**
 * Lists the containers of every configured source.
 *
 * @throws {ConfigError} when no source is configured
 * @throws {DockerError} when a source cannot be read
 */
export function discover(
  options: RunOptions,
  io: FileReader = denoRunIo,
): Promise<ContainerInfo[]> {
  if (!options.fromFiles?.length) {
    throw new ConfigError("No container source: give --from-file PATH");
  }
  return readContainerFiles(options.fromFiles, io);
}

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
export async function runOnce(options: RunOptions, io: RunIo = denoRunIo): Promise<RunResult> {
  const loaded = await loadTargets(options.targets ?? [], io.readTextFile);
  const containers = await discover(options, io);
  const result = buildModel(containers, options);
  const rendered = renderTargets(loaded, result.model);
  const targets: TargetOutcome[] = [];
  for (const target of rendered) {
    if (target.output === "-") {
      targets.push({ ...target, changed: true });
      continue;
    }
    const changed = (await io.readLive(target.output)) !== target.content;
    if (changed) await io.writeFile(target.output, target.content);
    targets.push({ ...target, changed });
  }
  return { ...result, containers, targets };
}
