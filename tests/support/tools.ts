/**
 * Finding the real tools a test needs. Without a tool a test is skipped, except under CI
 * (`CI=true` or `CI=1`), where a missing tool fails the test.
 */

/** True under CI (`CI=true` or `CI=1`, as CI services set it): missing tools fail there. */
export const IN_CI = ["true", "1"].includes((Deno.env.get("CI") ?? "").toLowerCase());

/**
 * True when `UPDATE_GOLDEN=1` asks to rewrite golden files. Refused under CI: there a golden
 * rewritten and then compared with itself would check nothing.
 */
export function updatingGoldens(): boolean {
  const asked = Boolean(Deno.env.get("UPDATE_GOLDEN"));
  if (asked && IN_CI) {
    throw new Error("UPDATE_GOLDEN is refused under CI: goldens are checked there");
  }
  return asked;
}

const found = new Map<string, string | undefined>();

/** The absolute path of `name` on PATH (and /usr/sbin), or undefined. */
export function whichSync(name: string): string | undefined {
  if (found.has(name)) return found.get(name);
  const dirs = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/sbin"];
  let path: string | undefined;
  for (const dir of dirs) {
    try {
      const candidate = `${dir}/${name}`;
      if (Deno.statSync(candidate).isFile) {
        path = candidate;
        break;
      }
    } catch { /* not here */ }
  }
  found.set(name, path);
  return path;
}

/**
 * `ignore` for a test that needs `tools`: true (skip) when one is missing outside CI.
 * In CI a missing tool makes the test run and fail on {@link requireTool}.
 */
export function missing(...tools: string[]): boolean {
  return !IN_CI && tools.some((t) => whichSync(t) === undefined);
}

/** The path of `name`, or a thrown error naming it. */
export function requireTool(name: string): string {
  const path = whichSync(name);
  if (!path) throw new Error(`${name} is not installed (bash .ci/run installs it)`);
  return path;
}

/** Exit code and output of a finished command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command; returns its exit code and output. */
export async function run(
  cmd: string[],
  options: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<RunResult> {
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    cwd: options.cwd,
    env: options.env,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  const out = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: decode(out.stdout), stderr: decode(out.stderr) };
}

/**
 * Waits until process `pid` has exited (a zombie counts as exited), polling up to
 * `timeoutMs`. Returns false when it is still alive then.
 */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (pid > 0) {
    try {
      const stat = await Deno.readTextFile(`/proc/${pid}/stat`);
      if (/^\d+ \(.*\) Z/.test(stat)) return true;
    } catch {
      return true;
    }
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
