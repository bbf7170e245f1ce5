/**
 * Apply when the file system fights back: missing or read-only directory, a full disk, a
 * bind-mounted single file, and `kill -9` in the middle of an apply. Uses real mounts
 * (tmpfs, bind), so it needs root.
 */
import assert from "node:assert/strict";
import { leftInDir } from "../support/fixtures.ts";
import { applyTargets } from "../../lib/apply/apply.ts";
import { ApplyError } from "../../lib/core/errors.ts";
import { ROOT } from "../support/fixtures.ts";
import { IN_CI, noteSkipped, run } from "../support/tools.ts";

const canMount = IN_CI ||
  (Deno.uid() === 0 && (await run(["sh", "-c", "command -v mount"])).code === 0);
if (!canMount) noteSkipped("mounting a tmpfs needs root and mount(8)");

async function mountTmpfs(options: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-mnt-" });
  const r = await run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", dir]);
  if (r.code !== 0) throw new Error(`mount: ${r.stderr}`);
  return dir;
}

async function unmount(dir: string): Promise<void> {
  await run(["umount", dir]);
  await Deno.remove(dir, { recursive: true });
}

Deno.test("a missing output directory is a clear error", async () => {
  await assert.rejects(
    applyTargets([{ template: "t", output: "/tmp/lbsync-no-such-dir/x/lb.conf", content: "x" }]),
    {
      name: "ApplyError",
      message: "Cannot write /tmp/lbsync-no-such-dir/x/lb.conf: no such directory",
    },
  );
});

Deno.test({
  name: "a read-only file system: clear error, live file intact",
  ignore: !canMount,
  async fn() {
    const dir = await mountTmpfs("size=1m");
    try {
      await Deno.writeTextFile(`${dir}/lb.conf`, "live\n");
      await run(["mount", "-o", "remount,ro", dir]);
      await assert.rejects(
        applyTargets([{
          template: "t",
          output: `${dir}/lb.conf`,
          content: "new\n",
          reload: "exit 0",
        }]),
        (e) =>
          e instanceof ApplyError &&
          /^Cannot (write|lock) .*lb\.conf: .*read-only file system/i.test(e.message),
      );
      assert.equal(await Deno.readTextFile(`${dir}/lb.conf`), "live\n");
    } finally {
      await unmount(dir);
    }
  },
});

Deno.test({
  name: "a full disk: clear error, live file intact, no temp file left",
  ignore: !canMount,
  async fn() {
    const dir = await mountTmpfs("size=64k");
    try {
      await Deno.writeTextFile(`${dir}/lb.conf`, "live\n");
      await assert.rejects(
        applyTargets([{ template: "t", output: `${dir}/lb.conf`, content: "x".repeat(200_000) }]),
        { name: "ApplyError", message: `Cannot write ${dir}/lb.conf: no space left on device` },
      );
      assert.equal(await Deno.readTextFile(`${dir}/lb.conf`), "live\n");
      const names = leftInDir(dir);
      assert.deepEqual(names, ["lb.conf"]);
    } finally {
      await unmount(dir);
    }
  },
});

