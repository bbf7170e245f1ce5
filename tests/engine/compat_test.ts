/**
 * `--compat nginx-proxy`: VIRTUAL_HOST / VIRTUAL_PORT / VIRTUAL_PATH in a container's
 * environment stand for labels: real containers behind real nginx, and the inspect cache proved
 * with a counting proxy in front of the real engine (the pure rules are
 * lib/core/input/compat_test.ts).
 */
import assert from "node:assert/strict";
import { buildModel, render, templates, Watcher } from "../../mod.ts";
import {
  answerSet,
  backend,
  eventually,
  freePort,
  rawRequest,
  startHaproxy,
  startNginx,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { countingProxy } from "../support/counting_proxy.ts";
import { ENGINE_SOCK, engineArgs, engineMissing, Scenario } from "../support/engine.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

const noEngine = await engineMissing();

Deno.test({
  name: "engine: --compat nginx-proxy routes by VIRTUAL_HOST through real nginx, one inspect each",
  ignore: noEngine || missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-compat-" });
    const proxy = countingProxy(dir, ENGINE_SOCK);
    const port = freePort();
    const [a, b] = [`a-${s.tag}.test`, `b-${s.tag}.test`];
    let stop: (() => Promise<void>) | undefined;
    try {
      const a1 = await s.run("a1", ["-e", `VIRTUAL_HOST=${a}`, "-e", "VIRTUAL_PORT=8080"]);
      const a2 = await s.run("a2", ["-e", `VIRTUAL_HOST=${a}`]);
      const b1 = await s.run("b1", [
        "-e",
        `VIRTUAL_HOST=${b}`,
        "-e",
        "PATHS=/v2",
        "-e",
        "VIRTUAL_PATH=/v2",
      ]);
      await s.run("plain");
      const args = engineArgs(`p${s.tag}`, port).map((arg) =>
        arg === `unix://${ENGINE_SOCK}` ? `unix://${proxy.socketPath}` : arg
      );
      const out = `${dir}/lbsync.conf`;
      const r = await lbsync([
        "render",
        ...args,
        "--compat",
        "nginx-proxy",
        "-t",
        "nginx",
        "-o",
        out,
      ]);
      assert.equal(r.code, 0, r.stderr);
      const inspected = proxy.requests.filter((q) =>
        /^GET \S*\/containers\/[0-9a-f]{64}\/json/.test(q)
      );
      const ours = [a1, a2, b1].map((c) =>
        inspected.filter((q) => q.includes(`/containers/${c.id}`))
      );
      assert.deepEqual(ours.map((q) => q.length), [1, 1, 1]);

      const nginx = await startNginx({ http: await Deno.readTextFile(out) });
      stop = nginx.stop;
      assert.deepEqual([...await answerSet(port, "/", a, 12)].sort(), [a1.id, a2.id].sort());
      assert.deepEqual([...await answerSet(port, "/v2/", b, 4)], [b1.id]);
    } finally {
      await stop?.();
      await proxy.close();
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "engine: watch with --compat nginx-proxy inspects a container once, not at every pass",
  ignore: noEngine,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-compat-watch-" });
    const proxy = countingProxy(dir, ENGINE_SOCK);
    const stop = new AbortController();
    const host = `w-${s.tag}.test`;
    const passes: string[][] = [];
    const watcher = new Watcher({
      docker: { urls: [`unix://${proxy.socketPath}`] },
      labelPrefix: `p${s.tag}`,
      compat: "nginx-proxy",
      heartbeat: { minMs: 100, maxMs: 500 },
      resyncMs: 300,
      targets: [{ template: "nginx", output: `${dir}/out.conf` }],
    }, {
      cycle: (report) =>
        passes.push(report.result.model.services.flatMap((x) => x.servers.map((v) => v.id))),
    });
    const running = watcher.run(stop.signal);
    const inspects = (id: string) =>
      proxy.requests.filter((q) => q.includes(`/containers/${id}`) && q.endsWith("/json")).length;
    try {
      const one = await s.run("one", ["-e", `VIRTUAL_HOST=${host}`]);
      await eventually(() => passes.some((p) => p.includes(one.id)), 10_000);
      const two = await s.run("two", ["-e", `VIRTUAL_HOST=${host}`]);
      await eventually(() => passes.some((p) => p.includes(two.id)), 10_000);
      const before = passes.length;
      await eventually(() => passes.length >= before + 3, 10_000); // resyncs
      assert.deepEqual([inspects(one.id), inspects(two.id)], [1, 1]);
      const server = await Deno.readTextFile(`${dir}/out.conf`);
      assert.match(server, new RegExp(`server_name ${host.replaceAll(".", "\\.")};`));
    } finally {
      stop.abort();
      await running;
      await proxy.close();
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "compat through real nginx and HAProxy: shared hosts, paths, 503 for unknown hosts",
  ignore: missing("nginx") || missing("haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const names = ["ab", "bc", "root", "api"];
    const backends = new Map(names.map((n) => [n, backend(n)]));
    const vars: Record<string, Record<string, string>> = {
      ab: { VIRTUAL_HOST: "a.test,b.test" },
      bc: { VIRTUAL_HOST: "b.test,c.test" },
      root: { VIRTUAL_HOST: "p.test" },
      api: { VIRTUAL_HOST: "p.test", VIRTUAL_PATH: "/api/" },
    };
    const containers = names.map((n) =>
      container(n, {}, {
        networks: [{ name: "app", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port: backends.get(n)!.port, protocol: "tcp", published: [] }],
        env: vars[n],
      })
    );
    const listen = freePort();
    const build = (address: string) =>
      buildModel(containers, { compat: "nginx-proxy", listen, listenAddress: address }).model;
    const nginx = await startNginx({ http: render(templates.nginx, build("127.0.0.2")) });
    const haproxy = await startHaproxy(render(templates.haproxy, build("127.0.0.3")));
    const ask = async (address: string, host: string, path: string) => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) {
        const r = await rawRequest(
          listen,
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
          5000,
          address,
        );
        seen.add(r.status === 200 ? r.body.trim() : String(r.status));
      }
      return [...seen].sort().join(",");
    };
    try {
      const cases: [string, string, string][] = [
        ["a.test", "/", "ab"],
        ["b.test", "/", "ab,bc"],
        ["c.test", "/", "bc"],
        ["p.test", "/", "root"],
        ["p.test", "/api/x", "api"],
        ["p.test", "/api", "301"],
        ["unknown.test", "/", "503"],
      ];
      for (const [host, path, want] of cases) {
        for (const address of ["127.0.0.2", "127.0.0.3"]) {
          assert.equal(await ask(address, host, path), want, `${address} ${host}${path}`);
        }
      }
    } finally {
      await nginx.stop();
      await haproxy.stop();
      await Promise.all([...backends.values()].map((b) => b.close()));
    }
  },
});
