/**
 * What the HAProxy template's routing rules cost per request: nginx's path and host rules
 * (decode, merge, resolve, then match) against the plain `path_beg` matching of an earlier
 * template, on the same model, through real HAProxy under wrk.
 *
 *   deno task bench:routing            # compares with the template of BEFORE (a git ref)
 *   BEFORE=e79a4c5 deno task bench:routing
 *
 * The backend is one nginx answering 200 on 127.0.0.1, so the balancer is what is measured.
 * 50 hosts with 4 path routes each; wrk -t2 -c32 -d5s on three requests: a plain one, one
 * with `//` and `..`, and one with `%XX` escapes. Three runs each, alternating; medians of
 * requests per second and of HAProxy's own CPU time per request (from /proc: steadier than
 * throughput on a shared machine).
 */
import { buildModel, render, templates } from "../mod.ts";
import { container } from "../tests/support/fixtures.ts";
import { freePort, startHaproxy, startNginx } from "../tests/support/balancers.ts";

const BEFORE = Deno.env.get("BEFORE") ?? "e79a4c5";
const RUNS = 3;

async function sh(cmd: string[]): Promise<string> {
  const out = await new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  return new TextDecoder().decode(out.stdout);
}

const backendPort = freePort();
const backend = await startNginx({
  http: `server { listen 127.0.0.1:${backendPort}; location / { return 200 "ok\\n"; } }\n`,
});
const net = [{ name: "app", ip: "127.0.0.1", ipv6: "" }];
const containers = Array.from(
  { length: 50 },
  (_, h) =>
    ["/", "/api", "/api/v2/", "/static/"].map((path, p) =>
      container(`s${h}-${p}`, {
        "lbsync.service": `s${h}p${p}`,
        "lbsync.host": `h${h}.test`,
        "lbsync.path": path,
        "lbsync.port": String(backendPort),
      }, { networks: net })
    ),
).flat();
const listen = freePort();
const { model } = buildModel(containers, { listen, listenAddress: "127.0.0.1" });
const before = await sh(["git", "show", `${BEFORE}:templates/haproxy.cfg.mustache`]);
if (!before.includes("frontend")) throw new Error(`no haproxy template at ${BEFORE}`);
const configs = { before: render(before, model), now: render(templates.haproxy, model) };

const paths = {
  plain: "/api/v2/items/42",
  "dots and //": "/x/..//api/./v2/items/42",
  "%XX": "/%61pi/v2/it%65ms/42",
};

/** CPU time (ms) used so far by the HAProxy master and workers running from `dir`. */
async function haproxyCpuMs(dir: string): Promise<number> {
  const pids = (await sh(["pgrep", "-f", dir])).trim().split("\n").filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    const stat = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks * 10; // USER_HZ = 100
}

function parse(wrk: string): { rps: number; p99: string; non2xx: number } {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(wrk)?.[1] ?? 0);
  const p99 = /^\s+99%\s+(\S+)/m.exec(wrk)?.[1] ?? "?";
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(wrk)?.[1] ?? 0);
  return { rps, p99, non2xx };
}

const results: Record<string, Record<string, number[]>> = {};
const p99s: Record<string, Record<string, string[]>> = {};
const cpu: Record<string, Record<string, number[]>> = {};
try {
  for (let run = 0; run < RUNS; run++) {
    for (const [which, cfg] of Object.entries(configs)) {
      const haproxy = await startHaproxy(cfg);
      try {
        for (const [name, path] of Object.entries(paths)) {
          const cpuBefore = await haproxyCpuMs(haproxy.dir);
          const out = await sh([
            "wrk",
            "-t2",
            "-c32",
            "-d5s",
            "--latency",
            "-H",
            "Host: h25.test",
            `http://127.0.0.1:${listen}${path}`,
          ]);
          const r = parse(out);
          const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 1);
          const cpuUs = (await haproxyCpuMs(haproxy.dir) - cpuBefore) * 1000 / requests;
          ((cpu[which] ??= {})[name] ??= []).push(cpuUs);
          if (r.non2xx > 0 && which === "now") throw new Error(`${name}: ${r.non2xx} non-2xx`);
          ((results[which] ??= {})[name] ??= []).push(r.rps);
          ((p99s[which] ??= {})[name] ??= []).push(r.p99);
        }
      } finally {
        await haproxy.stop();
      }
    }
  }
} finally {
  await backend.stop();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(
  `| request | before (${BEFORE}) req/s | now req/s | change | HAProxy CPU µs/request before / now | p99 before / now |`,
);
console.log("| --- | ---: | ---: | ---: | ---: | --- |");
for (const name of Object.keys(paths)) {
  const b = median(results.before[name]);
  const n = median(results.now[name]);
  const change = ((n - b) / b * 100).toFixed(1);
  console.log(
    `| ${name} | ${Math.round(b)} | ${Math.round(n)} | ${change}% | ${
      median(cpu.before[name]).toFixed(0)
    } / ${median(cpu.now[name]).toFixed(0)} | ${p99s.before[name].join(",")} / ${
      p99s.now[name].join(",")
    } |`,
  );
}
