/**
 * Watch mode fed by files: `--from-file` sources, template files and `--config`, edited in
 * place or by rename, including broken edits; SIGHUP and SIGTERM. A real `lbsync watch`
 * process; no engine needed.
 */
import assert from "node:assert/strict";
import { readOr, WatchProcess, writeByRename } from "../support/watch_process.ts";
import { cleanUp } from "../support/tools.ts";

/** Docker inspect JSON for host-network containers of service `app` on the given ports. */
function containers(ports: number[]): string {
  return JSON.stringify(ports.map((port) => ({
    Id: String(port).padStart(64, "a"),
    Name: `/app-${port}`,
    Created: "2026-11-21T10:00:00Z",
    State: { Status: "running", Running: true },
    Config: { Image: "app", Labels: { "lbsync.service": "app", "lbsync.port": String(port) } },
    HostConfig: { NetworkMode: "host" },
    NetworkSettings: { Networks: {} },
  })));
}

const LIST = "{{#services}}{{name}}:{{#servers}} {{port}}{{/servers}}\n{{/services}}";

Deno.test({
  name:
    "watch: --from-file sources and template files re-render on change; a broken template keeps the old one",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-watch-files-" });
    const source = `${dir}/containers.json`;
    const template = `${dir}/list.mustache`;
    const out = `${dir}/list.txt`;
    await Deno.writeTextFile(source, containers([8001]));
    await Deno.writeTextFile(template, `v1 ${LIST}`);
    const reloads = `${dir}/reloads`;
    const watch = new WatchProcess([
      "--from-file",
      source,
      "-t",
      template,
      "-o",
      out,
      "--heartbeat",
      "50ms:300ms",
      "--reload-cmd",
      `echo reload >> ${reloads}`,
    ]);
    try {
      await watch.until("first render", async () => (await readOr(out)) === "v1 app: 8001\n");

      await writeByRename(source, containers([8001, 8002]));
      await watch.until(
        "a new container from the source",
        async () => (await readOr(out)) === "v1 app: 8001 8002\n",
      );

      await Deno.writeTextFile(template, `v2 ${LIST}`); // in place
      await watch.until(
        "template edited in place",
        async () => (await readOr(out)).startsWith("v2 "),
      );

      const mark = watch.log.length;
      await writeByRename(template, "v3 {{#services}}{{name}"); // does not parse
      await watch.untilLog(
        /Keeping the previous templates: Cannot parse template .*list\.mustache/,
        10_000,
        mark,
      );
      assert.equal(await readOr(out), "v2 app: 8001 8002\n", "the old template stays in force");

      await writeByRename(source, "{ not json"); // a broken source keeps its last contents
      await watch.untilLog(
        /Cannot read containers from .*containers\.json: not valid JSON/,
        10_000,
        mark,
      );
      assert.equal(await readOr(out), "v2 app: 8001 8002\n");

      await writeByRename(template, `v4 ${LIST}`);
      await writeByRename(source, containers([8003]));
      await watch.until(
        "the next good edits",
        async () => (await readOr(out)) === "v4 app: 8003\n",
      );
      assert.ok((await readOr(reloads)).split("\n").filter(Boolean).length >= 4);
    } finally {
      await cleanUp(
        async () => {
          assert.equal((await watch.stop()).code, 0, watch.log);
          assert.match(watch.log, /lbsync: stopped\n$/);
        },
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});

Deno.test({
  name:
    "watch: --config edits re-render; a broken config keeps the previous settings; SIGHUP resyncs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-watch-config-" });
    const source = `${dir}/containers.json`;
    const config = `${dir}/lbsync.json`;
    const out = `${dir}/haproxy.cfg`;
    await Deno.writeTextFile(source, containers([8001]));
    const settings = (listen: number) =>
      JSON.stringify({
        "from-file": source,
        listen,
        "host-ip": "127.0.0.1",
        targets: [{ template: "haproxy", output: out }],
      });
    await Deno.writeTextFile(config, settings(8080));
    const watch = new WatchProcess(["--config", config, "--heartbeat", "50ms:300ms"]);
    try {
      await watch.until("first render", async () => (await readOr(out)).includes("bind :8080"));
      await writeByRename(config, settings(9090));
      await watch.until(
        "the new listen port",
        async () => (await readOr(out)).includes("bind :9090"),
      );

      const mark = watch.log.length;
      await writeByRename(config, '{"listen": 9091, "lisen": 1}');
      await watch.untilLog(
        /Keeping the previous settings: Invalid config .*lbsync\.json: \$\.lisen: unknown setting/,
        10_000,
        mark,
      );
      assert.ok((await readOr(out)).includes("bind :9090"));

      await writeByRename(config, settings(9092));
      await watch.until(
        "a good config again",
        async () => (await readOr(out)).includes("bind :9092"),
      );

      const beforeHup = watch.log.length;
      watch.signal("SIGHUP");
      await watch.untilLog(/SIGHUP: full resync, re-reading files/, 5_000, beforeHup);
    } finally {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});

Deno.test({
  name:
    "watch: a refused change is quarantined or reported, the daemon keeps running and applies the next good change",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-watch-check-" });
    const source = `${dir}/containers.json`;
    const out = `${dir}/list.txt`;
    await Deno.writeTextFile(source, containers([8001]));
    await Deno.writeTextFile(`${dir}/list.mustache`, LIST);
    const watch = new WatchProcess([
      "--from-file",
      source,
      "-t",
      `${dir}/list.mustache`,
      "-o",
      out,
      "--heartbeat",
      "50ms:300ms",
      "--check-cmd",
      `! grep -q 8666 {} && test ! -e ${dir}/broken`,
    ]);
    try {
      await watch.until("first render", async () => (await readOr(out)) === "app: 8001\n");
      // the change of app is refused: app is held at its last good form
      let mark = watch.log.length;
      await writeByRename(source, containers([8001, 8666]));
      await watch.untilLog(
        /lbsync: warning: service app quarantined: the balancer refused it \(Check failed for .*list\.txt: .* exited 1\)/,
        10_000,
        mark,
      );
      assert.equal(await readOr(out), "app: 8001\n");
      // a refusal no changed service explains (the balancer's own state): reported, retried
      await Deno.writeTextFile(`${dir}/broken`, "");
      mark = watch.log.length;
      await writeByRename(source, containers([8001, 8003]));
      await watch.untilLog(
        /lbsync: error: Check failed for .*list\.txt: .* exited 1 \(will retry at the next change\)/,
        10_000,
        mark,
      );
      assert.equal(await readOr(out), "app: 8001\n");
      await Deno.remove(`${dir}/broken`);
      await writeByRename(source, containers([8001, 8002]));
      await watch.until(
        "the next good change",
        async () => (await readOr(out)) === "app: 8001 8002\n",
      );
    } finally {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});
