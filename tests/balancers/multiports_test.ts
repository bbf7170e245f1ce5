/**
 * nginx-proxy's `VIRTUAL_HOST_MULTIPORTS` under `--compat nginx-proxy`: each host, path and
 * port of the YAML (or JSON) served, replacing the container's `VIRTUAL_HOST`; containers that
 * share a host and path share its upstream whichever way each was configured; a text that is
 * not valid is refused with the reason. The cases of nginx-proxy's own multiports tests,
 * through real nginx and real HAProxy (backends on 127.0.0.1 that name their port and path).
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, explainRows, render, templates } from "../../mod.ts";
import { MULTIPORTS_REFUSED } from "../../lib/core/input/compat.ts";
import { MultiportsError, parseMultiports } from "../../lib/core/input/multiports.ts";
import {
  BALANCERS,
  freePort,
  nginxCheck,
  rawRequest,
  startBalancer,
} from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

Deno.test("parseMultiports reads nginx-proxy's YAML and JSON forms", () => {
  assert.deepEqual(parseMultiports("a.test:"), [{
    host: "a.test",
    paths: [{ path: "/", settings: {} }],
  }]);
  assert.deepEqual(
    parseMultiports(
      "a.test: # the app\n  external_http_port: 8080\n  \"/\":\n  '/api':\n    port: 8000\n" +
        '    proto: https\n    dest: "/"\n  other: ignored\nb.test:\n  /x: {port: 81, dest: /}\n',
    ),
    [
      {
        host: "a.test",
        externalHttpPort: "8080",
        paths: [
          { path: "/", settings: {} },
          { path: "/api", settings: { port: "8000", proto: "https", dest: "/" } },
        ],
      },
      { host: "b.test", paths: [{ path: "/x", settings: { port: "81", dest: "/" } }] },
    ],
  );
  assert.deepEqual(
    parseMultiports('{"w.test": {}, "s.test": {"/": {"port": 8000, "dest": ""}}}'),
    [
      { host: "w.test", paths: [{ path: "/", settings: {} }] },
      { host: "s.test", paths: [{ path: "/", settings: { port: "8000" } }] },
    ],
  );
});

Deno.test("parseMultiports refuses what is not the form, naming the line", () => {
  const refused: [string, RegExp][] = [
    ["test1.test\ntest2.test:", /^line 1: "test1\.test" is not a key: value$/],
    ["test1.test:\ntest1.test:", /^line 2: key "test1\.test" given twice$/],
    ['t.test:\n  "/":\n    port: 8080\n  "/":\n    port: 9000', /^line 4: key "\/" given twice$/],
    ["t.test:\n\t/: {}", /^line 2: a tab in the indentation$/],
    ["t.test:\n  /:\n    port:\n      deeper:\n        deepest: 1", /nested too deep/],
    ["t.test: &anchor\n", /is not a plain value/],
    ["t.test: value", /a mapping of paths, not a value/],
    ['{"t.test": {"/": {"port": 1}}', /',' or '}' expected at character/],
    ['{"a": 1, "a": 2}', /key "a" given twice/],
    ["- a.test", /is not a key: value/],
    ["", /^empty$/],
    // a long line without a key: read in one pass (a backtracking reader took seconds)
    ["a" + " ".repeat(60000) + "b", /^line 1: "a {60000}b" is not a key: value$/],
    ['"a' + " ".repeat(60000), /^line 1: .* is not a key: value$/],
    ["{" + '"a": {'.repeat(2) + " ".repeat(60000), /expected at character/],
    ["a".repeat(70000) + ":", /longer than 65536 bytes/],
  ];
  for (const [text, reason] of refused) {
    assert.throws(
      () => parseMultiports(text),
      (e) => e instanceof MultiportsError && reason.test(e.message),
      text,
    );
  }
});

Deno.test({
  name:
    "VIRTUAL_HOST_MULTIPORTS: a refused text's notes in the config stay comments, as nginx -t reads them",
  ignore: missing("nginx"),
  fn: refusedNotesStayComments,
});

async function refusedNotesStayComments(): Promise<void> {
  resetContainers();
  // a value that tries to end the comment and open a server block of its own
  const hostile = container("evil", {}, {
    env: { VIRTUAL_HOST_MULTIPORTS: 'a.test:\n  x\u2028}\nserver { listen 81; }\n"' },
  });
  const { model, skipped } = buildModel([hostile], { compat: "nginx-proxy" });
  assert.equal(skipped.length, 1);
  assert.equal(model.refusedNotes.length, 1);
  const text = render(templates.nginx, model);
  const lines = text.split("\n").filter((l) => l.includes(MULTIPORTS_REFUSED));
  assert.equal(lines.length, 1);
  assert.match(lines[0], /^# evil: [\x20-\x7e]+$/);
  assert.doesNotMatch(text, /^server \{ listen 81/m);
  const check = await nginxCheck({ http: text });
  assert.ok(check.ok, check.output);
  // without --compat nginx-proxy the config carries no such notes
  assert.deepEqual(buildModel([hostile]).model.refusedNotes, []);
}

Deno.test("VIRTUAL_HOST_MULTIPORTS: a path without a port takes the only exposed port, else 80", () => {
  resetContainers();
  const { model } = buildModel([
    container("defaultport", {}, {
      env: { VIRTUAL_HOST_MULTIPORTS: 'p80.a.test:\np80.b.test:\np80.c.test:\n  "/":' },
      ports: [80, 8080].map((port) => ({ port, protocol: "tcp", published: [] })),
    }),
  ], { compat: "nginx-proxy" });
  assert.deepEqual(
    model.services.map((s) =>
      `${s.hosts.join(",")} ${s.servers.map((v) => v.endpoint.split(":")[1])}`
    ),
    ["p80.a.test 80", "p80.b.test 80", "p80.c.test 80"],
  );
});

/** Backends on 127.0.0.1 answering `answer from port N at PATH` (nginx-proxy's test image says its port). */
function portBackends(count: number) {
  const servers = Array.from({ length: count }, () => {
    const self: { port: number } = { port: 0 };
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (request) =>
        new Response(`answer from port ${self.port} at ${new URL(request.url).pathname}\n`),
    );
    self.port = server.addr.port;
    return server;
  });
  return {
    ports: servers.map((s) => s.addr.port),
    close: () => Promise.all(servers.map((s) => s.shutdown())),
  };
}

