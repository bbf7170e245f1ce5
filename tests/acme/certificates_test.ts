/**
 * Certificates from ACME without the internet: Debian's pebble (the RFC 8555 test server)
 * with pebble-challtestsrv answering every name with 127.0.0.1, started by
 * scripts/pebble_start.sh. `lbsync watch --acme-directory` obtains certificates for two hosts
 * through the HTTP-01 challenge that real nginx and real HAProxy forward to it, serves them,
 * renews one that is two thirds through its lifetime, and keeps HTTP serving when the ACME
 * server cannot be reached.
 */
import assert from "node:assert/strict";
import forge from "npm:node-forge@1.3.1";
import { backend, eventually, freePort, startReloadable } from "../support/balancers.ts";
import { lbsync } from "../support/cli.ts";
import { containerSummaries, ROOT } from "../support/fixtures.ts";
import { cleanUp, missing, requireTool, run } from "../support/tools.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";

const ignore = missing("nginx", "haproxy", "curl", "openssl", "pebble", "pebble-challtestsrv");

/** curl through 127.0.0.1 with `ca` trusted: status and body, or `no answer`. */
async function ask(ca: string, url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const r = await run([
    requireTool("curl"),
    "-sS",
    "--max-time",
    "5",
    "--cacert",
    ca,
    "--resolve",
    `${hostname}:${port}:127.0.0.1`,
    "-o",
    "-",
    "-w",
    " %{http_code}",
    url,
  ]);
  return r.code === 0 ? r.stdout.trim() : "no answer";
}

