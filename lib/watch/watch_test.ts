/**
 * The watch loop on a timeline, without sleeping: a fake engine (its containers, events and
 * stream breaks), a fake clock (time moves when the test says) and fake readiness probes
 * drive the real Watcher, which renders and writes a real file. Bursts, early drain on a
 * stop, readiness re-probes, retirement, resync and reconnect, each at the millisecond the
 * rules say.
 */
import assert from "node:assert/strict";
import type { ContainerInfo, EngineSource, ProbeResult, WatchOptions } from "../../mod.ts";
import { Watcher } from "../../mod.ts";
import type { EventHandlers } from "../sources/event_stream.ts";
import { FakeClock } from "../../tests/support/fake_clock.ts";
import { container, resetContainers } from "../../tests/support/fixtures.ts";

/** An engine whose containers and events the test sets. */
class FakeEngine implements EngineSource {
  containers: ContainerInfo[] = [];
  lists = 0;
  /** While set, listing fails with this message (the engine is down). */
  down: string | undefined;
  readonly stopped: string[] = [];
  #handlers: EventHandlers | undefined;

  constructor(readonly url = "unix:///fake/docker.sock") {}

  list(): Promise<ContainerInfo[]> {
    this.lists += 1;
    if (this.down) return Promise.reject(new Error(this.down));
    return Promise.resolve(this.containers.map((c) => ({ ...c })));
  }

  forget(): void {}

  stop(id: string): Promise<void> {
    this.stopped.push(id);
    return Promise.resolve();
  }

  follow(handlers: EventHandlers, options: { signal: AbortSignal }): Promise<void> {
    this.#handlers = handlers;
    handlers.onConnected(this.url);
    return new Promise((resolve) => options.signal.addEventListener("abort", () => resolve()));
  }

  /** A container event, as Docker sends it. */
  emit(
    action: string,
    c: ContainerInfo,
    attributes: Record<string, string> = {},
    timeMs?: number,
  ): void {
    this.#handlers!.onEvent({
      Type: "container",
      Action: action,
      Actor: { ID: c.id, Attributes: attributes },
      ...(timeMs === undefined ? {} : { time: Math.floor(timeMs / 1000), timeNano: timeMs * 1e6 }),
    });
  }

  /** A Swarm service event (`update`: scaled, rolled), as a manager sends it. */
  serviceEvent(action: string): void {
    this.#handlers!.onEvent({ Type: "service", Action: action, Actor: { ID: "svc1" } });
  }

  /** A container starts: it is listed from now on, and its event arrives. */
  start(c: ContainerInfo): void {
    this.containers.push(c);
    this.emit("start", c);
  }

  disconnect(reason: string): void {
    this.#handlers!.onDisconnected(reason, 250);
  }

  reconnect(): void {
    this.#handlers!.onConnected(this.url);
  }
}

interface Pass {
  /** Milliseconds after the rig's start. */
  at: number;
  reasons: string[];
  events: number;
}

/** A real Watcher on a fake engine and clock, writing `{{service}}: servers` to a file. */
class Rig {
  readonly clock = new FakeClock();
  readonly engine = new FakeEngine();
  readonly passes: Pass[] = [];
  readonly errors: string[] = [];
  readonly infos: string[] = [];
  /** The services held out after the last pass, and the refusals that put them there. */
  quarantined: string[] = [];
  readonly refusals: string[] = [];
  /** Check commands run by passes that applied. */
  checks = 0;
  /** The engines each pass that applied nothing waited for. */
  readonly waits: string[][] = [];
  readonly #stop = new AbortController();
  #applying = false;
  #running: Promise<void> | undefined;
  #t0 = this.clock.now();

  private constructor(readonly dir: string) {}

