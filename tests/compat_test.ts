/**
 * `--compat nginx-proxy`: VIRTUAL_HOST / VIRTUAL_PORT / VIRTUAL_PATH in a container's
 * environment stand for labels. Pure rules, then real containers behind real nginx, and the
 * inspect cache proved with a counting proxy in front of the real engine.
 */
import assert from "node:assert/strict";
import { buildModel, containersFromDockerApi, Watcher } from "../mod.ts";
import { compatEnv } from "../lib/compat.ts";
import { answerSet, eventually, freePort, startNginx } from "./support/balancers.ts";
import { lbsync } from "./support/cli.ts";
import { countingProxy } from "./support/counting_proxy.ts";
import { ENGINE_SOCK, engineArgs, engineMissing, Scenario } from "./support/engine.ts";
import { container, resetContainers } from "./support/fixtures.ts";
import { missing } from "./support/tools.ts";

Deno.test("compat: only the VIRTUAL_* variables are kept from an inspect object", () => {
  assert.deepEqual(
    compatEnv(["PATH=/bin", "VIRTUAL_HOST=a.test,b.test", "SECRET=x", "VIRTUAL_PORT=8080", 7]),
    { VIRTUAL_HOST: "a.test,b.test", VIRTUAL_PORT: "8080" },
  );
  assert.equal(compatEnv(["PATH=/bin"]), undefined);
  const [c] = containersFromDockerApi({
    Id: "a".repeat(64),
    Name: "/web",
    Created: "2026-11-21T10:00:00Z",
    State: { Status: "running", Running: true },
    Config: { Image: "web", Labels: {}, Env: ["DB_PASSWORD=x", "VIRTUAL_HOST=web.test"] },
    NetworkSettings: { Networks: { app: { IPAddress: "10.0.0.2" } } },
  });
  assert.deepEqual(c.env, { VIRTUAL_HOST: "web.test" });
});

Deno.test("compat: containers of one VIRTUAL_HOST share a service; labels win over it; bad values are named", () => {
  resetContainers();
  const env = (vars: Record<string, string>) => ({ env: vars });
  const containers = [
    container("a1", {}, env({ VIRTUAL_HOST: "a.test, www.a.test" })),
    container("a2", {}, env({ VIRTUAL_HOST: "a.test, www.a.test" })),
    container("b", {}, {
      ...env({ VIRTUAL_HOST: "*.b.test", VIRTUAL_PORT: "9000", VIRTUAL_PATH: "/api" }),
      ports: [{ port: 9000, protocol: "tcp", published: [] }],
    }),
    container("multi", {}, {
      ...env({ VIRTUAL_HOST: "multi.test" }),
      ports: [80, 443].map((port) => ({ port, protocol: "tcp", published: [] })),
    }),
    container(
      "labelled",
      { "lbsync.enable": "true", "lbsync.host": "label.test" },
      env({ VIRTUAL_HOST: "env.test" }),
    ),
    container("bad", {}, env({ VIRTUAL_HOST: "bad host;" })),
    container("plain"),
  ];
  const { model, skipped } = buildModel(containers, { compat: "nginx-proxy" });
  assert.deepEqual(
    model.services.map((s) => [s.name, s.hosts.join(), s.path, s.servers.map((x) => x.endpoint)]),
    [
      ["a.test", "a.test,www.a.test", "/", ["10.0.0.3:8080", "10.0.0.4:8080"]],
      ["labelled", "label.test", "/", ["10.0.0.7:8080"]],
      ["multi.test", "multi.test", "/", ["10.0.0.6:80"]],
      ["wildcard.b.test", "*.b.test", "/api", ["10.0.0.5:9000"]],
    ],
  );
  assert.deepEqual(skipped.map((s) => [s.name, s.reason]), [
    ["bad", 'label lbsync.host="bad host;": not an RFC 1123 host name (optionally *.name)'],
  ]);
  assert.deepEqual(buildModel(containers).model.services.map((s) => s.name), ["labelled"]);
});

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
