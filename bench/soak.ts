/**
 * A soak: containers churn (start, stop, kill, restart, remove, network disconnect and
 * connect, every 2-5 s, seeded) while `lbsync watch` keeps real nginx or HAProxy in step and
 * wrk (-c16, keep-alive, 2 s timeout) sends traffic through it. Reports per minute: requests,
 * non-2xx, read errors, timeouts (> 2 s), lbsync's RSS; at the end, whether the config lists
 * exactly the running containers.
 * Needs the test engine (scripts/engine_start.sh), nginx, haproxy and wrk.
 *
 * No dockerd restart in the churn: without `--live-restore` it stops every backend (the
 * reconnect itself is tests/engine/watch_reconnect_test.ts). Each balancer runs twice: with reloads, and reload-free (HAProxy's runtime API through
 * `--haproxy-socket`, nginx's resolver through `--nginx-dns`).
 *
 *   deno task bench:soak                       # 15 minutes on each balancer, in each mode
 *   deno task bench:soak -- --minutes 2 --only nginx --mode reload-free
 */
import { freePort, httpGet, startReloadable } from "../tests/support/balancers.ts";
import { lbsync } from "../tests/support/cli.ts";
import { docker, engineArgs, Scenario } from "../tests/support/engine.ts";
import { seededRandom } from "../tests/support/fixtures.ts";
import { requireTool, run } from "../tests/support/tools.ts";
import { readOr, WatchProcess } from "../tests/support/watch_process.ts";
import { parseWrk } from "./wrk.ts";

const arg = (name: string, fallback: string) =>
  Deno.args.includes(name) ? Deno.args[Deno.args.indexOf(name) + 1] : fallback;
const MINUTES = Number(arg("--minutes", "15"));
const ONLY = arg("--only", "");
/** `reload`, `reload-free`, or both (the default). */
const MODE = arg("--mode", "");
/** More lbsync options for every run, e.g. `--extra "--connect-timeout 60s"`. */
const EXTRA = arg("--extra", "").split(" ").filter(Boolean);
const wrk = requireTool("wrk");

interface Minute {
  minute: number;
  requests: number;
  non2xx: number;
  read: number;
  timeouts: number;
  rssMb: number;
  reloads: number;
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024);
}

type Mode = "reload" | "reload-free";

/** What makes a mode: options for the first render and the watch, and for the watch only. */
function modeArgs(template: "nginx" | "haproxy", mode: Mode, dir: string) {
  if (mode === "reload") return { both: [], watch: [] };
  if (template === "haproxy") return { both: ["--haproxy-socket", `${dir}/admin.sock`], watch: [] };
  return { both: [], watch: ["--nginx-dns", String(freePort())] };
}

