/**
 * nginx without reloads: `lbsync watch --nginx-dns` answers real nginx's resolver with the
 * servers of each service; a change of servers moves the traffic with no reload (the reload
 * command counts its runs), a new host takes one.
 */
import assert from "node:assert/strict";
import { answerSet, eventually, freePort, startManagedNginx } from "./support/balancers.ts";
import { lbsync } from "./support/cli.ts";
import { missing } from "./support/tools.ts";
import { readOr, WatchProcess } from "./support/watch_process.ts";

/** Backends answering their address, on one port of several loopback addresses. */
function backends(addresses: string[]): { port: number; close: () => Promise<void> } {
  const port = freePort();
  const servers = addresses.map((hostname) =>
    Deno.serve({ hostname, port, onListen() {} }, () => new Response(hostname))
  );
  return { port, close: () => Promise.all(servers.map((s) => s.shutdown())).then(() => {}) };
}

/** /containers/json summaries: `name` on network `app` at `ip`, labelled for `service`. */
function summaries(items: { name: string; ip: string; host: string }[], port: number): string {
  return JSON.stringify(items.map(({ name, ip, host }, i) => ({
    Id: `${i + 1}`.repeat(64).slice(0, 64) + name,
    Names: [`/${name}`],
    Image: "app",
    Created: 1_700_000_000 + i,
    State: "running",
    Status: "Up",
    Labels: {
      "lbsync.service": host.split(".")[0],
      "lbsync.host": host,
      "lbsync.port": String(port),
    },
    Ports: [],
    HostConfig: { NetworkMode: "app" },
    NetworkSettings: { Networks: { app: { IPAddress: ip } } },
  })));
}

Deno.test({
  name: "nginx --nginx-dns: servers come and go with no reload; a new host reloads once",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-nginx-dns-" });
    const web = backends(["127.0.0.21", "127.0.0.22", "127.0.0.23"]);
    const listen = freePort();
    const dns = freePort();
    const status = freePort();
    const out = `${dir}/lbsync.conf`;
    const source = `${dir}/containers.json`;
    const write = (items: { name: string; ip: string; host: string }[]) =>
      Deno.writeTextFile(`${source}.new`, summaries(items, web.port)).then(() =>
        Deno.rename(`${source}.new`, source)
      );
    await write([{ name: "web-1", ip: "127.0.0.21", host: "web.test" }]);
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
        { name: "web-1", ip: "127.0.0.21", host: "web.test" },
        { name: "web-2", ip: "127.0.0.22", host: "web.test" },
      ]);
      await serving(["127.0.0.21", "127.0.0.22"]);
      await write([
        { name: "web-2", ip: "127.0.0.22", host: "web.test" },
        { name: "web-3", ip: "127.0.0.23", host: "web.test" },
      ]);
      await serving(["127.0.0.22", "127.0.0.23"]);
      assert.equal(await reloads(), 1);
      assert.equal(await Deno.readTextFile(out), config); // the file never changed

      await write([
        { name: "web-3", ip: "127.0.0.23", host: "web.test" },
        { name: "api-1", ip: "127.0.0.21", host: "api.test" },
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
      await web.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
