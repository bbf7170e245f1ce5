/**
 * lbsync's Engine API client against dockerode 4 (what lbsync used before): the cost of
 * loading each, and of one whole process that lists N containers from the fake engine API
 * (bench/fake_docker_api.ts). Whole-process wall time and peak RSS from `/usr/bin/time`,
 * medians of 5 interleaved runs. dockerode comes from the npm registry for this benchmark only.
 * Run: deno task bench:client
 */
import { FakeDockerApi } from "./fake_docker_api.ts";

const client = new URL("../lib/sources/engine_client.ts", import.meta.url).href;
const RUNS = 5;

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
}

async function measure(script: string): Promise<{ ms: number; mb: number }> {
  const r = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%e %M", Deno.execPath(), "run", "-A", "--no-lock", script],
    stdout: "null",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (r.code !== 0) throw new Error(lines.join("\n"));
  const [seconds, kb] = lines.at(-1)!.split(" ").map(Number);
  return { ms: seconds * 1000, mb: kb / 1024 };
}

const dir = await Deno.makeTempDir({ prefix: "lbsync-client-bench-" });
try {
  const api = new FakeDockerApi(dir, 1_000);
  const scripts: Record<string, string> = {
    "load dockerode": `await import("npm:dockerode@4.0.9");`,
    "load lbsync's client": `await import(${JSON.stringify(client)});`,
    "list 1,000 containers, dockerode": `
      const { default: Docker } = await import("npm:dockerode@4.0.9");
      const list = await new Docker({ socketPath: ${JSON.stringify(api.socketPath)} })
        .listContainers({ all: true });
      if (list.length !== 1000) throw new Error(String(list.length));`,
    "list 1,000 containers, lbsync's client": `
      const { EngineClient } = await import(${JSON.stringify(client)});
      const c = new EngineClient({ url: "unix", socketPath: ${JSON.stringify(api.socketPath)} });
      const list = await c.getJson("/containers/json", { all: true });
      if (list.length !== 1000) throw new Error(String(list.length));
      await c.close();`,
  };
  const files = Object.entries(scripts).map(([name, text], i) => {
    const file = `${dir}/s${i}.ts`;
    Deno.writeTextFileSync(file, text);
    return [name, file] as const;
  });
  for (const [, file] of files) await measure(file); // warm the caches, download once
  const samples = new Map(files.map(([name]) => [name, [] as { ms: number; mb: number }[]]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, file] of files) samples.get(name)!.push(await measure(file));
  }
  await api.close();
  console.log("| process | wall (median of 5) | peak RSS |\n| --- | ---: | ---: |");
  for (const [name, list] of samples) {
    const ms = median(list.map((s) => s.ms));
    const mb = median(list.map((s) => s.mb));
    console.log(`| ${name} | ${ms.toFixed(0)} ms | ${mb.toFixed(0)} MB |`);
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
