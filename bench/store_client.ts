/**
 * What `--store` costs at start: whole processes under `/usr/bin/time -f "%M"` (peak RSS) timed
 * by `performance.now()` (wall, ms), medians of 7 interleaved runs: a bare `deno run`, loading
 * the etcd client module alone, `lbsync render` without a store, and with `--store` reading 10
 * services from one real etcd member (Debian's etcd-server 3.4) on loopback. Then the modules the
 * store adds to the render graph (`deno info`), which load only with `--store`.
 * Run: deno task bench:store   (needs etcd on PATH)
 */
const root = new URL("..", import.meta.url).pathname;
const RUNS = 7;

interface Sample {
  ms: number;
  rssKb: number;
}

async function measure(command: string[]): Promise<Sample> {
  const started = performance.now();
  const r = await new Deno.Command("/usr/bin/time", {
    args: ["-f", "%M", ...command],
    stdout: "null",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  const err = new TextDecoder().decode(r.stderr).trim().split("\n");
  if (r.code !== 0) throw new Error(`${command.join(" ")}: ${err.join(" ")}`);
  return { ms, rssKb: Number(err.at(-1)) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** The local modules `entry` loads statically, by `deno info`: count and bytes. */
async function graphOf(entry: string): Promise<Map<string, number>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    stdout: "piped",
  }).output();
  const graph = JSON.parse(new TextDecoder().decode(out.stdout));
  const byName = new Map<
    string,
    { size?: number; dependencies?: { code?: { specifier?: string }; isDynamic?: boolean }[] }
  >(
    graph.modules.map((m: { specifier: string }) => [m.specifier, m]),
  );
  const seen = new Map<string, number>();
  const stack = [graph.roots[0]];
  while (stack.length > 0) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.set(s, byName.get(s)?.size ?? 0);
    for (const d of byName.get(s)?.dependencies ?? []) {
      if (!d.isDynamic && d.code?.specifier) stack.push(d.code.specifier);
    }
  }
  return seen;
}

/**
 * A watch on the store writes its file (no check, no reload) after each of 20 puts: the time
 * from the put's answer to the file holding the new port, median and max.
 */
async function watchLatency(): Promise<string> {
  const out = `${dir}/watch.conf`;
  const put = async (port: number) => {
    const value = JSON.stringify({ servers: [{ host: "10.0.0.1", port }] });
    const r = await fetch(`http://127.0.0.1:${client}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: btoa("/latency/web"), value: btoa(value) }),
    });
    await r.body?.cancel();
  };
  const until = async (text: string) => {
    const end = Date.now() + 10_000;
    while (!(await Deno.readTextFile(out).catch(() => "")).includes(text)) {
      if (Date.now() > end) throw new Error(`the watch did not write ${text}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  };
  await put(10_000);
  const watch = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}cli.ts`,
      "watch",
      "-q",
      "--from-file",
      `${dir}/containers.json`,
      "--store",
      `etcd://127.0.0.1:${client}/latency`,
      "-t",
      "nginx",
      "-o",
      out,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await until(":10000 ");
    const ms: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const started = performance.now();
      await put(10_000 + i);
      await until(`:${10_000 + i} `);
      ms.push(performance.now() - started);
    }
    return `median ${Math.round(median(ms))} ms, max ${
      Math.round(Math.max(...ms))
    } ms (20 changes)`;
  } finally {
    watch.kill("SIGTERM");
    await watch.status;
  }
}

const dir = await Deno.makeTempDir({ prefix: "lbsync-bench-store-" });
const [client, peer] = [freePort(), freePort()];
const etcd = new Deno.Command("etcd", {
  args: [
    "--name",
    "b0",
    "--data-dir",
    `${dir}/data`,
    "--listen-client-urls",
    `http://127.0.0.1:${client}`,
    "--advertise-client-urls",
    `http://127.0.0.1:${client}`,
    "--listen-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-advertise-peer-urls",
    `http://127.0.0.1:${peer}`,
    "--initial-cluster",
    `b0=http://127.0.0.1:${peer}`,
  ],
  stdout: "null",
  stderr: "null",
}).spawn();
try {
  const b64 = (text: string) => btoa(text);
  const end = Date.now() + 10_000;
  while (true) {
    try {
      const r = await fetch(`http://127.0.0.1:${client}/health`);
      if ((await r.text()).includes("true")) break;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error("etcd did not start");
    await new Promise((r) => setTimeout(r, 50));
  }
  for (let i = 0; i < 10; i++) {
    const value = JSON.stringify({ servers: [{ host: `10.0.0.${i + 1}`, port: 8080 }] });
    const r = await fetch(`http://127.0.0.1:${client}/v3/kv/put`, {
      method: "POST",
      body: JSON.stringify({ key: b64(`/bench/svc${i}`), value: b64(value) }),
    });
    await r.body?.cancel();
  }
  await Deno.writeTextFile(`${dir}/empty.ts`, "");
  await Deno.writeTextFile(
    `${dir}/client.ts`,
    `import { EtcdClient } from "${root}lib/sources/etcd_client.ts";\nnew EtcdClient({ endpoints: ["127.0.0.1:1"] });\n`,
  );
  await Deno.writeTextFile(`${dir}/containers.json`, "[]");
  const render = [
    Deno.execPath(),
    "run",
    "--allow-all",
    `${root}cli.ts`,
    "render",
    "-q",
    "--from-file",
    `${dir}/containers.json`,
    "-t",
    "nginx",
    "-o",
    `${dir}/out.conf`,
  ];
  const cases: [string, string[]][] = [
    ["bare deno run", [Deno.execPath(), "run", `${dir}/empty.ts`]],
    ["load the etcd client", [Deno.execPath(), "run", "--allow-all", `${dir}/client.ts`]],
    ["render, no store", render],
    ["render --store (10 services)", [...render, "--store", `etcd://127.0.0.1:${client}/bench`]],
  ];
  const samples = new Map<string, Sample[]>(cases.map(([name]) => [name, []]));
  for (let i = 0; i < RUNS; i++) {
    for (const [name, command] of cases) {
      await Deno.remove(`${dir}/out.conf`).catch(() => {});
      samples.get(name)!.push(await measure(command));
    }
  }
  console.log("| process | wall (median of 7) | peak RSS |\n| --- | ---: | ---: |");
  for (const [name] of cases) {
    const s = samples.get(name)!;
    const ms = Math.round(median(s.map((x) => x.ms)));
    const mb = Math.round(median(s.map((x) => x.rssKb)) / 1024);
    console.log(`| ${name} | ${ms} ms | ${mb} MB |`);
  }
  console.log(`\nwatch --store: a change in etcd to the written file, ${await watchLatency()}`);
  const base = await graphOf(`${root}lib/cli/commands.ts`);
  const store = await graphOf(`${root}lib/sources/store.ts`);
  const added = [...store].filter(([s]) => !base.has(s));
  const bytes = added.reduce((n, [, size]) => n + size, 0);
  console.log(
    `\n--store adds ${added.length} modules (${Math.round(bytes / 1024)} KB) to render's graph: ${
      added.map(([s]) => s.replace(`file://${root}`, "")).join(", ")
    }`,
  );
} finally {
  etcd.kill("SIGKILL");
  await etcd.status;
  await Deno.remove(dir, { recursive: true });
}
