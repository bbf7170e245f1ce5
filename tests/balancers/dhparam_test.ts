/**
 * Diffie-Hellman parameters (nginx-proxy's dhparam): `--dhparam FILE` gives every HTTPS
 * listener DHE ciphers with the file's group, through real nginx and real HAProxy; a
 * certificate's `NAME.dhparam.pem` gives its hosts their own (nginx, chosen by SNI); without a
 * file nginx offers no DHE cipher. openssl s_client negotiates TLS 1.2 with `-cipher EDH`.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, render, templates } from "../../mod.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import { readOperatorFiles } from "../../lib/sources/operator_files.ts";
import { freePort, startHaproxy, startNginx } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { makeCertificate } from "../support/certificates.ts";
import { missing, requireTool, run } from "../support/tools.ts";

const ignore = missing("nginx", "haproxy", "openssl");

/** RFC 7919's group of `bits` as a PEM file at `path` (openssl writes the named group). */
async function ffdhe(path: string, bits: number): Promise<void> {
  const r = await run([
    requireTool("openssl"),
    ..."genpkey -genparam -algorithm DH -pkeyopt".split(" "),
    `group:ffdhe${bits}`,
    "-out",
    path,
  ]);
  assert.equal(r.code, 0, r.stderr);
}

/** What a TLS 1.2 handshake asking for a DHE cipher gets: its cipher and the DH key size. */
async function dhe(port: number, servername: string): Promise<string> {
  const r = await run([
    requireTool("openssl"),
    ..."s_client -tls1_2 -cipher EDH -connect".split(" "),
    `127.0.0.1:${port}`,
    "-servername",
    servername,
  ], { stdin: "" });
  const cipher = /Cipher is (\S+)/.exec(r.stdout)?.[1] ?? "none";
  const key = /(?:Server|Peer) Temp Key: DH, (\d+) bits/.exec(r.stdout)?.[1];
  return key ? `${cipher} DH ${key}` : cipher;
}

Deno.test({
  name: "dhparam: --dhparam and CERT.dhparam.pem through real nginx and HAProxy",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const dir = await Deno.makeTempDir({ prefix: "lbsync-dhparam-" });
    const certs = `${dir}/certs`;
    try {
      await Deno.mkdir(certs);
      for (const name of ["a.test", "b.test", "default"]) await makeCertificate(certs, name);
      await ffdhe(`${dir}/dhparam.pem`, 3072);
      await ffdhe(`${certs}/b.test.dhparam.pem`, 2048);
      const found = await readCertificateDirectory(certs);
      assert.equal(found.certificates.get("b.test")?.dhparam?.path, `${certs}/b.test.dhparam.pem`);
      assert.equal(found.certificates.get("a.test")?.dhparam, undefined);
      const web = (host: string): ContainerInfo =>
        container(host, { "lbsync.service": host.replace(".", "-"), "lbsync.host": host }, {
          networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
          ports: [{ port: 9, protocol: "tcp", published: [] }],
        });
      const model = (dhparam: boolean) => {
        const http = freePort();
        const https = freePort();
        const files = dhparam ? { dhparam: { path: `${dir}/dhparam.pem`, version: "1" } } : {};
        const built = buildModel([web("a.test"), web("b.test")], {
          listen: http,
          httpsListen: https,
          listenAddress: "127.0.0.1",
          certificates: found.certificates,
          operatorFiles: files,
        });
        assert.deepEqual(built.skipped, []);
        return { model: built.model, https };
      };
      // the option's file, as the I/O shell reads it: absent until it exists
      assert.equal((await readOperatorFiles({ dhparam: `${dir}/none.pem` }))?.dhparam, undefined);
      assert.equal(
        (await readOperatorFiles({ dhparam: `${dir}/dhparam.pem` }))?.dhparam?.path,
        `${dir}/dhparam.pem`,
      );

      const withFile = model(true);
      const nginx = await startNginx({ http: render(templates.nginx, withFile.model) });
      try {
        assert.equal(await dhe(withFile.https, "a.test"), "DHE-RSA-AES256-GCM-SHA384 DH 3072");
        assert.equal(await dhe(withFile.https, "b.test"), "DHE-RSA-AES256-GCM-SHA384 DH 2048");
      } finally {
        await nginx.stop();
      }
      const without = model(false);
      const plain = await startNginx({ http: render(templates.nginx, without.model) });
      try {
        assert.equal(await dhe(without.https, "a.test"), "(NONE)");
        // the certificate's own parameters still apply to its hosts
        assert.equal(await dhe(without.https, "b.test"), "DHE-RSA-AES256-GCM-SHA384 DH 2048");
      } finally {
        await plain.stop();
      }
      const haproxyFile = model(true);
      const haproxy = await startHaproxy(render(templates.haproxy, haproxyFile.model));
      try {
        assert.equal(await dhe(haproxyFile.https, "a.test"), "DHE-RSA-AES256-GCM-SHA384 DH 3072");
      } finally {
        await haproxy.stop();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
