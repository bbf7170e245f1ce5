/** Readiness before traffic and rollover: the pure rules, with probes played by a fake. */
import assert from "node:assert/strict";
import { buildModel, explainRows } from "../../mod.ts";
import { buildReadyModel, type Prober, ReadinessGate } from "./readiness.ts";
import { container } from "../../tests/support/fixtures.ts";

Deno.test("a container that fails its probe stays out, with the reason; once ready it is remembered", async () => {
  let healthy = false;
  const probes: string[] = [];
  const prober: Prober = (_service, server) => {
    probes.push(server.name);
    return Promise.resolve(
      server.name === "new" && !healthy
        ? { ready: false, reason: `GET http://${server.endpoint}/health: status 503` }
        : { ready: true, reason: "" },
    );
  };
  const gate = new ReadinessGate({}, prober);
  const cs = [
    container("old", { "lbsync.service": "web", "lbsync.health": "/health" }),
    container("new", { "lbsync.service": "web", "lbsync.health": "/health" }),
    container("plain", { "lbsync.service": "other" }),
  ];
  const first = await buildReadyModel(cs, {}, { gate });
  assert.deepEqual(first.model.services.find((s) => s.name === "web")!.servers.map((s) => s.name), [
    "old",
  ]);
  assert.match(
    first.skipped[0].reason,
    /^not ready: GET http:\/\/10\.\d+\.\d+\.\d+:8080\/health: status 503$/,
  );
  assert.deepEqual(probes.sort(), ["new", "old"], "services without a health path are not probed");

  healthy = true;
  probes.length = 0;
  const second = await buildReadyModel(cs, {}, { gate });
  assert.deepEqual(
    second.model.services.find((s) => s.name === "web")!.servers.map((s) => s.name),
    ["new", "old"],
  );
  assert.deepEqual(probes, ["new"], "a container that passed is not probed again");
});

Deno.test("buildReadyModel() waits up to its limit for a new container to pass", async () => {
  let calls = 0;
  const gate = new ReadinessGate(
    {},
    () =>
      Promise.resolve(
        ++calls >= 3 ? { ready: true, reason: "" } : { ready: false, reason: "starting" },
      ),
  );
  const cs = [container("slow", { "lbsync.service": "web", "lbsync.health": "/" })];
  const result = await buildReadyModel(cs, {}, { gate, waitMs: 2000 });
  assert.equal(result.model.services[0].servers.length, 1);
  assert.equal(calls, 3);
  const never = new ReadinessGate({}, () => Promise.resolve({ ready: false, reason: "never" }));
  const started = Date.now();
  const out = await buildReadyModel(cs, {}, { gate: never, waitMs: 300 });
  assert.ok(Date.now() - started < 1000);
  assert.equal(out.skipped[0].reason, "not ready: never");
});

Deno.test("containers from files are not probed", async () => {
  const gate = new ReadinessGate({}, () => Promise.reject(new Error("must not probe")));
  const cs = [container("f", { "lbsync.service": "web", "lbsync.health": "/" })];
  const result = await buildReadyModel(cs, {}, { gate, fromFiles: new Set([cs[0].id]) });
  assert.equal(result.model.services[0].servers.length, 1);
});

Deno.test("rollover: only the newest container serves, the older ones are retired with a reason", () => {
  const cs = [
    container("app-v1", {
      "lbsync.service": "app",
      "lbsync.rollover": "true",
      "lbsync.host": "old.test",
    }),
    container("app-v2", {
      "lbsync.service": "app",
      "lbsync.rollover": "true",
      "lbsync.host": "new.test",
    }),
    container("other-1", { "lbsync.service": "other" }),
    container("other-2", { "lbsync.service": "other" }),
  ];
  const { model, skipped, warnings } = buildModel(cs);
  const app = model.services.find((s) => s.name === "app")!;
  assert.deepEqual(app.servers.map((s) => s.name), ["app-v2"]);
  assert.deepEqual(app.hosts, ["new.test"], "the serving container's labels count");
  assert.equal(app.rollover, true);
  assert.deepEqual(skipped.map((s) => `${s.name}: ${s.reason}`), [
    "app-v1: retired by rollover: app-v2 is newer and ready",
  ]);
  // valid and running, but no traffic by design: idle, not out
  const row = explainRows({ model, skipped, warnings }).find((r) => r.name === "app-v1");
  assert.deepEqual([row?.status, row?.code], ["idle", "retired"]);
  assert.deepEqual(warnings, []);
  assert.equal(
    model.services.find((s) => s.name === "other")!.servers.length,
    2,
    "no rollover: all serve",
  );
  const all = buildModel(cs, { rollover: true });
  assert.equal(
    all.model.services.find((s) => s.name === "other")!.servers.length,
    1,
    "--rollover: every service",
  );
});

Deno.test("rollover waits for readiness: the old container serves until the new one is ready", () => {
  const cs = [
    container("app-v1", {
      "lbsync.service": "app",
      "lbsync.rollover": "true",
      "lbsync.health": "/",
    }),
    container("app-v2", {
      "lbsync.service": "app",
      "lbsync.rollover": "true",
      "lbsync.health": "/",
    }),
  ];
  const notReady = new Map([[cs[1].id, "GET http://x/: status 503"]]);
  const { model, skipped } = buildModel(cs, { notReady });
  assert.deepEqual(model.services[0].servers.map((s) => s.name), ["app-v1"]);
  assert.deepEqual(skipped.map((s) => s.reason), ["not ready: GET http://x/: status 503"]);
});

Deno.test("rollover never retires a container of the same creation instant (order unknown)", () => {
  const a = container("app-a", { "lbsync.service": "app", "lbsync.rollover": "true" });
  const b = container("app-b", { "lbsync.service": "app", "lbsync.rollover": "true" }, {
    created: a.created,
  });
  const { model, skipped } = buildModel([a, b]);
  assert.deepEqual(model.services[0].servers.map((s) => s.name), ["app-a", "app-b"]);
  assert.deepEqual(skipped, []);
});
