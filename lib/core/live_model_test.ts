/**
 * The model a watch serves on `GET /model` (`liveModelJson`) and `--from-status` reads
 * (`parseLiveModel`, `readLiveModel`): the reports say the same of it as of the model itself,
 * and whatever else comes back is one line naming the URL and why.
 */
import assert from "node:assert/strict";
import { buildModel, type RouteAnswer, routeRequest } from "../../mod.ts";
import { explainRows } from "./explain.ts";
import { liveModelJson, parseLiveModel } from "./live_model.ts";
import type { ModelView, ServiceView } from "./types.ts";
import { readLiveModel } from "../sources/watch_status.ts";
import { container, resetContainers } from "../../tests/support/fixtures.ts";
import { generateCorpus } from "../../tests/support/routing_corpus.ts";
import { freePort } from "../../tests/support/balancers.ts";

/** Every kind of route, host and state the reports tell apart. */
function richResult() {
  resetContainers();
  const svc = (name: string, labels: Record<string, string>, service = name) =>
    container(`${name}-c`, { "lbsync.service": service, ...labels });
  const containers = [
    svc("root", {}),
    svc("api", { "lbsync.path": "/api/" }),
    svc("shop", { "lbsync.host": "a.example.com,secure.test" }),
    svc("wild", { "lbsync.host": "*.example.com", "lbsync.path": "/w" }),
    svc("regex", { "lbsync.host": "~^re[0-9]+\\.rx\\.test$" }),
    svc("backup", { "lbsync.host": "backup.test" }),
    svc("backup-2", { "lbsync.host": "backup.test", "lbsync.backup": "true" }, "backup"),
    svc("newcomer", { "lbsync.host": "a.example.com" }),
    svc("alt", { "lbsync.listen": "8081" }),
    svc("db", { "lbsync.mode": "tcp", "lbsync.listen": "5432" }),
    svc("bad", { "lbsync.port": "70000" }),
    container("sick", { "lbsync.service": "root" }, { health: "unhealthy" }),
  ];
  const certificate = {
    certificate: "/c/secure.test.crt",
    key: "/c/secure.test.key",
    version: "1",
  };
  return buildModel(containers, {
    certificates: new Map([["secure.test", { name: "secure.test", ...certificate }]]),
    operatorFiles: { htpasswdDir: "/h", htpasswd: new Map([["a.example.com", "abc"]]) },
  });
}

/** An answer as the CLI shows it: the service by name, never the object. */
function shown(answer: RouteAnswer<ServiceView>): unknown {
  if (answer.kind !== "routed") return answer;
  return { ...answer, service: answer.service.name, servers: answer.servers.map((s) => s.name) };
}

