/**
 * The admin API: edits of static services, validated, kept in the config file, applied
 * through real nginx serving backends of this process on 127.0.0.1; bad requests and a
 * refused apply change nothing.
 */
import assert from "node:assert/strict";
import {
  AdminError,
  deleteServer,
  deleteService,
  putServer,
  putService,
} from "../../lib/serve/admin/config_edits.ts";
import {
  answerSet,
  backend,
  eventually,
  freePort,
  startManagedNginx,
} from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { missing } from "../support/tools.ts";
import { WatchProcess } from "../support/watch_process.ts";

Deno.test("admin edits: put and delete services and servers, with the file's validation", () => {
  let doc: Record<string, unknown> = { listen: 8080 };
  doc = putService(doc, "web", { host: "web.test", servers: [{ host: "10.0.0.2", port: 80 }] });
  doc = putServer(doc, "web", "10.0.0.3-80", { weight: 2 });
  doc = putServer(doc, "web", "10.0.0.3-80", { weight: 3, backup: true });
  assert.deepEqual(doc, {
    listen: 8080,
    services: [{
      name: "web",
      host: "web.test",
      servers: [
        { host: "10.0.0.2", port: 80 },
        { host: "10.0.0.3", port: 80, weight: 3, backup: true },
      ],
    }],
  });
  assert.deepEqual(
    (deleteServer(doc, "web", "10.0.0.2-80").services as { servers: unknown[] }[])[0].servers,
    [{ host: "10.0.0.3", port: 80, weight: 3, backup: true }],
  );
  assert.deepEqual(deleteService(doc, "web").services, []);

  const refused: [() => unknown, number, string][] = [
    [
      () => putService(doc, "web", { servers: [{ host: "a;b", port: 80 }] }),
      400,
      '$.servers[0].host: "a;b" is not an IP address or a host name',
    ],
    [
      () => putService(doc, "web", { name: "other", servers: [] }),
      400,
      '$.name: "other" is not the service of the URL',
    ],
    [() => putService(doc, "web", []), 400, "$: expected an object"],
    [
      () => putServer(doc, "web", "10.0.0.9", {}),
      400,
      'server "10.0.0.9": expected HOST-PORT, e.g. 10.0.0.9-8080',
    ],
    [
      () => putServer(doc, "web", "10.0.0.9-80", { port: 81 }),
      400,
      "$: host and port must be those of the URL (10.0.0.9-80)",
    ],
    [
      () => putServer(doc, "web", "10.0.0.9-80", { weight: 999 }),
      400,
      "$.weight: not an integer in 1..256",
    ],
    [() => putServer(doc, "nope", "10.0.0.9-80", {}), 404, "no static service nope"],
    [() => deleteServer(doc, "web", "10.0.0.9-80"), 404, "service web has no server 10.0.0.9-80"],
    [() => deleteService(doc, "nope"), 404, "no static service nope"],
  ];
  for (const [attempt, status, message] of refused) {
    assert.throws(attempt, (error) => {
      assert.ok(error instanceof AdminError);
      assert.deepEqual([error.status, error.message], [status, message]);
      return true;
    });
  }
});

