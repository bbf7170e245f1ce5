import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../../mod.ts";
import type { ContainerInfo } from "../types.ts";
import { container, resetContainers } from "../../../tests/support/fixtures.ts";
import { parsePortMappings } from "./select.ts";

function serversOf(containers: ContainerInfo[], options = {}) {
  const { model } = buildModel(containers, options);
  return Object.fromEntries(
    model.services.map((s) => [s.name, s.servers.map((x) => `${x.name}=${x.endpoint}`)]),
  );
}

function reasons(containers: ContainerInfo[], options = {}) {
  return Object.fromEntries(buildModel(containers, options).skipped.map((s) => [s.name, s.reason]));
}

Deno.test("buildModel() selects by lbsync.enable, lbsync.service and --match only", () => {
  const cs = [
    container("a", { "lbsync.enable": "true", "lbsync.host": "a.test" }),
    container("b", { "lbsync.service": "web", "lbsync.host": "b.test" }),
    container("c", {}),
    container("shop-1", {}),
    container("shop-2", { "lbsync.enable": "false" }),
  ];
  assert.deepEqual(serversOf(cs, { match: /^(?<service>shop)-\d+$/ }), {
    a: ["a=10.0.0.3:8080"],
    shop: ["shop-1=10.0.0.6:8080"],
    web: ["b=10.0.0.4:8080"],
  });
  assert.deepEqual(reasons(cs, { match: /^shop/ }), {
    "shop-2": "disabled by lbsync.enable=false",
  });
});

Deno.test("buildModel() names the service by label, --match group, compose label, then name", () => {
  const cs = [
    container("x-1", {
      "lbsync.service": "api",
      "com.docker.compose.service": "no",
      "lbsync.path": "/x",
    }),
    container("y-1", { "com.docker.compose.service": "worker" }),
    container("z-1", {
      "lbsync.enable": "true",
      "com.docker.compose.service": "static",
      "lbsync.path": "/z",
    }),
    container("plain", { "lbsync.enable": "true", "lbsync.path": "/p" }),
  ];
  const { model } = buildModel(cs, { match: /^(?<service>[xy])-\d$/ });
  assert.deepEqual(model.services.map((s) => s.name), ["api", "plain", "static", "y"]);
});

Deno.test("buildModel() honours a custom label prefix", () => {
  const a = container("a", { "lb.service": "web", "lb.port": "9000" });
  const cs = [a, container("b", { "lbsync.service": "x" })];
  assert.deepEqual(serversOf(cs, { labelPrefix: "lb" }), { web: [`a=${a.networks[0].ip}:9000`] });
});

Deno.test("buildModel() skips each bad label with a reason naming it", () => {
  const cs = [
    container("p", { "lbsync.service": "web", "lbsync.port": "99999" }),
    container("h", { "lbsync.service": "web", "lbsync.host": "a.com;b" }),
    container("w", { "lbsync.service": "web", "lbsync.weight": "1.5" }),
    container("m", { "lbsync.service": "web", "lbsync.mode": "udp" }),
    container("s", { "lbsync.service": "we b" }),
    container("t", { "lbsync.service": "db", "lbsync.mode": "tcp" }),
  ];
  const r = reasons(cs);
  assert.equal(r.p, 'label lbsync.port="99999": not an integer in 1..65535');
  assert.match(r.h, /^label lbsync\.host="a\.com;b": not an RFC 1123 host name/);
  assert.equal(r.w, 'label lbsync.weight="1.5": not an integer in 1..256');
  assert.equal(r.m, 'label lbsync.mode="udp": not one of http, tcp');
  assert.match(r.s, /^label lbsync\.service="we b": not a name/);
  assert.equal(r.t, "tcp service needs lbsync.listen");
  assert.deepEqual(buildModel(cs).model.services.map((s) => s.name), []);
});

Deno.test("buildModel() picks the only exposed port, else lbsync.port, else skips", () => {
  const two = [{ port: 80, protocol: "tcp", published: [] }, {
    port: 9000,
    protocol: "tcp",
    published: [],
  }];
  const cs = [
    container("one", { "lbsync.enable": "true" }),
    container("two", { "lbsync.enable": "true" }, { ports: two }),
    container("two-labelled", {
      "lbsync.enable": "true",
      "lbsync.port": "9000",
      "lbsync.path": "/two",
    }, { ports: two }),
    container("none", { "lbsync.enable": "true" }, { ports: [] }),
  ];
  const { model, skipped } = buildModel(cs);
  assert.deepEqual(model.services.flatMap((s) => s.servers.map((x) => `${x.name}:${x.port}`)), [
    "one:8080",
    "two-labelled:9000",
  ]);
  assert.deepEqual(skipped.map((s) => s.reason), [
    "exposes no tcp port: set lbsync.port",
    "exposes several ports (80, 9000): choose one with lbsync.port",
  ]);
});

