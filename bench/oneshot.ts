/**
 * One-shot end to end: `lbsync render` (the real CLI process) against a fake engine API
 * (bench/fake_docker_api.ts) with N containers: wall time (median of 7) and the number of
 * requests per run; and start-up with `--from-file` (no dockerode) against an engine run.
 * Run: deno task bench:oneshot
 */
import { FakeDockerApi } from "./fake_docker_api.ts";

const root = new URL("..", import.meta.url).pathname;
const RUNS = 7;
const deno = Deno.execPath();

async function wall(args: string[]): Promise<number> {
  const started = performance.now();
  const r = await new Deno.Command(deno, { args, stdout: "null", stderr: "piped" }).output();
  const ms = performance.now() - started;
  if (r.code !== 0) throw new Error(new TextDecoder().decode(r.stderr));
  return ms;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const dir = await Deno.makeTempDir({ prefix: "lbsync-oneshot-" });
const rows: string[] = [];
try {
  const run = ["run", "--allow-all", `${root}cli.ts`, "render", "-q"];
  for (const n of [10, 1_000, 5_000]) {
    const api = new FakeDockerApi(dir, n);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      await Deno.remove(`${dir}/out.cfg`).catch(() => {});
      times.push(
        await wall([
          ...run,
          "--docker",
          `unix://${api.socketPath}`,
          "-t",
          "haproxy",
          "-o",
          `${dir}/out.cfg`,
        ]),
      );
    }
    const lists = api.listRequests() / RUNS;
    const all = [...api.requests.values()].reduce((a, b) => a + b, 0) / RUNS;
    rows.push(`| engine, ${n} containers | ${median(times).toFixed(0)} ms | ${lists} | ${all} |`);
    await api.close();
  }
  const file = `${dir}/containers.json`;
  await Deno.writeTextFile(file, Deno.readTextFileSync(`${root}examples/containers.json`));
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    times.push(await wall([...run, "--from-file", file, "-t", "haproxy", "-o", `${dir}/f.cfg`]));
  }
  rows.push(
    `| --from-file, 8 containers (dockerode not loaded) | ${median(times).toFixed(0)} ms | 0 | 0 |`,
  );
  const bare: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bare.push(await wall(["run", "--allow-all", `${root}cli.ts`, "--version"]));
  }
  rows.push(`| lbsync --version (start-up alone) | ${median(bare).toFixed(0)} ms | 0 | 0 |`);
} finally {
  await Deno.remove(dir, { recursive: true });
}
console.log("| run | wall (median of 7) | list requests per run | requests per run |");
console.log("| --- | ---: | ---: | ---: |");
for (const r of rows) console.log(r);
