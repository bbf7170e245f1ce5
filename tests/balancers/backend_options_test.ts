/**
 * How a service talks to its servers, through real nginx and real HAProxy: TLS to the
 * servers (`lbsync.proto=https`, nginx-proxy's `VIRTUAL_PROTO=https`), client affinity
 * (`lbsync.balance=source`), keep-alive off; and nginx-proxy's container labels
 * (`loadbalance`, `keepalive`) read or refused with a reason.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import {
  answerCounts,
  answerSet,
  backend,
  BALANCERS,
  freePort,
  headEcho,
  rawRequest,
  startBalancer,
  upgradeHead,
} from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing, requireTool, run } from "../support/tools.ts";

const ignore = missing("nginx", "haproxy", "openssl");

/** The head of a WebSocket handshake, as a browser sends it. */
const WEBSOCKET = [
  "Upgrade: websocket",
  "Connection: Upgrade",
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
  "Sec-WebSocket-Version: 13",
  "",
].join("\r\n");

function local(name: string, port: number, labels: Record<string, string>): ContainerInfo {
  return container(name, labels, {
    networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    ports: [{ port, protocol: "tcp", published: [] }],
  });
}

/** What `count` requests for `host` got from nginx and from HAProxy, each as a set. */
async function throughBoth(containers: ContainerInfo[], host: string, count: number) {
  const listen = freePort();
  const { model, warnings } = buildModel(containers, { listen, listenAddress: "127.0.0.1" });
  const seen: Record<string, string[]> = {};
  for (const name of BALANCERS) {
    const balancer = await startBalancer(name, model);
    try {
      seen[name] = [...await answerSet(listen, "/", host, count)].sort();
    } finally {
      await balancer.stop();
    }
  }
  return { seen, warnings };
}

/**
 * How many TCP connections real nginx opens to one server for `count` sequential requests: a
 * backend that notes each request's client port (one port, one connection).
 */
async function upstreamConnections(labels: Record<string, string>, count: number) {
  const ports = new Set<number>();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (_req, info) => {
      ports.add((info.remoteAddr as Deno.NetAddr).port);
      return new Response("counted");
    },
  );
  const listen = freePort();
  const { model } = buildModel(
    [local("counted", server.addr.port, {
      "lbsync.service": "ka",
      "lbsync.host": "ka.test",
      ...labels,
    })],
    { listen, listenAddress: "127.0.0.1" },
  );
  const nginx = await startBalancer("nginx", model);
  try {
    const answers = await answerCounts(listen, "/", "ka.test", count);
    return { answers: Object.fromEntries(answers), connections: ports.size };
  } finally {
    await nginx.stop();
    await server.shutdown();
  }
}

Deno.test({
  name: "backends: keep-alive on reuses nginx's upstream connections, disabled opens one a request",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    // one worker (the tests' nginx), one server, requests one after another: one connection
    assert.deepEqual(await upstreamConnections({}, 10), {
      answers: { counted: 10 },
      connections: 1,
    });
    assert.deepEqual(await upstreamConnections({ "lbsync.keepalive": "disabled" }, 10), {
      answers: { counted: 10 },
      connections: 10,
    });
  },
});

