import assert from "node:assert/strict";
import { WatchStats } from "../lib/watch_stats.ts";

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
