/**
 * Watch mode against the real engine, with real nginx and HAProxy serving on 127.0.0.1:
 * a burst of starts, stops one by one, health changes, a network disconnect and a rename,
 * each followed into the config and into the traffic.
 */
import assert from "node:assert/strict";
import {
  answerSet,
  freePort,
  type RunningBalancer,
  startHaproxy,
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
import { cleanUp, missing, requireTool } from "../support/tools.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const ignore = missing("nginx", "haproxy") || await engineMissing();
const HEARTBEAT_MIN_MS = 500;
const HEARTBEAT_MAX_MS = 3000;

/**
 * How many batches the heartbeat rule makes of events at these times (ms): a batch closes MIN
 * after its last event or MAX after its first, whichever comes first; a later event opens the next.
 */
function heartbeatBatches(times: number[], minMs: number, maxMs: number): number {
  let batches = 0;
  let closesAt = -Infinity;
  let first = 0;
  for (const at of [...times].sort((a, b) => a - b)) {
    if (at > closesAt) {
      batches++;
      first = at;
    }
    closesAt = Math.min(at + minMs, first + maxMs);
  }
  return batches;
}

Deno.test("heartbeatBatches follows the batching rule", () => {
  assert.equal(heartbeatBatches([], 500, 3000), 0);
  assert.equal(heartbeatBatches([0, 400, 800, 1200], 500, 3000), 1); // each within MIN of the last
  assert.equal(heartbeatBatches([0, 600], 500, 3000), 2); // a gap over MIN
  assert.equal(heartbeatBatches([0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200], 500, 3000), 2);
});

/** The times (ms) of the container and network events the engine reported for a scenario. */
async function eventTimes(tag: string, network: string, since: number): Promise<number[]> {
  const until = (Date.now() + 1000) / 1000;
  const args = ["events", "--since", String(since / 1000), "--until", String(until)];
  const format = ["--format", "{{.TimeNano}}"];
  const containers = await dockerOk([...args, "--filter", `label=lbsync-test=${tag}`, ...format]);
  const connects = await dockerOk([...args, "--filter", `network=${network}`, ...format]);
  return `${containers}\n${connects}`.split("\n").filter((l) => l !== "")
    .map((ns) => Number(BigInt(ns) / 1_000_000n));
}

interface Side {
  name: string;
  port: number;
  out: string;
  applies: string;
  statusPort: number;
  watch?: WatchProcess;
}

/** Waits until the side's watch has nothing pending and no pass running. */
async function idle(side: Side): Promise<void> {
  await side.watch!.until(`${side.name} idle`, async () => {
    const status = await fetch(`http://127.0.0.1:${side.statusPort}/status`)
      .then((r) => r.json()).catch(() => undefined);
    return status?.loop?.state === "idle" && status.loop.pendingEvents === 0;
  }, 20_000);
}

/** Short ids answering on `side` over `count` requests (`status N` for errors). */
function answers(side: Side, count: number): Promise<Set<string>> {
  return answerSet(side.port, "/", "web.test", count);
}

async function appliesOf(side: Side): Promise<number> {
  return (await readOr(side.applies)).split("\n").filter(Boolean).length;
}

Deno.test({
  name: "watch: the engine's changes reach nginx and HAProxy, batched",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const nginxBin = requireTool("nginx");
    const haproxyBin = requireTool("haproxy");
    const s = new Scenario();
    const L = `w${s.tag}`;
    const dir = await Deno.makeTempDir({ prefix: "lbsync-watch-engine-" });
    const sides: Side[] = ["nginx", "haproxy"].map((name) => ({
      name,
      port: freePort(),
      out: `${dir}/${name}.conf`,
      applies: `${dir}/${name}.applies`,
      statusPort: freePort(),
    }));
    const [ngx, hap] = sides;
    const a = await s.network("wa");
    const b = await s.network("wb");
    const common = (side: Side) => [
      ...engineArgs(L, side.port),
      "--network",
      a,
    ];
    let nginx: RunningBalancer | undefined, haproxy: RunningBalancer | undefined;
    try {
      // first configs and the balancers, then the watchers
      for (const side of sides) {
        const r = await lbsync(["render", ...common(side), "-t", side.name, "-o", side.out]);
        assert.equal(r.code, 0, r.stderr);
      }
      nginx = await startNginx({ http: await Deno.readTextFile(ngx.out) });
      haproxy = await startHaproxy(await Deno.readTextFile(hap.out));
      const nginxCmd = `${nginxBin} -p ${nginx.dir}/ -c ${nginx.dir}/nginx.conf`;
      const reload = {
        nginx: `cp {} ${nginx.dir}/lbsync.conf && ${nginxCmd} -t -q`,
        haproxy: `${haproxyBin} -c -f {}`,
      };
      const after = {
        nginx: `${nginxCmd} -s reload && echo apply >> ${ngx.applies}`,
        haproxy:
          `cp ${hap.out} ${haproxy.dir}/haproxy.cfg && kill -USR2 $(cat ${haproxy.dir}/haproxy.pid) && echo apply >> ${hap.applies}`,
      };
      for (const side of sides) {
        const name = side.name as "nginx" | "haproxy";
        side.watch = new WatchProcess([
          ...common(side),
          "-t",
          side.name,
          "-o",
          side.out,
          "--check-cmd",
          reload[name],
          "--reload-cmd",
          after[name],
          "--heartbeat",
          `${HEARTBEAT_MIN_MS}ms:${HEARTBEAT_MAX_MS}ms`,
          "--status-listen",
          `127.0.0.1:${side.statusPort}`,
        ]);
      }
      for (const side of sides) await side.watch!.untilLog(/connected to unix:/);

      const web = ["--network", a, "-l", `${L}.service=web`, "-l", `${L}.host=web.test`];
      const names = Array.from({ length: 20 }, (_, i) => s.name(`web-${i + 1}`));
      const ids: string[] = [];
      for (const name of names) {
        ids.push(
          (await dockerOk([
            "create",
            "--name",
            name,
            "--label",
            `lbsync-test=${s.tag}`,
            ...web,
            TEST_IMAGE,
          ])).slice(0, 12),
        );
      }
      s.adopt(names);

      await t.step(
        "20 containers started at once: at most one apply per heartbeat batch, all 20 serving",
        async () => {
          const before = await Promise.all(sides.map(appliesOf));
          const started = Date.now();
          await Promise.all(names.map((n) => dockerOk(["start", n])));
          const startMs = Date.now() - started;
          for (const side of sides) {
            // exactly the 20: every one answers, nothing else does
            await side.watch!.until(
              `${side.name} serves all 20`,
              async () => {
                const seen = await answers(side, 60);
                return seen.size === 20 && ids.every((id) => seen.has(id));
              },
              20_000,
            );
          }
          for (const side of sides) await idle(side); // late batches are in
          // at most one apply per batch: as many as the heartbeat rule makes of the events the
          // engine reported (a gap over MIN between two starts on a busy machine closes one early)
          const events = await eventTimes(s.tag, a, started - 1000);
          // (MIN less 200 ms: the watch sees each event a little after the engine stamped it)
          const bound = heartbeatBatches(events, HEARTBEAT_MIN_MS - 200, HEARTBEAT_MAX_MS);
          for (const [i, side] of sides.entries()) {
            const applies = (await appliesOf(side)) - before[i];
            assert.ok(
              applies >= 1 && applies <= bound,
              `${side.name}: ${applies} applies for 20 starts in ${startMs} ms, ${events.length} events in ${bound} batches`,
            );
          }
        },
      );

      await t.step("stopped one by one: each leaves the pool", async () => {
        for (let i = 0; i < 20; i++) {
          await dockerOk(["stop", "-t", "2", names[i]]);
          const left = new Set(ids.slice(i + 1));
          const expected = left.size > 0 ? left : new Set(["status 503"]);
          for (const side of sides) {
            await side.watch!.until(`${names[i]} leaves ${side.name}`, async () => {
              if ((await readOr(side.out)).includes(names[i])) return false;
              return [...await answers(side, 6)].every((id) => expected.has(id));
            });
          }
        }
      });

      await t.step("health: unhealthy leaves, healthy returns", async () => {
        const { id } = await s.run("health-1", [
          ...web,
          "--health-cmd",
          "test ! -f /www/sick",
          "--health-interval",
          "1s",
          "--health-retries",
          "1",
        ]);
        for (const side of sides) {
          await side.watch!.until(
            `healthy container in ${side.name}`,
            async () => (await answers(side, 2)).has(id),
            15_000,
          );
        }
        await dockerOk(["exec", s.name("health-1"), "touch", "/www/sick"]);
        for (const side of sides) {
          await side.watch!.until(
            `unhealthy container leaves ${side.name}`,
            async () =>
              !(await readOr(side.out)).includes(s.name("health-1")) &&
              (await answers(side, 2)).has("status 503"),
            15_000,
          );
        }
        await dockerOk(["exec", s.name("health-1"), "rm", "/www/sick"]);
        for (const side of sides) {
          await side.watch!.until(
            `healthy again in ${side.name}`,
            async () => (await answers(side, 2)).has(id),
            15_000,
          );
        }
      });

      await t.step("network disconnect: leaves; rename: the config follows", async () => {
        const two = await s.run("two-nets-1", [
          ...web.slice(0, 2),
          ...web.slice(2),
          "-l",
          `${L}.network=${b}`,
        ]);
        await dockerOk(["network", "connect", b, s.name("two-nets-1")]);
        for (const side of sides) {
          await side.watch!.until(
            `connected container in ${side.name}`,
            async () => (await answers(side, 4)).has(two.id),
            15_000,
          );
        }
        await dockerOk(["network", "disconnect", b, s.name("two-nets-1")]);
        for (const side of sides) {
          await side.watch!.until(
            `disconnected container leaves ${side.name}`,
            async () => !(await readOr(side.out)).includes(s.name("two-nets-1")),
            15_000,
          );
        }
        await dockerOk(["rename", s.name("health-1"), s.name("renamed-1")]);
        s.adopt([s.name("renamed-1")]);
        for (const side of sides) {
          await side.watch!.until(`rename in ${side.name}`, async () => {
            const text = await readOr(side.out);
            return text.includes(s.name("renamed-1")) && !text.includes(s.name("health-1"));
          }, 15_000);
        }
      });
    } finally {
      await cleanUp(
        ...sides.map((side) => async () => {
          if (side.watch) assert.equal((await side.watch.stop()).code, 0, side.watch.log);
        }),
        () => nginx?.stop(),
        () => haproxy?.stop(),
        () => s.cleanup(),
        () => docker(["rm", "-f", s.name("renamed-1")]),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});
