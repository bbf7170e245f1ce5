/** The config file's parse (`parseConfigFile`) and how its values meet the command line's. */
import assert from "node:assert/strict";
import { parseConfigFile } from "./config_file.ts";
import { parseCommandLine } from "./cli_args.ts";

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
