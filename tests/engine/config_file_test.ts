/**
 * `--config` through the CLI: targets rendered and reloaded, dry runs, exit codes, a nesting
 * bound, and a container signalled through the real engine (the file's parse is
 * lib/settings/config_file_test.ts).
 */
import assert from "node:assert/strict";
import { eventually } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { ROOT } from "../support/fixtures.ts";
import { dockerOk, ENGINE_SOCK, engineMissing, Scenario } from "../support/engine.ts";

const EXAMPLE = `${ROOT}/examples/containers.json`;

Deno.test("--config: several targets rendered, written, and each distinct reload run once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-config-" });
  const log = `${dir}/reloads.log`;
  await Deno.writeTextFile(
    `${dir}/lbsync.json`,
    JSON.stringify({
      "from-file": EXAMPLE,
      listen: 8088,
      targets: [
        {
          template: "nginx",
          output: `${dir}/http.conf`,
          check: "test -s {}",
          reload: `echo nginx >> ${log}`,
        },
        { template: "nginx-stream", output: `${dir}/stream.conf`, reload: `echo nginx >> ${log}` },
        {
          template: "haproxy",
          output: `${dir}/haproxy.cfg`,
          check: "grep -q frontend {}",
          reload: `echo haproxy >> ${log}`,
        },
      ],
    }),
  );
  const r = await lbsync(["render", "--config", `${dir}/lbsync.json`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await Deno.readTextFile(log), "nginx\nhaproxy\n");
  assert.match(await Deno.readTextFile(`${dir}/http.conf`), /listen 8088 default_server;/);
  assert.match(await Deno.readTextFile(`${dir}/stream.conf`), /listen 5432;/);
  // command-line flags win over the file
  const again = await lbsync(["render", "--config", `${dir}/lbsync.json`, "--listen", "8089"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(await Deno.readTextFile(`${dir}/haproxy.cfg`), /bind :8089/);
  assert.equal(await Deno.readTextFile(log), "nginx\nhaproxy\nnginx\nhaproxy\n");
  const missing = await lbsync(["render", "--config", `${dir}/none.json`]);
  assert.deepEqual(missing, {
    code: 2,
    stdout: "",
    stderr: `lbsync: error: Cannot read config ${dir}/none.json: no such file\n`,
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("--dry-run prints a unified diff and writes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-dry-" });
  const out = `${dir}/haproxy.cfg`;
  await lbsync(["render", "--from-file", EXAMPLE, "-t", "haproxy", "-o", out]);
  const before = await Deno.readTextFile(out);
  const r = await lbsync([
    "render",
    "--from-file",
    EXAMPLE,
    "-t",
    "haproxy",
    "-o",
    out,
    "--listen",
    "81",
    "--dry-run",
    "--reload-cmd",
    "false",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    new RegExp(`^--- ${out} \\(live\\)\n\\+\\+\\+ ${out} \\(rendered\\)\n@@ `),
  );
  assert.match(r.stdout, /\n-frontend lbsync:http-80\n/);
  assert.match(r.stdout, /\n\+frontend lbsync:http-81\n/);
  assert.equal(await Deno.readTextFile(out), before);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("apply failures exit 1 with one line; usage mistakes exit 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-exit-" });
  const r = await lbsync([
    "render",
    "--from-file",
    EXAMPLE,
    "-t",
    "nginx",
    "-o",
    `${dir}/a.conf`,
    "--check-cmd",
    "false {}",
  ]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr,
    `lbsync: error: Check failed for ${dir}/a.conf: \`false '${dir}/` +
      r.stderr.split(`\`false '${dir}/`)[1],
  );
  assert.match(r.stderr, /\.lbsync-tmp'` exited 1\n$/);
  for (
    const [args, message] of [
      [["--keep-backups", "0"], 'Invalid --keep-backups "0": not an integer in 1..100000'],
      [
        ["--command-timeout", "soon"],
        'Invalid --command-timeout: Cannot parse duration "soon": use a number and ms, s, m or h (e.g. 500ms, 2s)',
      ],
      [
        ["--signal-container", "nginx:HUP:x"],
        'Invalid --signal-container "nginx:HUP:x": use NAME or NAME:SIGNAL (e.g. nginx:SIGHUP)',
      ],
    ] as const
  ) {
    const u = await lbsync(["render", "--from-file", EXAMPLE, "-t", "nginx", ...args]);
    assert.deepEqual(u, { code: 2, stdout: "", stderr: `lbsync: error: ${message}\n` });
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "engine: --signal-container signals a container through the Docker API after a change",
  ignore: await engineMissing(),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-signal-" });
    const t = new Scenario();
    try {
      const script = "trap 'echo hup >> /www/signals' HUP; while true; do sleep 0.2; done";
      const balancer = t.name("balancer");
      t.adopt([balancer]); // run by hand (its own entrypoint): removed with the scenario
      await dockerOk([
        "run",
        "-d",
        "--name",
        balancer,
        "--label",
        `lbsync-test=${t.tag}`,
        "--entrypoint",
        "/bin/sh",
        "lbsync-test/httpd:latest",
        "-c",
        script,
      ]);
      const args = [
        "render",
        "--from-file",
        EXAMPLE,
        "--docker",
        `unix://${ENGINE_SOCK}`,
        "-t",
        "nginx",
        "-o",
        `${dir}/lbsync.conf`,
        "--signal-container",
        balancer,
        "-v",
      ];
      const first = await lbsync(args);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stderr, new RegExp(`sent SIGHUP to container ${balancer}`));
      const unchanged = await lbsync(args);
      assert.equal(unchanged.code, 0);
      assert.doesNotMatch(unchanged.stderr, /sent SIGHUP/, "the second run changed nothing");
      // the one signal sent arrived (and it is the only one: the second run sent none)
      await eventually(async () =>
        (await dockerOk(["exec", balancer, "cat", "/www/signals"]).catch(() => "")) === "hup"
      );
      const missing = await lbsync([
        ...args.slice(0, 8),
        `${dir}/other.conf`,
        "--signal-container",
        "lbsync-no-such-container:SIGUSR1",
      ]);
      assert.equal(missing.code, 1);
      assert.equal(
        missing.stderr,
        `lbsync: error: Cannot signal container lbsync-no-such-container (SIGUSR1) on unix://${ENGINE_SOCK}: no such container\n`,
      );
    } finally {
      await t.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("a config nested without bound is refused naming the file, not a stack overflow", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-deep-" });
  const file = `${dir}/deep.json`;
  const deep = "[".repeat(20_000) + "]".repeat(20_000);
  try {
    await Deno.writeTextFile(
      file,
      `{"services":[{"name":"a","servers":["10.0.0.1:80"],"schemes":${deep}}]}`,
    );
    const r = await lbsync(["render", "--config", file, "-t", "nginx", "-o", "-"]);
    assert.equal(r.code, 2);
    assert.equal(
      r.stderr,
      `lbsync: error: Invalid config ${file}: not valid JSON (nested deeper than 64 levels at position 122)\n`,
    );
    await Deno.writeTextFile(
      file,
      `{"services":[{"name":"a","servers":["10.0.0.1:80"],"schemes":[[1]]}]}`,
    );
    const shallow = await lbsync(["render", "--config", file, "-t", "nginx", "-o", "-"]);
    assert.equal(
      shallow.stderr,
      `lbsync: error: Invalid config ${file}: $.services[0].schemes: an array: use ["http"], ["https"] or both\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
