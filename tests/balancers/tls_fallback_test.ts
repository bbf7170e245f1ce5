/**
 * nginx-proxy's fallback cases (its test_fallback and test_enable-http-on-missing-cert) under
 * `--compat nginx-proxy`, through real nginx with curl: `default.crt` serving the hosts
 * without a certificate of their own unless they (or `--trust-default-cert false`) do not trust
 * it, `--https-method` for every container that does not say, `ENABLE_HTTP_ON_MISSING_CERT`,
 * the handshake refused where nginx-proxy refuses it (for a host without a certificate to use,
 * and on the HTTPS port with no certificate at all), and an operator's own `default_server`.
 */
import assert from "node:assert/strict";
import { buildModel, type ContainerInfo, type ModelOptions, render, templates } from "../../mod.ts";
import { readCertificateDirectory } from "../../lib/sources/cert_dir.ts";
import { freePort, startNginx } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { makeCertificate } from "../support/certificates.ts";
import { curl } from "../support/curl.ts";
import { missing } from "../support/tools.ts";

const ignore = missing("nginx", "openssl", "curl");
const D = "nginx-proxy.test";

/** What curl got: the status, `301`, or `refused handshake` when TLS did not start. */
async function ask(url: string, port: number): Promise<string> {
  return (await curl(url, port)).status;
}

interface Scenario {
  /** Certificates in the directory (`default` among them or not). */
  certs: string[];
  /** The proxy's settings (nginx-proxy's environment of the proxy container). */
  options: Partial<ModelOptions>;
  /** Each container: its host's first label, its environment, its nginx-proxy labels. */
  apps: { host: string; env?: Record<string, string>; labels?: Record<string, string> }[];
  /** URL (`http://HOST/`, `https://HOST/`, host's first label) -> answer. */
  want: Record<string, string>;
  /** An operator's own server file loaded after lbsync's (`PORT`: the HTTP port). */
  operatorConf?: string;
}

const UNTRUSTED = { "com.github.nginx-proxy.nginx-proxy.trust-default-cert": "false" };
const WITH_CERTS = ["https-and-http", "https-only", "http-only"];
const FIVE: Scenario["apps"] = [
  { host: "https-and-http" },
  { host: "https-only", env: { HTTPS_METHOD: "nohttp" } },
  { host: "http-only", env: { HTTPS_METHOD: "nohttps" } },
  { host: "missing-cert" },
];

