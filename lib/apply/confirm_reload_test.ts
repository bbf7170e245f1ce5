import assert from "node:assert/strict";
import { applyTargets, confirmGeneration } from "../../mod.ts";
import { busyNewPorts, listenPortsOf } from "./confirm_reload.ts";

const NEW = "0000000000000002";
const OLD = "0000000000000001";
const AT = { hostname: "127.0.0.1", port: 80 };

/** A reader answering `answers` in turn (then the last one), counting reads. */
function reader(answers: (string | Error)[]) {
  let i = 0;
  const read = () => {
    const a = answers[Math.min(i++, answers.length - 1)];
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  return { read, reads: () => i };
}

Deno.test("confirmGeneration() confirms after three new answers in a row, not one", async () => {
  // an old worker answers between new ones while a reload settles
  const r = reader([OLD, NEW, OLD, NEW, NEW, NEW]);
  assert.deepEqual(await confirmGeneration(NEW, AT, 2000, r.read), { kind: "confirmed" });
  assert.equal(r.reads(), 6);
});

Deno.test("confirmGeneration() reports the generation still running when it never changes", async () => {
  const r = reader([OLD]);
  assert.deepEqual(await confirmGeneration(NEW, AT, 200, r.read), { kind: "stale", running: OLD });
  assert.ok(r.reads() >= 2 && r.reads() <= 10, `${r.reads()} reads in 200 ms`);
});

Deno.test("confirmGeneration() without an answer knows nothing: unconfirmed, never stale", async () => {
  const refused = reader([new Error("connection refused")]);
  assert.deepEqual(await confirmGeneration(NEW, AT, 120, refused.read), {
    kind: "unconfirmed",
    reason: "connection refused",
  });
  const other = reader(["<html>forbidden</html>"]);
  assert.equal((await confirmGeneration(NEW, AT, 120, other.read)).kind, "unconfirmed");
});

Deno.test("listenPortsOf() and busyNewPorts() find the new ports another process holds", () => {
  const nginx = "server {\n    listen 127.0.0.1:8080 default_server;\n    listen 81;\n}\n";
  const haproxy = "frontend f\n    bind :5432\n    bind [::1]:8443\n";
  assert.deepEqual([...listenPortsOf(nginx)], [8080, 81]);
  assert.deepEqual([...listenPortsOf(haproxy)], [5432, 8443]);
  const held = new Set([81, 9000]);
  const probe = (port: number) => held.has(port);
  assert.deepEqual(
    busyNewPorts("    listen 80;\n", nginx + "    listen 9000;\n", undefined, probe),
    [
      81,
      9000,
    ],
  );
  assert.deepEqual(busyNewPorts(nginx, nginx, undefined, probe), [], "ports already live are ours");
});

Deno.test("applyTargets: two outputs that both serve a generation on one address are not confirmed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-confirm-two-" });
  try {
    const text = (n: string) => `# lbsync generation: 000000000000000${n}\n`;
    const confirm = { hostname: "127.0.0.1", port: 1 }; // nothing answers there
    const report = await applyTargets([
      { template: "nginx", output: `${dir}/a.conf`, content: text("a"), reload: "true", confirm },
      { template: "haproxy", output: `${dir}/b.cfg`, content: text("b"), confirm },
    ], { confirmTimeoutMs: 2000 });
    assert.deepEqual(report.targets[0].confirmed, {
      kind: "unconfirmed",
      reason: "several outputs answer on 127.0.0.1:1",
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("confirmGeneration() gives up at once when nothing serves a generation", async () => {
  for (const answer of [new Error("connection refused"), "<html>another server</html>"]) {
    const r = reader([answer]);
    const outcome = await confirmGeneration(NEW, AT, 10_000, r.read);
    assert.equal(outcome.kind, "unconfirmed");
    assert.equal(r.reads(), 1, "one try: nothing there to wait for");
  }
});

Deno.test("confirmGeneration() waits a while for a balancer that binds the port now", async () => {
  const r = reader([new Error("connection refused"), new Error("connection refused"), NEW]);
  assert.deepEqual(await confirmGeneration(NEW, AT, 5000, r.read, true), { kind: "confirmed" });
  const never = reader([new Error("connection refused")]);
  const started = performance.now();
  assert.equal((await confirmGeneration(NEW, AT, 10_000, never.read, true)).kind, "unconfirmed");
  assert.ok(performance.now() - started < 3000, "a second or so, not the whole 10 s");
});
