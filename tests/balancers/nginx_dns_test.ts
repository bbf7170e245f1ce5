/**
 * nginx without reloads: `lbsync watch --nginx-dns` answers real nginx's resolver with the
 * servers of each service; a change of servers moves the traffic with no reload (the reload
 * command counts its runs), a new host takes one.
 */
import assert from "node:assert/strict";
import { answerSet, eventually, freePort, startManagedNginx } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { containerSummaries, type SummaryItem } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

/** Backends answering their address, on one port of several loopback addresses. */
function backends(addresses: string[]): { port: number; close: () => Promise<void> } {
  const port = freePort();
  const servers = addresses.map((hostname) =>
    Deno.serve({ hostname, port, onListen() {} }, () => new Response(hostname))
  );
  return { port, close: () => Promise.all(servers.map((s) => s.shutdown())).then(() => {}) };
}

type Item = SummaryItem;

/** An http container answering for `host` on `port`. */
function web(name: string, ip: string, host: string, port: number): Item {
  return {
    name,
    ip,
    labels: { "lbsync.service": host.split(".")[0], "lbsync.host": host, "lbsync.port": `${port}` },
  };
}

/** Replaces `path` with the summaries of `items` the way an editor saves. */
async function writeSummaries(path: string, items: Item[]): Promise<void> {
  await Deno.writeTextFile(`${path}.new`, containerSummaries(items));
  await Deno.rename(`${path}.new`, path);
}

Deno.test({
  name: "nginx --nginx-dns: servers come and go with no reload; a new host reloads once",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-nginx-dns-" });
    const servers = backends(["127.0.0.21", "127.0.0.22", "127.0.0.23"]);
    const listen = freePort();
    const dns = freePort();
    const status = freePort();
    const out = `${dir}/lbsync.conf`;
    const source = `${dir}/containers.json`;
    const item = (name: string, ip: string, host: string) => web(name, ip, host, servers.port);
    const write = (items: Item[]) => writeSummaries(source, items);
    await write([item("web-1", "127.0.0.21", "web.test")]);
    await Deno.writeTextFile(out, "");
    const nginx = await startManagedNginx(dir, out, `${dir}/reloads`);
    const watch = new WatchProcess([
      "--from-file",
      source,
      "--nginx-dns",
      String(dns),
      "--listen",
      String(listen),
      "--listen-address",
      "127.0.0.1",
      ...nginx.targetArgs,
      "--status-listen",
      String(status),
      "--heartbeat",
      "100ms:500ms",
    ]);
    const answers = (host = "web.test") => answerSet(listen, "/", host, 12);
    const reloads = async () => (await readOr(`${dir}/reloads`)).length;
    const serving = (expected: string[], host?: string) =>
      eventually(async () => [...await answers(host)].sort().join() === expected.join(), 10_000);
    try {
      await watch.untilLog(/DNS for nginx on udp port/);
      await serving(["127.0.0.21"]);
      assert.equal(await reloads(), 1);
      const config = await Deno.readTextFile(out);
      assert.match(config, new RegExp(`resolver 127\\.0\\.0\\.1:${dns} valid=1s;`));

      await write([
        item("web-1", "127.0.0.21", "web.test"),
        item("web-2", "127.0.0.22", "web.test"),
      ]);
      await serving(["127.0.0.21", "127.0.0.22"]);
      await write([
        item("web-2", "127.0.0.22", "web.test"),
        item("web-3", "127.0.0.23", "web.test"),
      ]);
      await serving(["127.0.0.22", "127.0.0.23"]);
      assert.equal(await reloads(), 1);
      assert.equal(await Deno.readTextFile(out), config); // the file never changed

      await write([
        item("web-3", "127.0.0.23", "web.test"),
        item("api-1", "127.0.0.21", "api.test"),
      ]);
      await serving(["127.0.0.21"], "api.test");
      await serving(["127.0.0.23"]);
      assert.equal(await reloads(), 2);
      const metrics = await (await fetch(`http://127.0.0.1:${status}/metrics`)).text();
      assert.match(metrics, /^lbsync_dns_answers_total\{rcode="NOERROR"\} [1-9]\d*$/m);

      const refused = await lbsync([
        "render",
        "--from-file",
        source,
        "--nginx-dns",
        "5353",
        "-t",
        "nginx",
      ]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /--nginx-dns works with watch/);
    } finally {
      await watch.stop();
      await nginx.stop();
      await servers.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "nginx stream --nginx-dns: a tcp service's servers come and go with no reload",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-stream-dns-" });
    const servers = backends(["127.0.0.31", "127.0.0.32"]);
    const [listen, dns] = [freePort(), freePort()];
    const [out, stream, source] = ["http.conf", "stream.conf", "containers.json"].map((f) =>
      `${dir}/${f}`
    );
    const db = (name: string, ip: string): Item => ({
      name,
      ip,
      labels: {
        "lbsync.service": "db",
        "lbsync.mode": "tcp",
        "lbsync.listen": `${listen}`,
        "lbsync.port": `${servers.port}`,
      },
    });
    await writeSummaries(source, [db("db-1", "127.0.0.31")]);
    await Promise.all([out, stream].map((f) => Deno.writeTextFile(f, "")));
    const nginx = await startManagedNginx(dir, out, `${dir}/reloads`, stream);
    const watch = new WatchProcess([
      ...["--from-file", source, "--nginx-dns", `${dns}`, "--listen-address", "127.0.0.1"],
      ...nginx.targetArgs,
      ...["--heartbeat", "100ms:500ms"],
    ]);
    // the tcp listener passes the bytes through: an HTTP request reaches a backend
    const serving = (expected: string[]) =>
      eventually(
        async () => [...await answerSet(listen, "/", "db", 8)].sort().join() === expected.join(),
        10_000,
      );
    try {
      await watch.untilLog(/DNS for nginx on udp port/);
      await serving(["127.0.0.31"]);
      await writeSummaries(source, [db("db-1", "127.0.0.31"), db("db-2", "127.0.0.32")]);
      await serving(["127.0.0.31", "127.0.0.32"]);
      await writeSummaries(source, [db("db-2", "127.0.0.32")]);
      await serving(["127.0.0.32"]);
      assert.equal((await readOr(`${dir}/reloads`)).length, 1); // the first config only
    } finally {
      await watch.stop();
      await nginx.stop();
      await servers.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
