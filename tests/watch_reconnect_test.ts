/**
 * Watch mode survives its engine: the real dockerd is stopped and started again under a
 * running watch while containers change; afterwards the config matches `docker ps` exactly.
 */
import assert from "node:assert/strict";
import { ROOT } from "./support/fixtures.ts";
import { dockerOk, ENGINE_SOCK, engineArgs, engineMissing, Scenario } from "./support/engine.ts";
import { run, waitForExit } from "./support/tools.ts";
import { readOr, WatchProcess } from "./support/watch_process.ts";

const ENGINE_DIR = ENGINE_SOCK.slice(0, ENGINE_SOCK.lastIndexOf("/"));

async function stopDockerd(): Promise<void> {
  const pid = Number((await Deno.readTextFile(`${ENGINE_DIR}/docker.pid`)).trim());
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
