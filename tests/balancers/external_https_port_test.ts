/**
 * nginx-proxy's per-host HTTPS port (its test_external-ports cases under `--compat
 * nginx-proxy`): `EXTERNAL_HTTPS_PORT` and `external_https_port` of `VIRTUAL_HOST_MULTIPORTS`
 * serve the host over HTTPS on that port only, and its HTTP redirect names the port. Through
 * real nginx and real HAProxy with curl; `lbsync route` gives every request the same answer.
 */
import assert from "node:assert/strict";
import { buildModel, explainRows, type Model, routeRequest } from "../../mod.ts";
import { routeQuery } from "../../lib/settings/cli_args.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import { backend, BALANCERS, freePort, startBalancer } from "../support/balancers.ts";
import { makeCertificate } from "../support/certificates.ts";
import { container, containerSummaries, resetContainers } from "../support/fixtures.ts";
import { lbsync } from "../support/cli.ts";
import { curl } from "../support/curl.ts";
import { missing } from "../support/tools.ts";

const D = "nginx-proxy.test";

/** What `routeRequest` says of `url`, in curl's terms: `200 BODY`, `301 LOCATION`, status. */
function routed(model: Model, url: string): string {
  const answer = routeRequest(model, routeQuery(url) as Parameters<typeof routeRequest>[1]);
  if (answer.kind === "routed") return `200 ${answer.service.name}`;
  if (answer.kind === "redirect") return `${answer.status ?? 301} ${answer.location}`;
  return String(answer.kind === "not-found" ? answer.status : 400);
}

Deno.test("lbsync.httpslisten of a host on another HTTP port: a warning says it has no effect", () => {
  resetContainers();
  const certificate = {
    name: "c.test",
    certificate: "/c/c.test.crt",
    key: "/c/c.test.key",
    version: "",
  };
  const { model, warnings } = buildModel([
    container("c", {
      "lbsync.service": "c",
      "lbsync.host": "c.test",
      "lbsync.listen": "8080",
      "lbsync.httpslisten": "8443",
    }),
  ], { certificates: new Map([["c.test", certificate]]) });
  assert.deepEqual(warnings, [
    "service c: lbsync.httpslisten=8443 has no effect: HTTPS serves the hosts of port 80 (--listen) only, and its hosts are on port 8080",
  ]);
  assert.equal(model.httpListeners.find((l) => l.port === 8080)?.httpsListener, undefined);
});

Deno.test("compat: EXTERNAL_HTTPS_PORT and external_https_port become lbsync.httpslisten", () => {
  resetContainers();
  const { model, skipped } = buildModel([
    container("a", {}, { env: { VIRTUAL_HOST: "a.test", EXTERNAL_HTTPS_PORT: "8443" } }),
    container("b", {}, {
      env: { VIRTUAL_HOST_MULTIPORTS: "b.test:\n  external_https_port: 9443\n" },
    }),
    container("c", {}, { env: { VIRTUAL_HOST: "c.test", EXTERNAL_HTTPS_PORT: "84x" } }),
  ], { compat: "nginx-proxy" });
  assert.deepEqual(model.services.map((s) => [s.name, s.httpsListen]), [
    ["a.test", 8443],
    ["b.test", 9443],
  ]);
  assert.match(skipped.find((s) => s.name === "c")?.reason ?? "", /httpslisten="84x"/);
});

