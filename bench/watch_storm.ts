/**
 * Event storm: `lbsync watch` (the real CLI, in a child process) against a fake engine
 * (bench/fake_docker_api.ts) with 1,000 containers.
 *  1. 10,000 synthetic events in 10 s: applies are bounded by the heartbeat's MAX, the
 *     final config is exact, and list requests are one per batch.
 *  2. 100,000 more events as fast as they go: RSS is sampled and must stay flat.
 * The child runs as contrib/ ships it, with `--v8-flags=--max-old-space-size=64,--max-semi-space-size=1`;
 * LBSYNC_V8_FLAGS replaces those flags (empty: none).
 * Run: deno task bench:storm   (prints a Markdown table for BENCHMARKS.md)
 */
import { FakeDockerApi } from "./fake_docker_api.ts";
import { startWatchChild, V8_FLAGS } from "./watch_child.ts";

const CONTAINERS = 1_000;
const dir = await Deno.makeTempDir({ prefix: "lbsync-storm-" });
const api = new FakeDockerApi(dir, CONTAINERS);
const watch = startWatchChild(api, dir);
const out = watch.out;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = () => watch.rssMb();
const reloadCount = () => watch.reloads();
const serversInConfig = () =>
  [...Deno.readTextFileSync(out).matchAll(/^ {4}server (\S+) /gm)].map((m) => m[1]).sort();
async function settle(): Promise<boolean> {
  const want = JSON.stringify(api.runningNames().sort());
  for (let i = 0; i < 100; i++) {
    try {
      if (JSON.stringify(serversInConfig()) === want) return true;
    } catch { /* not written yet */ }
    await sleep(100);
  }
  return false;
}

try {
  for (let i = 0; i < 100 && reloadCount() === 0; i++) await sleep(100);
  await sleep(500);
  const startApplies = reloadCount();
  const startLists = api.listRequests();

  // 1. 10,000 events in 10 s: 2,500 toggles of 4 (stop) or 1 (start) events each ~ 6,250;
  //    so 4,000 toggles, at a steady pace
  const toggles = 4_000;
  let events = 0;
  const started = performance.now();
  for (let t = 0; t < toggles; t++) {
    const i = (t * 7919) % CONTAINERS;
    api.toggle(i);
    events += api.running[i] ? 1 : 3;
    const due = started + ((t + 1) / toggles) * 10_000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
  const stormSeconds = (performance.now() - started) / 1000;
  const exact1 = await settle();
  const applies1 = reloadCount() - startApplies;
  const lists1 = api.listRequests() - startLists;
  const rss1 = rssMb();

  // 2. 100,000 more events, fast; RSS sampled every 10,000
  const samples: number[] = [];
  let sent = 0;
  while (sent < 100_000) {
    const i = (sent * 104729) % CONTAINERS;
    api.toggle(i);
    sent += api.running[i] ? 1 : 3;
    if (sent % 2_000 < 3) await sleep(5); // let the stream drain
    if (samples.length < Math.floor(sent / 10_000)) samples.push(rssMb());
  }
  const exact2 = await settle();
  await sleep(1000);
  samples.push(rssMb());

  console.log("| measure | value |");
  console.log("| --- | --- |");
  console.log(`| V8 flags of the watch process | ${V8_FLAGS || "none"} |`);
  console.log(`| events in phase 1 | ${events} in ${stormSeconds.toFixed(1)} s |`);
  console.log(
    `| applies (reloads) in phase 1 | ${applies1} (bound: ${
      Math.ceil(stormSeconds / 2) + 1
    } at MAX 2 s) |`,
  );
  console.log(`| list requests in phase 1 | ${lists1} |`);
  console.log(`| final config exact after phase 1 | ${exact1} |`);
  console.log(`| RSS after phase 1 | ${rss1.toFixed(0)} MB |`);
  console.log(
    `| RSS every 10,000 of 100,000 more events | ${
      samples.map((s) => s.toFixed(0)).join(", ")
    } MB |`,
  );
  console.log(`| final config exact after phase 2 | ${exact2} |`);
} finally {
  await watch.stop();
  await api.close();
  await Deno.remove(dir, { recursive: true });
}
