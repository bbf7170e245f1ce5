import assert from "node:assert/strict";
import {
  buildModel,
  normalizeHost,
  normalizePath,
  readGeneration,
  render,
  routeRequest,
  stampGeneration,
  templates,
} from "../../mod.ts";
import { lbsync } from "../../tests/support/cli.ts";
import { container, resetContainers } from "../../tests/support/fixtures.ts";

const EXAMPLE = new URL("../../examples/containers.json", import.meta.url).pathname;

Deno.test("normalizePath() decodes, merges // and resolves . and .. as nginx does", () => {
  const cases: [string, string | null][] = [
    ["/", "/"],
    ["/a//b", "/a/b"],
    ["/a/./b", "/a/b"],
    ["/a/b/../c", "/a/c"],
    ["/a/b/..", "/a/"],
    ["/a/.", "/a/"],
    ["/a/", "/a/"],
    ["/%61dmin/x", "/admin/x"],
    ["/x/%2E%2E/admin", "/admin"],
    ["/a%2Fb", "/a/b"],
    ["/%25", "/%"],
    ["/...", "/..."],
    ["/a/.../..", "/a/"],
    ["/..", null],
    ["/a/../..", null],
    ["/%zz", null],
    ["/a%2", null],
    ["/a%00b", null],
  ];
  for (const [raw, want] of cases) assert.equal(normalizePath(raw), want, raw);
});

Deno.test("normalizeHost() lowercases and drops the port and one trailing dot", () => {
  const cases: [string | undefined, string | null][] = [
    [undefined, ""],
    ["A.Example.COM", "a.example.com"],
    ["a.example.com.", "a.example.com"],
    ["a.example.com.:8080", "a.example.com"],
    ["[::1]:80", "[::1]"],
    [".a.b", ".a.b"],
    ["a..b", null],
    ["a.b..", null],
    ["a/b", null],
    ["a b", null],
    ["", null],
    [".", null],
    [":80", null],
  ];
  for (const [header, want] of cases) assert.equal(normalizeHost(header), want, String(header));
});

Deno.test("routeRequest() follows hosts, wildcards, prefixes and the trailing-slash redirect", () => {
  resetContainers();
  const { model } = buildModel([
    container("root", { "lbsync.service": "root" }),
    container("api", { "lbsync.service": "api", "lbsync.path": "/api" }),
    container("static", { "lbsync.service": "static", "lbsync.path": "/static/" }),
    container("a", { "lbsync.service": "a", "lbsync.host": "a.example.com" }),
    container("w", { "lbsync.service": "w", "lbsync.host": "*.example.com" }),
    container("d", { "lbsync.service": "d", "lbsync.host": "d.test", "lbsync.path": "/only" }),
    container("db", { "lbsync.service": "db", "lbsync.mode": "tcp", "lbsync.listen": "5432" }),
  ]);
  const to = (host: string | undefined, path: string, listen = 80) => {
    const answer = routeRequest(model, { listen, host, path });
    return answer.kind === "routed"
      ? answer.service.name
      : answer.kind === "redirect"
      ? `301 ${answer.location}`
      : answer.kind;
  };
  assert.equal(to("x.test", "/apix"), "api"); // a plain string prefix
  assert.equal(to("x.test", "/ap"), "root");
  assert.equal(to("x.test", "//api/v1?x=/"), "api");
  assert.equal(to("x.test", "/static"), "301 /static/");
  assert.equal(to("x.test", "/static/app.js"), "static");
  assert.equal(to(undefined, "/api"), "api");
  assert.equal(to("A.EXAMPLE.COM.", "/api"), "a");
  assert.equal(to("b.example.com", "/"), "w");
  assert.equal(to("x.y.example.com", "/"), "w");
  assert.equal(to("example.com", "/api"), "api"); // not under *.example.com
  assert.equal(to("d.test", "/"), "not-found");
  assert.equal(to("d.test", "/only/x"), "d");
  assert.equal(to("x.test", "/../x"), "bad-request");
  assert.equal(to("a..b", "/"), "bad-request");
  assert.equal(to(undefined, "/", 5432), "db");
  assert.equal(to("x.test", "/", 8080), "not-found");
});

Deno.test("stampGeneration() puts the hash of the text in place of the token", () => {
  const model = buildModel([]).model;
  const a = render(templates.nginx, model);
  const b = render(templates.nginx, buildModel([], { listen: 81 }).model);
  const [ga, gb] = [readGeneration(a), readGeneration(b)];
  assert.match(ga ?? "", /^[0-9a-f]{16}$/);
  assert.notEqual(ga, gb);
  assert.equal(render(templates.nginx, model), a, "the same model, the same bytes");
  assert.ok(a.includes(`return 200 "${ga}\\n";`));
  assert.equal(stampGeneration("no token here"), "no token here");
  assert.equal(readGeneration(render(templates.haproxy, model))?.length, 16);
});

Deno.test("lbsync route prints the service, route, backend and servers of a URL", async () => {
  const r = await lbsync([
    "route",
    "http://SHOP.example.com.:80//x/../%61pi/v1",
    "--from-file",
    EXAMPLE,
    "-q",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      "service  api",
      "route    host shop.example.com path /api",
      "backend  lbsync_api",
      "servers  shop-api-1 172.20.0.5:8080",
      "         shop-api-2 172.20.0.6:8080",
      "",
    ].join("\n"),
  );
  const json = await lbsync(["route", "tcp://:5432", "--from-file", EXAMPLE, "--format", "json"]);
  assert.equal(JSON.parse(json.stdout).service, "postgres");
  const none = await lbsync(["route", "http://nothing.test/", "--from-file", EXAMPLE, "-q"]);
  assert.equal(none.stdout, "404 not found: no route for host nothing.test path / on port 80\n");
  const bad = await lbsync(["route", "ftp://x/", "--from-file", EXAMPLE]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Invalid URL "ftp:\/\/x\/": use http:\/\/HOST\[:PORT\]\/PATH/);
  const prefixed = await lbsync([
    "route",
    "http://shop.example.com/",
    "--from-file",
    EXAMPLE,
    "--name-prefix",
    "edge_",
    "-q",
  ]);
  assert.match(prefixed.stdout, /^backend {2}edge_web$/m);
});

Deno.test("--connect-timeout reaches nginx (http and stream) and HAProxy", async () => {
  const args = ["render", "--from-file", EXAMPLE, "--connect-timeout", "250ms", "-q"];
  const nginx = await lbsync([...args, "-t", "nginx", "-t", "nginx-stream"]);
  assert.equal(nginx.stdout.match(/proxy_connect_timeout 250ms;/g)?.length, 5);
  const haproxy = await lbsync([...args, "-t", "haproxy"]);
  assert.match(haproxy.stdout, /^ {4}timeout connect 250ms$/m);
  const fallback = await lbsync(["render", "--from-file", EXAMPLE, "-q", "-t", "haproxy"]);
  assert.match(fallback.stdout, /^ {4}timeout connect 2000ms$/m);
});
