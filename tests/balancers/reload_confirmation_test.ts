/**
 * What lbsync says is what the balancer does, with real nginx: label values cannot take over
 * the operator's own upstreams; a reload that did not take fails the apply; a listen port
 * another process holds is refused for that service while the rest applies.
 */
import assert from "node:assert/strict";
import { applyTargets, buildModel, render, templates } from "../../mod.ts";
import {
  backend,
  eventually,
  freePort,
  httpGet,
  startHaproxy,
  startManagedNginx,
  startNginx,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { container, containerSummaries, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";

const ignore = missing("nginx") || missing("haproxy");

Deno.test({
  name:
    "an operator's proxy_pass http://localhost and upstream web keep working, whatever the labels",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const own = backend("operator");
    const theirs = backend("label");
    const listen = freePort();
    const operatorPort = freePort();
    const net = [{ name: "app", ip: "127.0.0.1", ipv6: "" }];
    const labelled = (service: string, host: string) =>
      container(`${service}-c`, {
        "lbsync.service": service,
        "lbsync.host": host,
        "lbsync.port": String(theirs.port),
      }, { networks: net });
    const nginxProxy = container("vh", {}, {
      networks: net,
      ports: [{ port: theirs.port, protocol: "tcp", published: [] }],
      env: { VIRTUAL_HOST: "localhost" },
    });
    const { model } = buildModel(
      [labelled("localhost", "a.test"), labelled("web", "b.test"), labelled("WEB2", "c.test")],
      { listen, listenAddress: "127.0.0.1" },
    );
    const compat = buildModel([nginxProxy], { compat: "nginx-proxy" }).model;
    assert.deepEqual(compat.services.map((s) => s.backend), ["lbsync_localhost"]);
    // the operator's part of the same http context: an upstream of their own named web, and
    // proxy_pass to localhost:PORT (an implicit upstream named localhost)
    const operator = `
upstream web { server 127.0.0.1:${own.port}; }
server {
    listen 127.0.0.1:${operatorPort};
    location /mine { proxy_pass http://web; }
    location / { proxy_pass http://localhost:${own.port}; }
}
`;
    const nginx = await startNginx({ http: render(templates.nginx, model) + operator });
    try {
      assert.equal((await httpGet(operatorPort, "/mine")).body, "operator");
      assert.equal((await httpGet(operatorPort, "/")).body, "operator");
      for (const host of ["a.test", "b.test", "c.test"]) {
        assert.equal((await httpGet(listen, "/", host)).body, "label", host);
      }
    } finally {
      await nginx.stop();
      await Promise.all([own.close(), theirs.close()]);
    }
  },
});

Deno.test({
  name: "a reload that does not take fails the apply, with the generation nginx still runs",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-confirm-" });
    const app = backend("app");
    const listen = String(freePort());
    const source = `${dir}/containers.json`;
    const out = `${dir}/lbsync.conf`;
    const write = (hosts: string[]) =>
      Deno.writeTextFile(
        source,
        containerSummaries(hosts.map((host, i) => ({
          name: `app-${i}`,
          ip: "127.0.0.1",
          labels: {
            "lbsync.service": `app${i}`,
            "lbsync.host": host,
            "lbsync.port": `${app.port}`,
          },
        }))),
      );
    await write(["one.test"]);
    await Deno.writeTextFile(out, "");
    const nginx = await startManagedNginx(dir, out);
    const base = [
      "render",
      "--from-file",
      source,
      "--listen",
      listen,
      "--listen-address",
      "127.0.0.1",
    ];
    try {
      const first = await lbsync([...base, ...nginx.targetArgs, "--confirm-timeout", "5s"]);
      assert.equal(first.code, 0, first.stderr);
      assert.equal((await httpGet(Number(listen), "/", "one.test")).body, "app");

      // a reload command that reloads nothing: nginx keeps the old file, lbsync says so
      await write(["one.test", "two.test"]);
      const args = nginx.targetArgs.map((a) => a.endsWith("-s reload") ? "true" : a);
      const stale = await lbsync([...base, ...args, "--confirm-timeout", "2s"]);
      assert.equal(stale.code, 1, stale.stderr);
      assert.match(
        stale.stderr,
        /Reload did not take: .*lbsync\.conf: the balancer at 127\.0\.0\.1:\d+ still runs generation [0-9a-f]{16}, not [0-9a-f]{16}/,
      );
      assert.equal((await httpGet(Number(listen), "/", "two.test")).status, 404);

      // the real reload: confirmed, and two.test is served (an old worker may take a request
      // or two on a loaded machine before it handles its QUIT: bounded)
      const fixed = await lbsync([...base, ...nginx.targetArgs, "--confirm-timeout", "5s"]);
      assert.equal(fixed.code, 0, fixed.stderr);
      await eventually(async () => (await httpGet(Number(listen), "/", "two.test")).body === "app");
    } finally {
      await nginx.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a listen port another process holds is refused for its service; the rest applies",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-busy-" });
    const app = backend("app");
    const listen = String(freePort());
    const squatter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busy = (squatter.addr as Deno.NetAddr).port;
    const source = `${dir}/containers.json`;
    const out = `${dir}/lbsync.conf`;
    const labels = (service: string, more: Record<string, string>) => ({
      "lbsync.service": service,
      "lbsync.port": `${app.port}`,
      ...more,
    });
    await Deno.writeTextFile(
      source,
      containerSummaries([
        { name: "web-1", ip: "127.0.0.1", labels: labels("web", { "lbsync.host": "web.test" }) },
        { name: "alt-1", ip: "127.0.0.1", labels: labels("alt", { "lbsync.listen": `${busy}` }) },
      ]),
    );
    await Deno.writeTextFile(out, "");
    const nginx = await startManagedNginx(dir, out);
    const base = ["--from-file", source, "--listen", listen, "--listen-address", "127.0.0.1"];
    try {
      const r = await lbsync(["render", ...base, ...nginx.targetArgs]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`service alt: lost port ${busy} to another process on this host`),
      );
      assert.equal((await httpGet(Number(listen), "/", "web.test")).body, "app");
      assert.doesNotMatch(await Deno.readTextFile(out), new RegExp(`:${busy}\\b`));
      const explain = await lbsync(["explain", ...base, ...nginx.targetArgs, "--format", "json"]);
      const alt = JSON.parse(explain.stdout).containers.find((c: { name: string }) =>
        c.name === "alt-1"
      );
      assert.equal(alt.status, "conflict");
      assert.equal(alt.code, "port-in-use");
    } finally {
      squatter.close();
      await nginx.stop();
      await app.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "applyTargets names the new port a balancer could not bind when its reload did not take",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const listen = freePort();
    const squatter = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busy = (squatter.addr as Deno.NetAddr).port;
    const model = (extra: boolean) => {
      resetContainers();
      const cs = [container("a", { "lbsync.service": "a" })];
      if (extra) cs.push(container("b", { "lbsync.service": "b", "lbsync.listen": `${busy}` }));
      return buildModel(cs, { listen, listenAddress: "127.0.0.1" }).model;
    };
    const before = render(templates.haproxy, model(false));
    const haproxy = await startHaproxy(before);
    const cfg = `${haproxy.dir}/haproxy.cfg`;
    const pid = (await Deno.readTextFile(`${haproxy.dir}/haproxy.pid`)).trim();
    try {
      const after = render(templates.haproxy, model(true));
      await assert.rejects(
        applyTargets([{
          template: "haproxy",
          output: cfg,
          content: after,
          // a master-worker reload that fails to bind says nothing: only the generation tells
          reload: `kill -USR2 ${pid}`,
          confirm: { hostname: "127.0.0.1", port: listen },
        }], { confirmTimeoutMs: 4000 }),
        new RegExp(
          `Reload did not take: .*still runs generation [0-9a-f]{16}, not [0-9a-f]{16} ` +
            `\\(port ${busy} is held by another process\\)`,
        ),
      );
    } finally {
      squatter.close();
      await haproxy.stop();
    }
  },
});
