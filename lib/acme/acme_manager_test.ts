/**
 * The ACME manager's timing on a fake clock, with a fake ACME server (certificates signed
 * here): the backoff after failures, the hourly bound on orders, renewal at two thirds of a
 * certificate's lifetime, hosts no longer wanted. The real exchange with an ACME server is
 * tests/acme/certificates_test.ts (pebble).
 */
import assert from "node:assert/strict";
import forge from "npm:node-forge@1.3.1";
import { AcmeManager, type IssuedCertificate } from "./acme_manager.ts";
import type { ChallengeServer } from "./challenge_server.ts";
import { FakeClock } from "../../tests/support/fake_clock.ts";

const DAY = 86_400_000;
const KEYS = forge.pki.rsa.generateKeyPair(1024); // one key for every certificate: signing is fast

/** A certificate for `host`, valid `days` from `from`. */
function certificate(host: string, from: number, days: number): IssuedCertificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = KEYS.publicKey;
  cert.serialNumber = String(Math.floor(from / 1000));
  cert.validity.notBefore = new Date(from);
  cert.validity.notAfter = new Date(from + days * DAY);
  cert.setSubject([{ name: "commonName", value: host }]);
  cert.setIssuer([{ name: "commonName", value: "fake ACME" }]);
  cert.sign(KEYS.privateKey, forge.md.sha256.create());
  return {
    certificate: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(KEYS.privateKey),
  };
}

const noChallenges: ChallengeServer = {
  port: 0,
  address: "127.0.0.1:0",
  set() {},
  remove() {},
  close: () => Promise.resolve(),
};

/** A manager on a fake clock whose ACME server fails the first `failures` orders. */
async function rig(failures = 0) {
  const clock = new FakeClock();
  const start = clock.now();
  const certDir = await Deno.makeTempDir({ prefix: "lbsync-acme-unit-" });
  const orders: { host: string; at: number; ok: boolean }[] = [];
  const told: string[] = [];
  let failing = failures;
  const manager = new AcmeManager({
    directoryUrl: "https://acme.invalid/dir",
    certDir,
    challenges: noChallenges,
    clock,
    report: { issued: (_h, m) => told.push(m), failed: (_h, m) => told.push(m) },
    issue: (host) => {
      const ok = failing-- <= 0;
      orders.push({ host, at: clock.now() - start, ok });
      return ok
        ? Promise.resolve(certificate(host, clock.now(), 90))
        : Promise.reject(new Error("connection refused"));
    },
  });
  clock.settle = () => manager.idle();
  return { clock, manager, orders, told, certDir, start };
}

Deno.test("acme manager: failures back off 1 minute, doubling; a success ends it", async () => {
  const r = await rig(3);
  try {
    r.manager.want(["a.test"]);
    await r.manager.idle();
    await r.clock.advance(3_600_000);
    assert.deepEqual(r.orders.map((o) => [o.at, o.ok]), [
      [0, false],
      [60_000, false],
      [180_000, false],
      [420_000, true],
    ]);
    assert.deepEqual(r.told.map((m) => m.replace(/valid until .*/, "valid until ...")), [
      "ACME order for a.test failed: connection refused; retrying in 1m (a certificate in place stays)",
      "ACME order for a.test failed: connection refused; retrying in 2m (a certificate in place stays)",
      "ACME order for a.test failed: connection refused; retrying in 4m (a certificate in place stays)",
      "certificate for a.test issued, valid until ...",
    ]);
    assert.equal((await Deno.stat(`${r.certDir}/a.test.key`)).mode! & 0o777, 0o600);
  } finally {
    r.manager.stop();
    await Deno.remove(r.certDir, { recursive: true });
  }
});

Deno.test("acme manager: at most 20 orders an hour; the rest start when the hour has passed", async () => {
  const r = await rig();
  try {
    r.manager.want(Array.from({ length: 25 }, (_, i) => `h${i}.test`));
    await r.manager.idle();
    assert.equal(r.orders.length, 20);
    await r.clock.advance(3_599_999);
    assert.equal(r.orders.length, 20);
    await r.clock.advance(1);
    assert.equal(r.orders.length, 25);
    assert.deepEqual(new Set(r.orders.slice(20).map((o) => o.at)), new Set([3_600_000]));
  } finally {
    r.manager.stop();
    await Deno.remove(r.certDir, { recursive: true });
  }
});

Deno.test("acme manager: renewal at two thirds of the lifetime; a host no longer wanted is left", async () => {
  const r = await rig();
  try {
    r.manager.want(["a.test", "b.test"]);
    await r.manager.idle();
    assert.equal(r.orders.length, 2);
    r.manager.want(["a.test"]); // b.test's service went away
    await r.clock.advance(59 * DAY);
    assert.equal(r.orders.length, 2, "a 90-day certificate is not due before day 60");
    await r.clock.advance(DAY + 1);
    assert.deepEqual(r.orders.slice(2).map((o) => o.host), ["a.test"]);
    assert.ok(r.orders[2].at >= 60 * DAY && r.orders[2].at <= 60 * DAY + 1);
  } finally {
    r.manager.stop();
    await Deno.remove(r.certDir, { recursive: true });
  }
});
