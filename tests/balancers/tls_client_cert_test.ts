/**
 * nginx-proxy's mutual TLS (its test_mtls-client-certificate) under `--compat nginx-proxy`,
 * through real nginx with curl presenting client certificates made by openssl here: a host's
 * `HOST.ca.crt` with `HOST.crl.pem`, else the directory's `ca.crt` with `ca.crl.pem`; 400
 * without a certificate or with a revoked one, 200 with a good one; the `ssl_verify_client`
 * label's `optional` lets clients in and leaves `$ssl_client_verify` to a vhost.d snippet.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, explainRows, render, templates } from "../../mod.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import { sha1 } from "../../lib/core/util/sha1.ts";
import { freePort, startHaproxy, startNginx } from "../support/balancers.ts";
import { renderTargets } from "../../lib/apply/targets.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { makeCertificate } from "../support/certificates.ts";
import { curl } from "../support/curl.ts";
import { missing, requireTool, run } from "../support/tools.ts";

const ignore = missing("nginx", "haproxy", "openssl", "curl");
const D = "nginx-proxy.tld";

async function openssl(dir: string, args: string[]): Promise<void> {
  const r = await run([requireTool("openssl"), ...args], { cwd: dir });
  assert.equal(r.code, 0, `openssl ${args.join(" ")}: ${r.stderr}`);
}

/** A client CA `NAME.pem` in `dir`, a good and a revoked client certificate, and its CRL `NAME.crl`. */
async function clientCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    ..."req -x509 -newkey rsa:2048 -nodes -days 2 -subj".split(" "),
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
  ]);
  for (const client of ["good", "revoked"]) {
    const base = `${name}-${client}`;
    await openssl(dir, [
      ..."req -newkey rsa:2048 -nodes -subj".split(" "),
      `/CN=${base}`,
      "-keyout",
      `${base}.key`,
      "-out",
      `${base}.csr`,
    ]);
    await openssl(dir, [
      ..."x509 -req -days 2 -CAcreateserial -in".split(" "),
      `${base}.csr`,
      "-CA",
      `${name}.pem`,
      "-CAkey",
      `${name}.key`,
      "-out",
      `${base}.crt`,
    ]);
  }
  await Deno.mkdir(`${dir}/${name}-db`);
  await Deno.writeTextFile(`${dir}/${name}-db/index.txt`, "");
  await Deno.writeTextFile(`${dir}/${name}-db/crlnumber`, "01\n");
  await Deno.writeTextFile(
    `${dir}/${name}.cnf`,
    `[ca]\ndefault_ca = d\n[d]\ndatabase = ${dir}/${name}-db/index.txt\n` +
      `crlnumber = ${dir}/${name}-db/crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n`,
  );
  const ca = ["-config", `${name}.cnf`, "-keyfile", `${name}.key`, "-cert", `${name}.pem`];
  await openssl(dir, ["ca", ...ca, "-revoke", `${name}-revoked.crt`]);
  await openssl(dir, ["ca", ...ca, "-gencrl", "-out", `${name}.crl`]);
}

