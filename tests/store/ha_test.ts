/**
 * `--store`: an HA pair on real etcd. A 3-member cluster on loopback, two `lbsync watch`
 * beside two real nginx; edits through either admin API reach both, concurrent edits of one
 * service all land, a killed member is skipped, and with the whole cluster stopped both keep
 * serving, edits answer 503 and /healthz says degraded, until it is back.
 */
import assert from "node:assert/strict";
import {
  answerSet,
  backend,
  eventually,
  freePort,
  startManagedNginx,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { cleanUp, missing } from "../support/tools.ts";
import { WatchProcess } from "../support/watch_process.ts";
import { type EtcdCluster, startEtcdCluster } from "../support/etcd_cluster.ts";

/**
 * The rule: a store change is applied within a second; the bound adds nginx's check and
 * reload, and the store client's reconnect backoff (2 s at most) where a reconnect comes first.
 */
const APPLY_MS = 1_000 + 3_000;
const RECONNECT_MS = 2_000 + 3_000 + APPLY_MS;

interface Instance {
  watch: WatchProcess;
  listen: number;
  admin: number;
  status: number;
  stop(): Promise<void>;
}

/**
 * A watch of the store's services alone (no containers) writing nginx configuration to
 * DIR/lbsync.conf, with a status listener.
 */
async function storeOnlyWatch(
  dir: string,
  url: string,
): Promise<{ watch: WatchProcess; out: string; status: number }> {
  const status = freePort();
  const out = `${dir}/lbsync.conf`;
  await Deno.writeTextFile(`${dir}/containers.json`, "[]");
  const watch = new WatchProcess([
    "--store",
    url,
    "--from-file",
    `${dir}/containers.json`,
    "-t",
    "nginx",
    "-o",
    out,
    "--status-listen",
    String(status),
  ]);
  return { watch, out, status };
}

async function startInstance(dir: string, url: string, name: string): Promise<Instance> {
  await Deno.mkdir(`${dir}/${name}`);
  const out = `${dir}/${name}/lbsync.conf`;
  const [listen, admin, status] = [freePort(), freePort(), freePort()];
  await Deno.writeTextFile(`${dir}/${name}/containers.json`, "[]");
  // nginx needs a file to include before lbsync writes one: an empty include is valid
  await Deno.writeTextFile(out, "");
  const nginx = await startManagedNginx(`${dir}/${name}`, out);
  const watch = new WatchProcess([
    "--store",
    url,
    "--from-file",
    `${dir}/${name}/containers.json`,
    "--listen",
    String(listen),
    "--listen-address",
    "127.0.0.1",
    ...nginx.targetArgs,
    "--admin-listen",
    String(admin),
    "--status-listen",
    String(status),
  ]);
  return {
    watch,
    listen,
    admin,
    status,
    async stop() {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        () => nginx.stop(),
      );
    },
  };
}

