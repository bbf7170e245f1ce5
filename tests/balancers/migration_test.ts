/**
 * docs/migration.md's tables, run: every row of "Coming from other tools" has a check here
 * that runs the lbsync side on fixtures and asserts the effect the old tool had; a row without
 * a check, or a check without a row, fails.
 */
import assert from "node:assert/strict";
import { parseCommandLine } from "../../lib/settings/cli_args.ts";
import { parseStaticServices } from "../../lib/core/input/static_services.ts";
import { serveAdmin } from "../../lib/serve/admin/admin_server.ts";
import {
  buildModel,
  type CertificateFiles,
  type ContainerInfo,
  render,
  resolveEndpoints,
  routeRequest,
  runOnce,
  templates,
} from "../../mod.ts";
import { acmeHosts } from "../../lib/core/model/tls.ts";
import { addEvent, closesAt, type Heartbeat } from "../../lib/core/heartbeat.ts";
import type { EventHandlers } from "../../lib/sources/event_stream.ts";
import { Watcher, type WatchOptions } from "../../mod.ts";
import { FakeClock } from "../support/fake_clock.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";
import { requireTool, run } from "../support/tools.ts";
import { compatEnv } from "../../lib/core/input/compat.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import { renderTargets } from "../../lib/apply/targets.ts";
import { readOperatorFiles } from "../../lib/sources/operator_files.ts";
import { freePort, rawRequest } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { container, resetContainers, ROOT } from "../support/fixtures.ts";

const MIGRATION = await Deno.readTextFile(new URL("../../docs/migration.md", import.meta.url));

