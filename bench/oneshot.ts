/**
 * One-shot end to end, side by side with docker-gen: the real `lbsync render` process, and
 * `docker-gen` when `DOCKER_GEN` names a binary (with `NGINX_PROXY_TMPL`, nginx-proxy's
 * nginx.tmpl), against one fake engine API (bench/fake_docker_api.ts) with N containers.
 * Whole-process wall time and peak RSS (`/usr/bin/time`), medians of 5 interleaved runs;
 * requests per run counted by the fake API. Then the targets, each met or not.
 * Run: deno task bench:oneshot   (DOCKER_GEN=... NGINX_PROXY_TMPL=... for the comparison;
 * LBSYNC_V8_FLAGS=... to try other V8 flags than the installed command's; SIZES=10,5000)
 */
import { FakeDockerApi } from "./fake_docker_api.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = 5;
const SIZES = (Deno.env.get("SIZES") ?? "10,1000,5000").split(",").map(Number);
/** The installed command's V8 flags (deno.json's `install` task). */
const V8_FLAGS = Deno.env.get("LBSYNC_V8_FLAGS") ??
  "--max-semi-space-size=1,--no-concurrent-recompilation";
const dockerGen = Deno.env.get("DOCKER_GEN");
const dockerGenTemplate = Deno.env.get("NGINX_PROXY_TMPL");

interface Sample {
  ms: number;
  rssKb: number;
}

/**
 * Runs `command` under `/usr/bin/time -f "%M"` for its peak RSS in KB; the wall time is taken
 * around it here, to the millisecond (time's own `%e` has 10 ms steps).
 */
async function measure(command: string[]): Promise<Sample> {
  const started = performance.now();
  const r = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", ...command],
    stdout: "null",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (r.code !== 0) throw new Error(`${command.join(" ")}: ${err.join(" ")}`);
  return { ms: performance.now() - started, rssKb: Number(err.at(-1)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const dir = await Deno.makeTempDir({ prefix: "lbsync-oneshot-" });
const results = new Map<string, { ms: number; mb: number; requests: number }>();
try {
  for (const n of SIZES) {
    const api = new FakeDockerApi(dir, n);
    const endpoint = `unix://${api.socketPath}`;
    const tools: [string, string[]][] = [[
      "lbsync",
      [
        Deno.execPath(),
        "run",
        "--allow-all",
        `--v8-flags=${V8_FLAGS}`,
        `${root}cli.ts`,
        "render",
        "-q",
        "--docker",
        endpoint,
        "-t",
        "nginx",
        "-o",
        `${dir}/lbsync.conf`,
      ],
    ]];
    if (dockerGen && dockerGenTemplate) {
      tools.push([
        "docker-gen",
        [dockerGen, "-endpoint", endpoint, dockerGenTemplate, `${dir}/docker-gen.conf`],
      ]);
    }
    const samples = new Map<string, Sample[]>(tools.map(([name]) => [name, []]));
    const requests = new Map<string, number>();
    for (let i = 0; i < RUNS; i++) {
      for (const [name, command] of tools) { // interleaved: both see the same machine
        await Deno.remove(`${dir}/lbsync.conf`).catch(() => {});
        await Deno.remove(`${dir}/docker-gen.conf`).catch(() => {});
        const before = [...api.requests.values()].reduce((a, b) => a + b, 0);
        samples.get(name)!.push(await measure(command));
        const after = [...api.requests.values()].reduce((a, b) => a + b, 0);
        requests.set(name, after - before);
      }
    }
    for (const [name, list] of samples) {
      results.set(`${name} ${n}`, {
        ms: median(list.map((s) => s.ms)),
        mb: median(list.map((s) => s.rssKb)) / 1024,
        requests: requests.get(name)!,
      });
    }
    await api.close();
  }
  const version = await measure([
    Deno.execPath(),
    "run",
    `--v8-flags=${V8_FLAGS}`,
    `${root}cli.ts`,
    "--version",
  ]);
  results.set("lbsync --version", { ms: version.ms, mb: version.rssKb / 1024, requests: 0 });
} finally {
  await Deno.remove(dir, { recursive: true });
}

console.log("| run | wall (median of 5) | peak RSS | requests per run |");
console.log("| --- | ---: | ---: | ---: |");
for (const [name, r] of results) {
  console.log(`| ${name} | ${r.ms.toFixed(0)} ms | ${r.mb.toFixed(0)} MB | ${r.requests} |`);
}
if (dockerGen && dockerGenTemplate) {
  const get = (name: string) => results.get(name)!;
  const targets: [string, boolean][] = [
    ["N=10 wall within 2x of docker-gen", get("lbsync 10").ms <= 2 * get("docker-gen 10").ms],
    ["N=5,000 at least 8x faster", get("docker-gen 5000").ms >= 8 * get("lbsync 5000").ms],
    ["N=10 peak RSS at most 4x", get("lbsync 10").mb <= 4 * get("docker-gen 10").mb],
    ["N=5,000 peak RSS at most 2x", get("lbsync 5000").mb <= 2 * get("docker-gen 5000").mb],
  ];
  console.log("\n| target | met |\n| --- | --- |");
  for (const [what, met] of targets) console.log(`| ${what} | ${met ? "yes" : "**no**"} |`);
}
