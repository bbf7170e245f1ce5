/**
 * Deadlines on `AbortSignal.timeout` (lib/sources/deadline.ts): the reason at the deadline,
 * an outer signal's reason before it, and a cleared deadline that keeps no process alive.
 */
import assert from "node:assert/strict";
import { deadline } from "./deadline.ts";
import { ROOT } from "../../tests/support/fixtures.ts";

const aborted = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) => {
    if (signal.aborted) resolve(signal.reason);
    else signal.addEventListener("abort", () => resolve(signal.reason), { once: true });
  });

Deno.test("deadline: aborts with its reason at the deadline", async () => {
  const d = deadline(20, undefined, () => new Error("timed out after 20 ms"));
  const reason = await aborted(d.signal);
  assert.ok(reason instanceof Error);
  assert.equal(reason.message, "timed out after 20 ms");
  d.clear();
});

Deno.test("deadline: an outer signal's reason comes first, also when already aborted", async () => {
  const outer = new AbortController();
  const d = deadline(60_000, outer.signal, () => new Error("late"));
  outer.abort(new Error("stopped"));
  assert.equal(((await aborted(d.signal)) as Error).message, "stopped");
  const early = deadline(60_000, outer.signal, () => new Error("late"));
  assert.ok(early.signal.aborted);
  assert.equal((early.signal.reason as Error).message, "stopped");
});

Deno.test("deadline: a cleared deadline aborts no more and keeps no process alive", async () => {
  const d = deadline(30, undefined, () => new Error("late"));
  d.clear();
  await new Promise((resolve) => AbortSignal.timeout(80).addEventListener("abort", resolve));
  assert.equal(d.signal.aborted, false);
  // a process whose only deadline (30 s) was cleared ends at once, not at the deadline
  const script = `import { deadline } from "${ROOT}/lib/sources/deadline.ts";
const d = deadline(30_000, undefined, () => new Error("late"));
d.signal.addEventListener("abort", () => console.log("aborted"));
d.clear();`;
  const started = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const ms = performance.now() - started;
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(new TextDecoder().decode(out.stdout), "");
  assert.ok(ms < 30_000, `the process lived ${ms} ms, as long as the cleared deadline`);
});
