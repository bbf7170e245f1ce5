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
  const absent = tools.filter((t) => whichSync(t) === undefined);
  if (IN_CI || absent.length === 0) return false;
  noteSkipped(`${absent.join(", ")} not installed: \`bash scripts/install_deps.sh\` installs it`);
  return true;
}

/**
 * Where this run records its skips: test files run in workers of one process, so the record is a
 * file named by that process; the suite's last files read it and remove it.
 */
export const SKIP_RECORD = `${
  Deno.env.get("TMPDIR") ?? "/tmp"
}/lbsync-test-skips-${Deno.pid}.jsonl`;

/**
 * Records that the calling test file skips tests for `reason` (what is missing and how to get
 * it); the suite's summary names every group and why ({@link skippedGroups}).
 */
export function noteSkipped(reason: string): void {
  const caller = new Error().stack?.split("\n")
    .map((l) => /\/((?:tests|lib)\/[\w/]+_test\.ts)/.exec(l)).find((m) => m !== null)?.[1] ??
    "(unknown file)";
  Deno.writeTextFileSync(SKIP_RECORD, JSON.stringify({ reason, file: caller }) + "\n", {
    append: true,
  });
}

/** Every reason tests were skipped this run, with the files it skipped; removes the record. */
export function skippedGroups(): { reason: string; files: string[] }[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(SKIP_RECORD);
    Deno.removeSync(SKIP_RECORD);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const groups = new Map<string, Set<string>>();
  for (const line of text.split("\n").filter((l) => l !== "")) {
    const { reason, file } = JSON.parse(line) as { reason: string; file: string };
    groups.set(reason, (groups.get(reason) ?? new Set()).add(file));
  }
  return [...groups].map(([reason, files]) => ({ reason, files: [...files].sort() }))
    .sort((a, b) => a.reason.localeCompare(b.reason));
}

/**
 * Runs every step, in order, even when one throws, then throws the first error: a test's
 * `finally` puts its checks (a watch stopped cleanly) and its clean-up here, so a failed check
 * never skips the clean-up after it.
 */
export async function cleanUp(...steps: (() => unknown)[]): Promise<void> {
  const errors: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw errors[0];
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
