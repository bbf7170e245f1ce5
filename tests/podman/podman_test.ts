/**
 * Podman's Docker-compatible API (Debian's podman 4.3, `podman system service`), as an engine,
 * rootful and rootless: labels, networks and published ports are read as from dockerd (Podman
 * lists only published ports in its summaries: the exposed ones come from one inspect per
 * container), real HAProxy serves the rendered config, and watch follows Podman's events. A
 * rootless Podman's container addresses are in its user's network namespace, out of the host's
 * reach: there the balancer goes to the published ports (`--address published`).
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";
import { freePort, httpGet, startHaproxy } from "../support/balancers.ts";
import { IN_CI, missing, run } from "../support/tools.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]; // ENGINES.md

/** A Podman API service, and how to run its podman. */
interface PodmanEngine {
  socket: string;
  /** Runs podman as the service's user. */
  podman(args: string[]): Promise<string>;
  /** Rootless: the balancer reaches containers by their published ports only. */
  rootless: boolean;
  /** A directory for the test's files. */
  dir: string;
}

/** `command ...args` as a podman CLI, throwing on failure. */
function podmanCli(command: string[]): (args: string[]) => Promise<string> {
  return async (args) => {
    const r = await run([...command, ...args]);
    if (r.code !== 0) throw new Error(`podman ${args.join(" ")}: ${r.stderr.trim()}`);
    return r.stdout.trim();
  };
}

async function lbsync(args: string[]) {
  return await run([Deno.execPath(), "run", "-A", `${ROOT}/cli.ts`, ...args], {
    env: { NO_COLOR: "1" },
  });
}

/** `-p 127.0.0.1:PORT:8080`, on a free port unless one is given. */
function publish(port = freePort()): string[] {
  return ["-p", `127.0.0.1:${port}:8080`];
}

/** Labels, addresses, traffic through real HAProxy and watch on one Podman engine. */
async function scenario(engine: PodmanEngine): Promise<void> {
  const { socket, podman, rootless, dir } = engine;
  const tag = crypto.randomUUID().slice(0, 8);
  const L = `p${tag}`;
  const net = `lbsync-pod-${tag}`;
  const names: string[] = [];
  // rootless: every container publishes its port, the only address the host can reach
  const start = async (base: string, args: string[] = rootless ? publish() : []) => {
    const name = `${base}-${tag}`;
    names.push(name);
    await podman([
      "run",
      "-d",
      "--name",
      name,
      "--network",
      net,
      "-l",
      `${L}.service=web`,
      ...LIMITS,
      ...args,
      "lbsync-test/httpd:latest",
    ]);
    return (await podman(["inspect", "-f", "{{.Id}}", name])).slice(0, 12);
  };
  let watch: WatchProcess | undefined;
  /** Where the balancer reaches the containers. */
  const address = rootless ? ["--address", "published"] : [];
  try {
    await podman(["network", "create", net]);
    const published = freePort();
    const a = await start("a");
    const b = await start("b", publish(published));
    const common = ["--docker", `unix://${socket}`, "--label-prefix", L, "--format", "json"];

    // network addresses: the exposed port, from an inspect
    const byNetwork = JSON.parse((await lbsync(["explain", ...common])).stdout).containers;
    assert.deepEqual(
      byNetwork.map((c: { name: string; status: string }) => `${c.name} ${c.status}`).sort(),
      [`a-${tag} in`, `b-${tag} in`],
    );
    assert.ok(
      byNetwork.every((c: { address: string }) => /^10\.\d+\.\d+\.\d+:8080$/.test(c.address)),
    );
    // published ports: b's is the one it was given (rootless: a has one too)
    const byPublished = JSON.parse(
      (await lbsync(["explain", ...common, "--address", "published"])).stdout,
    ).containers;
    const inB = byPublished.find((c: { name: string }) => c.name === `b-${tag}`);
    assert.equal(inB.address, `127.0.0.1:${published}`);
    const reachable = byPublished.filter((c: { address?: string }) => c.address).length;
    assert.equal(reachable, rootless ? 2 : 1);

    // real traffic through HAProxy to both containers
    const listen = freePort();
    const rendered = await lbsync([
      "render",
      ...address,
      "--docker",
      `unix://${socket}`,
      "--label-prefix",
      L,
      "--listen",
      String(listen),
      "--listen-address",
      "127.0.0.1",
      "-t",
      "haproxy",
      "-o",
      "-",
    ]);
    assert.equal(rendered.code, 0, rendered.stderr);
    const haproxy = await startHaproxy(rendered.stdout);
    try {
      const seen = new Set<string>();
      for (let i = 0; i < 20 && seen.size < 2; i++) {
        seen.add((await httpGet(listen, "/", "web.test")).body.trim());
      }
      assert.deepEqual([...seen].sort(), [a, b].sort());
    } finally {
      await haproxy.stop();
    }

    // watch follows Podman's events: a new container in, a stopped one out
    const out = `${dir}/haproxy.cfg`;
    watch = new WatchProcess([
      ...address,
      "--docker",
      `unix://${socket}`,
      "--label-prefix",
      L,
      "-t",
      "haproxy",
      "-o",
      out,
      "--heartbeat",
      "100ms:500ms",
      "--resync",
      "0",
    ]);
    const servers = async () =>
      [...(await readOr(out)).matchAll(/^ {4}server (\S+) /gm)].map((m) => m[1]).sort();
    await watch.until("both servers", async () => (await servers()).length === 2, 15_000);
    await start("c");
    await watch.until(
      "c in",
      async () => (await servers()).includes(`c-${tag}`),
      15_000,
    );
    await podman(["stop", "-t", "1", `a-${tag}`]);
    await watch.until(
      "a out",
      async () => JSON.stringify(await servers()) === JSON.stringify([`b-${tag}`, `c-${tag}`]),
      15_000,
    );
  } finally {
    if (watch) assert.equal((await watch.stop()).code, 0, watch.log);
    if (names.length) await podman(["rm", "-f", ...names]).catch(() => {});
    await podman(["network", "rm", net]).catch(() => {});
  }
}

/** Starts a Podman service with `script` (podman_start.sh or podman_rootless.sh), runs `body`. */
async function withPodman(
  script: string[],
  stop: string[],
  body: (socket: string, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-podman-" });
  try {
    const started = await run(["bash", ...script.map((a) => a.replace("DIR", dir))]);
    assert.equal(started.code, 0, started.stderr);
    await body(started.stdout.trim(), dir);
  } finally {
    await run(["bash", ...stop.map((a) => a.replace("DIR", dir))]);
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "podman: labels, networks, published ports and events, through real HAProxy",
  ignore: !IN_CI && missing("podman"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await withPodman(
      [`${ROOT}/scripts/podman_start.sh`, "DIR"],
      [`${ROOT}/scripts/podman_stop.sh`, "DIR"],
      (socket, dir) => scenario({ socket, podman: podmanCli(["podman"]), rootless: false, dir }),
    );
  },
});

Deno.test({
  name: "podman rootless: labels, published ports and events, through real HAProxy",
  ignore: !IN_CI && (missing("podman") || missing("runuser")),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const script = `${ROOT}/scripts/podman_rootless.sh`;
    await withPodman(
      [script, "start", "DIR"],
      [script, "stop", "DIR"],
      (socket, dir) =>
        scenario({
          socket,
          podman: podmanCli(["bash", script, "podman", dir]),
          rootless: true,
          dir,
        }),
    );
  },
});
