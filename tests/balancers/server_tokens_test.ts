/**
 * nginx-proxy's `SERVER_TOKENS` (per container; `lbsync.servertokens`): `off` makes nginx's
 * `Server` header `nginx`, without the version, for that host; under `--compat nginx-proxy` the
 * default server (unknown hosts, 503) never shows the version. Through real nginx.
 */
import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../mod.ts";
import { freePort, rawRequest, startNginx } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

Deno.test({
  name: "SERVER_TOKENS=off: nginx's Server header without its version, for that host",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const backend = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("ok", { headers: { server: "the-backend" } }),
    );
    const on = (name: string, env: Record<string, string>) =>
      container(name, {}, {
        env,
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port: backend.addr.port, protocol: "tcp", published: [] }],
      });
    const listen = freePort();
    const { model } = buildModel([
      on("web", { VIRTUAL_HOST: "web.np.test" }),
      on("quiet", { VIRTUAL_HOST: "quiet.np.test", SERVER_TOKENS: "off" }),
    ], { compat: "nginx-proxy", listen, listenAddress: "127.0.0.1" });
    const nginx = await startNginx({ http: render(templates.nginx, model) });
    try {
      const server = async (host: string) => {
        const r = await rawRequest(
          listen,
          `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
        );
        return `${r.status} ${r.headers.get("server")}`;
      };
      assert.match(await server("web.np.test"), /^200 nginx\/\d/);
      assert.equal(await server("quiet.np.test"), "200 nginx");
      assert.equal(await server("unknown.np.test"), "503 nginx");
    } finally {
      await nginx.stop();
      await backend.shutdown();
    }
  },
});
