/** Static services from --config: fixed servers, validated, merged with discovered ones. */
import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../mod.ts";
import { parseStaticServices } from "../../lib/core/input/static_services.ts";
import {
  answerSet,
  eventually,
  freePort,
  haproxyCheck,
  nginxCheck,
  startNginx,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { container } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

Deno.test("parseStaticServices() validates like labels and names the JSON path", () => {
  const ok = parseStaticServices([{
    name: "web",
    host: "Example.com",
    servers: [{ host: "10.0.0.9", port: 8080, backup: true }, {
      host: "maint.internal",
      port: "80",
      weight: 5,
    }],
  }], "f.json");
  assert.deepEqual(ok, [{
    name: "web",
    mode: undefined,
    hosts: ["example.com"],
    path: undefined,
    listen: undefined,
    health: undefined,
    servers: [
      { host: "10.0.0.9", port: 8080, weight: undefined, backup: true },
      { host: "maint.internal", port: 80, weight: 5, backup: undefined },
    ],
  }]);
  const cases: [unknown, string][] = [
    [{}, "$.services: expected an array"],
    [[{ servers: [] }], "$.services[0].name: required"],
    [
      [{ name: "we b", servers: [] }],
      "$.services[0].name: not a name: use A-Z a-z 0-9 _ . - (starting with a letter or digit, at most 128)",
    ],
    [[{ name: "web" }], "$.services[0].servers: expected an array"],
    [
      [{ name: "web", servers: [{ host: "10.0.0.1;x", port: 80 }] }],
      '$.services[0].servers[0].host: "10.0.0.1;x" is not an IP address or a host name',
    ],
    [
      [{ name: "web", servers: [{ host: "a.com", port: 0 }] }],
      "$.services[0].servers[0].port: not an integer in 1..65535",
    ],
    [
      [{ name: "web", servers: [{ host: "*.a.com", port: 80 }] }],
      '$.services[0].servers[0].host: "*.a.com" is not an IP address or a host name',
    ],
    [[{ name: "web", servers: [{ port: 80 }] }], "$.services[0].servers[0].host: required"],
    [
      [{ name: "web", path: "/a b", servers: [] }],
      "$.services[0].path: not a path: must start with / and use only A-Z a-z 0-9 . _ ~ ! * + , = : @ / - and %XX",
    ],
    [
      [{ name: "web", servers: [], extra: 1 }],
      "$.services[0].extra: unknown setting (use name, mode, host, path, listen, health, schemes, servers)",
    ],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => parseStaticServices(value, "f.json"), {
      name: "ConfigError",
      message: `Invalid config f.json: ${message}`,
    });
  }
});

Deno.test("a static service merges with the discovered one of its name; its own settings never conflict", () => {
  const cs = [container("web-1", { "lbsync.service": "web", "lbsync.host": "shop.test" })];
  const staticServices = parseStaticServices([
    { name: "web", host: "other.test", servers: [{ host: "10.9.9.9", port: 8080, backup: true }] },
    {
      name: "legacy",
      path: "/legacy",
      servers: [{ host: "localhost", port: 8081 }, { host: "fd00::7", port: 8082 }],
    },
  ], "f.json");
  const { model, warnings } = buildModel(cs, { staticServices });
  const web = model.services.find((s) => s.name === "web")!;
  assert.deepEqual(web.hosts, ["shop.test"], "the discovered service's settings win");
  assert.deepEqual(web.servers.map((s) => `${s.name} ${s.endpoint} ${s.backup} ${s.static}`), [
    "10.9.9.9-8080 10.9.9.9:8080 true true",
    `web-1 ${cs[0].networks[0].ip}:8080 false false`,
  ]);
  const legacy = model.services.find((s) => s.name === "legacy")!;
  assert.deepEqual(legacy.servers.map((s) => s.endpoint), ["[fd00::7]:8082", "localhost:8081"]);
  assert.deepEqual(warnings, []);
});