const SCENARIOS: Record<string, Scenario> = {
  "withdefault": {
    certs: ["default", ...WITH_CERTS],
    options: {},
    apps: [...FIVE, { host: "missing-cert.default-untrusted", labels: UNTRUSTED }],
    want: {
      "http://https-and-http": "301",
      "https://https-and-http": "200",
      "http://https-only": "503",
      "https://https-only": "200",
      "http://http-only": "200",
      "https://http-only": "503",
      "http://missing-cert": "301",
      "https://missing-cert": "200",
      "http://missing-cert.default-untrusted": "200",
      "https://missing-cert.default-untrusted": "refused handshake",
      "http://unknown": "503",
      "https://unknown": "503",
    },
  },
  "untrusteddefault": {
    certs: ["default", ...WITH_CERTS],
    options: { trustDefaultCert: false },
    apps: FIVE,
    want: {
      "http://https-and-http": "301",
      "https://https-and-http": "200",
      "http://https-only": "503",
      "https://https-only": "200",
      "http://http-only": "200",
      "https://http-only": "503",
      "http://missing-cert": "200",
      "https://missing-cert": "refused handshake",
      "http://unknown": "503",
      "https://unknown": "503",
    },
  },
  "nodefault": {
    certs: WITH_CERTS,
    options: {},
    apps: FIVE,
    want: {
      "http://https-and-http": "301",
      "https://https-and-http": "200",
      "http://https-only": "503",
      "https://https-only": "200",
      "http://http-only": "200",
      "https://http-only": "refused handshake",
      "http://missing-cert": "200",
      "https://missing-cert": "refused handshake",
      "http://unknown": "503",
      "https://unknown": "refused handshake",
    },
  },
  "nohttp (proxy-wide)": {
    certs: ["default", ...WITH_CERTS],
    options: { httpsMethod: "nohttp" },
    apps: [{ host: "https-only" }],
    want: {
      "http://https-only": "503",
      "https://https-only": "200",
      "http://unknown": "503",
      "https://unknown": "503",
    },
  },
  "nohttp-on-app (the container's own wins)": {
    certs: ["default", ...WITH_CERTS],
    options: { httpsMethod: "redirect" },
    apps: [{ host: "https-only", env: { HTTPS_METHOD: "nohttp" } }],
    want: {
      "http://https-only": "503",
      "https://https-only": "200",
      "http://unknown": "503",
      "https://unknown": "503",
    },
  },
  "nohttp-with-missing-cert": {
    certs: ["default", ...WITH_CERTS],
    options: { httpsMethod: "nohttp" },
    apps: [
      { host: "https-only" },
      { host: "missing-cert" },
      { host: "missing-cert.default-untrusted", labels: UNTRUSTED },
    ],
    want: {
      "http://https-only": "503",
      "https://https-only": "200",
      "http://missing-cert": "503",
      "https://missing-cert": "200",
      "http://missing-cert.default-untrusted": "200",
      "https://missing-cert.default-untrusted": "refused handshake",
      "http://unknown": "503",
      "https://unknown": "503",
    },
  },
  "nohttps (no certificate at all)": {
    certs: [],
    options: { httpsMethod: "nohttps" },
    apps: [{ host: "http-only" }],
    want: {
      "http://http-only": "200",
      "https://http-only": "refused handshake",
      "http://unknown": "503",
      "https://unknown": "refused handshake",
    },
  },
  "nohttps-on-app (no certificate at all)": {
    certs: [],
    options: { httpsMethod: "redirect" },
    apps: [{ host: "http-only", env: { HTTPS_METHOD: "nohttps" } }],
    want: {
      "http://http-only": "200",
      "https://http-only": "refused handshake",
      "http://unknown": "503",
      "https://unknown": "refused handshake",
    },
  },
  // nginx-proxy's custom-fallback: a conf.d file of the operator's own with `listen 80
  // default_server` loads beside lbsync's (no duplicate default server) and takes unknown hosts
  "custom-fallback (an operator's default_server)": {
    certs: [],
    options: {},
    apps: [{ host: "http-only", env: { HTTPS_METHOD: "nohttps" } }],
    operatorConf:
      "server {\n    server_name __;\n    listen PORT default_server;\n    return 418;\n}\n",
    want: {
      "http://unknown": "418",
      "http://http-only": "200",
    },
  },
  "enable-http-on-missing-cert (false proxy-wide, true on some containers)": {
    certs: [],
    options: { httpOnMissingCert: false },
    apps: [
      { host: "nohttp-missing-cert-disabled", env: { HTTPS_METHOD: "nohttp" } },
      {
        host: "nohttp-missing-cert-enabled",
        env: { HTTPS_METHOD: "nohttp", ENABLE_HTTP_ON_MISSING_CERT: "true" },
      },
      { host: "redirect-missing-cert-disabled" },
      { host: "redirect-missing-cert-enabled", env: { ENABLE_HTTP_ON_MISSING_CERT: "true" } },
    ],
    want: {
      "http://nohttp-missing-cert-disabled": "503",
      "http://nohttp-missing-cert-enabled": "200",
      "http://redirect-missing-cert-disabled": "301",
      "http://redirect-missing-cert-enabled": "200",
    },
  },
};

Deno.test({
  name:
    "tls fallback: nginx-proxy's test_fallback and test_enable-http-on-missing-cert cases through real nginx",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const app = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () => new Response("app"),
    );
    const dir = await Deno.makeTempDir({ prefix: "lbsync-fallback-" });
    try {
      for (const [name, scenario] of Object.entries(SCENARIOS)) {
        resetContainers();
        const certDir = `${dir}/${name.replace(/[^a-z]/g, "")}`;
        await Deno.mkdir(certDir);
        for (const cert of scenario.certs) {
          await makeCertificate(certDir, cert === "default" ? cert : `${cert}.${D}`);
        }
        const containers: ContainerInfo[] = scenario.apps.map((a) =>
          container(a.host, a.labels ?? {}, {
            env: { VIRTUAL_HOST: `${a.host}.${D}`, ...a.env },
            networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
            ports: [{ port: app.addr.port, protocol: "tcp", published: [] }],
          })
        );
        const http = freePort();
        const https = freePort();
        const { model, skipped } = buildModel(containers, {
          compat: "nginx-proxy",
          listen: http,
          httpsListen: https,
          listenAddress: "127.0.0.1",
          certificates: (await readCertificateDirectory(certDir)).certificates,
          ...scenario.options,
        });
        assert.deepEqual(skipped, [], name);
        const operator = scenario.operatorConf?.replace("PORT", `127.0.0.1:${http}`) ?? "";
        const nginx = await startNginx({ http: render(templates.nginx, model) + operator });
        try {
          const got: Record<string, string> = {};
          for (const url of Object.keys(scenario.want)) {
            const [scheme, host] = url.split("://");
            const port = scheme === "https" ? https : http;
            got[url] = await ask(`${scheme}://${host}.${D}:${port}/`, port);
          }
          assert.deepEqual(got, scenario.want, name);
        } finally {
          await nginx.stop();
        }
      }
    } finally {
      await app.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
