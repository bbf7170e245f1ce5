/**
 * Podman's Docker-compatible API (Debian's podman 4.3, `podman system service`), as an engine:
 * labels, networks and published ports are read as from dockerd (Podman lists only published
 * ports in its summaries: the exposed ones come from one inspect per container), real HAProxy
 * serves the rendered config, and watch follows Podman's events.
 */
import assert from "node:assert/strict";
import { ROOT } from "./support/fixtures.ts";
import { freePort, httpGet, startHaproxy } from "./support/balancers.ts";
import { IN_CI, missing, run } from "./support/tools.ts";
import { readOr, WatchProcess } from "./support/watch_process.ts";

const LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]; // ENGINES.md

async function podman(args: string[]): Promise<string> {
  const r = await run(["podman", ...args]);
  if (r.code !== 0) throw new Error(`podman ${args.join(" ")}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

async function lbsync(args: string[]) {
  return await run([Deno.execPath(), "run", "-A", `${ROOT}/cli.ts`, ...args], {
    env: { NO_COLOR: "1" },
  });
}

Deno.test({
  name: "podman: labels, networks, published ports and events, through real HAProxy",
  ignore: !IN_CI && missing("podman"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-podman-" });
    const started = await run(["bash", `${ROOT}/scripts/podman_start.sh`, dir]);
    assert.equal(started.code, 0, started.stderr);
    const socket = started.stdout.trim();
    const tag = crypto.randomUUID().slice(0, 8);
    const L = `p${tag}`;
    const net = `lbsync-pod-${tag}`;
    const names: string[] = [];
    const start = async (base: string, args: string[] = []) => {
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
    try {
      await podman(["network", "create", net]);
      const published = freePort();
      const a = await start("a");
      const b = await start("b", ["-p", `127.0.0.1:${published}:8080`]);
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
      // published ports: only b has one
      const byPublished = JSON.parse(
        (await lbsync(["explain", ...common, "--address", "published"])).stdout,
      ).containers;
      const inB = byPublished.find((c: { name: string }) => c.name === `b-${tag}`);
      assert.equal(inB.address, `127.0.0.1:${published}`);

      // real traffic through HAProxy to both containers
      const listen = freePort();
      const rendered = await lbsync([
        "render",
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
      if (names.length) await run(["podman", "rm", "-f", ...names]);
      await run(["podman", "network", "rm", net]);
      await run(["bash", `${ROOT}/scripts/podman_stop.sh`, dir]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
