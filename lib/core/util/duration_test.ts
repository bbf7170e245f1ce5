import assert from "node:assert/strict";
import { ConfigError, parseDuration, parseHeartbeat } from "../../../mod.ts";
import { MAX_DURATION_MS } from "./duration.ts";
import { lbsync } from "../../../tests/support/cli.ts";

Deno.test("parseDuration() reads ms, s, m, h and 0", () => {
  assert.deepEqual(
    ["0", "250ms", "1.5s", "5m", "2h"].map(parseDuration),
    [0, 250, 1500, 300_000, 7_200_000],
  );
  assert.throws(() => parseDuration("2x"), ConfigError);
});

Deno.test("durations over ~596 hours overflow the timers: refused at parse time", () => {
  assert.equal(parseDuration("596h"), MAX_DURATION_MS);
  assert.ok(MAX_DURATION_MS <= 2 ** 31 - 1);
  for (const text of ["597h", "600h", "35761m", "999999999s"]) {
    assert.throws(() => parseDuration(text), /at most 596h/, text);
  }
  assert.throws(() => parseHeartbeat("1s:600h"), /at most 596h/);
});

Deno.test("--resync 600h, --command-timeout 600h, --retire-after 600h: usage errors", async () => {
  for (const flag of ["--resync", "--command-timeout", "--retire-after"]) {
    const r = await lbsync(["watch", flag, "600h", "-t", "nginx", "--from-file", "x.json"]);
    assert.equal(r.code, 2, flag);
    assert.match(r.stderr, new RegExp(`^lbsync: error: Invalid ${flag}: .*at most 596h`), flag);
  }
});