  /**
   * A rig, once its first pass is done (unless `firstPass` is false: the engines may be down);
   * `engines` come after {@link Rig.engine}.
   */
  static async start(
    options: Partial<WatchOptions> = {},
    ready: (c: string) => boolean = () => true,
    containers: ContainerInfo[] = [],
    more: { engines?: FakeEngine[]; down?: string; firstPass?: boolean } = {},
  ): Promise<Rig> {
    const rig = new Rig(await Deno.makeTempDir({ prefix: "lbsync-loop-" }));
    rig.engine.containers = containers;
    rig.engine.down = more.down;
    const template = `${rig.dir}/list.mustache`;
    if (options.targets) {
      options = {
        ...options,
        targets: options.targets.map((t) => ({ ...t, template, output: rig.out })),
      };
    }
    await Deno.writeTextFile(
      template,
      "{{#services}}{{name}}:{{#servers}} {{name}}{{/servers}}\n{{/services}}",
    );
    const watcher = new Watcher(
      {
        targets: options.targets ?? [{ template, output: rig.out }],
        heartbeat: { minMs: 500, maxMs: 2000 },
        ...options,
      },
      {
        cycle: (r) => {
          rig.passes.push({ at: rig.clock.now() - rig.#t0, reasons: r.reasons, events: r.events });
          rig.quarantined = r.quarantined.map((q) => q.service);
          rig.checks += r.apply.checks.length;
        },
        quarantined: (q) => rig.refusals.push(`${q.service}: ${q.reason}`),
        activity: (state) => rig.#applying = state === "applying",
        error: (m) => rig.errors.push(m),
        waiting: (engines) => rig.waits.push(engines.map((e) => e.url)),
        info: (m) => rig.infos.push(m),
      },
      undefined,
      {
        clock: rig.clock,
        engines: [rig.engine, ...(more.engines ?? [])],
        prober: (_service, server): Promise<ProbeResult> =>
          Promise.resolve({ ready: ready(server.name), reason: "status 503" }),
        watchFiles: () => {},
        busyPorts: () => new Map(),
      },
    );
    rig.clock.settle = () => rig.settled();
    rig.#running = watcher.run(rig.#stop.signal);
    if (more.firstPass === false) {
      await rig.until("the first listing", () => rig.engine.lists >= 1 && !rig.#applying);
    } else await rig.until("the first passes", () => rig.passes.length >= 1 && !rig.#applying);
    await rig.settled();
    rig.mark();
    return rig;
  }

  get out(): string {
    return `${this.dir}/out.txt`;
  }

  /** Starts the timeline (and the list of passes) anew from now. */
  mark(): void {
    this.#t0 = this.clock.now();
    this.passes.length = 0;
  }

  /** Waits (really, bounded) until no pass is running. */
  async settled(): Promise<void> {
    await this.until("the pass to finish", () => !this.#applying);
  }

  async until(what: string, test: () => boolean, ms = 5000): Promise<void> {
    const end = Date.now() + ms;
    while (!test()) {
      if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** The servers of each service in the rendered file. */
  async served(): Promise<Record<string, string[]>> {
    const text = await Deno.readTextFile(this.out).catch(() => "");
    return Object.fromEntries(
      text.split("\n").filter(Boolean).map((line) => {
        const [name, servers] = line.split(":");
        return [name, servers.trim().split(" ").filter(Boolean)];
      }),
    );
  }

  async stop(): Promise<void> {
    this.#stop.abort();
    await this.#running;
    await Deno.remove(this.dir, { recursive: true });
  }
}

const web = (name: string, labels: Record<string, string> = {}) =>
  container(name, { "lbsync.service": "web", ...labels });

Deno.test("watch loop: a burst is one pass, MIN after its last event", async () => {
  resetContainers();
  const rig = await Rig.start();
  try {
    for (let i = 0; i < 5; i++) {
      rig.engine.start(web(`web-${i}`));
      await rig.clock.advance(100);
    }
    assert.deepEqual(rig.passes, []);
    await rig.clock.advance(399);
    assert.deepEqual(rig.passes, [], "499 ms after the last event: still batching");
    await rig.clock.advance(1);
    assert.deepEqual(rig.passes, [{ at: 900, reasons: ["events"], events: 5 }]);
    assert.deepEqual((await rig.served()).web, ["web-0", "web-1", "web-2", "web-3", "web-4"]);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: a storm of events gets one pass per MAX, never more", async () => {
  resetContainers();
  const rig = await Rig.start();
  try {
    for (let t = 0; t <= 4800; t += 300) {
      rig.engine.start(web(`web-${t}`));
      await rig.clock.advance(300);
    }
    await rig.clock.advance(1000);
    // batches: 0-1800 closes at 0 + MAX; 2100-3900 at 2100 + MAX; 4200-4800 at 4800 + MIN
    assert.deepEqual(rig.passes.map((p) => [p.at, p.events]), [[2000, 7], [4100, 7], [5300, 3]]);
    assert.equal((await rig.served()).web.length, 17);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: a stop drains at once, a second stop within MAX waits for the batch", async () => {
  resetContainers();
  const [a, b, c] = [web("a"), web("b"), web("c")];
  const rig = await Rig.start({}, () => true, [a, b, c]);
  try {
    await rig.clock.advance(5000); // quiet: the last pass is long ago
    rig.mark();
    rig.engine.emit("kill", a, { signal: "15" });
    await rig.settled();
    assert.deepEqual(rig.passes, [{ at: 0, reasons: ["events"], events: 1 }], "no heartbeat wait");
    assert.deepEqual((await rig.served()).web, ["b", "c"], "a is out while it still runs");
    await rig.clock.advance(100);
    rig.engine.emit("kill", b, { signal: "15" });
    await rig.clock.advance(499);
    assert.equal(rig.passes.length, 1, "within MAX of the last pass: batched");
    await rig.clock.advance(1);
    assert.deepEqual(rig.passes.map((p) => p.at), [0, 600]);
    assert.deepEqual((await rig.served()).web, ["c"]);
    rig.engine.emit("kill", c, { signal: "1" }); // SIGHUP reloads the app: it does not stop
    await rig.clock.advance(600);
    assert.deepEqual((await rig.served()).web, ["c"]);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: a container not ready is probed again every 500 ms for the ready timeout", async () => {
  resetContainers();
  const ready = new Set(["old"]);
  const old = web("old", { "lbsync.health": "/health" });
  const rig = await Rig.start({ readyTimeoutMs: 2000 }, (name) => ready.has(name), [old]);
  try {
    rig.engine.start(web("slow", { "lbsync.health": "/health" }));
    rig.engine.start(web("never", { "lbsync.health": "/health" }));
    await rig.clock.advance(500); // the batch
    assert.deepEqual((await rig.served()).web, ["old"]);
    await rig.clock.advance(1000); // two re-probes, at 1000 and 1500
    ready.add("slow");
    await rig.clock.advance(500); // 2000: the last re-probe finds slow ready
    assert.deepEqual((await rig.served()).web, ["old", "slow"]);
    await rig.clock.advance(10_000);
    assert.deepEqual(rig.passes.map((p) => [p.at, p.reasons.join()]), [
      [500, "events"],
      [1000, "readiness"],
      [1500, "readiness"],
      [2000, "readiness"],
      [2500, "readiness"], // 2000 ms after never was first seen (at 500): the last re-probe
    ], "then never is left to the next batch or resync");
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: a rollover's retired container is stopped when its grace ends, not before", async () => {
  resetContainers();
  const labels = { "lbsync.rollover": "true" };
  const v1 = web("v1", labels);
  const rig = await Rig.start({ retireAfterMs: 3000 }, () => true, [v1]);
  try {
    assert.deepEqual((await rig.served()).web, ["v1"]);
    rig.engine.start(web("v2", labels));
    await rig.clock.advance(500);
    assert.deepEqual((await rig.served()).web, ["v2"]);
    await rig.clock.advance(2999);
    assert.deepEqual(rig.engine.stopped, []);
    await rig.clock.advance(1);
    assert.deepEqual(rig.engine.stopped, [v1.id]);
    await rig.until("the stop is told", () => rig.infos.some((m) => m.includes("stopped v1")));
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: a resync re-lists on its timer; a reconnect re-lists at once", async () => {
  resetContainers();
  const rig = await Rig.start({ resyncMs: 10_000 }, () => true, [web("a")]);
  try {
    const lists = rig.engine.lists;
    rig.engine.containers.push(web("missed")); // a change whose event never came
    await rig.clock.advance(9_999);
    assert.deepEqual(rig.passes, []);
    await rig.clock.advance(1);
    assert.deepEqual(rig.passes, [{ at: 10_000, reasons: ["resync"], events: 0 }]);
    assert.equal(rig.engine.lists, lists + 1);
    assert.deepEqual((await rig.served()).web, ["a", "missed"]);

    rig.engine.disconnect("connection reset");
    assert.match(rig.errors.join("\n"), /lost: connection reset; retrying in 250 ms \(keeping/);
    rig.engine.containers.push(web("meanwhile"));
    rig.engine.reconnect();
    await rig.settled();
    assert.deepEqual(rig.passes.at(-1), { at: 10_000, reasons: ["reconnect"], events: 0 });
    assert.deepEqual((await rig.served()).web, ["a", "meanwhile", "missed"]);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: after a Swarm service change, re-lists follow while its tasks move", async () => {
  resetContainers();
  const rig = await Rig.start({ resyncMs: 0 });
  try {
    rig.engine.serviceEvent("update"); // `docker service scale web=2`: no task is running yet
    await rig.clock.advance(500);
    assert.deepEqual(rig.passes.map((p) => p.at), [500], "the event's own batch");
    // the new task runs 2.5 s later, and Swarm says nothing of it
    await rig.clock.advance(2000);
    rig.engine.containers.push(web("web.1.task1"));
    await rig.clock.advance(1000);
    assert.deepEqual((await rig.served()).web, ["web.1.task1"], "found by a follow-up");
    const at = rig.passes.map((p) => p.at);
    assert.ok(at.includes(3500), `a follow-up 3 s after the event's batch: ${at}`);
    await rig.clock.advance(20_000);
    const lists = rig.engine.lists;
    await rig.clock.advance(60_000);
    assert.equal(rig.engine.lists, lists, "the follow-ups end; nothing lists without a reason");
    rig.engine.emit("attach", web("x")); // not a Swarm change: no follow-ups
    await rig.clock.advance(60_000);
    assert.equal(rig.engine.lists, lists);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: an engine down at start means no write until it answers, retried with backoff", async () => {
  resetContainers();
  const rig = await Rig.start({}, () => true, [web("a")], {
    down: "Cannot list containers on unix:///fake/docker.sock: no such socket",
    firstPass: false,
  });
  try {
    await Deno.writeTextFile(rig.out, "live\n");
    assert.equal(rig.passes.length, 0, "no pass applied");
    // t=0: the start pass and the stream's connect each list once, and fail
    await rig.until("two listings", () => rig.engine.lists === 2);
    await rig.settled();
    assert.deepEqual(rig.waits, [["unix:///fake/docker.sock"], ["unix:///fake/docker.sock"]]);
    assert.match(
      rig.errors[0],
      /no such socket \(nothing is applied until it answers; listing again in 500 ms\)/,
    );
    assert.match(rig.errors[1], /listing again in 1000 ms\)/, "the backoff doubles");
    await rig.clock.advance(999);
    assert.equal(rig.engine.lists, 2, "not yet");
    await rig.clock.advance(1);
    await rig.settled();
    assert.equal(rig.engine.lists, 3);
    assert.match(rig.errors[2], /listing again in 2000 ms\)/);
    assert.equal(await Deno.readTextFile(rig.out), "live\n", "the live file stays as it was");
    rig.engine.down = undefined;
    await rig.clock.advance(2000);
    await rig.settled();
    assert.equal(rig.engine.lists, 4);
    assert.deepEqual(rig.passes.map((p) => p.reasons), [["list retry"]]);
    assert.deepEqual((await rig.served()).web, ["a"]);
    // a later failure keeps the last known containers and applies the rest as before
    rig.engine.down = "Cannot list containers on unix:///fake/docker.sock: timed out after 10 s";
    rig.engine.start(web("b"));
    await rig.clock.advance(500);
    await rig.settled();
    assert.match(
      rig.errors.at(-1)!,
      /timed out after 10 s \(keeping its last known containers; listing again in 500 ms\)/,
    );
    assert.deepEqual((await rig.served()).web, ["a"]);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: with several engines, one never listed blocks the apply unless allowPartial", async () => {
  for (const allowPartial of [false, true]) {
    resetContainers();
    const other = new FakeEngine("tcp://10.0.0.2:2375");
    other.down = "Cannot list containers on tcp://10.0.0.2:2375: connection refused";
    other.containers = [web("b")];
    const rig = await Rig.start({ allowPartial }, () => true, [web("a")], {
      engines: [other],
      firstPass: allowPartial,
    });
    try {
      if (allowPartial) {
        assert.deepEqual(rig.waits, []);
        assert.deepEqual((await rig.served()).web, ["a"], "those that answered");
      } else {
        await rig.until("both engines' connects", () => other.lists === 2);
        await rig.settled();
        assert.ok(rig.waits.length > 0);
        assert.ok(rig.waits.every((w) => w.join() === "tcp://10.0.0.2:2375"), `${rig.waits}`);
        assert.equal(await Deno.readTextFile(rig.out).catch(() => "none"), "none");
      }
      other.down = undefined;
      await rig.until("both listings of the other engine", () => other.lists === 2);
      await rig.clock.advance(1000); // its second failure set the retry to 1000 ms
      await rig.settled();
      assert.deepEqual((await rig.served()).web, ["a", "b"]);
    } finally {
      await rig.stop();
    }
  }
});

/** A check that refuses a candidate naming a server "evil-*", as a balancer refuses a label. */
const REFUSE_EVIL = { template: "", output: "", check: "sh -c '! grep -q evil \"$1\"' check {}" };

Deno.test("watch loop: a service the balancer refuses is quarantined; the others apply", async () => {
  resetContainers();
  const rig = await Rig.start({ targets: [REFUSE_EVIL] }, () => true, [web("a")]);
  try {
    const evil = container("evil-1", { "lbsync.service": "api", "lbsync.host": "api.test" });
    rig.engine.start(evil);
    rig.engine.start(web("b")); // in the same batch: it must not wait for api
    await rig.clock.advance(500);
    await rig.settled();
    assert.deepEqual(await rig.served(), { web: ["a", "b"] });
    assert.deepEqual(rig.quarantined, ["api"]);
    assert.equal(rig.refusals.length, 1);
    assert.match(rig.refusals[0], /^api: Check failed for .*out\.txt: `sh -c .*` exited 1/);

    // unrelated changes apply at once; api is not tried again while it is as it was
    const checks = rig.checks;
    rig.engine.start(web("c"));
    await rig.clock.advance(500);
    await rig.settled();
    assert.deepEqual((await rig.served()).web, ["a", "b", "c"]);
    assert.equal(rig.checks - checks, 1, "one check: the held service is not tried");
    assert.deepEqual(rig.quarantined, ["api"]);

    // a change of api is tried again: a good container replaces the refused one
    rig.engine.containers = rig.engine.containers.filter((c) => c.id !== evil.id);
    rig.engine.emit("die", evil);
    rig.engine.start(container("api-2", { "lbsync.service": "api", "lbsync.host": "api.test" }));
    await rig.clock.advance(500);
    await rig.settled();
    assert.deepEqual(await rig.served(), { api: ["api-2"], web: ["a", "b", "c"] });
    assert.deepEqual(rig.quarantined, []);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: at start, a refused service is held out and the others apply", async () => {
  resetContainers();
  const rig = await Rig.start({ targets: [REFUSE_EVIL] }, () => true, [
    web("a"),
    container("evil-1", { "lbsync.service": "api", "lbsync.host": "api.test" }),
    container("evil-2", { "lbsync.service": "admin", "lbsync.host": "admin.test" }),
    container("x-1", { "lbsync.service": "x", "lbsync.host": "x.test" }),
    container("y-1", { "lbsync.service": "y", "lbsync.host": "y.test" }),
  ]);
  try {
    assert.deepEqual(await rig.served(), { web: ["a"], x: ["x-1"], y: ["y-1"] });
    assert.deepEqual(rig.quarantined, ["admin", "api"]);
  } finally {
    await rig.stop();
  }
});

Deno.test("watch loop: a create event in the second after the summary's refines the age (rollover)", async () => {
  resetContainers();
  const labels = { "lbsync.rollover": "true" };
  // v1 created at 10.200 s; v2 at 10.999 s, its create event sent at 11.001 s: by the summaries'
  // whole seconds both are 10 s old, and only the events tell which is newer
  const v1 = web("v1", labels);
  const v2 = web("v2", labels);
  v1.created = 10_000;
  v2.created = 10_000;
  const rig = await Rig.start({ retireAfterMs: 3000 }, () => true, []);
  try {
    rig.engine.containers.push(v1);
    rig.engine.emit("create", v1, {}, 10_200);
    rig.engine.emit("start", v1);
    await rig.clock.advance(500);
    assert.deepEqual((await rig.served()).web, ["v1"]);
    rig.engine.containers.push(v2);
    rig.engine.emit("create", v2, {}, 11_001);
    rig.engine.emit("start", v2);
    await rig.clock.advance(500);
    assert.deepEqual((await rig.served()).web, ["v2"], "the newer one serves");
    await rig.clock.advance(3000);
    assert.deepEqual(rig.engine.stopped, [v1.id], "the older one is retired");
  } finally {
    await rig.stop();
  }
});
