/**
 * The real `lbsync watch` in a child process against a fake engine API, writing haproxy.cfg
 * with a reload command that counts reloads: what the watch benchmarks drive and sample.
 */
import type { FakeDockerApi } from "./fake_docker_api.ts";

/** The V8 flags the daemon recipes use (contrib/); `LBSYNC_V8_FLAGS` replaces them. */
export const V8_FLAGS = Deno.env.get("LBSYNC_V8_FLAGS") ??
  "--max-old-space-size=64,--max-semi-space-size=1";

/** A running watch: its output, its RSS, its reloads so far, and stop(). */
export interface WatchChild {
  out: string;
  rssMb(): number;
  reloads(): number;
  stop(): Promise<void>;
}

/** Starts `lbsync watch` on `api`, writing into `dir`, with `args` added. */
export function startWatchChild(api: FakeDockerApi, dir: string, args: string[] = []): WatchChild {
  const root = new URL("..", import.meta.url).pathname;
  const out = `${dir}/haproxy.cfg`;
  const log = `${dir}/reloads`;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(V8_FLAGS ? [`--v8-flags=${V8_FLAGS}`] : []),
      `${root}cli.ts`,
      "watch",
      "-q",
      "--docker",
      `unix://${api.socketPath}`,
      "-t",
      "haproxy",
      "-o",
      out,
      "--reload-cmd",
      `echo reload >> ${log}`,
      "--resync",
      "0",
      ...args,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  return {
    out,
    rssMb() {
      const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
    },
    reloads() {
      try {
        return Deno.readTextFileSync(log).split("\n").filter(Boolean).length;
      } catch {
        return 0;
      }
    },
    async stop() {
      child.kill("SIGTERM");
      await child.status;
    },
  };
}
