/**
 * Check and reload commands: run with `sh -c`, bounded by a timeout, output captured.
 *
 * @module
 */

/** How a command ended. */
export interface CommandResult {
  /** The command as run. */
  command: string;
  /** Exit code; -1 when it could not start or timed out. */
  code: number;
  /** stdout and stderr together, trimmed. */
  output: string;
  /** True when it was killed at the timeout. */
  timedOut: boolean;
  /** Milliseconds it ran. */
  ms: number;
}

/**
 * Runs `command` with `sh -c` in a session of its own, killing the whole process group
 * after `timeoutMs` (so `sleep` in a script cannot outlive it).
 */
export async function runCommand(command: string, timeoutMs: number): Promise<CommandResult> {
  const started = performance.now();
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("setsid", {
      args: ["sh", "-c", command],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    return { command, code: -1, output: String(error), timedOut: false, ms: 0 };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      Deno.kill(-child.pid, "SIGKILL");
    } catch {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
    }
  }, timeoutMs);
  const result = await child.output();
  clearTimeout(timer);
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return {
    command,
    code: timedOut ? -1 : result.code,
    output: (decode(result.stdout) + decode(result.stderr)).trim(),
    timedOut,
    ms: Math.round(performance.now() - started),
  };
}

/** `command` with every `{}` replaced by `path`, shell-quoted. */
export function substitutePath(command: string, path: string): string {
  return command.replaceAll("{}", `'${path.replaceAll("'", `'\\''`)}'`);
}

/** True when `command` validates a candidate file (`{}`) rather than the live config. */
export function checksCandidate(command: string): boolean {
  return command.includes("{}");
}

/**
 * The lines of a command's output worth showing: the checker's error lines
 * (`[emerg]`, `[ALERT]`, `error`), else its last three lines; joined on one line.
 */
export function summarizeOutput(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  const errors = lines.filter((l) => /\[(emerg|alert|crit|error)\]|\[ALERT\]|error|fail/i.test(l));
  const shown = errors.length > 0 ? errors : lines.slice(-3);
  return shown.join(" | ");
}

/** One line describing a failed command. */
export function describeFailure(result: CommandResult, timeoutMs: number): string {
  if (result.timedOut) return `\`${result.command}\` did not finish within ${timeoutMs} ms`;
  const summary = summarizeOutput(result.output);
  const how = result.code === 127 ? "not found (exit 127)" : `exited ${result.code}`;
  return `\`${result.command}\` ${how}${summary ? `: ${summary}` : ""}`;
}
