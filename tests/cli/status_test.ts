/** `--status-listen`: /healthz, /status, /metrics and POST /resync of a real watch process. */
import assert from "node:assert/strict";
import { freePort, rawRequest } from "../support/balancers.ts";
import { ROOT } from "../support/fixtures.ts";
import { WatchProcess, writeByRename } from "../support/watch_process.ts";
import { cleanUp } from "../support/tools.ts";

async function get(
  port: number,
  path: string,
  method = "GET",
): Promise<{ status: number; text: string }> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, {
      method,
      signal: AbortSignal.timeout(3000),
    });
    return { status: r.status, text: await r.text() };
  } catch (error) {
    return { status: 0, text: String(error) };
  }
}

Deno.test({
  name: "status endpoint: healthz follows the last apply, status and metrics describe the watch",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-status-" });
    const source = `${dir}/containers.json`;
    await Deno.copyFile(`${ROOT}/examples/containers.json`, source);
    const port = freePort();
    const watch = new WatchProcess([
      "--from-file",
      source,
      "-t",
      "haproxy",
      "-o",
      `${dir}/haproxy.cfg`,
      "--heartbeat",
      "50ms:200ms",
      "--check-cmd",
      "! grep -q broken-service {}",
      "--status-listen",
      String(port),
      "-v",
    ]);
    try {
      await watch.until("healthy", async () => (await get(port, "/healthz")).status === 200);
      assert.equal((await get(port, "/healthz")).text, "ok\n");

      const status = JSON.parse((await get(port, "/status")).text);
      assert.equal(status.healthy, true);
      assert.deepEqual(status.services.map((s: { name: string }) => s.name), [
        "api",
        "docs",
        "postgres",
        "web",
      ]);
      assert.equal(status.skipped[0].name, "shop-admin");
      assert.equal(status.lastApply.ok, true);

      const metrics = (await get(port, "/metrics")).text;
      assert.match(metrics, /^# HELP lbsync_applies_total /m);
      assert.match(metrics, /^lbsync_applies_total 1$/m);
      assert.match(metrics, /^lbsync_containers\{status="in"\} 7$/m);
      assert.match(metrics, /^lbsync_containers\{status="out"\} 1$/m);
      assert.match(metrics, /^lbsync_cycle_duration_seconds_count \d+$/m);

      const mark = watch.log.length;
      assert.equal((await get(port, "/resync", "POST")).status, 202);
      await watch.untilLog(/why="POST \/resync"/, 5000, mark);

      // a change the check refuses: that service is quarantined, unhealthy with the reason,
      // then healthy again
      const json = JSON.parse(await Deno.readTextFile(source));
      json[0].Config.Labels["lbsync.service"] = "broken-service";
      await writeByRename(source, JSON.stringify(json));
      await watch.until("unhealthy", async () => (await get(port, "/healthz")).status === 503);
      assert.match(
        (await get(port, "/healthz")).text,
        /^unhealthy: service broken-service quarantined: Check failed for /,
      );
      assert.match((await get(port, "/metrics")).text, /^lbsync_quarantined_services 1$/m);
      await Deno.copyFile(`${ROOT}/examples/containers.json`, source);
      await watch.until("healthy again", async () => (await get(port, "/healthz")).status === 200);
      assert.equal((await get(port, "/nope")).status, 404);
    } finally {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});

Deno.test({
  name: "status endpoint: an engine that cannot be listed makes /healthz 503, naming it",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-status-down-" });
    const port = freePort();
    const watch = new WatchProcess([
      "--docker",
      "unix:///tmp/lbsync-no-such-engine.sock",
      "-t",
      "haproxy",
      "-o",
      `${dir}/h.cfg`,
      "--status-listen",
      `127.0.0.1:${port}`,
    ]);
    try {
      await watch.until(
        "503, naming the cause",
        async () => /no such socket/.test((await get(port, "/healthz")).text),
      );
      assert.match(
        (await get(port, "/healthz")).text,
        /^unhealthy: unix:\/\/\/tmp\/lbsync-no-such-engine\.sock has not been listed yet: Cannot list containers on unix:\/\/\/tmp\/lbsync-no-such-engine\.sock: no such socket \(nothing applied\)\n$/,
      );
      assert.match(
        (await get(port, "/metrics")).text,
        /^lbsync_engine_up\{engine="unix:\/\/\/tmp\/lbsync-no-such-engine\.sock"\} 0$/m,
      );
    } finally {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});

Deno.test({
  name: "status endpoint: a web page (Origin) or a rebound Host can neither read nor resync",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-status-" });
    const port = freePort();
    const watch = new WatchProcess([
      "--from-file",
      `${ROOT}/examples/containers.json`,
      "-t",
      "haproxy",
      "-o",
      `${dir}/h.cfg`,
      "--status-listen",
      `127.0.0.1:${port}`,
    ]);
    const ask = async (head: string) => {
      const r = await rawRequest(port, `${head}\r\nConnection: close\r\n\r\n`);
      return r.status;
    };
    try {
      await watch.until(
        "the first apply",
        async () => (await get(port, "/healthz")).status === 200,
      );
      const cycles = async () =>
        Number(
          /^lbsync_cycle_duration_seconds_count (\d+)$/m.exec(
            (await get(port, "/metrics")).text,
          )![1],
        );
      const before = await cycles();
      assert.equal(await ask("GET /status HTTP/1.1\r\nHost: rebind.attacker.example"), 421);
      assert.equal(await ask("POST /resync HTTP/1.1\r\nHost: rebind.attacker.example"), 421);
      assert.equal(
        await ask("POST /resync HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example"),
        403,
      );
      assert.equal(await ask("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: null"), 403);
      // what monitoring sends: a loopback name, the listen address, an IP address
      for (const host of ["localhost", `127.0.0.1:${port}`, "10.1.2.3:9090", "[::1]"]) {
        assert.equal(await ask(`GET /healthz HTTP/1.1\r\nHost: ${host}`), 200, host);
      }
      assert.equal(await cycles(), before, "no refused resync ran a pass");
      assert.equal(await ask("POST /resync HTTP/1.1\r\nHost: 127.0.0.1"), 202);
      await watch.until("the accepted resync's pass", async () => (await cycles()) === before + 1);
    } finally {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});
