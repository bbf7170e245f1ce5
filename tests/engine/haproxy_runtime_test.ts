/**
 * HAProxy without reloads: real HAProxy 2.6 on 127.0.0.1 serving backends of this process;
 * server changes go through its runtime API (the reload command counts its runs), structural
 * changes and a runtime API that fails or disagrees take a checked reload.
 */
import assert from "node:assert/strict";
import { applyTargets, buildModel, HaproxyRuntime, render, templates } from "../../mod.ts";
import type { ApplyReport, ContainerInfo } from "../../mod.ts";
import { RuntimeApi } from "../../lib/haproxy/runtime_api.ts";
import {
  answerSet,
  backend,
  eventually,
  freePort,
  httpGet,
  type RunningBalancer,
  startHaproxy,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { container, hostNetworkSummaries, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { dockerOk, engineArgs, engineMissing, Scenario } from "../support/engine.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const skip = missing("haproxy");

/** A container named `name` on 127.0.0.1:`port`, in service `app` unless labels say else. */
function local(name: string, port: number, labels: Record<string, string> = {}): ContainerInfo {
  return container(name, { "lbsync.service": "app", ...labels }, {
    networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
    ports: [{ port, protocol: "tcp", published: [] }],
  });
}

/** A running HAProxy managed by lbsync through the runtime API, and its reload count. */
class Rig {
  readonly listen = freePort();
  readonly socket: string;
  readonly runtime = new HaproxyRuntime({ drainTimeoutMs: 3_000 });
  #balancer!: RunningBalancer;

  private constructor(readonly dir: string) {
    this.socket = `${dir}/admin.sock`;
  }

  static async start(containers: ContainerInfo[]): Promise<Rig> {
    const rig = new Rig(await Deno.makeTempDir({ prefix: "lbsync-runtime-" }));
    rig.#balancer = await startHaproxy(rig.render(containers));
    await eventually(() => Deno.stat(rig.socket).then(() => true, () => false));
    return rig;
  }

  get config(): string {
    return `${this.#balancer.dir}/haproxy.cfg`;
  }

  render(containers: ContainerInfo[]): string {
    const model = buildModel(containers, {
      listen: this.listen,
      listenAddress: "127.0.0.1",
      haproxySocket: this.socket,
    }).model;
    return render(templates.haproxy, model);
  }

  apply(containers: ContainerInfo[], socket = this.socket): Promise<ApplyReport> {
    const dir = this.#balancer.dir;
    return applyTargets([{
      template: "haproxy",
      output: this.config,
      content: this.render(containers),
      check: "haproxy -c -f {}",
      reload: `echo reload >> ${this.dir}/reloads && kill -USR2 $(cat ${dir}/haproxy.pid)`,
      haproxySocket: socket,
    }], { haproxy: this.runtime });
  }

  async reloads(): Promise<number> {
    const text = await Deno.readTextFile(`${this.dir}/reloads`).catch(() => "");
    return text.split("\n").filter((l) => l !== "").length;
  }

  answers(count = 12, host = "app.test"): Promise<Set<string>> {
    return answerSet(this.listen, "/", host, count);
  }

  async stop(): Promise<void> {
    await this.runtime.settled();
    await this.#balancer.stop();
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** `-t haproxy -o OUT`, checked with `haproxy -c`, reloaded by `reload`. */
function haproxyTarget(out: string, reload: string): string[] {
  return ["-t", "haproxy", "-o", out, "--check-cmd", "haproxy -c -f {}", "--reload-cmd", reload];
}

function sorted(set: Set<string>): string[] {
  return [...set].sort();
}

Deno.test({
  name:
    "haproxy runtime API: servers added, re-weighted, re-addressed and removed without a reload",
  ignore: skip,
  async fn() {
    resetContainers();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((name) => backend(name));
    const rig = await Rig.start([local("a", a.port), local("b", b.port)]);
    try {
      assert.deepEqual(sorted(await rig.answers()), ["a", "b"]);
      const api = new RuntimeApi(rig.socket);

      let report = await rig.apply([local("a", a.port), local("b", b.port), local("c", c.port)]);
      assert.equal(report.targets[0].runtime?.applied, true, report.targets[0].runtime?.reason);
      assert.equal(report.reloads.length, 0);
      assert.deepEqual(sorted(await rig.answers()), ["a", "b", "c"]);

      report = await rig.apply([
        local("a", a.port),
        local("b", b.port, { "lbsync.weight": "3" }),
        local("c", d.port), // same server name, new address: c's container moved to d's port
      ]);
      assert.equal(report.targets[0].runtime?.applied, true, report.targets[0].runtime?.reason);
      const state = await api.serversState();
      assert.equal(state.find((s) => s.name === "b")?.weight, 3);
      assert.deepEqual(sorted(await rig.answers()), ["a", "b", "d"]);

      report = await rig.apply([local("b", b.port, { "lbsync.weight": "3" }), local("c", d.port)]);
      assert.equal(report.targets[0].runtime?.applied, true, report.targets[0].runtime?.reason);
      assert.deepEqual(sorted(await rig.answers()), ["b", "d"]);
      // drained, then deleted once its connections are gone
      await eventually(async () => !(await api.serversState()).some((s) => s.name === "a"));

      assert.equal(await rig.reloads(), 0);
      assert.equal(
        await Deno.readTextFile(rig.config),
        rig.render([
          local("b", b.port, { "lbsync.weight": "3" }),
          local("c", d.port),
        ]),
      );
    } finally {
      await rig.stop();
      await Promise.all([a, b, c, d].map((s) => s.close()));
    }
  },
});

Deno.test({
  name: "haproxy runtime API: a removed server finishes its request in progress, then goes",
  ignore: skip,
  async fn() {
    resetContainers();
    const slow = backend("slow", 1500);
    const fast = backend("fast");
    const rig = await Rig.start([local("slow", slow.port), local("fast", fast.port)]);
    try {
      // roundrobin: the first two requests reach both servers; one of them waits 1.5 s
      const inFlight = [httpGet(rig.listen, "/", "app.test"), httpGet(rig.listen, "/", "app.test")];
      await eventually(() => slow.inFlight() === 1);
      const report = await rig.apply([local("fast", fast.port)]);
      assert.equal(report.targets[0].runtime?.applied, true, report.targets[0].runtime?.reason);
      assert.deepEqual(sorted(await rig.answers(6)), ["fast"]); // no new request reaches it
      const done = await Promise.all(inFlight);
      assert.deepEqual(done.map((r) => `${r.status} ${r.body}`).sort(), ["200 fast", "200 slow"]);
      const api = new RuntimeApi(rig.socket);
      await eventually(async () => !(await api.serversState()).some((s) => s.name === "slow"));
      assert.equal(await rig.reloads(), 0);
    } finally {
      await rig.stop();
      await Promise.all([slow.close(), fast.close()]);
    }
  },
});

Deno.test({
  name:
    "haproxy runtime API: a new service takes a checked reload; a failing or disagreeing API falls back to one",
  ignore: skip,
  async fn() {
    resetContainers();
    const [a, b, c] = ["a", "b", "c"].map((name) => backend(name));
    const rig = await Rig.start([local("a", a.port)]);
    try {
      const other = local("c", c.port, { "lbsync.service": "other", "lbsync.host": "other.test" });
      let report = await rig.apply([local("a", a.port), other]);
      assert.deepEqual(
        { ...report.targets[0].runtime, reason: undefined },
        { applied: false, commands: 0, reason: undefined, failed: false },
      );
      assert.match(report.targets[0].runtime?.reason ?? "", /^structure changed/);
      assert.equal(await rig.reloads(), 1);
      await eventually(async () => sorted(await rig.answers(4, "other.test")).join() === "c");

      // someone changed the running HAProxy behind lbsync's back: it reloads from the file
      const api = new RuntimeApi(rig.socket);
      await eventually(async () => (await api.serversState()).some((s) => s.name === "c"));
      await api.send("set server lbsync_app/a weight 9");
      report = await rig.apply([local("a", a.port), local("b", b.port), other]);
      assert.equal(report.targets[0].runtime?.failed, true);
      assert.match(
        report.targets[0].runtime?.reason ?? "",
        /disagrees.*lbsync_app\/a weight 9, not 1/,
      );
      assert.equal(await rig.reloads(), 2);
      await eventually(async () => sorted(await rig.answers()).join() === "a,b");
      await eventually(async () =>
        (await api.serversState().catch(() => [])).find((s) => s.name === "a")?.weight === 1
      );

      // the socket is gone: reload
      report = await rig.apply([local("b", b.port), other], `${rig.dir}/missing.sock`);
      assert.equal(report.targets[0].runtime?.failed, true);
      assert.match(report.targets[0].runtime?.reason ?? "", /missing\.sock.*no such socket/);
      assert.equal(await rig.reloads(), 3);
      await eventually(async () => sorted(await rig.answers()).join() === "b");
    } finally {
      await rig.stop();
      await Promise.all([a, b, c].map((s) => s.close()));
    }
  },
});

Deno.test({
  name:
    "haproxy runtime API from the command line: --haproxy-socket declares the socket and skips the reload",
  ignore: skip,
  async fn() {
    resetContainers();
    const [a, b] = ["a", "b"].map((name) => backend(name));
    const dir = await Deno.makeTempDir({ prefix: "lbsync-runtime-cli-" });
    const socket = `${dir}/admin.sock`;
    const listen = String(freePort());
    const json = hostNetworkSummaries;
    const out = `${dir}/haproxy.cfg`;
    const args = (reload: string) => [
      "render",
      "--from-file",
      `${dir}/containers.json`,
      "--host-ip",
      "127.0.0.1",
      "--listen",
      listen,
      "--listen-address",
      "127.0.0.1",
      "--haproxy-socket",
      socket,
      ...haproxyTarget(out, reload),
      "-v",
    ];
    let haproxy: RunningBalancer | undefined;
    try {
      await Deno.writeTextFile(`${dir}/containers.json`, json([a.port]));
      const first = await lbsync(args("true")); // no HAProxy yet
      assert.equal(first.code, 0, first.stderr);
      const text = await Deno.readTextFile(out);
      assert.match(text, new RegExp(`stats socket ${socket} mode 600 level admin`));
      haproxy = await startHaproxy(text);
      await Deno.symlink(`${haproxy.dir}/haproxy.pid`, `${dir}/haproxy.pid`);
      await eventually(() => Deno.stat(socket).then(() => true, () => false));

      await Deno.writeTextFile(`${dir}/containers.json`, json([a.port, b.port]));
      const second = await lbsync(
        args(`echo reload >> ${dir}/reloads && kill -USR2 $(cat ${dir}/haproxy.pid)`),
      );
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /runtime API applied/);
      assert.equal(await Deno.readTextFile(`${dir}/reloads`).catch(() => ""), "");
      // the balancer started from the first file: it now serves both through the runtime API
      assert.deepEqual(sorted(await answerSet(Number(listen), "/", "x.test", 8)), ["a", "b"]);

      const bad = await lbsync(["render", "--haproxy-socket", "rel/admin.sock", "-t", "haproxy"]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /Invalid --haproxy-socket "rel\/admin.sock": use an absolute path/);
    } finally {
      await haproxy?.stop();
      await Deno.remove(dir, { recursive: true });
      await Promise.all([a, b].map((s) => s.close()));
    }
  },
});

const noEngine = await engineMissing();

Deno.test({
  name:
    "engine: lbsync watch --haproxy-socket follows containers starting and stopping with one reload in all",
  ignore: skip || noEngine,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const s = new Scenario();
    const L = `r${s.tag}`;
    const port = freePort();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-runtime-watch-" });
    const socket = `${dir}/admin.sock`;
    const out = `${dir}/haproxy.cfg`;
    const status = freePort();
    const common = [...engineArgs(L, port), "--haproxy-socket", socket];
    const labels = ["-l", `${L}.service=web`, "-l", `${L}.host=web.test`];
    let haproxy: RunningBalancer | undefined;
    let watch: WatchProcess | undefined;
    try {
      const first = await s.run("web-1", labels);
      const rendered = await lbsync(["render", ...common, "-t", "haproxy", "-o", out]);
      assert.equal(rendered.code, 0, rendered.stderr);
      haproxy = await startHaproxy(await Deno.readTextFile(out));
      await eventually(() => Deno.stat(socket).then(() => true, () => false));
      const live = `${haproxy.dir}/haproxy.cfg`;
      watch = new WatchProcess([
        ...common,
        ...haproxyTarget(
          out,
          `echo reload >> ${dir}/reloads && cp ${out} ${live} && kill -USR2 $(cat ${haproxy.dir}/haproxy.pid)`,
        ),
        "--heartbeat",
        "200ms:1s",
        "--status-listen",
        String(status),
        "-v",
      ]);
      await watch.untilLog(/connected to unix:/);
      const answers = () => answerSet(port, "/", "web.test", 12);
      const second = await s.run("web-2", labels);
      await eventually(
        async () => sorted(await answers()).join() === [first.id, second.id].sort().join(),
        15_000,
      );
      const third = await s.run("web-3", labels);
      await eventually(async () => (await answers()).size === 3, 15_000);
      await dockerOk(["stop", "-t", "1", s.name("web-1")]);
      await eventually(
        async () => sorted(await answers()).join() === [second.id, third.id].sort().join(),
        15_000,
      );
      assert.match(watch.log, /runtime API applied/);
      assert.equal(await readOr(`${dir}/reloads`), "");
      const metrics = await (await fetch(`http://127.0.0.1:${status}/metrics`)).text();
      assert.match(metrics, /^lbsync_runtime_applies_total [3-9]\d*$/m);
      assert.match(metrics, /^lbsync_runtime_fallbacks_total 0$/m);
      assert.match(metrics, /^lbsync_reloads_total 0$/m);
      // a new host is structure: one checked reload
      await s.run("api-1", ["-l", `${L}.service=api`, "-l", `${L}.host=api.test`]);
      await eventually(async () => (await readOr(`${dir}/reloads`)) === "reload\n", 15_000);
    } finally {
      await watch?.stop();
      await haproxy?.stop();
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