async function call(port: number, method: string, path: string, body?: unknown) {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

async function healthz(port: number): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}/healthz`);
  return `${r.status} ${(await r.text()).trim()}`;
}

const answers = (i: Instance) => answerSet(i.listen, "/", "web.test", 6);
const serves = async (i: Instance, want: string) => [...await answers(i)].sort().join() === want;

Deno.test({
  name:
    "--store: two watches beside two nginx share etcd's services; edits, conflicts, a dead member, a dead cluster",
  ignore: missing("etcd", "etcdctl", "nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-store-" });
    const backends = ["a", "b", "c"].map(backend);
    const [a, b, c] = backends;
    let cluster: EtcdCluster | undefined;
    const instances: Instance[] = [];
    try {
      cluster = await startEtcdCluster(`${dir}/etcd`);
      const url = cluster.url("/lbsync/ha");
      await cluster.ctl(
        "put",
        "/lbsync/ha/web",
        JSON.stringify({
          host: "web.test",
          servers: [{ host: "127.0.0.1", port: a.port }],
        }),
      );
      await cluster.ctl("put", "/lbsync/ha/broken", '{"servers":[{"host":"x;y","port":80}]}');
      instances.push(await startInstance(dir, url, "one"), await startInstance(dir, url, "two"));
      const [one, two] = instances;
      for (const i of instances) {
        await i.watch.untilLog(/admin API on port/);
        await eventually(() => serves(i, "a"), APPLY_MS);
        // a bad value is skipped with its key named; the rest applies
        await i.watch.untilLog(/store key \/lbsync\/ha\/broken skipped: \$\.servers\[0\]\.host/);
      }
      const explained = await lbsync([
        "explain",
        "--store",
        url,
        "--from-file",
        `${dir}/one/containers.json`,
      ]);
      assert.match(explained.stdout, /store key \/lbsync\/ha\/broken skipped/);
      assert.match(explained.stdout, new RegExp(`127\\.0\\.0\\.1-${a.port} +in +web`));

      // an edit through one instance: answered once applied there, and reaches the other
      let r = await call(one.admin, "PUT", `/services/web/servers/127.0.0.1-${b.port}`, {});
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(await serves(one, "a,b"), "applied before the answer");
      await eventually(() => serves(two, "a,b"), APPLY_MS);
      r = await call(two.admin, "DELETE", `/services/web/servers/127.0.0.1-${a.port}`);
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.ok(await serves(two, "b"));
      await eventually(() => serves(one, "b"), APPLY_MS);

      // a change nginx refuses (a host it cannot resolve) is undone in the store: 422
      const kept = await cluster.ctl("get", "--print-value-only", "/lbsync/ha/web");
      r = await call(one.admin, "PUT", "/services/web/servers/no-such-host.invalid-80", {});
      assert.equal(r.status, 422, JSON.stringify(r.json));
      assert.match(r.json.error, /^not applied, the store is restored: /);
      assert.equal(await cluster.ctl("get", "--print-value-only", "/lbsync/ha/web"), kept);
      for (const i of instances) assert.ok(await serves(i, "b"));

      // concurrent edits of one service through both: none is lost
      const ports = Array.from({ length: 8 }, (_, k) => 20_001 + k);
      const results = await Promise.all(
        ports.map((port, k) =>
          call(instances[k % 2].admin, "PUT", `/services/web/servers/127.0.0.9-${port}`, {
            backup: true,
          })
        ),
      );
      assert.deepEqual(results.map((x) => x.status), ports.map(() => 200), JSON.stringify(results));
      const stored = JSON.parse(await cluster.ctl("get", "--print-value-only", "/lbsync/ha/web"));
      assert.deepEqual(
        stored.servers.map((s: { port: number }) => s.port).sort(),
        [b.port, ...ports].sort(),
      );
      await eventually(
        async () => (await call(two.admin, "GET", "/services/web")).json.servers.length === 9,
        APPLY_MS,
      );

      // a dead member (the first, which both ask first) is skipped
      await cluster.kill(0);
      r = await call(two.admin, "PUT", `/services/web/servers/127.0.0.1-${c.port}`, {});
      assert.equal(r.status, 200, JSON.stringify(r.json));
      for (const i of instances) await eventually(() => serves(i, "b,c"), RECONNECT_MS);

      // the whole cluster stopped: last known services served, edits 503, /healthz degraded
      await cluster.kill(1);
      await cluster.kill(2);
      for (const i of instances) {
        await eventually(
          async () => (await healthz(i.status)).startsWith("503 degraded: store"),
          RECONNECT_MS,
        );
        assert.ok(await serves(i, "b,c"));
        const metrics = await (await fetch(`http://127.0.0.1:${i.status}/metrics`)).text();
        assert.match(metrics, /^lbsync_store_up\{store="etcd:\/\/[^"]+"\} 0$/m);
      }
      r = await call(one.admin, "PUT", `/services/web/servers/127.0.0.1-${a.port}`, {});
      assert.equal(r.status, 503, JSON.stringify(r.json));
      assert.match(
        r.json.error,
        /^store: etcd unreachable: etcd 127\.0\.0\.1:\d+: connection refused/,
      );

      // back: read in full, then followed again
      for (const m of [0, 1, 2]) await cluster.start(m);
      await cluster.healthy();
      await cluster.ctl(
        "put",
        "/lbsync/ha/web",
        JSON.stringify({
          host: "web.test",
          servers: [{ host: "127.0.0.1", port: a.port }],
        }),
      );
      for (const i of instances) {
        await eventually(() => serves(i, "a"), RECONNECT_MS);
        await eventually(async () => (await healthz(i.status)) === "200 ok", RECONNECT_MS);
      }
    } finally {
      await cleanUp(
        ...instances.map((i) => () => i.stop()),
        () => cluster?.stop(),
        ...backends.map((x) => () => x.close()),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});

