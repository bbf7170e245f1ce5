/**
 * `--compat nginx-proxy`: VIRTUAL_HOST / VIRTUAL_PORT / VIRTUAL_PATH in a container's
 * environment stand for labels. Pure rules, then real containers behind real nginx, and the
 * inspect cache proved with a counting proxy in front of the real engine.
 */
import assert from "node:assert/strict";
import {
  buildModel,
  containersFromDockerApi,
  render,
  routeRequest,
  templates,
  Watcher,
} from "../../mod.ts";
import { compatEnv } from "../../lib/core/input/compat.ts";
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

Deno.test("compat: HTTPS_METHOD, CERT_NAME and HSTS are the https, cert and hsts labels", () => {
  resetContainers();
  const certs = new Map(["a.test", "shared.test"].map((name) => [name, {
    name,
    certificate: `/certs/${name}.crt`,
    key: `/certs/${name}.key`,
    version: "",
  }]));
  const web = (name: string, env: Record<string, string>) =>
    container(name, {}, { env: { VIRTUAL_PORT: "8080", ...env } });
  const { model, skipped } = buildModel([
    web("a", { VIRTUAL_HOST: "a.test" }),
    web("b", { VIRTUAL_HOST: "b.test", CERT_NAME: "shared.test", HTTPS_METHOD: "nohttp" }),
    web("c", { VIRTUAL_HOST: "c.test", CERT_NAME: "shared.test", HSTS: "off" }),
    web("d", { VIRTUAL_HOST: "d.test", CERT_NAME: "shared.test", HTTPS_METHOD: "noredirect" }),
    web("e", { VIRTUAL_HOST: "e.test", HTTPS_METHOD: "sometimes" }),
  ], { compat: "nginx-proxy", certificates: certs });
  const hosts = model.httpListeners[0].virtualHosts.map((v) =>
    `${v.host} ${v.httpsMode} ${v.tls?.name ?? "-"} ${v.hsts || "no-hsts"}`
  );
  assert.deepEqual(hosts, [
    "a.test redirect a.test max-age=31536000",
    "b.test nohttp shared.test max-age=31536000",
    "c.test redirect shared.test no-hsts",
    "d.test noredirect shared.test no-hsts",
  ]);
  assert.deepEqual(skipped.map((s) => `${s.name}: ${s.reason}`), [
    'e: group vh0: label lbsync.vh0.https="sometimes": not one of redirect, noredirect, nohttp, nohttps',
  ]);
});

Deno.test("compat: one service per host and path, as nginx-proxy groups them; labels win; bad values are named", () => {
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
    container("noport", {}, { ...env({ VIRTUAL_HOST: "noport.test" }), ports: [] }),
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
      ["a.test", "a.test", "/", ["10.0.0.3:8080", "10.0.0.4:8080"]],
      ["labelled", "label.test", "/", ["10.0.0.8:8080"]],
      ["multi.test", "multi.test", "/", ["10.0.0.6:80"]],
      ["noport.test", "noport.test", "/", ["10.0.0.7:80"]],
      ["wildcard.b.test-ada91241341ae792ecf0a59cad28616a77bab856", "*.b.test", "/api", [
        "10.0.0.5:9000",
      ]],
      ["www.a.test", "www.a.test", "/", ["10.0.0.3:8080", "10.0.0.4:8080"]],
    ],
  );
  assert.deepEqual(skipped.map((s) => [s.name, s.reason]), [
    [
      "bad",
      'group vh0: label lbsync.vh0.host="bad host;": not an RFC 1123 host name (optionally *.name or name.*) or an [IPv6] literal',
    ],
  ]);
  assert.deepEqual(buildModel(containers).model.services.map((s) => s.name), ["labelled"]);
});

