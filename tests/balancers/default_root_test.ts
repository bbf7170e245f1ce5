/**
 * `--default-root` (nginx-proxy's `DEFAULT_ROOT`): what a known host answers for a path none
 * of its routes serves: a status, a redirect with nginx's `$host` and `$request_uri`, or `none`
 * (no `location /`, nginx only). nginx-proxy's virtual-path forwarding and custom-conf cases,
 * through real nginx and real HAProxy, with `routeRequest` agreeing.
 */
import assert from "node:assert/strict";
import {
  buildModel,
  ConfigError,
  type ContainerInfo,
  render,
  routeRequest,
  templates,
} from "../../mod.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

function proxied(name: string, port: number, env: Record<string, string>): ContainerInfo {
  return container(name, {}, {
    env,
    networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    ports: [{ port, protocol: "tcp", published: [] }],
  });
}

for (const kind of BALANCERS) {
  Deno.test({
    name: `--default-root through ${kind}: a status, a redirect with $host and $request_uri`,
    ignore: missing(kind === "nginx" ? "nginx" : "haproxy"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const backend = Deno.serve(
        { hostname: "127.0.0.1", port: 0, onListen() {} },
        (request) => new Response(`web1 at ${new URL(request.url).pathname}`),
      );
      const port = backend.addr.port;
      const cases: [string, [string, string, string][]][] = [
        ["418", [
          ["www.np.tld", "/", "418"],
          ["www.np.tld", "/foo/port", "418"],
          ["www.np.tld", "/web1/port", "200 web1 at /port"],
          ["unknown.np.tld", "/", "503"],
        ]],
        ["301 http://$host/web1$request_uri", [
          ["www.np.tld", "/port", "301 http://www.np.tld/web1/port"],
          ["WWW.np.tld.:80", "/port?a=1&b=%20", "301 http://www.np.tld/web1/port?a=1&b=%20"],
          ["www.np.tld", "/web1/port", "200 web1 at /port"],
        ]],
      ];
      try {
        for (const [defaultRoot, requests] of cases) {
          resetContainers();
          const listen = freePort();
          const { model } = buildModel([
            proxied("web1", port, {
              VIRTUAL_HOST: "www.np.tld",
              VIRTUAL_PATH: "/web1/",
              VIRTUAL_DEST: "/",
            }),
          ], { compat: "nginx-proxy", listen, listenAddress: "127.0.0.1", defaultRoot });
          const balancer = await startBalancer(kind, model);
          try {
            for (const [host, path, expected] of requests) {
              const r = await rawRequest(
                listen,
                `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
              );
              const got = r.status === 200
                ? `200 ${r.body}`
                : r.status === 301
                ? `301 ${r.headers.get("location")}`
                : String(r.status);
              assert.equal(got, expected, `${kind} ${defaultRoot}: ${host}${path}`);
              const route = routeRequest(model, { listen, host, path });
              const said = route.kind === "redirect"
                ? `${route.status ?? 301} ${route.location}`
                : route.kind === "not-found"
                ? String(route.status)
                : "200";
              assert.equal(
                said,
                expected.startsWith("200") ? "200" : expected,
                `route ${host}${path}`,
              );
            }
          } finally {
            await balancer.stop();
          }
        }
      } finally {
        await backend.shutdown();
      }
    },
  });
}

Deno.test("--default-root none: no location / in the host's server block (the operator's own)", () => {
  resetContainers();
  const { model } = buildModel([
    proxied("web", 8080, { VIRTUAL_HOST: "web.np.test", VIRTUAL_PATH: "/path" }),
  ], { compat: "nginx-proxy", defaultRoot: "none" });
  const conf = render(templates.nginx, model);
  const server = conf.slice(conf.indexOf("server_name web.np.test;"));
  const block = server.slice(0, server.indexOf("\n}\n"));
  assert.match(block, /^\s*location \/path \{/m);
  assert.doesNotMatch(block, /^\s*location \/ \{/m);
  // HAProxy has no operator's location: such a path answers 404 there
  assert.match(
    render(templates.haproxy, model),
    /backend lbsync:not-found\n\s+mode http\n\s+http-request return status 404 /,
  );
});

Deno.test("--default-root refuses what is not a status, a redirect with its URL, or none", () => {
  const refused = [
    "abc",
    "301",
    "404 http://x.test/",
    "301 http://x.test/;return 200",
    "301 javascript:alert(1)",
    '302 http://x.test/"a',
    "301 http://x.test/ extra",
    "600",
    "101",
    "204",
    "304",
    "301 https://$hostname/",
    "301 https://$host_x/",
    "301 https://x.test/$args",
  ];
  for (const defaultRoot of refused) {
    assert.throws(
      () => buildModel([], { defaultRoot }),
      (e) =>
        e instanceof ConfigError &&
        e.message.startsWith(`Invalid default root ${JSON.stringify(defaultRoot)}: `),
      defaultRoot,
    );
  }
});
