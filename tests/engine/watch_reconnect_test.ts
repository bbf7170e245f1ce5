/**
 * Watch mode survives its engine: the real dockerd is stopped and started again under a
 * running watch while containers change; afterwards the config matches `docker ps` exactly.
 * A watch started while dockerd is down applies nothing until it has listed it.
 */
import assert from "node:assert/strict";
import { ROOT } from "../support/fixtures.ts";
import { dockerOk, ENGINE_SOCK, engineArgs, engineMissing, Scenario } from "../support/engine.ts";
import { run, waitForExit } from "../support/tools.ts";
import { freePort } from "../support/balancers.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const ENGINE_DIR = ENGINE_SOCK.slice(0, ENGINE_SOCK.lastIndexOf("/"));

async function stopDockerd(): Promise<void> {
  const pid = Number((await Deno.readTextFile(`${ENGINE_DIR}/docker.pid`)).trim());
  // only the private test engine: a dockerd whose command line names this socket's directory
  const cmdline = (await Deno.readTextFile(`/proc/${pid}/cmdline`)).split("\0");
  assert.ok(
    cmdline[0].endsWith("dockerd") && cmdline.some((a) => a.includes(ENGINE_DIR)),
    `pid ${pid} in ${ENGINE_DIR}/docker.pid is not the test engine: ${cmdline.join(" ")}`,
  );
  Deno.kill(pid, "SIGTERM");
  if (!(await waitForExit(pid, 30_000))) throw new Error("dockerd did not stop in 30 s");
}

/** Server names in a rendered HAProxy config. */
async function serversIn(path: string): Promise<string[]> {
  return [...(await readOr(path)).matchAll(/^ {4}server (\S+) /gm)].map((m) => m[1]).sort();
}

Deno.test({
  name: "engine: watch reconnects after dockerd restarts and resyncs to exactly what runs",
  ignore: await engineMissing(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const L = `r${s.tag}`;
    const dir = await Deno.makeTempDir({ prefix: "lbsync-reconnect-" });
    const out = `${dir}/haproxy.cfg`;
    const labels = ["-l", `${L}.service=web`];
    let watch: WatchProcess | undefined;
    try {
      await s.run("keeps-1", [...labels, "--restart", "always"]);
      await s.run("dies-1", labels);
      watch = new WatchProcess([
        ...engineArgs(L),
        "-t",
        "haproxy",
        "-o",
        out,
        "--heartbeat",
        "100ms:500ms",
      ]);
      await watch.until("both servers", async () => (await serversIn(out)).length === 2);

      const mark = watch.log.length;
      await stopDockerd();
      await watch.untilLog(
        /Event stream of unix:.* lost: .*retrying in \d+ ms \(keeping the last config\)/,
        15_000,
        mark,
      );
      // its containers stopped with it (their events came first); what is left stays
      const atLoss = await Deno.readTextFile(out);
      // two more failed reconnects prove lbsync kept trying meanwhile
      const log = () => watch?.log ?? "";
      const retries = () => log().slice(mark).match(/retrying in \d+ ms/g)?.length ?? 0;
      await watch.until("two more reconnect attempts", () => retries() >= 3, 15_000);
      assert.equal(
        await Deno.readTextFile(out),
        atLoss,
        "the last config stays while the engine is away",
      );

      const started = await run(["bash", `${ROOT}/scripts/engine_start.sh`, ENGINE_DIR]);
      assert.equal(started.code, 0, started.stderr);
      await s.run("new-1", labels); // a change while lbsync may still be reconnecting
      await watch.untilLog(/connected to unix:/, 30_000, mark);

      const running = async () =>
        (await dockerOk(["ps", "--filter", `label=${L}.service`, "--format", "{{.Names}}"]))
          .split("\n").filter(Boolean).sort();
      await watch.until("config matches docker ps", async () => {
        const expected = await running();
        return JSON.stringify(await serversIn(out)) === JSON.stringify(expected);
      }, 30_000);
      assert.deepEqual(await serversIn(out), [s.name("keeps-1"), s.name("new-1")].sort());
    } finally {
      if (watch) assert.equal((await watch.stop()).code, 0, watch.log);
      await run(["bash", `${ROOT}/scripts/engine_start.sh`, ENGINE_DIR]); // whatever happened
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "engine: a watch started while dockerd is down writes nothing until it is listed",
  ignore: await engineMissing(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const L = `d${s.tag}`;
    const dir = await Deno.makeTempDir({ prefix: "lbsync-down-" });
    const out = `${dir}/haproxy.cfg`;
    const live = "# the live config, from before\n";
    await Deno.writeTextFile(out, live);
    const port = freePort();
    let watch: WatchProcess | undefined;
    try {
      await s.run("web-1", ["-l", `${L}.service=web`]);
      await stopDockerd();
      watch = new WatchProcess([
        ...engineArgs(L),
        "-t",
        "haproxy",
        "-o",
        out,
        "--check-cmd",
        "haproxy -c -f {}",
        "--reload-cmd",
        "true",
        "--status-listen",
        `127.0.0.1:${port}`,
      ]);
      await watch.untilLog(
        /Not applying: unix:.* has not been listed yet \(Cannot list containers on unix:.*: (no such socket|connection refused)\); the live config stays as it was/,
      );
      const retries = () => watch?.log.match(/listing again in \d+ ms/g)?.length ?? 0;
      await watch.until("three listing attempts", () => retries() >= 3, 15_000);
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(health.status, 503);
      assert.match(
        await health.text(),
        /^unhealthy: unix:.* has not been listed yet: .*\(nothing applied\)\n$/,
      );
      assert.equal(await Deno.readTextFile(out), live, "no write, no reload while dockerd is down");

      const started = await run(["bash", `${ROOT}/scripts/engine_start.sh`, ENGINE_DIR]);
      assert.equal(started.code, 0, started.stderr);
      // the container was stopped with dockerd; one started now is what runs
      await s.run("web-2", ["-l", `${L}.service=web`]);
      await watch.until(
        "the running container",
        async () => JSON.stringify(await serversIn(out)) === JSON.stringify([s.name("web-2")]),
        30_000,
      );
      await watch.until("healthy", async () => {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        await r.body?.cancel();
        return r.status === 200;
      }, 15_000);
    } finally {
      if (watch) assert.equal((await watch.stop()).code, 0, watch.log);
      await run(["bash", `${ROOT}/scripts/engine_start.sh`, ENGINE_DIR]); // whatever happened
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