Deno.test({
  name: "static services render configs real nginx -t and haproxy -c accept",
  ignore: missing("nginx", "haproxy"),
  async fn() {
    const staticServices = parseStaticServices([
      {
        name: "legacy",
        host: "legacy.test",
        servers: [{ host: "localhost", port: 8081 }, {
          host: "127.0.0.1",
          port: 8082,
          backup: true,
        }],
      },
      { name: "db", mode: "tcp", listen: 15433, servers: [{ host: "127.0.0.1", port: 5432 }] },
    ], "f.json");
    const { model } = buildModel([], { staticServices });
    const nginx = await nginxCheck({
      http: render(templates.nginx, model),
      stream: render(templates["nginx-stream"], model),
    });
    assert.ok(nginx.ok, nginx.output);
    const haproxy = await haproxyCheck(render(templates.haproxy, model));
    assert.ok(haproxy.ok, haproxy.output);
  },
});

Deno.test({
  name: "a static backup serves when every container is down (real nginx)",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("app"),
    );
    const maint = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("maintenance"),
    );
    const dir = await Deno.makeTempDir({ prefix: "lbsync-static-" });
    const listen = freePort();
    const containers = (state: string) =>
      JSON.stringify([{
        Id: "a".repeat(64),
        Name: "/app-1",
        Created: "2026-11-21T10:00:00Z",
        State: { Status: state, Running: state === "running" },
        Config: {
          Image: "app",
          Labels: { "lbsync.service": "web", "lbsync.port": String(app.addr.port) },
        },
        HostConfig: { NetworkMode: "host" },
        NetworkSettings: { Networks: {} },
      }]);
    await Deno.writeTextFile(
      `${dir}/lbsync.json`,
      JSON.stringify({
        "from-file": `${dir}/containers.json`,
        "host-ip": "127.0.0.1",
        listen,
        "listen-address": "127.0.0.1",
        services: [{
          name: "web",
          servers: [{ host: "127.0.0.1", port: maint.addr.port, backup: true }],
        }],
        targets: [{ template: "nginx", output: `${dir}/lbsync.conf` }],
      }),
    );
    let nginx;
    try {
      await Deno.writeTextFile(`${dir}/containers.json`, containers("running"));
      assert.equal((await lbsync(["render", "--config", `${dir}/lbsync.json`])).code, 0);
      nginx = await startNginx({ http: await Deno.readTextFile(`${dir}/lbsync.conf`) });
      assert.deepEqual(
        await answerSet(listen, "/", "x.test", 6),
        new Set(["app"]),
        "the backup waits",
      );

      await Deno.writeTextFile(`${dir}/containers.json`, containers("exited"));
      const r = await lbsync(["render", "--config", `${dir}/lbsync.json`]);
      assert.equal(r.code, 0, r.stderr);
      await Deno.copyFile(`${dir}/lbsync.conf`, `${nginx.dir}/lbsync.conf`);
      await new Deno.Command("nginx", {
        args: ["-p", `${nginx.dir}/`, "-c", `${nginx.dir}/nginx.conf`, "-s", "reload"],
      }).output();
      // old workers finish their connections after the reload: new ones answer from the file
      await eventually(async () =>
        [...await answerSet(listen, "/", "x.test", 6)].join() === "maintenance"
      );
    } finally {
      await nginx?.stop();
      await app.shutdown();
      await maint.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("static services: priority, the lowest serves and the other is its backup (as rendered)", () => {
  const [web] = parseStaticServices([{
    name: "web",
    servers: [
      { host: "10.0.0.1", port: 80, priority: 1 },
      { host: "10.0.0.2", port: 80, priority: 1 },
      { host: "10.0.0.3", port: 80, priority: 7 },
    ],
  }], "f.json");
  assert.deepEqual(web.servers.map((s) => [s.host, s.backup ?? false]), [
    ["10.0.0.1", false],
    ["10.0.0.2", false],
    ["10.0.0.3", true],
  ]);
  const text = render(templates.nginx, buildModel([], { staticServices: [web] }).model);
  assert.match(text, /server 10\.0\.0\.3:80 weight=1 max_fails=2 fail_timeout=10s backup;/);
  assert.throws(
    () =>
      parseStaticServices([{
        name: "web",
        servers: [0, 1, 2].map((p) => ({ host: `10.0.0.${p + 1}`, port: 80, priority: p })),
      }], "f.json"),
    /\$\.services\[0\]\.servers: priorities 0, 1, 2: nginx and HAProxy have one backup tier/,
  );
});
