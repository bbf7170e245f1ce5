/**
 * Abrupt backend loss: a container that vanishes sends no reset, so a request
 * already sent to it would wait for HAProxy's `timeout server` (60 s). With a health check,
 * the built-in HAProxy template ends the sessions of a server the check marks down
 * (`on-marked-down shutdown-sessions`), so the client learns within the check's fall time.
 */
import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../mod.ts";
import { eventually, freePort, httpGet, startHaproxy } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

/** A backend whose health can be failed and whose `/stuck` never answers until closed. */
function stuckBackend() {
  let healthy = true;
  let stuck = 0;
  const release: (() => void)[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/health") return new Response(null, { status: healthy ? 200 : 503 });
    stuck++;
    return new Promise<Response>((resolve) => release.push(() => resolve(new Response("late"))));
  });
  return {
    port: server.addr.port,
    stuck: () => stuck,
    fail: () => healthy = false,
    close: async () => {
      release.forEach((r) => r());
      await server.shutdown();
    },
  };
}

Deno.test({
  name: "HAProxy ends the sessions of a server its health check marks down",
  ignore: missing("haproxy"),
  async fn() {
    resetContainers();
    const vanishing = stuckBackend();
    const listen = freePort();
    const app = container("app-1", { "lbsync.service": "app", "lbsync.health": "/health" }, {
      networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
      ports: [{ port: vanishing.port, protocol: "tcp", published: [] }],
    });
    const model = buildModel([app], { listen, listenAddress: "127.0.0.1" }).model;
    const config = render(templates.haproxy, model);
    assert.match(config, /check inter 2s fall 2 rise 2 on-marked-down shutdown-sessions/);
    const haproxy = await startHaproxy(config);
    try {
      await eventually(async () => (await httpGet(listen, "/health", "app.test")).status === 200);
      const started = Date.now();
      const pending = httpGet(listen, "/stuck", "app.test", 30_000);
      await eventually(() => vanishing.stuck() === 1);
      vanishing.fail(); // the check now fails: down after 2 checks 2 s apart
      const answer = await pending;
      const waited = Date.now() - started;
      assert.notEqual(answer.status, 200, "the stuck request was cut, not answered");
      assert.ok(waited < 15_000, `the stuck request ended after ${waited} ms, not at 60 s`);
    } finally {
      await haproxy.stop();
      await vanishing.close();
    }
  },
});
