/**
 * nginx-proxy's operator files through real nginx: basic auth from an htpasswd directory
 * (`HOST`, `HOST_SHA1(PATH)`, `SHA1(REGEX)`), includes from a vhost directory (`HOST`,
 * `default`, `HOST_location`, `HOST_SHA1(PATH)_location`, `default_location`, a wildcard
 * host's file), and `proxy.conf` in place of lbsync's proxy headers. Names come from labels:
 * none reaches a file outside the directories.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { buildModel, render, templates } from "../../mod.ts";
import { readOperatorFiles } from "../../lib/sources/operator_files.ts";
import { withOperatorFiles } from "../../lib/core/model/operator_files.ts";
import { formatRouteAnswer, routeRequest } from "../../lib/core/route_request.ts";
import { explainRows } from "../../lib/core/explain.ts";
import { backend, freePort, httpGet, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing, run } from "../support/tools.ts";
import { lbsync } from "../support/cli.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";
import type { ContainerInfo, HttpListener } from "../../lib/core/types.ts";

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
const REGEX_HOST = "~^r[0-9]+\\.test$";

/** An htpasswd line for `user` with `password`, apr1-hashed as `htpasswd` does. */
async function htpasswdLine(user: string, password: string): Promise<string> {
  const r = await run(["openssl", "passwd", "-apr1", password]);
  assert.equal(r.code, 0, r.stderr);
  return `${user}:${r.stdout.trim()}\n`;
}

