/** Safe apply on a real file system: writes, checks, rollback, backups, reloads, locks. */
import assert from "node:assert/strict";
import { leftInDir } from "../support/fixtures.ts";
import { type ApplyTarget, applyTargets } from "../../lib/apply/apply.ts";
import { backupLocation, listBackups } from "../../lib/apply/backup.ts";
import { acquireLock, lockPath } from "../../lib/apply/lock.ts";
import { ApplyError } from "../../lib/core/errors.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "lbsync-apply-" });
}

/** A shell command that appends a line to `file` each time it runs. */
const counter = (file: string) => `echo run >> '${file}'`;

async function runs(file: string): Promise<number> {
  try {
    return (await Deno.readTextFile(file)).split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

/** What a run left in `dir` (lock files stay by design). */
function entries(dir: string): Promise<string[]> {
  return Promise.resolve(leftInDir(dir));
}

Deno.test("applyTargets() writes changed bytes only, and reloads only then", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  const reload = counter(`${dir}/reloads`);
  const target = (content: string): ApplyTarget => ({
    template: "t",
    output: out,
    content,
    reload,
  });
  const first = await applyTargets([target("one\n")]);
  assert.equal(first.targets[0].changed, true);
  assert.equal(await Deno.readTextFile(out), "one\n");
  const mtime = (await Deno.stat(out)).mtime!.getTime();
  const again = await applyTargets([target("one\n")]);
  assert.equal(again.targets[0].changed, false);
  assert.deepEqual(again.reloads, []);
  assert.equal((await Deno.stat(out)).mtime!.getTime(), mtime);
  assert.equal(await runs(`${dir}/reloads`), 1);
  await applyTargets([target("two\n")]);
  assert.equal(await runs(`${dir}/reloads`), 2);
  assert.deepEqual(await entries(dir), ["lb.conf", "reloads"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("applyTargets() runs a shared reload command once per apply", async () => {
  const dir = await tempDir();
  const reload = counter(`${dir}/reloads`);
  const report = await applyTargets([
    { template: "nginx", output: `${dir}/http.conf`, content: "a", reload },
    { template: "nginx-stream", output: `${dir}/stream.conf`, content: "b", reload },
    {
      template: "haproxy",
      output: `${dir}/haproxy.cfg`,
      content: "c",
      reload: `${reload}; echo other`,
    },
  ]);
  assert.equal(report.reloads.length, 2);
  assert.equal(await runs(`${dir}/reloads`), 2);
  assert.equal(report.reloads[1].output, "other");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a failed check with {} leaves the live file byte-identical and reloads nothing", async () => {
  const dir = await tempDir();
  const out = `${dir}/haproxy.cfg`;
  const live = new Uint8Array([0x6f, 0x6c, 0x64, 0xff, 0x0a]); // not even UTF-8
  await Deno.writeFile(out, live);
  const check = `grep -q good {} || { echo "[ALERT] parsing {}: bad config" >&2; exit 1; }`;
  const reload = counter(`${dir}/reloads`);
  await assert.rejects(
    applyTargets([{ template: "haproxy", output: out, content: "bad\n", check, reload }]),
    (e) =>
      e instanceof ApplyError &&
      /^Check failed for .*haproxy\.cfg: `grep .*` exited 1: \[ALERT\] parsing '.*\.lbsync-tmp': bad config$/
        .test(e.message),
  );
  assert.deepEqual(await Deno.readFile(out), live);
  assert.equal(await runs(`${dir}/reloads`), 0);
  assert.deepEqual(await entries(dir), ["haproxy.cfg"]);
  const ok = await applyTargets([{
    template: "haproxy",
    output: out,
    content: "good\n",
    check,
    reload,
  }]);
  assert.equal(ok.checks[0].code, 0);
  assert.equal(await Deno.readTextFile(out), "good\n");
  assert.equal(await runs(`${dir}/reloads`), 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a failed check after the swap restores every file of the apply byte for byte", async () => {
  const dir = await tempDir();
  await Deno.writeTextFile(`${dir}/http.conf`, "old http\n");
  // the checker reads the live files, as `nginx -t` does with its includes
  const check =
    `! grep -q broken '${dir}/http.conf' '${dir}/stream.conf' 2>/dev/null || { echo "nginx: [emerg] broken" >&2; exit 1; }`;
  const reload = counter(`${dir}/reloads`);
  await assert.rejects(
    applyTargets([
      { template: "a", output: `${dir}/http.conf`, content: "broken\n", check, reload },
      { template: "b", output: `${dir}/stream.conf`, content: "new stream\n", check, reload },
    ]),
    {
      message:
        `Check failed after writing ${dir}/http.conf, ${dir}/stream.conf: \`${check}\` exited 1: nginx: [emerg] broken; previous files restored`,
    },
  );
  assert.equal(await Deno.readTextFile(`${dir}/http.conf`), "old http\n");
  assert.deepEqual(await entries(dir), ["http.conf"], "a file that did not exist is removed again");
  assert.equal(await runs(`${dir}/reloads`), 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a missing check command is a clear failure and loses nothing", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  await Deno.writeTextFile(out, "live\n");
  for (const check of ["lbsync-no-such-checker {}", "lbsync-no-such-checker"]) {
    await assert.rejects(
      applyTargets([{ template: "t", output: out, content: "new\n", check }]),
      (e) =>
        e instanceof ApplyError &&
        /`lbsync-no-such-checker.*` not found \(exit 127\)/.test(e.message),
    );
    assert.equal(await Deno.readTextFile(out), "live\n");
  }
  assert.deepEqual(await entries(dir), ["lb.conf"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("reload failures and timeouts are errors with the command's own words", async () => {
  const dir = await tempDir();
  await assert.rejects(
    applyTargets([{
      template: "t",
      output: `${dir}/a`,
      content: "1",
      reload: "echo 'nginx: [error] invalid PID number' >&2; exit 1",
    }]),
    {
      message:
        "Reload failed: `echo 'nginx: [error] invalid PID number' >&2; exit 1` exited 1: nginx: [error] invalid PID number; previous files restored",
    },
  );
  const started = Date.now();
  await assert.rejects(
    applyTargets([{ template: "t", output: `${dir}/b`, content: "1", reload: "sleep 5" }], {
      commandTimeoutMs: 200,
    }),
    { message: "Reload failed: `sleep 5` did not finish within 200 ms; previous files restored" },
  );
  assert.ok(Date.now() - started < 3000);
  assert.deepEqual(await entries(dir), [], "a new file is taken back after a failed reload");
  // a replaced file is restored, so the next apply finds the change and reloads again
  await Deno.writeTextFile(`${dir}/c`, "old");
  const failing = { template: "t", output: `${dir}/c`, content: "new", reload: "exit 1" };
  await assert.rejects(applyTargets([failing]), ApplyError);
  assert.equal(await Deno.readTextFile(`${dir}/c`), "old");
  const retried = await applyTargets([{ ...failing, reload: "true" }]);
  assert.equal(retried.reloads.length, 1, "the next apply reloads");
  assert.equal(await Deno.readTextFile(`${dir}/c`), "new");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("backups: the replaced file is copied first, newest N kept", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  const backups = `${dir}/backups`;
  let clock = Date.UTC(2026, 10, 21, 22, 34, 43, 123);
  const now = () => new Date(clock += 1000);
  for (const content of ["v1", "v2", "v3", "v4"]) {
    await applyTargets([{ template: "t", output: out, content }], {
      backupDir: backups,
      keepBackups: 2,
    }, now);
  }
  const { folder } = backupLocation(backups, out);
  assert.equal(folder, `${backups}${dir}`, "kept under the output's own path");
  const names = await listBackups(folder, "lb.conf");
  assert.deepEqual(names, ["lb.conf.20261121T223445.123Z", "lb.conf.20261121T223446.123Z"]);
  assert.equal(await Deno.readTextFile(`${folder}/${names[0]}`), "v2");
  assert.equal(await Deno.readTextFile(`${folder}/${names[1]}`), "v3");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("backups: two outputs with the same file name keep their own, never prune each other's", async () => {
  const dir = await tempDir();
  await Deno.mkdir(`${dir}/conf.d`);
  await Deno.mkdir(`${dir}/stream.d`);
  const http = `${dir}/conf.d/lbsync.conf`;
  const stream = `${dir}/stream.d/lbsync.conf`;
  const backups = `${dir}/backups`;
  let clock = Date.UTC(2026, 10, 21, 22, 34, 43, 123);
  const now = () => new Date(clock += 1000);
  for (const n of [1, 2, 3]) {
    await applyTargets(
      [
        { template: "nginx", output: http, content: `http ${n}` },
        { template: "nginx-stream", output: stream, content: `stream ${n}` },
      ],
      { backupDir: backups, keepBackups: 1 },
      now,
    );
  }
  for (const [output, kind] of [[http, "http"], [stream, "stream"]]) {
    const { folder, base } = backupLocation(backups, output);
    const names = await listBackups(folder, base);
    assert.equal(names.length, 1, output);
    assert.equal(await Deno.readTextFile(`${folder}/${names[0]}`), `${kind} 2`);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("dry run writes nothing and gives a unified diff", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  await Deno.writeTextFile(out, "a\nb\n");
  const report = await applyTargets([{
    template: "t",
    output: out,
    content: "a\nc\n",
    reload: "exit 1",
  }], { dryRun: true });
  assert.equal(
    report.targets[0].diff,
    `--- ${out} (live)\n+++ ${out} (rendered)\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n`,
  );
  assert.equal(await Deno.readTextFile(out), "a\nb\n");
  assert.deepEqual(report.reloads, []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the lock: a live holder makes the next run wait, then fail; released, it goes on", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  const holder = await Deno.open(lockPath(out), { write: true, create: true });
  await holder.lock(true);
  const started = Date.now();
  await assert.rejects(
    applyTargets([{ template: "t", output: out, content: "x" }], { lockTimeoutMs: 300 }),
    { message: `Cannot lock ${out}: another lbsync run holds ${lockPath(out)} (waited 300 ms)` },
  );
  assert.ok(Date.now() - started >= 300);
  // a holder that releases in time lets the waiting run go on
  setTimeout(() => holder.unlock().then(() => holder.close()), 150);
  await applyTargets([{ template: "t", output: out, content: "y" }], { lockTimeoutMs: 5000 });
  assert.equal(await Deno.readTextFile(out), "y");
  // the timed-out run let go of its pending lock: a third run is not blocked by it
  await applyTargets([{ template: "t", output: out, content: "w" }], { lockTimeoutMs: 300 });
  assert.equal(await Deno.readTextFile(out), "w");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("the lock dies with its holder: kill -9 frees it; a pid in the file means nothing", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  // a holder process with the lock, killed with -9
  const child = new Deno.Command("flock", {
    args: ["-o", lockPath(out), "sleep", "20"], // -o: only flock itself holds the lock
    stdout: "null",
    stderr: "null",
  }).spawn();
  // proven held: a run times out while the child lives
  let held = false;
  for (let i = 0; i < 100 && !held; i++) {
    held = await applyTargets([{ template: "t", output: out, content: "x" }], {
      lockTimeoutMs: 50,
    }).then(() => false, () => true);
  }
  assert.ok(held, "the child took the lock");
  child.kill("SIGKILL");
  await child.status;
  await applyTargets([{ template: "t", output: out, content: "z" }], { lockTimeoutMs: 2000 });
  assert.equal(await Deno.readTextFile(out), "z");
  // a lock file naming a live pid (PID reuse, lbsync as PID 1) is just a file
  await Deno.writeTextFile(lockPath(out), `${Deno.pid}\n1\n`);
  await applyTargets([{ template: "t", output: out, content: "v" }], { lockTimeoutMs: 300 });
  assert.equal(await Deno.readTextFile(out), "v");
  assert.deepEqual(await entries(dir), ["lb.conf"]);
  assert.ok((await Deno.stat(lockPath(out))).isFile, "the lock file stays for the next run");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("six concurrent runs, ten rounds: never two holders at once", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  let inside = 0;
  let most = 0;
  for (let round = 0; round < 10; round++) {
    await Promise.all(Array.from({ length: 6 }, async (_, i) => {
      const lock = await acquireLock(out, { timeoutMs: 10_000 });
      inside += 1;
      most = Math.max(most, inside);
      await new Promise((r) => setTimeout(r, 2));
      inside -= 1;
      await lock.release();
      return i;
    }));
  }
  assert.equal(most, 1);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("two overlapping runs never interleave: each apply sees the other's complete file", async () => {
  const dir = await tempDir();
  const out = `${dir}/lb.conf`;
  const check = `sleep 0.2; grep -qx "$(head -c 1 {})\\{20000\\}" {}`;
  const big = (c: string) => c.repeat(20000) + "\n";
  await Promise.all([
    applyTargets([{ template: "t", output: out, content: big("a"), check }]),
    applyTargets([{ template: "t", output: out, content: big("b"), check }]),
  ]);
  const final = await Deno.readTextFile(out);
  assert.ok(final === big("a") || final === big("b"));
  assert.deepEqual(await entries(dir), ["lb.conf"]);
  await Deno.remove(dir, { recursive: true });
});
