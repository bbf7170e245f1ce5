/**
 * The private test Docker Engine (`scripts/engine_start.sh`): its socket, the `docker` CLI
 * that matches it, and containers that tests start and always remove.
 */
import { IN_CI, noteSkipped, run, type RunResult } from "./tools.ts";

/** The socket of the test engine: `LBSYNC_TEST_DOCKER_SOCK`, else the harness default. */
export const ENGINE_SOCK = Deno.env.get("LBSYNC_TEST_DOCKER_SOCK") ??
  "/tmp/lbsync-engine/docker.sock";

/** The test image: busybox httpd answering its hostname (the short container id). */
export const TEST_IMAGE = "lbsync-test/httpd:latest";

/** The docker CLI that matches the test engine (Debian's). */
export const DOCKER_CLI = "/usr/bin/docker";

/**
 * The arguments that point lbsync at the test engine with a label prefix of the test's own
 * and, with `port`, http listeners on 127.0.0.1:`port`.
 */
export function engineArgs(prefix: string, port?: number): string[] {
  const listen = port === undefined
    ? []
    : ["--listen", String(port), "--listen-address", "127.0.0.1"];
  return ["--docker", `unix://${ENGINE_SOCK}`, "--label-prefix", prefix, ...listen];
}

/** True when the test engine answers. */
export async function engineUp(): Promise<boolean> {
  try {
    if (!Deno.statSync(ENGINE_SOCK).isSocket) return false;
    return (await docker(["version", "--format", "{{.Server.Version}}"])).code === 0;
  } catch {
    return false;
  }
}

let toldMissing = false;

/**
 * `ignore` for tests that need the engine: skip when it is down, except in CI. A skip is said
 * once, on stderr, with how to start the engine: a skipped test must not pass for a passing one.
 */
export async function engineMissing(): Promise<boolean> {
  const missing = !IN_CI && !(await engineUp());
  if (missing) {
    noteSkipped(
      `no test engine at ${ENGINE_SOCK}: \`sudo bash scripts/engine_start.sh\` starts one (or set LBSYNC_TEST_DOCKER_SOCK)`,
    );
  }
  if (missing && !toldMissing) {
    toldMissing = true;
    console.error(
      `lbsync tests: no test engine at ${ENGINE_SOCK}: the engine tests are skipped. Start one ` +
        "with `sudo bash scripts/engine_start.sh` (or set LBSYNC_TEST_DOCKER_SOCK); CI=true fails them instead.",
    );
  }
  return missing;
}

/** Runs the docker CLI against the test engine (with `env` added to its environment). */
export function docker(args: string[], env?: Record<string, string>): Promise<RunResult> {
  return run([DOCKER_CLI, "-H", `unix://${ENGINE_SOCK}`, ...args], { env });
}

/** Runs the docker CLI and returns trimmed stdout, throwing with stderr on failure. */
export async function dockerOk(args: string[], env?: Record<string, string>): Promise<string> {
  const r = await docker(args, env);
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/**
 * A set of containers and networks one test makes; `cleanup()` removes all of them.
 * Names get a random suffix so runs never collide.
 */
export class Scenario {
  readonly tag = crypto.randomUUID().slice(0, 8);
  #containers: string[] = [];
  #networks: string[] = [];

  /** A name unique to this scenario. */
  name(base: string): string {
    return `${base}-${this.tag}`;
  }

  /** Creates a bridge network; returns its name. */
  async network(base: string): Promise<string> {
    const name = this.name(base);
    await dockerOk(["network", "create", "--label", `lbsync-test=${this.tag}`, name]);
    this.#networks.push(name);
    return name;
  }

  /**
   * Starts a test-image container (with `command` instead of the image's, when given);
   * returns its short id (what it answers with).
   */
  async run(
    base: string,
    args: string[] = [],
    command: string[] = [],
  ): Promise<{ name: string; id: string }> {
    const name = this.name(base);
    this.#containers.push(name);
    const id = await dockerOk([
      "run",
      "-d",
      "--name",
      name,
      "--label",
      `lbsync-test=${this.tag}`,
      ...args,
      TEST_IMAGE,
      ...command,
    ]);
    return { name, id: id.slice(0, 12) };
  }

  /** Removes these containers at cleanup too (made by hand, or renamed). */
  adopt(names: string[]): void {
    this.#containers.push(...names);
  }

  /** Waits until the container's Docker health is `status` (bounded). */
  async waitHealth(name: string, status: string, timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      if (await dockerOk(["inspect", "-f", "{{.State.Health.Status}}", name]) === status) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`${name} did not become ${status} in ${timeoutMs} ms`);
  }

  /** Removes every container and network this scenario made. */
  async cleanup(): Promise<void> {
    if (this.#containers.length) await docker(["rm", "-f", ...this.#containers]);
    for (const n of this.#networks) await docker(["network", "rm", n]);
  }
}
