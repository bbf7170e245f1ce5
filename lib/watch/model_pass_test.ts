/**
 * One pipeline: `render` (runOnce), `explain` and `route` (passModel) and a watch's pass (the
 * Watcher) build the model by one path, so the same inputs give every command the same model:
 * containers from a file, the operator's htpasswd and vhost directories, a certificate, and a
 * static service of the config.
 */
import assert from "node:assert/strict";
import { runOnce, watch } from "../../mod.ts";
import { passModel } from "./run_once.ts";
import type { ModelResult, RunOptions } from "../../mod.ts";
import { finalizeRunOptions } from "./run_settings.ts";
import { ROOT } from "../../tests/support/fixtures.ts";
import { lbsync } from "../../tests/support/cli.ts";

/** Writes the operator's files in `dir` and gives the options every command gets. */
async function inputs(dir: string): Promise<RunOptions> {
  await Deno.mkdir(`${dir}/htpasswd`);
  await Deno.mkdir(`${dir}/vhost.d`);
  await Deno.mkdir(`${dir}/certs`);
  await Deno.writeTextFile(`${dir}/htpasswd/shop.example.com`, "alice:$apr1$x$y\n");
  await Deno.writeTextFile(`${dir}/vhost.d/shop.example.com`, "add_header X-Shop 1;\n");
  for (const ext of ["crt", "key"]) {
    await Deno.writeTextFile(`${dir}/certs/shop.example.com.${ext}`, `not read: ${ext}\n`);
  }
  return {
    fromFiles: [`${ROOT}/examples/containers.json`],
    htpasswdDir: `${dir}/htpasswd`,
    vhostDir: `${dir}/vhost.d`,
    certDir: `${dir}/certs`,
    staticServices: [{
      name: "legacy",
      hosts: ["legacy.example.com"],
      servers: [{ host: "192.0.2.10", port: 80 }],
    }],
    targets: [{ template: "nginx", output: `${dir}/out.conf` }],
    heartbeat: { minMs: 0, maxMs: 0 },
  } as RunOptions;
}

/** The model as a report would show it: the parts that do not depend on when it was built. */
const shape = (r: ModelResult) => JSON.stringify({ model: r.model, skipped: r.skipped });

Deno.test("one pipeline: render, explain/route and a watch's pass build the same model", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-pipeline-" });
  try {
    const options = await inputs(dir);
    const rendered = await runOnce(options);
    const reported = await passModel(finalizeRunOptions(options));

    // a watch's first pass, stopped once it built its model
    const stop = new AbortController();
    let watched: ModelResult | undefined;
    await watch({ ...options, targets: [{ template: "nginx", output: `${dir}/watch.conf` }] }, {
      signal: stop.signal,
      observer: {
        built(result) {
          watched ??= result;
          stop.abort();
        },
      },
    });
    assert.ok(watched, "the watch built no model");

    assert.equal(shape(reported.result), shape(rendered));
    assert.equal(shape(watched), shape(rendered));
    // what the model says, the file says: basic auth, the vhost include, HTTPS, the static service
    const text = await Deno.readTextFile(`${dir}/out.conf`);
    for (
      const expected of [
        `auth_basic_user_file ${dir}/htpasswd/shop.example.com`,
        `include ${dir}/vhost.d/shop.example.com`,
        `ssl_certificate ${dir}/certs/shop.example.com.crt`,
        "server 192.0.2.10:80",
      ]
    ) {
      assert.ok(text.includes(expected), `render wrote no ${expected}`);
    }

    // and the command line's route says what render wrote for the host with basic auth
    const route = await lbsync([
      "route",
      "http://shop.example.com/",
      "--from-file",
      `${ROOT}/examples/containers.json`,
      "--htpasswd-dir",
      `${dir}/htpasswd`,
      "--format",
      "json",
    ]);
    assert.equal(route.code, 0, route.stderr);
    assert.equal(
      JSON.parse(route.stdout).auth?.path,
      `${dir}/htpasswd/shop.example.com`,
      route.stdout,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
