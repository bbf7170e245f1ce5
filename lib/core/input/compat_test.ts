/**
 * `--compat nginx-proxy`'s pure rules: VIRTUAL_HOST / VIRTUAL_PORT / VIRTUAL_PATH in a
 * container's environment stand for labels (real containers behind real nginx and the inspect
 * cache are in tests/engine/compat_test.ts).
 */
import assert from "node:assert/strict";
import {
  buildModel,
  containersFromDockerApi,
  render,
  routeRequest,
  templates,
} from "../../../mod.ts";
import { compatEnv } from "./compat.ts";
import { container, resetContainers } from "../../../tests/support/fixtures.ts";

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