Deno.test({
  name: "a bind-mounted single file (rename gives EBUSY) is written in place",
  ignore: !canMount,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-bind-" });
    const source = `${dir}/source.conf`;
    const target = `${dir}/target.conf`;
    await Deno.writeTextFile(source, "old\n");
    await Deno.writeTextFile(target, "");
    assert.equal((await run(["mount", "--bind", source, target])).code, 0);
    try {
      const report = await applyTargets([{ template: "t", output: target, content: "new\n" }]);
      assert.equal(report.targets[0].changed, true);
      assert.equal(await Deno.readTextFile(target), "new\n");
      assert.equal(
        await Deno.readTextFile(source),
        "new\n",
        "the host file behind the mount changed",
      );
      const left = leftInDir(dir);
      assert.deepEqual(left, ["source.conf", "target.conf"]);
    } finally {
      await run(["umount", target]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a full disk under a bind-mounted file: the in-place write puts the old bytes back",
  ignore: !canMount,
  async fn() {
    const disk = await mountTmpfs("size=64k");
    const dir = await Deno.makeTempDir({ prefix: "lbsync-bindfull-" });
    const host = `${disk}/host.conf`;
    const output = `${dir}/lbsync.conf`;
    const old = "old line;\n".repeat(2_000); // 20 KB
    await Deno.writeTextFile(host, old);
    await Deno.writeTextFile(output, "");
    assert.equal((await run(["mount", "--bind", host, output])).code, 0);
    try {
      // growing past the disk: refused, and every old byte is back
      await assert.rejects(
        applyTargets([{ template: "t", output, content: "x".repeat(200_000) }]),
        { name: "ApplyError", message: `Cannot write ${output}: no space left on device` },
      );
      assert.equal(await Deno.readTextFile(output), old);
      assert.equal(await Deno.readTextFile(host), old);
      // shrinking, and growing within the disk, are written in place
      await applyTargets([{ template: "t", output, content: "short\n" }]);
      assert.equal(await Deno.readTextFile(host), "short\n");
      const grown = "y".repeat(30_000) + "\n";
      await applyTargets([{ template: "t", output, content: grown }]);
      assert.equal(await Deno.readTextFile(host), grown);
    } finally {
      await run(["umount", output]);
      await unmount(disk);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "kill -9 during an in-place write (bind mount): the next run finishes it, never partial",
  ignore: !canMount,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const disk = await mountTmpfs("size=160m");
    const dir = await Deno.makeTempDir({ prefix: "lbsync-bindkill-" });
    const host = `${disk}/host.conf`;
    const output = `${dir}/lbsync.conf`;
    const size = 24_000_000;
    const versions = ["a", "b"].map((c) => c.repeat(size) + "\n");
    await Deno.writeTextFile(host, versions[0]);
    await Deno.writeTextFile(output, "");
    assert.equal((await run(["mount", "--bind", host, output])).code, 0);
    const script = `${dir}/apply.ts`;
    await Deno.writeTextFile(
      script,
      `import { applyTargets } from "${ROOT}/lib/apply/apply.ts";
const content = Deno.args[0].repeat(${size}) + "\\n";
await applyTargets([{ template: "t", output: ${JSON.stringify(output)}, content }]);`,
    );
    let interrupted = 0;
    let partial = 0; // killed mid-write: what the journal is for
    try {
      for (let round = 0; round < 16; round++) {
        const letter = round % 2 === 0 ? "b" : "a";
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", script, letter],
          stdout: "null",
          stderr: "null",
        }).spawn();
        const inPlace = () =>
          [...Deno.readDirSync(dir)].some((e) => e.name.endsWith(".lbsync-inplace"));
        if (round % 2 === 0) {
          // even rounds: kill the moment the in-place write has begun (its first byte is new)
          const first = () => {
            const f = Deno.openSync(host);
            const byte = new Uint8Array(1);
            f.readSync(byte);
            f.close();
            return String.fromCharCode(byte[0]);
          };
          const end = Date.now() + 5000;
          while (!(inPlace() && first() === letter) && Date.now() < end) {
            await new Promise((r) => setTimeout(r, 0));
          }
        } else {
          await new Promise((r) => setTimeout(r, 150 + (round * 53) % 400));
        }
        try {
          child.kill("SIGKILL");
        } catch { /* finished already */ }
        await child.status;
        if (inPlace()) {
          interrupted += 1;
          const left = await Deno.readTextFile(host);
          if (left !== versions[0] && left !== versions[1]) partial += 1;
        }
        // the next run (any content) first finishes what the killed one began
        await applyTargets([{ template: "t", output, content: versions[letter === "b" ? 1 : 0] }], {
          lockTimeoutMs: 5000,
        });
        const text = await Deno.readTextFile(host);
        assert.ok(
          text === versions[0] || text === versions[1],
          `round ${round}: ${text.length} bytes`,
        );
        assert.equal(text, versions[letter === "b" ? 1 : 0]);
      }
      console.log(
        `${interrupted} of 16 kills landed during an in-place write, ${partial} mid-file`,
      );
      assert.ok(interrupted >= 4, "kills landed during in-place writes");
      assert.ok(partial >= 1, "some kill left a half-written file, which the next run finished");
    } finally {
      await run(["umount", output]);
      await unmount(disk);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("kill -9 during apply never leaves a partial file (30 rounds)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-kill-" });
  try {
    const out = `${dir}/lb.conf`;
    // 32 MB, so the staged write (temp file written and fsynced, not yet renamed) is a window
    // of tens of milliseconds that a kill can be aimed into
    const size = 32_000_000;
    const versions = ["a", "b"].map((c) => c.repeat(size) + "\n");
    await Deno.writeTextFile(out, versions[0]);
    const script = `${dir}/apply.ts`;
    await Deno.writeTextFile(
      script,
      `import { applyTargets } from "${ROOT}/lib/apply/apply.ts";
  const content = Deno.args[0].repeat(${size}) + "\\n";
  await applyTargets([{ template: "t", output: ${JSON.stringify(out)}, content }]);`,
    );
    const temps = () =>
      [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".lbsync-tmp"));
    const apply = (letter: string) =>
      new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", script, letter],
        stdout: "null",
        stderr: "null",
      }).spawn();
    // a temp file of this run: one that killed runs before it did not leave
    const ownTemp = (before: Set<string>) => temps().some((n) => !before.has(n));
    // polls until `done` holds or the child exits; tells whether `done` held
    const until = async (child: Deno.ChildProcess, done: () => boolean) => {
      let exited = false;
      child.status.then(() => exited = true);
      const end = Date.now() + 10_000;
      while (!done() && !exited && Date.now() < end) await new Promise((r) => setTimeout(r, 0));
      return done();
    };
    const stagingStarted = (child: Deno.ChildProcess, before: Set<string>) =>
      until(child, () => ownTemp(before));
    // the window, from the temp file's creation to its rename: the shortest of three
    // uninterrupted runs (a first write to a new file can be much slower than the next)
    const windows: number[] = [];
    for (const letter of ["b", "a", "b"]) {
      const timed = apply(letter);
      assert.ok(await stagingStarted(timed, new Set()), "the temp file was seen while staging");
      const opened = performance.now();
      while (temps().length > 0) await new Promise((r) => setTimeout(r, 0));
      windows.push(performance.now() - opened);
      assert.equal((await timed.status).code, 0);
      assert.equal(await Deno.readTextFile(out), versions[letter === "a" ? 0 : 1]);
    }
    const windowMs = Math.min(...windows);
    let midWrite = 0; // the kill left the temp file: it landed before the rename
    let replaced = 0; // the run got past the rename before the kill
    let live = "b";
    for (let round = 0; round < 30; round++) {
      // always the other content: an unchanged file is not written at all
      const letter = live === "a" ? "b" : "a";
      const before = new Set(temps());
      const child = apply(letter);
      // aim into the window: once staging began, wait a share of it spread over the rounds;
      // one round in six waits for the rename, so the new content is seen to arrive too
      if (await stagingStarted(child, before)) {
        if (round % 6 === 5) await until(child, () => !ownTemp(before));
        else await new Promise((r) => setTimeout(r, (windowMs * (round % 6)) / 5));
      }
      try {
        child.kill("SIGKILL");
      } catch { /* finished already */ }
      await child.status;
      if (ownTemp(before)) midWrite += 1;
      const text = await Deno.readTextFile(out);
      assert.ok(
        text === versions[0] || text === versions[1],
        `round ${round}: partial file of ${text.length} bytes`,
      );
      if (text[0] !== live) replaced += 1;
      live = text[0];
    }
    console.log(
      `window ${windowMs.toFixed(0)} ms; of 30 kills ${midWrite} landed mid-write, ` +
        `${replaced} after the rename`,
    );
    assert.ok(midWrite >= 10, `${midWrite} of 30 kills landed during the staged write`);
    assert.ok(replaced >= 5, `${replaced} runs got to the rename: the new content arrives whole`);
    // what killed runs left (temp files, a lock) is cleared by the next apply
    await applyTargets([{ template: "t", output: out, content: "final\n" }], {
      lockTimeoutMs: 2000,
    });
    assert.deepEqual(leftInDir(dir), ["apply.ts", "lb.conf"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
