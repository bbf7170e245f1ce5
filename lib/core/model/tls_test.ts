/**
 * HTTPS decisions without a balancer: which certificate a host gets, how each label is read,
 * what the certificate directory yields and warns about.
 */
import assert from "node:assert/strict";
import { buildModel, type CertificateFiles, explainRows } from "../../../mod.ts";
import { certificateFor } from "./tls.ts";
import { readCertificateDirectory } from "../../sources/cert_dir.ts";
import { container, resetContainers } from "../../../tests/support/fixtures.ts";

const cert = (name: string): CertificateFiles => ({
  name,
  certificate: `/certs/${name}.crt`,
  key: `/certs/${name}.key`,
  version: "",
});
const CERTS = new Map(
  ["example.com", "a.example.com", "other.org", "default"].map((n) => [n, cert(n)]),
);

Deno.test("tls: a host's certificate is its own, else its closest parent domain's, or the one named", () => {
  const of = (host: string, name = "") => certificateFor(host, name, CERTS)?.name;
  assert.equal(of("a.example.com"), "a.example.com");
  assert.equal(of("x.a.example.com"), "a.example.com");
  assert.equal(of("shop.example.com"), "example.com");
  assert.equal(of("*.example.com"), "example.com");
  assert.equal(of("example.com"), "example.com");
  assert.equal(of("ample.com"), undefined, "a suffix of the text is not a parent domain");
  assert.equal(of("com"), undefined);
  assert.equal(of("~^x\\.example\\.com$"), undefined, "regex hosts have none");
  assert.equal(of("anything.test", "other.org"), "other.org");
  assert.equal(of("a.example.com", "missing.org"), undefined, "a named certificate must exist");
});

Deno.test("tls: the model says per host how it is served, and what the HTTPS listener needs", () => {
  resetContainers();
  const { model, skipped } = buildModel([
    container("a", {
      "lbsync.service": "a",
      "lbsync.host": "a.example.com",
      "lbsync.hsts": "max-age=600; includeSubDomains",
    }),
    container("b", { "lbsync.service": "b", "lbsync.host": "b.test" }),
    container("c", {
      "lbsync.service": "c",
      "lbsync.host": "c.example.com",
      "lbsync.https": "nohttp",
    }),
    container("d", {
      "lbsync.service": "d",
      "lbsync.host": "d.test",
      "lbsync.cert": "other.org",
      "lbsync.https": "nohttps",
    }),
    container("e", { "lbsync.service": "e", "lbsync.https": "sometimes" }),
    container("f", { "lbsync.service": "f", "lbsync.hsts": "max-age=1; evil=1" }),
    container("g", { "lbsync.service": "g", "lbsync.cert": "../../etc/passwd" }),
  ], { certificates: CERTS, httpsListen: 8443 });
  const hosts = Object.fromEntries(
    model.httpListeners[0].virtualHosts.map((v) => [
      v.host,
      `${v.httpsMode} ${v.tls?.name ?? "-"} http:${v.httpOn} https:${v.httpsOn} ${v.hsts}`.trim(),
    ]),
  );
  assert.deepEqual(hosts, {
    "a.example.com": "redirect a.example.com http:true https:true max-age=600; includeSubDomains",
    "b.test": "noredirect - http:true https:false",
    "c.example.com": "nohttp example.com http:false https:true",
    "d.test": "nohttps other.org http:true https:false",
  });
  const https = model.httpListeners[0].httpsListener!;
  assert.equal(https.port, 8443);
  assert.equal(https.redirectPort, ":8443");
  assert.deepEqual(https.certificates.map((c) => c.name), [
    "default",
    "a.example.com",
    "example.com",
  ]);
  assert.deepEqual(https.redirectGroups, [{ keys: "a.example.com", redirectPort: ":8443" }]);
  assert.deepEqual(https.httpsOnlyGroups, ["c.example.com"]);
  assert.deepEqual(https.httpOnlyGroups, ["b.test d.test"]);
  assert.equal(model.hasHttps, true);
  assert.deepEqual(skipped.map((s) => `${s.name}: ${s.reason}`), [
    'e: label lbsync.https="sometimes": not one of redirect, noredirect, nohttp, nohttps',
    'f: label lbsync.hsts="max-age=1; evil=1": expected off or max-age=SECONDS, optionally ; includeSubDomains and ; preload',
    'g: label lbsync.cert="../../etc/passwd": not an RFC 1123 host name (optionally *.name or name.*) or an [IPv6] literal',
  ]);
  assert.equal(buildModel([], {}).model.hasHttps, false);
});

Deno.test("tls: explain says how each host is served, and why a host stays on HTTP", () => {
  resetContainers();
  const result = buildModel([
    container("a", { "lbsync.service": "a", "lbsync.host": "a.example.com" }),
    container("b", { "lbsync.service": "b", "lbsync.host": "b.test" }),
    container("c", {
      "lbsync.service": "c",
      "lbsync.host": "c.example.com",
      "lbsync.https": "nohttp",
    }),
    container("d", {
      "lbsync.service": "d",
      "lbsync.host": "d.example.com",
      "lbsync.https": "nohttps",
    }),
  ], { certificates: CERTS });
  assert.deepEqual(explainRows(result).map((r) => r.reason), [
    "http a.example.com / on port 80; https a.example.com (certificate a.example.com, HTTP redirected)",
    "http b.test / on port 80; b.test: HTTP only, no certificate b.test.crt (nginx refuses its HTTPS handshake; HAProxy answers it as an unknown host)",
    "http c.example.com / on port 80; https c.example.com (certificate example.com, HTTPS only)",
    "http d.example.com / on port 80; d.example.com: HTTP only (lbsync.https=nohttps)",
  ]);
  const plain = buildModel([container("b", { "lbsync.service": "b", "lbsync.host": "b.test" })]);
  assert.deepEqual(explainRows(plain).map((r) => r.reason), ["http b.test / on port 80"]);
});

Deno.test("tls: the certificate directory: pairs by name, odd names ignored, loose keys warned", async () => {
  const dir = await Deno.makeTempDir({ prefix: "lbsync-certdir-" });
  try {
    const write = (name: string, mode = 0o600) =>
      Deno.writeTextFile(`${dir}/${name}`, "x", { mode });
    await write("a.test.crt");
    await write("a.test.key");
    await write("loose.test.crt");
    await write("loose.test.key", 0o644);
    await Deno.chmod(`${dir}/loose.test.key`, 0o644);
    await write("nokey.test.crt");
    await write("Bad Name;.crt");
    await write("Bad Name;.key");
    await write("readme.txt");
    const found = await readCertificateDirectory(`${dir}/`);
    assert.deepEqual([...found.certificates.keys()], ["a.test", "loose.test"]);
    assert.deepEqual(found.certificates.get("a.test"), {
      name: "a.test",
      certificate: `${dir}/a.test.crt`,
      key: `${dir}/a.test.key`,
      version: "11f6ad8ec52a2984", // SHA-1 of "x"
    });
    assert.deepEqual(found.warnings, [
      `key ${dir}/loose.test.key is readable by group or others (mode 644): chmod 600 it`,
      `certificate ${dir}/nokey.test.crt has no key nokey.test.key beside it: not used`,
    ]);
    await assert.rejects(
      readCertificateDirectory(`${dir}/missing`),
      /^LbsyncError: Cannot read the certificate directory .*\/missing: no such directory$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
