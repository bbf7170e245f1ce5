/**
 * HTTPS from a certificate directory (`--cert-dir`), through real nginx and real HAProxy:
 * certificates made by openssl here (a private CA), curl verifying them. Each host is served
 * as its `lbsync.https` says (redirect, noredirect, nohttp, nohttps), a wildcard certificate
 * is found under its parent domain, a host without a certificate stays on HTTP, HSTS only
 * over HTTPS; both balancers answer alike.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import {
  backend,
  BALANCERS,
  eventually,
  freePort,
  nginxMainConf,
  startBalancer,
  startHaproxy,
  startNginx,
} from "../support/balancers.ts";
import { container, containerSummaries, resetContainers } from "../support/fixtures.ts";
import { readOr, WatchProcess } from "../support/watch_process.ts";
import { cleanUp, missing, requireTool, run, waitForExit } from "../support/tools.ts";

const ignore = missing("nginx", "haproxy", "openssl", "curl");

/** A CA (made once per `dir`), and for each name a certificate (`name`, and `*.name`) signed by it, in `dir`. */
async function makeCertificates(dir: string, names: string[]): Promise<string> {
  const openssl = requireTool("openssl");
  const ok = async (args: string[]) => {
    const r = await run([openssl, ...args], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  };
  const ca = "-subj /CN=lbsync-test-CA -keyout ca.key -out ca.pem".split(" ");
  const haveCa = await Deno.stat(`${dir}/ca.pem`).then(() => true, () => false);
  if (!haveCa) await ok(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", ...ca]);
  for (const name of names) {
    const san = name === "default" ? "DNS:default.invalid" : `DNS:${name},DNS:*.${name}`;
    await ok([
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      `/CN=${name}`,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
    ]);
    await Deno.writeTextFile(`${dir}/${name}.ext`, `subjectAltName=${san}\n`);
    await ok([
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      `${name}.ext`,
      "-out",
      `${name}.crt`,
    ]);
    await Deno.chmod(`${dir}/${name}.key`, 0o600);
  }
  return `${dir}/ca.pem`;
}

/** What curl got: status (0: no TLS handshake or connection), Location, HSTS, body. */
async function fetchVia(ca: string, url: string, port: number, verify = true): Promise<string> {
  const host = new URL(url).hostname;
  const r = await run([
    requireTool("curl"),
    "-sS",
    ...(verify ? [] : ["--insecure"]),
    "--max-time",
    "5",
    "--cacert",
    ca,
    "--resolve",
    `${host}:${port}:127.0.0.1`,
    "-D",
    "-",
    url,
  ]);
  if (r.code !== 0) return "no answer";
  const status = /^HTTP\/[\d.]+ (\d+)/.exec(r.stdout)?.[1];
  const location = /^location: (\S+)/im.exec(r.stdout)?.[1];
  const hsts = /^strict-transport-security: (.+?)\r?$/im.exec(r.stdout)?.[1];
  const body = r.stdout.split("\r\n\r\n").slice(1).join("").trim();
  return [
    status,
    location ? `-> ${location}` : status === "200" ? body : "",
    hsts ? `hsts ${hsts}` : "",
  ].filter(Boolean).join(" ");
}

Deno.test({
  name:
    "https: certificates from a directory, each host as lbsync.https says, nginx and HAProxy alike",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-certs-" });
    const names = ["a.test", "example.test", "only.test", "both.test", "plain.test"];
    const backends = new Map(
      ["a", "shop", "b", "only", "both", "plain"].map((name) => [name, backend(name)]),
    );
    const running: { stop(): Promise<void> }[] = [];
    try {
      const ca = await makeCertificates(dir, names);
      const local = (name: string, labels: Record<string, string>): ContainerInfo =>
        container(name, { "lbsync.service": name, ...labels }, {
          networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
          ports: [{ port: backends.get(name)!.port, protocol: "tcp", published: [] }],
        });
      const containers = [
        local("a", { "lbsync.host": "a.test" }),
        local("shop", { "lbsync.host": "shop.example.test" }),
        local("b", { "lbsync.host": "b.test" }),
        local("only", { "lbsync.host": "only.test", "lbsync.https": "nohttp" }),
        local("both", {
          "lbsync.host": "both.test",
          "lbsync.https": "noredirect",
          "lbsync.hsts": "max-age=60",
        }),
        local("plain", { "lbsync.host": "plain.test", "lbsync.https": "nohttps" }),
      ];
      const found = await readCertificateDirectory(dir);
      assert.deepEqual([...found.certificates.keys()].sort(), [...names].sort());
      assert.deepEqual(found.warnings, []);

      const http = freePort();
      const https = freePort();
      const model = buildModel(containers, {
        listen: http,
        httpsListen: https,
        listenAddress: "127.0.0.1",
        certificates: found.certificates,
      }).model;
      const nginx = await startNginx({ http: render(templates.nginx, model) });
      running.push(nginx);
      const answers = async () => {
        const ask = (url: string) =>
          fetchVia(
            ca,
            url.replace(":HTTPS/", `:${https}/`).replace(":HTTP/", `:${http}/`),
            url.startsWith("https") ? https : http,
          );
        return {
          "http a": await ask("http://a.test:HTTP/x?y=1"),
          "http a acme": await ask("http://a.test:HTTP/.well-known/acme-challenge/t"),
          "https a": await ask("https://a.test:HTTPS/x"),
          "https shop (parent domain's wildcard)": await ask("https://shop.example.test:HTTPS/"),
          "http b (no certificate)": await ask("http://b.test:HTTP/"),
          "https b": await ask("https://b.test:HTTPS/"),
          "http only (nohttp)": await ask("http://only.test:HTTP/"),
          "https only": await ask("https://only.test:HTTPS/"),
          "http both (noredirect)": await ask("http://both.test:HTTP/"),
          "https both": await ask("https://both.test:HTTPS/"),
          "http plain (nohttps)": await ask("http://plain.test:HTTP/"),
          "https plain": await ask("https://plain.test:HTTPS/"),
        };
      };
      const expected = {
        "http a": `301 -> https://a.test:${https}/x?y=1`,
        "http a acme": "200 a",
        "https a": "200 a",
        "https shop (parent domain's wildcard)": "200 shop",
        "http b (no certificate)": "200 b",
        "https b": "no answer",
        "http only (nohttp)": "404",
        "https only": "200 only",
        "http both (noredirect)": "200 both",
        "https both": "200 both hsts max-age=60",
        "http plain (nohttps)": "200 plain",
        "https plain": "no answer",
      };
      assert.deepEqual(await answers(), expected, "nginx");
      await nginx.stop();
      running.pop();
      const haproxy = await startHaproxy(render(templates.haproxy, model));
      running.push(haproxy);
      assert.deepEqual(await answers(), expected, "HAProxy");
      await haproxy.stop();
      running.pop();

      // a default certificate not trusted (lbsync's default): nginx refuses the handshake for a
      // known host without a certificate, as nginx-proxy; HAProxy answers it as an unknown host
      await makeCertificates(dir, ["default"]);
      const withDefault = buildModel(containers, {
        listen: http,
        httpsListen: https,
        listenAddress: "127.0.0.1",
        certificates: (await readCertificateDirectory(dir)).certificates,
      }).model;
      const unknown = () =>
        Promise.all([
          fetchVia(ca, `https://b.test:${https}/`, https, false),
          fetchVia(ca, `https://nobody.test:${https}/`, https, false),
          fetchVia(ca, `https://a.test:${https}/`, https),
        ]);
      for (const name of BALANCERS) {
        const balancer = await startBalancer(name, withDefault);
        running.push(balancer);
        const b = name === "nginx" ? "no answer" : "404";
        assert.deepEqual(await unknown(), [b, "404", "200 a"], name);
        await balancer.stop();
        running.pop();
      }
    } finally {
      for (const r of running) await r.stop();
      for (const b of backends.values()) await b.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The SHA-256 fingerprint of a certificate file, as openssl prints it. */
async function fingerprintOf(file: string): Promise<string> {
  const r = await run([
    requireTool("openssl"),
    "x509",
    "-noout",
    "-fingerprint",
    "-sha256",
    "-in",
    file,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The fingerprint of the certificate served on 127.0.0.1:`port` for `name` (SNI), or why not. */
async function servedFingerprint(port: number, name: string): Promise<string> {
  const openssl = requireTool("openssl");
  const r = await run([
    "sh",
    "-c",
    `${openssl} s_client -connect 127.0.0.1:${port} -servername ${name} </dev/null 2>/dev/null` +
    ` | ${openssl} x509 -noout -fingerprint -sha256`,
  ]);
  return r.code === 0 ? r.stdout.trim() : `no certificate: ${r.stderr.trim()}`;
}

Deno.test({
  name:
    "https: in watch mode a certificate appearing, changing or going re-renders the config, and nginx serves the new one",
  ignore: missing("nginx", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const nginx = requireTool("nginx");
    const dir = await Deno.makeTempDir({ prefix: "lbsync-certwatch-" });
    const certs = `${dir}/certs`;
    const pki = `${dir}/pki`; // where openssl works; only NAME.crt and NAME.key are copied
    await Deno.mkdir(certs);
    await Deno.mkdir(pki);
    const source = `${dir}/containers.json`;
    await Deno.writeTextFile(
      source,
      containerSummaries([{
        name: "web",
        ip: "10.0.0.2",
        labels: { "lbsync.service": "web", "lbsync.host": "a.test", "lbsync.port": "8080" },
      }]),
    );
    const out = `${dir}/lbsync.conf`;
    const ngx = [nginx, "-p", `${dir}/`, "-c", `${dir}/nginx.conf`];
    await Deno.writeTextFile(`${dir}/nginx.conf`, nginxMainConf(dir, out));
    // nginx runs before the watch does (an empty include), so every apply reloads it
    await Deno.writeTextFile(out, "");
    const started = await run(ngx);
    assert.equal(started.code, 0, started.stderr);
    const https = freePort();
    const watch = new WatchProcess([
      "--from-file",
      source,
      "--cert-dir",
      certs,
      "--listen",
      String(freePort()),
      "--https-listen",
      String(https),
      "--listen-address",
      "127.0.0.1",
      "-t",
      "nginx",
      "-o",
      out,
      "--reload-cmd",
      `${ngx.join(" ")} -s reload`,
      "--heartbeat",
      "50ms:200ms",
    ]);
    // a new certificate for a.test (a new key too), put in place key first
    const issue = async () => {
      await makeCertificates(pki, ["a.test"]);
      await Deno.copyFile(`${pki}/a.test.key`, `${certs}/a.test.key`);
      await Deno.chmod(`${certs}/a.test.key`, 0o600);
      await Deno.copyFile(`${pki}/a.test.crt`, `${certs}/a.test.crt`);
      return await fingerprintOf(`${pki}/a.test.crt`);
    };
    try {
      await watch.until("the first config", async () => (await readOr(out)).includes("a.test"));
      assert.doesNotMatch(await readOr(out), /ssl_certificate/);

      const first = await issue();
      await watch.until(
        "HTTPS for a.test",
        async () => (await readOr(out)).includes(`ssl_certificate ${certs}/a.test.crt;`),
      );
      await eventually(async () => await servedFingerprint(https, "a.test") === first);
      const version = /ssl_certificate \S+; # version (\w+)/.exec(await readOr(out))?.[1];

      // the change: same file names, a new certificate in them
      const second = await issue();
      assert.notEqual(second, first);
      await eventually(async () => await servedFingerprint(https, "a.test") === second, 10_000)
        .catch(async (error) => {
          throw new Error(
            `${error.message}: serving ${await servedFingerprint(https, "a.test")}; ${watch.log}`,
          );
        });
      const changed = /ssl_certificate \S+; # version (\w+)/.exec(await readOr(out))?.[1];
      assert.ok(version && changed && changed !== version, `version ${version} -> ${changed}`);

      await Deno.remove(`${certs}/a.test.crt`);
      await watch.until(
        "HTTPS gone with the certificate",
        async () => !(await readOr(out)).includes("ssl_certificate"),
      );
      await eventually(async () => (await servedFingerprint(https, "a.test")).startsWith("no "));
      assert.match(watch.log, /applied/);
    } finally {
      await cleanUp(
        async () => assert.equal((await watch.stop()).code, 0, watch.log),
        async () => {
          const pid = Number((await readOr(`${dir}/nginx.pid`)).trim());
          await run([...ngx, "-s", "stop"]);
          await waitForExit(pid, 5000);
        },
        () => Deno.remove(dir, { recursive: true }),
      );
    }
  },
});
