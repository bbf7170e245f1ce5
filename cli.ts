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
import { type Command, parseCommandLine } from "./lib/settings/cli_args.ts";
import { parseConfigFile } from "./lib/settings/config_file.ts";
import { ConfigError, errorMessage, fileErrorReason } from "./lib/core/errors.ts";
import { createLogger } from "./lib/cli/log.ts";
import { helpText } from "./lib/settings/help.ts";
import { denoFileReader } from "./lib/sources/files.ts";
import type { CliIo } from "./lib/cli/cli_io.ts";

export type { CliIo };

const encoder = new TextEncoder();

/** The real terminal and file system. */
export const denoCliIo: CliIo = {
  ...denoFileReader,
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
  if (args[0] === "store") {
    const { runStoreCommand } = await import("./lib/cli/store_command.ts");
    return await runStoreCommand(args.slice(1), io);
  }
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
  const { runCommand } = await import("./lib/cli/commands.ts");
  const reparse = async () => (await parseWithConfig(args, io)) as typeof command;
  return await runCommand(command, reparse, io, log);
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
  return parseCommandLine(args, io.env(), config);
}

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args));
}
