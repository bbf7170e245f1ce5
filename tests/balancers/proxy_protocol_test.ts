/**
 * `--proxy-protocol` (nginx-proxy's `ENABLE_PROXY_PROTOCOL`), through real nginx and real
 * HAProxy: nginx-proxy's test_proxy_protocol cases (a PROXY header's client address and port
 * reach the backend as X-Forwarded-For and -Port; a request without one is closed unanswered;
 * without the option a PROXY header is a bad request), the header's address deciding
 * `lbsync.access=internal`, HTTPS after the header, and lbsync's own generation read.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, type ModelOptions, render, templates } from "../../mod.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import { confirmGeneration, readGenerationOverHttp } from "../../lib/apply/confirm_reload.ts";
import { BALANCERS, freePort, headEcho, rawRequest, startBalancer } from "../support/balancers.ts";
import { makeCertificate } from "../support/certificates.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing, requireTool, run } from "../support/tools.ts";
import { lbsync } from "../support/cli.ts";

/** nginx-proxy's: client 1.2.3.4:8080 reached the proxy at 4.3.2.1:9090. */
const PROXY_V1 = "PROXY TCP4 1.2.3.4 4.3.2.1 8080 9090\r\n";

/** The same in PROXY v2's binary form. */
const PROXY_V2 = new Uint8Array([
  ...[0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a],
  0x21, // version 2, PROXY
  0x11, // TCP over IPv4
  0x00,
  12,
  ...[1, 2, 3, 4],
  ...[4, 3, 2, 1],
  ...[0x1f, 0x90], // 8080
  ...[0x23, 0x82], // 9090
]);

function local(port: number, labels: Record<string, string>): ContainerInfo {
  return container(labels["lbsync.service"], labels, {
    networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    ports: [{ port, protocol: "tcp", published: [] }],
  });
}

/** The request head the backend got, its headers by lowercased name. */
function headersOf(head: string): Record<string, string> {
  return Object.fromEntries(
    head.split("\r\n").slice(1).map((line) => {
      const colon = line.indexOf(":");
      return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()];
    }),
  );
}

/** Sends `before` (a PROXY header, or nothing) and then `request` on one connection. */
async function sendAfter(
  port: number,
  before: string | Uint8Array,
  request: string,
): Promise<{ status: number; body: string; raw: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), 5000);
  try {
    const head = typeof before === "string" ? new TextEncoder().encode(before) : before;
    await conn.write(new Uint8Array([...head, ...new TextEncoder().encode(request)]));
    const raw = await new Response(conn.readable).text();
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(raw)?.[1] ?? 0);
    return { status, body: raw.slice(raw.indexOf("\r\n\r\n") + 4), raw };
  } catch (error) {
    return { status: 0, body: String(error), raw: "" };
  } finally {
    clearTimeout(timer);
  }
}

const ignore = missing("nginx", "haproxy");

Deno.test({
  name: "proxy protocol: nginx-proxy's test_proxy_protocol cases, on both balancers",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const echo = headEcho();
    const listen = freePort();
    const containers = [
      local(echo.port, { "lbsync.service": "pp", "lbsync.host": "pp.test" }),
      local(echo.port, {
        "lbsync.service": "inner",
        "lbsync.host": "inner.test",
        "lbsync.access": "internal",
      }),
    ];
    const model = (options: ModelOptions) =>
      buildModel(containers, { listen, listenAddress: "127.0.0.1", ...options }).model;
    const get = (host: string, extra = "") =>
      `GET /headers HTTP/1.1\r\nHost: ${host}\r\n${extra}Connection: close\r\n\r\n`;
    try {
      for (const name of BALANCERS) {
        const on = await startBalancer(name, model({ proxyProtocol: true }));
        try {
          for (const [form, header] of [["v1", PROXY_V1], ["v2", PROXY_V2]] as const) {
            const r = await sendAfter(listen, header, get("pp.test"));
            assert.equal(r.status, 200, `${name} ${form}: ${r.raw}`);
            const seen = headersOf(r.body);
            assert.deepEqual(
              [seen["x-forwarded-for"], seen["x-forwarded-port"], seen["x-real-ip"]],
              ["1.2.3.4", "9090", "1.2.3.4"],
              `${name} ${form}`,
            );
          }
          // a client's own X-Forwarded-For is replaced, as without the option
          const spoofed = await sendAfter(
            listen,
            PROXY_V1,
            get("pp.test", "X-Forwarded-For: 9.9.9.9\r\n"),
          );
          assert.equal(headersOf(spoofed.body)["x-forwarded-for"], "1.2.3.4", name);
          // a request without the header: closed, no answer
          const plain = await rawRequest(listen, get("pp.test"));
          assert.equal(plain.status, 0, `${name}: ${plain.body}`);
          // the header's address is the client's: internal hosts answer by it
          const outside = await sendAfter(listen, PROXY_V1, get("inner.test"));
          assert.equal(outside.status, 403, name);
          const inside = await sendAfter(
            listen,
            "PROXY TCP4 10.1.2.3 4.3.2.1 8080 9090\r\n",
            get("inner.test"),
          );
          assert.equal(inside.status, 200, name);
          // lbsync reads the generation with PROXY UNKNOWN (the connection's own address)
          const at = { hostname: "127.0.0.1", port: listen, proxyProtocol: true };
          assert.match(await readGenerationOverHttp(at, 2000), /^[0-9a-f]{16}$/, name);
          await assert.rejects(
            readGenerationOverHttp({ hostname: "127.0.0.1", port: listen }, 2000),
            /./,
            `${name}: without the header there is no answer`,
          );
        } finally {
          await on.stop();
        }
        const off = await startBalancer(name, model({}));
        try {
          // without the option: a PROXY header is a bad request, and headers are generated
          const r = await sendAfter(listen, PROXY_V1, get("pp.test"));
          assert.equal(r.status, 400, `${name}: ${r.raw}`);
          const plain = await rawRequest(listen, get("pp.test", "X-Forwarded-For: 1.2.3.4\r\n"));
          assert.equal(plain.status, 200, name);
          assert.deepEqual(
            [headersOf(plain.body)["x-forwarded-for"], headersOf(plain.body)["x-forwarded-port"]],
            ["127.0.0.1", String(listen)],
            name,
          );
        } finally {
          await off.stop();
        }
      }
    } finally {
      await echo.close();
    }
  },
});

