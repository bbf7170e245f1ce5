/**
 * The suite leaves nothing behind: runs last (files run in path order, after lib/ and tests/'s groups), finds no container,
 * network or volume of its tests on the test engine, and no file or
 * directory of lbsync's in the temp directory made or touched since the run began, but the test
 * harness's own engines (started by scripts/, not by tests, and kept between runs).
 */
import assert from "node:assert/strict";
import { dockerOk, engineMissing } from "./support/engine.ts";

/** What scripts/ keeps on purpose: the private engines' state, the under-load runner's logs. */
const HARNESS = new Set([
  "lbsync-engine",
  "lbsync-tls-engine",
  "lbsync-swarm",
  "lbsync-podman",
  "lbsync-ci-under-load",
]);

Deno.test("a test run leaves no temp file or directory of its own behind", () => {
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const since = performance.timeOrigin - 1000;
  const left = [...Deno.readDirSync(tmp)]
    .filter((e) => /^\.?lbsync[-.]/.test(e.name) && !HARNESS.has(e.name))
    .filter((e) => {
      const info = Deno.statSync(`${tmp}/${e.name}`);
      return (info.mtime?.getTime() ?? 0) >= since || (info.birthtime?.getTime() ?? 0) >= since;
    })
    .map((e) => e.name);
  assert.deepEqual(left, []);
});

Deno.test({
  name: "a test run leaves no container, network or volume of its own on the test engine",
  ignore: await engineMissing(),
  async fn() {
    // every container and network a test makes carries lbsync-test=<its scenario's tag>
    const left: string[] = [];
    for (const kind of ["container", "network", "volume"]) {
      const list = kind === "container" ? ["ps", "-a"] : [kind, "ls"];
      const names = await dockerOk([
        ...list,
        "--filter",
        "label=lbsync-test",
        "--format",
        kind === "container" ? "{{.Names}}" : "{{.Name}}",
      ]);
      left.push(...names.split("\n").filter((n) => n !== "").map((n) => `${kind} ${n}`));
    }
    assert.deepEqual(left, []);
  },
});
