/**
 * `--default-host` (nginx-proxy's DEFAULT_HOST): HTTP requests for hosts no service names go
 * to that host's services. Real nginx, real HAProxy and `routeRequest` answer each request
 * alike, a host served over HTTPS only counts as unknown over HTTP, and a default host that
 * is not routed is a warning.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, routeRequest } from "../../mod.ts";
import {
  backend,
  BALANCERS,
  freePort,
  rawRequest,
  startBalancer,
  type TestBackend,
} from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

Deno.test({
  name: "default host: unknown hosts reach it through nginx and HAProxy, as routeRequest says",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const backends = new Map<string, TestBackend>(
      ["main", "api", "other"].map((n) => [n, backend(n)]),
    );
    const local = (name: string, labels: Record<string, string>): ContainerInfo =>
      container(name, { "lbsync.service": name, ...labels }, {
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port: backends.get(name)!.port, protocol: "tcp", published: [] }],
      });
    const listen = freePort();
    const result = buildModel([
      local("main", { "lbsync.host": "main.test" }),
      local("api", { "lbsync.host": "main.test", "lbsync.path": "/api/" }),
      local("other", { "lbsync.host": "other.test" }),
    ], { listen, listenAddress: "127.0.0.1", defaultHost: "main.test" });
    assert.deepEqual(result.warnings, []);
    const model = result.model;
    const requests: [string, string | undefined, string][] = [
      ["known host", "other.test", "/"],
      ["the default host itself", "main.test", "/"],
      ["an unknown host", "nobody.test", "/"],
      ["an unknown host, a path of the default host", "nobody.test", "/api/x"],
      ["the default host's trailing-slash redirect", "nobody.test", "/api"],
      ["no Host header", undefined, "/"],
    ];
    const expected = (host: string | undefined, path: string) => {
      const answer = routeRequest(model, { listen, host, path });
      if (answer.kind === "routed") return `200 ${answer.service.name}`;
      if (answer.kind === "redirect") return `301 ${answer.location}`;
      return answer.kind === "not-found" ? String(answer.status) : "400";
    };
    const ask = async (host: string | undefined, path: string) => {
      const head = host === undefined
        ? `GET ${path} HTTP/1.0\r\n\r\n`
        : `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
      const r = await rawRequest(listen, head);
      if (r.status === 200) return `200 ${r.body.trim()}`;
      // nginx writes the location absolute, HAProxy as the path: compare the path
      if (r.status === 301) {
        return `301 ${new URL(r.headers.get("location")!, "http://x").pathname}`;
      }
      return String(r.status);
    };
    const wanted = requests.map(([what, host, path]) => `${what}: ${expected(host, path)}`);
    assert.deepEqual(wanted, [
      "known host: 200 other",
      "the default host itself: 200 main",
      "an unknown host: 200 main",
      "an unknown host, a path of the default host: 200 api",
      "the default host's trailing-slash redirect: 301 /api/",
      "no Host header: 200 main",
    ]);
    try {
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, model);
        try {
          const got: string[] = [];
          for (const [what, host, path] of requests) got.push(`${what}: ${await ask(host, path)}`);
          assert.deepEqual(got, wanted, name);
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      for (const b of backends.values()) await b.close();
    }
  },
});

Deno.test("default host: one served over HTTPS only, or not routed at all, is not the default", () => {
  resetContainers();
  const certificates = new Map([["secure.test", {
    name: "secure.test",
    certificate: "/c/secure.test.crt",
    key: "/c/secure.test.key",
    version: "",
  }]]);
  const secure = container("secure", {
    "lbsync.service": "secure",
    "lbsync.host": "secure.test",
    "lbsync.https": "nohttp",
  });
  const other = container("other", { "lbsync.service": "other", "lbsync.host": "other.test" });
  const onlyHttps = buildModel([secure, other], { certificates, defaultHost: "secure.test" });
  assert.equal(onlyHttps.model.httpListeners[0].hasDefaultHost, false);
  assert.deepEqual(onlyHttps.warnings, [
    "default host secure.test: no service routes it over HTTP; unknown hosts get 404",
  ]);
  const answer = routeRequest(onlyHttps.model, { listen: 80, host: "secure.test", path: "/" });
  assert.equal(answer.kind, "not-found", "over HTTP a nohttp host is unknown");
});
