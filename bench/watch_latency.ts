/**
 * Watch latency: from the first event of a real container's start (network connect, on the
 * engine's clock) to the reload command
 * running after the new config is written, p50 and p99 over 50 starts, with `--heartbeat 0`
 * and with the default `500ms:2s`. Needs the test engine (scripts/engine_start.sh).
 * Run: deno task bench:latency
 */
import { dockerOk, engineArgs, Scenario } from "../tests/support/engine.ts";
import { readOr, WatchProcess } from "../tests/support/watch_process.ts";

const STARTS = 50;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Latencies from the network connect event and from the start event, in ms. */
async function measure(heartbeat: string): Promise<[number[], number[]]> {
  const s = new Scenario();
  const L = `l${s.tag}`;
  const dir = await Deno.makeTempDir({ prefix: "lbsync-latency-" });
  const reloads = `${dir}/reloads`;
  const watch = new WatchProcess([
    ...engineArgs(L),
    "-t",
    "haproxy",
    "-o",
    `${dir}/h.cfg`,
    "--reload-cmd",
    `date +%s%N >> ${reloads}`,
    "--heartbeat",
    heartbeat,
    "-q",
  ]);
  const lines = async () => (await readOr(reloads)).split("\n").filter(Boolean);
  const latencies: number[] = [];
  const fromStart: number[] = [];
  try {
    await watch.until("first apply", async () => (await lines()).length >= 1);
    for (let i = 0; i < STARTS; i++) {
      const name = s.name(`lat-${i}`);
      await dockerOk([
        "create",
        "--name",
        name,
        "--label",
        `lbsync-test=${s.tag}`,
        "-l",
        `${L}.service=web`,
        "lbsync-test/httpd:latest",
      ]);
      s.adopt([name]);
      const before = (await lines()).length;
      const since = Math.floor(Date.now() / 1000) - 1;
      await dockerOk(["start", name]);
      await watch.until(
        `reload after start ${i}`,
        async () => (await lines()).length > before,
        10_000,
      );
      const reloadedNs = BigInt((await lines())[before]);
      const until = Math.ceil(Date.now() / 1000) + 1;
      const events = await dockerOk([
        "events",
        "--since",
        String(since),
        "--until",
        String(until),
        "--format",
        "{{json .}}",
      ]);
      const id = await dockerOk(["inspect", "-f", "{{.Id}}", name]);
      // the first event of the start: the network connect, ~170 ms before `start` itself;
      // the container is listed as running from then on
      const mine = events.split("\n").map((line) => JSON.parse(line))
        .filter((e) => e.Actor?.ID === id || e.Actor?.Attributes?.container === id);
      const at = (action: string) => BigInt(mine.find((e) => e.Action === action).timeNano);
      latencies.push(Number(reloadedNs - at("connect")) / 1e6);
      fromStart.push(Number(reloadedNs - at("start")) / 1e6);
      // remove it and let that apply settle before the next start
      const settled = (await lines()).length;
      await dockerOk(["rm", "-f", name]);
      await watch.until(
        `reload after removal ${i}`,
        async () => (await lines()).length > settled,
        10_000,
      );
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    await watch.stop();
    await s.cleanup();
    await Deno.remove(dir, { recursive: true });
  }
  return [latencies, fromStart];
}

const ms = (v: number) => `${v.toFixed(0)} ms`;
console.log("| heartbeat | starts | from | p50 | p99 | max |");
console.log("| --- | ---: | --- | ---: | ---: | ---: |");
for (const heartbeat of ["0", "500ms:2s"]) {
  const [connect, start] = await measure(heartbeat);
  for (const [from, l] of [["network connect", connect], ["start event", start]] as const) {
    const row = [
      heartbeat,
      l.length,
      from,
      ms(percentile(l, 50)),
      ms(percentile(l, 99)),
      ms(Math.max(...l)),
    ];
    console.log(`| ${row.join(" | ")} |`);
  }
}
