/**
 * Swarm across real nodes under load: a 4-node cluster (scripts/swarm_cluster.sh), a service of
 * busybox httpd tasks on an overlay network (dnsrr), the balancer and lbsync on the overlay (in
 * a container's namespace on node4, which no scenario stops) and wrk through the balancer
 * (-c8, keep-alive, 2 s timeout) while the swarm changes: scale up, scale down, rolling updates
 * start-first and stop-first, a node drained and back, a worker's dockerd killed and back.
 * Each scenario ends when lbsync serves exactly the tasks the swarm runs on live nodes. The
 * service has `lbsync.health=/`: new tasks enter once they answer, and HAProxy checks servers.
 *
 * Per balancer mode (nginx with reloads, nginx through lbsync's DNS, HAProxy through its
 * runtime API): requests, non-2xx answers and socket errors per scenario. Then the latency
 * from `docker service scale` returning to lbsync serving the new task count, over 20 changes.
 *
 *   deno task bench:swarm                    # every mode, then the latency
 *   deno task bench:swarm -- --only haproxy-runtime
 *
 * Needs root, dockerd, nginx, haproxy and wrk (bash .ci/run installs them).
 */
import { startReloadable } from "../tests/support/balancers.ts";
import { lbsync } from "../tests/support/cli.ts";
import {
  clusterMissing,
  SWARM_IMAGE,
  swarmArgs,
  SwarmCluster,
  until,
  watchArgs,
} from "../tests/support/swarm_cluster.ts";
import { requireTool } from "../tests/support/tools.ts";
import { WatchProcess } from "../tests/support/watch_process.ts";
import { formatSocketErrors, parseWrk, type WrkSummary } from "./wrk.ts";

const arg = (name: string, fallback: string) =>
  Deno.args.includes(name) ? Deno.args[Deno.args.indexOf(name) + 1] : fallback;
const ONLY = arg("--only", "");
const LATENCY_CHANGES = Number(arg("--changes", "20"));
const LISTEN = 8000;
const STATUS = 8099;
const DNS = 8053;

type Mode = "nginx-reload" | "nginx-dns" | "haproxy-runtime";
const MODES: Mode[] = ["nginx-reload", "nginx-dns", "haproxy-runtime"];

/** One manager failover: when lbsync read from another manager, and served the right tasks. */
interface Failover {
  killed: string;
  switchedMs: number;
  convergedMs: number;
  wrk: WrkSummary;
}

interface Row {
  mode: Mode;
  scenario: string;
  seconds: number;
  wrk: WrkSummary;
}

const missing = clusterMissing();
if (missing) throw new Error(`the cluster cannot run here: ${missing}`);
const wrk = requireTool("wrk");

const cluster = await SwarmCluster.start(4);
const dir = await Deno.makeTempDir({ prefix: "lbsync-bench-swarm-" });
const rows: Row[] = [];
const latencies: number[] = [];
const failovers: Failover[] = [];
try {
  await cluster.docker(1, ["network", "create", "-d", "overlay", "--attachable", "lbnet"]);
  await cluster.createService("web", [
    "--network",
    "lbnet",
    "--replicas",
    "3",
    "--label",
    "lbsync.health=/",
    "--update-delay",
    "1s",
  ]);
  await cluster.docker(4, ["run", "-d", "--name", "seat", "--network", "lbnet", SWARM_IMAGE]);
  const seat = await cluster.netnsOf(4, "seat");
  await cluster.waitRunning("web", 3);

  for (const mode of MODES.filter((m) => !ONLY || m === ONLY)) {
    rows.push(...await underLoad(mode, seat));
  }
  if (!ONLY || ONLY === "latency") latencies.push(...await scaleLatency(seat));
  if (!ONLY || ONLY === "failover") failovers.push(...await managerFailover(seat));
} finally {
  await cluster.stop();
  await Deno.remove(dir, { recursive: true });
}

console.log("| mode | scenario | seconds | requests | non-2xx | socket errors |");
console.log("| --- | --- | ---: | ---: | ---: | --- |");
for (const r of rows) {
  console.log(
    `| ${r.mode} | ${r.scenario} | ${r.seconds} | ${r.wrk.requests} | ${r.wrk.non2xx} | ${
      formatSocketErrors(r.wrk.socket)
    } |`,
  );
}
for (const f of failovers) {
  console.log(
    `\nmanager ${f.killed} killed: lbsync read from another manager after ${f.switchedMs} ms, ` +
      `served the swarm's tasks again after ${f.convergedMs} ms; requests ${f.wrk.requests}, ` +
      `non-2xx ${f.wrk.non2xx}, socket errors ${formatSocketErrors(f.wrk.socket)}`,
  );
}
if (latencies.length > 0) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log(
    `\nscale -> served, ${sorted.length} changes: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, ` +
      `min ${sorted[0]} ms, max ${sorted.at(-1)} ms`,
  );
}

