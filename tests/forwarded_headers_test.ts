/**
 * What a backend sees of the client, through real nginx and real HAProxy with the built-in
 * templates: the headers nginx-proxy sends (Host with its port, X-Forwarded-Host, -Port,
 * -Proto, -Ssl, -For, X-Real-IP, X-Original-URI, no Proxy header against httpoxy), the same
 * from both balancers, the client's own values replaced.
 */
import assert from "node:assert/strict";
import { buildModel } from "../mod.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "./support/balancers.ts";
import { container, resetContainers } from "./support/fixtures.ts";
import { missing } from "./support/tools.ts";

const SHOWN = [
  "host",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-proto",
  "x-forwarded-ssl",
  "x-forwarded-for",
  "x-real-ip",
  "x-original-uri",
  "proxy",
];

Deno.test({
  name: "forwarded headers: nginx and HAProxy send a backend the same view of the client",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const echo = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const seen = Object.fromEntries(SHOWN.map((h) => [h, req.headers.get(h) ?? "(none)"]));
      return Response.json(seen);
    });
    const listen = freePort();
    const model = buildModel([
      container("echo", { "lbsync.service": "echo", "lbsync.host": "echo.test" }, {
        networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
        ports: [{ port: echo.addr.port, protocol: "tcp", published: [] }],
      }),
    ], { listen, listenAddress: "127.0.0.1" }).model;
    const request = [
      "GET /a/../b?x=1 HTTP/1.1",
      `Host: echo.test:${listen}`,
      "X-Forwarded-Host: spoofed.example",
      "X-Forwarded-Proto: https",
      "X-Forwarded-Port: 1",
      "X-Forwarded-Ssl: on",
      "X-Original-URI: /spoofed",
      "X-Real-IP: 10.9.9.9",
      "Proxy: http://attacker.example:3128",
      "Connection: close",
      "",
      "",
    ].join("\r\n");
    const expected = {
      "host": `echo.test:${listen}`,
      "x-forwarded-host": `echo.test:${listen}`,
      "x-forwarded-port": String(listen),
      "x-forwarded-proto": "http",
      "x-forwarded-ssl": "off",
      "x-forwarded-for": "127.0.0.1",
      "x-real-ip": "127.0.0.1",
      "x-original-uri": "/a/../b?x=1",
      "proxy": "(none)",
    };
    try {
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, model);
        try {
          const answer = await rawRequest(listen, request);
          assert.equal(answer.status, 200, `${name}: ${answer.body}`);
          assert.deepEqual(JSON.parse(answer.body), expected, name);
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      await echo.shutdown();
    }
  },
});
