/**
 * HAProxy without reloads, under load: wrk against real HAProxy on 127.0.0.1 while the
 * backend pool changes 100 times (one server added or removed every 200 ms), applied by
 * `applyTargets` (the apply step of `lbsync watch`) through the runtime API, then the same
 * sequence through checked reloads. Backends are HTTP servers of this process that count the
 * requests each one receives after it left the pool ("stray"). Needs haproxy and wrk.
 * Run: deno task bench:runtime
 */
import { formatSocketErrors, parseWrk } from "./wrk.ts";
import { applyTargets, buildModel, HaproxyRuntime, render, templates } from "../mod.ts";
import type { ContainerInfo } from "../mod.ts";
import { freePort, startHaproxy } from "../tests/support/balancers.ts";
import { container, resetContainers } from "../tests/support/fixtures.ts";
import { requireTool } from "../tests/support/tools.ts";

const CHANGES = 100;
const STEP_MS = 200;
const POOL = 6;
/**
 * A request reaching a server this long after its removal returned is stray; a server in the
 * pool for a whole step without a request is idle.
 */
const GRACE_MS = 50;
const wrk = requireTool("wrk");

interface Backend {
  name: string;
  port: number;
  live: boolean;
  removedAt: number;
  requests: number;
  stray: number;
  /** Requests when it last joined the pool. */
  requestsAtAdd: number;
  /** Times it was in the pool without receiving a request. */
  idleStints: number;
  server: Deno.HttpServer<Deno.NetAddr>;
}

function startBackend(name: string): Backend {
  const b = {
    name,
    port: 0,
    live: false,
    removedAt: 0,
    requests: 0,
    stray: 0,
    requestsAtAdd: 0,
    idleStints: 0,
  } as Backend;
  b.server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => {
    b.requests += 1;
    if (!b.live && performance.now() - b.removedAt > GRACE_MS) b.stray += 1;
    return new Response(name);
  });
  b.port = b.server.addr.port;
  return b;
}

/** The same pseudo-random add/remove sequence for every run: live servers stay in 2..5. */
function changeSequence(): number[] {
  let seed = 42;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const live = new Set([0, 1, 2]);
  const steps: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const add = live.size <= 2 || (live.size < 5 && next() < 0.5);
    const candidates = [...Array(POOL).keys()].filter((k) => live.has(k) !== add);
    const pick = candidates[Math.floor(next() * candidates.length)];
    if (add) live.add(pick);
    else live.delete(pick);
    steps.push(pick);
  }
  return steps;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

interface Row {
  path: string;
  clients: string;
  reloads: number;
  runtimeFallbacks: number;
  requests: number;
  non2xx: number;
  socketErrors: string;
  stray: number;
  idle: number;
  applyP50: number;
}

async function churn(viaRuntime: boolean, keepAlive: boolean): Promise<Row> {
  resetContainers();
  const backends = [...Array(POOL).keys()].map((i) => startBackend(`s${i}`));
  const containers = backends.map((b) =>
    container(b.name, { "lbsync.service": "app" }, {
      networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
      ports: [{ port: b.port, protocol: "tcp", published: [] }],
    })
  );
  const dir = await Deno.makeTempDir({ prefix: "lbsync-runtime-bench-" });
  const socket = `${dir}/admin.sock`;
  const listen = freePort();
  const renderLive = () => {
    const live = containers.filter((_, i) => backends[i].live);
    const model = buildModel(live as ContainerInfo[], {
      listen,
      listenAddress: "127.0.0.1",
      haproxySocket: socket,
    }).model;
    return render(templates.haproxy, model);
  };
  for (const i of [0, 1, 2]) backends[i].live = true;
  const balancer = await startHaproxy(renderLive());
  const runtime = new HaproxyRuntime({ drainTimeoutMs: 5_000 });
  let reloads = 0, fallbacks = 0;
  const applyMs: number[] = [];
  try {
    await waitFor(() => Deno.stat(socket).then(() => true, () => false));
    // wrk runs until the last change is done (SIGINT makes it stop and report)
    const load = new Deno.Command(wrk, {
      args: [
        "-t2",
        "-c32",
        "-d120s",
        ...(keepAlive ? [] : ["-H", "Connection: close"]),
        `http://127.0.0.1:${listen}/`,
      ],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    await delay(1000);
    for (const pick of changeSequence()) {
      const b = backends[pick];
      b.live = !b.live;
      if (!b.live) b.removedAt = Infinity; // still in the pool until the apply returns
      if (!b.live && b.requests === b.requestsAtAdd) b.idleStints += 1;
      const started = performance.now();
      const report = await applyTargets([{
        template: "haproxy",
        output: `${balancer.dir}/haproxy.cfg`,
        content: renderLive(),
        check: "haproxy -c -f {}",
        reload: `kill -USR2 $(cat ${balancer.dir}/haproxy.pid)`,
        haproxySocket: viaRuntime ? socket : undefined,
      }], { haproxy: runtime });
      applyMs.push(performance.now() - started);
      if (!b.live) b.removedAt = performance.now();
      else b.requestsAtAdd = b.requests;
      reloads += report.reloads.length;
      if (report.targets[0].runtime?.failed) fallbacks += 1;
      await delay(STEP_MS);
    }
    await delay(1000);
    load.kill("SIGINT");
    const summary = parseWrk(new TextDecoder().decode((await load.output()).stdout));
    await runtime.settled();
    return {
      path: viaRuntime ? "runtime API" : "reload",
      clients: keepAlive ? "keep-alive" : "close",
      reloads,
      runtimeFallbacks: fallbacks,
      requests: summary.requests,
      non2xx: summary.non2xx,
      socketErrors: formatSocketErrors(summary.socket),
      stray: backends.reduce((n, b) => n + b.stray, 0),
      idle: backends.reduce((n, b) => n + b.idleStints, 0),
      applyP50: Math.round(percentile(applyMs, 0.5)),
    };
  } finally {
    await balancer.stop();
    await Promise.all(backends.map((b) => b.server.shutdown()));
    await Deno.remove(dir, { recursive: true });
  }
}

async function waitFor(fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 50 && !(await fn()); i++) await delay(100);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const rows: Row[] = [];
for (const viaRuntime of [true, false]) {
  for (const keepAlive of [true, false]) rows.push(await churn(viaRuntime, keepAlive));
}
console.log(
  `| path | clients | changes | reloads | fallbacks | requests | non-2xx | socket errors | stray requests | servers added but idle | apply p50 ms |`,
);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|`);
for (const r of rows) {
  console.log(
    `| ${r.path} | ${r.clients} | ${CHANGES} | ${r.reloads} | ${r.runtimeFallbacks} | ${r.requests} | ${r.non2xx} | ${r.socketErrors} | ${r.stray} | ${r.idle} | ${r.applyP50} |`,
  );
}
