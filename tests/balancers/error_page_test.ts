/**
 * `--error-page FILE` (nginx-proxy's `/usr/share/nginx/html/errors/50x.html`): a host no
 * service names gets the operator's page with its 503, as nginx-proxy's test_custom-error-page
 * asks, through real nginx and real HAProxy; a known host's answers stay its own.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { readOperatorFiles } from "../../lib/sources/operator_files.ts";
import { BALANCERS, freePort, httpGet, startBalancer } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { missing } from "../support/tools.ts";
import { lbsync } from "../support/cli.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

/** nginx-proxy's test page, test/test_custom-error-page/50x.html. */
const MAINTENANCE = `<!DOCTYPE html>
<html>
  <head>
    <title>Maintenance</title>
  </head>
  <body>
    <h1>Damn, there's some maintenance in progress.</h1>
  </body>
</html>
`;

Deno.test({
  name: "error page: unknown hosts get the operator's 50x page, on both balancers",
  ignore: missing("nginx", "haproxy"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-errors-" });
    const page = `${dir}/50x.html`;
    await Deno.writeTextFile(page, MAINTENANCE);
    const listen = freePort();
    // a known host whose container is gone: its own 503, not the page (nginx-proxy's neither)
    const gone: ContainerInfo = container("gone", {}, {
      state: "exited",
      env: { VIRTUAL_HOST: "gone.test", VIRTUAL_PORT: "80" },
    });
    const model = async (compat: boolean) =>
      buildModel([gone], {
        listen,
        listenAddress: "127.0.0.1",
        operatorFiles: await readOperatorFiles({ errorPage: page }),
        ...(compat ? { compat: "nginx-proxy" as const } : {}),
      }).model;
    try {
      const compat = await model(true);
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, compat);
        try {
          const r = await httpGet(listen, "/", "unknown.nginx-proxy.tld");
          assert.equal(r.status, 503, name);
          assert.match(r.body, /Damn, there's some maintenance in progress\./, name);
          assert.match(r.headers.get("content-type") ?? "", /^text\/html/, name);
          const deep = await httpGet(listen, "/some/where?x=1", "unknown.nginx-proxy.tld");
          assert.equal(`${deep.status} ${deep.body === MAINTENANCE}`, "503 true", name);
          // the page's own address is not a way in
          assert.notEqual((await httpGet(listen, "/lbsync-50x.html", "unknown.test")).status, 200);
          const known = await httpGet(listen, "/", "gone.test");
          assert.equal(known.status, 503, name);
          assert.doesNotMatch(known.body, /maintenance/, name);
        } finally {
          await balancer.stop();
        }
      }
      // lbsync's own 404 for an unknown host is no 50x: the page is not used
      const plain = await model(false);
      assert.equal(plain.unknownHostStatus, 404);
      assert.doesNotMatch(render(templates.nginx, plain), /lbsync-50x|error_page/);
      assert.doesNotMatch(render(templates.haproxy, plain), /--error-page/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("error page: a changed page reloads; HAProxy keeps its plain answer for a page over 12 KiB", async () => {
  resetContainers();
  const dir = await Deno.makeTempDir({ prefix: "lbsync-errors-" });
  const page = `${dir}/50x.html`;
  try {
    const rendered = async () => {
      const { model } = buildModel([], {
        compat: "nginx-proxy",
        operatorFiles: await readOperatorFiles({ errorPage: page }),
      });
      return { nginx: render(templates.nginx, model), haproxy: render(templates.haproxy, model) };
    };
    const none = await rendered();
    assert.doesNotMatch(none.nginx, /error_page/, "no file, no page");
    await Deno.writeTextFile(page, "<h1>one</h1>\n");
    const one = await rendered();
    assert.match(one.nginx, new RegExp(`alias ${page}; # --error-page, version [0-9a-f]{16}`));
    assert.match(one.haproxy, new RegExp(`content-type "text/html" file ${page}\\n`));
    await Deno.writeTextFile(page, "<h1>two</h1>\n");
    assert.notEqual((await rendered()).nginx, one.nginx);
    await Deno.writeTextFile(page, `<p>${"x".repeat(13_000)}</p>\n`);
    const big = await rendered();
    assert.match(big.nginx, /alias /);
    assert.doesNotMatch(big.haproxy, /--error-page/);
    assert.match(big.haproxy, /string "no service for this host"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("error page: the CLI takes --error-page for both balancers", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-errors-" });
  try {
    await Deno.writeTextFile(`${dir}/50x.html`, MAINTENANCE);
    await Deno.writeTextFile(`${dir}/containers.json`, "[]");
    for (const target of ["nginx", "haproxy"]) {
      const r = await lbsync([
        "render",
        "--compat",
        "nginx-proxy",
        "--from-file",
        `${dir}/containers.json`,
        "--error-page",
        `${dir}/50x.html`,
        "-t",
        target,
        "-o",
        "-",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`${dir}/50x\\.html`), target);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "error page: watch follows the file: a page written later is used",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-errors-" });
    await Deno.writeTextFile(`${dir}/containers.json`, "[]");
    const out = `${dir}/out.conf`;
    const watch = new WatchProcess([
      "--compat",
      "nginx-proxy",
      "--from-file",
      `${dir}/containers.json`,
      "--error-page",
      `${dir}/50x.html`,
      "--heartbeat",
      "50ms:200ms",
      "-t",
      "nginx",
      "-o",
      out,
    ]);
    try {
      await watch.until("the first apply", async () => (await readOr(out)).includes("server {"));
      assert.doesNotMatch(await readOr(out), /error_page/);
      await Deno.writeTextFile(`${dir}/50x.html`, MAINTENANCE);
      await watch.until(
        "the page in use",
        async () => (await readOr(out)).includes(`alias ${dir}/50x.html; # --error-page`),
      );
    } finally {
      await watch.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
