/**
 * The generated upstreams nginx-proxy users rely on, under `--compat nginx-proxy`: each named
 * after its host (`upstream web.np.test`; a path adds `-` and its SHA-1), so the operator's
 * vhost.d snippets can `proxy_pass` to it; a host whose containers are all unreachable keeps
 * its upstream with `server 127.0.0.1 down;` (and answers 503); nginx-proxy's
 * `loadbalance=hash $remote_addr;` label sends one client to one server. Through real nginx
 * (and HAProxy for the balancing, which both templates share).
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { sha1 } from "../../lib/core/util/sha1.ts";
import {
  BALANCERS,
  freePort,
  rawRequest,
  startBalancer,
  startNginx,
} from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

/** A backend on 127.0.0.1 answering its name. */
function named(name: string) {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(name),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

function proxied(
  name: string,
  port: number,
  env: Record<string, string>,
  labels: Record<string, string> = {},
): ContainerInfo {
  return container(name, labels, {
    env,
    networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    ports: [{ port, protocol: "tcp", published: [] }],
  });
}

/** A container nginx-proxy cannot reach (`network_mode: none`): no address. */
function unreachable(name: string, env: Record<string, string>): ContainerInfo {
  return container(name, {}, { env, networks: [], networkMode: "none" });
}

Deno.test({
  name: "compat upstreams: named after the host, a down server when none is reachable",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const web = named("web");
    const listen = freePort();
    const { model } = buildModel([
      proxied("web", web.port, { VIRTUAL_HOST: "web.np.test" }),
      proxied("api", web.port, { VIRTUAL_HOST: "web.np.test", VIRTUAL_PATH: "/api/" }),
      unreachable("down", { VIRTUAL_HOST: "down.np.test" }),
      proxied("mixed-up", web.port, { VIRTUAL_HOST: "mixed.np.test" }),
      unreachable("mixed-down", { VIRTUAL_HOST: "mixed.np.test" }),
    ], { compat: "nginx-proxy", listen, listenAddress: "127.0.0.1" });
    const conf = render(templates.nginx, model);
    assert.match(conf, /^upstream web\.np\.test \{$/m);
    assert.match(conf, new RegExp(`^upstream web\\.np\\.test-${sha1("/api/")} \\{$`, "m"));
    const down = /^upstream down\.np\.test \{\n(?:.*\n)*?\}/m.exec(conf)?.[0] ?? "";
    assert.match(down, /server 127\.0\.0\.1 down;/);
    assert.equal(conf.match(/server 127\.0\.0\.1 down;/g)?.length, 1, "only the host with none");
    const nginx = await startNginx({ http: conf });
    try {
      const get = async (host: string, path = "/") =>
        (await rawRequest(
          listen,
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        )).status;
      assert.equal(await get("web.np.test"), 200);
      assert.equal(await get("web.np.test", "/api/x"), 200);
      assert.equal(await get("down.np.test"), 503);
      assert.equal(await get("mixed.np.test"), 200);
    } finally {
      await nginx.stop();
      await web.close();
    }
  },
});

for (const kind of BALANCERS) {
  Deno.test({
    name: `compat loadbalance=hash $remote_addr; through ${kind}: one client, one server`,
    ignore: missing(kind === "nginx" ? "nginx" : "haproxy"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      resetContainers();
      const backends = ["one", "two", "three", "four"].map(named);
      const listen = freePort();
      const hash = { "com.github.nginx-proxy.nginx-proxy.loadbalance": "hash $remote_addr;" };
      const { model } = buildModel([
        ...backends.slice(0, 2).map((b, i) =>
          proxied(`hashed-${i}`, b.port, { VIRTUAL_HOST: "hashed.np.test" }, hash)
        ),
        ...backends.slice(2).map((b, i) =>
          proxied(`rr-${i}`, b.port, { VIRTUAL_HOST: "rr.np.test" })
        ),
      ], { compat: "nginx-proxy", listen, listenAddress: "127.0.0.1" });
      if (kind === "nginx") {
        assert.match(render(templates.nginx, model), /^\s+hash \$remote_addr;$/m);
      }
      const balancer = await startBalancer(kind, model);
      try {
        const answers = async (host: string) => {
          const seen = new Set<string>();
          for (let i = 0; i < 6; i++) {
            const r = await rawRequest(
              listen,
              `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
            );
            seen.add(`${r.status} ${r.body}`);
          }
          return seen.size;
        };
        assert.equal(await answers("hashed.np.test"), 1);
        assert.equal(await answers("rr.np.test"), 2);
      } finally {
        await balancer.stop();
        await Promise.all(backends.map((b) => b.close()));
      }
    },
  });
}

Deno.test({
  name: "compat: a container on several networks is reached on the first by name, one server line",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const web = named("web3");
    const listen = freePort();
    const twoNetworks = container("web3", {}, {
      env: { VIRTUAL_HOST: "web3.np.test" },
      // the backend listens on 127.0.0.1 only: the second network's address would not answer
      // sorted by name, as every engine input gives them, with Swarm's routing mesh first,
      // which is never taken
      networks: [
        { name: "ingress", ip: "127.0.0.3", ipv6: "" },
        { name: "net3a", ip: "127.0.0.1", ipv6: "" },
        { name: "net3b", ip: "127.0.0.2", ipv6: "" },
      ],
      ports: [{ port: web.port, protocol: "tcp", published: [] }],
    });
    const { model, skipped } = buildModel([twoNetworks], {
      compat: "nginx-proxy",
      listen,
      listenAddress: "127.0.0.1",
    });
    assert.deepEqual(skipped, []);
    const conf = render(templates.nginx, model);
    assert.equal(conf.match(new RegExp(`^\\s*server \\S+:${web.port} `, "gm"))?.length, 1);
    const nginx = await startNginx({ http: conf });
    try {
      const r = await rawRequest(
        listen,
        "GET /port HTTP/1.1\r\nHost: web3.np.test\r\nConnection: close\r\n\r\n",
      );
      assert.equal(`${r.status} ${r.body}`, "200 web3");
    } finally {
      await nginx.stop();
      await web.close();
    }
    // without compat the choice is the operator's: lbsync.network or --network
    assert.match(
      buildModel([{ ...twoNetworks, labels: { "lbsync.enable": "true" } }]).skipped[0].reason,
      /on several networks \(ingress, net3a, net3b\): choose one with lbsync.network/,
    );
  },
});

Deno.test({
  name: "compat --sha1-upstream-names: nginx-proxy's SHA1_UPSTREAM_NAME names, still forwarding",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const web = named("web");
    const listen = freePort();
    const { model } = buildModel([
      proxied("web", web.port, { VIRTUAL_HOST: "web.nginx-proxy.tld" }),
      proxied("api", web.port, { VIRTUAL_HOST: "web.nginx-proxy.tld", VIRTUAL_PATH: "/api/" }),
      proxied("rx", web.port, { VIRTUAL_HOST: "~^rx\\.np\\.test$" }),
    ], { compat: "nginx-proxy", listen, listenAddress: "127.0.0.1", sha1UpstreamNames: true });
    const conf = render(templates.nginx, model);
    // the name nginx-proxy's own test expects for this host
    assert.match(conf, /^upstream 3e837201a6255962094cd6d8f61e22b07d3cc8ed \{$/m);
    assert.match(
      conf,
      new RegExp(`^upstream 3e837201a6255962094cd6d8f61e22b07d3cc8ed-${sha1("/api/")} \\{$`, "m"),
    );
    assert.match(conf, new RegExp(`^upstream ${sha1("~^rx\\.np\\.test$")} \\{$`, "m"));
    const nginx = await startNginx({ http: conf });
    try {
      for (
        const [host, path] of [
          ["web.nginx-proxy.tld", "/port"],
          ["web.nginx-proxy.tld", "/api/x"],
          ["rx.np.test", "/"],
        ]
      ) {
        const r = await rawRequest(
          listen,
          `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        assert.equal(`${r.status} ${r.body}`, "200 web", `${host}${path}`);
      }
    } finally {
      await nginx.stop();
      await web.close();
    }
  },
});

Deno.test("compat upstream names stay unique: a younger service never takes an older one's name", () => {
  resetContainers();
  // victim first (older), then a container whose label names the victim's SHA-1 upstream
  const victim = proxied("victim", 8080, { VIRTUAL_HOST: "victim.test" });
  const thief = container("thief", {
    "lbsync.service": sha1("victim.test"),
    "lbsync.host": "thief.test",
  });
  const { model } = buildModel([victim, thief], { compat: "nginx-proxy", sha1UpstreamNames: true });
  const backends = Object.fromEntries(model.services.map((s) => [s.hosts[0], s.backend]));
  assert.deepEqual(backends, {
    "victim.test": sha1("victim.test"),
    "thief.test": `lbsync_${sha1("victim.test")}`,
  });
});
