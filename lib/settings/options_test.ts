/** The one option table: parser, config file and help agree with it (docs/cli.md is made from it). */
import assert from "node:assert/strict";
import { CONFIG_SETTINGS } from "./config_file.ts";
import { helpText } from "./help.ts";
import { COMMANDS, flagOf, OPTION_SPECS } from "./options.ts";
import { buildModel } from "../core/model/model.ts";
import { explainRows } from "../core/explain.ts";
import { container } from "../../tests/support/fixtures.ts";
import { finalizeModelOptions } from "../core/model/model_settings.ts";
import { finalizeRunOptions, finalizeWatchOptions } from "../watch/run_settings.ts";
import { lbsync } from "../../tests/support/cli.ts";
import { DEFAULTS } from "../core/defaults.ts";
import { formatDuration, parseDuration } from "../core/util/duration.ts";

Deno.test("every option is in the general help, and in each command's help exactly where it applies", () => {
  const all = helpText();
  for (const o of OPTION_SPECS) {
    assert.ok(all.includes(`--${o.name}`), o.name);
    for (const command of COMMANDS) {
      const shown = new RegExp(`^ {2}(-\\w, )?--${o.name}\\b`, "m").test(helpText(command));
      assert.equal(shown, o.commands.includes(command), `--${o.name} in help ${command}`);
    }
  }
});

Deno.test("defaults are written once: the help prints DEFAULTS, durations as they parse", () => {
  const help = helpText();
  for (const ms of [DEFAULTS.readyTimeoutMs, DEFAULTS.commandTimeoutMs, DEFAULTS.resyncMs]) {
    assert.ok(help.includes(`default ${formatDuration(ms)}`), formatDuration(ms));
    assert.equal(parseDuration(formatDuration(ms)), ms);
  }
  assert.ok(help.includes(`default ${DEFAULTS.labelPrefix})`));
  assert.deepEqual([0, 1, 1500, 2000, 60_000, 90_000, 7_200_000].map(formatDuration), [
    "0",
    "1ms",
    "1500ms",
    "2s",
    "1m",
    "90s",
    "2h",
  ]);
});

Deno.test("lbsync help COMMAND and COMMAND --help print that command's help", async () => {
  for (const command of COMMANDS) {
    const a = await lbsync(["help", command]);
    const b = await lbsync([command, "--help"]);
    assert.equal(a.code, 0);
    assert.equal(a.stdout, helpText(command));
    assert.equal(b.stdout, helpText(command));
  }
  assert.equal((await lbsync(["help"])).stdout, helpText());
});

Deno.test("an option of another command is a usage error naming the commands it works with", async () => {
  for (const o of OPTION_SPECS) {
    for (const command of COMMANDS.filter((c) => !o.commands.includes(c))) {
      const args = [command, ...(command === "route" ? ["http://x/"] : [])];
      const value = o.type === "boolean" ? [] : ["1s"];
      const r = await lbsync([...args, `--${o.name}`, ...value, "-t", "nginx"]);
      assert.equal(r.code, 2, `${command} --${o.name}`);
      assert.equal(
        r.stderr,
        `lbsync: error: --${o.name} works with ${o.commands.join(", ")}, not ${command}\n`,
      );
    }
  }
});

Deno.test("a mistyped option names the closest one", async () => {
  const r = await lbsync(["render", "--ouput", "x"]);
  assert.equal(r.code, 2);
  assert.equal(
    r.stderr,
    "lbsync: error: Unknown option --ouput; did you mean --output? (see --help)\n",
  );
  const far = await lbsync(["render", "--zzzzzzzz"]);
  assert.equal(far.stderr, "lbsync: error: Unknown option --zzzzzzzz (see --help)\n");
});

Deno.test("a config file holds every option the table allows there", () => {
  const allowed = OPTION_SPECS.filter((o) => o.config !== false).map((o) => o.name).sort();
  assert.deepEqual(Object.keys(CONFIG_SETTINGS).sort(), allowed);
});

Deno.test("a reason that a setting would change names it: the library by field, the CLI by flag", () => {
  const unhealthy = container("sick", { "lbsync.service": "web" }, { health: "unhealthy" });
  const orphan = container("orphan", { "lbsync.service": "web" }, { networks: [] });
  const result = buildModel([unhealthy, orphan]);
  const [lib, cli] = [explainRows(result), explainRows(result, flagOf)];
  assert.deepEqual(lib.map((r) => r.reason), [
    "on no network: use published ports or host networking (option address published)",
    "Docker health is unhealthy (option includeUnhealthy)",
  ]);
  assert.deepEqual(cli.map((r) => r.reason), [
    "on no network: use published ports or host networking (option --address published)",
    "Docker health is unhealthy (option --include-unhealthy)",
  ]);
  for (
    const setting of ["network", "address", "includeUnhealthy", "match", "matchImage"] as const
  ) {
    assert.ok(OPTION_SPECS.some((o) => `--${o.name}` === flagOf(setting)), setting);
  }
});

Deno.test("settings are finalized once: every default applied, invalid values refused by name", () => {
  const model = finalizeModelOptions({});
  assert.equal(model.labelPrefix, DEFAULTS.labelPrefix);
  assert.equal(model.listen, DEFAULTS.listen);
  assert.equal(model.httpsListen, DEFAULTS.httpsListen);
  assert.equal(model.address, "network");
  const watch = finalizeWatchOptions({ listen: 8080 });
  assert.equal(watch.listen, 8080);
  assert.equal(watch.readyTimeoutMs, DEFAULTS.readyTimeoutMs);
  assert.deepEqual(watch.heartbeat, DEFAULTS.heartbeat);
  assert.equal(watch.resyncMs, DEFAULTS.resyncMs);
  assert.throws(
    () => finalizeModelOptions({ httpsListen: 0 }),
    /^ConfigError: Invalid HTTPS port 0/,
  );
  assert.throws(() => finalizeRunOptions({ labelPrefix: "a b" }), /Invalid label prefix "a b"/);
});