Deno.test({
  name: "proxy protocol: HTTPS after the PROXY header, and a reload confirmed, on both balancers",
  ignore: ignore || missing("openssl", "curl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-proxy-protocol-" });
    const echo = headEcho();
    try {
      await makeCertificate(dir, "pp.test");
      const http = freePort();
      const https = freePort();
      const model = buildModel(
        [local(echo.port, { "lbsync.service": "pp", "lbsync.host": "pp.test" })],
        {
          listen: http,
          httpsListen: https,
          listenAddress: "127.0.0.1",
          proxyProtocol: true,
          certificates: (await readCertificateDirectory(dir)).certificates,
        },
      ).model;
      // curl's --haproxy-protocol sends a v1 header of the connection's own addresses
      const curl = (pp: boolean) =>
        run([
          requireTool("curl"),
          "-sk",
          "--max-time",
          "5",
          ...(pp ? ["--haproxy-protocol"] : []),
          "--resolve",
          `pp.test:${https}:127.0.0.1`,
          "-w",
          "\n%{http_code}",
          `https://pp.test:${https}/tls`,
        ]);
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, model);
        try {
          const through = await curl(true);
          assert.match(through.stdout, /\n200$/, `${name}: ${through.stderr}`);
          const seen = headersOf(through.stdout.replace(/\n200$/, ""));
          assert.deepEqual(
            [seen["x-forwarded-proto"], seen["x-forwarded-port"]],
            ["https", String(https)],
            name,
          );
          assert.match((await curl(false)).stdout, /\n000$/, `${name}: no PROXY header, no TLS`);
          // what lbsync waits for after a reload: the generation of the file it wrote
          const text = render(name === "nginx" ? templates.nginx : templates.haproxy, model);
          const expected = /^# lbsync generation: ([0-9a-f]{16})$/m.exec(text)![1];
          const confirmed = await confirmGeneration(
            expected,
            { hostname: "127.0.0.1", port: http, proxyProtocol: true },
            3000,
          );
          assert.equal(confirmed.kind, "confirmed", name);
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      await echo.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("proxy protocol: the CLI renders it for both balancers, the tcp listeners untouched", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-proxy-protocol-" });
  try {
    await Deno.writeTextFile(
      `${dir}/containers.json`,
      JSON.stringify([{
        Id: "d".repeat(64),
        Names: ["/db"],
        Image: "postgres",
        Created: 1_700_000_000,
        State: "running",
        Labels: {
          "lbsync.service": "db",
          "lbsync.mode": "tcp",
          "lbsync.listen": "5432",
          "lbsync.port": "5432",
        },
        NetworkSettings: { Networks: { app: { IPAddress: "10.0.0.2" } } },
        Ports: [],
      }]),
    );
    const rendered = (target: string, ...extra: string[]) =>
      lbsync([
        "render",
        "--from-file",
        `${dir}/containers.json`,
        ...extra,
        "-t",
        target,
        "-o",
        "-",
      ]);
    const nginx = await rendered("nginx", "--proxy-protocol");
    assert.equal(nginx.code, 0, nginx.stderr);
    const listens = nginx.stdout.match(/^ *listen .*;$/gm) ?? [];
    assert.ok(listens.length > 0);
    for (const line of listens) assert.match(line, / proxy_protocol;$/);
    assert.match(nginx.stdout, /^ {4}real_ip_header proxy_protocol;$/m);
    const haproxy = await rendered("haproxy", "--proxy-protocol");
    assert.match(haproxy.stdout, /^ {4}bind :80 accept-proxy$/m);
    assert.match(haproxy.stdout, /^frontend lbsync:tcp-5432\n {4}bind :5432\n/m);
    const stream = await rendered("nginx-stream", "--proxy-protocol");
    assert.equal(stream.code, 0, stream.stderr);
    assert.match(stream.stdout, /^ {4}listen 5432;$/m);
    const without = await rendered("nginx");
    assert.doesNotMatch(without.stdout, /proxy_protocol/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
