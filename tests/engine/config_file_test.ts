import assert from "node:assert/strict";
import { parseConfigFile } from "../../lib/settings/config_file.ts";
import { parseCommandLine } from "../../lib/settings/cli_args.ts";
import { eventually } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { ROOT } from "../support/fixtures.ts";
import { dockerOk, ENGINE_SOCK, engineMissing, Scenario } from "../support/engine.ts";

const EXAMPLE = `${ROOT}/examples/containers.json`;

Deno.test("parseConfigFile() reads settings as the options' values, and targets", () => {
  const config = parseConfigFile(
    JSON.stringify({
      docker: ["unix:///a.sock", "tcp://b:2375"],
      listen: 8080,
      "include-unhealthy": true,
      "allow-partial": false,
      "backup-dir": "/var/backups/lbsync",
      targets: [
        {
          template: "nginx",
          output: "/etc/nginx/conf.d/lbsync.conf",
          check: "nginx -t",
          reload: "nginx -s reload",
        },
        {
          template: "haproxy",
          output: "/etc/haproxy/haproxy.cfg",
          haproxySocket: "/run/haproxy/admin.sock",
        },
      ],
    }),
    "lbsync.json",
  );
  assert.deepEqual(config.values, {
    docker: ["unix:///a.sock", "tcp://b:2375"],
    listen: "8080",
    "include-unhealthy": true,
    "backup-dir": "/var/backups/lbsync",
  });
  assert.deepEqual(config.targets, [
    {
      template: "nginx",
      output: "/etc/nginx/conf.d/lbsync.conf",
      check: "nginx -t",
      reload: "nginx -s reload",
      haproxySocket: undefined,
    },
    {
      template: "haproxy",
      output: "/etc/haproxy/haproxy.cfg",
      check: undefined,
      reload: undefined,
      haproxySocket: "/run/haproxy/admin.sock",
    },
  ]);
});

Deno.test("parseConfigFile() names the file, the JSON path and the reason", () => {
  const cases: [string, string][] = [
    ["{", "not valid JSON (Expected property name or '}' in JSON at position 1 (line 1 column 2))"],
    ["[]", "$: expected an object"],
    ['{"lisen": 80}', "$.lisen: unknown setting"],
    ['{"docker": ["a", 1]}', "$.docker[1]: expected a string"],
    ['{"include-unhealthy": "yes"}', "$.include-unhealthy: expected true or false"],
    ['{"listen": [80]}', "$.listen: expected a string or a number"],
    ['{"targets": {}}', "$.targets: expected an array"],
    ['{"targets": [{"template": "nginx"}]}', "$.targets[0].output: expected a non-empty string"],
    [
      '{"targets": [{"template": "nginx", "output": "x", "reload-cmd": "y"}]}',
      "$.targets[0].reload-cmd: unknown setting (use template, output, check, reload, haproxySocket)",
    ],
    [
      '{"targets": [{"template": "haproxy", "output": "x", "haproxySocket": "/a b"}]}',
      "$.targets[0].haproxySocket: expected an absolute path of letters, digits and . _ - / @ +",
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseConfigFile(text, "/etc/lbsync.json"), {
      name: "ConfigError",
      message: `Invalid config /etc/lbsync.json: ${message}`,
    });
  }
});

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

Deno.test("a config file's values come under the command line's: a flag wins, lists join", () => {
  const config = parseConfigFile(
    JSON.stringify({ docker: ["unix:///a.sock"], "label-prefix": "app", heartbeat: "1s" }),
    "lbsync.json",
  );
  const command = parseCommandLine(
    ["watch", "--docker", "unix:///b.sock", "--heartbeat", "2s", "-t", "nginx", "-o", "-"],
    {},
    config,
  );
  assert.ok(command.command === "watch");
  assert.deepEqual(command.options.docker?.urls, ["unix:///a.sock", "unix:///b.sock"]);
  assert.equal(command.options.labelPrefix, "app");
  const flagOnly = parseCommandLine(["watch", "--heartbeat", "2s", "-t", "nginx", "-o", "-"]);
  assert.ok(flagOnly.command === "watch");
  assert.deepEqual(command.options.heartbeat, flagOnly.options.heartbeat);
});