Deno.test("compat: a host in two containers' lists is served by both; paths on one host each their own", () => {
  resetContainers();
  const env = (vars: Record<string, string>) => ({ env: vars });
  const { model } = buildModel([
    container("ab", {}, env({ VIRTUAL_HOST: "a.test,b.test" })),
    container("bc", {}, env({ VIRTUAL_HOST: "b.test,c.test" })),
    container("root", {}, env({ VIRTUAL_HOST: "p.test" })),
    container("api", {}, env({ VIRTUAL_HOST: "p.test", VIRTUAL_PATH: "/api" })),
    container("static", {}, env({ VIRTUAL_HOST: "p.test", VIRTUAL_PATH: "/static/" })),
  ], { compat: "nginx-proxy" });
  const serving = (host: string, path: string) => {
    const answer = routeRequest(model, { listen: 80, host, path });
    return answer.kind === "routed" ? answer.servers.map((s) => s.name).join(",") : answer.kind;
  };
  assert.equal(serving("a.test", "/"), "ab");
  assert.equal(serving("b.test", "/"), "ab,bc");
  assert.equal(serving("c.test", "/"), "bc");
  assert.equal(serving("p.test", "/"), "root");
  assert.equal(serving("p.test", "/api/x"), "api");
  assert.equal(serving("p.test", "/static/app.js"), "static");
  assert.equal(serving("p.test", "/static"), "redirect"); // nginx-proxy: 301 to /static/
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

Deno.test("compat: a regular-expression VIRTUAL_HOST is routed, as nginx-proxy does", () => {
  resetContainers();
  const { model } = buildModel([
    container("rx", {}, { env: { VIRTUAL_HOST: "~^re[0-9]+\\.rx\\.test$" } }),
  ], { compat: "nginx-proxy" });
  const to = (host: string) => {
    const a = routeRequest(model, { listen: 80, host, path: "/" });
    return a.kind === "routed" ? a.servers.map((s) => s.name).join() : a.kind;
  };
  assert.equal(to("re12.rx.test"), "rx");
  assert.equal(to("RE3.RX.TEST."), "rx");
  assert.equal(to("rex.rx.test"), "not-found");
});

Deno.test("compat: keep-alive is nginx-proxy's auto, twice the servers, unless its label says", () => {
  resetContainers();
  const replicas = (host: string, n: number, labels: Record<string, string> = {}) =>
    Array.from(
      { length: n },
      (_, i) => container(`${host}-${i}`, labels, { env: { VIRTUAL_HOST: host } }),
    );
  const { model } = buildModel([
    ...replicas("a.test", 3),
    ...replicas("b.test", 2, { "com.github.nginx-proxy.nginx-proxy.keepalive": "10" }),
    ...replicas("c.test", 1, { "com.github.nginx-proxy.nginx-proxy.keepalive": "disabled" }),
  ], { compat: "nginx-proxy" });
  const keepalive = Object.fromEntries(model.services.map((s) => [s.name, s.keepalive]));
  assert.deepEqual(keepalive, { "a.test": 6, "b.test": 10, "c.test": 0 });
  const nginx = render(templates.nginx, model);
  assert.match(nginx, /upstream a\.test \{[^}]*keepalive 6;/);
  assert.doesNotMatch(nginx, /upstream c\.test \{[^}]*keepalive/);
  // a labelled container says it itself: auto is a value of lbsync.keepalive too
  const labelled = buildModel([
    container("d-1", { "lbsync.service": "d", "lbsync.keepalive": "auto" }),
    container("d-2", { "lbsync.service": "d", "lbsync.keepalive": "auto" }),
  ], {}).model.services[0];
  assert.equal(labelled.keepalive, 4);
});

Deno.test("compat: EXTERNAL_HTTP_PORT serves the container's hosts on that port, as nginx-proxy does", () => {
  resetContainers();
  const { model, skipped } = buildModel([
    container("a", {}, { env: { VIRTUAL_HOST: "a.test" } }),
    container("b", {}, { env: { VIRTUAL_HOST: "b.test", EXTERNAL_HTTP_PORT: "8080" } }),
    container("c", {}, { env: { VIRTUAL_HOST: "c.test", EXTERNAL_HTTP_PORT: "80}" } }),
  ], { compat: "nginx-proxy" });
  const route = (host: string, listen: number) =>
    (routeRequest(model, { listen, host, path: "/" }) as { service?: { name: string } }).service
      ?.name;
  assert.equal(route("a.test", 80), "a.test");
  assert.equal(route("b.test", 8080), "b.test");
  assert.equal(route("b.test", 80), undefined);
  // a bad port is refused like the label it stands for
  assert.match(skipped.find((s) => s.name === "c")?.reason ?? "", /listen/);
  assert.match(render(templates.nginx, model), /listen 8080;/);
});