Deno.test({
  name:
    "tls client certificates: HOST.ca.crt with HOST.crl.pem, else ca.crt with ca.crl.pem, and ssl_verify_client=optional, through real nginx and real HAProxy",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    resetContainers();
    const app = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("app"),
    );
    const dir = await Deno.makeTempDir({ prefix: "lbsync-mtls-" });
    const certs = `${dir}/certs`;
    const vhost = `${dir}/vhost.d`;
    try {
      await Deno.mkdir(certs);
      await Deno.mkdir(vhost);
      await makeCertificate(certs, D); // serves every *.nginx-proxy.tld host
      // HAProxy picks a certificate by SNI: the default one answers names the others lack
      await makeCertificate(certs, "default");
      await clientCa(dir, "host-ca");
      await clientCa(dir, "global-ca");
      const regex = `~^mtls-regex\\.nginx-proxy\\.tld$`;
      const copies: [string, string][] = [
        ["host-ca.pem", `mtls-enabled.${D}.ca.crt`],
        ["host-ca.crl", `mtls-enabled.${D}.crl.pem`],
        ["host-ca.pem", `mtls-optional.${D}.ca.crt`],
        ["host-ca.pem", `${sha1(regex)}.ca.crt`],
        ["host-ca.crl", `${sha1(regex)}.crl.pem`],
        ["global-ca.pem", "ca.crt"],
        ["global-ca.crl", "ca.crl.pem"],
      ];
      for (const [from, to] of copies) await Deno.copyFile(`${dir}/${from}`, `${certs}/${to}`);
      // nginx-proxy's documented use of optional: the snippet reads $ssl_client_verify
      await Deno.writeTextFile(
        `${vhost}/mtls-optional.${D}_location`,
        'add_header X-Verify $ssl_client_verify always;\nif ($ssl_client_verify != SUCCESS) { return 403 "verify=$ssl_client_verify"; }\n',
      );
      const web = (
        name: string,
        host: string,
        labels: Record<string, string> = {},
      ): ContainerInfo =>
        container(name, labels, {
          // a regex host has no certificate of its own
          env: { VIRTUAL_HOST: host, CERT_NAME: D },
          networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
          ports: [{ port: app.addr.port, protocol: "tcp", published: [] }],
        });
      const found = await readCertificateDirectory(certs);
      assert.deepEqual(found.warnings, []);
      const http = freePort();
      const https = freePort();
      const { model, skipped } = buildModel([
        web("enabled", `mtls-enabled.${D},global-mtls-enabled.${D}`),
        web("optional", `mtls-optional.${D}`, {
          "com.github.nginx-proxy.nginx-proxy.ssl_verify_client": "optional",
        }),
        web("regex", regex),
      ], {
        compat: "nginx-proxy",
        listen: http,
        httpsListen: https,
        listenAddress: "127.0.0.1",
        certificates: found.certificates,
        clientCertFiles: found.clientCertFiles,
        operatorFiles: {
          vhostDir: vhost,
          vhost: new Map([[`mtls-optional.${D}_location`, "1"]]),
        },
      });
      assert.deepEqual(skipped, []);
      const cases: [string, string | undefined, string?][] = [
        [`mtls-enabled.${D}`, undefined],
        [`mtls-enabled.${D}`, "host-ca-good"],
        [`mtls-enabled.${D}`, "host-ca-revoked"],
        [`mtls-enabled.${D}`, "global-ca-good"],
        [`global-mtls-enabled.${D}`, undefined],
        [`global-mtls-enabled.${D}`, "global-ca-good"],
        [`global-mtls-enabled.${D}`, "global-ca-revoked"],
        [`global-mtls-enabled.${D}`, "host-ca-good"],
        [`mtls-regex.${D}`, undefined],
        [`mtls-regex.${D}`, "host-ca-good"],
        [`mtls-regex.${D}`, "host-ca-revoked"],
        [`mtls-optional.${D}`, undefined],
        [`mtls-optional.${D}`, "host-ca-good"],
        [`mtls-optional.${D}`, "global-ca-good"],
        // the handshake for one host (its CA verified the certificate), the request for another
        [`mtls-optional.${D}`, "host-ca-good", `mtls-enabled.${D}`],
        [`mtls-enabled.${D}`, "host-ca-good", `MTLS-enabled.${D}.`],
      ];
      const nginxAnswers = {
        [`mtls-enabled.${D} no certificate`]: "400",
        [`mtls-enabled.${D} host-ca-good`]: "200",
        [`mtls-enabled.${D} host-ca-revoked`]: "400",
        [`mtls-enabled.${D} global-ca-good`]: "400",
        [`global-mtls-enabled.${D} no certificate`]: "400",
        [`global-mtls-enabled.${D} global-ca-good`]: "200",
        [`global-mtls-enabled.${D} global-ca-revoked`]: "400",
        [`global-mtls-enabled.${D} host-ca-good`]: "400",
        [`mtls-regex.${D} no certificate`]: "400",
        [`mtls-regex.${D} host-ca-good`]: "200",
        [`mtls-regex.${D} host-ca-revoked`]: "400",
        [`mtls-optional.${D} no certificate`]: "403 NONE",
        [`mtls-optional.${D} host-ca-good`]: "200",
        [`mtls-optional.${D} global-ca-good`]: "400",
        [`mtls-optional.${D} host-ca-good as mtls-enabled.${D}`]: "421",
        [`mtls-enabled.${D} host-ca-good as MTLS-enabled.${D}.`]: "200",
      };
      const ask = async (https: number) => {
        const got: Record<string, string> = {};
        for (const [host, client, header] of cases) {
          const { status, body } = await curl(
            `https://${host}:${https}/`,
            https,
            client && `${dir}/${client}`,
            header && `${header}:${https}`,
          );
          const key = `${host} ${client ?? "no certificate"}${header ? ` as ${header}` : ""}`;
          got[key] = status + (body.includes("verify=") ? ` ${/verify=(\S+)/.exec(body)![1]}` : "");
        }
        return got;
      };
      const reasons = explainRows({ model, skipped, warnings: [] }).map((r) => r.reason).join("\n");
      assert.match(
        reasons,
        new RegExp(`client certificates required by mtls-enabled\\.${D}\\.ca\\.crt\\)`),
      );
      assert.match(
        reasons,
        /client certificates required by \w+\.ca\.crt \(HAProxy asks none of this host: answers 400\)/,
      );
      assert.doesNotMatch(reasons, /nginx only/);
      const nginx = await startNginx({ http: render(templates.nginx, model) });
      try {
        assert.deepEqual(await ask(https), nginxAnswers, "nginx");
      } finally {
        await nginx.stop();
      }
      // HAProxy: the crt-list beside the output carries each host's CA and CRL
      const [target] = renderTargets([{
        template: "haproxy",
        output: `${dir}/haproxy.cfg`,
        text: templates.haproxy,
      }], model);
      const [list] = target.companions ?? [];
      assert.ok(list, "a crt-list");
      assert.match(list.content, /\[ca-file \S+mtls-enabled\.nginx-proxy\.tld\.ca\.crt crl-file /);
      await Deno.writeTextFile(list.path, list.content);
      const haproxy = await startHaproxy(target.content);
      try {
        assert.deepEqual(await ask(https), {
          ...nginxAnswers,
          // no vhost.d snippet in HAProxy: optional lets the client in, as nginx without one
          [`mtls-optional.${D} no certificate`]: "200",
          // an SNI filter names hosts, not regexes: no certificate is asked, so none is there
          [`mtls-regex.${D} host-ca-good`]: "400",
        }, "HAProxy");
      } finally {
        await haproxy.stop();
      }
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
