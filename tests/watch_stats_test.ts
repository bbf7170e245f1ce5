import assert from "node:assert/strict";
import { WatchStats } from "../lib/serve/watch_stats.ts";

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
