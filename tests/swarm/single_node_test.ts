/**
 * Swarm on the real test engine (a single-node swarm): services and their tasks as backends,
 * real nginx routing to the tasks' host-published ports through create, scale up, scale
 * down, a rolling update and removal; tasks reached by overlay IP from a container on an
 * attachable overlay network; one server per service with --swarm-vip.
 */
import assert from "node:assert/strict";
import {
  answerSet,
  eventually,
  freePort,
  type RunningBalancer,
  startNginx,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import {
  docker,
  dockerOk,
  engineArgs,
  engineMissing,
  Scenario,
  TEST_IMAGE,
} from "../support/engine.ts";
import { missing, requireTool, run } from "../support/tools.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const ignore = missing("nginx") || await engineMissing();

/** Short ids of the running task containers of `service`. */
async function taskContainers(service: string): Promise<Set<string>> {
  const out = await dockerOk([
    "ps",
    "--filter",
    `label=com.docker.swarm.service.name=${service}`,
    "--format",
    "{{.ID}}",
  ]);
  return new Set(out.split("\n").filter(Boolean).map((id) => id.slice(0, 12)));
}

function sameSet(a: Set<string>, b: Set<string>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function answers(port: number, count: number): Promise<Set<string>> {
  return answerSet(port, "/", "swarm.test", count, 3000);
}

Deno.test({
  name: "swarm: services' tasks are the backends, followed through scale, update and removal",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s = new Scenario();
    const L = `s${s.tag}`;
    const wasActive =
      (await dockerOk(["info", "--format", "{{.Swarm.LocalNodeState}}"])) === "active";
    if (!wasActive) await dockerOk(["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    const service = s.name("web");
    const net = s.name("ov");
    const port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-swarm-" });
    const out = `${dir}/lbsync.conf`;
    let nginx: RunningBalancer | undefined;
    const common = [
      ...engineArgs(L),
      "--swarm",
      "--listen",
      String(port),
      "--listen-address",
      "127.0.0.1",
    ];
    const render = async (extra: string[], template = "nginx") => {
      const r = await lbsync([
        "render",
        ...common,
        ...extra,
        "-t",
        template,
        "-o",
        out,
        "--ready-timeout",
        "5s",
      ]);
      assert.equal(r.code, 0, r.stderr);
      return await Deno.readTextFile(out);
    };
    try {
      await dockerOk(["network", "create", "--driver", "overlay", "--attachable", net]);
      await dockerOk([
        "service",
        "create",
        "--name",
        service,
        "--replicas",
        "2",
        "--network",
        net,
        "--publish",
        "mode=host,target=8080",
        "--label",
        `${L}.service=sweb`,
        "--label",
        `${L}.host=swarm.test`,
        "--label",
        `${L}.port=8080`,
        "--stop-grace-period",
        "1s",
        TEST_IMAGE,
      ]);

      /** Renders, loads into nginx, and returns what nginx reached once it matches the tasks. */
      const published = async (replicas: number) => {
        let seen = new Set<string>();
        let tasks = new Set<string>();
        await eventually(async () => {
          tasks = await taskContainers(service);
          if (tasks.size !== replicas) return false;
          await render(["--address", "published"]);
          if (!nginx) nginx = await startNginx({ http: await Deno.readTextFile(out) });
          else {
            await Deno.copyFile(out, `${nginx.dir}/lbsync.conf`);
            await run([
              requireTool("nginx"),
              "-p",
              `${nginx.dir}/`,
              "-c",
              `${nginx.dir}/nginx.conf`,
              "-s",
              "reload",
            ]);
          }
          seen = await answers(port, 30);
          return sameSet(seen, tasks);
        }, 30_000).catch(() => {});
        assert.deepEqual(seen, tasks);
        assert.equal(tasks.size, replicas);
        return tasks;
      };

      await t.step(
        "created: nginx reaches every running task on its host-published port",
        async () => {
          await published(2);
        },
      );
      await t.step("scaled up to 3 and down to 1: the pool follows", async () => {
        await dockerOk(["service", "scale", service + "=3"]);
        await published(3);
        await dockerOk(["service", "scale", service + "=1"]);
        await published(1);
      });
      await t.step("a rolling update: the new tasks serve", async () => {
        const before = await taskContainers(service);
        await dockerOk(["service", "update", "--env-add", "ROLLED=1", service]);
        await eventually(async () => {
          const now = await taskContainers(service);
          return now.size === 1 && !sameSet(now, before);
        }, 30_000).catch(() => {});
        const after = await published(1);
        assert.notDeepEqual(after, before);
      });
      await t.step(
        "overlay: a container on the attachable network reaches the tasks by overlay IP",
        async () => {
          await dockerOk(["service", "scale", service + "=2"]);
          await Deno.writeTextFile(
            `${dir}/list.mustache`,
            "{{#services}}{{#servers}}{{endpoint}}\n{{/servers}}{{/services}}",
          );
          const endpoints = (await render(["--network", net], `${dir}/list.mustache`)).split("\n")
            .filter(Boolean);
          assert.equal(endpoints.length, 2);
          const probe = await s.run("probe", ["--network", net]);
          const seen = new Set<string>();
          for (const endpoint of endpoints) {
            seen.add(
              (await dockerOk(["exec", probe.name, "wget", "-qO-", `http://${endpoint}/`])).trim(),
            );
          }
          assert.deepEqual(seen, await taskContainers(service));
          const vip = (await render(["--network", net, "--swarm-vip"], `${dir}/list.mustache`))
            .split("\n").filter(Boolean);
          assert.equal(vip.length, 1, "one server: the service's virtual IP");
          // the VIP itself answers only where the kernel has IPVS (not on these VMs): check it
          // is the address Docker gave the service
          const vips = await dockerOk([
            "service",
            "inspect",
            "-f",
            "{{range .Endpoint.VirtualIPs}}{{.Addr}} {{end}}",
            service,
          ]);
          assert.ok(
            vips.split(" ").some((a) => a.split("/")[0] === vip[0].split(":")[0]),
            `${vip[0]} not in ${vips}`,
          );
        },
      );
      await t.step("watch: a scaled service shows up without a task event", async () => {
        const list = `${dir}/watch.txt`;
        const watch = new WatchProcess([
          ...engineArgs(L),
          "--swarm",
          "--address",
          "published",
          "-t",
          `${dir}/list.mustache`,
          "-o",
          list,
          "--heartbeat",
          "100ms:500ms",
        ]);
        try {
          const count = async () => (await readOr(list)).split("\n").filter(Boolean).length;
          await watch.until("2 tasks", async () => (await count()) === 2, 15_000);
          const started = Date.now();
          await dockerOk(["service", "scale", "--detach", service + "=3"]);
          await watch.until("3 tasks", async () => (await count()) === 3, 20_000);
          console.log(
            `swarm: scaled service in the config ${
              Date.now() - started
            } ms after docker service scale`,
          );
        } finally {
          assert.equal((await watch.stop()).code, 0, watch.log);
        }
      });
      await t.step("removed: the service leaves the config", async () => {
        assert.match(await render(["--address", "published"]), /upstream lbsync_sweb/);
        await dockerOk(["service", "rm", service]);
        let text = "";
        await eventually(async () => {
          text = await render(["--address", "published"]);
          return !text.includes("upstream lbsync_sweb");
        }, 30_000).catch(() => {});
        assert.doesNotMatch(text, /upstream lbsync_sweb/);
      });
    } finally {
      await nginx?.stop();
      await docker(["service", "rm", service]);
      await s.cleanup();
      await eventually(async () => (await docker(["network", "rm", net])).code === 0, 10_000)
        .catch(() => {});
      if (!wasActive) await docker(["swarm", "leave", "--force"]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
