/**
 * Safe apply with real nginx and HAProxy serving real traffic on 127.0.0.1: a config the
 * balancer refuses never replaces the live one, and the old config keeps serving; a good
 * one is written, checked and reloaded.
 */
import assert from "node:assert/strict";
import { backupLocation, listBackups } from "../../lib/apply/backup.ts";
import {
  answerSet,
  backend,
  eventually,
  freePort,
  httpGet,
  nginxMainConf,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { missing, requireTool, run, waitForExit } from "../support/tools.ts";

/** Docker inspect JSON for host-network containers serving on the given ports. */
function containersJson(ports: number[]): string {
  return JSON.stringify(ports.map((port, i) => ({
    Id: `${i + 1}`.repeat(64).slice(0, 64),
    Name: `/app-${i + 1}`,
    Created: `2026-11-21T10:00:0${i}Z`,
    State: { Status: "running", Running: true },
    Config: {
      Image: "app",
      Labels: { "lbsync.service": "app", "lbsync.port": String(port) },
      ExposedPorts: {},
    },
    HostConfig: { NetworkMode: "host" },
    NetworkSettings: { Networks: { host: { IPAddress: "" } } },
  })));
}

/** `lbsync render --from-file SOURCE -t TEMPLATE -o OUT` with more arguments. */
function renderTo(out: string, source: string, template: string, args: string[]) {
  return lbsync(["render", "--from-file", source, ...args, "-t", template, "-o", out]);
}

function bodies(port: number, count: number): Promise<Set<string>> {
  return answerSet(port, "/", "app.test", count);
}

function sameSet(seen: Set<string>, expected: string[]): boolean {
  return seen.size === expected.length && expected.every((e) => seen.has(e));
}

/** One request of {@link clientLoops}: when it was sent and answered, and what came back. */
interface Sent {
  start: number;
  end: number;
  answer: string;
}

/**
 * `clients` loops sending requests one after another (each on a fresh connection) until
 * `stop()`; resolves with every request, in the order answered.
 */
async function clientLoops(port: number, clients: number, stop: () => boolean): Promise<Sent[]> {
  const sent: Sent[] = [];
  await Promise.all(Array.from({ length: clients }, async () => {
    while (!stop()) {
      const start = performance.now();
      const r = await httpGet(port, "/", "app.test", 2000);
      const answer = r.status === 200 ? r.body.trim() : `status ${r.status}: ${r.body}`;
      sent.push({ start, end: performance.now(), answer });
    }
  }));
  return sent;
}

Deno.test({
  name: "nginx: a refused config is rolled back and the old one keeps serving; a good one reloads",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const nginx = requireTool("nginx");
    const dir = await Deno.makeTempDir({ prefix: "lbsync-apply-nginx-" });
    const v1 = backend("v1");
    const v2 = backend("v2");
    const listen = freePort();
    const out = `${dir}/lbsync.conf`;
    const ngx = `${nginx} -p ${dir}/ -c ${dir}/nginx.conf`;
    const common = [
      "--host-ip",
      "127.0.0.1",
      "--listen",
      String(listen),
      "--listen-address",
      "127.0.0.1",
    ];
    const apply = [
      "--check-cmd",
      `${ngx} -t -q`,
      "--reload-cmd",
      `${ngx} -s reload`,
      "--backup-dir",
      `${dir}/backups`,
    ];
    try {
      await Deno.writeTextFile(`${dir}/nginx.conf`, nginxMainConf(dir, out));
      await Deno.writeTextFile(`${dir}/one.json`, containersJson([v1.port]));
      await Deno.writeTextFile(`${dir}/two.json`, containersJson([v1.port, v2.port]));
      const first = await renderTo(out, `${dir}/one.json`, "nginx", [...common, ...[]]);
      assert.equal(first.code, 0, first.stderr);
      const started = await run(ngx.split(" "));
      assert.equal(started.code, 0, started.stderr);
      assert.deepEqual(await bodies(listen, 4), new Set(["v1"]));
      const live = await Deno.readFile(out);

      // a template whose output nginx refuses (an empty upstream)
      await Deno.writeTextFile(
        `${dir}/bad.mustache`,
        "{{#services}}upstream {{name}} { }\n{{/services}}",
      );
      const bad = await renderTo(out, `${dir}/two.json`, `${dir}/bad.mustache`, [
        ...common,
        ...apply,
      ]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /^lbsync: error: Check failed after writing .*lbsync\.conf: `.* -t -q` exited 1: .*\[emerg\] .*no servers are inside upstream in .*; previous files restored\n$/,
      );
      assert.deepEqual(await Deno.readFile(out), live, "live file byte-identical");
      assert.deepEqual(await bodies(listen, 4), new Set(["v1"]), "old config still serving");

      const good = await renderTo(out, `${dir}/two.json`, "nginx", [...common, ...apply]);
      assert.equal(good.code, 0, good.stderr);
      // old workers finish their connections after the reload: new ones serve both backends
      await eventually(async () => sameSet(await bodies(listen, 6), ["v1", "v2"]));
      const { folder, base } = backupLocation(`${dir}/backups`, out);
      assert.equal((await listBackups(folder, base)).length, 1, "the replaced file was backed up");
    } finally {
      await run([...ngx.split(" "), "-s", "stop"]);
      await v1.close();
      await v2.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "HAProxy: a refused candidate never replaces the live file; a good one reloads without a gap",
  ignore: missing("haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const haproxy = requireTool("haproxy");
    const dir = await Deno.makeTempDir({ prefix: "lbsync-apply-haproxy-" });
    const v1 = backend("v1");
    const v2 = backend("v2");
    const listen = freePort();
    const out = `${dir}/haproxy.cfg`;
    const pid = `${dir}/haproxy.pid`;
    const common = [
      "--host-ip",
      "127.0.0.1",
      "--listen",
      String(listen),
      "--listen-address",
      "127.0.0.1",
    ];
    const apply = [
      "--check-cmd",
      `${haproxy} -c -f {}`,
      "--reload-cmd",
      `kill -USR2 $(cat ${pid})`,
    ];
    try {
      await Deno.writeTextFile(`${dir}/one.json`, containersJson([v1.port]));
      await Deno.writeTextFile(`${dir}/two.json`, containersJson([v1.port, v2.port]));
      const first = await renderTo(out, `${dir}/one.json`, "haproxy", [...common, ...[]]);
      assert.equal(first.code, 0, first.stderr);
      const started = await run([haproxy, "-W", "-D", "-dR", "-f", out, "-p", pid], { cwd: dir });
      assert.equal(started.code, 0, started.stderr);
      await eventually(async () => (await bodies(listen, 1)).has("v1"));
      const live = await Deno.readFile(out);

      const { templates } = await import("../../mod.ts");
      await Deno.writeTextFile(
        `${dir}/bad.mustache`,
        templates.haproxy + "\nbackend broken\n    server s1 127.0.0.1:notaport\n",
      );
      const bad = await renderTo(out, `${dir}/two.json`, `${dir}/bad.mustache`, [
        ...common,
        ...apply,
      ]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stderr,
        /^lbsync: error: Check failed for .*haproxy\.cfg: `.*haproxy -c -f '.*\.lbsync-tmp'` exited 1: .*\[ALERT\].*\n$/,
      );
      assert.deepEqual(await Deno.readFile(out), live);
      assert.deepEqual(await bodies(listen, 4), new Set(["v1"]));

      // the reload under traffic: clients send throughout, from before the apply until the
      // new worker has answered (v2) for a while; every request must be answered
      let newWorkerAt = Infinity;
      const load = clientLoops(
        listen,
        4,
        () => performance.now() > newWorkerAt + 300,
      );
      await new Promise((r) => setTimeout(r, 100));
      const applyAt = performance.now();
      const good = await renderTo(out, `${dir}/two.json`, "haproxy", [...common, ...apply]);
      assert.equal(good.code, 0, good.stderr);
      await eventually(async () => {
        if ((await bodies(listen, 1)).has("v2")) newWorkerAt = performance.now();
        return newWorkerAt < Infinity;
      });
      const sent = await load;
      const failed = sent.filter((s) => s.answer !== "v1" && s.answer !== "v2");
      assert.deepEqual(failed, [], "no request failed across the reload");
      // requests were in flight across it: sent after the apply began, answered by the old
      // worker (v1 only) or the new one before it was seen to serve
      const across = sent.filter((s) => s.start >= applyAt && s.end <= newWorkerAt);
      const after = sent.filter((s) => s.start > newWorkerAt && s.answer === "v2");
      console.log(
        `${sent.length} requests, ${across.length} during the apply and reload, ` +
          `${after.length} answered v2 after`,
      );
      assert.ok(across.length >= 20, `${across.length} requests during the reload`);
      assert.ok(after.length >= 1, "the new worker served the clients");
      assert.ok(sent.some((s) => s.end < applyAt), "clients were sending before the reload");
      await eventually(async () => sameSet(await bodies(listen, 6), ["v1", "v2"]));
    } finally {
      const master = Number(await Deno.readTextFile(pid).catch(() => "0"));
      if (master > 0) Deno.kill(master, "SIGTERM");
      await v1.close();
      await v2.close();
      await waitForExit(master, 5000);
      await Deno.remove(dir, { recursive: true });
    }
  },
});