function onLoopback(name: string, ports: number[], env: Record<string, string>): ContainerInfo {
  return container(name, {}, {
    env,
    networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    ports: ports.map((port) => ({ port, protocol: "tcp", published: [] })),
  });
}

for (const kind of BALANCERS) {
  Deno.test({
    name: `VIRTUAL_HOST_MULTIPORTS through ${kind}: nginx-proxy's multiports cases`,
    ignore: missing(kind === "nginx" ? "nginx" : "haproxy"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      resetContainers();
      const backends = portBackends(9);
      const [a, b, c, d, e, f, g, h, i] = backends.ports;
      const listen = freePort();
      const result = buildModel([
        onLoopback("skipvirtualhost", [a], {
          VIRTUAL_HOST: "skipped.np.test",
          VIRTUAL_HOST_MULTIPORTS: "notskipped.np.test:",
        }),
        onLoopback("multiports", [b, c], {
          VIRTUAL_HOST_MULTIPORTS:
            `port-b.np.test:\n  "/":\n    port: ${b}\nport-c.np.test:\n  "/":\n    port: ${c}`,
        }),
        onLoopback("virtualpath", [d, e], {
          VIRTUAL_HOST_MULTIPORTS: JSON.stringify({
            "virtualpaths.np.test": {
              "/rootdest": { port: d, dest: "/" },
              "/customdest": { port: e, dest: "/port" },
            },
          }),
        }),
        onLoopback("merged-singleport", [f], { VIRTUAL_HOST: "merged.np.test" }),
        onLoopback("merged-singleport-virtual-path", [g], {
          VIRTUAL_HOST: "merged.np.test",
          VIRTUAL_PORT: String(g),
          VIRTUAL_PATH: "/foo",
          VIRTUAL_DEST: "/",
        }),
        onLoopback("merged-multiports", [h, i], {
          VIRTUAL_HOST_MULTIPORTS:
            `merged.np.test:\n  "/":\n    port: ${h}\n  "/foo":\n    port: ${i}\n    dest: "/"`,
        }),
        onLoopback("invalidsyntax", [a], {
          VIRTUAL_HOST_MULTIPORTS: "test1.np.test\ntest2.np.test:",
        }),
        onLoopback("hostnamerepeat", [a], {
          VIRTUAL_HOST_MULTIPORTS: "test1.np.test:\ntest1.np.test:",
        }),
        onLoopback("pathrepeat", [b, c], {
          VIRTUAL_HOST_MULTIPORTS: `test1.np.test:\n  "/":\n    port: ${b}\n  "/":\n    port: ${c}`,
        }),
      ], { compat: "nginx-proxy", listen, listenAddress: "127.0.0.1" });
      const balancer = await startBalancer(kind, result.model);
      const get = async (host: string, path: string) => {
        const r = await rawRequest(
          listen,
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        return `${r.status} ${r.status === 200 ? r.body.trim() : ""}`.trim();
      };
      /** The answers of `tries` requests (round robin over the upstream's servers). */
      const answers = async (host: string, path: string, tries: number) => {
        const seen = new Set<string>();
        for (let n = 0; n < tries; n++) seen.add(await get(host, path));
        return [...seen].sort();
      };
      try {
        assert.equal(
          await get("notskipped.np.test", "/port"),
          `200 answer from port ${a} at /port`,
        );
        assert.equal(await get("skipped.np.test", "/"), "503");
        assert.equal(await get("port-b.np.test", "/port"), `200 answer from port ${b} at /port`);
        assert.equal(await get("port-c.np.test", "/port"), `200 answer from port ${c} at /port`);
        assert.equal(
          await get("virtualpaths.np.test", "/rootdest/port"),
          // prefix /rootdest (no slash) replaced by "/": the slash doubles, as nginx-proxy warns
          `200 answer from port ${d} at //port`,
        );
        assert.equal(
          await get("virtualpaths.np.test", "/customdest"),
          `200 answer from port ${e} at /port`,
        );
        assert.deepEqual(
          await answers("merged.np.test", "/port", 4),
          [
            `200 answer from port ${f} at /port`,
            `200 answer from port ${h} at /port`,
          ].sort(),
        );
        assert.deepEqual(
          await answers("merged.np.test", "/foo/port", 4),
          [
            `200 answer from port ${g} at //port`,
            `200 answer from port ${i} at //port`,
          ].sort(),
        );
        assert.equal(await get("test1.np.test", "/"), "503");
        assert.equal(await get("test2.np.test", "/"), "503");
        const reasons = explainRows(result).filter((r) => r.status === "out")
          .map((r) => `${r.name}: ${r.reason}`);
        const refused = `${MULTIPORTS_REFUSED}:`;
        assert.deepEqual(reasons, [
          `hostnamerepeat: ${refused} line 2: key "test1.np.test" given twice`,
          `invalidsyntax: ${refused} line 1: "test1.np.test" is not a key: value`,
          `pathrepeat: ${refused} line 4: key "/" given twice`,
        ]);
        if (kind === "nginx") {
          // as nginx-proxy does, the config names each refused container and why, in comments
          const notes = render(templates.nginx, result.model).split("\n")
            .filter((l) => l.includes(MULTIPORTS_REFUSED));
          assert.deepEqual(notes, reasons.map((r) => `# ${r}`));
        }
      } finally {
        await balancer.stop();
        await backends.close();
      }
    },
  });
}
