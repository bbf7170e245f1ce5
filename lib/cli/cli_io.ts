/**
 * What the commands of the CLI read and write, and the commands that run the pipeline: the
 * types `cli.ts`, the one-shot commands and watch share.
 *
 * @module
 */
import type { Command } from "../settings/cli_args.ts";
import type { RunIo } from "../watch/run_once.ts";

/** What the CLI writes to and reads from; tests pass their own. */
export interface CliIo extends RunIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env(): Record<string, string | undefined>;
}

/** A command other than help and version. */
export type PipelineCommand = Extract<Command, { options: unknown }>;
