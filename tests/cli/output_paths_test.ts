/** Outputs that are not plain files: symlinks are written through; the rest are refused. */
import assert from "node:assert/strict";
import { leftInDir } from "../support/fixtures.ts";
import { applyTargets } from "../../mod.ts";
import { lbsync } from "../support/cli.ts";

const EXAMPLE = new URL("../../examples/containers.json", import.meta.url).pathname;

Deno.test("a symlinked output is written through to its target, and the symlink stays", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-link-" });
  await Deno.mkdir(`${dir}/real`);
  await Deno.writeTextFile(`${dir}/real/lbsync.conf`, "old\n");
  await Deno.symlink("real/lbsync.conf", `${dir}/lbsync.conf`);
  const report = await applyTargets([{
    template: "t",
    output: `${dir}/lbsync.conf`,
    content: "new\n",
  }]);
  assert.equal(report.targets[0].changed, true);
  assert.equal((await Deno.lstat(`${dir}/lbsync.conf`)).isSymlink, true, "the symlink stays");
  assert.equal(await Deno.readTextFile(`${dir}/real/lbsync.conf`), "new\n");
  // nothing left behind in either directory
  const names = [...leftInDir(dir), ...leftInDir(`${dir}/real`)];
  assert.deepEqual(
    names.sort(),
    ["lbsync.conf", "lbsync.conf", "real"].sort(),
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a FIFO, a device, a directory and /proc paths are refused at once with the reason", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-special-" });
  const fifo = `${dir}/fifo`;
  const made = await new Deno.Command("mkfifo", { args: [fifo] }).output();
  assert.equal(made.code, 0);
  const cases: [string, RegExp][] = [
    [fifo, /Cannot write .*fifo: not a regular file \(a FIFO\)/],
    ["/dev/full", /Cannot write \/dev\/full: \/dev\/full is under \/dev, not a regular file/],
    [dir, /not a regular file \(a directory\)/],
    ["/proc/self/environ", /is under \/proc/],
  ];
  for (const [output, message] of cases) {
    const started = performance.now();
    const r = await lbsync(["render", "--from-file", EXAMPLE, "-t", "nginx", "-o", output, "-q"]);
    assert.equal(r.code, 1, output);
    assert.match(r.stderr, message, output);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.ok(performance.now() - started < 5000, `${output} answered at once`);
  }
  // a refused output leaves no lock file beside it (the directory's would be in its parent)
  const lock = `${dir.slice(0, dir.lastIndexOf("/"))}/.${
    dir.slice(dir.lastIndexOf("/") + 1)
  }.lbsync-lock`;
  await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the same output named twice is a usage error (exit 2), not a wait on its own lock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-twice-" });
  const r = await lbsync([
    "render",
    "--from-file",
    EXAMPLE,
    "-t",
    "nginx",
    "-o",
    `${dir}/x.conf`,
    "-t",
    "haproxy",
    "-o",
    `${dir}/./sub/../x.conf`,
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /Output .*\/x\.conf is named twice \(also as .*\/x\.conf\)/);
  await Deno.remove(dir, { recursive: true });
});