Deno.test("buildModel() network mode: lbsync.network, --network, the only network", () => {
  const nets = [{ name: "a", ip: "10.1.0.2", ipv6: "" }, { name: "b", ip: "10.2.0.2", ipv6: "" }];
  const cs = [
    container("by-label", { "lbsync.service": "s", "lbsync.network": "b" }, { networks: nets }),
    container("several", { "lbsync.service": "s" }, { networks: nets }),
    container("v6", { "lbsync.service": "s" }, {
      networks: [{ name: "a", ip: "", ipv6: "fd00::5" }],
    }),
    container("host", { "lbsync.service": "s" }, { networkMode: "host", networks: [] }),
  ];
  assert.deepEqual(serversOf(cs), {
    s: ["by-label=10.2.0.2:8080", "host=127.0.0.1:8080", "v6=[fd00::5]:8080"],
  });
  assert.match(
    reasons(cs).several,
    /^on several networks \(a, b\): choose one with lbsync.network$/,
  );
  const several = buildModel(cs).skipped.find((s) => s.name === "several");
  assert.deepEqual(several?.hint, { setting: "network" });
  assert.deepEqual(serversOf(cs, { network: "a", hostIp: "192.0.2.1" }), {
    s: [
      "by-label=10.2.0.2:8080",
      "host=192.0.2.1:8080",
      "several=10.1.0.2:8080",
      "v6=[fd00::5]:8080",
    ],
  });
  assert.equal(reasons([cs[2]], { network: "b" }).v6, 'not on network "b" (on: a)');
});

Deno.test("buildModel() published mode: host IP from option, binding, else 127.0.0.1", () => {
  const port = (published: { hostIp: string; hostPort: number }[]) => ({
    ports: [{ port: 8080, protocol: "tcp", published }],
  });
  const cs = [
    container(
      "any",
      { "lbsync.service": "s" },
      port([{ hostIp: "0.0.0.0", hostPort: 32768 }, { hostIp: "::", hostPort: 32769 }]),
    ),
    container("bound", { "lbsync.service": "s" }, port([{ hostIp: "192.0.2.7", hostPort: 8081 }])),
    container("unpublished", { "lbsync.service": "s" }),
  ];
  assert.deepEqual(serversOf(cs, { address: "published" }), {
    s: ["any=127.0.0.1:32768", "bound=192.0.2.7:8081"],
  });
  assert.deepEqual(serversOf(cs, { address: "published", hostIp: "192.0.2.1" }), {
    s: ["any=192.0.2.1:32768", "bound=192.0.2.1:8081"],
  });
  assert.equal(reasons(cs, { address: "published" }).unpublished, "port 8080/tcp is not published");
});

Deno.test("buildModel() leaves out stopped and unhealthy containers unless asked", () => {
  const cs = [
    container("up", { "lbsync.service": "s" }),
    container("exited", { "lbsync.service": "s" }, { state: "exited" }),
    container("sick", { "lbsync.service": "s" }, { health: "unhealthy" }),
    container("booting", { "lbsync.service": "s" }, { health: "starting" }),
    container("fine", { "lbsync.service": "s" }, { health: "healthy" }),
  ];
  assert.deepEqual(Object.keys(reasons(cs)), ["booting", "exited", "sick"]);
  assert.equal(reasons(cs).exited, 'not running (state "exited")');
  assert.deepEqual(Object.keys(reasons(cs, { includeUnhealthy: true })), ["exited"]);
});

Deno.test("buildModel() keeps a service whose containers are all out, with no servers", () => {
  const { model } = buildModel([
    container("old", { "lbsync.service": "web", "lbsync.host": "a.com" }, { state: "exited" }),
  ]);
  assert.equal(model.services.length, 1);
  assert.equal(model.services[0].hasServers, false);
  assert.deepEqual(model.httpListeners[0].virtualHosts[0].routes[0], {
    path: "/",
    pathRegex: "",
    dest: "",
    destPattern: "",
    service: "web",
    backend: "lbsync_web",
    redirectFrom: "",
    hasServers: false,
    health: "",
    dnsName: "",
    dnsPort: 0,
    scheme: "http",
    keepalive: 32,
    internalOnly: false,
  });
});

