/**
 * What a backend sees of the client, through real nginx and real HAProxy with the built-in
 * templates: the headers nginx-proxy sends (Host with its port, X-Forwarded-Host, -Port,
 * -Proto, -Ssl, -For, X-Real-IP, X-Original-URI, no Proxy header against httpoxy), the same
 * from both balancers: the client's own values replaced, or with --trust-downstream-proxy
 * (nginx-proxy's TRUST_DOWNSTREAM_PROXY) the X-Forwarded-* it sends passed on.
 */
import assert from "node:assert/strict";
import { buildModel } from "../../mod.ts";
import { BALANCERS, freePort, rawRequest, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

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

/** What the echo backend sees through each balancer for `request`, with these model options. */
async function seenThrough(
  request: (listen: number) => string,
  options: { trustDownstreamProxy?: boolean } = {},
): Promise<{ listen: number; seen: Map<string, Record<string, string>> }> {
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
  ], { listen, listenAddress: "127.0.0.1", ...options }).model;
  const seen = new Map<string, Record<string, string>>();
  try {
    for (const name of BALANCERS) {
      const balancer = await startBalancer(name, model);
      try {
        const answer = await rawRequest(listen, request(listen));
        assert.equal(answer.status, 200, `${name}: ${answer.body}`);
        seen.set(name, JSON.parse(answer.body));
      } finally {
        await balancer.stop();
      }
    }
  } finally {
    await echo.shutdown();
  }
  return { listen, seen };
}

/** A request from a client that sends its own X-Forwarded-* (and other headers to replace). */
const SPOOFING = (listen: number) =>
  [
    "GET /a/../b?x=1 HTTP/1.1",
    `Host: echo.test:${listen}`,
    "X-Forwarded-Host: spoofed.example",
    "X-Forwarded-Proto: https",
    "X-Forwarded-Port: 1",
    "X-Forwarded-Ssl: on",
    "X-Forwarded-For: 10.1.1.1",
    "X-Original-URI: /spoofed",
    "X-Real-IP: 10.9.9.9",
    "Proxy: http://attacker.example:3128",
    "Connection: close",
    "",
    "",
  ].join("\r\n");

/** What the balancer itself knows of that client. */
const OWN_VIEW = (listen: number) => ({
  "host": `echo.test:${listen}`,
  "x-forwarded-host": `echo.test:${listen}`,
  "x-forwarded-port": String(listen),
  "x-forwarded-proto": "http",
  "x-forwarded-ssl": "off",
  "x-forwarded-for": "127.0.0.1",
  "x-real-ip": "127.0.0.1",
  "x-original-uri": "/a/../b?x=1",
  "proxy": "(none)",
});

Deno.test({
  name:
    "forwarded headers: nginx and HAProxy send a backend the same view of the client, its own replaced",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const { listen, seen } = await seenThrough(SPOOFING);
    for (const name of BALANCERS) assert.deepEqual(seen.get(name), OWN_VIEW(listen), name);
  },
});

Deno.test({
  name: "forwarded headers, --trust-downstream-proxy: the client's X-Forwarded-* passed on by both",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const trusted = await seenThrough(SPOOFING, { trustDownstreamProxy: true });
    for (const name of BALANCERS) {
      assert.deepEqual(trusted.seen.get(name), {
        ...OWN_VIEW(trusted.listen),
        "x-forwarded-host": "spoofed.example",
        "x-forwarded-port": "1",
        "x-forwarded-proto": "https",
        "x-forwarded-ssl": "on",
        "x-forwarded-for": "10.1.1.1, 127.0.0.1",
      }, name);
    }
    // a client that sends none gets the balancer's own
    const plain = (listen: number) =>
      `GET /a/../b?x=1 HTTP/1.1\r\nHost: echo.test:${listen}\r\nConnection: close\r\n\r\n`;
    const own = await seenThrough(plain, { trustDownstreamProxy: true });
    for (const name of BALANCERS) assert.deepEqual(own.seen.get(name), OWN_VIEW(own.listen), name);
  },
});
