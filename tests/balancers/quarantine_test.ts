/**
 * One bad service never blocks the others, through real nginx and real HAProxy: a service
 * whose certificate the balancer cannot load is quarantined with the balancer's own message
 * (log, /status, /metrics), every other change applies meanwhile, and once its certificate is
 * fixed it is tried again and served.
 */
import assert from "node:assert/strict";
import { backend, freePort, httpGet, startReloadable } from "../support/balancers.ts";
import { containerSummaries } from "../support/fixtures.ts";
import { makeCertificate } from "../support/certificates.ts";
import { missing, run } from "../support/tools.ts";
import { readOr, WatchProcess, writeByRename } from "../support/watch_process.ts";

const ignore = missing("nginx", "haproxy", "openssl");

function summaries(ports: Record<string, number>, names: string[]): string {
  return containerSummaries(names.map((name) => {
    const service = name.replace(/-\d+$/, "");
    return {
      name,
      ip: "127.0.0.1",
      labels: {
        "lbsync.service": service,
        "lbsync.port": String(ports[service]),
        ...(service === "app" ? {} : { "lbsync.host": `${service}.test` }),
        // served over HTTP too once it has a certificate (else HTTP redirects)
        ...(service === "bad" ? { "lbsync.https": "noredirect" } : {}),
      },
    };
  }));
}

for (const template of ["nginx", "haproxy"] as const) {
  Deno.test({
    name: `quarantine (${template}): a service the balancer refuses is held; the rest applies`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "lbsync-quarantine-" });
      const certs = `${dir}/certs`;
      await Deno.mkdir(certs);
      // a certificate the balancer cannot load: lbsync sees a pair of files, nothing more
      await Deno.writeTextFile(`${certs}/bad.test.crt`, "not a certificate\n");
      await Deno.writeTextFile(`${certs}/bad.test.key`, "not a key\n", { mode: 0o600 });
      const backends = { app: backend("app"), bad: backend("bad"), other: backend("other") };
      const ports = Object.fromEntries(Object.entries(backends).map(([k, b]) => [k, b.port]));
      const source = `${dir}/containers.json`;
      await Deno.writeTextFile(source, summaries(ports, ["app-1"]));
      const [listen, https, status] = [freePort(), freePort(), freePort()];
      const out = `${dir}/out.conf`;
      const common = ["--listen", String(listen), "--listen-address", "127.0.0.1"];
      // the balancer starts on a first render, then follows the watch's reloads
      const first = await run([
        Deno.execPath(),
        "run",
        "-A",
        new URL("../../cli.ts", import.meta.url).pathname,
        "render",
        "--from-file",
        source,
        "-t",
        template,
        "-o",
        out,
        ...common,
      ]);
      assert.equal(first.code, 0, first.stderr);
      const balancer = await startReloadable(template, out, `${dir}/reloads.log`);
      await Deno.writeTextFile(source, summaries(ports, ["app-1", "bad-1"]));
      const watch = new WatchProcess([
        "--from-file",
        source,
        ...balancer.targetArgs,
        ...common,
        "--cert-dir",
        certs,
        "--https-listen",
        String(https),
        "--heartbeat",
        "50ms:200ms",
        "--status-listen",
        `127.0.0.1:${status}`,
      ]);
      try {
        await watch.untilLog(
          /service bad quarantined: the balancer refused it \(Check failed for .*\); the rest applied/,
          20_000,
        );
        const state = await (await fetch(`http://127.0.0.1:${status}/status`)).json();
        assert.deepEqual(state.quarantined.map((q: { service: string }) => q.service), ["bad"]);
        assert.match(state.quarantined[0].reason, /Check failed for/);
        // explain of the model in force says it, with the balancer's words
        const explained = await (await fetch(`http://127.0.0.1:${status}/explain`)).text();
        assert.match(
          explained,
          /^bad-1 +quarantined +bad +- +quarantined: the balancer refused service bad: Check failed for /m,
        );
        const metrics = await (await fetch(`http://127.0.0.1:${status}/metrics`)).text();
        assert.match(metrics, /^lbsync_quarantined_services 1$/m);
        assert.equal((await httpGet(listen, "/", "app.test")).body.trim(), "app");
        assert.doesNotMatch(await readOr(out), /bad\.test/, "the refused service is held out");

        // a change to another service applies while bad is held
        await writeByRename(source, summaries(ports, ["app-1", "bad-1", "other-1"]));
        await watch.until(
          "other served",
          async () => (await httpGet(listen, "/", "other.test")).body.trim() === "other",
          20_000,
        );

        // fix the certificate: bad is tried again and served
        await makeCertificate(certs, "bad.test");
        await watch.until(
          "bad served",
          async () => (await httpGet(listen, "/", "bad.test")).body.trim() === "bad",
          20_000,
        );
        // the pass reports once the reload is confirmed, a moment after the balancer serves it
        await watch.until("no service quarantined", async () => {
          const after = await (await fetch(`http://127.0.0.1:${status}/status`)).json();
          return after.quarantined.length === 0;
        });
      } finally {
        assert.equal((await watch.stop()).code, 0, watch.log);
        await balancer.stop();
        await Promise.all(Object.values(backends).map((b) => b.close()));
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
