/**
 * Readiness, drain and rollover against the real engine with real nginx: a container that
 * never gets ready never receives traffic; a stopping container receives no new requests
 * once its kill event is processed; a rollover retires and stops the old container.
 */
import assert from "node:assert/strict";
import { answerCounts, freePort, type RunningBalancer, startNginx } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { dockerOk, engineArgs, engineMissing, Scenario, TEST_IMAGE } from "../support/engine.ts";
import { cleanUp, missing, requireTool } from "../support/tools.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const ignore = missing("nginx") || await engineMissing();

/**
 * Serves its hostname at / and /ready/ like the test image, but takes `grace` seconds to stop
 * on SIGTERM, answering all the while.
 */
function slowStopper(grace: number): string[] {
  const script =
    `mkdir -p /www/ready; echo "$HOSTNAME" | tee /www/index.html > /www/ready/index.html; ` +
    `trap 'sleep ${grace}; exit 0' TERM; ` +
    `httpd -f -p 8080 -h /www & while true; do wait; done`;
  return ["--entrypoint", "/bin/sh", TEST_IMAGE, "-c", script];
}

function answers(port: number, count: number): Promise<Map<string, number>> {
  return answerCounts(port, "/", "app.test", count, 3000);
}

Deno.test({
  name: "engine: readiness, drain on kill and rollover, with real nginx",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const nginxBin = requireTool("nginx");
    const s = new Scenario();
    const L = `z${s.tag}`;
    const dir = await Deno.makeTempDir({ prefix: "lbsync-zero-" });
    const port = freePort();
    const out = `${dir}/lbsync.conf`;
    const common = engineArgs(L, port);
    const app = (extra: Record<string, string> = {}) =>
      Object.entries({ service: "app", host: "app.test", ...extra }).flatMap((
        [k, v],
      ) => ["-l", `${L}.${k}=${v}`]);
    let nginx: RunningBalancer | undefined;
    let watch: WatchProcess | undefined;
    try {
      // one health path per service: ready-1 serves it, never-1 answers 404 there
      const ready = await s.run("ready-1", ["-e", "PATHS=/ready", ...app({ health: "/ready/" })]);
      const never = await s.run("never-1", app({ health: "/ready/" }));

      await t.step(
        "one shot: a container that never gets ready is out, with the reason",
        async () => {
          const r = await lbsync([
            "render",
            ...common,
            "--ready-timeout",
            "1s",
            "-t",
            "nginx",
            "-o",
            out,
          ]);
          assert.equal(r.code, 0, r.stderr);
          const explain = await lbsync(["explain", ...common, "--format", "json"]);
          const rows = JSON.parse(explain.stdout).containers as {
            name: string;
            status: string;
            reason: string;
          }[];
          const row = rows.find((x) => x.name === never.name)!;
          assert.equal(row.status, "out");
          assert.match(row.reason, /^not ready: GET http:\/\/[\d.]+:8080\/ready\/: status 404$/);
        },
      );

      nginx = await startNginx({ http: await Deno.readTextFile(out) });
      const ngx = `${nginxBin} -p ${nginx.dir}/ -c ${nginx.dir}/nginx.conf`;
      watch = new WatchProcess([
        ...common,
        "-t",
        "nginx",
        "-o",
        out,
        "--check-cmd",
        `cp {} ${nginx.dir}/lbsync.conf && ${ngx} -t -q`,
        "--reload-cmd",
        `${ngx} -s reload`,
        "--retire-after",
        "1s",
        "-v",
      ]);
      await watch.untilLog(/connected to unix:/);

      await t.step("the never-ready container never receives traffic", async () => {
        const seen = await answers(port, 30);
        assert.deepEqual([...seen.keys()], [ready.id]);
        assert.ok(!seen.has(never.id));
      });

      await t.step("a container that becomes ready enters the pool promptly", async () => {
        await dockerOk([
          "exec",
          never.name,
          "sh",
          "-c",
          "mkdir -p /www/ready && echo ok > /www/ready/index.html",
        ]);
        await watch!.until(
          "the late container serves",
          async () => (await answers(port, 10)).has(never.id),
          10_000,
        );
      });

      await t.step(
        "a stopping container receives no new requests once its kill event is processed",
        async () => {
          const slow = await s.run("slow-1", [...app(), ...slowStopper(4)]);
          await watch!.until(
            "slow-1 serves",
            async () => (await answers(port, 12)).has(slow.id),
            10_000,
          );
          // the apply that added slow-1 is logged once its reload is confirmed: wait for it, so
          // the next apply logged is the one that follows the kill
          const started = watch!.log.search(
            new RegExp(`event start container=${slow.id.slice(0, 12)}`),
          );
          await watch!.untilLog(/applied .*why=events/, 5_000, Math.max(0, started));
          const mark = watch!.log.length;
          const stopping = dockerOk(["stop", "-t", "10", slow.name]); // takes 4 s: it keeps serving
          await watch!.untilLog(/event kill container=/, 5_000, mark);
          await watch!.untilLog(/applied .*why=events/, 5_000, mark);
          // "applied" is logged once nginx serves the new file's generation; an old worker may
          // still take a connection or two until it handles its QUIT (seen on a loaded
          // machine). Bounded well inside slow-1's 4 s of grace, so only the drain can pass it.
          let seen = new Map<string, number>();
          await watch!.until("slow-1 out of rotation", async () => {
            seen = await answers(port, 40);
            return !seen.has(slow.id);
          }, 2_000);
          assert.ok(
            [...seen.keys()].every((k) => k === ready.id || k === never.id),
            [...seen.keys()].join(","),
          );
          await stopping;
        },
      );

      await t.step(
        "rollover: the new container takes over once ready, the old one is stopped",
        async () => {
          // no host: the roll service stays off app.test's route
          const roll = ["service=roll", "rollover=true", "health=/"].flatMap((
            l,
          ) => ["-l", `${L}.${l}`]);
          const v1 = await s.run("roll-v1", roll);
          await watch!.until(
            "v1 in the config",
            async () => (await readOr(out)).includes(v1.name),
            10_000,
          );
          const v2 = await s.run("roll-v2", roll);
          await watch!.until("v2 replaces v1", async () => {
            const text = await readOr(out);
            return text.includes(v2.name) && !text.includes(v1.name);
          }, 10_000);
          await watch!.until(
            "v1 stopped by lbsync",
            async () =>
              (await dockerOk(["inspect", "-f", "{{.State.Running}}", v1.name])) === "false",
            15_000,
          );
          // lbsync logs the stop once Docker's stop call returns, which may be a moment later
          await watch!.untilLog(new RegExp(`stopped ${v1.name}, retired by rollover`), 10_000);
        },
      );
    } finally {
      await cleanUp(
        async () => {
          if (watch) assert.equal((await watch.stop()).code, 0, watch.log);
        },
        () => nginx?.stop(),
        () => s.cleanup(),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});