Deno.test({
  name: "admin API: a change reaches real nginx; bad requests and a refused apply change nothing",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-admin-" });
    const [a, b] = [backend("a"), backend("b")];
    const listen = freePort();
    const admin = freePort();
    const token = "s3cret-token-0123456789";
    await Deno.writeTextFile(`${dir}/token`, `${token}\n`, { mode: 0o600 });
    await Deno.writeTextFile(`${dir}/containers.json`, "[]");
    const out = `${dir}/lbsync.conf`;
    const config = `${dir}/lbsync.json`;
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        "from-file": `${dir}/containers.json`,
        listen,
        "listen-address": "127.0.0.1",
        services: [{
          name: "web",
          host: "web.test",
          servers: [{ host: "127.0.0.1", port: a.port }],
        }],
      }),
    );
    const first = await lbsync(["render", "--config", config, "-t", "nginx", "-o", out]);
    assert.equal(first.code, 0, first.stderr);
    const nginx = await startManagedNginx(dir, out);
    const watch = new WatchProcess([
      "--config",
      config,
      ...nginx.targetArgs,
      "--admin-listen",
      String(admin),
      "--admin-token-file",
      `${dir}/token`,
    ]);
    const call = async (method: string, path: string, body?: unknown, auth = token) => {
      const r = await fetch(`http://127.0.0.1:${admin}${path}`, {
        method,
        headers: { authorization: `Bearer ${auth}` },
        body: body === undefined
          ? undefined
          : typeof body === "string"
          ? body
          : JSON.stringify(body),
      });
      const text = await r.text();
      return { status: r.status, json: text ? JSON.parse(text) : undefined };
    };
    const answers = () => answerSet(listen, "/", "web.test", 8);
    try {
      await watch.untilLog(/admin API on port/);
      assert.deepEqual([...await answers()], ["a"]);

      let r = await call("PUT", `/services/web/servers/127.0.0.1-${b.port}`, {});
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json.servers.map((s: { port: number }) => s.port), [a.port, b.port]);
      await eventually(async () => [...await answers()].sort().join() === "a,b", 10_000);
      r = await call("DELETE", `/services/web/servers/127.0.0.1-${a.port}`);
      assert.equal(r.status, 200);
      await eventually(async () => [...await answers()].join() === "b", 10_000);
      const kept = JSON.parse(await Deno.readTextFile(config));
      assert.deepEqual(kept.services, [
        { name: "web", host: "web.test", servers: [{ host: "127.0.0.1", port: b.port }] },
      ]);
      assert.deepEqual((await call("GET", "/services")).json, { services: kept.services });

      // refused: nothing written, nothing applied
      const before = await Deno.readTextFile(config);
      const refusals: [string, string, unknown, string, number][] = [
        ["PUT", "/services/web", { servers: [{ host: "x;y", port: 80 }] }, "", 400],
        ["PUT", "/services/web", "{not json", "", 400],
        ["PUT", "/services/bad%3Bname", { servers: [] }, "", 400],
        ["GET", "/services", undefined, "wrong-token", 401],
        ["POST", "/services/web", {}, "", 405],
        ["DELETE", "/services/nope", undefined, "", 404],
        // nginx -t refuses a host name it cannot resolve: the file is restored
        ["PUT", "/services/web/servers/no-such-host.invalid-80", {}, "", 422],
      ];
      for (const [method, path, body, auth, status] of refusals) {
        const res = await call(method, path, body, auth || token);
        assert.equal(res.status, status, `${method} ${path}: ${JSON.stringify(res.json)}`);
        assert.equal(typeof res.json.error, "string");
        assert.equal(await Deno.readTextFile(config), before, `${method} ${path}`);
      }
      assert.deepEqual([...await answers()], ["b"]);

      r = await call("DELETE", "/services/web");
      assert.equal(r.status, 204);
      await eventually(async () => (await answers()).has("status 404"), 10_000);
    } finally {
      await watch.stop();
      await nginx.stop();
      await Promise.all([a.close(), b.close()]);
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("admin API: refuses a non-loopback address without a token, and a watch without --config", async () => {
  const config = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(config, "{}");
  try {
    const open = await lbsync([
      "watch",
      "--from-file",
      config,
      "--config",
      config,
      "--admin-listen",
      "0.0.0.0:9",
      "-t",
      "nginx",
    ]);
    assert.equal(open.code, 2);
    assert.match(
      open.stderr,
      /Refusing --admin-listen 0\.0\.0\.0:9 without --admin-token-file: only a loopback address/,
    );
  } finally {
    await Deno.remove(config);
  }
  const noConfig = await lbsync([
    "watch",
    "--from-file",
    "-",
    "--admin-listen",
    "9",
    "-t",
    "nginx",
  ]);
  assert.equal(noConfig.code, 2);
  assert.match(noConfig.stderr, /--admin-listen needs --config FILE/);
});