Deno.test({
  name:
    "backends: keep-alive disabled tells the servers Connection: close, as nginx-proxy's, on both balancers",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const echo = headEcho();
    const listen = freePort();
    const { model } = buildModel(
      [
        ["off.test", "disabled"],
        ["auto.test", "auto"],
        ["ten.test", "10"],
      ].map(([host, keepalive]) =>
        local(host.split(".")[0], echo.port, {
          "lbsync.service": host.split(".")[0],
          "lbsync.host": host,
          "lbsync.keepalive": keepalive,
        })
      ),
      { listen, listenAddress: "127.0.0.1" },
    );
    // what the server is told of the connection, and that the other proxy headers still go
    const told = (head: string) =>
      `${/^connection: *(.*)$/im.exec(head)?.[1] ?? "(none)"} real-ip=${
        /^x-real-ip: *(.*)$/im.exec(head)?.[1]
      }`;
    const seen = async (host: string) => {
      const r = await rawRequest(
        listen,
        `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(r.status, 200, r.body);
      return told(r.body);
    };
    try {
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, model);
        try {
          assert.deepEqual(
            [await seen("off.test"), await seen("auto.test"), await seen("ten.test")],
            ["close real-ip=127.0.0.1", "(none) real-ip=127.0.0.1", "(none) real-ip=127.0.0.1"],
            name,
          );
          // an upgrade is still an upgrade
          const upgraded = await upgradeHead(
            listen,
            `GET / HTTP/1.1\r\nHost: off.test\r\n${WEBSOCKET}\r\n`,
          );
          assert.match(told(upgraded), /^upgrade /i, `${name}: upgrade`);
        } finally {
          await balancer.stop();
        }
      }
    } finally {
      await echo.close();
    }
  },
});

Deno.test({
  name:
    "backends: TLS to the servers, affinity by client address, keep-alive off still answers, on both balancers",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-backend-tls-" });
    const made = await run([
      requireTool("openssl"),
      ..."req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=backend".split(" "),
      ...["-keyout", `${dir}/key.pem`, "-out", `${dir}/cert.pem`],
    ]);
    assert.equal(made.code, 0, made.stderr);
    const tls = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      cert: await Deno.readTextFile(`${dir}/cert.pem`),
      key: await Deno.readTextFile(`${dir}/key.pem`),
      onListen() {},
    }, (req) => new Response(`tls ${new URL(req.url).protocol}`));
    const one = backend("one");
    const two = backend("two");
    try {
      const secure = await throughBoth(
        [local("secure", tls.addr.port, {
          "lbsync.service": "secure",
          "lbsync.host": "secure.test",
          "lbsync.proto": "https",
        })],
        "secure.test",
        3,
      );
      assert.deepEqual(secure.seen, { nginx: ["tls https:"], HAProxy: ["tls https:"] });

      const pair = (labels: Record<string, string>) => [
        local("one", one.port, { "lbsync.service": "pair", "lbsync.host": "pair.test", ...labels }),
        local("two", two.port, { "lbsync.service": "pair", "lbsync.host": "pair.test", ...labels }),
      ];
      const spread = await throughBoth(pair({}), "pair.test", 8);
      assert.deepEqual(spread.seen, { nginx: ["one", "two"], HAProxy: ["one", "two"] });
      const sticky = await throughBoth(pair({ "lbsync.balance": "source" }), "pair.test", 12);
      assert.equal(sticky.seen.nginx.length, 1, "one client address, one server");
      assert.equal(sticky.seen.HAProxy.length, 1);
      const noKeepalive = await throughBoth(
        pair({ "lbsync.keepalive": "disabled", "lbsync.balance": "leastconn" }),
        "pair.test",
        8,
      );
      assert.deepEqual(noKeepalive.seen, { nginx: ["one", "two"], HAProxy: ["one", "two"] });
    } finally {
      await tls.shutdown();
      await one.close();
      await two.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("backends: the rendered directives, and nginx-proxy's labels read or refused", () => {
  resetContainers();
  const { model, skipped, warnings } = buildModel([
    container("lc", {}, {
      env: { VIRTUAL_HOST: "lc.test", VIRTUAL_PORT: "80" },
      labels: {
        "com.github.nginx-proxy.nginx-proxy.loadbalance": "least_conn;",
        "com.github.nginx-proxy.nginx-proxy.keepalive": "disabled",
      },
    }),
    container("tls", {}, { env: { VIRTUAL_HOST: "tls.test", VIRTUAL_PROTO: "https" } }),
    container("grpc", {}, { env: { VIRTUAL_HOST: "grpc.test", VIRTUAL_PROTO: "grpc" } }),
    container("uri", {}, {
      env: { VIRTUAL_HOST: "uri.test" },
      labels: { "com.github.nginx-proxy.nginx-proxy.loadbalance": "hash $request_uri;" },
    }),
    container("web", { "lbsync.service": "web", "lbsync.balance": "source" }),
    container("web-b", {
      "lbsync.service": "web",
      "lbsync.balance": "source",
      "lbsync.backup": "true",
    }),
  ], { compat: "nginx-proxy" });
  const svc = (name: string) => model.services.find((s) => s.name === name)!;
  assert.deepEqual(
    [svc("lc.test").balance, svc("lc.test").nginxBalance, svc("lc.test").keepalive],
    ["leastconn", "least_conn", 0],
  );
  assert.equal(svc("tls.test").scheme, "https");
  assert.equal(svc("web").balance, "roundrobin");
  assert.deepEqual(warnings, [
    "service web: balance source cannot be used with backup servers; using roundrobin",
  ]);
  assert.deepEqual(skipped.map((s) => `${s.name}: ${s.reason}`), [
    'grpc: group vh0: label lbsync.vh0.proto="grpc": not one of http, https',
    'uri: group vh0: label lbsync.vh0.balance="hash $request_uri": not one of roundrobin, leastconn, source, random',
  ]);
  const nginx = render(templates.nginx, model);
  assert.match(nginx, /upstream lc\.test \{\n {4}least_conn;\n/);
  assert.doesNotMatch(
    nginx.slice(nginx.indexOf("upstream lc.test")).split("}")[0],
    /keepalive/,
  );
  assert.match(nginx, /proxy_pass https:\/\/tls\.test;/);
  const haproxy = render(templates.haproxy, model);
  assert.match(
    haproxy,
    /backend lc\.test\n {4}mode http\n {4}balance leastconn\n.*\n {4}http-reuse never\n {4}option http-server-close\n/,
  );
  assert.match(haproxy, /server tls 10\.\S+ weight 1 ssl verify none/);
});
