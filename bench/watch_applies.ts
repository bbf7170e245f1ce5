/**
 * A watch daemon over many applies: `lbsync watch` (the real CLI, as contrib/ runs it) against
 * a fake engine API with 100 containers, `--heartbeat 0`, one container toggled at a time and
 * each change waited for, 1,000 applies in all; RSS sampled every 100 applies must stay flat.
 * Run: deno task bench:applies
 */
import { FakeDockerApi } from "./fake_docker_api.ts";
import { startWatchChild, V8_FLAGS } from "./watch_child.ts";

const CONTAINERS = 100;
const APPLIES = 1_000;
const dir = await Deno.makeTempDir({ prefix: "lbsync-applies-" });
const api = new FakeDockerApi(dir, CONTAINERS);
const watch = startWatchChild(api, dir, ["--heartbeat", "0"]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (bounded) until the reloads reach `count`. */
async function reloadsReach(count: number): Promise<void> {
  for (let i = 0; i < 500 && watch.reloads() < count; i++) await sleep(10);
  if (watch.reloads() < count) throw new Error(`no apply ${count} within 5 s`);
}

try {
  await reloadsReach(1);
  const first = watch.reloads();
  const samples: number[] = [watch.rssMb()];
  const started = performance.now();
  for (let n = 1; n <= APPLIES; n++) {
    api.toggle((n * 37) % CONTAINERS);
    await reloadsReach(first + n);
    if (n % 100 === 0) samples.push(watch.rssMb());
  }
  const seconds = (performance.now() - started) / 1000;
  console.log("| measure | value |\n| --- | --- |");
  console.log(`| V8 flags of the watch process | ${V8_FLAGS || "none"} |`);
  console.log(`| applies (reloads) | ${APPLIES} in ${seconds.toFixed(1)} s |`);
  console.log(
    `| RSS at start, then every 100 applies | ${samples.map((s) => s.toFixed(0)).join(", ")} MB |`,
  );
} finally {
  await watch.stop();
  await api.close();
  await Deno.remove(dir, { recursive: true });
}
