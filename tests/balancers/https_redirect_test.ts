/**
 * The HTTPS redirect by method, through real nginx and real HAProxy, as nginx-proxy's
 * `NON_GET_REDIRECT` tests it: GET and HEAD get 301, OPTIONS, POST, PUT, PATCH and DELETE the
 * status of `--non-get-redirect` (per service `lbsync.nongetredirect`, nginx-proxy's
 * `com.github.nginx-proxy.nginx-proxy.non-get-redirect` label), TRACE 405 on both balancers.
 */
import assert from "node:assert/strict";
import { buildModel } from "../../mod.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { makeCertificate } from "../support/certificates.ts";

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"];

Deno.test({
  name: "HTTPS redirect: non-GET requests get --non-get-redirect's status, per service its label's",
  ignore: missing("nginx", "haproxy", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-redirect-" });
    try {
      await makeCertificate(dir, "np.test");
      resetContainers();
      const listen = freePort();
      const httpsListen = freePort();
      const env = (host: string) => ({ env: { VIRTUAL_HOST: host } });
      const { model } = buildModel([
        container("web1", {}, env("web1.np.test")),
        container("web2", { "com.github.nginx-proxy.nginx-proxy.non-get-redirect": "307" }, {
          ...env("web2.np.test"),
        }),
        container("web3", {
          "lbsync.service": "web3",
          "lbsync.host": "web3.np.test",
          "lbsync.nongetredirect": "303",
        }),
      ], {
        compat: "nginx-proxy",
        listen,
        httpsListen,
        listenAddress: "127.0.0.1",
        nonGetRedirect: 308,
        certificates: new Map([["np.test", {
          name: "np.test",
          certificate: `${dir}/np.test.crt`,
          key: `${dir}/np.test.key`,
          version: "1",
        }]]),
      });
      const expected = (host: string, nonGet: number) =>
        Object.fromEntries(METHODS.map((m) => [
          m,
          m === "TRACE"
            ? "405"
            : `${["GET", "HEAD"].includes(m) ? 301 : nonGet} https://${host}:${httpsListen}/x?y=1`,
        ]));
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, model);
        try {
          for (const [host, nonGet] of [["web1", 308], ["web2", 307], ["web3", 303]] as const) {
            const seen: Record<string, string> = {};
            for (const method of METHODS) {
              const r = await rawRequest(
                listen,
                `${method} /x?y=1 HTTP/1.1\r\nHost: ${host}.np.test\r\nContent-Length: 0\r\n` +
                  "Connection: close\r\n\r\n",
              );
              const location = r.headers.get("location");
              seen[method] = location ? `${r.status} ${location}` : String(r.status);
            }
            assert.deepEqual(seen, expected(`${host}.np.test`, nonGet), `${name} ${host}`);
          }
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