/** `{ tool: [old cell, new cell][] }` from the tables under "Coming from other tools". */
function readmeRows(): Map<string, [string, string][]> {
  const section = MIGRATION.slice(MIGRATION.indexOf("## Coming from other tools"));
  const rows = new Map<string, [string, string][]>();
  let tool = "";
  const lines = section.split("\n");
  lines.forEach((line, i) => {
    const from = /^From (?:the )?(.+?)(?: \(|:)/.exec(line);
    if (from) tool = from[1];
    const cells = /^\| (.+?) +\| (.+?) +\|$/.exec(line);
    // a table's header is the row above its |---| line; the separator is no row either
    if (!cells || /^-+$/.test(cells[1]) || /^\| -+/.test(lines[i + 1] ?? "")) return;
    rows.set(tool, [...(rows.get(tool) ?? []), [cells[1], cells[2]]]);
  });
  return rows;
}

// ---- fixtures ------------------------------------------------------------------------------

interface Item {
  name: string;
  image?: string;
  labels?: Record<string, string>;
  ip?: string;
  /** container port -> published port */
  ports?: Record<number, number>;
}

/** `/containers/json` summaries, created a second apart, ids 64 hex digits. */
function summaries(items: Item[]): string {
  return JSON.stringify(items.map((item, i) => ({
    Id: (i + 1).toString(16).padStart(2, "0").repeat(32),
    Names: [`/${item.name}`],
    Image: item.image ?? "app",
    Created: 1_700_000_000 + i,
    State: "running",
    Labels: item.labels ?? {},
    Ports: Object.entries(item.ports ?? { 8080: 0 }).map(([p, pub]) => ({
      PrivatePort: Number(p),
      Type: "tcp",
      ...(pub ? { PublicPort: pub, IP: "0.0.0.0" } : {}),
    })),
    HostConfig: { NetworkMode: "app" },
    NetworkSettings: { Networks: { app: { IPAddress: item.ip ?? `10.0.0.${i + 2}` } } },
  })));
}

/** A template that prints each service: `name mode listen: endpoints`. */
const PROBE = "{{#services}}{{name}} {{mode}} {{listen}}:{{#servers}} {{endpoint}}{{/servers}}\n" +
  "{{/services}}";

/** What `lbsync render ARGS` makes of `items`, through the probe template. */
async function probe(items: Item[], args: string[]): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-migrate-" });
  try {
    await Deno.writeTextFile(`${dir}/c.json`, summaries(items));
    await Deno.writeTextFile(`${dir}/probe.mustache`, PROBE);
    const r = await lbsync([
      "render",
      "--from-file",
      `${dir}/c.json`,
      ...args,
      "-t",
      `${dir}/probe.mustache`,
      "-o",
      "-",
      "-q",
    ]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The options `lbsync ARGS` parses to (with a target, so render and watch accept it). */
function options(args: string[]) {
  const cmd = parseCommandLine([...args, "-t", "nginx"]);
  assert.ok("options" in cmd);
  return cmd;
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-migrate-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** Renders `items` to `out` with `args`; returns the run. */
async function renderTo(dir: string, items: Item[], args: string[]) {
  await Deno.writeTextFile(`${dir}/c.json`, summaries(items));
  return await lbsync(["render", "--from-file", `${dir}/c.json`, ...args]);
}

/** An admin API over a config file in `dir`; `call(method, path, body?)` answers. */
async function adminApi(dir: string) {
  await Deno.writeTextFile(`${dir}/lbsync.json`, JSON.stringify({ services: [] }));
  const stop = new AbortController();
  const port = freePort();
  const { finished } = serveAdmin({
    address: `127.0.0.1:${port}`,
    configPath: `${dir}/lbsync.json`,
    apply: () => Promise.resolve(undefined),
  }, stop.signal);
  const call = async (method: string, path: string, body?: unknown) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const r = await rawRequest(
      port,
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
        (text === undefined ? "\r\n" : `Content-Length: ${text.length}\r\n\r\n${text}`),
    );
    return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
  };
  return {
    call,
    close: async () => {
      stop.abort();
      await finished;
    },
  };
}

function compat(
  vars: Record<string, string>,
  more: Partial<ContainerInfo> = {},
  certificates?: ReadonlyMap<string, CertificateFiles>,
) {
  resetContainers();
  const c = container("app", {}, { env: vars, ...more });
  return buildModel([c], { compat: "nginx-proxy", certificates }).model;
}

/** A container nginx-proxy serves for `host` (`VIRTUAL_HOST`). */
function nginxProxied(host: string): ContainerInfo {
  return container(host, {}, { env: { VIRTUAL_HOST: host } });
}

/** Why the container of `vars` is out: `code reason`. */
function compatOut(vars: Record<string, string>): string {
  resetContainers();
  const c = container("app", {}, { env: vars });
  const [skipped] = buildModel([c], { compat: "nginx-proxy" }).skipped;
  return `${skipped.code} ${skipped.reason.replace(/^group vh0: /, "")}`;
}

/** Certificates by name, as `--cert-dir` finds them. */
const CERTS: ReadonlyMap<string, CertificateFiles> = new Map(
  ["a.test", "shared.test"].map((name) => [name, {
    name,
    certificate: `/certs/${name}.crt`,
    key: `/certs/${name}.key`,
    version: "",
  }]),
);

/**
 * When the watch applies a burst under `heartbeat`: events at `events` (ms), the batch
 * closing at the rule's time (`min` after the last event, at most `max` after the first).
 */
function appliesAt(heartbeat: Heartbeat, events: number[]): number {
  let batch = undefined;
  for (const at of events) batch = addEvent(batch, at);
  return closesAt(batch!, heartbeat);
}

/** A Docker engine on 127.0.0.1 (TLS with `tls`) listing `items`, noting each request. */
function fakeEngine(items: Item[], tls?: { cert: string; key: string }) {
  const requests: string[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {}, ...tls }, (req) => {
    const url = new URL(req.url);
    const path = url.pathname.replace(/^\/v[\d.]+/, "");
    requests.push(`${req.method} ${path}${url.search}`);
    if (path === "/containers/json") return new Response(summaries(items));
    if (/^\/containers\/[^/]+\/kill$/.test(path)) return new Response(null, { status: 204 });
    return new Response("{}", { status: 404 });
  });
  return {
    url: `tcp://127.0.0.1:${server.addr.port}`,
    requests,
    close: () => server.shutdown(),
  };
}

/** A CA, and a server certificate for 127.0.0.1 signed by it, in `dir` (ca.pem, cert.pem, key.pem). */
async function engineCertificates(dir: string): Promise<void> {
  const openssl = requireTool("openssl");
  const ok = async (args: string[]) => {
    const r = await run([openssl, ...args], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  };
  await ok(
    "req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=ca -keyout ca.key -out ca.pem".split(" "),
  );
  await ok(
    "req -newkey rsa:2048 -nodes -subj /CN=engine -keyout key.pem -out engine.csr".split(" "),
  );
  await Deno.writeTextFile(`${dir}/engine.ext`, "subjectAltName=IP:127.0.0.1\n");
  await ok([
    ..."x509 -req -in engine.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1".split(" "),
    ..."-extfile engine.ext -out cert.pem".split(" "),
  ]);
}

/** The engine of {@link watchRig}: lists `containers`, notes follows and stops. */
class RigEngine {
  readonly url = "unix:///fake/docker.sock";
  containers: ContainerInfo[] = [];
  lists = 0;
  since: string | undefined;
  readonly stopped: string[] = [];
  handlers: EventHandlers | undefined;
  list(): Promise<ContainerInfo[]> {
    this.lists += 1;
    return Promise.resolve(this.containers.map((c) => ({ ...c })));
  }
  forget(): void {}
  stop(id: string): Promise<void> {
    this.stopped.push(id);
    return Promise.resolve();
  }
  follow(handlers: EventHandlers, options: { since?: string; signal: AbortSignal }) {
    this.handlers = handlers;
    this.since = options.since;
    handlers.onConnected(this.url);
    return new Promise<void>((r) => options.signal.addEventListener("abort", () => r()));
  }
  /** A container starts: listed from now on, and its event arrives. */
  start(c: ContainerInfo): void {
    this.containers.push(c);
    this.handlers!.onEvent({ Type: "container", Action: "start", Actor: { ID: c.id } });
  }
}

/**
 * The real Watcher with the options `lbsync watch ARGS` parses to, on a fake engine and clock,
 * writing `service: servers` to a file; `fn` runs once its first pass is done.
 */
async function watchRig(
  args: string[],
  containers: ContainerInfo[],
  fn: (
    rig: { clock: FakeClock; engine: RigEngine; served: () => Promise<string> },
  ) => Promise<void>,
  now?: number,
): Promise<void> {
  const cmd = parseCommandLine(
    [...args, "-t", "nginx"],
    {},
    {},
    now === undefined ? undefined : () => now,
  );
  assert.ok("options" in cmd);
  await inTempDir(async (dir) => {
    const clock = new FakeClock();
    const engine = new RigEngine();
    engine.containers = containers;
    const template = `${dir}/t.mustache`;
    const out = `${dir}/out.txt`;
    await Deno.writeTextFile(
      template,
      "{{#services}}{{name}}:{{#servers}} {{name}}{{/servers}}\n{{/services}}",
    );
    let applying = false;
    let passes = 0;
    const watcher = new Watcher(
      { ...cmd.options as WatchOptions, targets: [{ template, output: out }] },
      { cycle: () => passes++, activity: (state) => applying = state === "applying" },
      undefined,
      {
        clock,
        engines: [engine],
        prober: () => Promise.resolve({ ready: true, reason: "" }),
        watchFiles: () => {},
        busyPorts: () => new Map(),
      },
    );
    const settled = async () => {
      const end = Date.now() + 5000;
      while (applying || passes === 0) {
        if (Date.now() > end) throw new Error("the pass did not finish");
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    clock.settle = settled;
    const stop = new AbortController();
    const running = watcher.run(stop.signal);
    try {
      await settled();
      await fn({ clock, engine, served: () => readOr(out) });
    } finally {
      stop.abort();
      await running;
    }
  });
}

const web = (name: string) => container(name, { "lbsync.service": "web" });

/** `lbsync render --docker URL`: the engine at URL is the one read (a local stand-in for it). */
async function readsFrom(url: string): Promise<void> {
  assert.deepEqual(options(["render", "--docker", url]).options.docker?.urls, [url]);
  const engine = fakeEngine([{ name: "a", labels: { "lbsync.enable": "true" }, ip: "10.0.0.7" }]);
  try {
    const out = await probe([], ["--docker", engine.url]);
    assert.equal(out, "a http 80: 10.0.0.7:8080\n");
    assert.deepEqual(engine.requests, ["GET /containers/json?all=true"]);
  } finally {
    await engine.close();
  }
}

/** After a render that changed its file, the engine was asked to send `signal` to `name`. */
function signalled(args: string[], name: string, signal: string): Promise<void> {
  return inTempDir(async (dir) => {
    const engine = fakeEngine([{ name: "a", labels: { "lbsync.enable": "true" } }]);
    try {
      const render = () =>
        lbsync(["render", "--docker", engine.url, ...args, "-t", "nginx", "-o", `${dir}/out.conf`]);
      const r = await render();
      assert.equal(r.code, 0, r.stderr);
      const kill = `POST /containers/${name}/kill?signal=${signal}`;
      assert.deepEqual(engine.requests, ["GET /containers/json?all=true", kill]);
      await render(); // unchanged: no signal
      assert.deepEqual(engine.requests.filter((q) => q === kill), [kill]);
    } finally {
      await engine.close();
    }
  });
}

// ---- checks, by tool and old cell -----------------------------------------------------------

type Check = () => Promise<void> | void;

const CHECKS: Record<string, Record<string, Check>> = {
  "docker-gen": {
    "`-watch`": () =>
      inTempDir(async (dir) => {
        // the output follows the containers: one more in the source, one more server
        const source = `${dir}/c.json`;
        const out = `${dir}/out.txt`;
        const one = { name: "a", labels: { "lbsync.service": "app" } };
        const two = { name: "b", labels: { "lbsync.service": "app" } };
        await Deno.writeTextFile(source, summaries([one]));
        await Deno.writeTextFile(`${dir}/probe.mustache`, PROBE);
        const watch = new WatchProcess(
          [
            "--from-file",
            source,
            "-t",
            `${dir}/probe.mustache`,
            "-o",
            out,
            "--heartbeat",
            "50ms:200ms",
          ],
        );
        try {
          await watch.until("the first output", async () =>
            (await readOr(out)) === "app http 80: 10.0.0.2:8080\n");
          await Deno.writeTextFile(source, summaries([one, two]));
          await watch.until(
            "the output following the change",
            async () =>
              (await readOr(out)) === "app http 80: 10.0.0.2:8080 10.0.0.3:8080\n",
          );
        } finally {
          await watch.stop();
        }
      }),
    '`-notify "nginx -s reload"`': () =>
      inTempDir(async (dir) => {
        const args = ["-t", "nginx", "-o", `${dir}/out.conf`, "--reload-cmd", `echo x >> ${dir}/n`];
        assert.equal(
          (await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], args)).code,
          0,
        );
        await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], args);
        assert.equal(await Deno.readTextFile(`${dir}/n`), "x\n", "notified once: only on change");
      }),
    "`-notify-sighup nginx`": () => signalled(["--signal-container", "nginx"], "nginx", "SIGHUP"),
    "`-wait 500ms:2s`": () => {
      const heartbeat = options(["watch", "--heartbeat", "500ms:2s"]).options.heartbeat!;
      // quiet 500 ms after the last event, else 2 s after the first
      assert.equal(appliesAt(heartbeat, [0, 300]), 800);
      assert.equal(appliesAt(heartbeat, [0, 400, 800, 1200, 1600, 1900]), 2000);
    },
    "`-only-exposed`": async () => {
      const out = await probe(
        [{ name: "a", labels: { "lbsync.enable": "true" }, ip: "10.0.0.9" }],
        [
          "--address",
          "network",
        ],
      );
      assert.equal(out, "a http 80: 10.0.0.9:8080\n");
    },
    "`-only-published`": async () => {
      const out = await probe(
        [{ name: "a", labels: { "lbsync.enable": "true" }, ports: { 8080: 32768 } }, {
          name: "b",
          labels: { "lbsync.enable": "true", "lbsync.host": "b.test" },
        }],
        ["--address", "published"],
      );
      // b publishes nothing: not a server (its host answers 503)
      assert.equal(out, "a http 80: 127.0.0.1:32768\nb http 80:\n");
    },
    "`-endpoint tcp://10.0.0.5:2376`": () => readsFrom("tcp://10.0.0.5:2376"),
    "`-tlscacert`, `-tlscert`, `-tlskey`": () =>
      inTempDir(async (dir) => {
        assert.deepEqual(
          options(["render", "--tls-ca", "ca.pem", "--tls-cert", "c.pem", "--tls-key", "k.pem"])
            .options.docker?.tls,
          { ca: "ca.pem", cert: "c.pem", key: "k.pem" },
        );
        // the engine is read over TLS, its certificate checked against --tls-ca
        await engineCertificates(dir);
        const engine = fakeEngine([{ name: "a", labels: { "lbsync.enable": "true" } }], {
          cert: await Deno.readTextFile(`${dir}/cert.pem`),
          key: await Deno.readTextFile(`${dir}/key.pem`),
        });
        try {
          const tls = (ca: string) => [
            "--docker",
            engine.url,
            ...["--tls-ca", ca, "--tls-cert", `${dir}/cert.pem`, "--tls-key", `${dir}/key.pem`],
            ...["-t", `${dir}/probe.mustache`, "-o", "-", "-q"],
          ];
          await Deno.writeTextFile(`${dir}/probe.mustache`, PROBE);
          const r = await lbsync(["render", ...tls(`${dir}/ca.pem`)]);
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "a http 80: 10.0.0.2:8080\n");
          // another CA: the engine's certificate is refused, nothing is read
          const other = `${dir}/other`;
          await Deno.mkdir(other);
          await engineCertificates(other);
          const refused = await lbsync(["render", ...tls(`${other}/ca.pem`)]);
          assert.notEqual(refused.code, 0);
          assert.equal(engine.requests.length, 1);
        } finally {
          await engine.close();
        }
      }),
    "`-config FILE` (TOML)": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(
          `${dir}/lbsync.json`,
          JSON.stringify({ targets: [{ template: "nginx", output: `${dir}/out.conf` }] }),
        );
        await Deno.writeTextFile(
          `${dir}/c.json`,
          summaries([{ name: "a", labels: { "lbsync.enable": "true" } }]),
        );
        const r = await lbsync([
          "render",
          "--config",
          `${dir}/lbsync.json`,
          "--from-file",
          `${dir}/c.json`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(await Deno.readTextFile(`${dir}/out.conf`), /upstream lbsync_a /);
      }),
    "`-interval 30`": () =>
      // a full re-list every 30 s, with no event: a change whose event was missed is found
      watchRig(["watch", "--resync", "30s"], [web("a")], async ({ clock, engine, served }) => {
        const lists = engine.lists;
        engine.containers.push(web("missed"));
        await clock.advance(29_999);
        assert.equal(engine.lists, lists);
        await clock.advance(1);
        assert.equal(engine.lists, lists + 1);
        assert.equal(await served(), "web: a missed\n");
      }),
    "`-notify-container nginx:SIGHUP`": () =>
      signalled(["--signal-container", "nginx:SIGHUP"], "nginx", "SIGHUP"),
    "`-notify-output`": () =>
      inTempDir(async (dir) => {
        const r = await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], [
          "-t",
          "nginx",
          "-o",
          `${dir}/out.conf`,
          "--reload-cmd",
          "echo reloaded-by-test",
          "-v",
        ]);
        assert.match(r.stderr, /output="?reloaded-by-test/);
      }),
    "`-tlsverify`": () => {
      const cmd = parseCommandLine(["render", "--docker", "tcp://10.0.0.5:2376", "-t", "nginx"], {
        DOCKER_TLS_VERIFY: "1",
        DOCKER_CERT_PATH: "/certs",
      });
      assert.ok("options" in cmd);
      // TLS verified with the certificates of DOCKER_CERT_PATH
      const [endpoint] = resolveEndpoints(cmd.options.docker);
      assert.deepEqual([endpoint.protocol, endpoint.tls?.ca], ["https", "/certs/ca.pem"]);
      return inTempDir(async (dir) => {
        // and read so: an engine whose certificate that CA signed answers over TLS
        await engineCertificates(dir);
        const engine = fakeEngine([{ name: "a", labels: { "lbsync.enable": "true" } }], {
          cert: await Deno.readTextFile(`${dir}/cert.pem`),
          key: await Deno.readTextFile(`${dir}/key.pem`),
        });
        try {
          const verified = parseCommandLine(["render", "--docker", engine.url, "-t", "nginx"], {
            DOCKER_TLS_VERIFY: "1",
            DOCKER_CERT_PATH: dir,
          });
          assert.ok("options" in verified);
          const result = await runOnce({ ...verified.options, targets: [] });
          assert.deepEqual(result.model.services.map((s) => s.servers.map((x) => x.endpoint)), [
            ["10.0.0.2:8080"],
          ]);
          assert.deepEqual(engine.requests, ["GET /containers/json?all=true"]);
        } finally {
          await engine.close();
        }
      });
    },
    "`-version`": async () => assert.match((await lbsync(["--version"])).stdout, /^lbsync \d/),
    "`TEMPLATE DEST` arguments": async () => {
      const out = await probe([{ name: "a", labels: { "lbsync.enable": "true" } }], []);
      assert.match(out, /^a http 80: /);
    },
  },
  "backendUpdater daemon": {
    '`-service "dailyReport[0-9]*.stackepress.com"`': async () => {
      const out = await probe(
        [
          { name: "dailyReport1.stackepress.com", ip: "10.0.0.21" },
          { name: "dailyReport2.stackepress.com", ip: "10.0.0.22" },
          { name: "other", ip: "10.0.0.23" },
        ],
        ["--match", "dailyReport[0-9]*.stackepress.com", "--service", "daily"],
      );
      assert.equal(out, "daily http 80: 10.0.0.21:8080 10.0.0.22:8080\n", "one upstream, both");
    },
    "`-host 10.0.0.7`": async () => {
      const out = await probe(
        [{ name: "a", labels: { "lbsync.enable": "true" }, ports: { 8080: 32770 } }],
        ["--address", "published", "--host-ip", "10.0.0.7"],
      );
      assert.equal(out, "a http 80: 10.0.0.7:32770\n");
    },
    "`-config /etc/nginx/conf.d/backend.conf`": () =>
      inTempDir(async (dir) => {
        const r = await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], [
          "-t",
          "nginx",
          "-o",
          `${dir}/backend.conf`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(await Deno.readTextFile(`${dir}/backend.conf`), /upstream lbsync_a /);
      }),
    "`-template upstream.tmpl`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(
          `${dir}/upstream.mustache`,
          "{{#services}}upstream {{backend}};{{/services}}\n",
        );
        const r = await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], [
          "-t",
          `${dir}/upstream.mustache`,
          "-o",
          "-",
        ]);
        assert.equal(r.stdout, "upstream lbsync_a;\n");
      }),
    "`-bkp_dir /var/backups/nginx`": () =>
      inTempDir(async (dir) => {
        const args = ["-t", "nginx", "-o", `${dir}/out.conf`, "--backup-dir", `${dir}/bkp`];
        await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], args);
        await renderTo(dir, [{ name: "b", labels: { "lbsync.enable": "true" } }], args);
        const copies = [...Deno.readDirSync(`${dir}/bkp${dir}`)].map((e) => e.name);
        assert.equal(copies.length, 1);
        assert.match(copies[0], /^out\.conf\.\d{8}T\d{6}\.\d{3}Z$/);
      }),
    "`-dockerAddr tcp://10.0.0.5:2375`": () => readsFrom("tcp://10.0.0.5:2375"),
    "`-heartbeat 2s`": () => {
      // a batch closes 2 s after its last event (and at most 8 s after its first)
      const heartbeat = options(["watch", "--heartbeat", "2s"]).options.heartbeat!;
      assert.equal(appliesAt(heartbeat, [0, 1500]), 3500);
      assert.equal(appliesAt(heartbeat, [0, 1900, 3800, 5700, 7600]), 8000);
    },
    "`-since 10m`": () =>
      // the event stream is followed from ten minutes ago on (the Docker API takes unix seconds)
      watchRig(["watch", "--since", "10m"], [], ({ engine }) => {
        assert.equal(engine.since, "1700000000");
        return Promise.resolve();
      }, 1_700_000_600_000),
  },
  "zero-downtime proxy": {
    "`-tag shop/web:2`": async () => {
      const out = await probe(
        [{ name: "w1", image: "shop/web:2" }, { name: "w0", image: "shop/web:1" }],
        ["--match-image", "^shop/web:2$"],
      );
      assert.equal(out, "image http 80: 10.0.0.2:8080\n");
    },
    "`-ports 80,443=3000`": async () => {
      const out = await probe([{ name: "w1", image: "shop/web:2", ports: { 80: 0, 3000: 0 } }], [
        "--match-image",
        "^shop/web:",
        "--ports",
        "80,443=3000",
      ]);
      assert.equal(out, "image-443 http 443: 10.0.0.2:3000\nimage-80 http 80: 10.0.0.2:80\n");
    },
    "`-ready /healthz`": async () => {
      resetContainers();
      const { model } = buildModel([
        container("w", { "lbsync.service": "w", "lbsync.health": "/healthz" }),
      ]);
      assert.equal(model.services[0].health, "/healthz");
      // the balancer checks that path too
      assert.match(render(templates.haproxy, model), /option httpchk GET \/healthz/);
      assert.equal(options(["render", "--ready-timeout", "30s"]).options.readyTimeoutMs, 30_000);
      // a container whose /healthz fails within the timeout stays out of the pool
      const healthz = (status: number) =>
        Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          (req) =>
            new Response(null, { status: new URL(req.url).pathname === "/healthz" ? status : 500 }),
        );
      const [up, down] = [healthz(200), healthz(503)];
      const labels = { "lbsync.service": "w", "lbsync.health": "/healthz" };
      // from an engine: containers read from a file are not probed
      const engine = fakeEngine([
        { name: "up", labels, ip: "127.0.0.1", ports: { [up.addr.port]: 0 } },
        { name: "down", labels, ip: "127.0.0.1", ports: { [down.addr.port]: 0 } },
      ]);
      try {
        const out = await probe([], ["--docker", engine.url, "--ready-timeout", "1s"]);
        assert.equal(out, `w http 80: 127.0.0.1:${up.addr.port}\n`);
      } finally {
        await engine.close();
        await up.shutdown();
        await down.shutdown();
      }
    },
    "`-grace 30s`": () => {
      // the new container takes over at once; the old one is stopped 30 s later, not before
      resetContainers();
      const v1 = web("v1");
      return watchRig(["watch", "--rollover", "--retire-after", "30s"], [v1], async (rig) => {
        rig.engine.start(web("v2"));
        await rig.clock.advance(500);
        assert.equal(await rig.served(), "web: v2\n");
        await rig.clock.advance(29_999);
        assert.deepEqual(rig.engine.stopped, []);
        await rig.clock.advance(1);
        assert.deepEqual(rig.engine.stopped, [v1.id]);
      });
    },
  },
  "registrator and consul-template": {
    "registrator: a service per image": async () => {
      const out = await probe([{ name: "r1", image: "registry.example.com/cache/redis:7" }], [
        "--match-image",
        "^(?:.*/)?(?<service>[a-z0-9_.-]+)(?::[^/]*)?$",
      ]);
      assert.equal(out, "redis http 80: 10.0.0.2:8080\n");
    },
    "registrator `-ip 10.0.0.5`": async () => {
      const out = await probe(
        [{ name: "a", labels: { "lbsync.enable": "true" }, ports: { 8080: 32771 } }],
        ["--address", "published", "--host-ip", "10.0.0.5"],
      );
      assert.equal(out, "a http 80: 10.0.0.5:32771\n");
    },
    "registrator `-internal`": async () => {
      const out = await probe(
        [{
          name: "a",
          labels: { "lbsync.enable": "true" },
          ports: { 8080: 32771 },
          ip: "10.0.0.9",
        }],
        ["--address", "network"],
      );
      assert.equal(out, "a http 80: 10.0.0.9:8080\n");
    },
    'consul-template `-template "in:out:cmd"`': () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/in.mustache`, PROBE);
        const r = await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], [
          "-t",
          `${dir}/in.mustache`,
          "-o",
          `${dir}/out`,
          "--reload-cmd",
          `touch ${dir}/ran`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(await Deno.readTextFile(`${dir}/out`), /^a http 80: /);
        assert.ok((await Deno.stat(`${dir}/ran`)).isFile, "the command ran");
      }),
    "consul-template `-wait 5s:10s`": () => {
      const heartbeat = options(["watch", "--heartbeat", "5s:10s"]).options.heartbeat!;
      assert.equal(appliesAt(heartbeat, [0, 1000]), 6000);
      assert.equal(appliesAt(heartbeat, [0, 4000, 8000, 9000]), 10_000);
    },
    "consul-template `-once`": () =>
      inTempDir(async (dir) => {
        // renders, writes and exits: the run returns with the file in place
        assert.equal(options(["render"]).command, "render");
        const r = await renderTo(dir, [{ name: "a", labels: { "lbsync.enable": "true" } }], [
          "-t",
          "nginx",
          "-o",
          `${dir}/out.conf`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(await Deno.readTextFile(`${dir}/out.conf`), /upstream lbsync_a /);
      }),
  },
  "REST balancer": {
    "`GET /` (the whole configuration)": () =>
      inTempDir(async (dir) => {
        const api = await adminApi(dir);
        try {
          await api.call("PUT", "/services/web", { servers: [{ host: "10.0.0.9", port: 80 }] });
          const r = await api.call("GET", "/");
          assert.equal(r.status, 200);
          assert.equal(r.json.services[0].name, "web");
        } finally {
          await api.close();
        }
      }),
    "`GET` one upstream": () =>
      inTempDir(async (dir) => {
        const api = await adminApi(dir);
        try {
          await api.call("PUT", "/services/web", { servers: [] });
          assert.equal((await api.call("GET", "/services/web")).json.name, "web");
        } finally {
          await api.close();
        }
      }),
    "`PUT` a server, no body": () =>
      inTempDir(async (dir) => {
        const api = await adminApi(dir);
        try {
          await api.call("PUT", "/services/web", { servers: [] });
          const r = await api.call("PUT", "/services/web/servers/10.0.0.9-8080");
          assert.equal(r.status, 200);
          assert.deepEqual(r.json.servers, [{ host: "10.0.0.9", port: 8080 }]);
        } finally {
          await api.close();
        }
      }),
    "`DELETE` a server": () =>
      inTempDir(async (dir) => {
        const api = await adminApi(dir);
        try {
          await api.call("PUT", "/services/web", { servers: [{ host: "10.0.0.9", port: 8080 }] });
          const r = await api.call("DELETE", "/services/web/servers/10.0.0.9-8080");
          assert.deepEqual(r.json.servers, []);
        } finally {
          await api.close();
        }
      }),
    "`Weight`": () => {
      const staticServices = parseStaticServices([{
        name: "w",
        servers: [{ host: "10.0.0.1", port: 80, weight: 7 }],
      }], "f");
      assert.equal(staticServices[0].servers[0].weight, 7);
      const { model } = buildModel([], { staticServices });
      assert.match(render(templates.nginx, model), /server 10\.0\.0\.1:80 weight=7 /);
      assert.match(render(templates.haproxy, model), /server \S+ 10\.0\.0\.1:80 weight 7\b/);
    },
    "`Priority`": () => {
      const staticServices = parseStaticServices([{
        name: "w",
        servers: [{ host: "10.0.0.1", port: 80, priority: 0 }, {
          host: "10.0.0.2",
          port: 80,
          priority: 1,
        }],
      }], "f");
      assert.deepEqual(staticServices[0].servers.map((x) => x.backup ?? false), [false, true]);
      // the lowest serves; the next serves only when none of it is up
      const nginx = render(templates.nginx, buildModel([], { staticServices }).model);
      assert.match(nginx, /server 10\.0\.0\.1:80 weight=1 max_fails=2 fail_timeout=10s;/);
      assert.match(nginx, /server 10\.0\.0\.2:80 weight=1 max_fails=2 fail_timeout=10s backup;/);
    },
    "`Schemes`": () => {
      const https = (schemes: string[]) =>
        parseStaticServices([{ name: "w", schemes, servers: [] }], "f")[0].https;
      assert.deepEqual([https(["http"]), https(["https"]), https(["http", "https"])], [
        "nohttps",
        "nohttp",
        "noredirect",
      ]);
      assert.throws(() => https(["ftp"]), /"ftp": use \["http"\], \["https"\] or both/);
      // as the host is then served, with a certificate for it
      const served = (schemes: string[]) => {
        const staticServices = parseStaticServices([{
          name: "w",
          host: "a.test",
          schemes,
          servers: [{ host: "10.0.0.1", port: 80 }],
        }], "f");
        const { model } = buildModel([], { staticServices, certificates: CERTS, httpsListen: 443 });
        const [vhost] = model.httpListeners[0].virtualHosts;
        return { http: vhost.httpOn, https: vhost.httpsOn, redirect: vhost.redirectToHttps };
      };
      assert.deepEqual(served(["http"]), { http: true, https: false, redirect: false });
      assert.deepEqual(served(["https"]), { http: false, https: true, redirect: false });
      assert.deepEqual(served(["http", "https"]), { http: true, https: true, redirect: false });
    },
  },
  "nginx-proxy": {
    "`VIRTUAL_HOST=a.test,b.test`": () =>
      assert.deepEqual(compat({ VIRTUAL_HOST: "a.test,b.test" }).services.map((s) => s.name), [
        "a.test",
        "b.test",
      ]),
    "`VIRTUAL_HOST=test.example.*`": () => {
      const model = compat({ VIRTUAL_HOST: "test.example.*" });
      assert.match(render(templates.nginx, model), /server_name test\.example\.\*;/);
      assert.equal(routeRequest(model, { listen: 80, host: "test.example.org" }).kind, "routed");
      assert.equal(routeRequest(model, { listen: 80, host: "x.example.org" }).kind, "not-found");
    },
    "`VIRTUAL_HOST=[fd00::1]` (an address)": () => {
      const model = compat({ VIRTUAL_HOST: "[fd00::1]" });
      assert.equal(routeRequest(model, { listen: 80, host: "[FD00::1]:80" }).kind, "routed");
    },
    "`VIRTUAL_PORT=3000`": () => {
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test", VIRTUAL_PORT: "3000" }).services[0].servers[0].port,
        3000,
      );
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test" }, { ports: [] }).services[0].servers[0].port,
        80,
      );
    },
    "`VIRTUAL_PATH=/api/`": () => {
      const [s] = compat({ VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "/api/" }).services;
      // nginx-proxy's upstream name: the host, "-", the SHA-1 of the path
      assert.deepEqual([s.name, s.path], [
        "a.test-357322ae39f93f572e23cd9edd3307e2ac5a321f",
        "/api/",
      ]);
    },
    "`VIRTUAL_HOST=*.example.test`": () => {
      const model = compat({ VIRTUAL_HOST: "*.example.test" });
      assert.equal(routeRequest(model, { listen: 80, host: "x.example.test" }).kind, "routed");
      assert.equal(routeRequest(model, { listen: 80, host: "example.test" }).kind, "not-found");
    },
    "`VIRTUAL_HOST=~^re[0-9]+\\.rx\\.test$`": () => {
      const model = compat({ VIRTUAL_HOST: "~^re[0-9]+\\.rx\\.test$" });
      assert.equal(routeRequest(model, { listen: 80, host: "re12.rx.test" }).kind, "routed");
      assert.equal(routeRequest(model, { listen: 80, host: "re.rx.test" }).kind, "not-found");
    },
    "`VIRTUAL_PATH=~ ^/v[0-9]+/` (a regex)": () => {
      const model = compat({ VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "~ ^/v[0-9]+/" });
      const to = (path: string) => routeRequest(model, { listen: 80, host: "a.test", path }).kind;
      assert.deepEqual(["/v1/x", "/v22/", "/V1/x"].map(to), ["routed", "routed", "not-found"]);
      assert.match(render(templates.nginx, model), /location ~ \^\/v\[0-9\]\+\/ \{/);
      assert.match(render(templates.haproxy, model), /-m reg '\^\/v\[0-9\]\+\/'/);
      assert.match(
        compatOut({ VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "~ ^/(a+)+$" }),
        /not a path regex: a group repeats with \+/,
      );
    },
    "`VIRTUAL_PROTO=https`": () =>
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test", VIRTUAL_PROTO: "https" }).services[0].scheme,
        "https",
      ),
    "`VIRTUAL_PROTO=grpc` (or `uwsgi`, `fastcgi`)": () =>
      assert.match(
        compatOut({ VIRTUAL_HOST: "a.test", VIRTUAL_PROTO: "grpc" }),
        /proto="grpc": not one of http, https/,
      ),
    "`VIRTUAL_DEST=/`": () => {
      const model = compat({ VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "/app/", VIRTUAL_DEST: "/" });
      assert.equal(model.services[0].dest, "/");
      const answer = routeRequest(model, { listen: 80, host: "a.test", path: "/app/x" });
      assert.equal(answer.kind === "routed" && answer.upstreamPath, "/x");
    },
    "`VIRTUAL_HOST_MULTIPORTS`": () => {
      const model = compat({
        VIRTUAL_HOST_MULTIPORTS:
          'a.test:\n  "/":\n    port: 8000\n  "/api":\n    port: 9000\n    dest: "/"',
      });
      assert.deepEqual(
        model.services.map((s) =>
          `${s.hosts} ${s.path} ${s.dest} ${s.servers[0].endpoint.split(":")[1]}`
        ),
        ["a.test /  8000", "a.test /api / 9000"],
      );
      assert.match(
        compatOut({ VIRTUAL_HOST_MULTIPORTS: "a.test\nb.test:" }),
        /is not a key: value/,
      );
    },
    "`EXTERNAL_HTTPS_PORT=8443`, `external_https_port: 8443`": () => {
      for (
        const vars of [
          { VIRTUAL_HOST: "a.test", EXTERNAL_HTTPS_PORT: "8443" } as Record<string, string>,
          { VIRTUAL_HOST_MULTIPORTS: "a.test:\n  external_https_port: 8443" },
        ]
      ) {
        const model = compat(vars, {}, CERTS);
        const answer = routeRequest(model, { listen: 80, host: "a.test", path: "/x?y" });
        assert.deepEqual(answer, { kind: "redirect", location: "https://a.test:8443/x?y" });
        assert.equal(
          routeRequest(model, { listen: 8443, tls: true, host: "a.test" }).kind,
          "routed",
        );
        assert.equal(
          routeRequest(model, { listen: 443, tls: true, host: "a.test" }).kind,
          "not-found",
        );
        assert.match(render(templates.nginx, model), /listen 8443 ssl;/);
        assert.match(render(templates.haproxy, model), /bind :8443 ssl .* name lbsync-https-8443/);
      }
    },
    "`upstream a.test` (named after the host)": () => {
      const nginx = render(templates.nginx, compat({ VIRTUAL_HOST: "a.test" }));
      assert.match(nginx, /^upstream a\.test \{$/m);
      assert.match(nginx, /proxy_pass http:\/\/a\.test;/);
    },
    "a container on several of the proxy's networks": () => {
      const networks = [{ name: "a", ip: "10.0.1.2", ipv6: "" }, {
        name: "b",
        ip: "10.0.2.2",
        ipv6: "",
      }];
      const [s] = compat({ VIRTUAL_HOST: "a.test" }, { networks }).services;
      assert.equal(s.servers[0].endpoint, "10.0.1.2:8080");
      // the proxy's own container on "b" only: reached there
      resetContainers();
      const web = container("web", {}, {
        env: { VIRTUAL_HOST: "a.test" },
        networks,
        ports: [{ port: 8080, protocol: "tcp", published: [] }],
      });
      const proxy = container("proxy", {}, { networks: [networks[1]] });
      const { model } = buildModel([web, proxy], {
        compat: "nginx-proxy",
        balancerContainer: "proxy",
      });
      assert.equal(model.services[0].servers[0].endpoint, "10.0.2.2:8080");
      assert.match(
        Deno.readTextFileSync(`${ROOT}/contrib/nginx-proxy/start.sh`),
        /--balancer-container "\$self"/,
      );
    },
    "`server 127.0.0.1 down;` (no container reachable)": () => {
      const model = compat({ VIRTUAL_HOST: "a.test" }, { networks: [], networkMode: "none" });
      assert.match(
        render(templates.nginx, model),
        /^upstream a\.test \{\n(?:.*\n)*?\s+server 127\.0\.0\.1 down;$/m,
      );
      assert.equal(routeRequest(model, { listen: 80, host: "a.test" }).kind, "routed");
    },
    "`NETWORK_ACCESS=internal`": () =>
      assert.deepEqual(
        compat({ VIRTUAL_HOST: "a.test", NETWORK_ACCESS: "internal" }).httpListeners[0]
          .virtualHosts.map((v) => v.routes.map((r) => `${v.host}${r.path} ${r.internalOnly}`)),
        [["a.test/ true"]],
      ),
    "`HTTPS_METHOD=nohttp`": () =>
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test", HTTPS_METHOD: "nohttp" }, {}, CERTS).httpListeners[0]
          .virtualHosts[0].httpsMode,
        "nohttp",
      ),
    "`HTTPS_METHOD=nohttp` (on the proxy)": () => {
      resetContainers();
      const said = container("b", {}, {
        env: { VIRTUAL_HOST: "a.test", HTTPS_METHOD: "redirect" },
      });
      const unsaid = container("c", {}, { env: { VIRTUAL_HOST: "shared.test" } });
      const { model } = buildModel([said, unsaid], {
        compat: "nginx-proxy",
        certificates: CERTS,
        httpsMethod: "nohttp",
      });
      assert.deepEqual(
        model.httpListeners[0].virtualHosts.map((v) => `${v.host} ${v.httpsMode}`),
        ["a.test redirect", "shared.test nohttp"],
      );
    },
    "`TRUST_DEFAULT_CERT=false` (on the proxy), `com.github.nginx-proxy.nginx-proxy.trust-default-cert=false`":
      () => {
        const withDefault = new Map([...CERTS, ["default", {
          ...CERTS.get("a.test")!,
          name: "default",
        }]]);
        const tlsOf = (labels: Record<string, string>, trustDefaultCert?: boolean) => {
          resetContainers();
          const c = container("b", labels, { env: { VIRTUAL_HOST: "b.test" } });
          const { model } = buildModel([c], {
            compat: "nginx-proxy",
            certificates: withDefault,
            trustDefaultCert,
          });
          const v = model.httpListeners[0].virtualHosts[0];
          return `${v.tls?.name ?? "none"} ${v.refusedHttps ? "refused" : "served"}`;
        };
        assert.equal(tlsOf({}), "default served");
        assert.equal(tlsOf({}, false), "none refused");
        assert.equal(
          tlsOf({ "com.github.nginx-proxy.nginx-proxy.trust-default-cert": "false" }),
          "none refused",
        );
        assert.equal(
          tlsOf({ "com.github.nginx-proxy.nginx-proxy.trust-default-cert": "true" }, false),
          "default served",
        );
      },
    "`ENABLE_HTTP_ON_MISSING_CERT=false` (on the proxy or a container)": () => {
      const modeOf = (env: Record<string, string>, httpOnMissingCert?: boolean) => {
        resetContainers();
        const c = container("b", {}, { env: { VIRTUAL_HOST: "b.test", ...env } });
        const { model } = buildModel([c], {
          compat: "nginx-proxy",
          certificates: CERTS,
          httpOnMissingCert,
        });
        return model.httpListeners[0].virtualHosts[0].httpsMode;
      };
      assert.equal(modeOf({ HTTPS_METHOD: "nohttp" }), "noredirect");
      assert.equal(modeOf({ HTTPS_METHOD: "nohttp" }, false), "nohttp");
      assert.equal(
        modeOf({ HTTPS_METHOD: "nohttp", ENABLE_HTTP_ON_MISSING_CERT: "false" }),
        "nohttp",
      );
      assert.equal(modeOf({ ENABLE_HTTP_ON_MISSING_CERT: "true" }, false), "noredirect");
      assert.equal(modeOf({}, false), "redirect");
    },
    "`CERT_NAME=shared.test`": () =>
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test", CERT_NAME: "shared.test" }, {}, CERTS).httpListeners[0]
          .virtualHosts[0].tls?.name,
        "shared.test",
      ),
    "`HSTS=off`": () => {
      const vhost = (env: Record<string, string>) =>
        compat({ VIRTUAL_HOST: "a.test", ...env }, {}, CERTS).httpListeners[0].virtualHosts[0];
      assert.equal(vhost({ HSTS: "off" }).hsts, "");
      assert.equal(vhost({}).hsts, "max-age=31536000");
    },
    "`LETSENCRYPT_HOST=a.test`": () =>
      assert.deepEqual(
        acmeHosts(compat({ VIRTUAL_HOST: "a.test,b.test", LETSENCRYPT_HOST: "a.test" })),
        ["a.test"],
      ),
    "`LETSENCRYPT_EMAIL`": () =>
      assert.deepEqual(compatEnv(["VIRTUAL_HOST=a.test", "LETSENCRYPT_EMAIL=x@example.test"]), {
        VIRTUAL_HOST: "a.test",
      }),
    "`DEFAULT_ROOT=418` (on the proxy)": () => {
      const app = container("app", {}, { env: { VIRTUAL_HOST: "a.test", VIRTUAL_PATH: "/app/" } });
      const model = buildModel([app], {
        ...options(["render", "--compat", "nginx-proxy", "--default-root", "418"]).options,
      }).model;
      assert.match(render(templates.nginx, model), /location \/ \{\n\s+return 418;/);
    },
    "`SHA1_UPSTREAM_NAME=true` (on the proxy)": () => {
      const model = buildModel([nginxProxied("web.nginx-proxy.tld")], {
        ...options(["render", "--compat", "nginx-proxy", "--sha1-upstream-names"]).options,
      }).model;
      assert.equal(model.services[0].backend, "3e837201a6255962094cd6d8f61e22b07d3cc8ed");
    },
    "`ENABLE_IPV6=true` (on the proxy)": () => {
      const conf = render(
        templates.nginx,
        buildModel([], { ...options(["render", "--enable-ipv6"]).options }).model,
      );
      assert.match(conf, /^\s+listen \[::\]:80 default_server;$/m);
    },
    "`PREFER_IPV6_NETWORK=true` (on the proxy)": () => {
      const networks = [{ name: "dual", ip: "172.16.20.2", ipv6: "fd00::2" }];
      const c = container("app", {}, { env: { VIRTUAL_HOST: "a.test" }, networks });
      const { model } = buildModel([c], {
        ...options(["render", "--prefer-ipv6", "--compat", "nginx-proxy"]).options,
      });
      assert.equal(model.services[0].servers[0].endpoint, "[fd00::2]:8080");
    },
    "`DEFAULT_HOST=a.test` (on the proxy)": () => {
      assert.equal(options(["render", "--default-host", "a.test"]).options.defaultHost, "a.test");
      resetContainers();
      const c = container("app", {}, { env: { VIRTUAL_HOST: "a.test" } });
      const { model } = buildModel([c], { compat: "nginx-proxy", defaultHost: "a.test" });
      assert.equal(routeRequest(model, { listen: 80, host: "other.test" }).kind, "routed");
    },
    "`com.github.nginx-proxy.nginx-proxy.loadbalance=least_conn;`": () =>
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test" }, {
          labels: { "com.github.nginx-proxy.nginx-proxy.loadbalance": "least_conn;" },
        }).services[0].balance,
        "leastconn",
      ),
    "`com.github.nginx-proxy.nginx-proxy.keepalive=disabled`": () =>
      assert.equal(
        compat({ VIRTUAL_HOST: "a.test" }, {
          labels: { "com.github.nginx-proxy.nginx-proxy.keepalive": "disabled" },
        }).services[0].keepalive,
        0,
      ),
    "`/etc/nginx/certs` (`HOST.crt`, `HOST.key`, `default.crt`)": () =>
      inTempDir(async (dir) => {
        for (const f of ["a.test.crt", "a.test.key", "default.crt", "default.key"]) {
          await Deno.writeTextFile(`${dir}/${f}`, "x", { mode: 0o600 });
        }
        const found = await readCertificateDirectory(dir);
        assert.deepEqual([...found.certificates.keys()], ["a.test", "default"]);
        // a.test is served with its own pair; default answers the hosts without one
        const { model } = buildModel([nginxProxied("a.test"), nginxProxied("b.test")], {
          compat: "nginx-proxy",
          certificates: found.certificates,
        });
        const text = render(templates.nginx, model);
        assert.match(text, new RegExp(`ssl_certificate ${dir}/a\\.test\\.crt;`));
        assert.match(text, new RegExp(`ssl_certificate_key ${dir}/a\\.test\\.key;`));
        assert.match(text, new RegExp(`ssl_certificate ${dir}/default\\.crt;`));
      }),
    "`/etc/nginx/certs/HOST.ca.crt`, `HOST.crl.pem`, `ca.crt`, `ca.crl.pem` (mTLS)": () =>
      inTempDir(async (dir) => {
        const files = ["a.test.crt", "a.test.key", "a.test.ca.crt", "a.test.crl.pem", "ca.crt"];
        for (const f of [...files, "ca.crl.pem", "b.test.crt", "b.test.key"]) {
          await Deno.writeTextFile(`${dir}/${f}`, "x", { mode: 0o600 });
        }
        const found = await readCertificateDirectory(dir);
        assert.deepEqual(found.warnings, []);
        const { model } = buildModel([nginxProxied("a.test"), nginxProxied("b.test")], {
          compat: "nginx-proxy",
          certificates: found.certificates,
          clientCertFiles: found.clientCertFiles,
        });
        const text = render(templates.nginx, model);
        for (const f of ["a.test.ca.crt", "ca.crt"]) {
          assert.match(
            text,
            new RegExp(`ssl_client_certificate ${dir}/${f.replaceAll(".", "\\.")};`),
          );
        }
        for (const f of ["a.test.crl.pem", "ca.crl.pem"]) {
          assert.match(text, new RegExp(`ssl_crl ${dir}/${f.replaceAll(".", "\\.")};`));
        }
        assert.equal(text.split("ssl_verify_client on;").length - 1, 2);
        // HAProxy: a crt-list line per host with its CA and CRL, 400 as nginx answers
        const [target] = renderTargets([{
          template: "haproxy",
          output: `${dir}/haproxy.cfg`,
          text: templates.haproxy,
        }], model);
        const list = target.companions![0].content;
        for (
          const [host, ca, crl] of [["a.test", "a.test.ca", "a.test.crl"], [
            "b.test",
            "ca",
            "ca.crl",
          ]]
        ) {
          assert.match(
            list,
            new RegExp(
              `\\[ca-file ${dir}/${ca}\\.crt crl-file ${dir}/${crl}\\.pem verify optional\\] ${host}\n`,
            ),
          );
        }
        assert.match(target.content, / crt-list \S+ ca-ignore-err all crt-ignore-err all/);
        assert.match(target.content, /deny deny_status 400 if .* !\{ ssl_c_used \}/);
      }),
    "`com.github.nginx-proxy.nginx-proxy.ssl_verify_client=optional`": () => {
      resetContainers();
      const c = container("a", {
        "com.github.nginx-proxy.nginx-proxy.ssl_verify_client": "optional",
      }, {
        env: { VIRTUAL_HOST: "a.test" },
      });
      const { model } = buildModel([c], {
        compat: "nginx-proxy",
        certificates: CERTS,
        clientCertFiles: new Map([["ca.crt", { path: "/c/ca.crt", version: "1" }]]),
      });
      assert.equal(model.httpListeners[0].virtualHosts[0].clientCa?.verify, "optional");
      assert.match(render(templates.nginx, model), /ssl_verify_client optional;/);
    },
    "a conf.d file of its own with `listen 80 default_server`": () => {
      const { model } = buildModel([nginxProxied("a.test")], {
        compat: "nginx-proxy",
        certificates: CERTS,
      });
      const text = render(templates.nginx, model);
      assert.doesNotMatch(text, /listen [^;]*default_server/);
      // the servers for unknown hosts are the first of their ports
      const first = text.indexOf("server_name _;");
      assert.ok(first > 0 && first < text.indexOf("server_name a.test;"));
      assert.ok(text.lastIndexOf("server_name _;") < text.indexOf("server_name a.test;"));
    },
    "`/etc/nginx/htpasswd/HOST`, `HOST_SHA1(PATH)`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/a.test`, "u:x\n");
        const operatorFiles = await readOperatorFiles({ htpasswdDir: dir });
        assert.equal(options(["render", "--htpasswd-dir", dir]).options.htpasswdDir, dir);
        const { model } = buildModel([nginxProxied("a.test")], {
          compat: "nginx-proxy",
          operatorFiles,
        });
        assert.match(
          render(templates.nginx, model),
          new RegExp(`auth_basic_user_file ${dir}/a\\.test;`),
        );
      }),
    "`/etc/nginx/vhost.d/HOST`, `HOST_location`, `default`": () =>
      inTempDir(async (dir) => {
        for (const f of ["a.test", "a.test_location", "default"]) {
          await Deno.writeTextFile(`${dir}/${f}`, "# x\n");
        }
        const operatorFiles = await readOperatorFiles({ vhostDir: dir });
        const { model } = buildModel([nginxProxied("a.test"), nginxProxied("b.test")], {
          compat: "nginx-proxy",
          operatorFiles,
        });
        const text = render(templates.nginx, model);
        assert.match(text, new RegExp(`include ${dir}/a\\.test; # --vhost-dir`));
        assert.match(text, new RegExp(`include ${dir}/a\\.test_location; # --vhost-dir`));
        assert.match(text, new RegExp(`include ${dir}/default; # --vhost-dir`));
      }),
    "`ENABLE_PROXY_PROTOCOL=true` (on the proxy)": () => {
      const { model } = buildModel([nginxProxied("a.test")], {
        ...options(["render", "--proxy-protocol", "--compat", "nginx-proxy"]).options,
      });
      assert.match(
        render(templates.nginx, model),
        /^ {4}listen 80(?: default_server)? proxy_protocol;$/m,
      );
      assert.match(render(templates.nginx, model), /^ {4}real_ip_header proxy_protocol;$/m);
      assert.match(render(templates.haproxy, model), /^ {4}bind :80 accept-proxy$/m);
    },
    "`RESOLVERS=8.8.8.8` (on the proxy)": () => {
      const { model } = buildModel([nginxProxied("a.test")], {
        ...options(["render", "--resolvers", "8.8.8.8 2001:db8::53 valid=30s"]).options,
      });
      assert.match(
        render(templates.nginx, model),
        /^resolver 8\.8\.8\.8 \[2001:db8::53\] valid=30s;$/m,
      );
      assert.doesNotMatch(
        render(templates.nginx, compat({ VIRTUAL_HOST: "a.test" })),
        /^resolver /m,
      );
    },
    "`/etc/nginx/vhost.d/HOST_location_override`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/a.test_location_override`, "location / { return 418; }\n");
        const operatorFiles = await readOperatorFiles({ vhostDir: dir });
        const { model } = buildModel([nginxProxied("a.test")], {
          compat: "nginx-proxy",
          operatorFiles,
        });
        const text = render(templates.nginx, model);
        assert.match(text, new RegExp(`include ${dir}/a\\.test_location_override; # --vhost-dir`));
        assert.doesNotMatch(text, /location \/ \{\n\s+proxy_pass http:\/\/a\.test;/);
      }),
    "`/etc/nginx/network_internal.conf`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/network_internal.conf`, "allow 10.0.0.0/8;\ndeny all;\n");
        const file = `${dir}/network_internal.conf`;
        const parsed = options(["render", "--network-internal-conf", file]).options;
        assert.equal(parsed.networkInternalConf, file);
        resetContainers();
        const c = container("app", {}, {
          env: { VIRTUAL_HOST: "a.test", NETWORK_ACCESS: "internal" },
        });
        const { model } = buildModel([c], {
          compat: "nginx-proxy",
          operatorFiles: await readOperatorFiles({ networkInternalConf: file }),
        });
        assert.match(
          render(templates.nginx, model),
          new RegExp(`location / \\{\n.*\n\\s+include ${file}; # --network-internal-conf`),
        );
      }),
    "`/usr/share/nginx/html/errors/50x.html`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/50x.html`, "<h1>maintenance</h1>\n");
        const page = `${dir}/50x.html`;
        assert.equal(options(["render", "--error-page", page]).options.errorPage, page);
        const { model } = buildModel([nginxProxied("a.test")], {
          compat: "nginx-proxy",
          operatorFiles: await readOperatorFiles({ errorPage: page }),
        });
        assert.match(render(templates.nginx, model), new RegExp(`alias ${page}; # --error-page`));
        assert.match(
          render(templates.haproxy, model),
          new RegExp(`return status 503 .* file ${page}`),
        );
      }),
    "`/etc/nginx/proxy.conf`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/proxy.conf`, "proxy_http_version 1.1;\n");
        const operatorFiles = await readOperatorFiles({ proxyConf: `${dir}/proxy.conf` });
        const { model } = buildModel([nginxProxied("a.test")], {
          compat: "nginx-proxy",
          operatorFiles,
        });
        const text = render(templates.nginx, model);
        assert.match(text, new RegExp(`include ${dir}/proxy\\.conf; # --proxy-conf`));
        assert.doesNotMatch(text, /proxy_set_header X-Forwarded-Ssl/);
      }),
    "`/etc/nginx/dhparam/dhparam.pem`, `DHPARAM_BITS`, `DHPARAM_SKIP`, `CERT.dhparam.pem`": () =>
      inTempDir(async (dir) => {
        await Deno.writeTextFile(`${dir}/dhparam.pem`, "-----BEGIN DH PARAMETERS-----\n");
        assert.equal(
          options(["render", "--dhparam", `${dir}/dhparam.pem`]).options.dhparam,
          `${dir}/dhparam.pem`,
        );
        const operatorFiles = await readOperatorFiles({ dhparam: `${dir}/dhparam.pem` });
        const certificates = new Map([["a.test", {
          name: "a.test",
          certificate: `${dir}/a.test.crt`,
          key: `${dir}/a.test.key`,
          version: "1",
          dhparam: { path: `${dir}/a.test.dhparam.pem`, version: "2" },
        }]]);
        const { model } = buildModel([nginxProxied("a.test")], {
          compat: "nginx-proxy",
          operatorFiles,
          certificates,
        });
        const nginx = render(templates.nginx, model);
        assert.match(nginx, new RegExp(`^ssl_dhparam ${dir}/dhparam\\.pem; # version`, "m"));
        assert.match(nginx, new RegExp(`^ {4}ssl_dhparam ${dir}/a\\.test\\.dhparam\\.pem;`, "m"));
        assert.match(
          render(templates.haproxy, model),
          new RegExp(`ssl-dh-param-file ${dir}/dhparam`),
        );
        // the image's setup: tests/images/container_image_test.ts
        const start = await Deno.readTextFile(`${ROOT}/contrib/nginx-proxy/start.sh`);
        assert.match(start, /--dhparam \/etc\/nginx\/dhparam\/dhparam\.pem/);
      }),
    "unknown host: 503": () =>
      assert.equal(
        (routeRequest(compat({ VIRTUAL_HOST: "a.test" }), { listen: 80, host: "b.test" }) as {
          status: number;
        }).status,
        503,
      ),
    "`X-Forwarded-Host`, `-Port`, `-Ssl`, `X-Original-URI`, `Proxy`": () => {
      const model = compat({ VIRTUAL_HOST: "a.test" });
      assert.match(
        render(templates.nginx, model),
        /proxy_set_header X-Original-URI \$request_uri;/,
      );
      assert.match(render(templates.haproxy, model), /http-request set-header X-Original-URI/);
    },
    "`/.well-known/acme-challenge/` answered by the proxy": () => {
      resetContainers();
      const c = container("app", {}, { env: { VIRTUAL_HOST: "a.test" } });
      const { model } = buildModel([c], { compat: "nginx-proxy", acmeChallenge: "127.0.0.1:8402" });
      assert.match(
        render(templates.nginx, model),
        /location \^~ \/\.well-known\/acme-challenge\/ \{\n\s+proxy_pass http:\/\/127\.0\.0\.1:8402;/,
      );
      assert.match(render(templates.haproxy, model), /use_backend lbsync:acme if/);
    },
  },
};

const rows = readmeRows();

Deno.test("every migration row of docs/migration.md has a check, and every check a row", () => {
  const fromReadme = [...rows.entries()].flatMap(([tool, list]) =>
    list.map(([old]) => `${tool} | ${old}`)
  );
  const fromChecks = Object.entries(CHECKS).flatMap(([tool, list]) =>
    Object.keys(list).map((old) => `${tool} | ${old}`)
  );
  assert.deepEqual(fromReadme.sort(), fromChecks.sort());
});

for (const [tool, list] of rows) {
  for (const [old, now] of list) {
    Deno.test(`migration from ${tool}: ${old} -> ${now}`, async () => {
      const check = CHECKS[tool]?.[old];
      assert.ok(check, `no check for ${tool} ${old}`);
      await check();
    });
  }
}