Deno.test("buildModel() resolves service-level conflicts by the oldest container, with a warning", () => {
  const cs = [
    container("web-1", { "lbsync.service": "web", "lbsync.host": "a.com", "lbsync.path": "/x" }),
    container("web-2", { "lbsync.service": "web", "lbsync.host": "b.com", "lbsync.path": "/x" }),
    container("web-3", { "lbsync.service": "web", "lbsync.host": "c.com" }),
  ];
  const { model, warnings } = buildModel([...cs].reverse());
  assert.deepEqual(model.services[0].hosts, ["a.com"]);
  assert.equal(model.services[0].path, "/x");
  assert.equal(model.services[0].servers.length, 3);
  assert.deepEqual(warnings, [
    'service web: web-2, web-3 disagree on host; using "a.com" of web-1, the oldest',
    'service web: web-3 disagrees on path; using "/x" of web-1, the oldest',
  ]);
});

Deno.test("buildModel() gives a route to the service that held it first, never by name", () => {
  const cs = [
    container("b-1", { "lbsync.service": "b", "lbsync.host": "a.com" }),
    container("a-1", { "lbsync.service": "a", "lbsync.host": "a.com" }),
    container("t-1", { "lbsync.service": "t", "lbsync.mode": "tcp", "lbsync.listen": "80" }),
  ];
  const { model, skipped, warnings } = buildModel(cs);
  assert.deepEqual(model.httpListeners[0].virtualHosts[0].routes.map((r) => r.service), ["b"]);
  assert.deepEqual(model.services.map((s) => s.name), ["b"]);
  assert.deepEqual(model.tcpListeners, []);
  const b1 = new Date(cs[0].created).toISOString();
  assert.deepEqual(warnings, [
    "service t: lost port 80 to the http listener on port 80 (held since start-up)",
    `service a: lost host a.com path / on port 80 to service b (held since ${b1})`,
  ]);
  assert.deepEqual(skipped.map((s) => [s.name, s.code]), [["a-1", "conflict"], [
    "t-1",
    "conflict",
  ]]);
});

Deno.test("buildModel() service names are unique without case: the older keeps the name", () => {
  const cs = [
    container("w-1", { "lbsync.service": "WEB", "lbsync.host": "a.com" }),
    container("w-2", { "lbsync.service": "web", "lbsync.host": "b.com" }),
  ];
  const { model, skipped } = buildModel(cs);
  assert.deepEqual(model.services.map((s) => s.backend), ["lbsync_WEB"]);
  assert.equal(skipped[0].name, "w-2");
  assert.match(
    skipped[0].reason,
    /^lost name web \(names are compared without case\) to service WEB/,
  );
  // the loser is not rendered: nginx would refuse a second upstream of the same name
  assert.doesNotMatch(render(templates.nginx, model), /upstream lbsync_web /);
});

Deno.test("buildModel() a service keeps the routes it won and loses the others", () => {
  const cs = [
    container("old", { "lbsync.service": "old", "lbsync.host": "a.com" }),
    container("new", { "lbsync.service": "new", "lbsync.host": "a.com,b.com" }),
  ];
  const { model, skipped, warnings } = buildModel(cs);
  assert.deepEqual(
    model.services.map((s) => [s.name, s.routes.map((r) => r.host)]),
    [["new", ["b.com"]], ["old", ["a.com"]]],
  );
  assert.deepEqual(skipped, []);
  assert.equal(warnings.length, 1);
});