/** Pebble on free ports, validating HTTP-01 on `httpPort`; stopped by `stop()`. */
async function startPebble(httpPort: number) {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-pebble-" });
  const [acmePort, mgmtPort, dnsPort] = [freePort(), freePort(), freePort()];
  const args = [dir, httpPort, acmePort, mgmtPort, dnsPort].map(String);
  const started = await run(["bash", `${ROOT}/scripts/pebble_start.sh`, ...args]);
  assert.equal(started.code, 0, started.stderr);
  const tls = `${dir}/tls.pem`;
  // the root of the certificates pebble issues (a new one each start)
  const root = await run([
    requireTool("curl"),
    "-sS",
    "--cacert",
    tls,
    `https://127.0.0.1:${mgmtPort}/roots/0`,
  ]);
  assert.equal(root.code, 0, root.stderr);
  await Deno.writeTextFile(`${dir}/root.pem`, root.stdout);
  return {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    tls,
    root: `${dir}/root.pem`,
    async stop() {
      await run(["bash", `${ROOT}/scripts/pebble_stop.sh`, dir]);
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** A self-signed certificate for `host`, issued 10 days ago, valid 2 more: due for renewal. */
function agingCertificate(host: string): { cert: string; key: string } {
  const keys = forge.pki.rsa.generateKeyPair(2048);
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = "01";
  cert.validity.notBefore = new Date(Date.now() - 10 * 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 2 * 86_400_000);
  const name = [{ name: "commonName", value: host }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
  };
}

/** The issuer of the certificate in `path`. */
async function issuer(path: string): Promise<string> {
  const r = await run([requireTool("openssl"), "x509", "-noout", "-issuer", "-in", path]);
  return r.stdout.trim();
}

for (const template of ["nginx", "haproxy"] as const) {
  Deno.test({
    name:
      `acme (${template}): two hosts get certificates through HTTP-01, HTTP redirects, a due one is renewed`,
    ignore,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const dir = await Deno.makeTempDir({ prefix: "lbsync-acme-" });
      const certs = `${dir}/certs`;
      await Deno.mkdir(certs);
      const [http, https, status] = [freePort(), freePort(), freePort()];
      const pebble = await startPebble(http);
      const a = backend("a");
      const b = backend("b");
      const source = `${dir}/containers.json`;
      const labels = (host: string, port: number) => ({
        "lbsync.service": host.split(".")[0],
        "lbsync.host": host,
        "lbsync.port": String(port),
        "lbsync.acme": "true",
      });
      await Deno.writeTextFile(
        source,
        containerSummaries([
          { name: "a", ip: "127.0.0.1", labels: labels("a.test", a.port) },
          { name: "b", ip: "127.0.0.1", labels: labels("b.test", b.port) },
        ]),
      );
      const out = `${dir}/out.conf`;
      const reloads = `${dir}/reloads`;
      const common = [
        "--from-file",
        source,
        "--listen",
        String(http),
        "--https-listen",
        String(https),
        "--listen-address",
        "127.0.0.1",
        "--cert-dir",
        certs,
      ];
      const first = await lbsync(["render", ...common, "-t", template, "-o", out]);
      assert.equal(first.code, 0, first.stderr);
      const balancer = await startReloadable(template, out, reloads);
      const watch = new WatchProcess([
        ...common,
        ...balancer.targetArgs,
        "--acme-directory",
        pebble.directory,
        "--acme-ca-file",
        pebble.tls,
        "--acme-email",
        "ops@example.test",
        // a port of its own: an ephemeral one could be the status port freePort() just released
        "--acme-listen",
        `127.0.0.1:${freePort()}`,
        "--status-listen",
        `127.0.0.1:${status}`,
        "--heartbeat",
        "100ms:500ms",
      ]);
      const served = (host: string) => ask(pebble.root, `https://${host}:${https}/`);
      try {
        await watch.until(
          "both hosts on HTTPS",
          async () => (await served("a.test")) === "a 200" && (await served("b.test")) === "b 200",
          30_000,
        );
        // the last reload may still be under way on a busy machine: a bounded wait, not a sleep
        let redirect = "";
        const redirected = async () =>
          /(^| )301$/.test(redirect = await ask(pebble.root, `http://a.test:${http}/x`));
        await watch.until("HTTP redirected", redirected, 15_000).catch(() => {});
        assert.match(
          redirect,
          /(^| )301$/,
          `HTTP redirects; last answer ${redirect}:\n${watch.log}`,
        );
        const key = await Deno.stat(`${certs}/a.test.key`);
        assert.equal(key.mode! & 0o777, 0o600);
        const account = await Deno.stat(`${certs}/.lbsync-acme/account.key`);
        assert.equal(account.mode! & 0o777, 0o600);
        const metrics = await fetch(`http://127.0.0.1:${status}/metrics`).then((r) => r.text());
        assert.match(metrics, /^lbsync_acme_orders_total\{result="issued"\} 2$/m);

        // renewal: a certificate two thirds through its lifetime is replaced by a new one
        const before = (await readOr(reloads)).length;
        const aging = agingCertificate("a.test");
        await Deno.writeTextFile(`${certs}/a.test.key`, aging.key, { mode: 0o600 });
        await Deno.writeTextFile(`${certs}/a.test.crt`, aging.cert);
        await watch.untilLog(
          /certificate for a\.test issued/,
          30_000,
          watch.log.lastIndexOf("b.test issued"),
        );
        await watch.until(
          "the renewed certificate served",
          async () =>
            /Pebble/.test(await issuer(`${certs}/a.test.crt`)) &&
            (await served("a.test")) === "a 200",
          30_000,
        );
        const renewalReloads = (await readOr(reloads)).length - before;
        assert.ok(
          renewalReloads >= 1 && renewalReloads <= 2,
          `${renewalReloads} reloads for the replaced and the renewed file`,
        );
        const after = await fetch(`http://127.0.0.1:${status}/metrics`).then((r) => r.text());
        assert.match(after, /^lbsync_acme_orders_total\{result="issued"\} 3$/m);
      } finally {
        await cleanUp(
          async () => assert.equal((await watch.stop()).code, 0, watch.log),
          () => balancer.stop(),
          () => pebble.stop(),
          () => a.close(),
          () => b.close(),
          () => Deno.remove(dir, { recursive: true }),
        );
      }
    },
  });
}

Deno.test({
  name: "acme: an ACME server that cannot be reached leaves HTTP serving and the daemon running",
  ignore: missing("nginx"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-acme-down-" });
    const certs = `${dir}/certs`;
    await Deno.mkdir(certs);
    const [http, status] = [freePort(), freePort()];
    const a = backend("a");
    const source = `${dir}/containers.json`;
    await Deno.writeTextFile(
      source,
      containerSummaries([{
        name: "a",
        ip: "127.0.0.1",
        labels: {
          "lbsync.service": "a",
          "lbsync.host": "a.test",
          "lbsync.port": String(a.port),
          "lbsync.acme": "true",
        },
      }]),
    );
    const out = `${dir}/out.conf`;
    const common = [
      "--from-file",
      source,
      "--listen",
      String(http),
      "--listen-address",
      "127.0.0.1",
      "--cert-dir",
      certs,
    ];
    const first = await lbsync(["render", ...common, "-t", "nginx", "-o", out]);
    assert.equal(first.code, 0, first.stderr);
    const balancer = await startReloadable("nginx", out, `${dir}/reloads`);
    const watch = new WatchProcess([
      ...common,
      ...balancer.targetArgs,
      "--acme-directory",
      `https://127.0.0.1:${freePort()}/dir`,
      "--acme-listen",
      `127.0.0.1:${freePort()}`,
      "--status-listen",
      `127.0.0.1:${status}`,
      "--heartbeat",
      "100ms:500ms",
    ]);
    try {
      await watch.untilLog(
        /ACME order for a\.test failed: .*; retrying in 1m \(a certificate in place stays\)/,
        20_000,
      );
      await eventually(async () => (await ask("/dev/null", `http://a.test:${http}/`)) === "a 200");
      const metrics = await fetch(`http://127.0.0.1:${status}/metrics`).then((r) => r.text());
      assert.match(metrics, /^lbsync_acme_orders_total\{result="failed"\} 1$/m);
      assert.equal(watch.child.pid > 0 && (await watch.stop()).code, 0, watch.log);
    } finally {
      await watch.stop();
      await balancer.stop();
      await a.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