Deno.test("parseLiveModel(liveModelJson()) gives explain the same rows and route the same answers", () => {
  const result = richResult();
  const live = parseLiveModel(liveModelJson({ listen: 80, manager: "tcp://m:2375", result }));
  assert.equal(live.listen, 80);
  assert.equal(live.manager, "tcp://m:2375");
  const rows = explainRows(result);
  assert.ok(rows.some((r) => r.status === "backup") && rows.some((r) => r.status === "conflict"));
  assert.ok(rows.some((r) => / basic auth a\.example\.com\//.test(r.reason)), "auth shown");
  assert.ok(rows.some((r) => /https secure\.test \(certificate/.test(r.reason)), "tls shown");
  assert.deepEqual(explainRows(live.result), rows);
  const view: ModelView = live.result.model;
  const model = result.model;
  let compared = 0;
  model.httpListeners.forEach((listener, i) => {
    for (const r of generateCorpus(model, 7 + i, ["re12.rx.test"])) {
      if (r.listener !== i) continue;
      const query = { listen: listener.port, host: r.host ?? undefined, path: r.path };
      assert.deepEqual(shown(routeRequest(view, query)), shown(routeRequest(model, query)));
      compared += 1;
    }
  });
  assert.ok(compared > 300, `${compared} requests compared`);
  assert.equal(
    (routeRequest(view, { listen: 5432 }) as { service: ServiceView }).service.name,
    "db",
  );
  const authed = routeRequest(view, { listen: 80, host: "a.example.com", path: "/" });
  assert.equal(authed.kind === "routed" && authed.auth?.path, "/h/a.example.com");
});

Deno.test("parseLiveModel refuses what is not an lbsync model, naming the JSON path", () => {
  const good = JSON.parse(liveModelJson({ listen: 80, result: richResult() }));
  const refused = (edit: (doc: typeof good) => void): string => {
    const doc = structuredClone(good);
    edit(doc);
    try {
      parseLiveModel(JSON.stringify(doc));
    } catch (error) {
      assert.equal((error as Error).name, "StatusError");
      return (error as Error).message;
    }
    throw new Error("accepted");
  };
  assert.equal(
    refused((d) => d.format = "lbsync-model/2"),
    '$.format: "lbsync-model/2" is not lbsync-model/1',
  );
  assert.equal(refused((d) => d.listen = 0), "$.listen: expected a port (1-65535)");
  assert.equal(
    refused((d) => d.model.services[0].name = 7),
    "$.model.services[0].name: expected a string",
  );
  assert.equal(
    refused((d) => d.model.services[1].name = d.model.services[0].name),
    "$.model.services: a service name appears twice",
  );
  assert.equal(
    refused((d) => d.model.httpListeners[0].defaultRoutes[0].service = "ghost"),
    '$.model.httpListeners[0].defaultRoutes[0].service: "ghost" names no service',
  );
  assert.equal(
    refused((d) => d.model.tcpListeners[0].service = "ghost"),
    '$.model.tcpListeners[0].service: "ghost" names no service',
  );
  assert.match(
    refused((d) => d.skipped[0].code = "evil"),
    /^\$\.skipped\[0\]\.code: expected one of disabled, bad-label, /,
  );
  assert.equal(
    refused((d) => d.model.unknownHostStatus = 99),
    "$.model.unknownHostStatus: expected an integer in 100-599",
  );
  const regex = good.model.httpListeners[0].virtualHosts.findIndex((v: { regex: boolean }) =>
    v.regex
  );
  assert.match(
    refused((d) => d.model.httpListeners[0].virtualHosts[regex].matchValue = "^(a+)+$"),
    /^\$\.model\.httpListeners\[0\]\.virtualHosts\[\d+\]\.matchValue: not a host regex: /,
  );
  assert.equal(refused((d) => d.warnings = [1]), "$.warnings[0]: expected a string");
  assert.equal(refused((d) => delete d.model), "$.model: expected an object");
  assert.throws(() => parseLiveModel("<html>"), /^StatusError: not JSON \(/);
  assert.throws(() => parseLiveModel("[".repeat(100_000)), /not JSON \(nested deeper than 64/);
});

/** A server on a free loopback port answering every request with `answer`. */
function serve(answer: (req: Request) => Response | Promise<Response>) {
  const controller = new AbortController();
  const port = freePort();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port, signal: controller.signal, onListen() {} },
    answer,
  );
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      controller.abort();
      await server.finished;
    },
  };
}

Deno.test("readLiveModel: each failure is one line naming the URL and why", async () => {
  const failure = async (url: string, limits = {}) => {
    try {
      await readLiveModel(url, limits);
    } catch (error) {
      assert.equal((error as Error).name, "StatusError");
      return (error as Error).message;
    }
    throw new Error("no failure");
  };
  const closed = freePort();
  assert.equal(
    await failure(`http://127.0.0.1:${closed}`),
    `Cannot read the watch's model from http://127.0.0.1:${closed}/model: connection refused`,
  );
  const garbage = serve(() => new Response("<html>\n<p>hello</p>"));
  const old = serve(() => new Response("not found: /healthz, /status\n", { status: 404 }));
  const moved = serve(() => Response.redirect("http://example.com/", 302));
  const big = serve(() => new Response("x".repeat(5000)));
  let release = () => {};
  const stuck = serve(() => new Promise<Response>((r) => release = () => r(new Response("{}"))));
  try {
    assert.match(
      await failure(garbage.url),
      /^Cannot read the watch's model from http:\/\/127\.0\.0\.1:\d+\/model: not JSON \([^\n]*\)$/,
    );
    assert.equal(
      await failure(`${old.url}/`),
      `Cannot read the watch's model from ${old.url}/model: it answered 404: not found: /healthz, /status`,
    );
    assert.match(await failure(moved.url), /\/model: it answered 302: \(no message\)$/);
    assert.match(await failure(big.url, { maxBytes: 1024 }), /: the answer is over 1024 bytes/);
    const started = Date.now();
    assert.equal(
      await failure(stuck.url, { timeoutMs: 300 }),
      `Cannot read the watch's model from ${stuck.url}/model: timed out after 300 ms`,
    );
    assert.ok(Date.now() - started < 3000, "the deadline holds");
  } finally {
    release();
    await Promise.all([garbage, old, moved, big, stuck].map((s) => s.close()));
  }
});