Deno.test({
  name: "--store: a watch applies nothing before the store has been read, then applies it in full",
  ignore: missing("etcd", "etcdctl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-store-first-" });
    let cluster: EtcdCluster | undefined;
    let watch: WatchProcess | undefined;
    try {
      cluster = await startEtcdCluster(`${dir}/etcd`);
      await cluster.ctl("put", "/lbsync/first/web", '{"servers":[{"host":"10.0.0.7","port":87}]}');
      for (const m of [0, 1, 2]) await cluster.kill(m);
      const started = await storeOnlyWatch(dir, cluster.url("/lbsync/first"));
      watch = started.watch;
      const { out, status } = started;
      await watch.untilLog(/store etcd:\/\/\S+: unreachable: etcd unreachable/);
      assert.match(
        await healthz(status),
        /^503 unhealthy: store etcd:\/\/\S+ has not been read yet: etcd unreachable: .*connection refused.* \(nothing applied\)$/,
      );
      await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
      for (const m of [0, 1, 2]) await cluster.start(m);
      await cluster.healthy();
      await watch.until(
        "the output",
        async () => (await Deno.readTextFile(out).catch(() => "")).includes("server 10.0.0.7:87"),
        RECONNECT_MS,
      );
    } finally {
      await cleanUp(
        async () => watch && assert.equal((await watch.stop()).code, 0, watch.log),
        () => cluster?.stop(),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});

Deno.test({
  name:
    "--store: a member cut off from its quorum keeps the watch open and silent; the watch notices and says degraded",
  ignore: missing("etcd", "etcdctl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-store-quorum-" });
    let cluster: EtcdCluster | undefined;
    let watch: WatchProcess | undefined;
    try {
      cluster = await startEtcdCluster(`${dir}/etcd`);
      await cluster.ctl("put", "/lbsync/q/web", '{"servers":[{"host":"10.0.0.7","port":87}]}');
      // only the first member is named: its watch is the one that goes quiet
      const started = await storeOnlyWatch(dir, `etcd://${cluster.endpoints[0]}/lbsync/q`);
      watch = started.watch;
      const { out, status } = started;
      const output = () => Deno.readTextFile(out).catch(() => "");
      await watch.until(
        "the output",
        async () => (await output()).includes("server 10.0.0.7:87"),
        RECONNECT_MS,
      );
      await cluster.kill(1);
      await cluster.kill(2);
      // the rule: a linearizable read every 2 s on the watch's member, each bounded by 3 s
      await watch.until(
        "degraded",
        async () => (await healthz(status)).startsWith("503 degraded: store"),
        2_000 + 3_000 + 3_000,
      );
      assert.match(await output(), /server 10\.0\.0\.7:87/);
      for (const m of [1, 2]) await cluster.start(m);
      await cluster.healthy();
      await cluster.ctl("put", "/lbsync/q/web", '{"servers":[{"host":"10.0.0.8","port":88}]}');
      await watch.until(
        "the new output",
        async () => (await output()).includes("server 10.0.0.8:88"),
        RECONNECT_MS,
      );
      await watch.until("healthy", async () => (await healthz(status)) === "200 ok", RECONNECT_MS);
    } finally {
      await cleanUp(
        async () => watch && assert.equal((await watch.stop()).code, 0, watch.log),
        () => cluster?.stop(),
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});
