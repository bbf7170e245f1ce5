/**
 * `explain` and `route` with `--from-status`, against a real watch of the test engine: they
 * read the model the watch applied (its listen port, its quarantined service) where the same
 * commands without it, asked without the watch's settings, cannot know them; `GET /model` keeps
 * the status listener's browser guard; what goes wrong is one line.
 */
import assert from "node:assert/strict";
import { freePort, rawRequest } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { engineArgs, engineMissing, Scenario } from "../support/engine.ts";
import { WatchProcess } from "../support/watch_process.ts";

const ignore = await engineMissing();

Deno.test({
  name: "--from-status: explain and route tell what the running watch applied",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const s = new Scenario();
    const L = `fs${s.tag}`;
    const dir = await Deno.makeTempDir({ prefix: "lbsync-from-status-" });
    const [listen, status] = [freePort(), freePort()];
    const from = ["--from-status", `127.0.0.1:${status}`];
    let watch: WatchProcess | undefined;
    try {
      const labels = (
        service: string,
      ) => ["-l", `${L}.service=${service}`, "-l", `${L}.host=${service}.test`];
      const web = await s.run("web-1", labels("web"));
      const broken = await s.run("broken-1", labels("broken"));
      // the check refuses any config that holds the service broken: it is quarantined
      watch = new WatchProcess([
        ...engineArgs(L, listen),
        "-t",
        "nginx",
        "-o",
        `${dir}/lbsync.conf`,
        "--check-cmd",
        "! grep -q lbsync_broken {}",
        "--heartbeat",
        "50ms:200ms",
        "--status-listen",
        `127.0.0.1:${status}`,
      ]);
      await watch.until("broken quarantined", async () => {
        const r = await fetch(`http://127.0.0.1:${status}/status`).catch(() => undefined);
        const state = await r?.json();
        return state?.quarantined?.some((q: { service: string }) => q.service === "broken");
      }, 20_000);

      await t.step("route: the watch's port, with or without it in the URL", async () => {
        for (const url of ["http://web.test/", `http://web.test:${listen}/x`]) {
          const r = await lbsync(["route", url, ...from]);
          assert.equal(r.code, 0, r.stderr);
          assert.match(
            r.stdout,
            new RegExp(
              "^service  web\nroute    host web\\.test path /\nbackend  lbsync_web\n" +
                `servers  ${web.name} \\d+\\.\\d+\\.\\d+\\.\\d+:8080\n$`,
            ),
          );
        }
        const json = JSON.parse(
          (await lbsync(["route", "http://web.test/", ...from, "--format", "json"])).stdout,
        );
        assert.equal(json.service, "web");
        assert.equal(json.servers[0].id, web.id);
        // nothing listens on port 80 in the watch's model; without --from-status and without
        // repeating --listen, the one-shot answer is of port 80
        assert.equal(
          (await lbsync(["route", "http://web.test:80/", ...from])).stdout,
          "404 not found: no route for host web.test path / on port 80\n",
        );
        const stateless = await lbsync(["route", `http://web.test:${listen}/`, ...engineArgs(L)]);
        assert.equal(
          stateless.stdout,
          `404 not found: no route for host web.test path / on port ${listen}\n`,
        );
        // the quarantined service has no route in force
        assert.equal(
          (await lbsync(["route", "http://broken.test/", ...from])).stdout,
          `404 not found: no route for host broken.test path / on port ${listen}\n`,
        );
      });

      await t.step("explain: the quarantine and the port in force, as /explain says", async () => {
        const text = await lbsync(["explain", ...from]);
        assert.equal(text.code, 0, text.stderr);
        assert.match(
          text.stdout,
          new RegExp(
            `^${broken.name} +quarantined +broken +- +quarantined: the balancer refused service broken: Check failed for `,
            "m",
          ),
        );
        assert.match(
          text.stdout,
          new RegExp(`^${web.name} +in +web +\\S+ +http web\\.test / on port ${listen}$`, "m"),
        );
        assert.match(
          text.stdout,
          new RegExp(`\nThe model in force of the watch at http://127\\.0\\.0\\.1:${status}\n$`),
        );
        const json = JSON.parse((await lbsync(["explain", ...from, "--format", "json"])).stdout);
        const served = await (await fetch(`http://127.0.0.1:${status}/explain?format=json`)).json();
        assert.deepEqual(json.containers, served.containers);
        assert.equal(json.fromStatus, `http://127.0.0.1:${status}`);
        // one shot, the same engine and labels: it cannot know what the balancer refused
        const once = await lbsync(["explain", ...engineArgs(L, listen), "--format", "json"]);
        const row = JSON.parse(once.stdout).containers.find((r: { name: string }) =>
          r.name === broken.name
        );
        assert.equal(row.status, "in");
        // a loopback name is this server's address too
        assert.equal(
          (await lbsync(["explain", "--from-status", `http://localhost:${status}`])).code,
          0,
        );
      });

      await t.step("GET /model: a web page or a rebound name is refused", async () => {
        const ask = async (head: string) =>
          (await rawRequest(status, `${head}\r\nConnection: close\r\n\r\n`)).status;
        assert.equal(await ask("GET /model HTTP/1.1\r\nHost: 127.0.0.1"), 200);
        assert.equal(await ask("GET /model HTTP/1.1\r\nHost: rebind.attacker.example"), 421);
        assert.equal(
          await ask("GET /model HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example"),
          403,
        );
      });

      await t.step(
        "failures: one line naming the URL and why; a bad address is a usage error",
        async () => {
          const closed = freePort();
          const refused = await lbsync([
            "route",
            "http://web.test/",
            "--from-status",
            String(closed),
          ]);
          assert.deepEqual(refused, {
            code: 1,
            stdout: "",
            stderr:
              `lbsync: error: Cannot read the watch's model from http://127.0.0.1:${closed}/model: connection refused\n`,
          });
          const garbage = Deno.serve(
            { hostname: "127.0.0.1", port: 0, onListen() {} },
            () => new Response("<html>\n<body>a proxy's page</body>\n</html>\n"),
          );
          try {
            const r = await lbsync(["explain", "--from-status", String(garbage.addr.port)]);
            assert.equal(r.code, 1);
            assert.match(
              r.stderr,
              new RegExp(
                `^lbsync: error: Cannot read the watch's model from http://127\\.0\\.0\\.1:${garbage.addr.port}/model: not JSON \\([^\\n]*\\)\\n$`,
              ),
            );
          } finally {
            await garbage.shutdown();
          }
          // the watch's status listener, asked about its own other endpoint's base: not a model
          const usage = await lbsync([
            "explain",
            "--from-status",
            `http://127.0.0.1:${status}/status`,
          ]);
          assert.equal(usage.code, 2);
          assert.match(
            usage.stderr,
            /^lbsync: error: Invalid --from-status "http:\/\/127\.0\.0\.1:\d+\/status": use the watch's --status-listen address, http:\/\/HOST:PORT, HOST:PORT or PORT\n$/,
          );
          const mixed = await lbsync(["route", "http://web.test/", ...from, ...engineArgs(L)]);
          assert.equal(mixed.code, 2);
          assert.equal(
            mixed.stderr,
            "lbsync: error: --docker does not go with --from-status: the watch's own settings made its model\n",
          );
        },
      );
    } finally {
      if (watch) assert.equal((await watch.stop()).code, 0, watch.log);
      await s.cleanup();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
