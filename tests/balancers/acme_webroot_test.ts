/**
 * `--acme-webroot`: nginx answers `/.well-known/acme-challenge/` of hosts served over HTTPS from
 * an ACME client's webroot, as nginx-proxy's `ACME_HTTP_CHALLENGE_LOCATION` does with
 * acme-companion: on by default, off per container (`ACME_HTTP_CHALLENGE_LOCATION=false`, or
 * `lbsync.acmewebroot=false`), opt-in with `--acme-webroot-opt-in`, for unknown hosts with
 * `--acme-webroot-unknown-hosts`. Through real nginx, over HTTP, the matrix of nginx-proxy's
 * own tests: the file (200), the HTTPS redirect (301) or the backend.
 */
import assert from "node:assert/strict";
import { buildModel, render, templates } from "../../mod.ts";
import type { ModelOptions } from "../../mod.ts";
import { freePort, rawRequest, startNginx } from "../support/balancers.ts";
import { container, resetContainers } from "../support/fixtures.ts";
import { lbsync } from "../support/cli.ts";
import { missing } from "../support/tools.ts";
import { makeCertificate } from "../support/certificates.ts";

const CHALLENGE = "/.well-known/acme-challenge/test-filename";
const TOKEN = "challenge-file-content";

/** The four containers of nginx-proxy's tests: redirect or noredirect, the location said or not. */
function webs(backendPort: number, said: (i: number) => string | undefined) {
  return [1, 2, 3, 4].map((i) => {
    const env: Record<string, string> = { VIRTUAL_HOST: `web${i}.np.test` };
    if (i >= 3) env.HTTPS_METHOD = "noredirect";
    const location = said(i);
    if (location !== undefined) env.ACME_HTTP_CHALLENGE_LOCATION = location;
    return container(`web${i}`, {}, {
      env,
      networks: [{ name: "host", ip: "127.0.0.1", ipv6: "" }],
      ports: [{ port: backendPort, protocol: "tcp", published: [] }],
    });
  });
}

/** What nginx answers over HTTP for the challenge path of each host (and an unknown one). */
async function answers(
  dir: string,
  env: (i: number) => string | undefined,
  options: Partial<ModelOptions>,
): Promise<Record<string, string>> {
  resetContainers();
  const backend = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("from the backend"),
  );
  const listen = freePort();
  const { model } = buildModel(webs(backend.addr.port, env), {
    compat: "nginx-proxy",
    listen,
    httpsListen: freePort(),
    listenAddress: "127.0.0.1",
    certificates: new Map([["np.test", {
      name: "np.test",
      certificate: `${dir}/np.test.crt`,
      key: `${dir}/np.test.key`,
      version: "1",
    }]]),
    acmeWebroot: `${dir}/webroot`,
    ...options,
  });
  const nginx = await startNginx({ http: render(templates.nginx, model) });
  const seen: Record<string, string> = {};
  try {
    for (const host of ["web1", "web2", "web3", "web4", "unknown"]) {
      const r = await rawRequest(
        listen,
        `GET ${CHALLENGE} HTTP/1.1\r\nHost: ${host}.np.test\r\nConnection: close\r\n\r\n`,
      );
      seen[host] = r.status === 200 ? `200 ${r.body.trim()}` : String(r.status);
    }
  } finally {
    await nginx.stop();
    await backend.shutdown();
  }
  return seen;
}

Deno.test({
  name: "--acme-webroot: nginx answers ACME challenges from the webroot, as nginx-proxy does",
  ignore: missing("nginx", "openssl"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "lbsync-webroot-" });
    try {
      await Deno.mkdir(`${dir}/webroot/.well-known/acme-challenge`, { recursive: true });
      await Deno.writeTextFile(`${dir}/webroot${CHALLENGE}`, TOKEN);
      await makeCertificate(dir, "np.test");
      const file = `200 ${TOKEN}`;
      const backend = "200 from the backend";

      await t.step("on by default; a container's false turns it off", async () => {
        const off = (i: number) => i % 2 === 0 ? "false" : undefined;
        assert.deepEqual(await answers(dir, off, {}), {
          web1: file, // redirect, on
          web2: "301", // redirect, off: the challenge is redirected like any request
          web3: file, // noredirect, on
          web4: backend, // noredirect, off
          unknown: "503",
        });
      });
      await t.step("--acme-webroot-opt-in: only a container's true turns it on", async () => {
        const on = (i: number) => i % 2 === 0 ? "true" : undefined;
        assert.deepEqual(await answers(dir, on, { acmeWebrootOptIn: true }), {
          web1: "301",
          web2: file,
          web3: backend,
          web4: file,
          unknown: "503",
        });
      });
      await t.step("--acme-webroot-unknown-hosts: hosts no service names too", async () => {
        const seen = await answers(dir, () => undefined, { acmeWebrootUnknownHosts: true });
        assert.equal(seen.unknown, file);
      });
      await t.step("without --acme-webroot, a challenge is a request like any other", async () => {
        const seen = await answers(dir, () => undefined, { acmeWebroot: undefined });
        assert.deepEqual(seen, {
          web1: "301",
          web2: "301",
          web3: backend,
          web4: backend,
          unknown: "503",
        });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("--acme-webroot is refused with an haproxy target: HAProxy serves no files", async () => {
  const r = await lbsync([
    "render",
    "--from-file",
    new URL("../../examples/containers.json", import.meta.url).pathname,
    "--acme-webroot",
    "/tmp",
    "-t",
    "haproxy",
    "-o",
    "-",
  ]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--acme-webroot works with nginx targets: HAProxy serves no files/);
});
