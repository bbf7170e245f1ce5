import assert from "node:assert/strict";
import { WatchStats } from "./watch_stats.ts";
import { passBoundMs } from "../watch/watch.ts";

Deno.test("watch stats count failed applies by the step that failed, not by their text", () => {
  const stats = new WatchStats();
  stats.applyFailed("Check failed for /x: nginx -t exit 1", "check");
  stats.applyFailed("Reload did not take: /x: the balancer at 127.0.0.1:80 ...", "stale");
  stats.applyFailed("Check failed (a message that only looks like one)", "write");
  const metrics = stats.metrics();
  assert.match(metrics, /^lbsync_apply_failures_total 3$/m);
  assert.match(metrics, /^lbsync_check_failures_total 1$/m);
  assert.match(metrics, /^lbsync_stale_reloads_total 1$/m);
  assert.match(stats.unhealthyReason() ?? "", /^last apply failed: Check failed \(a message/);
});

Deno.test("watch stats: /status says what the loop does, since when, and what waits", () => {
  let now = 0;
  const stats = new WatchStats(() => new Date(now));
  stats.activity("batching", 1);
  now = 400;
  stats.activity("batching", 3);
  assert.deepEqual(stats.loop, {
    state: "batching",
    since: new Date(0).toISOString(),
    pendingEvents: 3,
  });
  now = 500;
  stats.activity("applying", 0);
  now = 900;
  stats.activity("idle", 0);
  assert.deepEqual((stats.status() as { loop: unknown }).loop, {
    state: "idle",
    since: new Date(900).toISOString(),
    pendingEvents: 0,
  });
});

Deno.test("watch stats: a pass longer than the sum of its steps' bounds makes /healthz unhealthy", () => {
  // the bound of one target's pass with the defaults: engine 10 s, probe 2 s, lock 30 s,
  // check and reload 30 s each, confirmation 10 s
  assert.equal(passBoundMs({ targets: [{ template: "nginx", output: "/x" }] }), 112_000);
  let now = 0;
  const stats = new WatchStats(() => new Date(now), 112_000);
  stats.setEngines(["unix:///e.sock"]);
  assert.match(
    stats.unhealthyReason() ?? "",
    /^unix:\/\/\/e\.sock has not been listed yet \(nothing applied\)$/,
  );
  stats.listed("unix:///e.sock");
  stats.engine("unix:///e.sock", "connected");
  stats.cycle({
    reasons: ["start"],
    events: 0,
    result: { model: { services: [] }, skipped: [], warnings: [] } as never,
    listen: 80,
    apply: { targets: [], checks: [], reloads: [] },
    changed: [],
    ms: 5,
    quarantined: [],
  });
  assert.equal(stats.unhealthyReason(), undefined);
  stats.activity("applying", 0);
  now = 112_000;
  assert.equal(stats.unhealthyReason(), undefined, "within the bound");
  now = 112_001 + 1000;
  assert.equal(
    stats.unhealthyReason(),
    "a pass has run for 113 s, over its bound of 112 s: the loop is stuck",
  );
  stats.activity("idle", 0);
  assert.equal(stats.unhealthyReason(), undefined);
  // a listing that fails later leaves the engine listed once: its last containers stay
  stats.listed("unix:///e.sock", "Cannot list containers on unix:///e.sock: timed out after 10 s");
  assert.equal(stats.unhealthyReason(), undefined);
});