/** A running balancer with `lbsync watch` beside it, in the seat's namespace. */
interface Watched {
  /** The file lbsync writes. */
  out: string;
  stop(): Promise<void>;
}

/**
 * Renders once, starts the balancer on it and `lbsync watch` (both in `seat`): the swarm
 * through `managers`, tasks by their overlay address, `extra` for render and watch alike,
 * `watchOnly` for the watch.
 */
async function startWatch(
  seat: string[],
  name: string,
  template: "nginx" | "haproxy",
  managers: string[],
  extra: string[] = [],
  watchOnly: string[] = [],
): Promise<Watched> {
  const out = `${dir}/${name}.conf`;
  const common = [...swarmArgs(managers, "lbnet", LISTEN), ...extra];
  const first = await lbsync(["render", ...common, "-t", template, "-o", out]);
  if (first.code !== 0) throw new Error(first.stderr);
  const balancer = await startReloadable(template, out, `${dir}/${name}.reloads`, seat);
  const watch = new WatchProcess([
    ...common,
    ...watchOnly,
    ...balancer.targetArgs,
    ...watchArgs(STATUS),
    "-q",
  ], seat);
  return {
    out,
    async stop() {
      await watch.stop();
      await balancer.stop();
    },
  };
}

/** wrk through the balancer (in `seat`) until `stop` gives its summary. */
function startLoad(seat: string[]): { stop(): Promise<WrkSummary> } {
  const load = new Deno.Command(seat[0], {
    args: [
      ...seat.slice(1),
      wrk,
      "-t2",
      "-c8",
      "-d300s",
      "--timeout",
      "2s",
      `http://127.0.0.1:${LISTEN}/`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return {
    async stop() {
      load.kill("SIGINT");
      return parseWrk(new TextDecoder().decode((await load.output()).stdout));
    },
  };
}

/** The mode's lbsync options: for the first render and the watch, and the watch's own. */
function modeArgs(mode: Mode): { template: "nginx" | "haproxy"; both: string[]; watch: string[] } {
  if (mode === "haproxy-runtime") {
    return { template: "haproxy", both: ["--haproxy-socket", `${dir}/admin.sock`], watch: [] };
  }
  if (mode === "nginx-dns") {
    return { template: "nginx", both: [], watch: ["--nginx-dns", `127.0.0.1:${DNS}`] };
  }
  return { template: "nginx", both: [], watch: [] };
}

/** The task ids (12 digits) lbsync serves now, from its /status. */
async function servedIds(seat: string[]): Promise<string[]> {
  const status = JSON.parse((await cluster.get(`http://127.0.0.1:${STATUS}/status`, seat)).body);
  const services = status.services as { name: string; servers: { id: string }[] }[];
  return (services.find((s) => s.name === "web")?.servers ?? []).map((s) => s.id).sort();
}

/**
 * Waits until the swarm runs `replicas` tasks on live nodes and lbsync serves exactly those.
 */
async function converged(seat: string[], what: string, replicas: number): Promise<void> {
  await until(what, 120_000, async () => {
    const want = await cluster.servingTaskIds("web");
    return want.length === replicas && want.join() === (await servedIds(seat)).join();
  });
}

async function underLoad(mode: Mode, seat: string[]): Promise<Row[]> {
  const { template, both, watch: watchOnly } = modeArgs(mode);
  const watched = await startWatch(
    seat,
    mode,
    template,
    [cluster.nodes[0].socket],
    both,
    watchOnly,
  );
  const out_rows: Row[] = [];
  const [, node2, node3] = cluster.nodes;
  const nodeStatus = async (host: string) =>
    (await cluster.docker(1, ["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])).stdout
      .includes(`${host} ${"Ready"}`);
  // each scenario, and the number of tasks it ends with
  const scenarios: [string, () => Promise<void>, number][] = [
    ["scale 3 -> 6", () => scale(6), 6],
    ["scale 6 -> 3", () => scale(3), 3],
    ["rolling update, start-first", () => roll("start-first"), 3],
    ["rolling update, stop-first", () => roll("stop-first"), 3],
    ["node3 drained", async () => {
      await availability(node3.hostname, "drain");
      await until(
        "node3 empty",
        60_000,
        async () => !(await cluster.runningTasks("web")).some((t) => t.node === node3.hostname),
      );
    }, 3],
    ["node3 active again, scale 3 -> 4", async () => {
      await availability(node3.hostname, "active");
      await scale(4);
    }, 4],
    ["worker node2's dockerd killed", async () => {
      await cluster.kill(2);
      await until("node2 down", 60_000, async () => !(await nodeStatus(node2.hostname)));
    }, 4],
    ["node2 back, scale 4 -> 3", async () => {
      await cluster.restart(2);
      await until("node2 ready", 60_000, () => nodeStatus(node2.hostname));
      await scale(3);
    }, 3],
  ];
  try {
    await converged(seat, `${mode}: start`, 3);
    for (const [scenario, change, replicas] of scenarios) {
      const started = Date.now();
      const load = startLoad(seat);
      await new Promise((r) => setTimeout(r, 1000)); // load before the change
      await change();
      await converged(seat, `${mode}: ${scenario}`, replicas);
      await new Promise((r) => setTimeout(r, 1000)); // and after it
      const wrkSummary = await load.stop();
      out_rows.push({
        mode,
        scenario,
        seconds: Math.round((Date.now() - started) / 1000),
        wrk: wrkSummary,
      });
      console.error(JSON.stringify(out_rows.at(-1)));
    }
  } finally {
    await watched.stop();
  }
  return out_rows;
}

async function scale(replicas: number): Promise<void> {
  await cluster.manager(["service", "scale", "-d", `web=${replicas}`]);
}

async function roll(order: string): Promise<void> {
  const before = await cluster.servingTaskIds("web");
  await cluster.manager([
    "service",
    "update",
    "-d",
    "--update-order",
    order,
    "--env-add",
    `ROLL=${order}-${Date.now()}`,
    "web",
  ]);
  await until(`${order} update done`, 120_000, async () => {
    const now = await cluster.servingTaskIds("web");
    return now.length > 0 && now.every((id) => !before.includes(id));
  });
}

async function availability(host: string, value: "drain" | "active"): Promise<void> {
  await cluster.manager(["node", "update", "--availability", value, host]);
}

/** From `docker service scale` returning to lbsync serving that many tasks, `changes` times. */
async function scaleLatency(seat: string[]): Promise<number[]> {
  const watched = await startWatch(seat, "latency", "nginx", [cluster.nodes[0].socket]);
  const times: number[] = [];
  try {
    await converged(seat, "latency: start", 3);
    for (let i = 0; i < LATENCY_CHANGES; i++) {
      const replicas = i % 2 === 0 ? 4 : 3;
      const started = Date.now();
      await scale(replicas);
      // served = the config names that many servers (polled every 20 ms)
      const end = started + 60_000;
      while (Date.now() < end) {
        const servers = (await Deno.readTextFile(watched.out)).match(/^\s*server \S+ weight=/gm) ??
          [];
        if (servers.length === replicas) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      times.push(Date.now() - started);
      console.error(`latency: web=${replicas} in ${times.at(-1)} ms`);
      await converged(seat, `latency: change ${i + 1}`, replicas);
    }
  } finally {
    await watched.stop();
  }
  return times;
}

/**
 * Three managers; the one lbsync reads from is killed, twice (node1, then the next one in use
 * after node1 is back), under wrk through HAProxy's runtime API.
 */
async function managerFailover(seat: string[]): Promise<Failover[]> {
  await cluster.promote(2);
  await cluster.promote(3);
  const managers = cluster.nodes.slice(0, 3);
  const watched = await startWatch(
    seat,
    "failover",
    "haproxy",
    managers.map((m) => m.socket),
    ["--haproxy-socket", `${dir}/failover.sock`],
  );
  const inUse = async () =>
    JSON.parse((await cluster.get(`http://127.0.0.1:${STATUS}/status`, seat)).body)
      .engines[0].manager as string;
  const results: Failover[] = [];
  try {
    await converged(seat, "failover: start", 3);
    for (let round = 0; round < 2; round++) {
      const current = await inUse();
      const node = managers.find((m) => m.socket === current)!;
      const load = startLoad(seat);
      await new Promise((r) => setTimeout(r, 1000));
      const killedAt = Date.now();
      await cluster.kill(node.n);
      await until("another manager in use", 120_000, async () => (await inUse()) !== current);
      const switchedMs = Date.now() - killedAt;
      await until(
        `${node.hostname} marked down`,
        120_000,
        async () =>
          (await cluster.manager(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])).stdout
            .includes(`${node.hostname} Down`),
      );
      await converged(seat, "failover: tasks replaced", 3);
      const convergedMs = Date.now() - killedAt;
      results.push({ killed: node.hostname, switchedMs, convergedMs, wrk: await load.stop() });
      console.error(JSON.stringify(results.at(-1)));
      await cluster.restart(node.n);
      await until(
        `${node.hostname} back`,
        120_000,
        async () =>
          (await cluster.manager(["node", "ls", "--format", "{{.Hostname}} {{.Status}}"])).stdout
            .includes(`${node.hostname} Ready`),
      );
    }
  } finally {
    await watched.stop();
  }
  return results;
}
