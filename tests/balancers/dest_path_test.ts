/**
 * `lbsync.dest` (nginx-proxy's `VIRTUAL_DEST`): the route's path prefix is replaced in the
 * request the servers get (`/web1/port` as `/port` with `path=/web1/`, `dest=/`), by real nginx
 * and real HAProxy alike, with the rest of the path escaped as nginx escapes it; a longer route
 * of the same host without `dest` keeps its path, and `routeRequest` names the path sent.
 */
import assert from "node:assert/strict";
import { buildModel, explainRows, type Model, render, routeRequest, templates } from "../../mod.ts";
import {
  BALANCERS,
  freePort,
  haproxyCheck,
  rawRequest,
  startBalancer,
} from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

/** A backend that answers every request with its request line (what the balancer sent). */
function requestLineEcho(): { port: number; close: () => Promise<void> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      (async () => {
        const buffer = new Uint8Array(16384);
        let head = "";
        while (!head.includes("\r\n\r\n") && head.length < 16384) {
          const n = await conn.read(buffer).catch(() => null);
          if (n === null) break;
          head += new TextDecoder().decode(buffer.subarray(0, n));
        }
        const line = head.split("\r\n")[0];
        const body = new TextEncoder().encode(`${line}\n`);
        await conn.write(new TextEncoder().encode(
          `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        )).catch(() => {});
        await conn.write(body).catch(() => {});
        conn.close();
      })();
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: async () => {
      listener.close();
      await served.catch(() => {});
    },
  };
}

/** Paths after the prefix, as requested, and as nginx sends them (decoded, normalized, escaped). */
const CASES: [string, string, string][] = [
  ["x.test", "/web1/port", "/port"],
  ["x.test", "/web1/port?q=1%20&r=/s", "/port?q=1%20&r=/s"],
  ["x.test", "//web1/a/../b/./c", "/b/c"],
  ["x.test", "/web1/a%20b%23c%3Fd%25e", "/a%20b%23c%3Fd%25e"],
  ["x.test", "/web1/c:d@e!f*g+h,i=j~k;l$m&n'o(p)q[r]s", "/c:d@e!f*g+h,i=j~k;l$m&n'o(p)q[r]s"],
  ["x.test", "/web1/%C3%A9%22%7B%7C%7D%5C%5E%60%3C%3E%2F", "/%C3%A9%22%7B%7C%7D%5C%5E%60%3C%3E/"],
  ["x.test", "/web1/a%0Ab%09c", "/a%0Ab%09c"],
  ["x.test", "/web2%0A/z", "/inner%0A/z"],
  ["x.test", "/web1/deep/z", "/web1/deep/z"],
  ["x.test", "/web2/z", "/inner/z"],
  ["x.test", "/other", "/other"],
  ["unknown.test", "/d/z", "/in/z"],
  ["unknown.test", "/d", "/d"],
];

function destModel(echo: number, listen: number): Model {
  resetContainers();
  const on = (name: string, labels: Record<string, string>) =>
    container(name, { "lbsync.enable": "true", "lbsync.port": String(echo), ...labels }, {
      networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    });
  return buildModel([
    on("web1", { "lbsync.host": "x.test", "lbsync.path": "/web1/", "lbsync.dest": "/" }),
    on("deep", { "lbsync.host": "x.test", "lbsync.path": "/web1/deep/" }),
    on("web2", { "lbsync.host": "x.test", "lbsync.path": "/web2", "lbsync.dest": "/inner" }),
    on("root", { "lbsync.host": "x.test" }),
    on("fallback", { "lbsync.path": "/d/", "lbsync.dest": "/in/" }),
  ], { listen, listenAddress: "127.0.0.1" }).model;
}

/**
 * The model with its routes found by name (`--nginx-dns`), the name being the echo's address
 * (nginx takes an IP literal in a `proxy_pass` with variables without asking a resolver).
 */
function byDns(model: Model, port: number): Model {
  for (const listener of model.httpListeners) {
    for (
      const route of [...listener.virtualHosts.flatMap((v) => v.routes), ...listener.defaultRoutes]
    ) {
      Object.assign(route, { dnsName: "127.0.0.1", dnsPort: port });
    }
  }
  return model;
}

for (const kind of [...BALANCERS, "nginx --nginx-dns"] as const) {
  Deno.test({
    name: `lbsync.dest through ${kind}: the prefix replaced upstream, the rest escaped as nginx`,
    ignore: missing(kind === "HAProxy" ? "haproxy" : "nginx"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const echo = requestLineEcho();
      const listen = freePort();
      const model = destModel(echo.port, listen);
      const balancer = kind === "nginx --nginx-dns"
        ? await startBalancer("nginx", byDns(model, echo.port))
        : await startBalancer(kind, model);
      try {
        for (const [host, path, upstream] of CASES) {
          const r = await rawRequest(
            listen,
            `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
          );
          if (path === "/d") {
            assert.equal(r.status, 301, `${kind} ${host}${path}`);
            continue;
          }
          assert.equal(r.status, 200, `${kind} ${host}${path}: ${r.body}`);
          assert.equal(
            r.body.trim().replace(/ HTTP\/1\.[01]$/, ""),
            `GET ${upstream}`,
            `${host}${path}`,
          );
        }
      } finally {
        await balancer.stop();
        await echo.close();
      }
    },
  });
}

Deno.test("routeRequest names the path the servers get when the route has a dest", () => {
  const model = destModel(8080, 80);
  const answer = (host: string, path: string) => routeRequest(model, { listen: 80, host, path });
  const web1 = answer("x.test", "/web1/a/../port");
  assert.equal(web1.kind === "routed" && web1.upstreamPath, "/port");
  const deep = answer("x.test", "/web1/deep/z");
  assert.equal(deep.kind === "routed" && deep.upstreamPath, undefined);
  const fallback = answer("unknown.test", "/d/z");
  assert.equal(fallback.kind === "routed" && fallback.upstreamPath, "/in/z");
});

Deno.test("explain says where a route's prefix goes", () => {
  const model = destModel(8080, 80);
  const rows = explainRows({ model, skipped: [], warnings: [] });
  const web1 = rows.find((r) => r.name === "web1");
  assert.match(web1?.reason ?? "", /; path \/web1\/ sent as \/$/);
  const fallback = rows.find((r) => r.name === "fallback");
  assert.match(fallback?.reason ?? "", /; path \/d\/ sent as \/in\/$/);
});

Deno.test({
  name:
    "lbsync.dest: a host with 70 longer paths beside a rewritten one still makes a valid HAProxy config",
  ignore: missing("haproxy"),
  async fn() {
    resetContainers();
    const on = (name: string, labels: Record<string, string>) =>
      container(name, { "lbsync.enable": "true", "lbsync.host": "a.test", ...labels });
    const { model } = buildModel([
      on("x", { "lbsync.path": "/x/", "lbsync.dest": "/" }),
      ...Array.from({ length: 70 }, (_, i) => on(`x${i}`, { "lbsync.path": `/x/${i}` })),
    ]);
    const check = await haproxyCheck(render(templates.haproxy, model));
    assert.ok(check.ok, check.output);
  },
});
