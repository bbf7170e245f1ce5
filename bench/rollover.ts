/**
 * Zero downtime under load: wrk against real nginx and real HAProxy on 127.0.0.1 while a
 * service is rolled 10 times by `lbsync watch` (start a new container; it becomes ready;
 * lbsync retires the old one and stops it 2 s later). Reports reloads, requests, non-2xx and
 * socket errors per balancer (HAProxy also with `--haproxy-socket`: no reloads), for
 * keep-alive clients and for clients that close each connection.
 * Needs the test engine (scripts/engine_start.sh), nginx, haproxy and wrk.
 * Run: deno task bench:rollover
 */
import { answerSet, freePort, startReloadable } from "../tests/support/balancers.ts";
import { formatSocketErrors, parseWrk } from "./wrk.ts";
import { lbsync } from "../tests/support/cli.ts";
import { ENGINE_SOCK, engineArgs, Scenario } from "../tests/support/engine.ts";
import { requireTool, run } from "../tests/support/tools.ts";
import { readOr, WatchProcess } from "../tests/support/watch_process.ts";

const ROLLS = 10;
const ROLL_MS = 4000;
const wrk = requireTool("wrk");

/** A balancer, and for HAProxy whether server changes go through its runtime API. */
type Balancer = "nginx" | "nginx, DNS" | "haproxy" | "haproxy, runtime API";

interface Row {
  balancer: string;
  clients: string;
  reloads: number;
  requests: number;
  non2xx: number;
  socketErrors: string;
}

function parseWrkRow(text: string): Omit<Row, "balancer" | "clients" | "reloads"> {
  const summary = parseWrk(text);
  return {
    requests: summary.requests,
    non2xx: summary.non2xx,
    socketErrors: formatSocketErrors(summary.socket),
  };
}

/**
 * One run. With `churnOnly` the new containers carry no lbsync labels and nothing is
 * retired: the same docker activity with a fixed config, as a baseline.
 */
async function roll(
  balancer: Balancer,
  keepAlive: boolean,
  churnOnly = false,
): Promise<Row> {
  const template = balancer.startsWith("nginx") ? "nginx" : "haproxy";
  const s = new Scenario();
  const L = `b${s.tag}`;
  const dir = await Deno.makeTempDir({ prefix: "lbsync-roll-" });
  const port = freePort();
  const out = `${dir}/${template}.conf`;
  const labels = ["service=app", "host=app.test", "health=/ready/", "rollover=true"]
    .flatMap((l) => ["-l", `${L}.${l}`]);
  const runtime = balancer === "haproxy, runtime API"
    ? ["--haproxy-socket", `${dir}/admin.sock`]
    : [];
  const common = [...engineArgs(L, port), ...runtime];
  // the first render is a plain one; the watch switches nginx to DNS before the load starts
  const watchOnly = balancer === "nginx, DNS" ? ["--nginx-dns", String(freePort())] : [];
  let stopBalancer: (() => Promise<void>) | undefined;
  let watch: WatchProcess | undefined;
  try {
    let current = await s.run("app-0", ["-e", "PATHS=/ready", ...labels]);
    const first = await lbsync(["render", ...common, "-t", template, "-o", out]);
    if (first.code !== 0) throw new Error(first.stderr);
    const started = await startReloadable(template, out, `${dir}/reloads`);
    stopBalancer = started.stop;
    watch = new WatchProcess([
      ...common,
      ...watchOnly,
      ...started.targetArgs,
      "--retire-after",
      "2s",
      "-q",
    ]);
    await new Promise((r) => setTimeout(r, 1500));

    await Deno.writeTextFile(`${dir}/reloads`, ""); // count the reloads under load only
    const headers = keepAlive ? [] : ["-H", "Connection: close"];
    const seconds = Math.ceil((ROLLS * ROLL_MS) / 1000) + 3;
    const load = run([
      wrk,
      "-t2",
      "-c32",
      `-d${seconds}s`,
      "--timeout",
      "10s",
      "-H",
      "Host: app.test",
      ...headers,
      `http://127.0.0.1:${port}/`,
    ]);
    await new Promise((r) => setTimeout(r, 1000));
    for (let i = 1; i <= ROLLS; i++) {
      const started = Date.now();
      if (churnOnly) {
        const other = await s.run(`churn-${i}`);
        await new Promise((r) => setTimeout(r, 1000));
        await run([
          "/usr/bin/docker",
          "-H",
          `unix://${ENGINE_SOCK}`,
          "stop",
          "-t",
          "1",
          other.name,
        ]);
      } else {
        const next = await s.run(`app-${i}`, ["-e", "PATHS=/ready", ...labels]);
        await watch.until(`roll ${i}`, async () => {
          if (watchOnly.length > 0) { // DNS: the file does not list servers; ask nginx
            const seen = await answerSet(port, "/", "app.test", 4);
            return seen.size === 1 && seen.has(next.id);
          }
          const text = await readOr(out);
          return text.includes(next.name) && !text.includes(current.name);
        }, 15_000);
        current = next;
      }
      const left = ROLL_MS - (Date.now() - started);
      if (left > 0) await new Promise((r) => setTimeout(r, left));
    }
    const result = await load;
    const clients = (keepAlive ? "keep-alive" : "close") + (churnOnly ? ", baseline: no roll" : "");
    const reloads = (await readOr(`${dir}/reloads`)).split("\n").length - 1;
    return { balancer, clients, reloads, ...parseWrkRow(result.stdout) };
  } finally {
    await watch?.stop();
    await stopBalancer?.();
    await s.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
}

const rows: Row[] = [];
const baseline = Deno.args.includes("--baseline");
// `-- --only nginx|haproxy` runs one balancer; `-- --only runtime` the rows without reloads
const only = Deno.args[Deno.args.indexOf("--only") + 1];
const balancers = (["nginx", "nginx, DNS", "haproxy", "haproxy, runtime API"] as const).filter(
  (b) =>
    !Deno.args.includes("--only") ||
    (only === "runtime" ? b.endsWith("runtime API") || b.endsWith("DNS") : b === only),
);
for (const balancer of balancers) {
  for (const keepAlive of [true, false]) {
    const row = await roll(balancer, keepAlive, baseline);
    console.error(JSON.stringify(row));
    rows.push(row);
  }
}
console.log(`| balancer | clients | reloads | requests | non-2xx | socket errors |`);
console.log(`| --- | --- | ---: | ---: | ---: | --- |`);
for (const r of rows) {
  console.log(
    `| ${r.balancer} | ${r.clients} | ${r.reloads} | ${r.requests} | ${r.non2xx} | ${r.socketErrors} |`,
  );
}
