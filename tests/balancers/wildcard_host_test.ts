/**
 * Wildcard hosts as nginx reads them, in both balancers and `routeRequest`: `*.example.com`
 * (any name that ends so), `www.example.*` (any name that starts so, nginx's wildcard at the
 * end), and regexes; an exact name first, then the longest wildcard at the start, then the
 * longest at the end, then regexes in order; an address as the host (`[fd00::1]` for IPv6).
 * The cases of nginx-proxy's wildcard-host and raw-ip-vhost tests,
 * under `--compat nginx-proxy`, through real nginx and real HAProxy.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, routeRequest } from "../../mod.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

/** A backend on 127.0.0.1 answering its name. */
function named(name: string) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(name),
  );
  return { name, port: server.addr.port, close: () => server.shutdown() };
}

/** Host, and the container that answers it (`""`: none, 503). */
const CASES: [string, string][] = [
  ["f00.np.test", "web1"],
  ["bar.np.test", "web1"],
  ["test.np.f00", "web2"],
  ["test.np.bar", "web2"],
  ["test.np.bar.baz", "web2"],
  ["exact.np.test", "exact"],
  ["www.test.np.test", "longer"],
  ["test.np.test", "web1"],
  ["test.np.example.longer", "suffix-longer"],
  ["web3.123.np.regexp", "web3"],
  ["WEB3.ABC.np.regexp", "web3"],
  ["web3.123-abc.np.regexp", "web3"],
  ["web3.whatever.np.regexp-to-infinity-and-beyond", "web3"],
  ["web4.123.np.regexp", "web4"],
  ["web4.whatever.np.regexp-to-infinity-and-beyond", ""],
  ["unexpected.np.tld", ""],
  ["test.np", ""],
  ["172.20.0.1", "raw-ip"],
  ["[fd00::1]", "raw-ip6"],
  ["[FD00::1]:8080", "raw-ip6"],
];

for (const kind of BALANCERS) {
  Deno.test({
    name: `wildcard hosts through ${kind}: *.name, name.*, regexes in nginx's order`,
    ignore: missing(kind === "nginx" ? "nginx" : "haproxy"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      resetContainers();
      const hosts: Record<string, string> = {
        web1: "*.np.test",
        web2: "test.np.*",
        exact: "exact.np.test",
        longer: "*.test.np.test",
        "suffix-longer": "test.np.example.*",
        web3: "~^web3\\..*\\.np\\.regexp",
        web4: "~^web4\\..*\\.np\\.regexp$",
        "raw-ip": "172.20.0.1",
        "raw-ip6": "[fd00::1]",
      };
      const backends = Object.keys(hosts).map(named);
      const containers: ContainerInfo[] = backends.map((b) =>
        container(b.name, {}, {
          env: { VIRTUAL_HOST: hosts[b.name] },
          networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
          ports: [{ port: b.port, protocol: "tcp", published: [] }],
        })
      );
      const listen = freePort();
      const { model, skipped } = buildModel(containers, {
        compat: "nginx-proxy",
        listen,
        listenAddress: "127.0.0.1",
      });
      assert.deepEqual(skipped, []);
      const balancer = await startBalancer(kind, model);
      try {
        for (const [host, expected] of CASES) {
          const r = await rawRequest(
            listen,
            `GET /port HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
          );
          assert.equal(
            `${r.status} ${r.status === 200 ? r.body : ""}`.trim(),
            expected ? `200 ${expected}` : "503",
            `${kind} ${host}`,
          );
          const route = routeRequest(model, { listen, host, path: "/port" });
          const answered = route.kind === "routed" ? route.service.servers[0]?.name : "";
          assert.equal(answered, expected, `route ${host}`);
        }
      } finally {
        await balancer.stop();
        await Promise.all(backends.map((b) => b.close()));
      }
    },
  });
}

Deno.test("a wildcard at the end is refused where it cannot be: twice, in the middle, as a certificate", () => {
  resetContainers();
  const bad = ["*.np.*", "a.*.test", "*", "a.b*"];
  for (const host of bad) {
    const { skipped } = buildModel([
      container("w", { "lbsync.host": host, "lbsync.enable": "true" }),
    ]);
    assert.match(
      skipped[0]?.reason ?? "",
      /not an RFC 1123 host name \(optionally \*\.name or name\.\*\) or an \[IPv6\] literal/,
      host,
    );
  }
  const { skipped } = buildModel([
    container("c", { "lbsync.cert": "a.test.*", "lbsync.enable": "true" }),
  ]);
  assert.match(skipped[0]?.reason ?? "", /expected one host name/);
});

Deno.test("a host named like a regex's HAProxy key cannot take the regex's requests", () => {
  resetContainers();
  const model = buildModel([
    container("rx", { "lbsync.enable": "true", "lbsync.host": "~^app[0-9]+\\.example\\.com$" }),
    container("thief", { "lbsync.enable": "true", "lbsync.host": "lbsync-regex-0,lbsync-regex-1" }),
  ]).model;
  const keys = model.httpListeners[0].virtualHosts.map((v) => v.key);
  assert.equal(new Set(keys).size, keys.length);
  assert.ok(keys.some((k) => k.startsWith("lbsync_regex_")));
  // a regex that ends in .* is a regex, not a wildcard at the end
  resetContainers();
  const regex =
    buildModel([container("r", { "lbsync.enable": "true", "lbsync.host": "~^app\\..*" })])
      .model.httpListeners[0].virtualHosts[0];
  assert.deepEqual([regex.regex, regex.suffixWildcard, regex.matchKind], [true, false, "reg"]);
});
