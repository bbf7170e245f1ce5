/**
 * IPv6, as nginx-proxy's `ENABLE_IPV6` and `PREFER_IPV6_NETWORK` have it: `--enable-ipv6`
 * listens on every IPv6 address too (nginx's `[::]:PORT`, HAProxy's dual-stack bind), with the
 * same answers as over IPv4; `--prefer-ipv6` reaches a container of a dual-stack network by its
 * IPv6 address, its IPv4 one otherwise. Through real nginx and real HAProxy on ::1.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

/** A backend answering its name, on one address. */
function named(name: string, hostname: string) {
  const server = Deno.serve({ hostname, port: 0, onListen() {} }, () => new Response(name));
  return { port: server.addr.port, close: () => server.shutdown() };
}

function dualStack(name: string, port: number, ipv4: string, ipv6: string): ContainerInfo {
  return container(name, {}, {
    env: { VIRTUAL_HOST: `${name}.np.test` },
    networks: [{ name: "dualstack", ip: ipv4, ipv6 }],
    ports: [{ port, protocol: "tcp", published: [] }],
  });
}

for (const kind of BALANCERS) {
  Deno.test({
    name: `--enable-ipv6 and --prefer-ipv6 through ${kind}: the same answers on ::1 and 127.0.0.1`,
    ignore: missing(kind === "nginx" ? "nginx" : "haproxy"),
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      resetContainers();
      // answers on ::1 only: reached only by its IPv6 address
      const six = named("six", "::1");
      // answers on 127.0.0.1 only
      const four = named("four", "127.0.0.1");
      const listen = freePort();
      const { model } = buildModel([
        dualStack("six", six.port, "127.0.0.9", "::1"),
        dualStack("four", four.port, "127.0.0.1", ""),
      ], { compat: "nginx-proxy", listen, enableIpv6: true, preferIpv6: true });
      if (kind === "nginx") {
        const conf = render(templates.nginx, model);
        assert.match(conf, new RegExp(`^\\s+listen \\[::\\]:${listen}(?: default_server)?;$`, "m"));
        assert.match(conf, new RegExp(`server \\[::1\\]:${six.port} `));
      } else {
        assert.match(render(templates.haproxy, model), new RegExp(`bind :::${listen} v4v6`));
      }
      const balancer = await startBalancer(kind, model);
      try {
        for (const address of ["::1", "127.0.0.1"]) {
          const get = async (host: string) => {
            const r = await rawRequest(
              listen,
              `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
              5000,
              address,
            );
            return `${r.status} ${r.status === 200 ? r.body : ""}`.trim();
          };
          assert.equal(await get("six.np.test"), "200 six", address);
          assert.equal(await get("four.np.test"), "200 four", address);
          assert.equal(await get("unknown.np.test"), "503", address);
        }
      } finally {
        await balancer.stop();
        await Promise.all([six.close(), four.close()]);
      }
    },
  });
}

Deno.test("without --prefer-ipv6 a dual-stack container is reached by its IPv4 address; without --enable-ipv6 no [::]", () => {
  resetContainers();
  const { model } = buildModel([dualStack("web", 8080, "172.16.20.2", "fd00:cafe::2")], {
    compat: "nginx-proxy",
  });
  assert.equal(model.services[0].servers[0].endpoint, "172.16.20.2:8080");
  const conf = render(templates.nginx, model);
  assert.doesNotMatch(conf, /listen \[::\]/);
  const preferred = buildModel([dualStack("web", 8080, "172.16.20.2", "fd00:cafe::2")], {
    compat: "nginx-proxy",
    preferIpv6: true,
  }).model;
  assert.equal(preferred.services[0].servers[0].endpoint, "[fd00:cafe::2]:8080");
});