async function operatorDirectories(): Promise<{ root: string; proxyConf: string }> {
  const root = await Deno.makeTempDir({ prefix: "lbsync-operator-" });
  await Deno.mkdir(`${root}/htpasswd`);
  await Deno.mkdir(`${root}/vhost.d`);
  const files: Record<string, string> = {
    "htpasswd/a.test": await htpasswdLine("alice", "alice-secret"),
    [`htpasswd/b.test_${sha1("/private")}`]: await htpasswdLine("bob", "bob-secret"),
    [`htpasswd/${sha1(REGEX_HOST)}`]: await htpasswdLine("rita", "rita-secret"),
    "vhost.d/c.test": 'location = /from-vhost { return 200 "vhost c.test\\n"; }\n',
    "vhost.d/default": 'location = /from-vhost { return 200 "vhost default\\n"; }\n',
    "vhost.d/*.w.test": 'location = /from-vhost { return 200 "vhost wildcard\\n"; }\n',
    "vhost.d/b.test_location": "add_header X-Location b.test always;\n",
    [`vhost.d/b.test_${sha1("/private")}_location`]:
      "add_header X-Location b.test/private always;\n",
    "vhost.d/default_location": "add_header X-Location default always;\n",
    "proxy.conf": [
      "proxy_http_version 1.1;",
      "proxy_set_header Host $http_host;",
      "proxy_set_header X-Proxy-Conf operator;",
      "",
    ].join("\n"),
    "secret": "outside the directories\n",
  };
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${root}/${name}`, text);
  }
  return { root, proxyConf: `${root}/proxy.conf` };
}

/** Docker API JSON of one running container `a` serving host a.test, for `--from-file`. */
async function writeContainerA(path: string): Promise<void> {
  await Deno.writeTextFile(
    path,
    JSON.stringify([{
      Id: "a".repeat(64),
      Names: ["/a"],
      Image: "app",
      Created: 1_700_000_000,
      State: "running",
      Labels: { "lbsync.service": "a", "lbsync.host": "a.test", "lbsync.port": "8080" },
      NetworkSettings: { Networks: { app: { IPAddress: "10.0.0.2" } } },
      Ports: [],
    }]),
  );
}

function basic(user: string, password: string): string {
  return `Authorization: Basic ${btoa(`${user}:${password}`)}\r\n`;
}

Deno.test({
  name: "operator files: htpasswd and vhost.d as nginx-proxy reads them, through real nginx",
  ignore: missing("nginx", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const { root, proxyConf } = await operatorDirectories();
    const echo = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) =>
        new Response(
          `${new URL(req.url).pathname} proxy-conf=${req.headers.get("x-proxy-conf") ?? "none"}\n`,
        ),
    );
    const at = (labels: Record<string, string>): ContainerInfo =>
      container(labels["lbsync.service"], labels, {
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port: echo.addr.port, protocol: "tcp", published: [] }],
      });
    const listen = freePort();
    const operatorFiles = await readOperatorFiles({
      htpasswdDir: `${root}/htpasswd`,
      vhostDir: `${root}/vhost.d`,
      proxyConf,
    });
    const { model } = buildModel([
      at({ "lbsync.service": "a", "lbsync.host": "a.test" }),
      at({ "lbsync.service": "b", "lbsync.host": "b.test" }),
      at({ "lbsync.service": "bp", "lbsync.host": "b.test", "lbsync.path": "/private" }),
      at({ "lbsync.service": "c", "lbsync.host": "c.test" }),
      at({ "lbsync.service": "w", "lbsync.host": "*.w.test" }),
      at({ "lbsync.service": "r", "lbsync.host": REGEX_HOST }),
    ], { listen, listenAddress: "127.0.0.1", operatorFiles });
    const get = (host: string, path: string, extra = "") =>
      rawRequest(
        listen,
        `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`,
      );
    const nginx = await startBalancer("nginx", model);
    try {
      // basic auth: the host's file, a path's file, a regex host's hashed name
      assert.equal((await get("a.test", "/")).status, 401);
      assert.equal((await get("a.test", "/", basic("alice", "wrong"))).status, 401);
      assert.equal((await get("a.test", "/", basic("alice", "alice-secret"))).status, 200);
      assert.equal((await get("b.test", "/")).status, 200, "b.test/ has no file of its own");
      assert.equal((await get("b.test", "/private/x")).status, 401);
      assert.equal((await get("b.test", "/private/x", basic("bob", "bob-secret"))).status, 200);
      assert.equal((await get("r7.test", "/")).status, 401);
      assert.equal((await get("r7.test", "/", basic("rita", "rita-secret"))).status, 200);
      assert.match(
        (await get("a.test", "/")).headers.get("www-authenticate") ?? "",
        /Basic realm="Restricted a\.test"/,
      );
      // server includes: the host's own, else default; a wildcard host's file by its name
      assert.equal((await get("c.test", "/from-vhost")).body, "vhost c.test\n");
      assert.equal((await get("b.test", "/from-vhost")).body, "vhost default\n");
      assert.equal((await get("x.w.test", "/from-vhost")).body, "vhost wildcard\n");
      // location includes: the path's, the host's, else default_location
      assert.equal((await get("b.test", "/")).headers.get("x-location"), "b.test");
      const priv = await get("b.test", "/private/", basic("bob", "bob-secret"));
      assert.equal(priv.headers.get("x-location"), "b.test/private");
      assert.equal((await get("c.test", "/")).headers.get("x-location"), "default");
      // proxy.conf in place of lbsync's proxy headers
      assert.equal((await get("c.test", "/p")).body, "/p proxy-conf=operator\n");
    } finally {
      await nginx.stop();
      await echo.shutdown();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("operator files: route and explain tell which routes ask for basic auth", async () => {
  resetContainers();
  const root = await Deno.makeTempDir({ prefix: "lbsync-operator-" });
  try {
    await Deno.writeTextFile(`${root}/a.test_${sha1("/admin")}`, "u:x\n");
    const operatorFiles = await readOperatorFiles({ htpasswdDir: root });
    const result = buildModel([
      container("site", { "lbsync.service": "site", "lbsync.host": "a.test" }),
      container("admin", {
        "lbsync.service": "admin",
        "lbsync.host": "a.test",
        "lbsync.path": "/admin",
      }),
    ], { operatorFiles });
    const admin = routeRequest(result.model, { listen: 80, host: "a.test", path: "/admin/x" });
    assert.equal(admin.kind === "routed" && admin.auth?.path, `${root}/a.test_${sha1("/admin")}`);
    const site = routeRequest(result.model, { listen: 80, host: "a.test", path: "/" });
    assert.equal(site.kind === "routed" && site.auth, undefined);
    const rows = explainRows(result);
    assert.match(rows.find((r) => r.name === "admin")!.reason, /; basic auth a\.test\/admin$/);
    assert.doesNotMatch(rows.find((r) => r.name === "site")!.reason, /basic auth/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("operator files: no host name reaches a file outside the directories", () => {
  const files = new Map([["secret", "v1"], ["a.test", "v2"], ["..", "v3"], ["../secret", "v4"]]);
  const route = {
    path: "/",
    service: "s",
    backend: "lbsync_s",
    redirectFrom: "",
    hasServers: true,
    health: "",
    dnsName: "",
    dnsPort: 0,
    scheme: "http" as const,
    keepalive: 32,
    internalOnly: false,
  };
  const host = (name: string) => ({
    host: name,
    key: name,
    wildcard: false,
    regex: false,
    matchKind: "str" as const,
    matchValue: name,
    routes: [route],
    hasRootRoute: true,
    httpsMode: "nohttps" as const,
    httpOn: true,
    httpsOn: false,
    redirectToHttps: false,
    hsts: "",
    isDefault: false,
    internalOnly: false,
  });
  const listener = {
    virtualHosts: ["../secret", "..", "/etc/passwd", ".hidden", "a.test"].map(host),
  } as unknown as HttpListener;
  const out = withOperatorFiles(listener, {
    htpasswdDir: "/h",
    htpasswd: files,
    vhostDir: "/v",
    vhost: files,
  });
  const used = out.virtualHosts.map((v) => [v.serverInclude?.path, v.routes[0].auth?.path]);
  assert.deepEqual(used, [
    [undefined, undefined],
    [undefined, undefined],
    [undefined, undefined],
    [undefined, undefined],
    ["/v/a.test", "/h/a.test"],
  ]);
});

Deno.test("operator files: a changed file changes the config (so the balancer reloads)", async () => {
  resetContainers();
  const root = await Deno.makeTempDir({ prefix: "lbsync-operator-" });
  try {
    const containers = [container("a", { "lbsync.service": "a", "lbsync.host": "a.test" })];
    const rendered = async () =>
      render(
        templates.nginx,
        buildModel(containers, { operatorFiles: await readOperatorFiles({ htpasswdDir: root }) })
          .model,
      );
    const none = await rendered();
    await Deno.writeTextFile(`${root}/a.test`, "u:one\n");
    const one = await rendered();
    await Deno.writeTextFile(`${root}/a.test`, "u:two\n");
    const two = await rendered();
    assert.doesNotMatch(none, /auth_basic/);
    assert.match(one, /auth_basic_user_file .*\/a\.test; # --htpasswd-dir, version [0-9a-f]{16}/);
    assert.notEqual(one, two);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("operator files: the CLI takes the directories for nginx and refuses them for haproxy", async () => {
  const root = await Deno.makeTempDir({ prefix: "lbsync-operator-" });
  try {
    await Deno.writeTextFile(`${root}/a.test`, "u:x\n");
    await writeContainerA(`${root}/containers.json`);
    const args = ["render", "--from-file", `${root}/containers.json`, "--htpasswd-dir", root];
    const nginx = await lbsync([...args, "-t", "nginx", "-o", "-"]);
    assert.equal(nginx.code, 0, nginx.stderr);
    assert.match(nginx.stdout, new RegExp(`auth_basic_user_file ${root}/a\\.test;`));
    const haproxy = await lbsync([...args, "-t", "haproxy", "-o", "-"]);
    assert.equal(haproxy.code, 2);
    assert.match(haproxy.stderr, /--htpasswd-dir works with nginx targets/);
    const internal = await lbsync([
      ...args.slice(0, 3),
      "--network-internal-conf",
      `${root}/a.test`,
      "-t",
      "haproxy",
      "-o",
      "-",
    ]);
    assert.equal(internal.code, 2);
    assert.match(internal.stderr, /--network-internal-conf works with nginx targets/);
    const bad = await lbsync([
      ...args.slice(0, 3),
      "--vhost-dir",
      "/x y",
      "-t",
      "nginx",
      "-o",
      "-",
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Invalid --vhost-dir "\/x y"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test({
  name: "operator files: watch follows the directories: a new htpasswd file guards its host",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "lbsync-operator-" });
    await Deno.mkdir(`${root}/htpasswd`);
    await writeContainerA(`${root}/containers.json`);
    const out = `${root}/out.conf`;
    const watch = new WatchProcess([
      "--from-file",
      `${root}/containers.json`,
      "--htpasswd-dir",
      `${root}/htpasswd`,
      "--heartbeat",
      "50ms:200ms",
      "-t",
      "nginx",
      "-o",
      out,
    ]);
    try {
      await watch.until("the first apply", async () => (await readOr(out)).includes("a.test"));
      assert.doesNotMatch(await readOr(out), /auth_basic/);
      await Deno.writeTextFile(`${root}/htpasswd/a.test`, "u:x\n");
      await watch.until(
        "the host guarded",
        async () => (await readOr(out)).includes(`auth_basic_user_file ${root}/htpasswd/a.test;`),
      );
    } finally {
      await watch.stop();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "operator files: a location override replaces the generated location, as nginx-proxy's test_location-override",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const root = await Deno.makeTempDir({ prefix: "lbsync-override-" });
    const [p81, p82, p83] = [
      "answer from port 81\n",
      "answer from port 82\n",
      "answer from port 83\n",
    ]
      .map((text) => backend(text));
    const T = "nginx-proxy.test";
    const explicit = ["explicit-root-nohash", "explicit-root-hash", "explicit-root-hash-and-nohash"]
      .concat("explicit-nonroot", "proxied").map((h) => `${h}.${T}`);
    const implicit = ["implicit-root-nohash", "implicit-root-hash", "implicit-root-hash-and-nohash"]
      .map((h) => `${h}.${T}`);
    const files: Record<string, string> = {
      [`explicit-root-nohash.${T}_location_override`]: "location / {\n    return 418;\n}\n",
      [`explicit-root-hash.${T}_${sha1("/")}_location_override`]: "location / { return 418; }\n",
      [`explicit-root-hash-and-nohash.${T}_${sha1("/")}_location_override`]:
        "# This file should trump the file without the hash.\nlocation / { return 418; }\n",
      [`explicit-root-hash-and-nohash.${T}_location_override`]: "location / { return 503; }\n",
      [`explicit-nonroot.${T}_${sha1("/foo/")}_location_override`]:
        "location /foo/ {\n    return 418;\n}\n",
      // the host's own name stands for / only: not for /foo/
      [`explicit-nonroot.${T}_location_override`.replace("explicit-nonroot", "proxied")]:
        `location / {\n    add_header X-Override proxied always;\n    proxy_pass http://proxied.${T};\n}\n`,
      [`implicit-root-nohash.${T}_location_override`]: "location / { return 418; }\n",
      [`implicit-root-hash.${T}_${sha1("/")}_location_override`]: "location / { return 418; }\n",
      [`implicit-root-hash-and-nohash.${T}_${sha1("/")}_location_override`]:
        "location / { return 418; }\n",
      [`implicit-root-hash-and-nohash.${T}_location_override`]: "location / { return 503; }\n",
      // augmenting files still apply where no override is
      [`explicit-nonroot.${T}_location`]: "add_header X-Location kept always;\n",
      // no default override: nginx-proxy has none
      "default_location_override": "location / { return 500; }\n",
    };
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${root}/${name}`, text);
    }
    const at = (port: number, env: Record<string, string>): ContainerInfo =>
      container(`c${port}`, {}, {
        env: { VIRTUAL_PORT: String(port), ...env },
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port, protocol: "tcp", published: [] }],
      });
    const listen = freePort();
    const operatorFiles = await readOperatorFiles({ vhostDir: root });
    const result = buildModel([
      at(p81.port, { VIRTUAL_HOST: explicit.join(","), VIRTUAL_PATH: "/" }),
      at(p82.port, { VIRTUAL_HOST: explicit.join(","), VIRTUAL_PATH: "/foo/", VIRTUAL_DEST: "/" }),
      at(p83.port, { VIRTUAL_HOST: implicit.join(",") }),
    ], { listen, listenAddress: "127.0.0.1", operatorFiles, compat: "nginx-proxy" });
    const { model } = result;
    const get = async (url: string) => {
      const { host, pathname } = new URL(url);
      const r = await httpGet(listen, pathname, host);
      return `${r.status} ${r.status === 200 ? r.body : ""}`.trim();
    };
    const nginx = await startBalancer("nginx", model);
    try {
      const answers = {
        "explicit-root-nohash/port": await get(`http://explicit-root-nohash.${T}/port`),
        "explicit-root-nohash/foo/port": await get(`http://explicit-root-nohash.${T}/foo/port`),
        "explicit-root-hash/port": await get(`http://explicit-root-hash.${T}/port`),
        "explicit-root-hash/foo/port": await get(`http://explicit-root-hash.${T}/foo/port`),
        "explicit-root-hash-and-nohash/port": await get(
          `http://explicit-root-hash-and-nohash.${T}/port`,
        ),
        "explicit-root-hash-and-nohash/foo/port": await get(
          `http://explicit-root-hash-and-nohash.${T}/foo/port`,
        ),
        "explicit-nonroot/port": await get(`http://explicit-nonroot.${T}/port`),
        "explicit-nonroot/foo/port": await get(`http://explicit-nonroot.${T}/foo/port`),
        "implicit-root-nohash/port": await get(`http://implicit-root-nohash.${T}/port`),
        "implicit-root-hash/port": await get(`http://implicit-root-hash.${T}/port`),
        "implicit-root-hash-and-nohash/port": await get(
          `http://implicit-root-hash-and-nohash.${T}/port`,
        ),
      };
      assert.deepEqual(answers, {
        "explicit-root-nohash/port": "418",
        "explicit-root-nohash/foo/port": "200 answer from port 82",
        "explicit-root-hash/port": "418",
        "explicit-root-hash/foo/port": "200 answer from port 82",
        "explicit-root-hash-and-nohash/port": "418",
        "explicit-root-hash-and-nohash/foo/port": "200 answer from port 82",
        "explicit-nonroot/port": "200 answer from port 81",
        "explicit-nonroot/foo/port": "418",
        "implicit-root-nohash/port": "418",
        "implicit-root-hash/port": "418",
        "implicit-root-hash-and-nohash/port": "418",
      });
      // the operator's own location reaches the upstream named after the host, as in
      // nginx-proxy's docs; the generated location's includes are gone with it
      const proxied = await httpGet(listen, "/port", `proxied.${T}`);
      assert.equal(`${proxied.status} ${proxied.body}`, "200 answer from port 81\n");
      assert.equal(proxied.headers.get("x-override"), "proxied");
      const kept = await httpGet(listen, "/port", `explicit-nonroot.${T}`);
      assert.equal(kept.headers.get("x-location"), "kept");
      // route and explain say the operator's file answers there
      const query = { listen, host: `explicit-nonroot.${T}`, path: "/foo/port" };
      assert.match(
        formatRouteAnswer(routeRequest(model, query), query),
        new RegExp(
          `^override ${root}/explicit-nonroot\\.${T}_${sha1("/foo/")}_location_override replaces`,
          "m",
        ),
      );
      const plain = { listen, host: `explicit-nonroot.${T}`, path: "/port" };
      assert.doesNotMatch(formatRouteAnswer(routeRequest(model, plain), plain), /override/);
      const reasons = explainRows(result).map((r) => r.reason).join("\n");
      assert.match(
        reasons,
        new RegExp(`; location explicit-nonroot\\.${T}/foo/ replaced by its override`),
      );
      assert.doesNotMatch(reasons, new RegExp(`location explicit-nonroot\\.${T}/ `));
    } finally {
      await nginx.stop();
      for (const b of [p81, p82, p83]) await b.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