async function soak(
  template: "nginx" | "haproxy",
  mode: Mode,
): Promise<{ minutes: Minute[]; exact: boolean }> {
  const s = new Scenario();
  const L = `k${s.tag}`;
  const dir = await Deno.makeTempDir({ prefix: "lbsync-soak-" });
  const port = freePort();
  const statusPort = freePort();
  const out = `${dir}/${template}.conf`;
  const net = await s.network("soak");
  const labels = ["service=app", "host=app.test"].flatMap((l) => ["-l", `${L}.${l}`]);
  const runArgs = ["--network", net, ...labels];
  let stopBalancer: (() => Promise<void>) | undefined;
  let watch: WatchProcess | undefined;
  const live: string[] = [];
  let serial = 0;
  const start = async () => live.push((await s.run(`app-${serial++}`, runArgs)).name);
  try {
    for (let i = 0; i < 4; i++) await start();
    const extra = modeArgs(template, mode, dir);
    const common = [...engineArgs(L, port), "--network", net, ...extra.both, ...EXTRA];
    const first = await lbsync(["render", ...common, "-t", template, "-o", out]);
    if (first.code !== 0) throw new Error(first.stderr);
    const balancer = await startReloadable(template, out, `${dir}/reloads`);
    stopBalancer = balancer.stop;
    watch = new WatchProcess([
      ...common,
      ...balancer.targetArgs,
      ...extra.watch,
      "--status-listen",
      `127.0.0.1:${statusPort}`,
      "--heartbeat",
      "200ms:1s",
      "-q",
    ]);
    await watch.until("first apply", async () => (await readOr(out)).includes("app.test"), 15_000);

    const rnd = seededRandom(20261127); // every run churns alike
    let churning = true;
    const churn = (async () => {
      while (churning) {
        await new Promise((r) => setTimeout(r, 2000 + rnd() * 3000));
        if (!churning) break;
        const pick = () => live[Math.floor(rnd() * live.length)];
        const action = live.length <= 2 ? 0 : live.length >= 7 ? 1 + Math.floor(rnd() * 3) : Math
          .floor(rnd() * 6);
        const name = pick();
        // a failed docker command (a busy engine) is told and the churn goes on
        if (action === 0) await start().catch((e) => console.error(`churn: ${e.message}`));
        else if (action === 1) {
          await docker(["stop", "-t", "1", name]);
          await docker(["rm", "-f", name]);
          live.splice(live.indexOf(name), 1);
        } else if (action === 2) {
          await docker(["kill", name]);
          await docker(["rm", "-f", name]);
          live.splice(live.indexOf(name), 1);
        } else if (action === 3) await docker(["restart", "-t", "1", name]);
        else if (action === 4) {
          await docker(["network", "disconnect", net, name]);
          await new Promise((r) => setTimeout(r, 1000));
          await docker(["network", "connect", net, name]);
        } else await start().catch((e) => console.error(`churn: ${e.message}`));
      }
    })();

    const minutes: Minute[] = [];
    for (let m = 1; m <= MINUTES; m++) {
      // a sample of the answers' statuses beside wrk, to say what the non-2xx are
      const statuses = new Map<number, number>();
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const r = await httpGet(port, "/", "app.test", 2000);
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const result = await run([
        wrk,
        "-t2",
        "-c16",
        "-d60s",
        "--timeout",
        "2s",
        "-H",
        "Host: app.test",
        `http://127.0.0.1:${port}/`,
      ]);
      const summary = parseWrk(result.stdout);
      minutes.push({
        minute: m,
        requests: summary.requests,
        non2xx: summary.non2xx,
        read: summary.socket.read,
        timeouts: summary.socket.timeout,
        rssMb: rssMb(watch.child.pid),
        reloads: (await readOr(`${dir}/reloads`)).split("\n").length - 1,
      });
      sampling = false;
      await sampler;
      console.error(
        JSON.stringify({ template, mode, ...minutes.at(-1), statuses: [...statuses] }),
      );
    }
    churning = false;
    await churn;
    // the config names exactly the running containers once the last batch is applied
    const running = async () =>
      (await docker(["ps", "--filter", `label=${L}.service`, "--format", "{{.Names}}"]))
        .stdout.trim().split("\n").filter(Boolean).sort();
    // lbsync's own view (/status): in the reload-free modes the file does not list servers
    const served = async () => {
      const status = await fetch(`http://127.0.0.1:${statusPort}/status`).then((r) => r.json());
      const services = status.services as { servers: { name: string }[] }[];
      return services.flatMap((svc) => svc.servers.map((server) => server.name)).sort();
    };
    let exact = false;
    let last = "";
    for (let i = 0; i < 50 && !exact; i++) {
      const [lbsyncSays, dockerSays] = [await served(), await running()];
      exact = lbsyncSays.join() === dockerSays.join();
      last = `lbsync serves ${lbsyncSays.join(" ")}; docker runs ${dockerSays.join(" ")}`;
      if (!exact) await new Promise((r) => setTimeout(r, 200));
    }
    if (!exact) console.error(last);
    return { minutes, exact };
  } finally {
    await watch?.stop();
    await stopBalancer?.();
    await s.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

const runs = (["nginx", "haproxy"] as const).filter((t) => !ONLY || t === ONLY)
  .flatMap((t) =>
    (["reload", "reload-free"] as const).filter((m) => !MODE || m === MODE).map((m) =>
      [t, m] as const
    )
  );
for (const [template, mode] of runs) {
  const { minutes, exact } = await soak(template, mode);
  console.log(
    `\n${template}, ${mode}, ${MINUTES} min, config equals docker ps at the end: ${exact}`,
  );
  console.log("| minute | requests | non-2xx | read errors | timeouts | RSS MB | reloads |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const m of minutes) {
    console.log(
      `| ${m.minute} | ${m.requests} | ${m.non2xx} | ${m.read} | ${m.timeouts} | ${m.rssMb} | ${m.reloads} |`,
    );
  }
}