Deno.test({
  name:
    "external HTTPS ports: nginx and HAProxy serve each host on its own HTTPS port and redirect there, as route says",
  ignore: missing("nginx", "haproxy", "openssl", "curl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const names = ["web2", "web4", "web5", "web5-sub"];
    const backends = new Map(names.map((n) => [n, backend(n)]));
    const port = (n: string) => [{ port: backends.get(n)!.port, protocol: "tcp", published: [] }];
    const net = { networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }] };
    const [http, https, own] = [freePort(), freePort(), freePort()];
    const dir = await Deno.makeTempDir({ prefix: "lbsync-external-https-" });
    try {
      await makeCertificate(dir, D);
      await makeCertificate(dir, "default");
      const containers = [
        // test_virtual-host.yml's web2 (a custom HTTPS port) and web4 (the default ones)
        container("web2", {}, {
          ...net,
          ports: port("web2"),
          env: { VIRTUAL_HOST: `web2.${D}`, EXTERNAL_HTTPS_PORT: String(own) },
        }),
        container("web4", {}, { ...net, ports: port("web4"), env: { VIRTUAL_HOST: `web4.${D}` } }),
        // test_virtual-host-multiport.yml's web2: the port of the YAML, for its every path
        container("web5", {}, {
          ...net,
          ports: [...port("web5"), ...port("web5-sub")],
          env: {
            VIRTUAL_HOST_MULTIPORTS: `web5.${D}:\n  external_https_port: ${own}\n` +
              `  "/":\n    port: ${backends.get("web5")!.port}\n` +
              `  "/subpath":\n    dest: "/"\n    port: ${backends.get("web5-sub")!.port}\n`,
          },
        }),
      ];
      const { model, skipped } = buildModel(containers, {
        compat: "nginx-proxy",
        listen: http,
        httpsListen: https,
        listenAddress: "127.0.0.1",
        certificates: (await readCertificateDirectory(dir)).certificates,
      });
      assert.deepEqual(skipped, []);
      const reasons = explainRows({ model, skipped, warnings: [] }).map((r) => r.reason);
      assert.ok(
        reasons.some((r) => r.includes(`https web2.${D} on port ${own} (certificate ${D}`)),
        reasons.join("\n"),
      );
      assert.ok(reasons.some((r) => r.includes(`https web4.${D} (certificate ${D}`)));
      const service = (host: string, path = "/") =>
        model.services.find((s) => s.hosts[0] === host && s.path === path)!.name;
      const want: Record<string, string> = {
        [`http://web2.${D}:${http}/port`]: `301 https://web2.${D}:${own}/port`,
        [`https://web2.${D}:${own}/port`]: `200 ${service(`web2.${D}`)}`,
        [`https://web2.${D}:${https}/port`]: "503",
        [`http://web4.${D}:${http}/port`]: `301 https://web4.${D}:${https}/port`,
        [`https://web4.${D}:${https}/port`]: `200 ${service(`web4.${D}`)}`,
        [`https://web4.${D}:${own}/port`]: "503",
        [`http://web5.${D}:${http}/subpath/port`]: `301 https://web5.${D}:${own}/subpath/port`,
        [`https://web5.${D}:${own}/port`]: `200 ${service(`web5.${D}`)}`,
        [`https://web5.${D}:${own}/subpath/port`]: `200 ${service(`web5.${D}`, "/subpath")}`,
        [`https://unknown.${D}:${own}/`]: "503",
        [`http://unknown.${D}:${http}/`]: "503",
      };
      const fromRoute = Object.fromEntries(Object.keys(want).map((u) => [u, routed(model, u)]));
      assert.deepEqual(fromRoute, want, "lbsync route");
      // the answer's body is the backend's name; the service of a route is the backend's
      const bodyOf = (url: string) => want[url].split(" ")[1];
      const backendOf = new Map(
        [...backends.keys()].map((
          n,
        ) => [
          model.services.find((s) => s.servers.some((v) => v.port === backends.get(n)!.port))!.name,
          n,
        ]),
      );
      for (const kind of BALANCERS) {
        const balancer = await startBalancer(kind, model);
        try {
          const got: Record<string, string> = {};
          for (const url of Object.keys(want)) {
            const r = await curl(url, Number(new URL(url).port));
            got[url] = r.status === "200"
              ? `200 ${r.body === backendOf.get(bodyOf(url)) ? bodyOf(url) : `(body ${r.body})`}`
              : r.location
              ? `${r.status} ${r.location}`
              : r.status;
          }
          assert.deepEqual(got, want, kind);
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      await Promise.all([...backends.values()].map((b) => b.close()));
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "lbsync route https://HOST:PORT/ routes over HTTPS on that port; http:// answers the redirect",
  ignore: missing("openssl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-route-https-" });
    try {
      await makeCertificate(dir, "a.test");
      const source = `${dir}/containers.json`;
      await Deno.writeTextFile(
        source,
        containerSummaries([{
          name: "a-1",
          ip: "10.0.0.2",
          labels: { "lbsync.service": "a", "lbsync.host": "a.test", "lbsync.port": "8080" },
        }, {
          name: "b-1",
          ip: "10.0.0.3",
          labels: {
            "lbsync.service": "b",
            "lbsync.host": "b.test",
            "lbsync.port": "8080",
            "lbsync.cert": "a.test",
            "lbsync.httpslisten": "8443",
          },
        }]),
      );
      const route = (url: string) =>
        lbsync(["route", url, "--from-file", source, "--cert-dir", dir, "-q"]);
      const answers = await Promise.all(
        ["https://b.test:8443/x", "https://b.test/x", "https://a.test/x", "http://b.test/x?y"]
          .map(route),
      );
      assert.deepEqual(answers.map((a) => [a.code, a.stdout.split("\n")[0]]), [
        [0, "service  b"],
        [0, "404 not found: no route for host b.test path /x on port 443"],
        [0, "service  a"],
        [0, "301 moved permanently: to https://b.test:8443/x?y"],
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