Deno.test("buildModel() a tcp port belongs to the service that held it first", () => {
  const cs = [
    container("db-1", { "lbsync.service": "db", "lbsync.mode": "tcp", "lbsync.listen": "5432" }),
    container("web-1", { "lbsync.service": "web", "lbsync.listen": "5432" }),
    container("db-2", { "lbsync.service": "db2", "lbsync.mode": "tcp", "lbsync.listen": "5432" }),
  ];
  const { model, skipped } = buildModel(cs);
  assert.deepEqual(model.tcpListeners.map((l) => `${l.port} ${l.service.name}`), ["5432 db"]);
  assert.deepEqual(skipped.map((s) => `${s.name} ${s.code}`), ["db-2 conflict", "web-1 conflict"]);
  assert.match(skipped[1].reason, /^lost port 5432 to service db \(held since /);
});

Deno.test("buildModel() a port another process holds is refused for the service that asks", () => {
  const cs = [
    container("web-1", { "lbsync.service": "web" }),
    container("alt-1", { "lbsync.service": "alt", "lbsync.listen": "8081" }),
  ];
  const { model, skipped } = buildModel(cs, {
    busyPorts: new Map([[8081, "another process on this host (port 8081 is in use)"]]),
  });
  assert.deepEqual(model.services.map((s) => s.name), ["web"]);
  assert.deepEqual(skipped.map((s) => [s.name, s.code, s.reason]), [[
    "alt-1",
    "port-in-use",
    "lost port 8081 to another process on this host (port 8081 is in use)",
  ]]);
});

Deno.test("buildModel() generated names carry the name prefix", () => {
  const cs = [container("l-1", { "lbsync.service": "localhost" })];
  assert.equal(buildModel(cs).model.services[0].backend, "lbsync_localhost");
  assert.equal(buildModel(cs, { namePrefix: "lb_" }).model.services[0].backend, "lb_localhost");
  assert.throws(() => buildModel(cs, { namePrefix: "a b" }), /Invalid name prefix "a b"/);
});

Deno.test("buildModel() a container id that is not hex is out and never rendered", () => {
  const bad = container("x", { "lbsync.service": "x" }, { id: "abc\n    return 200 pwned" });
  const { model, skipped } = buildModel([bad]);
  assert.deepEqual(model.services.map((s) => s.servers.length), []);
  assert.equal(skipped[0].code, "bad-id");
  assert.equal(skipped[0].id, "");
  assert.doesNotMatch(render(templates.nginx, model), /pwned/);
});

Deno.test("buildModel() orders routes so no prefix shadows a longer one", () => {
  const cs = [
    container("root", { "lbsync.service": "root", "lbsync.host": "a.com,*.a.com,*.b.a.com" }),
    container("api", { "lbsync.service": "api", "lbsync.host": "a.com", "lbsync.path": "/api" }),
    container("v2", { "lbsync.service": "v2", "lbsync.host": "a.com", "lbsync.path": "/api/v2" }),
  ];
  const [listener] = buildModel(cs).model.httpListeners;
  assert.deepEqual(listener.virtualHosts.map((v) => `${v.host} ${v.matchKind} ${v.matchValue}`), [
    "a.com str a.com",
    "*.b.a.com end .b.a.com",
    "*.a.com end .a.com",
  ]);
  assert.deepEqual(listener.virtualHosts[0].routes.map((r) => r.path), ["/api/v2", "/api", "/"]);
});

Deno.test("buildModel() keeps server names unique across engines", () => {
  const a = container("web", { "lbsync.service": "web" }, { engine: "tcp://a:2376" });
  const b = container("web", { "lbsync.service": "web" }, { engine: "tcp://b:2376" });
  const names = buildModel([a, b]).model.services[0].servers.map((s) => s.name);
  assert.deepEqual(names, [`web-${a.id.slice(0, 12)}`, `web-${b.id.slice(0, 12)}`]);
});

Deno.test("buildModel() output does not depend on input order", () => {
  const cs = Array.from({ length: 40 }, (_, i) =>
    container(`c${i}`, {
      "lbsync.service": `s${i % 5}`,
      "lbsync.host": `h${i % 3}.example.com`,
      "lbsync.path": `/p${i % 4}`,
      "lbsync.weight": String(1 + (i % 7)),
    }));
  const expected = render(templates.haproxy, buildModel(cs).model);
  let seed = 7;
  for (let round = 0; round < 20; round++) {
    const shuffled = [...cs].sort(() => ((seed = (seed * 16807) % 2147483647) % 3) - 1);
    const result = buildModel(shuffled);
    assert.equal(render(templates.haproxy, result.model), expected);
    assert.equal(
      render(templates.nginx, result.model),
      render(templates.nginx, buildModel(cs).model),
    );
  }
});

Deno.test("buildModel() rejects bad options with a ConfigError", () => {
  assert.throws(() => buildModel([], { hostIp: "localhost" }), {
    name: "ConfigError",
    message: 'Invalid host IP: "localhost" is not an IP address',
  });
  assert.throws(() => buildModel([], { listen: 0 }), { name: "ConfigError" });
  assert.throws(() => buildModel([], { labelPrefix: "a b" }), { name: "ConfigError" });
});

Deno.test("buildModel() makes backup-only services serve from their backups", () => {
  const { model } = buildModel([
    container("maint", { "lbsync.service": "web", "lbsync.backup": "true" }),
  ]);
  assert.equal(model.services[0].servers[0].backup, false);
});

Deno.test("buildModel() selects by image reference with --match-image", () => {
  const cs = [
    container("a", {}, { image: "registry.example.com/shop/api:2.1" }),
    container("b", {}, { image: "registry.example.com/shop/web:1.0" }),
    container("c", { "lbsync.enable": "false" }, { image: "registry.example.com/shop/api:2.0" }),
  ];
  const { model, skipped } = buildModel(cs, { matchImage: /\/shop\/api:/ });
  assert.deepEqual(model.services.map((s) => s.name), ["image"]);
  assert.deepEqual(skipped.map((s) => s.name), ["c"]);
  const named = buildModel(cs, { matchImage: /\/shop\/(?<service>[a-z]+):/ }).model;
  assert.deepEqual(named.services.map((s) => s.name), ["api"]);
});

Deno.test("buildModel() --match without a named group: every match is a server of one service", () => {
  // the old nginx backend-updater's own example: -service "dailyReport[0-9]*.stackepress.com"
  const cs = [
    container("web-1", { "lbsync.service": "web" }),
    container("dailyReport1.stackepress.com", {}),
    container("dailyReport2.stackepress.com", {}),
    container("other", {}),
  ];
  const match = /dailyReport[0-9]*.stackepress.com/;
  const { model, skipped } = buildModel(cs, { match, service: "daily", listen: 80 });
  const daily = model.services.find((s) => s.name === "daily");
  // one upstream with both, and web keeps the default route it held first
  assert.equal(daily, undefined, "daily lost the default route to web, held first");
  assert.deepEqual(skipped.map((s) => `${s.name} ${s.service} ${s.code}`), [
    "dailyReport1.stackepress.com daily conflict",
    "dailyReport2.stackepress.com daily conflict",
  ]);
  const onItsOwn = buildModel(cs.slice(1), { match, service: "daily" }).model;
  assert.deepEqual(
    onItsOwn.services.map((s) => [s.name, s.servers.map((x) => x.name)]),
    [["daily", ["dailyReport1.stackepress.com", "dailyReport2.stackepress.com"]]],
  );
  assert.deepEqual(buildModel(cs.slice(1, 3), { match }).model.services.map((s) => s.name), [
    "match",
  ]);
});

Deno.test("label groups: several services from one container, next to the plain form", () => {
  const ports = [{ port: 8080, protocol: "tcp", published: [] }, {
    port: 9000,
    protocol: "tcp",
    published: [],
  }];
  const cs = [
    container("multi", {
      "lbsync.web.port": "8080",
      "lbsync.web.host": "example.com",
      "lbsync.admin.port": "9000",
      "lbsync.admin.mode": "tcp",
      "lbsync.admin.listen": "9000",
      "lbsync.admin.service": "admin-tcp",
    }, { ports }),
    container("plain", {
      "lbsync.service": "api",
      "lbsync.port": "8080",
      "lbsync.metrics.port": "9000",
      "lbsync.metrics.path": "/metrics",
    }, { ports }),
    container("off", { "lbsync.enable": "false", "lbsync.web.port": "8080" }, { ports }),
    container("bad", { "lbsync.web.port": "80}" }, { ports }),
    container("nolisten", { "lbsync.db.mode": "tcp", "lbsync.db.port": "9000" }, { ports }),
  ];
  const { model, skipped, warnings } = buildModel(cs);
  assert.deepEqual(
    model.services.map((s) => `${s.name} ${s.mode} ${s.servers.map((x) => `${x.name}:${x.port}`)}`),
    [
      "admin-tcp tcp multi:9000",
      "api http plain:8080",
      "metrics http plain:9000",
      "web http multi:8080",
    ],
  );
  assert.deepEqual(model.services.find((s) => s.name === "web")!.hosts, ["example.com"]);
  assert.deepEqual(skipped.map((s) => `${s.name}: ${s.reason}`), [
    'bad: group web: label lbsync.web.port="80}": not an integer in 1..65535',
    "nolisten: group db: tcp service needs lbsync.db.listen",
    "off: disabled by lbsync.enable=false",
  ]);
  assert.deepEqual(skipped.map((s) => s.code), ["bad-label", "no-listen", "disabled"]);
  assert.deepEqual(warnings, []);
});

Deno.test("buildModel() --match-image with --rollover: the newest container of the image serves", () => {
  const image = { image: "registry.example.com/shop/web:2" };
  const cs = [container("web-old", {}, image), container("web-new", {}, image)];
  const { model, skipped } = buildModel(cs, { matchImage: /shop\/web:/, rollover: true });
  assert.deepEqual(model.services.map((s) => [s.name, s.servers.map((x) => x.name)]), [
    ["image", ["web-new"]],
  ]);
  assert.deepEqual(skipped.map((s) => `${s.name} ${s.code}`), ["web-old retired"]);
});

Deno.test("--ports: an unlabelled container a rule selected serves each mapping", () => {
  const image = { image: "shop/web:3", ports: [] };
  const cs = [
    container("web-1", {}, image),
    container("labelled", { "lbsync.service": "x" }, image),
  ];
  const ports = parsePortMappings("80,443=3000,tcp:5432");
  const { model } = buildModel(cs, { matchImage: /^shop\/web:/, ports });
  assert.deepEqual(
    model.services.map((s) => `${s.name} ${s.mode} ${s.listen} -> ${s.servers.map((x) => x.port)}`),
    ["image-443 http 443 -> 3000", "image-5432 tcp 5432 -> 5432", "image-80 http 80 -> 80"],
    "the labelled container keeps its own labels (it has no port: out)",
  );
  assert.deepEqual(
    buildModel([cs[0]], { matchImage: /web/, ports: parsePortMappings("8080") })
      .model.services.map((s) => s.name),
    ["image"],
  );
  assert.throws(() => parsePortMappings("80,80=81"), /port 80 is listed twice/);
  assert.throws(() => parsePortMappings("udp:53"), /"udp:53" is not LISTEN\[=PORT\]/);
});

Deno.test("buildModel(): a created container makes no service until it starts; a stopped one keeps its", () => {
  resetContainers();
  const created = container("new-1", { "lbsync.service": "fresh", "lbsync.host": "fresh.test" }, {
    state: "created",
  });
  const stopped = container("old-1", { "lbsync.service": "kept", "lbsync.host": "kept.test" }, {
    state: "exited",
  });
  const { model, skipped } = buildModel([created, stopped]);
  assert.deepEqual(model.services.map((s) => s.name), ["kept"], "the stopped one holds its route");
  assert.deepEqual(skipped.map((s) => `${s.name} ${s.code}`).sort(), [
    "new-1 not-running",
    "old-1 not-running",
  ]);
  const started = buildModel([{ ...created, state: "running" }, stopped]).model;
  assert.deepEqual(started.services.map((s) => s.name), ["fresh", "kept"]);
});

Deno.test("--balancer-container: a container on several networks is reached on one the balancer is on", () => {
  resetContainers();
  const on = (...names: string[]) =>
    names.map((name, i) => ({ name, ip: `10.0.${i}.2`, ipv6: "" }));
  const proxy = container("proxy", {}, { networks: on("front") });
  const web = (name: string, networks: ReturnType<typeof on>) =>
    container(
      name,
      { "lbsync.service": name, "lbsync.host": `${name}.test`, "lbsync.port": "80" },
      {
        networks,
      },
    );
  const containers = [
    proxy,
    web("two", on("bridge", "front")), // "bridge" sorts first; only "front" is shared
    web("alone", on("bridge")),
    web("one", on("front")),
  ];
  const { model, skipped, warnings } = buildModel(containers, {
    balancerContainer: proxy.id.slice(0, 12),
  });
  assert.deepEqual(warnings, []);
  const endpoint = (name: string) =>
    model.services.find((s) => s.name === name)?.servers[0]?.endpoint;
  assert.equal(endpoint("two"), "10.0.1.2:80");
  assert.equal(endpoint("one"), "10.0.0.2:80");
  assert.deepEqual(skipped.map((s) => `${s.name}: ${s.reason}`), [
    "alone: on no network the balancer is on (container on: bridge; balancer on: front)",
  ]);
  // by name too; a balancer on the host's network reaches every container
  assert.equal(buildModel(containers, { balancerContainer: "proxy" }).skipped.length, 1);
  const hostProxy = container("hostproxy", {}, { networkMode: "host", networks: [] });
  const all = buildModel([...containers, hostProxy], { balancerContainer: "hostproxy" });
  assert.deepEqual(all.skipped.map((s) => s.name), ["two"]); // several networks, none chosen
  // not found: a warning, and the rules without it
  const missing = buildModel(containers, { balancerContainer: "nope" });
  assert.match(missing.warnings.join("\n"), /balancer container "nope" is not among/);
});
